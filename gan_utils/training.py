"""One GAN trainer for every notebook: Keras ``train_on_batch`` with a frozen discriminator.

The loop, per iteration (one generator update)::

    for _ in range(d_steps):                     # k discriminator steps
        fake = G.predict_on_batch(z)
        D.trainable = True                       # Keras 3 reads this when a step runs: set it every time
        D.train_on_batch(real, real_targets)     # separate real and fake batches
        D.train_on_batch(fake, fake_targets)
    D.trainable = False                          # freeze D inside the combined model
    combined.train_on_batch(z, ones)             # combined = D(G(z)): only G moves

Why the flag is set on every iteration, and never only once before compiling (the Keras 2
recipe): Keras 3 reads ``trainable`` when a train step is traced or run, not at ``compile()``,
and the flag is shared by every model that contains D. Set once, it silently freezes D in its
own step (see the project's GUIDE and ``tests/test_training.py``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from pathlib import Path
from typing import Callable, Optional

import keras
import numpy as np
from keras import ops

from . import checkpoint as ckpt
from .checkpoint import CheckpointError
from .monitor import Monitor

GENERATOR_LOSSES = ("non_saturating", "minimax")
Z_DISTRIBUTIONS = ("normal", "uniform")
HISTORY_KEYS = ("step", "d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake", "noise_std", "time")

_KERAS_VERSION = tuple(int(p) for p in keras.__version__.split(".")[:2])
# Before keras 3.15, train_on_batch returned a running mean over calls unless metrics were reset.
_RESET_METRICS = _KERAS_VERSION < (3, 15)


# ----------------------------------------------------------------------------- small pieces
@keras.saving.register_keras_serializable(package="gan_utils")
class BatchMeanOutput(keras.metrics.Metric):
    """Metric: the mean model output on the latest batch only (D's ``mean_output``: mean D(x) or D(G(z))).

    ``train_on_batch`` reports per-batch values, so this metric keeps the latest batch's mean in
    one variable and overwrites it on every update: resetting it has nothing to do. Keras (3.15
    and later) resets every metric in each ``train_on_batch`` call, and each reset of a variable
    is one more eager op per call; a running mean (``MeanMetricWrapper``, two variables) cost
    about 0.2 ms per call on the 1-D GAN (``benchmarks/``). Not for ``fit()``: it reports the last
    batch, not the epoch's mean.
    """

    def __init__(self, name="mean_output", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.value = self.add_variable(shape=(), initializer="zeros", name="value")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.value.assign(ops.mean(ops.cast(y_pred, self.dtype)))

    def result(self):
        return ops.convert_to_tensor(self.value)

    def reset_state(self):
        """Nothing to reset: every update overwrites the value."""


@keras.saving.register_keras_serializable(package="gan_utils")
def minimax_generator_loss(y_true, y_pred):
    """The original minimax generator loss, log(1 - D(G(z))), which G minimises.

    It saturates: when D confidently rejects fakes (D(G(z)) ~ 0) its gradient vanishes.
    """
    p = ops.clip(y_pred, 1e-7, 1.0 - 1e-7)
    return ops.mean(ops.log(1.0 - p), axis=-1)


@keras.saving.register_keras_serializable(package="gan_utils")
class InstanceNoise(keras.layers.Layer):
    """Adds N(0, stddev^2) noise in training; ``stddev`` is a variable the trainer sets each step."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.stddev = self.add_weight(shape=(), initializer="zeros", trainable=False, name="stddev")

    def call(self, x, training=None):
        if training:
            return x + self.stddev * keras.random.normal(ops.shape(x), seed=self.seed_generator)
        return x

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def sample_z(n, latent_dim, rng, distribution="normal") -> np.ndarray:
    """Latent vectors, float32 (n, latent_dim): N(0, 1) or U(-1, 1) per coordinate."""
    if distribution == "normal":
        return rng.standard_normal((n, latent_dim), dtype=np.float32)
    if distribution == "uniform":
        return rng.uniform(-1.0, 1.0, (n, latent_dim)).astype(np.float32)
    raise ValueError(f"distribution must be one of {Z_DISTRIBUTIONS}, got {distribution!r}")


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
        if self.every is not None and (
            isinstance(self.every, bool) or not isinstance(self.every, (int, np.integer)) or self.every <= 0
        ):
            raise ValueError(f"Hook every must be a positive integer or None, got {self.every!r}")
        if self.every is None and not self.each_epoch and not self.at_start:
            raise ValueError("a Hook needs every=N steps, each_epoch=True or at_start=True")


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
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
        if isinstance(start_step, bool) or not isinstance(start_step, (int, np.integer)) or start_step < 0:
            raise ValueError(f"start_step must be a non-negative integer, got {start_step!r}")
        if decay is not None and (isinstance(decay, bool) or not isinstance(decay, (int, float, np.floating))
                                  or not 0.0 < float(decay) < 1.0):
            raise ValueError(f"decay must be None (a running mean) or a float in (0, 1), got {decay!r}")
        self.model, self.start_step = model, int(start_step)
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
        elif self.decay is None:
            for m, w in zip(self._mean, weights):
                m += (w - m) / self.count
        else:
            for m, w in zip(self._mean, weights):
                m += (1.0 - self.decay) * (w - m)

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


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _target(value, name):
    """A target is a float in [0, 1] or a (low, high) range inside [0, 1] drawn per sample."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not 0.0 <= float(value[0]) <= float(value[1]) <= 1.0:
            raise ValueError(f"{name} range must be (low, high) with 0 <= low <= high <= 1, got {value!r}")
        return (float(value[0]), float(value[1]))
    value = float(value)
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be in [0, 1] (a target for binary cross-entropy), got {value}")
    return value


def _input_shapes(model):
    return [tuple(t.shape[1:]) for t in model.inputs]


# ----------------------------------------------------------------------------- the trainer
class GAN:
    """Train a generator G and a discriminator D (sigmoid output) with ``train_on_batch``.

    Args:
        generator: Keras model, z (latent_dim,) -> sample; conditional: [z, label] -> sample.
        discriminator: Keras model, sample -> (1,) probability of "real"; conditional:
            [sample, label] -> (1,). Sigmoid output, since the loss is binary cross-entropy.
        num_classes: set for a conditional GAN (labels are ints in 0..num_classes-1 fed to both).
        d_optimizer, g_optimizer: two distinct optimizers (Keras 3 cannot share one between
            models); default Adam(2e-4, beta_1=0.5), the DCGAN settings.
        generator_loss: ``"non_saturating"`` (G maximises log D(G(z)); the default) or
            ``"minimax"`` (G minimises log(1 - D(G(z))), the original objective).
        d_steps: discriminator steps per generator step (k in Goodfellow et al.'s algorithm).
        real_label, fake_label: D's targets; a float, or a (low, high) range drawn per sample
            ("soft/noisy labels"). ``real_label=0.9`` is one-sided label smoothing.
        flip_prob: probability that each of D's targets is swapped (noisy labels).
        instance_noise: std of Gaussian noise added to D's inputs, real and fake, decaying
            linearly to 0 over ``noise_decay_steps`` generator steps (default: the first fit).
        z_distribution: ``"normal"`` (N(0, 1)) or ``"uniform"`` (U(-1, 1)) latent vectors.
        seed: seeds the trainer's NumPy generator (data order, z, labels, noise). Call
            ``keras.utils.set_random_seed`` before building the models for reproducible weights.
        monitor: ``True`` (default): every ``fit`` runs ``self.monitor``, a ``Monitor`` with its
            default settings, which warns (``GANTrainingWarning``) on NaN losses, a winning D,
            rejected fakes, a frozen D and collapsed samples. ``False``: no monitor. A ``Monitor``:
            that one. It never changes the training itself (it only reads, and samples G in
            inference mode).

    Checkpoints: ``fit(..., checkpoint_dir=..., checkpoint_every=N, resume=True)`` saves the whole
    training state every N generator steps and, when run again, continues the interrupted fit
    exactly where its latest checkpoint left it; ``restore(path)`` loads one checkpoint.
    """

    def __init__(
        self,
        generator,
        discriminator,
        *,
        num_classes=None,
        d_optimizer=None,
        g_optimizer=None,
        generator_loss="non_saturating",
        d_steps=1,
        real_label=1.0,
        fake_label=0.0,
        flip_prob=0.0,
        instance_noise=0.0,
        noise_decay_steps=None,
        z_distribution="normal",
        seed=0,
        monitor=True,
    ):
        for model, name in ((generator, "generator"), (discriminator, "discriminator")):
            if not isinstance(model, keras.Model):
                raise TypeError(f"{name} must be a keras.Model, got {type(model).__name__}")
        if generator_loss not in GENERATOR_LOSSES:
            raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got {generator_loss!r}")
        if z_distribution not in Z_DISTRIBUTIONS:
            raise ValueError(f"z_distribution must be one of {Z_DISTRIBUTIONS}, got {z_distribution!r}")
        self.conditional = num_classes is not None
        if self.conditional:
            self.num_classes = _positive_int(num_classes, "num_classes")
        else:
            self.num_classes = None
        self.d_steps = _positive_int(d_steps, "d_steps")
        self.real_label = _target(real_label, "real_label")
        self.fake_label = _target(fake_label, "fake_label")
        self.flip_prob = float(flip_prob)
        if not 0.0 <= self.flip_prob < 0.5:
            raise ValueError(f"flip_prob must be in [0, 0.5), got {flip_prob}")
        self.instance_noise = float(instance_noise)
        if not (math.isfinite(self.instance_noise) and self.instance_noise >= 0):
            raise ValueError(f"instance_noise must be a non-negative std, got {instance_noise}")
        self.noise_decay_steps = None if noise_decay_steps is None else _positive_int(
            noise_decay_steps, "noise_decay_steps"
        )
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if not isinstance(monitor, (bool, Monitor)):
            raise TypeError(f"monitor must be True, False or a gan_utils.monitor.Monitor, got {type(monitor).__name__}")
        if d_optimizer is not None and d_optimizer is g_optimizer:
            raise ValueError(
                "d_optimizer and g_optimizer are the same object; Keras 3 cannot share one optimizer "
                "between two models: pass two instances"
            )

        self.generator, self.discriminator = generator, discriminator
        self.generator_loss = generator_loss
        self.z_distribution = z_distribution
        self.seed = int(seed)
        self._check_models()

        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)

        # D on its own, trained on separate real and fake batches.
        discriminator.trainable = True
        discriminator.compile(
            optimizer=self.d_optimizer,
            loss=keras.losses.BinaryCrossentropy(),
            metrics=[BatchMeanOutput()],  # d_real / d_fake in the history
        )
        # The combined model D(G(z)), in which only G is meant to learn.
        self.noise_layer = InstanceNoise(seed=self.seed, name="instance_noise") if self.instance_noise else None
        z_in = keras.Input((self.latent_dim,), name="z")
        if self.conditional:
            y_in = keras.Input((), dtype="int32", name="label")
            fake = generator([z_in, y_in])
        else:
            fake = generator(z_in)
        if self.noise_layer is not None:
            fake = self.noise_layer(fake)  # instance noise on D's fake input, as in D's own step
        score = discriminator([fake, y_in]) if self.conditional else discriminator(fake)
        self.combined = keras.Model([z_in, y_in] if self.conditional else z_in, score, name="combined")
        discriminator.trainable = False
        g_loss = minimax_generator_loss if generator_loss == "minimax" else keras.losses.BinaryCrossentropy()
        self.combined.compile(
            optimizer=self.g_optimizer,
            loss=g_loss,  # no metric: the loss is all G's step reports (fewer variables to reset per call)
        )
        discriminator.trainable = True

        self.rng = np.random.default_rng(self.seed)
        self.step = 0
        self.epoch = 0
        self.stop_training = False
        self.train_seconds = 0.0
        self._fit_steps = None
        self.history = {k: [] for k in HISTORY_KEYS}
        self.monitor = Monitor() if monitor is True else (monitor or None)

    # -- checks
    def _check_models(self):
        g_shapes, d_shapes = _input_shapes(self.generator), _input_shapes(self.discriminator)
        n_in = 2 if self.conditional else 1
        kind = "conditional (num_classes is set)" if self.conditional else "unconditional"
        for shapes, name, what in (
            (g_shapes, "generator", "[z, label]"),
            (d_shapes, "discriminator", "[sample, label]"),
        ):
            if len(shapes) != n_in:
                raise ValueError(
                    f"the {name} has {len(shapes)} input(s) but a {kind} GAN needs "
                    f"{what if self.conditional else 'one'}; "
                    + ("pass num_classes=None" if self.conditional else "pass num_classes=K for a conditional GAN")
                )
        if len(g_shapes[0]) != 1 or g_shapes[0][0] is None:
            raise ValueError(f"the generator's z input must have shape (latent_dim,), got {g_shapes[0]}")
        self.latent_dim = int(g_shapes[0][0])
        self.sample_shape = tuple(self.generator.outputs[0].shape[1:])
        if self.sample_shape != d_shapes[0]:
            raise ValueError(
                f"the generator's output shape {self.sample_shape} does not match the discriminator's "
                f"input shape {d_shapes[0]}"
            )
        d_out = tuple(self.discriminator.outputs[0].shape[1:])
        if d_out != (1,):
            raise ValueError(f"the discriminator must output shape (1,) (a sigmoid probability), got {d_out}")

    def _check_labels(self, labels, n, name="labels"):
        if not self.conditional:
            if labels is not None:
                raise ValueError(f"{name} were given but this GAN is unconditional (num_classes=None)")
            return None
        if labels is None:
            raise ValueError(f"this GAN is conditional: pass {name}, ints in 0..{self.num_classes - 1}")
        labels = np.asarray(labels)
        if labels.shape != (n,):
            raise ValueError(f"{name} must have shape ({n},), got {labels.shape}")
        if not np.issubdtype(labels.dtype, np.integer):
            raise TypeError(f"{name} must be integers, got dtype {labels.dtype}")
        if n and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(
                f"{name} must be in 0..{self.num_classes - 1}, got {labels.min()}..{labels.max()}"
            )
        return labels.astype(np.int32)

    # -- sampling helpers
    def sample_z(self, n, rng):
        """Latent vectors (n, latent_dim) float32 from this GAN's z distribution, drawn from ``rng``."""
        return sample_z(_positive_int(n, "n"), self.latent_dim, rng, self.z_distribution)

    def generate(self, z, labels=None, batch_size=1000):
        """G's samples (inference mode) for latent vectors ``z`` (n, latent_dim) [and labels (n,)]."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (n, {self.latent_dim}), got {z.shape}")
        labels = self._check_labels(labels, len(z))
        out = []
        for i in range(0, len(z), batch_size):
            inp = [z[i : i + batch_size], labels[i : i + batch_size]] if self.conditional else z[i : i + batch_size]
            out.append(np.asarray(self.generator.predict_on_batch(inp)))
        return np.concatenate(out)

    def discriminate(self, x, labels=None, batch_size=1000):
        """D's probability of "real" (n,) for samples ``x`` [and labels]."""
        x = np.asarray(x, dtype=np.float32)
        labels = self._check_labels(labels, len(x))
        out = []
        for i in range(0, len(x), batch_size):
            inp = [x[i : i + batch_size], labels[i : i + batch_size]] if self.conditional else x[i : i + batch_size]
            out.append(np.asarray(self.discriminator.predict_on_batch(inp)).reshape(-1))
        return np.concatenate(out)

    def noise_std(self, step=None):
        """Instance-noise std at a generator step: linear decay from ``instance_noise`` to 0."""
        if not self.instance_noise:
            return 0.0
        step = self.step if step is None else step
        horizon = self.noise_decay_steps or self._fit_steps or 1
        return self.instance_noise * max(0.0, 1.0 - step / horizon)

    # -- targets for D
    def _targets(self, value, n):
        if isinstance(value, tuple):
            return self.rng.uniform(value[0], value[1], (n, 1)).astype(np.float32)
        return np.full((n, 1), value, dtype=np.float32)

    def _d_targets(self, n):
        real_t = self._targets(self.real_label, n)  # real_label < 1: one-sided label smoothing
        fake_t = self._targets(self.fake_label, n)
        if self.flip_prob:
            flip_r = self.rng.random((n, 1)) < self.flip_prob  # noisy labels: swap some targets
            flip_f = self.rng.random((n, 1)) < self.flip_prob
            real_t, fake_t = np.where(flip_r, fake_t, real_t), np.where(flip_f, real_t, fake_t)
        return real_t, fake_t

    # -- the two steps of one iteration
    def _d_step(self, real, y_real, real_labels, fake_labels, sigma=0.0):
        """One discriminator update on a real batch and one on a fresh fake batch."""
        G, D, rng, n = self.generator, self.discriminator, self.rng, len(real)
        z = self.sample_z(n, rng)
        if self.conditional:
            y_fake = rng.integers(0, self.num_classes, n, dtype=np.int32)
            fake = np.asarray(G.predict_on_batch([z, y_fake]))  # G in inference mode
        else:
            fake = np.asarray(G.predict_on_batch(z))
        if sigma:  # instance noise on both of D's inputs
            real = real + rng.normal(0.0, sigma, real.shape).astype(np.float32)
            fake = fake + rng.normal(0.0, sigma, fake.shape).astype(np.float32)
        D.trainable = True  # D learns in its own step: Keras 3 reads the flag when the step runs
        if _RESET_METRICS:
            D.reset_metrics()
        lr = D.train_on_batch([real, y_real] if self.conditional else real, real_labels, return_dict=True)
        if _RESET_METRICS:
            D.reset_metrics()
        lf = D.train_on_batch([fake, y_fake] if self.conditional else fake, fake_labels, return_dict=True)
        return {
            "d_loss_real": lr["loss"],
            "d_loss_fake": lf["loss"],
            "d_real": lr["mean_output"],
            "d_fake": lf["mean_output"],
        }

    def _g_step(self, targets, sigma=0.0):
        """One generator update through the combined model D(G(z)), with D frozen."""
        n, rng = len(targets), self.rng
        z = self.sample_z(n, rng)
        if self.noise_layer is not None:
            self.noise_layer.stddev.assign(sigma)
        self.discriminator.trainable = False  # freeze D inside the combined model: only G moves
        if _RESET_METRICS:
            self.combined.reset_metrics()
        if self.conditional:
            y_gen = rng.integers(0, self.num_classes, n, dtype=np.int32)
            lg = self.combined.train_on_batch([z, y_gen], targets, return_dict=True)
        else:
            lg = self.combined.train_on_batch(z, targets, return_dict=True)
        self.discriminator.trainable = True
        return {"g_loss": lg["loss"]}

    def train_discriminator(self, real, labels=None):
        """One discriminator step on a real batch (n, *sample_shape) and n fresh fakes.

        Uses this GAN's targets (smoothing, noisy labels) and current instance noise; returns
        ``d_loss_real``, ``d_loss_fake``, ``d_real`` and ``d_fake``. ``fit`` calls this.
        """
        real = np.asarray(real, dtype=np.float32)
        if real.shape[1:] != self.sample_shape:
            raise ValueError(f"real must have shape (n, {self.sample_shape}), got {real.shape}")
        labels = self._check_labels(labels, len(real))
        real_t, fake_t = self._d_targets(len(real))
        return self._d_step(real, labels, real_t, fake_t, self.noise_std())

    def train_generator(self, batch_size):
        """One generator step on ``batch_size`` fresh latent vectors; returns ``g_loss``."""
        batch_size = _positive_int(batch_size, "batch_size")
        return self._g_step(np.ones((batch_size, 1), np.float32), self.noise_std())

    # -- training
    def fit(
        self,
        data,
        labels=None,
        *,
        batch_size=64,
        epochs=None,
        steps=None,
        hooks=(),
        verbose=1,
        monitor=None,
        checkpoint_dir=None,
        checkpoint_every=None,
        checkpoint_keep=2,
        resume=False,
    ):
        """Train; can be called again to continue (history and step count carry on).

        Args:
            data: real samples, float32 array (N, *sample_shape) (shuffled each epoch, the last
                incomplete batch dropped), or a function ``sample(n, rng) -> (n, *sample_shape)``
                that draws fresh real samples (then give ``steps``).
            labels: ints (N,) in 0..num_classes-1 for a conditional GAN, else None.
            batch_size: fixed batch size for every D and G update.
            epochs / steps: how long, in passes over ``data`` or in generator steps (give one).
                One generator step uses ``d_steps`` real batches.
            hooks: ``Hook`` objects (progress frames, monitors).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            monitor: None (default): the GAN's own ``self.monitor`` (on unless the GAN was built
                with ``monitor=False``); ``False``: none for this fit; ``True`` or a ``Monitor``:
                that one. Skipped when ``hooks`` already hold a Monitor's hook.
            checkpoint_dir: folder for checkpoints ``ckpt-<step>.npz`` (created if missing). Give
                each ``fit`` call its own folder.
            checkpoint_every: save a checkpoint every this many generator steps (a positive int;
                needed with ``checkpoint_dir``); ``fit`` also saves one when it ends.
            checkpoint_keep: how many of the newest checkpoints to keep (at least 2, so the
                previous one survives if the newest is damaged).
            resume: ``False``: start a new fit (``checkpoint_dir`` must hold no checkpoints).
                ``True``: continue from the newest checkpoint in ``checkpoint_dir`` if there is
                one, else start (so one call serves the first run and every re-run). A path:
                continue from that checkpoint file (e.g. the previous one, if the newest is
                damaged); newer checkpoints in ``checkpoint_dir`` are then deleted as the run
                overwrites them. Resuming restores G, D (BatchNorm statistics and Dropout/noise
                seed states included), both optimizers, step and epoch counters, the epoch's
                shuffled order and position, the trainer's random generator, the history and
                the state of hooks that have one (``Monitor``, ``WeightAverage``); hooks with
                ``at_start=True`` are not called again. The call must ask for the same training
                as the interrupted one (data size, batch size, epochs or steps), and the
                resumed run then equals an uninterrupted one bit for bit (same seed, on CPU).
                A checkpoint of a fit that had finished is restored and ``fit`` returns at once.

        Returns:
            ``self.history``: lists per generator step of ``d_loss_real``, ``d_loss_fake``,
            ``g_loss``, ``d_real`` (mean D(x)), ``d_fake`` (mean D(G(z)), both in D's step),
            ``noise_std`` and ``time`` (training seconds so far).

        Raises:
            ValueError / TypeError for bad arguments, and ``CheckpointError`` (a ValueError) for
            a checkpoint that is damaged or was written for other models, options or data; all
            before anything is trained or restored.
        """
        batch_size = _positive_int(batch_size, "batch_size")
        hooks = list(hooks)
        for h in hooks:
            if not isinstance(h, Hook):
                raise TypeError(f"hooks must be gan_utils.training.Hook objects, got {type(h).__name__}")
        sampler = callable(data)
        if sampler:
            if steps is None or epochs is not None:
                raise ValueError("data is a sampler function: pass steps=N (epochs has no meaning)")
            if self.conditional:
                raise ValueError("a conditional GAN needs data as an array with labels, not a sampler")
            if any(h.each_epoch for h in hooks):
                raise ValueError("each_epoch hooks need data as an array; use Hook(every=N) with a sampler")
            n_data = None
        else:
            data = np.asarray(data)
            if not np.issubdtype(data.dtype, np.floating):
                raise TypeError(
                    f"data must be float32 samples (images scaled to [-1, 1]), got dtype {data.dtype}"
                )
            data = data.astype(np.float32, copy=False)
            if data.shape[1:] != self.sample_shape:
                raise ValueError(
                    f"data must have shape (N, {', '.join(map(str, self.sample_shape))}) to match the "
                    f"discriminator's input, got {data.shape}"
                )
            n_data = len(data)
            if batch_size > n_data:
                raise ValueError(f"batch_size={batch_size} is larger than the data ({n_data} samples)")
            labels = self._check_labels(labels, n_data)
        if (epochs is None) == (steps is None):
            raise ValueError("give exactly one of epochs=N or steps=N")
        if sampler:
            steps_per_epoch = None
            total = _positive_int(steps, "steps")
        else:
            steps_per_epoch = (n_data // batch_size) // self.d_steps
            if steps_per_epoch == 0:
                raise ValueError(
                    f"{n_data} samples give no full step of {self.d_steps} batches of {batch_size}"
                )
            total = _positive_int(steps, "steps") if steps is not None else steps_per_epoch * _positive_int(
                epochs, "epochs"
            )
        if not self.discriminator.trainable_weights:
            raise ValueError("the discriminator has no trainable weights; it could not learn")
        if not self.generator.trainable_weights:
            raise ValueError("the generator has no trainable weights; it could not learn")
        hooks += self._monitor_hooks(monitor, hooks)
        checkpoint_dir, resume_path = self._check_checkpoint_args(
            checkpoint_dir, checkpoint_every, checkpoint_keep, resume
        )
        plan = {"start": self.step, "total": total, "batch_size": batch_size, "n_data": n_data, "sampler": sampler}

        order, cursor, resumed, finished = None, 0, False, False
        if resume_path is not None:
            state = self._read_checkpoint(resume_path, plan=plan, hooks=hooks)  # raises before changing anything
            self._apply_checkpoint(state, hooks)
            fit_state = state["meta"]["fit"]
            order, cursor = state["arrays"].get("fit/order"), fit_state["cursor"]
            resumed, finished = True, fit_state["finished"]
            if verbose:
                print(f"resumed from {resume_path} at step {self.step}" + (" (that fit had finished)" if finished else ""))
        if checkpoint_dir is not None:
            checkpoint_dir.mkdir(parents=True, exist_ok=True)
        if finished:
            return self.history

        if self.noise_decay_steps is None and self._fit_steps is None:
            self._fit_steps = self.step + total  # default decay horizon: the end of the first fit
        self.stop_training = False
        rng = self.rng
        # Targets that stay the same every step are converted to backend tensors once, not in every
        # train_on_batch call (about 60 us a call on the 1-D GAN; benchmarks/).
        real_ones = ops.convert_to_tensor(np.ones((batch_size, 1), np.float32))  # G's target: "call my fakes real"
        const_targets = not (
            isinstance(self.real_label, tuple) or isinstance(self.fake_label, tuple) or self.flip_prob
        )
        if const_targets:
            real_labels, fake_labels = (ops.convert_to_tensor(t) for t in self._d_targets(batch_size))
        progbar = keras.utils.Progbar(total, stateful_metrics=["d_real", "d_fake"]) if verbose == 1 else None

        if not resumed:
            for h in hooks:
                if h.at_start:
                    h.fn(self)
        start_step = plan["start"]
        t0 = time.perf_counter()
        while self.step - start_step < total and not self.stop_training:
            sigma = self.noise_std()
            rec = np.zeros(4)
            for _ in range(self.d_steps):
                # a real batch (the remainder of an epoch is dropped: one fixed batch size)
                if sampler:
                    real, y_real = np.asarray(data(batch_size, rng), dtype=np.float32), None
                else:
                    if order is None or cursor + batch_size > n_data:
                        order, cursor = rng.permutation(n_data), 0
                    idx = order[cursor : cursor + batch_size]
                    cursor += batch_size
                    real = data[idx]
                    y_real = labels[idx] if self.conditional else None
                if not const_targets:
                    real_labels, fake_labels = self._d_targets(batch_size)
                d = self._d_step(real, y_real, real_labels, fake_labels, sigma)
                rec += (d["d_loss_real"], d["d_loss_fake"], d["d_real"], d["d_fake"])
            rec /= self.d_steps
            g = self._g_step(real_ones, sigma)
            self.step += 1

            elapsed = self.train_seconds + time.perf_counter() - t0
            for key, value in zip(
                HISTORY_KEYS,
                (self.step, rec[0], rec[1], g["g_loss"], rec[2], rec[3], sigma, elapsed),
            ):
                self.history[key].append(float(value))
            if progbar is not None:
                progbar.update(
                    self.step - start_step,
                    [("d_loss", rec[0] + rec[1]), ("g_loss", g["g_loss"]), ("d_real", rec[2]), ("d_fake", rec[3])],
                )
            for h in hooks:
                if h.every and self.step % h.every == 0:
                    h.fn(self)
            if steps_per_epoch and (self.step - start_step) % steps_per_epoch == 0:
                self.epoch += 1
                order = None  # reshuffle for the next epoch
                if verbose == 2:
                    print(
                        f"epoch {self.epoch}: step {self.step}, d_loss {rec[0] + rec[1]:.3f}, "
                        f"g_loss {g['g_loss']:.3f}, D(x) {rec[2]:.3f}, D(G(z)) {rec[3]:.3f}, {elapsed:.0f} s"
                    )
                for h in hooks:
                    if h.each_epoch:
                        h.fn(self)
            if checkpoint_every and self.step % checkpoint_every == 0:
                self.train_seconds += time.perf_counter() - t0  # writing does not count as training time
                self._write_checkpoint(checkpoint_dir, checkpoint_keep, plan, order, cursor, hooks, finished=False)
                t0 = time.perf_counter()
        self.train_seconds += time.perf_counter() - t0
        if checkpoint_dir is not None:
            self._write_checkpoint(checkpoint_dir, checkpoint_keep, plan, order, cursor, hooks, finished=True)
        return self.history

    def _monitor_hooks(self, monitor, hooks):
        """The monitor hook this fit adds: none if ``hooks`` already hold a Monitor or it is off."""
        if not isinstance(monitor, (type(None), bool, Monitor)):
            raise TypeError(f"monitor must be None, True, False or a gan_utils.monitor.Monitor, got {type(monitor).__name__}")
        if any(isinstance(h.state, Monitor) or isinstance(getattr(h.fn, "__self__", None), Monitor) for h in hooks):
            return []
        if monitor is None:
            monitor = self.monitor
        elif monitor is True:
            monitor = self.monitor or Monitor()
        return [monitor.hook()] if monitor else []

    # -- checkpoints
    def _check_checkpoint_args(self, checkpoint_dir, checkpoint_every, checkpoint_keep, resume):
        """Validate fit's checkpoint options; return (folder or None, checkpoint to resume from or None)."""
        if checkpoint_every is not None:
            _positive_int(checkpoint_every, "checkpoint_every")
            if checkpoint_dir is None:
                raise ValueError("checkpoint_every needs checkpoint_dir=<folder> to write the checkpoints to")
        if isinstance(checkpoint_keep, bool) or not isinstance(checkpoint_keep, (int, np.integer)) or checkpoint_keep < 2:
            raise ValueError(
                f"checkpoint_keep must be an integer >= 2 (the newest and the previous checkpoint), got {checkpoint_keep!r}"
            )
        if checkpoint_dir is not None:
            if not isinstance(checkpoint_dir, (str, os.PathLike)):
                raise TypeError(f"checkpoint_dir must be a folder path, got {type(checkpoint_dir).__name__}")
            checkpoint_dir = Path(checkpoint_dir)
            if checkpoint_dir.exists() and not checkpoint_dir.is_dir():
                raise ValueError(f"checkpoint_dir={str(checkpoint_dir)!r} exists and is not a folder")
            if checkpoint_every is None:
                raise ValueError("checkpoint_dir needs checkpoint_every=N (generator steps between checkpoints)")
        if resume is True:
            if checkpoint_dir is None:
                raise ValueError("resume=True needs checkpoint_dir=<folder> (resume from its newest checkpoint)")
            return checkpoint_dir, ckpt.latest_checkpoint(checkpoint_dir)
        if resume is False or resume is None:
            existing = ckpt.latest_checkpoint(checkpoint_dir) if checkpoint_dir is not None else None
            if existing is not None:
                raise ValueError(
                    f"checkpoint_dir={str(checkpoint_dir)!r} already holds checkpoints (newest: {existing.name}): "
                    "pass resume=True to continue that run, or give this fit an empty folder"
                )
            return checkpoint_dir, None
        if isinstance(resume, (str, os.PathLike)):
            if not Path(resume).is_file():
                raise CheckpointError(f"resume={str(resume)!r}: no such checkpoint file")
            return checkpoint_dir, Path(resume)
        raise TypeError(f"resume must be True, False or a checkpoint file path, got {type(resume).__name__}")

    def _config(self):
        """The options a checkpoint must agree with (JSON types)."""
        return json.loads(json.dumps({
            "conditional": self.conditional, "num_classes": self.num_classes, "latent_dim": self.latent_dim,
            "sample_shape": self.sample_shape, "d_steps": self.d_steps, "generator_loss": self.generator_loss,
            "z_distribution": self.z_distribution, "real_label": self.real_label, "fake_label": self.fake_label,
            "flip_prob": self.flip_prob, "instance_noise": self.instance_noise,
            "noise_decay_steps": self.noise_decay_steps,
        }))

    def _build_optimizers(self):
        """Create the optimizers' slots (as the first train step would) so a checkpoint can fill them."""
        D = self.discriminator
        if not self.d_optimizer.built:
            D.trainable = True
            self.d_optimizer.build(D.trainable_variables)
        if not self.g_optimizer.built:
            D.trainable = False  # the combined model's trainable variables: G's only
            self.g_optimizer.build(self.combined.trainable_variables)
            D.trainable = True

    def _variable_groups(self):
        """Every variable a checkpoint holds, by group: models (with BatchNorm statistics and seed
        generator states), the instance-noise layer, and both optimizers."""
        groups = {"generator": self.generator.variables, "discriminator": self.discriminator.variables}
        if self.noise_layer is not None:
            groups["instance_noise"] = self.noise_layer.variables
        groups["d_optimizer"] = self.d_optimizer.variables
        groups["g_optimizer"] = self.g_optimizer.variables
        return groups

    def _write_checkpoint(self, folder, keep, plan, order, cursor, hooks, finished):
        self._build_optimizers()
        arrays, names = {}, {}
        for group, variables in self._variable_groups().items():
            names[group] = [[v.path, list(v.shape)] for v in variables]
            for i, v in enumerate(variables):
                arrays[f"{group}/{i:04d}"] = np.array(keras.ops.convert_to_numpy(v))
        for key, values in self.history.items():
            arrays[f"history/{key}"] = np.asarray(values, dtype=np.float64)
        if order is not None:
            arrays["fit/order"] = order
        hook_meta = []
        for i, h in enumerate(h for h in hooks if h.state is not None):
            entry = {"type": type(h.state).__name__, "json": {}, "arrays": []}
            for key, value in h.state.state_dict().items():
                if isinstance(value, np.ndarray):
                    arrays[f"hooks/{i}/{key}"] = value
                    entry["arrays"].append(key)
                else:
                    entry["json"][key] = value
            hook_meta.append(entry)
        meta = {
            "keras": keras.__version__, "backend": keras.backend.backend(), "config": self._config(),
            "optimizers": {"d_optimizer": type(self.d_optimizer).__name__, "g_optimizer": type(self.g_optimizer).__name__},
            "variables": names, "step": self.step, "epoch": self.epoch, "train_seconds": self.train_seconds,
            "fit_steps": self._fit_steps, "rng": self.rng.bit_generator.state,
            "fit": {**plan, "cursor": int(cursor), "finished": bool(finished)}, "hooks": hook_meta,
        }
        path = ckpt.write(ckpt.checkpoint_path(folder, self.step), arrays, meta)
        ckpt.remove_stale(folder, self.step, keep)
        return path

    def _read_checkpoint(self, path, plan=None, hooks=None):
        """Read and check a checkpoint against this GAN (and fit call); change nothing.

        Returns ``{"path", "arrays", "meta", "assign": [(variable, value), ...]}``.
        """
        arrays, meta = ckpt.read(path)
        where = f"checkpoint {path} does not fit this GAN"
        advice = "build the same models and GAN options as the run that wrote it"
        config = self._config()
        for key, value in meta["config"].items():
            if config.get(key) != value:
                raise CheckpointError(f"{where}: {key} is {value!r} in the checkpoint but {config.get(key)!r} here; {advice}")
        for name in ("d_optimizer", "g_optimizer"):
            here = type(getattr(self, name)).__name__
            if meta["optimizers"][name] != here:
                raise CheckpointError(f"{where}: {name} is {meta['optimizers'][name]} in the checkpoint but {here} here; {advice}")
        model_groups = ["generator", "discriminator"] + (["instance_noise"] if self.noise_layer is not None else [])
        assign = self._match_variables(path, meta, arrays, model_groups)
        if plan is not None:
            self._check_fit_plan(path, meta["fit"], plan)
        if hooks is not None:
            here = [type(h.state).__name__ for h in hooks if h.state is not None]
            saved = [entry["type"] for entry in meta["hooks"]]
            if here != saved:
                raise CheckpointError(
                    f"checkpoint {path} holds the state of hooks {saved} but this fit has {here}: pass the same "
                    "hooks (and monitor setting) as the interrupted run"
                )
        history_keys = sorted(k[len("history/"):] for k in arrays if k.startswith("history/"))
        if history_keys != sorted(HISTORY_KEYS):
            raise CheckpointError(f"checkpoint {path} has history keys {history_keys}, expected {sorted(HISTORY_KEYS)}")
        if meta["rng"].get("bit_generator") != type(self.rng.bit_generator).__name__:
            raise CheckpointError(f"checkpoint {path} holds a {meta['rng'].get('bit_generator')} state, this GAN uses "
                                  f"{type(self.rng.bit_generator).__name__}")
        self._build_optimizers()  # only once everything else matches: creates the slots, changes no weight
        assign += self._match_variables(path, meta, arrays, ["d_optimizer", "g_optimizer"])
        return {"path": path, "arrays": arrays, "meta": meta, "assign": assign}

    def _match_variables(self, path, meta, arrays, groups):
        """[(variable, saved value)] for the named groups; CheckpointError at the first mismatch."""
        where = f"checkpoint {path} does not fit this GAN"
        advice = "build the same models and GAN options as the run that wrote it"
        here = self._variable_groups()
        assign = []
        for group in groups:
            variables, saved = here[group], meta["variables"].get(group)
            if saved is None:
                raise CheckpointError(f"{where}: it holds no {group} variables; {advice}")
            if len(saved) != len(variables):
                raise CheckpointError(
                    f"{where}: the {group} has {len(variables)} variables here but {len(saved)} in the checkpoint; {advice}"
                )
            for i, (v, (saved_path, saved_shape)) in enumerate(zip(variables, saved)):
                value = arrays.get(f"{group}/{i:04d}")
                if value is None or tuple(saved_shape) != tuple(v.shape) or value.shape != tuple(v.shape):
                    raise CheckpointError(
                        f"{where}: {group} variable {i} ({saved_path}) has shape {tuple(saved_shape)} in the "
                        f"checkpoint but {v.path} has shape {tuple(v.shape)} here; {advice}"
                    )
                assign.append((v, value))
        return assign

    @staticmethod
    def _check_fit_plan(path, saved, plan):
        def describe(p):
            length = f"steps={p['total']}" if p["sampler"] else f"{p['total']} steps on {p['n_data']} samples"
            return f"fit({length}, batch_size={p['batch_size']}) starting at step {p['start']}"

        if any(saved[k] != plan[k] for k in plan):
            raise CheckpointError(
                f"checkpoint {path} was written by {describe(saved)}, but this call is {describe(plan)}: call fit "
                "with the same data and arguments as the interrupted run, or give a new fit its own checkpoint_dir"
            )

    def _apply_checkpoint(self, state, hooks=()):
        """Assign a checked checkpoint (from ``_read_checkpoint``) to this GAN and the hooks' states."""
        arrays, meta = state["arrays"], state["meta"]
        for variable, value in state["assign"]:
            variable.assign(value.astype(variable.dtype))
        self.step, self.epoch = int(meta["step"]), int(meta["epoch"])
        self.train_seconds, self._fit_steps = float(meta["train_seconds"]), meta["fit_steps"]
        self.rng.bit_generator.state = meta["rng"]
        self.history = {k: arrays[f"history/{k}"].tolist() for k in HISTORY_KEYS}
        self.stop_training = False
        for i, h in enumerate(h for h in hooks if h.state is not None):
            entry = meta["hooks"][i]
            h.state.load_state_dict({**entry["json"], **{k: arrays[f"hooks/{i}/{k}"] for k in entry["arrays"]}})

    def restore(self, path):
        """Load the checkpoint file ``path`` into this GAN, checking it first.

        Restores G, D (BatchNorm statistics, Dropout and noise seed states), both optimizers, the
        step/epoch counters, the random generator, the history and the instance-noise horizon —
        the state to sample from or to start a new ``fit`` from. To continue an interrupted fit
        exactly (its shuffled order, its hooks' state) use ``fit(..., resume=path)`` instead.

        Raises ``CheckpointError`` (a ValueError) naming the file and the problem if it is damaged
        (with the previous intact checkpoint to use instead) or does not match these models and
        options; no weight, counter or random state is changed then.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a checkpoint file path, got {type(path).__name__}")
        self._apply_checkpoint(self._read_checkpoint(Path(path)))

    def history_arrays(self):
        """The history as a dict of float NumPy arrays (one entry per generator step)."""
        return {k: np.asarray(v) for k, v in self.history.items()}
