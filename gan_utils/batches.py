"""Model inputs and batched inference, written once for every model the collection runs."""

from __future__ import annotations

import numpy as np


def model_inputs(x, labels=None):
    """What a model takes: ``x`` alone, or ``[x, labels]`` for a conditional model (``labels`` not None)."""
    return x if labels is None else [x, labels]


def predict_in_batches(model, x, labels=None, batch_size=1000):
    """``model.predict_on_batch`` over ``x`` (and ``labels``) in slices of ``batch_size``, in inference mode.

    Never ``model.predict()`` inside a loop: it sets up a whole prediction loop on each call. Returns one
    NumPy array (all rows concatenated), or a list of arrays for a model with several outputs.
    """
    parts = []
    for i in range(0, len(x), batch_size):
        part_labels = None if labels is None else labels[i : i + batch_size]
        parts.append(model.predict_on_batch(model_inputs(x[i : i + batch_size], part_labels)))
    if isinstance(parts[0], (list, tuple)):
        return [np.concatenate([np.asarray(p[k]) for p in parts]) for k in range(len(parts[0]))]
    return np.concatenate([np.asarray(p) for p in parts])
