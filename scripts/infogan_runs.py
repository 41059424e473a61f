"""Train notebook 06's InfoGAN on MNIST for one seed and print how far its categorical code became the digit.

The defaults are notebook 06's models and settings (openai/InfoGAN's recipe fitted to the CPU: G Dense 256 ->
7x7x128 -> 64 -> 1 with BatchNorm momentum 0.8; D's body 4x4 convolutions 32, 64 with LayerNorm, Dense 256 with
LayerNorm, shared by D's real/fake head and Q's head Dense 128 -> 10 logits + 2 means; the information term in D's
and G's steps; Adam 2e-4 for D and Q, 1e-3 for G; lambda 1; z ~ U(-1, 1); no label smoothing); flags change one
thing each, e.g.

    python scripts/infogan_runs.py --seed 1                 # the notebook's full mode, seed 1
    python scripts/infogan_runs.py --seed 1 --lambda-cat 0 --lambda-cont 0   # the control

After every epoch (and at the end, on 10,000 samples): the categorical code's accuracy on generated digits
(the evaluator's class against c1, best one-to-one matching), Q as a classifier of the real test set (same
matching), the Frechet distance, and the lower bound H(c1) - CE in nats. One JSON line per evaluation, then
a line starting with FINAL. docs/infogan_design.md records the runs (with every flag: runs before 2026-12-08 used
other defaults, listed there).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--name", default="infogan")
    p.add_argument("--epochs", type=float, default=5)
    p.add_argument("--d-lr", type=float, default=2e-4, help="D's and Q's learning rate (one optimizer)")
    p.add_argument("--g-lr", type=float, default=1e-3, help="G's learning rate (Q learns with D, at --d-lr)")
    p.add_argument("--lambda-cat", type=float, default=1.0)
    p.add_argument("--lambda-cont", type=float, default=1.0)
    p.add_argument("--q-units", type=int, default=128)
    p.add_argument("--df", type=int, default=32)
    p.add_argument("--gf", type=int, default=128)
    p.add_argument("--real", type=float, default=1.0, help="D's target for real images")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-eval", type=int, default=3_000)
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--q-on-fakes", type=float, default=0.0,
                   help="learning rate of an extra step per iteration that trains all of Q (D's body too) on fresh fakes")
    p.add_argument("--info-start", type=float, default=0.0, help="epochs trained without the information term first")
    p.add_argument("--normal-noise", action="store_true", help="z ~ N(0, 1) instead of U(-1, 1)")
    p.add_argument("--d-fc", type=int, default=256, help="units of D's fully connected body layer after the convolutions "
                   "(openai/InfoGAN: 1024; 0: none)")
    p.add_argument("--d-norm", choices=("none", "layer", "batch"), default="layer",
                   help="normalisation after D's second convolution and its FC layer (openai/InfoGAN: batch)")
    p.add_argument("--dropout", type=float, default=0.0, help="Dropout in D's body (openai/InfoGAN: none)")
    p.add_argument("--kernel", type=int, default=4, help="convolution kernel size (openai/InfoGAN: 4)")
    p.add_argument("--g-fc", type=int, default=256, help="units of G's hidden Dense layer (openai/InfoGAN: 1024)")
    p.add_argument("--q-norm", action="store_true", help="BatchNorm after Q's hidden layer (openai/InfoGAN)")
    p.add_argument("--save", type=Path, help="write the generator here (.keras)")
    p.add_argument("--measure-codes", type=Path, metavar="G.keras",
                   help="train nothing: load a generator written by --save and measure what c2 and c3 control")
    return p.parse_args(argv)


def build_models(a):
    import keras
    from keras import layers

    def norm(kind):
        return {"none": layers.Identity, "layer": layers.LayerNormalization, "batch": layers.BatchNormalization}[kind]()

    latent = keras.Input((62 + 10 + 2,), name="latent")
    h = latent
    if a.g_fc:
        h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(a.g_fc, use_bias=False)(h)))
    h = layers.Dense(7 * 7 * a.gf, use_bias=False)(h)
    h = layers.BatchNormalization(momentum=0.8)(h)
    h = layers.ReLU()(h)
    h = layers.Reshape((7, 7, a.gf))(h)
    h = layers.Conv2DTranspose(a.gf // 2, a.kernel, strides=2, padding="same", use_bias=False)(h)
    h = layers.BatchNormalization(momentum=0.8)(h)
    h = layers.ReLU()(h)
    G = keras.Model(latent, layers.Conv2DTranspose(1, a.kernel, strides=2, padding="same", activation="tanh")(h), name="G")
    def dropout():  # none at 0: a Dropout layer draws a seed, which would change the weights built after it
        return [layers.Dropout(a.dropout)] if a.dropout else []

    body = [layers.Conv2D(a.df, a.kernel, strides=2, padding="same"), layers.LeakyReLU(0.2), *dropout(),
            layers.Conv2D(2 * a.df, a.kernel, strides=2, padding="same"), *([norm(a.d_norm)] if a.d_norm != "none" else []),
            layers.LeakyReLU(0.2), *dropout(), layers.Flatten()]
    if a.d_fc:
        body += [layers.Dense(a.d_fc), *([norm(a.d_norm)] if a.d_norm != "none" else []), layers.LeakyReLU(0.2)]

    def features(x):
        for layer in body:
            x = layer(x)
        return x

    x = keras.Input((28, 28, 1))
    D = keras.Model(x, layers.Dense(1, activation="sigmoid")(features(x)), name="D")
    xq = keras.Input((28, 28, 1))
    hq = layers.Dense(a.q_units)(features(xq))
    hq = layers.LeakyReLU(0.2)(layers.BatchNormalization()(hq) if a.q_norm else hq)
    Q = keras.Model(xq, layers.Dense(12)(hq), name="Q")
    return G, D, Q


def measure_codes(path, seed=0, n_pairs=500, normal_noise=False):
    """The notebook's continuous-code measurement for a saved generator (74-number latent input): for n_pairs
    random (z, c1), sweep c2 (then c3) over nine values from -2 to 2 with the other at 0; Spearman's rho of the
    code against slant and ink per pair (median), the mean change from -2 to 2 in real test digits' stds, and the
    share of sweeps along which the evaluator's digit changes (over [-1, 1], the training range, and [-2, 2])."""
    import keras
    import numpy as np
    from scipy import stats

    from gan_utils.batches import predict_in_batches
    from gan_utils.codes import ink_mass, slant_degrees
    from gan_utils.data import load_mnist
    from gan_utils.infogan import InfoGANGame
    from gan_utils.metrics import MnistEvaluator

    G = keras.models.load_model(path, compile=False, safe_mode=True)
    game, evaluator = InfoGANGame(), MnistEvaluator()
    x_test, _ = load_mnist(split="test")
    spread = {"slant": slant_degrees(x_test).std(), "ink": ink_mass(x_test).std()}
    values = np.linspace(-2, 2, 9, dtype=np.float32)
    inside = np.abs(values) <= 1.0
    rng = np.random.default_rng(seed + 9)
    noise = (rng.standard_normal((n_pairs, 62), dtype=np.float32) if normal_noise
             else rng.uniform(-1.0, 1.0, (n_pairs, 62)).astype(np.float32))
    noise = np.repeat(noise, 9, axis=0)
    codes = np.repeat(rng.integers(0, 10, n_pairs), 9)
    out = {"model": str(path)}
    for j in range(2):
        continuous = np.zeros((len(codes), 2), np.float32)
        continuous[:, j] = np.tile(values, n_pairs)
        images = predict_in_batches(G, game.make_latent(noise, codes, continuous), batch_size=n_pairs)  # 9 batches
        for prop, v in (("slant", slant_degrees(images)), ("ink", ink_mass(images))):
            rows = v.reshape(n_pairs, 9)
            rho = np.median([stats.spearmanr(values, r)[0] if np.ptp(r) > 0 else 0.0 for r in rows])
            out[f"c{j + 2}_{prop}"] = {"median_rho": round(float(rho), 2),
                                       "change_in_real_stds": round(float((rows[:, -1] - rows[:, 0]).mean() / spread[prop]), 2)}
        digits = evaluator.predict(images)[0].reshape(n_pairs, 9)
        out[f"c{j + 2}_digit_changes"] = {"within_1": round(float(np.mean(np.ptp(digits[:, inside], axis=1) > 0)), 3),
                                          "within_2": round(float(np.mean(np.ptp(digits, axis=1) > 0)), 3)}
    print("CODES", json.dumps(out))
    return 0


