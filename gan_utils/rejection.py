"""Discriminator rejection sampling (Azadi et al. 2019): which of a trained G's samples to keep, from D's outputs.

Notebook 02 (section "D as a critic of G's samples") and ``scripts/dcgan_boundary.py --drs`` use it on 02's
stored G and D.
"""

from __future__ import annotations

import numpy as np

from .checks import SampleError


def discriminator_rejection(d_probs, accept=None, real_target=1.0, seed=0, eps=1e-6):
    """Which of G's samples to keep, from D's outputs: discriminator rejection sampling (Azadi et al. 2019).

    A D trained to output ``real_target`` (t; one-sided label smoothing makes it 0.9) for real images and 0 for
    G's is best at ``D(x) = t p_data(x) / (p_data(x) + p_G(x))``, so ``p_data / p_G = D / (t - D)``: D estimates
    how much more often real data than G lands near ``x``. Keeping each sample with probability
    ``r(x) / max r`` (rejection sampling) then turns G's distribution into the data's, as far as D is right.
    With ``accept=None`` that is the rule, and few samples survive; ``accept`` in (0, 1] keeps that share on
    average instead, by Azadi et al.'s shifted rule: keep with probability ``sigmoid(F(x) - gamma)``,
    ``F = d - log(1 - exp(d - eps))``, ``d = log r(x) - max log r`` (``sigmoid(F)`` is ``r / max r``), ``gamma``
    solved for so that the probabilities average ``accept``. Unlike a hard cut at D's top share, every sample
    keeps a chance, so a digit that D rates a little less real is thinned, not dropped.

    Args:
        d_probs: D's outputs for G's samples, probabilities in (0, 1), shape (n,) or (n, 1); the maximum over
            them stands for ``max r``, so pass a pool of a few thousand at least.
        accept: the share to keep on average, in (0, 1]; None: plain rejection sampling (gamma = 0).
        real_target: the target D was trained towards for real images (1.0, or 0.9 with label smoothing).
            Outputs at or above it (D cannot be exactly optimal) count as the largest ratio seen below it.
        seed: seed of the NumPy generator for the accept/reject draws.

    Returns a boolean mask over the samples: True = keep. Raises ``SampleError`` for bad input, before drawing.
    """
    d = np.asarray(d_probs, dtype=np.float64)
    if d.ndim == 2 and d.shape[1] == 1:
        d = d[:, 0]
    if d.ndim != 1 or d.size < 2:
        raise SampleError(f"d_probs must be D's outputs for at least 2 samples, shape (n,) or (n, 1); got shape {d.shape}")
    if not np.all(np.isfinite(d)) or d.min() <= 0 or d.max() >= 1:
        raise SampleError("d_probs must be finite probabilities strictly between 0 and 1 (D's sigmoid outputs); "
                          f"got values in [{np.nanmin(d):.3g}, {np.nanmax(d):.3g}]{' and NaN or inf' if not np.all(np.isfinite(d)) else ''}")
    if isinstance(real_target, bool) or not isinstance(real_target, (int, float)) or not 0 < real_target <= 1:
        raise SampleError(f"real_target must be D's target for real images, in (0, 1]; got {real_target!r}")
    if accept is not None and (isinstance(accept, bool) or not isinstance(accept, (int, float)) or not 0 < accept <= 1):
        raise SampleError(f"accept must be the share of samples to keep, in (0, 1], or None; got {accept!r}")
    below = d < real_target
    if not below.any():
        raise SampleError(f"every output of D is at or above real_target={real_target}: pass the target D was trained "
                          "towards for real images (0.9 with one-sided label smoothing)")
    log_ratio = np.log(d) - np.log(np.where(below, real_target - d, 1.0))  # log p_data / p_G as D estimates it
    log_ratio = np.where(below, log_ratio, log_ratio[below].max())
    delta = log_ratio - log_ratio.max()
    f = delta - np.log1p(-np.exp(delta - eps))
    gamma = 0.0
    if accept is not None:  # the mean of sigmoid(f - gamma) falls as gamma rises: bisection
        low, high = -60.0, 60.0
        for _ in range(100):
            gamma = (low + high) / 2
            low, high = (gamma, high) if np.mean(_sigmoid(f - gamma)) > accept else (low, gamma)
    return np.random.default_rng(seed).uniform(size=d.shape) < _sigmoid(f - gamma)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))  # no overflow for large |x|
