"""A training monitor that makes the classic silent GAN failures loud.

``GAN`` runs one with the default settings in every ``fit`` (``gan.monitor``); turn it off with
``GAN(..., monitor=False)`` or ``fit(..., monitor=False)``, or pass your own::

    monitor = Monitor(reference=x_real[:256], stop=True)  # optional real batch for the diversity check
    gan = GAN(G, D, monitor=monitor)                      # or gan.fit(x, ..., monitor=monitor)
    monitor.events                                        # [(step, kind, message), ...]

Each kind of failure warns once (``GANTrainingWarning``) with what it means and what to try;
``stop=True`` also ends ``fit`` after the step that found it.

Cost: after every generator step it checks the newest losses (NaN) and the window averages (a
few microseconds of Python sums); every ``every`` steps it hashes D's weights and generates one
fixed batch of ``n_diversity`` samples (see ``scripts/monitor_overhead.py``).
"""

from __future__ import annotations

import hashlib
import math
import warnings

import numpy as np

from .checks import positive_int
from .hooks import Hook


class GANTrainingWarning(UserWarning):
    """Training has entered a known failure mode."""


ADVICE = {
    "nan": (
        "NaN or infinite values: training has diverged. Try a lower learning rate, check that the data "
        "are finite and scaled to the generator's range ([-1, 1] for tanh), and that no layer divides by zero."
    ),
    "d_wins": (
        "the discriminator's loss has collapsed towards 0: D separates real from fake perfectly and G gets "
        "almost no useful gradient. Try one-sided label smoothing (real_target=0.9), instance noise, a lower "
        "D learning rate or fewer D steps, or a smaller discriminator."
    ),
    "fakes_rejected": (
        "mean D(G(z)) has stayed near 0: D rejects nearly every fake. With the minimax loss G's gradient "
        "vanishes here; use generator_loss='non_saturating' and the remedies for a winning D."
    ),
    "d_frozen": (
        "the discriminator's weights did not change although it was trained: it is frozen in its own step. "
        "On Keras 3 this is the frozen-discriminator trap: set D.trainable = True right before D's "
        "train_on_batch (gan_utils.training.GAN does this every step)."
    ),
    "collapse": (
        "the generator's samples have lost their diversity (mode collapse): different z give nearly the same "
        "output. Try minibatch standard deviation in D, a lower G learning rate, label smoothing or instance "
        "noise, or restart from an earlier checkpoint."
    ),
}


def mean_pairwise_distance(samples) -> float:
    """Mean Euclidean distance between all pairs of samples (N, ...) — a batch's diversity."""
    x = np.asarray(samples, dtype=np.float64).reshape(len(samples), -1)
    if len(x) < 2:
        raise ValueError("need at least 2 samples to measure diversity")
    sq = np.einsum("ij,ij->i", x, x)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0.0)
    n = len(x)
    return float(np.sqrt(d2).sum() / (n * (n - 1)))


