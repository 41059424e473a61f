"""Optional, same-machine check: a digest of weights, optimizer state, history and checkpoint after a short fit.

**Off unless ``GAN_DIGESTS=1``** (e.g. ``GAN_DIGESTS=1 make unit``, or ``GAN_DIGESTS=1 KERAS_BACKEND=jax python -m
pytest tests/test_behaviour_digest.py``). The floating-point results it hashes depend on the processor as well as on
the backend and the versions, so it proves something only on a machine whose digests are recorded in
``behaviour_digests.json``; with ``GAN_DIGESTS=1`` on a stack with none recorded it fails and says how to record one.
The checks that hold on every machine are in ``test_reference_loops.py`` (each notebook's configuration trained by
``GAN.fit`` and by a hand-written loop in the same process, bit for bit). Use this one around a refactor that should
not change what training computes, on one machine: record on the old code, check on the new.

One configuration per notebook, with the trainer options that notebook uses (models shrunk so the test is quick):

* ``01``: a 1-D MLP GAN on a sampler, cosine-decayed Adam with two time-scales, decaying instance noise, a
  Polyak average of G from the middle of the run, a hook at the start;
* ``02``: an unconditional conv GAN (BatchNorm in G, Dropout in D) on an array for two epochs, one-sided label
  smoothing, an exponential moving average of G every 2 steps, a learning-rate hook, checkpoints;
* ``03``: the conditional version of 02 (labels into both players);
* ``04``: the ring testbed with the tricks on: k = 2 D steps, minibatch std in D, soft and flipped targets, the
  minimax G loss, uniform z, instance noise, a monitor that checks every 2 steps.

The digest is of every variable of G, D and both optimizers (BatchNorm statistics and seed states included), the
averaged weights, the history (without its timings), the trainer's random state, the monitor's events and the
newest checkpoint's arrays and layout (variables by position and shape: their names depend on how many layers the
process built before). A digest is kept per stack (backend, versions, processor model and a hash of its
instruction-set flags) in ``behaviour_digests.json``; record one with ``python tests/test_behaviour_digest.py
--record`` on code whose behaviour is known to be right.
"""

import hashlib
import json
import os
import platform
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

sys.path.insert(0, str(Path(__file__).parent))
from conftest import tiny_conv_models  # noqa: E402
from gan_utils.checkpoint import latest_checkpoint, read  # noqa: E402
from gan_utils.data import sample_gaussian, sample_ring  # noqa: E402
from gan_utils.layers import MinibatchStdDev  # noqa: E402
from gan_utils.monitor import GANTrainingWarning, Monitor  # noqa: E402
from gan_utils.training import GAN, Hook, WeightAverage  # noqa: E402

DIGESTS = Path(__file__).with_name("behaviour_digests.json")
CONFIGS = ("01", "02", "03", "04")
ENABLED = os.environ.get("GAN_DIGESTS", "") == "1"


def stack():
    """The backend and the versions the digests depend on."""
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        version = tf.__version__
    elif backend == "jax":
        import jax

        version = jax.__version__
    else:
        version = "?"
    return f"{backend} {version}, keras {keras.__version__}, numpy {np.__version__}, cpu {cpu()}"


def cpu():
    """The processor model and a hash of its instruction-set flags: the convolutions' floating-point results (and
    so a GAN's weights) differ between processors, as notebook 03's full-mode results did between two sessions."""
    info = Path("/proc/cpuinfo")
    if not info.exists():
        return f"{platform.machine()} {platform.processor()}".strip()
    fields = {k.strip(): v for k, v in (line.split(":", 1) for line in info.read_text().splitlines() if ":" in line)}
    flags = " ".join(sorted(fields.get("flags", "").split()))
    return f"{fields.get('model name', '?').strip()} {hashlib.sha256(flags.encode()).hexdigest()[:8]}"


def mlp(latent, dim, width=16, sigmoid=True, minibatch_std=False, name="D"):
    x = keras.Input((latent,))
    h = layers.Dense(width, activation="leaky_relu")(x)
    if minibatch_std:
        h = MinibatchStdDev()(h)
    h = layers.Dense(width, activation="leaky_relu")(h)
    out = layers.Dense(dim, activation="sigmoid" if sigmoid else None)(h)
    return keras.Model(x, out, name=name)


def run_01(tmp):
    keras.utils.set_random_seed(1)
    G, D = mlp(8, 1, sigmoid=False, name="G"), mlp(1, 1)
    steps = 8
    gan = GAN(G, D, seed=1, instance_noise=0.5,
              d_optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, 2 * steps, alpha=0.02),
                                                beta_1=0.5),
              g_optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(5e-4, steps, alpha=0.02),
                                                beta_1=0.5))
    average = WeightAverage(G, start_step=steps // 2)
    seen = []
    gan.fit(lambda n, rng: sample_gaussian(n, rng, 4.0, 1.25), steps=steps, batch_size=64, verbose=0,
            hooks=[Hook(lambda g: seen.append(g.generate(np.zeros((2, 8), np.float32))), every=4, at_start=True),
                   average.hook()], checkpoint_dir=tmp, checkpoint_every=4)
    return gan, average, seen


def run_02(tmp, conditional=False):
    keras.utils.set_random_seed(2)
    G, D = tiny_conv_models(conditional=conditional, num_classes=3)
    D = _without_batchnorm(D, conditional)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1, 1, (96, 8, 8, 1)).astype(np.float32)
    y = rng.integers(0, 3, 96) if conditional else None
    gan = GAN(G, D, seed=2, real_target=0.9, num_classes=3 if conditional else None,
              d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5))
    average = WeightAverage(G, decay=0.9)

    def decay(g):
        lr = 2e-4 * max(0.0, 1.0 - g.step / 20)
        g.d_optimizer.learning_rate.assign(lr)
        g.g_optimizer.learning_rate.assign(lr)

    seen = []
    gan.fit(x, y, batch_size=16, epochs=2, verbose=0, checkpoint_dir=tmp, checkpoint_every=5,
            hooks=[Hook(decay, every=2), average.hook(every=2), Hook(lambda g: seen.append(g.epoch), each_epoch=True)])
    return gan, average, seen


