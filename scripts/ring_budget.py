"""Notebook 04's ring budget: the baseline (and other configurations) scored during long runs.

Trains notebook 04's ring MLPs (width 128, z of 8, batch 256, Adam(1e-3, 0.9)) on the ring of 8 Gaussians and
prints, every 1/12 of the run, "updates:modes/high-quality share/energy distance" per seed, where a mode counts
if it holds >= 1% of the samples within 3 std (as in the notebook; energy distance on 1,000 samples). Writes the
trajectories to /tmp/ring_<std>_<updates>_<lr>_<width>.json. Used to choose ``RING_D_UPDATES``; the runs are in
docs/tricks_design.md.

    python scripts/ring_budget.py STD D_UPDATES SEEDS CONFIGS [LR]
    python scripts/ring_budget.py 0.05 6000 0,3 base
    python scripts/ring_budget.py 0.05 2400 0,1,2 base,k2,mbstd,k2mbstd

CONFIGS: comma-separated names made of base, k2 (two D steps per G step, half the G steps), mbstd (minibatch
std in D), smooth (real target 0.9), minimax, unif (uniform z), noise (instance noise 3 std), dcadam
(Adam(2e-4, 0.5)). The budget is in discriminator updates, as in the notebook.
"""

import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from gan_utils.data import ring_modes, sample_ring  # noqa: E402
from gan_utils.hooks import Hook  # noqa: E402
from gan_utils.layers import MinibatchStdDev  # noqa: E402
from gan_utils.metrics import energy_distance, mode_coverage  # noqa: E402
from gan_utils.training import GAN  # noqa: E402

WIDTH, LATENT_DIM, BATCH, N_SCORE = 128, 8, 256, 2_500


def build_generator():
    z = keras.Input((LATENT_DIM,))
    h = layers.Dense(WIDTH, activation="relu")(z)
    h = layers.Dense(WIDTH, activation="relu")(h)
    return keras.Model(z, layers.Dense(2)(h))


def build_discriminator(minibatch_std=False):
    x = keras.Input((2,))
    h = layers.Dense(WIDTH, activation="leaky_relu")(x)
    if minibatch_std:
        h = MinibatchStdDev()(h)
    h = layers.Dense(WIDTH, activation="leaky_relu")(h)
    return keras.Model(x, layers.Dense(1, activation="sigmoid")(h))


def main(std, d_updates, seeds, configs, lr=1e-3):
    target = sample_ring(N_SCORE, np.random.default_rng(7), std=std)

    def score(x):
        s = mode_coverage(x, ring_modes(), std, min_share=0.01)
        return {"modes": s["modes"], "hq": s["high_quality"], "ed": energy_distance(x, target, max_points=1_000)}

    out = {}
    for config in configs:
        for seed in seeds:
            keras.utils.set_random_seed(seed)
            k = 2 if "k2" in config else 1
            rate, beta_1 = (2e-4, 0.5) if "dcadam" in config else (lr, 0.9)
            options = dict(seed=seed, d_steps=k, monitor=False, d_optimizer=keras.optimizers.Adam(rate, beta_1=beta_1),
                           g_optimizer=keras.optimizers.Adam(rate, beta_1=beta_1))
            if "smooth" in config:
                options["real_target"] = 0.9
            if "minimax" in config:
                options["generator_loss"] = "minimax"
            if "unif" in config:
                options["z_distribution"] = "uniform"
            if "noise" in config:
                options["instance_noise"] = 3 * std
            gan = GAN(build_generator(), build_discriminator("mbstd" in config), **options)
            z = gan.sample_z(N_SCORE, np.random.default_rng(1000 + seed))
            trajectory = []
            hook = Hook(lambda g: trajectory.append((g.step * k, score(g.generate(z)))), every=max(1, d_updates // k // 12))
            start = time.perf_counter()
            gan.fit(lambda n, rng: sample_ring(n, rng, std=std), steps=d_updates // k, batch_size=BATCH, verbose=0,
                    hooks=[hook])
            out[f"{config}/{seed}"] = trajectory
            print(f"{config:14s} seed {seed} {time.perf_counter() - start:5.1f}s  "
                  + "  ".join(f"{u}:{d['modes']}/{d['hq']:.2f}/{d['ed']:.3f}" for u, d in trajectory), flush=True)
    with open(f"/tmp/ring_{std}_{d_updates}_{lr}_{WIDTH}.json", "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    main(float(sys.argv[1]), int(sys.argv[2]), [int(s) for s in sys.argv[3].split(",")], sys.argv[4].split(","),
         *(float(a) for a in sys.argv[5:]))
