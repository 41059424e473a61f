"""Two fresh processes with the same seed train bit-identical weights on CPU."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = r"""
import hashlib, sys
import keras, numpy as np
sys.path.insert(0, sys.argv[1])
from conftest import tiny_conv_models, tiny_mlp_models
from gan_utils.training import GAN
keras.utils.set_random_seed(7)
G, D = tiny_conv_models(conditional=True)  # BatchNorm in both nets, Dropout in D
rng = np.random.default_rng(7)
x = rng.uniform(-1, 1, (96, 8, 8, 1)).astype("float32")
y = rng.integers(0, 3, 96)
gan = GAN(G, D, num_classes=3, seed=7, real_label=0.9, instance_noise=0.1)
gan.fit(x, y, batch_size=16, epochs=2, verbose=0)
h = hashlib.sha256()
for w in G.weights + D.weights:
    h.update(np.asarray(w.numpy()).tobytes())
h.update(np.asarray(gan.history["g_loss"]).tobytes())
print("DIGEST", h.hexdigest())
"""


def start():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONHASHSEED": "0"}
    tests_dir = str(Path(__file__).parent)
    return subprocess.Popen([sys.executable, "-c", SCRIPT, tests_dir], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def digest(proc):
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    return [line for line in out.splitlines() if line.startswith("DIGEST")][0]


def test_two_fresh_processes_give_identical_weights():
    first, second = start(), start()  # side by side: they share nothing but the machine
    assert digest(first) == digest(second)