def _without_batchnorm(D, conditional):
    """02 and 03's discriminators have Dropout and no BatchNorm: rebuild the test D that way."""
    x = keras.Input((8, 8, 1))
    inputs, h = [x], x
    if conditional:
        label = keras.Input((), dtype="int32")
        inputs.append(label)
        h = layers.Concatenate()([x, layers.Reshape((8, 8, 1))(layers.Embedding(3, 64)(label))])
    h = layers.LeakyReLU(0.2)(layers.Conv2D(8, 3, strides=2, padding="same")(h))
    h = layers.Dropout(0.3)(layers.Flatten()(h))
    return keras.Model(inputs if conditional else x, layers.Dense(1, activation="sigmoid")(h), name="D")


def run_04(tmp):
    keras.utils.set_random_seed(4)
    G, D = mlp(8, 2, sigmoid=False, name="G"), mlp(2, 1, minibatch_std=True)
    gan = GAN(G, D, seed=4, d_steps=2, real_target=(0.7, 1.0), fake_target=(0.0, 0.3), flip_prob=0.05,
              generator_loss="minimax", z_distribution="uniform", instance_noise=0.3,
              d_optimizer=keras.optimizers.Adam(1e-3), g_optimizer=keras.optimizers.Adam(1e-3),
              monitor=Monitor(window=3, every=2, n_diversity=8, d_loss_floor=10.0))  # the floor makes it warn
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", GANTrainingWarning)
        gan.fit(lambda n, rng: sample_ring(n, rng, std=0.15), steps=6, batch_size=32, verbose=0,
                checkpoint_dir=tmp, checkpoint_every=3)
    return gan, None, []


RUNS = {"01": run_01, "02": run_02, "03": lambda tmp: run_02(tmp, conditional=True), "04": run_04}


def digest(key, tmp):
    gan, average, seen = RUNS[key](tmp)
    h = hashlib.sha256()

    def add(name, value):
        h.update(name.encode())
        h.update(np.ascontiguousarray(np.asarray(value)).tobytes())

    for group, model in (("G", gan.generator), ("D", gan.discriminator)):
        for i, v in enumerate(model.variables):  # by position: layer names depend on what the process built before
            add(f"{group}:{i}", keras.ops.convert_to_numpy(v))
    for group, opt in (("d_opt", gan.d_optimizer), ("g_opt", gan.g_optimizer)):
        for i, v in enumerate(opt.variables):
            add(f"{group}:{i}", keras.ops.convert_to_numpy(v))
    if average is not None:
        for i, w in enumerate(average.averaged_weights()):
            add(f"average:{i}", w)
    for key_, values in sorted(gan.history.items()):
        if key_ != "time":
            add(f"history:{key_}", np.asarray(values, np.float64))
    for i, item in enumerate(seen):
        add(f"hook:{i}", item)
    h.update(json.dumps(gan.rng.bit_generator.state, sort_keys=True).encode())
    if gan.monitor is not None:
        h.update(json.dumps([[s, k] for s, k, _ in gan.monitor.events]).encode())
    arrays, meta = read(latest_checkpoint(tmp))
    for name in sorted(arrays):
        if name != "history/time":
            add(f"ckpt:{name}", arrays[name])
    layout = {k: meta[k] for k in ("config", "optimizers", "step", "epoch", "fit")}
    layout["variables"] = {group: [shape for _, shape in names] for group, names in meta["variables"].items()}
    layout["hooks"] = [{"type": e["type"], "arrays": e["arrays"], "json": sorted(e["json"])} for e in meta["hooks"]]
    h.update(json.dumps(layout, sort_keys=True).encode())
    return h.hexdigest()


@pytest.mark.backend
@pytest.mark.skipif(not ENABLED, reason="optional same-machine check: set GAN_DIGESTS=1 to run it")
@pytest.mark.parametrize("key", CONFIGS)
def test_behaviour_digest_unchanged(key, tmp_path):
    recorded = json.loads(DIGESTS.read_text()).get(stack())
    if recorded is None:
        pytest.fail(f"GAN_DIGESTS=1, but no behaviour digest is recorded for {stack()}: record one with "
                    "`python tests/test_behaviour_digest.py --record` on code known to be right, then check the new "
                    "code")
    assert digest(key, tmp_path) == recorded[key], (
        f"configuration {key}: the trainer's weights, history or checkpoint changed on {stack()}. A refactor must "
        "not change what training computes; if the change is intended, record the digests again and say why"
    )


if __name__ == "__main__":  # python tests/test_behaviour_digest.py --record
    import tempfile

    if sys.argv[1:] != ["--record"]:
        sys.exit("usage: python tests/test_behaviour_digest.py --record")
    found = {}
    for key in CONFIGS:
        with tempfile.TemporaryDirectory() as tmp:
            found[key] = digest(key, tmp)
    stored = json.loads(DIGESTS.read_text()) if DIGESTS.exists() else {}
    stored[stack()] = found
    DIGESTS.write_text(json.dumps(stored, indent=1, sort_keys=True) + "\n")
    print(stack(), found)
