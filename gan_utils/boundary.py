"""Where notebook 02's unsure digits come from: the borders between digits in an unconditional G's latent space
(``scripts/dcgan_boundary.py``, docs/dcgan_design.md).
"""

from __future__ import annotations

import numpy as np


def latent_class_changes(generate, evaluator, z, sigma=0.1, repeats=3, seed=0) -> dict:
    """How often a small nudge of a latent point changes the digit the evaluator sees.

    ``generate``: latent points (N, d) -> images in [-1, 1]; ``evaluator``: a ``MnistEvaluator`` (anything with its
    ``features_and_probs``); ``z``: float latent points (N, d); ``sigma``: the nudge's standard deviation per latent
    coordinate (a Gaussian z of size d has norm ~sqrt(d), so 0.1 moves a 100-d point by about 1% of its length);
    ``repeats``: nudged copies per point, drawn with ``seed``.

    Returns ``classes`` (N,) and ``confidence`` (N,) of G(z), ``top2`` (N,) the sum of its two largest class
    probabilities (near 1 for an image between two digits), and ``change`` (N,) the share of the nudged copies whose
    class differs from G(z)'s. An unconditional G maps one connected Gaussian onto ten separate digits, so some
    latent points sit on the borders between digits: there a nudge changes the digit, and the image is often
    between two.
    """
    z = np.asarray(z)
    if z.ndim != 2 or not np.issubdtype(z.dtype, np.floating) or len(z) == 0:
        raise ValueError(f"z must be a non-empty float array (N, latent_dim), got {z.dtype} {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ValueError("z holds NaN or inf: draw it from a Gaussian")
    if not (np.isscalar(sigma) and np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise ValueError(f"repeats must be a positive int, got {repeats!r}")
    z = z.astype(np.float32)
    _, probs = evaluator.features_and_probs(generate(z))
    classes, top = probs.argmax(axis=1), np.sort(probs, axis=1)
    rng = np.random.default_rng(seed)
    changed = np.zeros(len(z))
    for _ in range(repeats):
        nudged = z + np.float32(sigma) * rng.standard_normal(z.shape, dtype=np.float32)
        changed += evaluator.features_and_probs(generate(nudged))[1].argmax(axis=1) != classes
    return {"classes": classes, "confidence": top[:, -1], "top2": top[:, -1] + top[:, -2], "change": changed / repeats}
