"""Anomaly detection with a GAN trained on normal data only (notebook 08), and the baselines it is scored against.

* the one-class protocol on MNIST: one digit is the anomaly, the other nine are normal (``one_class_split``);
* the ranking measures: ``auroc``, ``auprc`` and ``roc_curve``, written out here (no scikit-learn);
* AnoGAN's latent search (Schlegl et al. 2017): ``LatentSearch`` finds, for each test image, the z whose G(z)
  is closest to it, with a Keras model whose only trainable weight is z, optimised by ``train_on_batch``; the
  anomaly score is the residual plus a weighted distance in D's intermediate features;
* the nearest-neighbour baseline: ``class_nearest_distances`` and ``knn_score``.

Every score here is "higher = more anomalous".
"""

from __future__ import annotations

import time

import keras
import numpy as np
from keras import ops
from scipy import stats

from .metrics import NUM_CLASSES, _check_images


def check_held_out(digit) -> int:
    """The held-out (anomalous) class as an int in 0..9, or a ValueError that says what is allowed."""
    if isinstance(digit, (bool, np.bool_)) or not isinstance(digit, (int, np.integer)):
        raise ValueError(f"the held-out class must be an integer digit 0..9, got {digit!r}")
    if not 0 <= int(digit) < NUM_CLASSES:
        raise ValueError(f"the held-out class must be a digit 0..9, got {digit}")
    return int(digit)


def check_images(images, name="images") -> np.ndarray:
    """Float images of shape (N, 28, 28, 1) in [-1, 1] (what G draws), or a clear error before any work."""
    return _check_images(images, name)


def one_class_split(x_train, y_train, x_test, y_test, held_out) -> dict:
    """The protocol of Zenati et al. 2018 and GANomaly on MNIST's own split: train on the nine normal digits.

    Returns ``normal_train`` (the training images of every class but ``held_out``), ``test`` (the whole test set)
    and ``is_anomaly`` (1 where the test image is the held-out digit).
    """
    held_out = check_held_out(held_out)
    x_train, x_test = check_images(x_train, "x_train"), check_images(x_test, "x_test")
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    if y_train.shape != (len(x_train),) or y_test.shape != (len(x_test),):
        raise ValueError("y_train and y_test must hold one label per image")
    return {"normal_train": x_train[y_train != held_out], "test": x_test,
            "is_anomaly": (y_test == held_out).astype(np.int8)}


# ----------------------------------------------------------------------------- ranking measures
def _check_ranking(is_anomaly, scores):
    labels = np.asarray(is_anomaly)
    scores = np.asarray(scores, dtype=np.float64)
    if labels.ndim != 1 or scores.shape != labels.shape:
        raise ValueError(f"is_anomaly and scores must be 1-D and of equal length, got {labels.shape} and {scores.shape}")
    if not np.isin(labels, (0, 1)).all():
        raise ValueError("is_anomaly must hold only 0 (normal) and 1 (anomaly)")
    if labels.min() == labels.max():
        raise ValueError("is_anomaly must contain both normal (0) and anomalous (1) examples")
    if not np.all(np.isfinite(scores)):
        raise ValueError(f"scores contain {np.sum(~np.isfinite(scores))} NaN or infinite values")
    return labels.astype(bool), scores


def auroc(is_anomaly, scores) -> float:
    """Area under the ROC curve: the chance that a random anomaly scores above a random normal example.

    Ties count one half (the Mann-Whitney statistic). 0.5 is a score that knows nothing, 1.0 a perfect ranking.
    """
    labels, scores = _check_ranking(is_anomaly, scores)
    ranks = stats.rankdata(scores)
    n_pos, n_neg = labels.sum(), (~labels).sum()
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _curve_points(labels, scores):
    """True and false positives at each distinct threshold, from the highest score down."""
    order = np.argsort(-scores, kind="mergesort")
    scores, labels = scores[order], labels[order]
    last_of_tie = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    true_pos = np.cumsum(labels)[last_of_tie]
    false_pos = last_of_tie + 1 - true_pos
    return true_pos, false_pos, scores[last_of_tie]


def roc_curve(is_anomaly, scores):
    """(false positive rates, true positive rates, thresholds), starting at (0, 0)."""
    labels, scores = _check_ranking(is_anomaly, scores)
    true_pos, false_pos, thresholds = _curve_points(labels, scores)
    return (np.r_[0.0, false_pos / (~labels).sum()], np.r_[0.0, true_pos / labels.sum()],
            np.r_[np.inf, thresholds])


def auprc(is_anomaly, scores) -> float:
    """Area under the precision-recall curve as average precision: sum over thresholds of (recall gain) x precision.

    A score that knows nothing gets the share of anomalies (about 0.1 here), not 0.5.
    """
    labels, scores = _check_ranking(is_anomaly, scores)
    true_pos, false_pos, _ = _curve_points(labels, scores)
    precision = true_pos / (true_pos + false_pos)
    recall_gain = np.diff(np.r_[0, true_pos]) / labels.sum()
    return float(np.sum(recall_gain * precision))


