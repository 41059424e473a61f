"""Relative cost of one DCGAN training iteration for a few G/D variants (docs/dcgan_design.md).

All variants are built in one process and trained in turns on the same random batches (4 blocks of 60
generator steps each after a warm-up), so a busy machine slows them alike; the medians are printed in ms per
step and relative to the first variant. ``python scripts/dcgan_step_cost.py``
"""

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

#: name -> (G kernel, D filters, D kernel, D hidden units); the first is the 2026-12-01 notebook configuration
VARIANTS = {"d64_k3": (3, 64, 3, 32), "d32_dk5": (3, 32, 5, 32), "d32_dk5_gk4": (4, 32, 5, 32), "d32_gk4": (4, 32, 3, 32)}


def generator(kernel):
    z = keras.Input((100,))
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(7 * 7 * 128, use_bias=False)(z)))
    h = layers.Reshape((7, 7, 128))(h)
    h = layers.Conv2DTranspose(64, kernel, strides=2, padding="same", use_bias=False)(h)
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(h))
    return keras.Model(z, layers.Conv2DTranspose(1, kernel, strides=2, padding="same", activation="tanh")(h))


def discriminator(filters, kernel, hidden):
    x = keras.Input((28, 28, 1))
    h = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(layers.Conv2D(filters, kernel, strides=2, padding="same")(x)))
    h = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(layers.Conv2D(2 * filters, kernel, strides=2, padding="same")(h)))
    h = layers.LeakyReLU(0.2)(layers.Dense(hidden)(layers.Flatten()(h)))
    return keras.Model(x, layers.Dense(1, activation="sigmoid")(h))


def main(blocks=4, steps=60, batch=64):
    x = np.random.default_rng(0).uniform(-1, 1, (batch * steps, 28, 28, 1)).astype("float32")
    gans = {}
    for name, (gk, df, dk, hidden) in VARIANTS.items():
        gans[name] = GAN(generator(gk), discriminator(df, dk, hidden), d_optimizer=keras.optimizers.Adam(5e-4, beta_1=0.5),
                         g_optimizer=keras.optimizers.Adam(5e-4, beta_1=0.5), real_target=0.9, seed=0)
        gans[name].fit(x[: batch * 20], batch_size=batch, epochs=1, verbose=0)  # build and trace
    seconds = {name: [] for name in gans}
    for _ in range(blocks):
        for name, gan in gans.items():
            start = time.perf_counter()
            gan.fit(x, batch_size=batch, epochs=1, verbose=0)
            seconds[name].append((time.perf_counter() - start) / steps)
    first = np.median(seconds[next(iter(gans))])
    for name, s in seconds.items():
        print(f"{name:>12s}: {1000 * np.median(s):6.1f} ms per step, {np.median(s) / first:.2f}x {next(iter(gans))}")


if __name__ == "__main__":
    main()
