"""The design runs behind notebook 07's semi-supervised GAN (docs/semi_supervised_design.md).

    python scripts/sgan_variants.py --d mlp --lr 1e-3 --input-noise 0.6 --steps 3600   # the chosen recipe
    python scripts/sgan_variants.py --d mlp --lr 3e-3 --input-noise 0.3                 # Salimans et al.'s rate
    python scripts/sgan_variants.py --d conv --lr 1e-3 --input-noise 0.3                # a small convolutional D

One run: label draw --label-seed (10 digits per class), the generator and D of notebook 07 (``--d mlp``: Salimans et
al.'s 5-layer MLP with Gaussian noise; ``--d conv``: notebook 02's D shape, 32/64 filters, Dropout 0.3, a 128-unit
features layer), Adam(lr, 0.5) for both, batch 100. Prints the test accuracy every --every generator steps (the
test set chooses nothing in the notebook; here it only compares recipes, which the notebook then fixes).
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

from gan_utils.data import load_mnist  # noqa: E402
from gan_utils.semi_supervised import SemiSupervisedGAN, labelled_subset  # noqa: E402


def build_classifier(kind, input_noise):
    x = keras.Input((28, 28, 1))
    if kind == "mlp":
        h = layers.GaussianNoise(input_noise)(layers.Flatten()(x))
        for i, units in enumerate((1000, 500, 250, 250, 250)):
            h = layers.GaussianNoise(0.5, name=f"noise_{i}")(layers.Dense(units, activation="relu")(h))
        features = "noise_4"
    else:
        h = layers.GaussianNoise(input_noise)(x)
        for filters in (32, 64):
            h = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(layers.Conv2D(filters, 3, strides=2, padding="same")(h)))
        h = layers.LeakyReLU(0.2, name="features")(layers.Dense(128)(layers.Flatten()(h)))
        h = layers.Dropout(0.3)(h)
        features = "features"
    return keras.Model(x, layers.Dense(10)(h), name="classifier"), features


def build_generator():
    z = keras.Input((100,))
    h = layers.BatchNormalization()(layers.Dense(500, activation="softplus")(z))
    h = layers.BatchNormalization()(layers.Dense(500, activation="softplus")(h))
    return keras.Model(z, layers.Reshape((28, 28, 1))(layers.Dense(784, activation="tanh")(h)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--d", choices=("mlp", "conv"), default="mlp")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--input-noise", type=float, default=0.6)
    parser.add_argument("--steps", type=int, default=1800)
    parser.add_argument("--every", type=int, default=300)
    parser.add_argument("--label-seed", type=int, default=0)
    args = parser.parse_args()
    (x, y), (x_test, y_test) = load_mnist(split="both")
    keras.utils.set_random_seed(args.label_seed)
    idx = labelled_subset(y, 10, args.label_seed)
    classifier, features = build_classifier(args.d, args.input_noise)
    gan = SemiSupervisedGAN(build_generator(), classifier, features, x[idx], y[idx], seed=args.label_seed,
                            d_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5),
                            g_optimizer=keras.optimizers.Adam(args.lr, beta_1=0.5))
    start = time.perf_counter()
    while gan.step < args.steps:
        gan.fit(x, batch_size=100, steps=min(args.every, args.steps - gan.step), verbose=0)
        acc = np.mean(gan.classify(x_test).argmax(1) == y_test)
        print(f"{args.d} lr {args.lr:g} noise {args.input_noise:g}: step {gan.step}, test accuracy {acc:.4f}, "
              f"{time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
