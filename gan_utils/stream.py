"""Real batches for ``GAN.fit``: from an array, shuffled per epoch, or from a sampler function.

A stream owns what a checkpoint needs to continue an epoch where it stopped: the epoch's shuffled
order and the position in it (``state_dict`` / ``load_state_dict``).
"""

from __future__ import annotations

import numpy as np

from .checks import class_labels, positive_int, real_samples


class ArrayStream:
    """Batches of ``batch_size`` from ``data`` (N, ...) [and ``labels`` (N,)], in a new random order each epoch.

    The last incomplete batch of an epoch is dropped: every train step sees one fixed batch size, so the
    compiled steps are never retraced (a retrace can silently freeze D).
    """

    sampler = False

    def __init__(self, data, labels, batch_size, d_steps):
        self.data, self.labels, self.batch_size = data, labels, batch_size
        self.n_data = len(data)
        self.steps_per_epoch = (self.n_data // batch_size) // d_steps  # one generator step uses d_steps batches
        if self.steps_per_epoch == 0:
            raise ValueError(f"{self.n_data} samples give no full step of {d_steps} batches of {batch_size}")
        self.order, self.cursor = None, 0

    def total_steps(self, epochs, steps):
        """Generator steps of a fit given ``epochs`` or ``steps``."""
        if steps is not None:
            return positive_int(steps, "steps")
        return self.steps_per_epoch * positive_int(epochs, "epochs")

    def check(self, check_range):
        """Run ``check_range(samples, name)`` (the generator's output range) on the data, before training."""
        check_range(self.data, "data")

    def next_batch(self, rng):
        """(real samples, their labels or None); a new permutation from ``rng`` when the epoch is used up."""
        if self.order is None or self.cursor + self.batch_size > self.n_data:
            self.order, self.cursor = rng.permutation(self.n_data), 0
        idx = self.order[self.cursor : self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return self.data[idx], (None if self.labels is None else self.labels[idx])

    def end_epoch(self):
        """Reshuffle before the next batch."""
        self.order = None

    def state_dict(self):
        return {"order": self.order, "cursor": int(self.cursor)}

    def load_state_dict(self, state):
        self.order, self.cursor = state["order"], int(state["cursor"])


class SamplerStream:
    """Fresh batches ``sample(batch_size, rng)`` from a sampler function: no epochs, nothing to save."""

    sampler = True
    n_data = None
    steps_per_epoch = None

    def __init__(self, sample, batch_size, sample_shape):
        self.sample, self.batch_size, self.sample_shape = sample, batch_size, tuple(sample_shape)
        self.check_range = None

    def total_steps(self, epochs, steps):
        return positive_int(steps, "steps")

    def check(self, check_range):
        """Run ``check_range(samples, name)`` on the sampler's first batch (it draws from the fit's generator)."""
        self.check_range = check_range

    def next_batch(self, rng):
        """A fresh batch from the sampler, checked: shape (batch_size, *sample_shape), finite numbers."""
        batch = self.sample(self.batch_size, rng)
        try:
            batch = np.asarray(batch, dtype=np.float32)
        except (TypeError, ValueError) as error:
            raise TypeError(f"the data sampler returned {type(batch).__name__}, not an array of numbers: {error}") from None
        expected = (self.batch_size, *self.sample_shape)
        if batch.shape != expected:
            raise ValueError(f"the data sampler returned shape {batch.shape} for sample({self.batch_size}, rng); "
                             f"it must return {expected} to match the discriminator's input")
        if not np.isfinite(batch).all():
            raise ValueError("the data sampler returned NaN or infinite values")
        if self.check_range is not None:
            self.check_range(batch, "the data sampler's samples")
            self.check_range = None
        return batch, None

    def end_epoch(self):
        """A sampler has no epochs."""

    def state_dict(self):
        return {"order": None, "cursor": 0}

    def load_state_dict(self, state):
        """Nothing to restore: every batch is fresh."""


def make_stream(data, labels, batch_size, *, sample_shape, num_classes, d_steps, epochs, steps, each_epoch_hooks):
    """The stream for ``fit``'s arguments, after checking them; raises before anything trains."""
    if callable(data):
        if steps is None or epochs is not None:
            raise ValueError("data is a sampler function: pass steps=N (epochs has no meaning)")
        if num_classes is not None:
            raise ValueError("a conditional GAN needs data as an array with labels, not a sampler")
        if each_epoch_hooks:
            raise ValueError("each_epoch hooks need data as an array; use Hook(every=N) with a sampler")
        return SamplerStream(data, batch_size, sample_shape)
    data = real_samples(data, sample_shape, batch_size)
    labels = class_labels(labels, len(data), num_classes)
    if (epochs is None) == (steps is None):
        raise ValueError("give exactly one of epochs=N or steps=N")
    return ArrayStream(data, labels, batch_size, d_steps)
