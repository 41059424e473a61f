"""Train one DCGAN variant on MNIST and print the evaluator's scores after every epoch.

How notebook 02's configuration was chosen (docs/dcgan_design.md holds the measured table). The
baseline is notebook 02 before the change: G Dense 7x7x128 -> Conv2DTranspose 64 -> 1 (kernel 3,
BatchNorm, ReLU, tanh); D two strided Conv2D (64, 128; LeakyReLU 0.2) and a linear sigmoid read-out;
Adam(5e-4, beta_1=0.5) for both, batch 64, one-sided label smoothing (0.9), both learning rates
falling linearly to 0 over the last ``--decay`` epochs. Flags change one thing each, e.g.

    python scripts/dcgan_variants.py --name hidden64 --hidden 64 --dropout 0.3 --ema 0.999

Each epoch: Frechet distance, coverage (classes with >= 5% of the predictions), mean confidence
and the smallest class share of 3,000 samples of a fixed z set; after the last epoch, 10,000
samples. ``--ema``: the same scores for an exponential moving average of G's weights (decay per
generator step); ``--ema-more``: further averages with other decays in the same run. One JSON line
per evaluation, then a line starting with FINAL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="variant", help="label printed with the results")
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--decay", type=float, default=2, help="epochs at the end over which both learning rates fall to 0")
    p.add_argument("--lr", type=float, default=5e-4, help="G's learning rate (and D's unless --dlr)")
    p.add_argument("--dlr", type=float, default=None)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--gf", type=int, default=128, help="channels of G's 7x7 map (then half at 14x14)")
    p.add_argument("--df", type=int, default=64, help="channels of D's first conv (then twice)")
    p.add_argument("--gk", type=int, default=3, help="G's kernel size")
    p.add_argument("--g-extra", type=int, default=0, help="stride-1 Conv2DTranspose layers (BatchNorm, ReLU) at 14x14 in G")
    p.add_argument("--g-mlp", type=int, default=0, help="units of a Dense (BatchNorm, ReLU) layer between z and G's projection (0: none)")
    p.add_argument("--g-mlp-layers", type=int, default=1, help="how many such layers, one after the other")
    p.add_argument("--latent", type=int, default=100, help="size of z")
    p.add_argument("--dk", type=int, default=3, help="D's kernel size")
    p.add_argument("--hidden", type=int, default=0, help="units of a hidden Dense + LeakyReLU before D's output (0: none)")
    p.add_argument("--dropout", type=float, default=0.0, help="Dropout after each of D's convolutions")
    p.add_argument("--ema", type=float, default=0.0, help="decay per step of an EMA of G's weights (0: none)")
    p.add_argument("--ema-more", type=float, nargs="*", default=[],
                   help="decays per step of further EMAs of G kept in the same run, scored as ema_<decay>")
    p.add_argument("--gloss", default="non_saturating", choices=("non_saturating", "minimax"))
    p.add_argument("--dsteps", type=int, default=1, help="D steps per G step (an epoch then has 1/dsteps the G steps)")
    p.add_argument("--real", type=float, default=0.9, help="D's target for real images")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-train", type=int, default=60_000, help="training images used")
    p.add_argument("--n-eval", type=int, default=3_000, help="samples scored after each epoch (10,000 at the end)")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow threads (0: TensorFlow's default)")
    p.add_argument("--save", type=Path, help="folder for the trained generator(s), .keras")
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np
    from keras import layers

    if a.threads and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)

    from gan_utils.data import load_mnist
    from gan_utils.metrics import MnistEvaluator
    from gan_utils.training import GAN, Hook, WeightAverage

    latent = a.latent

    def build_generator():
        z = keras.Input((latent,))
        h = z
        for _ in range(a.g_mlp_layers if a.g_mlp else 0):
            h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(a.g_mlp, use_bias=False)(h)))
        h = layers.Dense(7 * 7 * a.gf, use_bias=False)(h)
        h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(h))
        h = layers.Reshape((7, 7, a.gf))(h)
        h = layers.Conv2DTranspose(a.gf // 2, a.gk, strides=2, padding="same", use_bias=False)(h)
        h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(h))
        for _ in range(a.g_extra):
            h = layers.Conv2DTranspose(a.gf // 2, a.gk, padding="same", use_bias=False)(h)
            h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(h))
        image = layers.Conv2DTranspose(1, a.gk, strides=2, padding="same", activation="tanh")(h)
        return keras.Model(z, image)

    def build_discriminator():
        image = keras.Input((28, 28, 1))
        h = layers.LeakyReLU(0.2)(layers.Conv2D(a.df, a.dk, strides=2, padding="same")(image))
        if a.dropout:
            h = layers.Dropout(a.dropout)(h)
        h = layers.LeakyReLU(0.2)(layers.Conv2D(2 * a.df, a.dk, strides=2, padding="same")(h))
        if a.dropout:
            h = layers.Dropout(a.dropout)(h)
        h = layers.Flatten()(h)
        if a.hidden:
            h = layers.LeakyReLU(0.2)(layers.Dense(a.hidden)(h))
        return keras.Model(image, layers.Dense(1, activation="sigmoid")(h))

    x_train, _ = load_mnist(split="train", scale="tanh")
    x = x_train[np.random.default_rng(a.seed).permutation(len(x_train))[: a.n_train]]
    keras.utils.set_random_seed(a.seed)
    G, D = build_generator(), build_discriminator()
    d_lr = a.dlr or a.lr
    gan = GAN(G, D, d_optimizer=keras.optimizers.Adam(d_lr, beta_1=0.5), g_optimizer=keras.optimizers.Adam(a.lr, beta_1=0.5),
              real_target=a.real, generator_loss=a.gloss, d_steps=a.dsteps, seed=a.seed)
    steps_per_epoch = (len(x) // a.batch) // a.dsteps

    def decay(g):
        total, start = a.epochs * steps_per_epoch, (a.epochs - a.decay) * steps_per_epoch
        f = min(1.0, max(0.0, (total - g.step) / max(1.0, total - start)))
        g.d_optimizer.learning_rate.assign(d_lr * f)
        g.g_optimizer.learning_rate.assign(a.lr * f)

    ema_every = 5
    ema = WeightAverage(G, decay=a.ema**ema_every) if a.ema else None
    more = {f"ema_{d:g}": WeightAverage(G, decay=d**ema_every) for d in a.ema_more}
    evaluator = MnistEvaluator()
    eval_z = np.random.default_rng(123).standard_normal((10_000, latent), dtype=np.float32)
    results = []

    def score(g, n):
        out = {"step": g.step, "epoch": round(g.step / steps_per_epoch, 2), "n": n}
        variants = [("raw", None)] + ([("ema", ema.averaged_weights())] if ema and ema.count else [])
        variants += [(name, m.averaged_weights()) for name, m in more.items() if m.count]
        for which, weights in variants:
            current = G.get_weights()
            if weights is not None:
                G.set_weights(weights)
            s = evaluator.evaluate(g.generate(eval_z[:n]))
            G.set_weights(current)
            out[which] = {"fd": round(s["frechet"], 1), "conf": round(s["confidence"], 3), "cov": s["coverage"],
                          "min_share": round(float(s["class_hist"].min()), 3),
                          "hist": [round(float(v), 3) for v in s["class_hist"]]}
        results.append(out)
        print(json.dumps(out), flush=True)

    hooks = [Hook(decay, every=10), Hook(lambda g: score(g, a.n_eval) if g.step < a.epochs * steps_per_epoch else None,
                                         every=steps_per_epoch)]
    for average in ([ema] if ema else []) + list(more.values()):
        hooks.append(average.hook(every=ema_every))
    gan.fit(x, batch_size=a.batch, epochs=a.epochs, verbose=0, hooks=hooks)
    score(gan, 10_000)
    if a.save:
        a.save.mkdir(parents=True, exist_ok=True)
        G.save(a.save / f"{a.name}_G.keras")
        if ema and ema.count:
            G.set_weights(ema.averaged_weights())
            G.save(a.save / f"{a.name}_G_ema.keras")
    ms = 1000 * gan.train_seconds / gan.step
    print("FINAL", a.name, json.dumps(vars(a), default=str), json.dumps(results[-1]), f"ms/step {ms:.0f}", flush=True)
    return results


if __name__ == "__main__":
    main()
