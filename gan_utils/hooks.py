"""Hooks that ``GAN.fit`` calls during training, and ``WeightAverage``, the averaged generator."""

from __future__ import annotations

import dataclasses
from typing import Callable, Optional

import numpy as np

from .checks import is_int, keras_model, non_negative_int


@dataclasses.dataclass
class Hook:
    """Calls ``fn(gan)`` during training: every ``every`` generator steps and/or after each epoch.

    ``at_start=True`` also calls it once before the first step of ``fit`` (step 0 frames); a fit
    resumed from a checkpoint does not call it again. Inside ``fn``, ``gan.step`` and ``gan.epoch``
    say where training is; setting ``gan.stop_training = True`` ends ``fit`` after the current step.

    ``state``: an object with ``state_dict()`` (a dict of name -> NumPy array or JSON value) and
    ``load_state_dict(state)``, saved in checkpoints and given back on resume (``Monitor`` and
    ``WeightAverage`` hooks set it to themselves).
    """

    fn: Callable
    every: Optional[int] = None
    each_epoch: bool = False
    at_start: bool = False
    state: Optional[object] = None

    def __post_init__(self):
        if not callable(self.fn):
            raise TypeError(f"Hook fn must be callable, got {self.fn!r}")
        if self.state is not None and not (
            callable(getattr(self.state, "state_dict", None)) and callable(getattr(self.state, "load_state_dict", None))
        ):
            raise TypeError(f"Hook state must have state_dict() and load_state_dict(), got {type(self.state).__name__}")
        if self.every is not None and (not is_int(self.every) or self.every <= 0):
            raise ValueError(f"Hook every must be a positive integer or None, got {self.every!r}")
        if self.every is None and not self.each_epoch and not self.at_start:
            raise ValueError("a Hook needs every=N steps, each_epoch=True or at_start=True")


def check_hooks(hooks) -> list:
    """``hooks`` as a list, every item a ``Hook`` (TypeError otherwise)."""
    hooks = list(hooks)
    for h in hooks:
        if not isinstance(h, Hook):
            raise TypeError(f"hooks must be gan_utils.training.Hook objects, got {type(h).__name__}")
    return hooks


def stateful(hooks) -> list:
    """The hooks whose state a checkpoint saves, in order."""
    return [h for h in hooks if h.state is not None]


class WeightAverage:
    """Average of a model's weights over the generator steps after ``start_step``.

    GAN training tends to circle the equilibrium; the average of G's recent weights sits closer to
    its centre than any single iterate. Pass ``average.hook()`` to ``GAN.fit`` and, after training,
    ``model.set_weights(average.averaged_weights())``.

    ``decay=None`` (default): the running (Polyak) mean of every update since ``start_step``.
    ``decay`` in (0, 1): an exponential moving average, ``mean <- decay * mean + (1 - decay) * w``
    per update, which remembers about ``1 / (1 - decay)`` updates (with ``hook(every=N)``, that many
    times N generator steps). Every weight is averaged, BatchNorm's moving statistics included.
    """

    def __init__(self, model, start_step=0, decay=None):
        self.model = keras_model(model, "model")
        self.start_step = non_negative_int(start_step, "start_step")
        if decay is not None and (isinstance(decay, bool) or not isinstance(decay, (int, float, np.floating))
                                  or not 0.0 < float(decay) < 1.0):
            raise ValueError(f"decay must be None (a running mean) or a float in (0, 1), got {decay!r}")
        self.decay = None if decay is None else float(decay)
        self.count, self._mean = 0, None

    def update(self, gan):
        """Add the model's current weights to the average (called by the hook after each step)."""
        if gan.step <= self.start_step:
            return
        weights = self.model.get_weights()
        self.count += 1
        if self._mean is None:
            self._mean = [w.astype(np.float64) for w in weights]
            return
        rate = None if self.decay is None else 1.0 - self.decay
        for m, w in zip(self._mean, weights):
            m += (w - m) / self.count if rate is None else rate * (w - m)

    def hook(self, every=1):
        """A ``Hook`` that updates the average every ``every`` generator steps (saved in checkpoints)."""
        return Hook(self.update, every=every, state=self)

    def state_dict(self):
        """The running average for a checkpoint: ``count`` and the float64 means."""
        state = {"count": self.count, "start_step": self.start_step, "decay": -1.0 if self.decay is None else self.decay}
        for i, m in enumerate(self._mean or []):
            state[f"mean_{i:04d}"] = m
        return state

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned."""
        self.count, self.start_step = int(state["count"]), int(state["start_step"])
        decay = float(state.get("decay", -1.0))
        self.decay = None if decay < 0 else decay
        means = [state[k] for k in sorted(state) if k.startswith("mean_")]
        self._mean = [np.array(m, dtype=np.float64) for m in means] or None

    def averaged_weights(self):
        """The averaged weights, in the model's dtypes; raises if no step was averaged yet."""
        if not self.count:
            raise RuntimeError(f"no weights averaged yet: training has not passed step {self.start_step}")
        return [m.astype(w.dtype) for m, w in zip(self._mean, self.model.get_weights())]