# ----------------------------------------------------------------------------- nearest neighbours
def class_nearest_distances(images, train_images, train_labels, k=5, chunk=500) -> np.ndarray:
    """Euclidean pixel distances from each image to its ``k`` nearest training images of each class.

    Returns (N, 10, k), sorted along the last axis. One pass over the training set serves every choice of
    held-out digit: ``knn_score`` keeps the nine normal classes.
    """
    a = check_images(images).reshape(len(images), -1).astype(np.float32)
    b = check_images(train_images, "train_images").reshape(len(train_images), -1).astype(np.float32)
    train_labels = np.asarray(train_labels)
    if train_labels.shape != (len(b),):
        raise ValueError("train_labels must hold one label per training image")
    counts = np.bincount(train_labels, minlength=NUM_CLASSES)
    if counts.min() < k:
        raise ValueError(f"every class needs at least k={k} training images, the smallest has {counts.min()}")
    b_sq = np.einsum("ij,ij->i", b, b)
    out = np.empty((len(a), NUM_CLASSES, k), dtype=np.float32)
    for i in range(0, len(a), chunk):
        part = a[i:i + chunk]
        d2 = np.einsum("ij,ij->i", part, part)[:, None] - 2.0 * part @ b.T + b_sq[None, :]
        for c in range(NUM_CLASSES):
            d2_c = d2[:, train_labels == c]
            out[i:i + chunk, c] = np.sort(np.partition(d2_c, k - 1, axis=1)[:, :k], axis=1)
    return np.sqrt(np.maximum(out, 0.0))


def knn_score(class_distances, held_out) -> np.ndarray:
    """Mean distance to the k nearest *normal* training images (every class but ``held_out``)."""
    held_out = check_held_out(held_out)
    d = np.asarray(class_distances)
    k = d.shape[2]
    normal = np.delete(d, held_out, axis=1).reshape(len(d), -1)
    return np.sort(normal, axis=1)[:, :k].mean(axis=1)


# ----------------------------------------------------------------------------- AnoGAN's latent search
@keras.saving.register_keras_serializable(package="gan_utils")
class LatentTable(keras.layers.Layer):
    """One trainable latent vector per row of the batch: the only weight a latent search may move."""

    def __init__(self, rows, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.rows, self.latent_dim = int(rows), int(latent_dim)
        self.z = self.add_weight(shape=(self.rows, self.latent_dim), initializer="zeros", name="z")

    def call(self, row_marker):
        return ops.zeros_like(row_marker[:, :1]) + self.z   # (rows, latent_dim); the input only carries the batch

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.latent_dim)

    def get_config(self):
        return {**super().get_config(), "rows": self.rows, "latent_dim": self.latent_dim}


class _InferenceMode(keras.layers.Layer):
    """Calls a frozen model in inference mode (BatchNorm's moving statistics, no Dropout) whatever the outer call."""

    def __init__(self, model, **kwargs):
        super().__init__(**kwargs)
        self.inner = model

    def call(self, x):
        return self.inner(x, training=False)


def _frozen_copy(model):
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    copy.trainable = False
    return copy


