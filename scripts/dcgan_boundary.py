"""Where notebook 02's unsure digits come from: the borders between digits in G's latent space (docs/dcgan_design.md).

    python scripts/dcgan_boundary.py            # the pretrained 02 G, and 03's conditional G as the reference

An unconditional G maps one connected Gaussian onto ten separate digits, so some latent points lie on the borders
between digits, where the image is between two. For 10,000 latent points this prints the mean evaluator confidence,
the share below 0.9, how many of those the evaluator splits between two digits (top two probabilities > 0.9
together), and how often a nudge of z (sigma 0.1 per coordinate, about 1% of |z|) changes the digit, for unsure
(< 0.9) and sure (>= 0.99) images. Reference rows: 03's conditional G (same G body; the digit is an input, so a
nudge of z alone meets no border) and real test digits (no z).

    python scripts/dcgan_boundary.py --sampling  # what choosing the samples after training would buy (not in 02)

``--sampling`` scores 02's G when its samples are chosen after training, two known ways: z scaled towards the
centre (truncation, as in BigGAN) and keeping the samples 02's D rates most real (a crude form of discriminator
rejection sampling): both change the distribution G draws from, so their Frechet distance and coverage are printed
beside the confidence.

    python scripts/dcgan_boundary.py --sampling --drs 6  # also discriminator rejection sampling, Azadi et al.'s rule

``--drs K`` adds the calibrated rule (``gan_utils.rejection.discriminator_rejection``: each sample of a pool of K x n
kept with a probability computed from D's estimate of p_data / p_G) at average acceptances of 90%, 70%, 50% and
plain rejection sampling.
"""

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from gan_utils.data import load_mnist  # noqa: E402
from gan_utils.boundary import latent_class_changes  # noqa: E402
from gan_utils.metrics import MnistEvaluator  # noqa: E402
from gan_utils.model_io import load_generator  # noqa: E402
from gan_utils.rejection import discriminator_rejection  # noqa: E402

PRETRAINED = ROOT / "data" / "pretrained"
REAL_TARGET = 0.9  # notebook 02 trains D towards 0.9 for real images (one-sided label smoothing)


def row(name, out):
    unsure, sure = out["confidence"] < 0.9, out["confidence"] >= 0.99
    line = (f"{name:>28s}: confidence {out['confidence'].mean():.3f}, below 0.9 {unsure.mean():5.1%}, of those between "
            f"two digits {np.mean(out['top2'][unsure] > 0.9):5.1%}")
    if "change" in out:
        line += (f"; a nudge changes the digit: unsure {out['change'][unsure].mean():5.1%}, sure "
                 f"{out['change'][sure].mean():5.1%}, all {out['change'].mean():5.1%}")
    print(line)


def sampling(evaluator, dcgan, n, drs=0):
    """Confidence, Frechet distance and coverage of 02's G with its samples chosen after training."""
    import keras

    D = keras.saving.load_model(PRETRAINED / "dcgan_discriminator.keras", compile=False, safe_mode=True)
    z = np.random.default_rng(3).standard_normal((n, dcgan.input_shape[-1]), dtype=np.float32)
    draw = lambda zz: np.asarray(dcgan.predict(zz, batch_size=500, verbose=0))  # noqa: E731
    rows = {f"z x {scale}": draw(scale * z) for scale in (1.0, 0.9, 0.8, 0.7, 0.6)}
    big = draw(np.random.default_rng(4).standard_normal((2 * n, z.shape[1]), dtype=np.float32))
    realness = np.asarray(D.predict(big, batch_size=500, verbose=0)).ravel()
    for keep in (0.9, 0.7, 0.5):  # n of the 2n samples, drawn at random among the share D rates most real
        kept = np.argsort(-realness)[: int(keep * len(big))]
        rows[f"D's top {keep:.0%}"] = big[np.random.default_rng(5).permutation(kept)[:n]]
    if drs:  # the calibrated rule: each sample kept with a probability from D's density-ratio estimate
        pool = draw(np.random.default_rng(6).standard_normal((drs * n, z.shape[1]), dtype=np.float32))
        d_pool = np.asarray(D.predict(pool, batch_size=500, verbose=0)).ravel()
        for accept in (0.9, 0.7, 0.5, None):
            keep = discriminator_rejection(d_pool, accept=accept, real_target=REAL_TARGET, seed=8)
            name = f"DRS {accept:.0%}" if accept else f"DRS exact ({keep.mean():.0%})"
            if keep.sum() < n:
                print(f"{name}: only {keep.sum()} of {len(pool)} kept; pass a larger --drs")
                continue
            rows[name] = pool[keep][:n]
    for name, images in rows.items():
        s = evaluator.evaluate(images)
        print(f"{name:>12s}: confidence {s['confidence']:.3f}, below 0.9 {s['unsure']:5.1%}, "
              f"Frechet distance {s['frechet']:6.2f}, coverage {s['coverage']}, rarest digit {s['class_hist'].min():.3f}")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--sigma", type=float, nargs="+", default=[0.1, 0.3])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--generator", default=str(PRETRAINED / "dcgan_generator.keras"))
    p.add_argument("--sampling", action="store_true", help="only: 02's G with its samples chosen after training")
    p.add_argument("--drs", type=int, default=0, help="with --sampling: also discriminator rejection sampling "
                   "(Azadi et al.) from a pool of DRS x n samples")
    a = p.parse_args(argv)
    evaluator = MnistEvaluator()
    if a.sampling:
        return sampling(evaluator, load_generator(a.generator), a.n, a.drs)
    dcgan, cgan = load_generator(a.generator), load_generator(PRETRAINED / "cgan_generator.keras")
    z = np.random.default_rng(3).standard_normal((a.n, dcgan.input_shape[-1]), dtype=np.float32)
    labels = np.arange(a.n, dtype=np.int32) % 10
    gens = {"DCGAN (02)": lambda zz: np.asarray(dcgan.predict(zz, batch_size=500, verbose=0)),
            "conditional GAN (03)": lambda zz: np.asarray(cgan.predict([zz, labels], batch_size=500, verbose=0))}
    results = {}
    for sigma in a.sigma:
        print(f"sigma {sigma} (|z| ~ {np.sqrt(z.shape[1]):.0f}), {a.repeats} nudges per point, {a.n:,} points")
        for name, generate in gens.items():
            results[name, sigma] = latent_class_changes(generate, evaluator, z, sigma=sigma, repeats=a.repeats, seed=7)
            row(name, results[name, sigma])
    x, _ = load_mnist(split="test")
    probs = np.sort(evaluator.features_and_probs(x[: a.n])[1], axis=1)
    row("real test digits", {"confidence": probs[:, -1], "top2": probs[:, -1] + probs[:, -2]})
    return results


if __name__ == "__main__":
    main()
