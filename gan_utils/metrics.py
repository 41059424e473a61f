"""Quality measures: 1-D distances to a target, mode coverage, and the MNIST evaluator.

The evaluator is a small CNN trained by ``scripts/train_evaluator.py`` (weights committed in
``data/``). Its 128-d penultimate layer is the feature space for the Frechet distance, and its
softmax gives class coverage, confidence and conditional accuracy.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
from scipy import linalg, stats
from scipy.spatial.distance import cdist

from .batches import predict_in_batches
from .data import DATA_DIR, MNIST_SHA256, load_mnist, sha256_of

EVALUATOR_WEIGHTS = "mnist_evaluator.weights.h5"
EVALUATOR_INFO = "mnist_evaluator.json"
#: the reference features' mean and covariance of each MNIST split, for the committed weights and data/mnist.npz:
#: 10,000 test images through the evaluator cost seconds (7 s on two CPU cores) in every process that scores
#: images. Written by ``write_reference_stats`` (``scripts/train_evaluator.py``), used only while the hashes of
#: both the weights and the data it records match.
EVALUATOR_REFERENCE = "mnist_evaluator_reference.npz"
NUM_CLASSES = 10
#: an image whose top-class probability is below this counts as ``unsure`` in ``MnistEvaluator.evaluate``.
UNSURE = 0.9
FEATURE_LAYER = "features"
#: the size of the evaluator's feature space (the ``features`` layer): the Frechet distance needs more images
#: than this, or the feature covariance is singular and the figure meaningless.
FEATURE_DIM = 128
#: below this many images the Frechet distance comes with a ``SmallSampleWarning``. Measured (TensorFlow,
#: the committed weights): random subsets of N real *training* digits against the test-set reference score,
#: mean of 5-10 draws (sd in brackets),
#:     N = 20: 135, 50: 52, 100: 26, 129: 18.7 (1.4), 200: 12.1, 500: 4.8 (0.5), 1000: 2.8 (0.4),
#:     1500: 2.0 (0.3), 2000: 1.9 (0.3), 3000: 1.25 (0.1), 5000: 1.04 (0.1), 10000: 0.81 (0.05),
#:     20000: 0.71, 60000: 0.62.
#: The excess over the large-N figure is a bias of about 2000 / N that only shrinks with N (within 20% of the
#: 0.62 floor of real digits only from N ~ 20000). At N = 2000 it is about 1.3, within 10-20% of the scores a
#: trained generator is judged at (FD 10 and below), and the spread between draws is 0.3; hence 2000.
#: Compare Frechet distances only between equal N.
MIN_STABLE_FD_SAMPLES = 2000


class SmallSampleWarning(UserWarning):
    """A Frechet distance from so few images that it is biased upwards (see ``MIN_STABLE_FD_SAMPLES``)."""


# ----------------------------------------------------------------------------- 1-D distances
def _as_1d(samples, name):
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be a non-empty array of finite numbers (got size {x.size})")
    return x


def wasserstein1(samples, target) -> float:
    """Wasserstein-1 distance between 1-D samples and a target.

    ``target`` is either samples (array) or a frozen ``scipy.stats`` distribution, in which case
    the exact W1 to the distribution is integrated from the two CDFs.
    """
    x = _as_1d(samples, "samples")
    if hasattr(target, "cdf"):
        # W1 = integral |F_n(t) - F(t)| dt, exact between the sorted sample points.
        xs = np.sort(x)
        lo = min(xs[0], target.ppf(1e-9))
        hi = max(xs[-1], target.ppf(1 - 1e-9))
        grid = np.union1d(xs, np.linspace(lo, hi, 20001))
        ecdf = np.searchsorted(xs, grid, side="right") / xs.size
        diff = np.abs(ecdf - target.cdf(grid))
        return float(np.sum(0.5 * (diff[1:] + diff[:-1]) * np.diff(grid)))
    return float(stats.wasserstein_distance(x, _as_1d(target, "target")))


def ks_distance(samples, target) -> float:
    """Kolmogorov-Smirnov statistic (sup |F_n - F|) between 1-D samples and a target.

    ``target`` is samples or a frozen ``scipy.stats`` distribution.
    """
    x = _as_1d(samples, "samples")
    if hasattr(target, "cdf"):
        return float(stats.kstest(x, target.cdf).statistic)
    return float(stats.ks_2samp(x, _as_1d(target, "target")).statistic)


def mode_fractions(samples, centres, max_dist) -> np.ndarray:
    """Fraction of samples within ``max_dist`` (Euclidean) of each centre; shape (n_centres,).

    ``samples`` is (N,) / (N, 1) for 1-D or (N, d); ``centres`` (K,) or (K, d).
    """
    x = np.asarray(samples, dtype=np.float64)
    c = np.asarray(centres, dtype=np.float64)
    x = x.reshape(len(x), -1)
    c = c.reshape(len(c), -1)
    if x.shape[1] != c.shape[1]:
        raise ValueError(f"samples have dimension {x.shape[1]} but centres {c.shape[1]}")
    d = np.linalg.norm(x[:, None, :] - c[None, :, :], axis=-1)
    nearest = d.argmin(axis=1)
    close = d[np.arange(len(x)), nearest] <= max_dist
    return np.bincount(nearest[close], minlength=len(c)) / len(x)


def mode_coverage(samples, centres, std, n_std=3.0, min_share=0.0) -> dict:
    """Mode-collapse scores for a mixture of Gaussians with known centres (VEEGAN's definition).

    Following Srivastava et al. (2017, VEEGAN, section 5.1), a generated sample is **high quality**
    if it lies within ``n_std`` (3) standard deviations of its nearest mode centre, and a mode is
    **captured** if it is the nearest centre of at least one high-quality sample.

    VEEGAN's count has a flaw: a generator that spreads its samples uniformly over the plane
    "captures" every mode, since a few of its samples land near each. ``min_share`` fixes that: a
    mode counts only if it holds at least that share of all N samples as high-quality samples (for
    example 0.01 on the ring of 8, where a perfect generator puts 0.125 on each).

    Args:
        samples: generated points (N, d) (or (N,) in 1-D).
        centres: mode centres (K, d) (or (K,)).
        std: the standard deviation of each mixture component (isotropic), in data units.
        n_std: the high-quality radius in standard deviations.
        min_share: the share of the N samples (high quality, nearest to it) a mode needs to count
            as captured; 0 (default) is VEEGAN's "at least one sample".

    Returns:
        dict with ``modes`` (int, 0..K, modes captured), ``high_quality`` (share of the N samples
        that are high quality, 0..1) and ``per_mode`` (K,) (share of the N samples that are high
        quality and nearest to each mode; it sums to ``high_quality``).
    """
    std = float(std)
    if not np.isfinite(std) or std <= 0:
        raise ValueError(f"std must be a positive number, got {std!r}")
    min_share = float(min_share)
    if not 0.0 <= min_share < 1.0:
        raise ValueError(f"min_share must be a share of the samples in [0, 1), got {min_share!r}")
    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"samples must be a non-empty array of finite numbers (got {x.shape})")
    per_mode = mode_fractions(x, centres, n_std * std)
    return {
        "modes": int(np.sum((per_mode > 0) & (per_mode >= min_share))),
        "high_quality": float(per_mode.sum()),
        "per_mode": per_mode,
    }


def energy_distance(samples, reference, max_points=2_000) -> float:
    """Energy distance between two samples: 2 E|X - Y| - E|X - X'| - E|Y - Y'| (Szekely and Rizzo).

    A distance between whole distributions (0 if and only if they are equal), in data units; unlike a
    mode count or a share near the modes it grows when samples are spread where the data are not *and*
    when mass is missing where they are. ``samples`` and ``reference`` are (N,) / (N, d) and (M,) /
    (M, d); each is cut to its first ``max_points`` rows (the pairwise distances cost N^2 memory).
    The V-statistic (pairs of a point with itself included) is used, so two samples of one
    distribution score slightly above 0; compare against that floor. In 1-D it equals the square of
    ``scipy.stats.energy_distance``.
    """
    x, y = (np.asarray(a, dtype=np.float64) for a in (samples, reference))
    x, y = x.reshape(len(x), -1)[:max_points], y.reshape(len(y), -1)[:max_points]
    for a, name in ((x, "samples"), (y, "reference")):
        if len(a) == 0 or not np.all(np.isfinite(a)):
            raise ValueError(f"{name} must be a non-empty array of finite numbers (got {a.shape})")
    if x.shape[1] != y.shape[1]:
        raise ValueError(f"samples have dimension {x.shape[1]} but the reference {y.shape[1]}")
    return float(2.0 * cdist(x, y).mean() - cdist(x, x).mean() - cdist(y, y).mean())


# ----------------------------------------------------------------------------- Frechet distance
def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """Frechet distance between two Gaussians: |mu1-mu2|^2 + Tr(C1 + C2 - 2 (C1 C2)^(1/2))."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    cov1, cov2 = np.atleast_2d(cov1).astype(np.float64), np.atleast_2d(cov2).astype(np.float64)
    # Tr((C1 C2)^(1/2)) = sum of sqrt(eigenvalues of C1^(1/2) C2 C1^(1/2)), a symmetric PSD matrix
    w, v = linalg.eigh(cov1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    eig = linalg.eigvalsh(root1 @ cov2 @ root1)
    tr_covmean = np.sum(np.sqrt(np.clip(eig, 0, None)))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * tr_covmean)


def feature_stats(features):
    """Mean (d,) and covariance (d, d) of features (N, d), in float64."""
    f = np.asarray(features, dtype=np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


# ----------------------------------------------------------------------------- the evaluator
def build_evaluator():
    """The evaluator CNN: input (28, 28, 1) in [-1, 1], softmax over 10 classes.

    Two conv blocks and a 128-unit layer named ``features`` (the Frechet feature space).
    """
    import keras
    from keras import layers

    inputs = keras.Input((28, 28, 1), name="image")
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(inputs)
    x = layers.Conv2D(32, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.Conv2D(64, 3, padding="same", activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    features = layers.Dense(FEATURE_DIM, activation="relu", name=FEATURE_LAYER)(x)
    x = layers.Dropout(0.3)(features)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="probs")(x)
    return keras.Model(inputs, outputs, name="mnist_evaluator")


def _looks_unit_scaled(x) -> bool:
    """True for images that look like digits in [0, 1]: no negative pixel, a background at 0, bright strokes.

    Every MNIST digit has a black background on at least 55% of its pixels (82% on average; measured over
    all 70,000): in [0, 1] it is 0, in the evaluator's [-1, 1] it is -1. So a batch with no pixel below 0, at
    least half its pixels at or below 0.1 and some pixel at or above 0.5 is ``load_mnist(scale="unit")`` or
    a sigmoid generator's output. Genuine [-1, 1] images of digits always have pixels near -1 (their
    background), so the rule cannot fire on them; a [-1, 1] generator would need to draw no pixel darker
    than mid-grey in the whole batch (and then a blank white or grey batch is still let through).
    """
    return bool(x.min() >= 0.0 and np.mean(x <= 0.1) >= 0.5 and x.max() >= 0.5)


def _check_images(images, name="images") -> np.ndarray:
    x = np.asarray(images)
    if x.ndim == 3:
        x = x[..., None]
    if x.ndim != 4 or x.shape[1:] != (28, 28, 1):
        raise ValueError(f"{name} must have shape (N, 28, 28) or (N, 28, 28, 1), got {np.shape(images)}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if x.dtype == np.uint8:
        raise TypeError(
            f"{name} are uint8; the evaluator takes float images in [-1, 1] "
            "(use gan_utils.data.scale_images(images, 'tanh'))"
        )
    x = x.astype(np.float32, copy=False)
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} contain NaN or infinite values")
    if x.min() < -1.001 or x.max() > 1.001:
        raise ValueError(
            f"{name} must be in [-1, 1] (a tanh generator's range), got [{x.min():.3f}, {x.max():.3f}]"
        )
    if _looks_unit_scaled(x):
        raise ValueError(
            f"{name} look like images in [0, 1] (no value below 0, background at 0: "
            f"{np.mean(x <= 0.1):.0%} of the pixels <= 0.1), but the evaluator takes [-1, 1] images with a "
            "background of -1; rescale them with 2 * x - 1, or load real digits with load_mnist(scale='tanh')"
        )
    return x


def _check_labels(labels, n) -> np.ndarray:
    """The requested labels of ``n`` images: integers of shape (n,) in 0..9."""
    labels = np.asarray(labels)
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(
            f"labels must be integers (the digit requested for each image), got dtype {labels.dtype}; "
            "pass e.g. labels.astype(np.int32)"
        )
    if labels.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), one digit per image, got {labels.shape}")
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(f"labels must be in 0..9, got range {labels.min()}..{labels.max()}")
    return labels


def _check_fd_sample_size(n, name="images"):
    """Refuse fewer images than features (singular covariance), warn below ``MIN_STABLE_FD_SAMPLES``."""
    if n <= FEATURE_DIM:
        raise ValueError(
            f"{name}: the Frechet distance needs more images than the evaluator's {FEATURE_DIM} features, got "
            f"{n}; pass at least {MIN_STABLE_FD_SAMPLES} images (use predict(images) for class predictions alone)"
        )
    if n < MIN_STABLE_FD_SAMPLES:
        warnings.warn(
            f"Frechet distance from only {n} images is biased upwards (real digits score about "
            f"{2000 / n + 0.6:.1f} at this N, 0.6 with 60000); use at least {MIN_STABLE_FD_SAMPLES} images, and "
            "compare scores only between equal numbers of images",
            SmallSampleWarning,
            stacklevel=3,
        )


class MnistEvaluator:
    """Scores MNIST-like images with the project's pretrained classifier.

    All methods take float images in [-1, 1], shape (N, 28, 28) or (N, 28, 28, 1); images in [0, 1]
    (``load_mnist(scale="unit")``) are refused, rescale them with ``2 * x - 1``. The Frechet distance needs
    more than ``FEATURE_DIM`` (128) images and warns (``SmallSampleWarning``) below ``MIN_STABLE_FD_SAMPLES``
    (2000), where it is biased upwards.
    """

    def __init__(self, weights_path=None, batch_size=500):
        import keras

        weights_path = Path(weights_path) if weights_path else DATA_DIR / EVALUATOR_WEIGHTS
        if not weights_path.exists():
            raise FileNotFoundError(
                f"evaluator weights {weights_path} are missing; restore them with "
                f"`git checkout -- data/{EVALUATOR_WEIGHTS}` or retrain with "
                "`python scripts/train_evaluator.py`"
            )
        info_path = weights_path.with_name(EVALUATOR_INFO)
        self.info = json.loads(info_path.read_text()) if info_path.exists() else {}
        expected = self.info.get("weights_sha256")
        self.weights_path, self.weights_sha256 = weights_path, sha256_of(weights_path)
        if expected and self.weights_sha256 != expected:
            raise RuntimeError(
                f"{weights_path} does not match the sha256 recorded in {info_path.name}; restore it "
                f"with `git checkout -- data/{EVALUATOR_WEIGHTS}`"
            )
        self.model = build_evaluator()
        self.model.load_weights(weights_path)
        self._both = keras.Model(
            self.model.inputs, [self.model.get_layer(FEATURE_LAYER).output, self.model.outputs[0]]
        )
        self.batch_size = int(batch_size)
        self._reference = {}

    # -- raw outputs
    def features_and_probs(self, images):
        """(features (N, 128), class probabilities (N, 10)), both float32."""
        feats, probs = predict_in_batches(self._both, _check_images(images), batch_size=self.batch_size)
        return feats, probs

    def predict(self, images):
        """Predicted classes (N,) int and their probabilities (N,)."""
        _, probs = self.features_and_probs(images)
        return probs.argmax(axis=1), probs.max(axis=1)

    def reference_stats(self, split="test"):
        """Feature mean and covariance of real MNIST images: from ``EVALUATOR_REFERENCE`` when it was computed
        with these weights and the project's data/mnist.npz, else computed (once per evaluator)."""
        if split not in self._reference:
            self._reference[split] = self._stored_reference(split) or self.compute_reference_stats(split)
        return self._reference[split]

    def compute_reference_stats(self, split="test"):
        """Feature mean and covariance of every image of an MNIST split, computed now."""
        x, _ = load_mnist(split=split)
        return feature_stats(self.features_and_probs(x)[0])

    def _stored_reference(self, split):
        path = self.weights_path.with_name(EVALUATOR_REFERENCE)
        if not path.exists():
            return None
        with np.load(path) as stored:
            if (str(stored["weights_sha256"]) != self.weights_sha256 or str(stored["mnist_sha256"]) != MNIST_SHA256
                    or f"mean_{split}" not in stored):
                return None
            return stored[f"mean_{split}"], stored[f"cov_{split}"]

    # -- scores
    def frechet_distance(self, images, reference="test") -> float:
        """Frechet distance between the images' features and real MNIST (``reference`` split)."""
        x = _check_images(images)
        _check_fd_sample_size(len(x))
        feats, _ = self.features_and_probs(x)
        return frechet_distance(*feature_stats(feats), *self.reference_stats(reference))

    def evaluate(self, images, labels=None, reference="test", min_share=0.05) -> dict:
        """All scores of a set of generated images.

        Returns a dict with ``frechet`` (lower is better), ``coverage`` (classes holding at least
        ``min_share`` of the predicted labels, 0..10), ``class_hist`` (share per class),
        ``confidence`` (mean top-class probability), ``unsure`` (the share of images whose top-class
        probability is below ``UNSURE``, 0.9; real digits: about 1%) and, when the requested ``labels`` (N,) are
        given, ``cond_accuracy`` (share predicted as requested) and ``cond_accuracy_per_class``.

        ``labels`` must be integers (N,) in 0..9 (float labels raise ``TypeError``).
        """
        x = _check_images(images)
        if labels is not None:
            labels = _check_labels(labels, len(x))
        _check_fd_sample_size(len(x))
        feats, probs = self.features_and_probs(x)
        pred = probs.argmax(axis=1)
        hist = np.bincount(pred, minlength=NUM_CLASSES) / len(pred)
        out = {
            "n": int(len(pred)),
            "frechet": frechet_distance(*feature_stats(feats), *self.reference_stats(reference)),
            "coverage": int(np.sum(hist >= min_share)),
            "class_hist": hist,
            "confidence": float(probs.max(axis=1).mean()),
            "unsure": float(np.mean(probs.max(axis=1) < UNSURE)),
        }
        if labels is not None:
            hit = pred == labels
            out["cond_accuracy"] = float(hit.mean())
            out["cond_accuracy_per_class"] = np.array(
                [hit[labels == k].mean() if np.any(labels == k) else np.nan for k in range(NUM_CLASSES)]
            )
        return out


def write_reference_stats(evaluator=None, splits=("test", "train")):
    """Compute the reference statistics of ``splits`` with ``evaluator`` (default: the committed weights) and
    write them next to its weights as ``EVALUATOR_REFERENCE``, with the hashes they are valid for."""
    from .files import atomic_write

    evaluator = evaluator or MnistEvaluator()
    arrays = {"weights_sha256": np.array(evaluator.weights_sha256), "mnist_sha256": np.array(MNIST_SHA256)}
    for split in splits:
        mean, cov = evaluator.compute_reference_stats(split)
        arrays[f"mean_{split}"], arrays[f"cov_{split}"] = mean, cov
    return atomic_write(evaluator.weights_path.with_name(EVALUATOR_REFERENCE), lambda tmp: np.savez(tmp, **arrays))


def nearest_train_distance(images, train_images, chunk=256):
    """Euclidean pixel distance from each image to its nearest training image, and its index.

    Both in [-1, 1]; ``images`` (N, 28, 28[, 1]), ``train_images`` (M, 28, 28[, 1]).
    Returns (distances (N,), indices (N,)). Compare with the same for real test images: a
    generator that memorises shows distances far below that baseline.
    """
    a = np.asarray(images, dtype=np.float64).reshape(len(images), -1)
    b = np.asarray(train_images, dtype=np.float64).reshape(len(train_images), -1)
    b_sq = np.einsum("ij,ij->i", b, b)
    dist = np.empty(len(a), dtype=np.float32)
    idx = np.empty(len(a), dtype=np.int64)
    for i in range(0, len(a), chunk):
        part = a[i : i + chunk]
        d2 = np.einsum("ij,ij->i", part, part)[:, None] - 2.0 * part @ b.T + b_sq[None, :]
        j = d2.argmin(axis=1)
        idx[i : i + chunk] = j
        dist[i : i + chunk] = np.sqrt(np.maximum(d2[np.arange(len(part)), j], 0.0))
    return dist, idx