def main(argv=None):
    a = parse_args(argv)
    if a.measure_codes:
        return measure_codes(a.measure_codes, a.seed, normal_noise=a.normal_noise)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import numpy as np

    if a.threads and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    from gan_utils.batches import predict_in_batches
    from gan_utils.codes import matched_accuracy
    from gan_utils.data import load_mnist
    from gan_utils.infogan import InfoGAN, InfoGANGame
    from gan_utils.metrics import MnistEvaluator
    from gan_utils.training import Hook

    x_train, _ = load_mnist(split="train")  # labels never used: InfoGAN learns without them
    x_test, y_test = load_mnist(split="test")
    evaluator = MnistEvaluator()
    keras.utils.set_random_seed(a.seed)
    G, D, Q = build_models(a)
    game = InfoGANGame(categorical_weight=a.lambda_cat, continuous_weight=a.lambda_cont, real_target=a.real)
    if not a.normal_noise:
        game.sample_latent = lambda n, dim, rng, dist, f=game.sample_latent: f(n, dim, rng, "uniform")
    gan = InfoGAN(G, D, Q, game=game, seed=a.seed, d_optimizer=keras.optimizers.Adam(a.d_lr, beta_1=0.5),
              g_optimizer=keras.optimizers.Adam(a.g_lr, beta_1=0.5))
    steps_per_epoch = len(x_train) // a.batch

    def evaluate(gan, n):
        rng = np.random.default_rng(1000 + a.seed)
        z = game.sample_latent(n, game.latent_dim, rng, "normal")
        _, codes, _ = game.split_latent(z)
        images = gan.generate(z)
        classes, _ = evaluator.predict(images)
        generated = matched_accuracy(codes, classes)
        q_real = predict_in_batches(Q, x_test, batch_size=1000)[:, :10]
        real = matched_accuracy(q_real.argmax(1), np.asarray(y_test, np.int64))
        q_fake = np.asarray(Q.predict_on_batch(images[:1000]))[:, :10]
        logp = q_fake - q_fake.max(1, keepdims=True)
        logp = logp - np.log(np.exp(logp).sum(1, keepdims=True))
        bound = np.log(10) + logp[np.arange(1000), codes[:1000]].mean()
        scores = evaluator.evaluate(images)
        rec = {"name": a.name, "seed": a.seed, "step": gan.step, "epoch": round(gan.step / steps_per_epoch, 2),
               "c1_generated": round(generated["accuracy"], 4), "q_real_test": round(real["accuracy"], 4),
               "min_code": round(float(np.nanmin(generated["per_code"])), 3),
               "lower_bound": round(float(bound), 3), "fd": round(scores["frechet"], 2),
               "conf": round(scores["confidence"], 3), "minutes": round(gan.train_seconds / 60, 2)}
        return rec

    def report(gan):
        print(json.dumps(evaluate(gan, a.n_eval)), flush=True)

    total = int(a.epochs * steps_per_epoch)
    hooks = [Hook(report, every=steps_per_epoch)]
    if a.q_on_fakes:
        from gan_utils.infogan import InfoLoss

        Q.compile(optimizer=keras.optimizers.Adam(a.q_on_fakes, beta_1=0.5),
                  loss=InfoLoss(10, 2, a.lambda_cat, a.lambda_cont))
        q_rng = np.random.default_rng(a.seed + 50)

        def q_step(gan):
            z = game.sample_latent(a.batch, game.latent_dim, q_rng, "normal")
            Q.train_on_batch(np.asarray(G.predict_on_batch(z)), z[:, 62:])

        hooks.append(Hook(q_step, every=1))
    t0 = time.perf_counter()
    if a.info_start:
        warm = InfoGANGame(categorical_weight=0.0, continuous_weight=0.0, real_target=a.real)
        first = InfoGAN(G, D, Q, game=warm, seed=a.seed, d_optimizer=keras.optimizers.Adam(a.d_lr, beta_1=0.5),
                    g_optimizer=keras.optimizers.Adam(a.g_lr, beta_1=0.5))
        first.fit(x_train, batch_size=a.batch, steps=int(a.info_start * steps_per_epoch), verbose=0)
        gan = InfoGAN(G, D, Q, game=game, seed=a.seed + 1, d_optimizer=keras.optimizers.Adam(a.d_lr, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(a.g_lr, beta_1=0.5))
        total -= first.step
    gan.fit(x_train, batch_size=a.batch, steps=total, verbose=0, hooks=hooks)
    rec = evaluate(gan, 10_000)
    rec["wall_minutes"] = round((time.perf_counter() - t0) / 60, 2)
    rec["ms_per_step"] = round(1000 * gan.train_seconds / gan.step, 1)
    rec["args"] = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()}
    print("FINAL", json.dumps(rec), flush=True)
    if a.save:
        from gan_utils.plotting import plot_samples

        keras.saving.save_model(G, a.save)
        z = game.make_latent(np.tile(np.random.default_rng(7).standard_normal((10, 62), dtype=np.float32), (10, 1)),
                             np.repeat(np.arange(10), 10))
        plot_samples(gan.generate(z), ncols=10, row_labels=list(range(10)), title=a.name, save=a.save.with_suffix(".png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
