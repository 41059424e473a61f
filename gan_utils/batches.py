"""Model inputs and batched inference, written once for every model the collection runs."""

from __future__ import annotations

import numpy as np


def model_inputs(x, labels=None):
    """What a model takes: ``x`` alone, or ``[x, labels]`` for a conditional model (``labels`` not None)."""
    return x if labels is None else [x, labels]


def _rows(x, part):
    """Rows ``part`` of ``x``: one array, or each array of a list or tuple (a model with several inputs)."""
    return [a[part] for a in x] if isinstance(x, (list, tuple)) else x[part]


def batched_predictions(model, x, labels=None, batch_size=1000):
    """``(rows, output)`` for each slice of ``batch_size`` rows: ``model.predict_on_batch`` (inference mode).

    ``x`` is one array, or a list or tuple of arrays of one length for a model with several inputs (InfoGAN's
    ``[noise, codes, continuous]``); ``labels`` (a conditional model's) are sliced with it. ``rows`` is the
    ``slice`` of the inputs an output belongs to: a caller that stores each batch as it comes (``sample`` writes
    uint8 images) never holds every float output at once.
    """
    n = len(x[0]) if isinstance(x, (list, tuple)) else len(x)
    for i in range(0, n, batch_size):
        rows = slice(i, i + batch_size)
        yield rows, model.predict_on_batch(model_inputs(_rows(x, rows), None if labels is None else labels[rows]))


def predict_in_batches(model, x, labels=None, batch_size=1000):
    """``model.predict_on_batch`` over ``x`` (and ``labels``) in slices of ``batch_size``, in inference mode.

    ``x``: one array, or a list or tuple of arrays for a model with several inputs (see ``batched_predictions``).
    Never ``model.predict()`` inside a loop: it sets up a whole prediction loop on each call. Returns one
    NumPy array (all rows concatenated), or a list of arrays for a model with several outputs.
    """
    parts = [output for _, output in batched_predictions(model, x, labels, batch_size)]
    if isinstance(parts[0], (list, tuple)):
        return [np.concatenate([np.asarray(p[k]) for p in parts]) for k in range(len(parts[0]))]
    return np.concatenate([np.asarray(p) for p in parts])