class LatentSearch:
    """AnoGAN's search (Schlegl et al. 2017): for each test image x, the z that makes G(z) closest to x.

    The search runs ``train_on_batch`` on a Keras model whose only trainable weight is a table of z, one row per
    image, so it needs no backend-specific gradient code. It minimises, per image,

        (1 - feature_weight) * mean |x - G(z)|  +  feature_weight * mean |f(x) - f(G(z))|,

    f being D's intermediate layer (``features``: a model from images to those features, or None for the
    residual alone); the same sum at the end is the anomaly score. G and f are frozen **copies** run in inference
    mode: the caller's models are neither changed nor frozen. Images are searched ``batch_size`` at a time,
    each batch from z ~ N(0, 1) (seeded) with Adam's state reset.
    """

    def __init__(self, generator, features=None, *, feature_weight=0.1, learning_rate=0.05, batch_size=500):
        if not isinstance(generator, keras.Model) or len(generator.inputs) != 1:
            raise ValueError("generator must be a Keras model with one input (z); a conditional G is not supported")
        if tuple(generator.output_shape[1:]) != (28, 28, 1):
            raise ValueError(f"generator must draw (28, 28, 1) images, its output shape is {generator.output_shape}")
        if features is not None and (not isinstance(features, keras.Model)
                                     or tuple(features.input_shape[1:]) != (28, 28, 1)):
            raise ValueError("features must be a Keras model taking (28, 28, 1) images (D's intermediate layer), or None")
        if not 0.0 <= float(feature_weight) <= 1.0:   # NaN fails too
            raise ValueError(f"feature_weight must be in [0, 1], got {feature_weight}")
        if not (np.isfinite(float(learning_rate)) and float(learning_rate) > 0):
            raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate}")
        if int(batch_size) < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.latent_dim = int(generator.input_shape[-1])
        self.batch_size = int(batch_size)
        self.feature_weight = float(feature_weight) if features is not None else 0.0
        self.generator, self.features = _frozen_copy(generator), (_frozen_copy(features) if features is not None else None)
        marker = keras.Input((1,), name="row_marker")
        self.table = LatentTable(self.batch_size, self.latent_dim, name="latent_table")
        image = _InferenceMode(self.generator, name="frozen_generator")(self.table(marker))
        outputs = [image]
        if self.features is not None:
            outputs.append(_InferenceMode(self.features, name="frozen_features")(image))
        self.model = keras.Model(marker, outputs, name="latent_search")
        self.model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                           loss=["mae"] * len(outputs),
                           loss_weights=[1.0 - self.feature_weight, self.feature_weight][:len(outputs)])
        self._marker = np.zeros((self.batch_size, 1), np.float32)
        self.model.optimizer.build(self.model.trainable_variables)
        self._fresh_optimizer = [np.array(v.numpy()) for v in self.model.optimizer.variables]   # step 0, learning rate

    def _reset(self, z):
        self.table.z.assign(z)
        for v, fresh in zip(self.model.optimizer.variables, self._fresh_optimizer):
            v.assign(fresh)

    def _targets(self, x):
        if self.features is None:
            return [x]
        return [x, np.asarray(self.features.predict_on_batch(x))]

    def _finish_batch(self, x, targets, m):
        """Reconstruction, residual, feature distance and score of the first ``m`` rows, at the current z."""
        result = self.model.predict_on_batch(self._marker)
        result = result if isinstance(result, (list, tuple)) else [result]
        recon = np.asarray(result[0])[:m]
        residual = np.abs(x[:m] - recon).reshape(m, -1).mean(axis=1)
        feature_distance = np.zeros(m)
        if self.features is not None:
            feature_distance = np.abs(targets[1][:m] - np.asarray(result[1])[:m]).reshape(m, -1).mean(axis=1)
        score = (1.0 - self.feature_weight) * residual + self.feature_weight * feature_distance
        return recon, residual, feature_distance, score

    def search(self, images, steps=100, seed=0, record_at=()) -> dict:
        """Search each image's z for ``steps`` Adam steps (the search's only trainable weight).

        Returns ``score`` (N,), ``residual`` (N,), ``feature_distance`` (N,), ``z`` (N, latent_dim),
        ``reconstruction`` (N, 28, 28, 1), ``seconds`` and ``seconds_per_image``; with ``record_at`` (step counts
        up to ``steps``) also ``scores_at``: {step: the scores after that many steps}, at no extra search cost.
        """
        x_all = check_images(images)
        if isinstance(steps, bool) or int(steps) != steps or steps < 1:
            raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
        record_at = sorted({int(s) for s in record_at})
        if record_at and not 1 <= record_at[0] <= record_at[-1] <= steps:
            raise ValueError(f"record_at must hold step counts in 1..{steps}, got {record_at}")
        rng = np.random.default_rng(seed)
        n, bs = len(x_all), self.batch_size
        out = {"z": np.empty((n, self.latent_dim), np.float32), "reconstruction": np.empty_like(x_all),
               "residual": np.empty(n), "feature_distance": np.empty(n), "score": np.empty(n)}
        scores_at = {s: np.empty(n) for s in record_at}
        start = time.perf_counter()
        for i in range(0, n, bs):
            x = x_all[i:i + bs]
            m = len(x)
            if m < bs:   # pad the last batch: rows do not interact, the copies are dropped
                x = np.concatenate([x, np.repeat(x[-1:], bs - m, axis=0)])
            self._reset(rng.standard_normal((bs, self.latent_dim)).astype(np.float32))
            targets = self._targets(x)
            for step in range(1, int(steps) + 1):
                self.model.train_on_batch(self._marker, targets)
                if step in scores_at and step != steps:
                    scores_at[step][i:i + m] = self._finish_batch(x, targets, m)[3]
            recon, residual, feature_distance, score = self._finish_batch(x, targets, m)
            out["z"][i:i + m] = np.asarray(self.table.z.numpy())[:m]
            out["reconstruction"][i:i + m], out["residual"][i:i + m] = recon, residual
            out["feature_distance"][i:i + m], out["score"][i:i + m] = feature_distance, score
            if steps in scores_at:
                scores_at[steps][i:i + m] = score
        out["seconds"] = time.perf_counter() - start
        out["seconds_per_image"] = out["seconds"] / n
        if record_at:
            out["scores_at"] = scores_at
        return out
