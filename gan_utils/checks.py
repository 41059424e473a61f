"""Argument checks shared by the package: each raises before anything changes, with a message that says what to fix."""

from __future__ import annotations

import math

import numpy as np


def is_int(value) -> bool:
    """A Python or NumPy integer, not a bool."""
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def positive_int(value, name) -> int:
    """``value`` as an int if it is an integer > 0, else ValueError naming ``name``."""
    if not is_int(value) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def non_negative_int(value, name) -> int:
    """``value`` as an int if it is an integer >= 0, else ValueError naming ``name``."""
    if not is_int(value) or value < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    return int(value)


def as_number(value) -> float:
    """``value`` as a float, or NaN for anything that is not a real number (a bool, a string, None)."""
    if isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def non_negative_std(value, name) -> float:
    """A finite standard deviation >= 0, as a float."""
    number = float(value)
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a non-negative std, got {value}")
    return number


def one_of(value, choices, name):
    """``value`` if it is one of ``choices``, else ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def keras_model(value, name):
    """``value`` if it is a ``keras.Model``, else TypeError."""
    import keras

    if not isinstance(value, keras.Model):
        raise TypeError(f"{name} must be a keras.Model, got {type(value).__name__}")
    return value


def probability_target(value, name):
    """A binary cross-entropy target: a float in [0, 1], or a (low, high) range inside [0, 1] drawn per sample."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not 0.0 <= float(value[0]) <= float(value[1]) <= 1.0:
            raise ValueError(f"{name} range must be (low, high) with 0 <= low <= high <= 1, got {value!r}")
        return (float(value[0]), float(value[1]))
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1] (a target for binary cross-entropy), got {value}")
    return value


def class_labels(labels, n, num_classes, name="labels"):
    """Class labels for a batch of ``n``: ints (n,) in 0..num_classes-1, as int32; None for an unconditional GAN."""
    if num_classes is None:
        if labels is not None:
            raise ValueError(f"{name} were given but this GAN is unconditional (num_classes=None)")
        return None
    if labels is None:
        raise ValueError(f"this GAN is conditional: pass {name}, ints in 0..{num_classes - 1}")
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), got {labels.shape}")
    if not np.issubdtype(labels.dtype, np.integer):
        raise TypeError(f"{name} must be integers, got dtype {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"{name} must be in 0..{num_classes - 1}, got {labels.min()}..{labels.max()}")
    return labels.astype(np.int32)


def real_samples(data, sample_shape, batch_size):
    """Real training samples for ``fit``: a float array (N, *sample_shape) with N >= batch_size, as float32."""
    data = np.asarray(data)
    if not np.issubdtype(data.dtype, np.floating):
        raise TypeError(f"data must be float32 samples (images scaled to [-1, 1]), got dtype {data.dtype}")
    data = data.astype(np.float32, copy=False)
    if data.shape[1:] != sample_shape:
        raise ValueError(
            f"data must have shape (N, {', '.join(map(str, sample_shape))}) to match the "
            f"discriminator's input, got {data.shape}"
        )
    if not np.isfinite(data).all():
        raise ValueError("data contain NaN or infinite values; remove or replace them before training")
    if batch_size > len(data):
        raise ValueError(f"batch_size={batch_size} is larger than the data ({len(data)} samples)")
    return data


class SampleError(ValueError):
    """Bad arguments for sampling, or an unusable model file; the message says which and why."""


def seed_value(seed):
    """The trainer's seed: an integer in [0, 2**32) (Keras seeds its random layers with it)."""
    value = non_negative_int(seed, "seed")
    if value >= 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32) (Keras seeds its random layers with it), got {seed}")
    return value
