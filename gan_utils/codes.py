"""What InfoGAN's codes learned (notebook 06, ``scripts/infogan_runs.py``): how well the categorical code names
the digits, and the two properties its continuous codes are read against, ink and slant.
"""

from __future__ import annotations

import numpy as np

from .data import grey_images
from .metrics import NUM_CLASSES


def matched_accuracy(codes, classes, num_codes=NUM_CLASSES, num_classes=NUM_CLASSES) -> dict:
    """How well unsupervised codes name classes, after the best one-to-one matching (Hungarian method).

    ``codes``: ints (N,) in 0..num_codes-1 (InfoGAN's categorical code, or Q's prediction); ``classes``: ints
    (N,) in 0..num_classes-1 (the evaluator's digit, or the true label). The codes carry no names, so each
    code is matched to one class so that the most samples agree (``scipy.optimize.linear_sum_assignment``
    on the contingency table; num_codes <= num_classes).

    Returns ``accuracy`` (share of samples whose code's matched class is their class), ``mapping`` (num_codes,)
    the class matched to each code, ``per_code`` (num_codes,) the share of each code's samples in its matched
    class (NaN for a code that never occurs), and ``confusion`` (num_codes, num_classes) counts.
    """
    from scipy.optimize import linear_sum_assignment

    codes, classes = np.asarray(codes), np.asarray(classes)
    for values, name, k in ((codes, "codes", num_codes), (classes, "classes", num_classes)):
        if values.ndim != 1 or not np.issubdtype(values.dtype, np.integer):
            raise TypeError(f"{name} must be a 1-D array of integers, got shape {values.shape} {values.dtype}")
        if len(values) and (values.min() < 0 or values.max() >= k):
            raise ValueError(f"{name} must lie in 0..{k - 1}, got {values.min()}..{values.max()}")
    if len(codes) != len(classes) or not len(codes):
        raise ValueError(f"codes and classes must be two non-empty arrays of one length, got {len(codes)} and {len(classes)}")
    if num_codes > num_classes:
        raise ValueError(f"num_codes ({num_codes}) must not exceed num_classes ({num_classes}) for a one-to-one matching")
    confusion = np.zeros((num_codes, num_classes), np.int64)
    np.add.at(confusion, (codes, classes), 1)
    rows, cols = linear_sum_assignment(-confusion)
    mapping = np.empty(num_codes, np.int64)
    mapping[rows] = cols
    per_code_total = confusion.sum(axis=1)
    hits = confusion[np.arange(num_codes), mapping]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_code = np.where(per_code_total > 0, hits / np.maximum(per_code_total, 1), np.nan)
    return {"accuracy": float(hits.sum() / len(codes)), "mapping": mapping, "per_code": per_code,
            "confusion": confusion}


def _ink(images) -> np.ndarray:
    """Images in [-1, 1] as ink in [0, 1] (N, H, W)."""
    x = grey_images(images, np.float64)
    return np.clip((x + 1.0) / 2.0, 0.0, 1.0)


def ink_mass(images) -> np.ndarray:
    """The ink of each image (N,): the sum of its pixels mapped from [-1, 1] to [0, 1] (thicker strokes, more ink)."""
    return _ink(images).sum(axis=(1, 2))


def slant_degrees(images) -> np.ndarray:
    """Each image's slant (N,) in degrees from its second moments: positive when the top leans right.

    With the ink as weights, rows r (down) and columns c (right): the shear -cov(r, c) / var(r) is how far
    the column moves per row upwards (the deskewing rule of MNIST preprocessing); the slant is its arctangent.
    """
    ink = _ink(images)
    n, h, w = ink.shape
    mass = ink.sum(axis=(1, 2))
    if np.any(mass <= 0):
        raise ValueError("an image without ink has no slant")
    r, c = np.arange(h, dtype=np.float64)[:, None], np.arange(w, dtype=np.float64)[None, :]
    mr = (ink * r).sum(axis=(1, 2)) / mass
    mc = (ink * c).sum(axis=(1, 2)) / mass
    var_r = (ink * (r - mr[:, None, None]) ** 2).sum(axis=(1, 2)) / mass
    cov = (ink * (r - mr[:, None, None]) * (c - mc[:, None, None])).sum(axis=(1, 2)) / mass
    return np.degrees(np.arctan(-cov / var_r))
