"""Relative cost of one DCGAN training iteration for a few G/D variants (docs/dcgan_design.md).

All variants are built in one process and trained in turns on the same random images (``--blocks`` blocks of
``--steps`` generator steps each after a warm-up), so a busy machine slows them alike; the medians are printed
in ms per generator step, in ms per real image, and relative to the first variant.

    python scripts/dcgan_step_cost.py                      # the variants of 2026-12-03
    python scripts/dcgan_step_cost.py --set 2026-12-04     # G depth, width and batch size
    python scripts/dcgan_step_cost.py --set mapping        # notebook 02 with its hidden layer (256) against 512 and none
    python scripts/dcgan_step_cost.py --set batch          # notebook 02 (batch 32) against batch 64 and 48
    python scripts/dcgan_step_cost.py --set small-batch    # notebook 02 (batch 32) against batch 16 and 24
    python scripts/dcgan_step_cost.py --set d-hidden       # D's hidden layer: 32 units against 64 (batch 32)
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from gan_utils.training import GAN  # noqa: E402

BASE = dict(gk=3, df=32, dk=3, hidden=32, gf=128, g_mlp=0, g_extra=0, batch=64)
#: set -> name -> changes to BASE (notebook 02's configuration of 2026-12-03); the first name is the reference
VARIANT_SETS = {
    "2026-12-03": {"d64_k3": dict(df=64), "d32_dk5": dict(dk=5), "d32_dk5_gk4": dict(dk=5, gk=4), "d32_gk4": dict(gk=4)},
    "2026-12-04": {
        "notebook": {},
        "g_mlp256": dict(g_mlp=256),
        "g_extra1": dict(g_extra=1),
        "gf256": dict(gf=256),
        "batch128": dict(batch=128),
        "hidden128": dict(hidden=128),
    },
    "mapping": {"2026-12-03": {}, "notebook_g_mlp256": dict(g_mlp=256), "g_mlp512": dict(g_mlp=512)},
    "batch": {"batch64": dict(g_mlp=256), "notebook_batch32": dict(g_mlp=256, batch=32), "batch48": dict(g_mlp=256, batch=48)},
    "small-batch": {"notebook_batch32": dict(g_mlp=256, batch=32), "batch16": dict(g_mlp=256, batch=16),
                    "batch24": dict(g_mlp=256, batch=24)},
    "d-hidden": {"notebook_hidden32": dict(g_mlp=256, batch=32), "hidden64": dict(g_mlp=256, batch=32, hidden=64)},
}


def generator(gk, gf, g_mlp, g_extra, **_):
    z = keras.Input((100,))
    h = z
    if g_mlp:
        h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(g_mlp, use_bias=False)(h)))
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(7 * 7 * gf, use_bias=False)(h)))
    h = layers.Reshape((7, 7, gf))(h)
    h = layers.Conv2DTranspose(gf // 2, gk, strides=2, padding="same", use_bias=False)(h)
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(h))
    for _ in range(g_extra):
        h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Conv2DTranspose(gf // 2, gk, padding="same", use_bias=False)(h)))
    return keras.Model(z, layers.Conv2DTranspose(1, gk, strides=2, padding="same", activation="tanh")(h))


def discriminator(df, dk, hidden, **_):
    x = keras.Input((28, 28, 1))
    h = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(layers.Conv2D(df, dk, strides=2, padding="same")(x)))
    h = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(layers.Conv2D(2 * df, dk, strides=2, padding="same")(h)))
    h = layers.LeakyReLU(0.2)(layers.Dense(hidden)(layers.Flatten()(h)))
    return keras.Model(x, layers.Dense(1, activation="sigmoid")(h))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--set", default="2026-12-03", choices=sorted(VARIANT_SETS))
    p.add_argument("--blocks", type=int, default=4)
    p.add_argument("--steps", type=int, default=60)
    a = p.parse_args(argv)
    variants = {name: {**BASE, **change} for name, change in VARIANT_SETS[a.set].items()}
    x = np.random.default_rng(0).uniform(-1, 1, (256 * a.steps, 28, 28, 1)).astype("float32")
    gans = {}
    for name, v in variants.items():
        gans[name] = GAN(generator(**v), discriminator(**v), d_optimizer=keras.optimizers.Adam(5e-4, beta_1=0.5),
                         g_optimizer=keras.optimizers.Adam(5e-4, beta_1=0.5), real_target=0.9, seed=0)
        gans[name].fit(x[: v["batch"] * 20], batch_size=v["batch"], epochs=1, verbose=0)  # build and trace
    seconds = {name: [] for name in gans}
    for _ in range(a.blocks):
        for name, gan in gans.items():
            batch = variants[name]["batch"]
            start = time.perf_counter()
            gan.fit(x[: batch * a.steps], batch_size=batch, epochs=1, verbose=0)
            seconds[name].append((time.perf_counter() - start) / a.steps)
    first = np.median(seconds[next(iter(gans))])
    for name, s in seconds.items():
        per_step = np.median(s)
        print(f"{name:>12s}: {1000 * per_step:6.1f} ms per step, {1e6 * per_step / variants[name]['batch']:6.0f} us per "
              f"real image, {per_step / first:.2f}x {next(iter(gans))}")


if __name__ == "__main__":
    main()
