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
fixed batch of ``n_diversity`` samples (see ``scripts/monitor_overhead.py``); if G has
BatchNormalization, it also runs G on that batch in training mode (the mode-gap check, an eager
``stateless_call``). Measured on notebook 02's DCGAN (G: z 100 -> 7x7x128 -> 14x14x64 -> 28x28x1,
64 samples) on a shared 2-core CPU: the compiled inference batch takes about 17 ms, the
training-mode pass 60-75 ms, the whole mode-gap check 80-90 ms, against about 230 ms for one
training step: with ``every=100``, under 1 ms per step (0.4%).
"""

from __future__ import annotations

import hashlib
import math
import warnings

import keras
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
    "g_mode_gap": (
        "the generator's training-mode and inference-mode outputs differ: BatchNorm normalises with the batch's "
        "statistics in training mode but with its moving statistics in inference mode, and the moving statistics "
        "lag behind the batch statistics. D trains on inference-mode fakes (G.predict_on_batch) while G is trained "
        "in training mode (through D(G(z))), so D learns from samples G no longer makes and G gets feedback on "
        "samples D never saw. Lower the BatchNorm momentum of G (e.g. BatchNormalization(momentum=0.8) as in the "
        "DCGAN notebooks; Keras' default 0.99 averages over about 100 batches), or train longer before judging "
        "(the gap closes as the moving statistics catch up with G), or remove BatchNorm from G's last layers. "
        "Label smoothing, instance noise or a smaller D do not fix this."
    ),
}

# The warnings whose usual remedies miss the point while G's two modes disagree: they say so first.
_MODE_GAP_FIRST = ("d_wins", "fakes_rejected", "collapse")


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
        mode_gap_ratio: for a G with BatchNormalization, warn (``g_mode_gap``) when G's outputs on the
            fixed batch in training mode (batch statistics, as in G's step) and in inference mode
            (moving statistics, the fakes D trains on) differ by more than this fraction of their range
            (max - min of both outputs) per value on average: 0.05 is 0.1 for tanh outputs in [-1, 1].
            Checked every ``every`` steps, and before a ``d_wins``, ``fakes_rejected`` or ``collapse``
            warning, which then names the gap as the likely cause. ``None``: no mode-gap check. Only
            for a G with BatchNormalization: without it, the two modes differ only where a layer is
            random in training mode (Dropout, noise) — by design, and not what this check's advice fixes.
        stop: also stop training at the first warning.

    ``mode_gap`` holds the latest mode-gap measurement: a dict of ``step``, ``gap`` (mean absolute
    difference per value), ``range`` and ``ratio`` (gap / range), or None before the first.
    """

    def __init__(self, window=200, d_loss_floor=0.05, d_fake_floor=0.02, every=100, reference=None,
                 diversity_ratio=0.25, n_diversity=64, stop=False, seed=0, mode_gap_ratio=0.05):
        for name, value in (("window", window), ("every", every), ("n_diversity", n_diversity)):
            positive_int(value, name)
        if n_diversity < 2:
            raise ValueError(f"n_diversity must be at least 2, got {n_diversity}")
        if not 0 < diversity_ratio < 1:
            raise ValueError(f"diversity_ratio must be in (0, 1), got {diversity_ratio}")
        if mode_gap_ratio is not None and (isinstance(mode_gap_ratio, bool) or not 0 < mode_gap_ratio < 1):
            raise ValueError(f"mode_gap_ratio must be None or in (0, 1), got {mode_gap_ratio!r}")
        self.window, self.every, self.n_diversity = int(window), int(every), int(n_diversity)
        self.d_loss_floor, self.d_fake_floor = float(d_loss_floor), float(d_fake_floor)
        self.diversity_ratio, self.stop = float(diversity_ratio), bool(stop)
        self.reference_diversity = None if reference is None else mean_pairwise_distance(reference)
        self.seed = seed
        self.mode_gap_ratio = None if mode_gap_ratio is None else float(mode_gap_ratio)
        self.mode_gap = None  # the latest measurement (not checkpointed: it is measured again when needed)
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
        self.mode_gap = None

    def _warned(self, kind):
        return any(k == kind for _, k, _ in self.events)

    def _warn(self, gan, kind, detail):
        if self._warned(kind):
            return
        advice = ADVICE[kind]
        if kind in _MODE_GAP_FIRST:
            gap = self._measure_mode_gap(gan)  # warns g_mode_gap first if the gap is the likely cause
            if gap is not None and gap["ratio"] > self.mode_gap_ratio:
                advice = (f"first fix G's mode gap (g_mode_gap: its training- and inference-mode outputs differ by "
                          f"{gap['ratio']:.1%} of their range): D judges fakes G no longer makes, which alone can "
                          f"cause this; lower the BatchNorm momentum of G. If it persists after that: {advice}")
        message = f"step {gan.step}: {detail} — {advice}"
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
        if len(h["step"]) >= w and gan.game.equilibrium() is not None:  # D's output is a probability
            d_loss = (sum(h["d_loss_real"][-w:]) + sum(h["d_loss_fake"][-w:])) / w
            if d_loss < self.d_loss_floor:
                self._warn(gan, "d_wins", f"mean D loss over the last {w} steps is {d_loss:.4f}")
            d_fake = sum(h["d_fake"][-w:]) / w
            if d_fake < self.d_fake_floor:
                self._warn(gan, "fakes_rejected", f"mean D(G(z)) over the last {w} steps is {d_fake:.4f}")
        if gan.step % self.every == 0:  # expensive checks, every `every` steps
            self._check_d_moves(gan)
            samples = self._fixed_samples(gan)
            if samples is not None:
                self._measure_mode_gap(gan, samples)
                self._check_diversity(gan, samples)

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

    def _fixed_samples(self, gan):
        """G's samples (inference mode) for the fixed batch; None (after warning) if they are not finite."""
        if self._z is None:
            rng = np.random.default_rng(self.seed)
            self._z = gan.sample_z(self.n_diversity, rng)
            if gan.conditional:
                self._labels = rng.integers(0, gan.num_classes, self.n_diversity)
        samples = gan.generate(self._z, self._labels)
        if not np.all(np.isfinite(samples)):
            self._warn(gan, "nan", "the generator's samples contain NaN or infinite values")
            return None
        return samples

    def _measure_mode_gap(self, gan, samples=None):
        """Compare G's training-mode and inference-mode outputs on the fixed batch; warn if they differ.

        Returns the measurement (also kept in ``mode_gap``), or None when there is none: no check asked
        for, G without BatchNormalization, or non-finite outputs. Measured at most once per step.
        """
        if self.mode_gap_ratio is None or not has_batchnorm(gan.generator):
            return None
        if self.mode_gap is not None and self.mode_gap["step"] == gan.step:
            return self.mode_gap
        if samples is None:
            samples = self._fixed_samples(gan)
            if samples is None:
                return None
        labels = None if self._labels is None else self._labels.astype(np.int32)
        trained = training_mode_output(gan.generator, self._z if labels is None else [self._z, labels])
        if not np.all(np.isfinite(trained)):
            return None  # divergence: the NaN checks report it
        both = np.concatenate([samples.reshape(-1), trained.reshape(-1)]).astype(np.float64)
        gap = float(np.mean(np.abs(trained.astype(np.float64) - samples)))
        span = float(both.max() - both.min())
        self.mode_gap = {"step": gan.step, "gap": gap, "range": span, "ratio": gap / span if span > 0 else 0.0}
        if self.mode_gap["ratio"] > self.mode_gap_ratio and not self._warned("g_mode_gap"):
            d_inference = float(np.mean(gan.discriminate(samples, labels)))
            d_training = float(np.mean(gan.discriminate(trained, labels)))
            self._warn(gan, "g_mode_gap",
                       f"for the same z, G's outputs in training mode and in inference mode differ by {gap:.3g} "
                       f"per value on average, {self.mode_gap['ratio']:.1%} of their range {span:.3g} (threshold "
                       f"{self.mode_gap_ratio:.1%}); D's mean output is {d_inference:.3f} on the inference-mode "
                       f"samples (what D trains on) and {d_training:.3f} on the training-mode ones (what G's step "
                       f"sees)")
        return self.mode_gap

    def _check_diversity(self, gan, samples=None):
        if samples is None:
            samples = self._fixed_samples(gan)
            if samples is None:
                return
        diversity = mean_pairwise_distance(samples)
        if self.reference_diversity is None:
            self.reference_diversity = diversity
        elif diversity < self.diversity_ratio * self.reference_diversity:
            self._warn(gan, "collapse", f"mean distance between generated samples {diversity:.4g} is below "
                       f"{self.diversity_ratio:.0%} of the reference {self.reference_diversity:.4g}")