class Monitor:
    """Watches a ``GAN`` during ``fit`` and warns about failure modes.

    ``GAN(..., monitor=Monitor(...))`` or ``fit(..., monitor=Monitor(...))`` uses it (a GAN runs a
    default one unless told ``monitor=False``); ``hook()`` gives the ``Hook`` for ``fit(hooks=...)``.

    Args:
        window: generator steps over which loss and D-output averages are judged.
        d_loss_floor: warn when D's mean loss (real + fake) over the window is below this.
        d_fake_floor: warn when mean D(G(z)) over the window is below this.
        every: how often (in generator steps) the weight checks (NaN, D frozen) and the
            diversity check run.
        reference: optional real samples (N >= 2); the diversity of a fixed generated batch is
            compared with theirs. Without it, with the diversity at the first check.
        diversity_ratio: warn when generated diversity falls below this fraction of the reference.
        stop: also stop training at the first warning.
    """

    def __init__(self, window=200, d_loss_floor=0.05, d_fake_floor=0.02, every=100, reference=None,
                 diversity_ratio=0.25, n_diversity=64, stop=False, seed=0):
        for name, value in (("window", window), ("every", every), ("n_diversity", n_diversity)):
            positive_int(value, name)
        if n_diversity < 2:
            raise ValueError(f"n_diversity must be at least 2, got {n_diversity}")
        if not 0 < diversity_ratio < 1:
            raise ValueError(f"diversity_ratio must be in (0, 1), got {diversity_ratio}")
        self.window, self.every, self.n_diversity = int(window), int(every), int(n_diversity)
        self.d_loss_floor, self.d_fake_floor = float(d_loss_floor), float(d_fake_floor)
        self.diversity_ratio, self.stop = float(diversity_ratio), bool(stop)
        self.reference_diversity = None if reference is None else mean_pairwise_distance(reference)
        self.seed = seed
        self.events = []
        self._z = self._labels = self._d_digest = None
        self._d_steps_at_probe = None

    def hook(self):
        """The ``Hook`` to pass to ``GAN.fit`` (runs after every generator step; saved in checkpoints)."""
        return Hook(self.check, every=1, state=self)

    def state_dict(self):
        """What a checkpoint keeps: the warnings given, the diversity reference and D's last probe."""
        return {
            "events": [list(e) for e in self.events],
            "reference_diversity": self.reference_diversity,
            "d_digest": self._d_digest,
            "d_steps_at_probe": self._d_steps_at_probe,
        }

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned."""
        self.events = [(int(step), str(kind), str(msg)) for step, kind, msg in state["events"]]
        self.reference_diversity = state["reference_diversity"]
        self._d_digest, self._d_steps_at_probe = state["d_digest"], state["d_steps_at_probe"]

    def _warn(self, gan, kind, detail):
        if any(k == kind for _, k, _ in self.events):
            return
        message = f"step {gan.step}: {detail} — {ADVICE[kind]}"
        self.events.append((gan.step, kind, message))
        warnings.warn(message, GANTrainingWarning, stacklevel=2)
        if self.stop:
            gan.stop_training = True

    def check(self, gan):
        """Run the checks on the GAN's latest history (called by the hook)."""
        h, w = gan.history, self.window
        last = (h["d_loss_real"][-1], h["d_loss_fake"][-1], h["g_loss"][-1])
        if not all(math.isfinite(v) for v in last):  # cheap checks, every step: plain Python on floats
            self._warn(gan, "nan", f"losses D real {last[0]}, D fake {last[1]}, G {last[2]}")
        if len(h["step"]) >= w:
            d_loss = (sum(h["d_loss_real"][-w:]) + sum(h["d_loss_fake"][-w:])) / w
            if d_loss < self.d_loss_floor:
                self._warn(gan, "d_wins", f"mean D loss over the last {w} steps is {d_loss:.4f}")
            d_fake = sum(h["d_fake"][-w:]) / w
            if d_fake < self.d_fake_floor:
                self._warn(gan, "fakes_rejected", f"mean D(G(z)) over the last {w} steps is {d_fake:.4f}")
        if gan.step % self.every == 0:  # expensive checks, every `every` steps
            self._check_d_moves(gan)
            self._check_diversity(gan)

    def _check_d_moves(self, gan):
        d_iterations = int(gan.d_optimizer.iterations.numpy())
        digest, finite = hashlib.sha256(), True
        for weight in gan.discriminator.get_weights():
            digest.update(np.ascontiguousarray(weight).tobytes())
            finite = finite and bool(np.isfinite(weight).all())
        digest = digest.hexdigest()
        if not finite:  # ReLU can hide NaN weights from the losses (relu(NaN) = 0 on TensorFlow)
            self._warn(gan, "nan", "the discriminator's weights contain NaN or infinite values")
        elif self._d_digest is not None and d_iterations > self._d_steps_at_probe and digest == self._d_digest:
            # (NaN weights never change either: that is divergence, reported above, not a frozen D)
            self._warn(gan, "d_frozen", f"{d_iterations - self._d_steps_at_probe} D updates left its weights unchanged")
        self._d_digest, self._d_steps_at_probe = digest, d_iterations

    def _check_diversity(self, gan):
        if self._z is None:
            rng = np.random.default_rng(self.seed)
            self._z = gan.sample_z(self.n_diversity, rng)
            if gan.conditional:
                self._labels = rng.integers(0, gan.num_classes, self.n_diversity)
        samples = gan.generate(self._z, self._labels)
        if not np.all(np.isfinite(samples)):
            self._warn(gan, "nan", "the generator's samples contain NaN or infinite values")
            return
        diversity = mean_pairwise_distance(samples)
        if self.reference_diversity is None:
            self.reference_diversity = diversity
        elif diversity < self.diversity_ratio * self.reference_diversity:
            self._warn(gan, "collapse", f"mean distance between generated samples {diversity:.4g} is below "
                       f"{self.diversity_ratio:.0%} of the reference {self.reference_diversity:.4g}")


def monitor_hooks(monitor, default, hooks):
    """The monitor hook a ``fit`` adds: none if ``hooks`` already hold a Monitor's or the monitor is off.

    ``monitor``: fit's argument (None: the GAN's ``default`` monitor; False: none; True: ``default`` or
    a new ``Monitor``; a ``Monitor``: that one).
    """
    if not isinstance(monitor, (type(None), bool, Monitor)):
        raise TypeError(f"monitor must be None, True, False or a gan_utils.monitor.Monitor, got {type(monitor).__name__}")
    if any(isinstance(h.state, Monitor) or isinstance(getattr(h.fn, "__self__", None), Monitor) for h in hooks):
        return []
    if monitor is None:
        monitor = default
    elif monitor is True:
        monitor = default or Monitor()
    return [monitor.hook()] if monitor else []