def has_batchnorm(model) -> bool:
    """Whether ``model`` contains a BatchNormalization layer (nested models included)."""
    layers = model._flatten_layers(include_self=False)  # every layer, recursively (Keras 3)
    return any(isinstance(layer, keras.layers.BatchNormalization) for layer in layers)


def training_mode_output(model, inputs) -> np.ndarray:
    """``model(inputs, training=True)`` as a NumPy array, without changing any of the model's variables.

    A training-mode call updates BatchNorm's moving statistics and advances Dropout's seed states;
    ``stateless_call`` computes the same output and returns those updates instead of applying them,
    so the training that follows is exactly what it would have been without the call.
    """
    out, _ = model.stateless_call([v.value for v in model.trainable_variables],
                                  [v.value for v in model.non_trainable_variables], inputs, training=True)
    if isinstance(out, (list, tuple)):
        out = out[0]
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=np.float32)


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


def monitor_option(monitor):
    """The ``monitor`` argument of ``GAN``: True (a default ``Monitor``), False (None) or a ``Monitor``."""
    if not isinstance(monitor, (bool, Monitor)):
        raise TypeError(f"monitor must be True, False or a gan_utils.monitor.Monitor, got {type(monitor).__name__}")
    return Monitor() if monitor is True else (monitor or None)
