"""One GAN trainer for every notebook: Keras ``train_on_batch`` with a frozen discriminator.

Per iteration: ``d_steps`` times ``D.trainable = True; D.train_on_batch(real, real_targets);
D.train_on_batch(G.predict_on_batch(z), fake_targets)``, then ``D.trainable = False;
combined.train_on_batch(z, g_targets)`` with ``combined = D(G(z))``. The flag is set before every step:
Keras 3 reads it when a step runs, not at ``compile()``, and every model that contains D shares it; set once
(the Keras 2 recipe) it silently freezes D in its own step (``tests/test_training.py``).

**One extension point: the step.** A variant (``wgan.WassersteinGAN``, ``infogan.InfoGAN``,
``semi_supervised.SemiSupervisedGAN``) overrides public methods, as a keras-io example overrides ``train_step``:
``build_models()`` (D's step model and G's combined model, compiled by ``compile_step_models``),
``d_step(real, labels)`` and ``g_step(n, real)``, which train through ``update_discriminator`` /
``update_generator`` (they set the flags). Losses and targets come from a ``Game`` (``gan_utils.games``);
checkpoints (``gan_utils.checkpoint``) read and write ``state_dict()``.
"""

from __future__ import annotations

import json
import os
import time
import warnings
import weakref
from pathlib import Path

import keras
import numpy as np
from keras import ops

from . import checkpoint as ckpt
from . import model_checks
from .batches import model_inputs, predict_in_batches
from .checks import class_labels, keras_model, non_negative_std, one_of, positive_int, seed_value
from .games import GENERATOR_LOSSES, Z_DISTRIBUTIONS, BinaryCrossEntropyGame, Game, game_from_options, sample_z  # noqa: F401
from .hooks import Hook, WeightAverage, check_hooks  # noqa: F401  (public here since the first notebooks)
from .layers import InstanceNoise
from .losses import BatchMeanOutput, minimax_generator_loss  # noqa: F401
from .monitor import Monitor, monitor_hooks, monitor_option  # noqa: F401
from .step_models import combined_model
from .stream import make_stream

HISTORY_KEYS = ("step", "d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake", "noise_std", "time")

_KERAS_VERSION = tuple(int(p) for p in keras.__version__.split(".")[:2])
# Before keras 3.15, train_on_batch returned a running mean over calls unless metrics were reset.
_RESET_METRICS = _KERAS_VERSION < (3, 15)


class TrainableLayers:
    """Freeze and unfreeze D (and models that share its step, e.g. InfoGAN's Q) while keeping the layers the
    user froze on purpose frozen.

    ``D.trainable = True`` is recursive in Keras 3: it would also unfreeze a pretrained layer the
    user froze. This remembers which layers were frozen when the GAN was built and re-freezes
    exactly those after every unfreeze.
    """

    def __init__(self, *models):
        self.models = models
        self.models_trainable = [model.trainable for model in models]
        self.frozen = [layer for model in models for layer in model_checks.sublayers(model) if not layer.trainable]

    def unfreeze(self):
        for model, trainable in zip(self.models, self.models_trainable):
            model.trainable = trainable
        for layer in self.frozen:  # parents before children: the user's flags, exactly
            layer.trainable = False

    def freeze(self):
        for model in self.models:
            model.trainable = False


def take_discriminator(gan):
    """Make ``gan`` the owner of its D's trainable flags (a second GAN on the same models takes them over);
    returns D's ``TrainableLayers``. The one place a trainer, or a variant, claims D before compiling."""
    D = gan.discriminator
    previous = getattr(D, "_gan_utils_owner", None)
    if previous is not None and previous() is not None:
        warnings.warn(
            "these models already belong to another GAN (re-running the cell that builds the GAN does this): "
            "compiling D for this one takes D away from it, and that GAN will refuse to train. Keep using "
            "this new GAN, or rebuild the models for a second one", model_checks.ModelWarning, stacklevel=4)
    if not D.trainable:
        D.trainable = True  # the whole D frozen (the Keras 2 recipe, or an interrupted step): the GAN owns this flag
    layers = TrainableLayers(D)  # only the layers trainable now are ever unfrozen
    D._gan_utils_owner = weakref.ref(gan)
    return layers


def check_owner(gan):
    """Refuse to train if another GAN has since recompiled D (it would train with that GAN's optimizer)."""
    owner = getattr(gan.discriminator, "_gan_utils_owner", None)
    if owner is None or owner() is not gan:
        raise RuntimeError(
            "the discriminator has been compiled again since this GAN was built (another GAN(...) on the same "
            "models, e.g. a re-run cell): it now trains with that GAN's optimizer, not this one's. Use the "
            "newest GAN object, or rebuild the models and this GAN")


class GAN:
    """Train a generator G and a discriminator D with ``train_on_batch``, D frozen in G's step.

    Args:
        generator: Keras model, z (latent_dim,) -> sample; conditional: [z, label] -> sample.
        discriminator: Keras model, sample -> (1,) probability of "real" (or the game's output);
            conditional: [sample, label] -> (1,).
        num_classes: set for a conditional GAN: both models then take the label as a second input,
            ``keras.Input((), dtype="int32")`` (one integer in 0..num_classes-1 per sample).
        d_optimizer, g_optimizer: two distinct optimizers (Keras 3 cannot share one between
            models); default Adam(2e-4, beta_1=0.5), the DCGAN settings.
        game: a ``gan_utils.games.Game`` (losses and targets); default binary cross-entropy with:
        generator_loss: ``"non_saturating"`` (G maximises log D(G(z)); the default) or ``"minimax"``.
        real_target, fake_target: D's targets; a float, or a (low, high) range drawn per sample
            ("soft labels"). ``real_target=0.9`` is one-sided label smoothing.
        flip_prob: probability that each of D's targets is swapped (noisy labels).
        d_steps: discriminator steps per generator step (k in Goodfellow et al.'s algorithm).
        instance_noise: std of Gaussian noise added to D's inputs, real and fake, decaying
            linearly to 0 over ``noise_decay_steps`` generator steps (default: the first fit).
        z_distribution: ``"normal"`` (N(0, 1)) or ``"uniform"`` (U(-1, 1)) latent vectors.
        seed: seeds the trainer's NumPy generator (data order, z, labels, noise). Call
            ``keras.utils.set_random_seed`` before building the models for reproducible weights.
        monitor: ``True`` (default): every ``fit`` runs ``self.monitor`` (``gan_utils.monitor.Monitor``),
            which warns on NaN losses, a winning D, rejected fakes, a frozen D and collapsed samples, and
            never changes the training; ``False``: none; a ``Monitor``: that one.

    Before anything is compiled, ``gan_utils.model_checks`` refuses what Keras would train on silently (G and
    D sharing a layer, a last activation that does not fit the game, a bad optimizer, an Embedding without a
    row per class) and warns about BatchNorm in D. Layers of D frozen when the GAN is built stay frozen. A
    second GAN built on the same models takes D over (it recompiles D); the first then refuses to train.
    """

    def __init__(self, generator, discriminator, *, num_classes=None, d_optimizer=None, g_optimizer=None,
                 game=None, generator_loss="non_saturating", d_steps=1, real_target=1.0, fake_target=0.0,
                 flip_prob=0.0, instance_noise=0.0, noise_decay_steps=None, z_distribution="normal", seed=0,
                 monitor=True):
        self.generator = keras_model(generator, "generator")
        self.discriminator = keras_model(discriminator, "discriminator")
        self.game = game_from_options(game, generator_loss, real_target, fake_target, flip_prob)
        self.z_distribution = one_of(z_distribution, Z_DISTRIBUTIONS, "z_distribution")
        self.num_classes = None if num_classes is None else positive_int(num_classes, "num_classes")
        self.conditional = num_classes is not None
        self.d_steps = positive_int(d_steps, "d_steps")
        self.instance_noise = non_negative_std(instance_noise, "instance_noise")
        self.noise_decay_steps = None if noise_decay_steps is None else positive_int(noise_decay_steps, "noise_decay_steps")
        self.seed = seed_value(seed)
        self.monitor = monitor_option(monitor)
        model_checks.check_models(generator, discriminator, d_optimizer, g_optimizer, self.num_classes)
        self.latent_dim, self.sample_shape = model_checks.model_shapes(generator, discriminator, self.conditional,
                                                                       self.game)
        self.check_variant()
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.noise_layer = InstanceNoise(seed=self.seed, name="instance_noise") if self.instance_noise else None
        self.d_layers = take_discriminator(self)
        self.build_models()
        self.rng, self.step, self.epoch, self.train_seconds = np.random.default_rng(self.seed), 0, 0, 0.0
        self.history, self.stop_training, self._g_targets = {k: [] for k in HISTORY_KEYS}, False, {}
        self.fit_steps = None  # the first fit's end: the default instance-noise horizon
        self.checkpoint_run = None  # the checkpointed run this GAN trains ({"run", "fingerprint"}), if any

    # -- building: what a variant overrides
    def check_variant(self):
        """Checks of what this class's steps need, before anything is compiled: here, D with one output."""
        if len(self.discriminator.outputs) != 1:  # a variant with more heads overrides this and the steps
            raise ValueError(f"the discriminator has {len(self.discriminator.outputs)} outputs but GAN's steps need one")

    def build_models(self):
        """Build and compile the two models the steps train: D itself, and the combined model D(G(z))."""
        combined = combined_model(self.generator, self.discriminator, self.latent_dim, self.conditional,
                                  self.noise_layer)
        # D's metric: its mean output (d_real / d_fake); G's model has none (fewer variables to reset per call)
        self.compile_step_models(self.discriminator, combined, d_loss=self.game.d_loss(),
                                 g_loss=self.game.g_loss(), d_metrics=[BatchMeanOutput()])

    def compile_step_models(self, d_model, g_model, *, d_loss, g_loss, d_metrics=None, d_loss_weights=None):
        """Compile D's step model (D unfrozen, ``d_optimizer``) and G's (D frozen, ``g_optimizer``), and create the
        optimizers' slots; they become ``self.d_model`` and ``self.combined``. The one place for this sequence."""
        self.d_model, self.combined = d_model, g_model
        d_model.compile(optimizer=self.d_optimizer, loss=d_loss, metrics=d_metrics, loss_weights=d_loss_weights)
        self.d_layers.freeze()
        g_model.compile(optimizer=self.g_optimizer, loss=g_loss)
        self.d_layers.unfreeze()
        # slots now, not inside the first traced train step: creating variables there makes TensorFlow trace it twice
        self.build_optimizers()

    def build_optimizers(self):
        """Create the optimizers' slots (as the first train step would) so a checkpoint can fill them."""
        if not self.d_optimizer.built:
            self.d_layers.unfreeze()
            self.d_optimizer.build(self.d_model.trainable_variables)
        if not self.g_optimizer.built:
            self.d_layers.freeze()  # the combined model's trainable variables: G's only
            try:
                self.g_optimizer.build(self.combined.trainable_variables)
            finally:
                self.d_layers.unfreeze()

    def models(self):  # the models a checkpoint fingerprints, by name (a variant adds its own)
        return {"generator": self.generator, "discriminator": self.discriminator}

    def variable_groups(self):
        """Every variable a checkpoint holds, by group: models (with BatchNorm statistics and seed
        generator states), D's step model's own state, the instance-noise layer, and both optimizers."""
        groups = {"generator": self.generator.variables, "discriminator": self.discriminator.variables}
        own = {id(v) for v in self.discriminator.variables}
        step_state = [v for v in self.d_model.variables if id(v) not in own]
        if step_state:  # e.g. the gradient penalty's eps generator
            groups["d_step_model"] = step_state
        if self.noise_layer is not None:
            groups["instance_noise"] = self.noise_layer.variables
        return {**groups, "d_optimizer": self.d_optimizer.variables, "g_optimizer": self.g_optimizer.variables}

    def config(self):
        """The options a checkpoint must agree with (JSON values)."""
        return json.loads(json.dumps({  # as read back from a checkpoint: tuples become lists
            "conditional": self.conditional, "num_classes": self.num_classes, "latent_dim": self.latent_dim,
            "sample_shape": self.sample_shape, "d_steps": self.d_steps, "z_distribution": self.z_distribution,
            "instance_noise": self.instance_noise, "noise_decay_steps": self.noise_decay_steps, **self.game.config()}))

    # -- the trainer's state, for checkpoints
    def state_dict(self):
        """The trainer's own state besides the variables: counters, the random generator, history, run."""
        return {"step": self.step, "epoch": self.epoch, "train_seconds": self.train_seconds,
                "fit_steps": self.fit_steps, "rng": self.rng.bit_generator.state,
                "history": {k: list(v) for k, v in self.history.items()}, "run": self.checkpoint_run}

    def load_state_dict(self, state):
        """Restore what ``state_dict`` returned (``run`` optional: kept as it is when absent)."""
        self.step, self.epoch, self.stop_training = int(state["step"]), int(state["epoch"]), False
        self.train_seconds, self.fit_steps = float(state["train_seconds"]), state["fit_steps"]
        self.rng.bit_generator.state = state["rng"]
        self.history = {k: list(state["history"][k]) for k in self.history}
        self.checkpoint_run = state.get("run", self.checkpoint_run)

    # -- sampling
    def sample_z(self, n, rng):
        """Latent vectors (n, latent_dim) float32 from this GAN's z distribution (or its game's), drawn from ``rng``."""
        return self.game.sample_latent(positive_int(n, "n"), self.latent_dim, rng, self.z_distribution)

    def draw_labels(self, n):
        """Labels for n fakes, drawn from the trainer's generator (None for an unconditional GAN)."""
        return self.rng.integers(0, self.num_classes, n, dtype=np.int32) if self.conditional else None

    def fakes(self, n):
        """(fakes, their labels or None, z) for D's step: n fresh latent vectors through G in inference mode."""
        z, labels = self.sample_z(n, self.rng), self.draw_labels(n)  # z first, then labels: the trainer's draw order
        return np.asarray(self.generator.predict_on_batch(model_inputs(z, labels))), labels, z

    def generate(self, z, labels=None, batch_size=1000):
        """G's samples (inference mode) for latent vectors ``z`` (n, latent_dim) [and labels (n,)]."""
        z = np.asarray(z, dtype=np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must have shape (n, {self.latent_dim}), got {z.shape}")
        return predict_in_batches(self.generator, z, class_labels(labels, len(z), self.num_classes), batch_size)

    def discriminate(self, x, labels=None, batch_size=1000):
        """D's real/fake output (n,) for samples ``x`` [and labels]: the probability of "real" in the default game."""
        x = np.asarray(x, dtype=np.float32)
        out = predict_in_batches(self.discriminator, x, class_labels(labels, len(x), self.num_classes), batch_size)
        return (out[0] if isinstance(out, list) else out).reshape(-1)

    def noise_std(self, step=None):
        """Instance-noise std at a generator step: linear decay from ``instance_noise`` to 0."""
        if not self.instance_noise:
            return 0.0
        horizon = self.noise_decay_steps or self.fit_steps or 1
        return self.instance_noise * max(0.0, 1.0 - (self.step if step is None else step) / horizon)

    def with_noise(self, *batches):
        """The batches with instance noise of the current std added (unchanged without instance noise)."""
        sigma = self.noise_std()
        return tuple(x + self.rng.normal(0.0, sigma, x.shape).astype(np.float32) for x in batches) if sigma else batches

    def generator_targets(self, n):
        """The game's targets for G's step, converted once per batch size (they never change)."""
        if n not in self._g_targets:
            self._g_targets[n] = ops.convert_to_tensor(self.game.g_targets(n))
        return self._g_targets[n]

    # -- the two updates every step trains through
    def update_discriminator(self, inputs, targets):
        """One ``train_on_batch`` of D's step model with D unfrozen; its logs (``loss``, metrics)."""
        self.d_layers.unfreeze()  # D learns in its own step: Keras 3 reads the flag when the step runs
        if _RESET_METRICS:
            self.d_model.reset_metrics()
        return self.d_model.train_on_batch(inputs, targets, return_dict=True)

    def update_generator(self, inputs, targets):
        """One ``train_on_batch`` of the combined model with D frozen (only G, or G's side, moves); its loss."""
        if self.noise_layer is not None:
            self.noise_layer.stddev.assign(self.noise_std())
        self.d_layers.freeze()  # freeze D inside the combined model: only G moves
        try:
            if _RESET_METRICS:
                self.combined.reset_metrics()
            return self.combined.train_on_batch(inputs, targets, return_dict=True)["loss"]
        finally:  # also after an error or Ctrl-C: D must not stay frozen
            self.d_layers.unfreeze()

    # -- the two steps of one iteration: what a variant overrides
    def d_step(self, real, labels=None):
        """One discriminator update on a real batch and one on a fresh fake batch."""
        real_targets, fake_targets = self.game.d_targets(len(real), self.rng)
        fake, fake_labels, _ = self.fakes(len(real))  # G in inference mode
        real, fake = self.with_noise(real, fake)  # instance noise on both of D's inputs
        real_logs = self.update_discriminator(model_inputs(real, labels), real_targets)
        fake_logs = self.update_discriminator(model_inputs(fake, fake_labels), fake_targets)
        return {"d_loss_real": real_logs["loss"], "d_loss_fake": fake_logs["loss"],
                "d_real": real_logs["mean_output"], "d_fake": fake_logs["mean_output"]}

    def g_step(self, n, real=None):
        """One generator update through the combined model D(G(z)), with D frozen (``real`` unused here)."""
        z = self.sample_z(n, self.rng)
        return {"g_loss": self.update_generator(model_inputs(z, self.draw_labels(n)), self.generator_targets(n))}

    def train_discriminator(self, real, labels=None):
        """``d_step`` on a real batch (n, *sample_shape) after checking it; returns the step's logs, as in ``fit``."""
        check_owner(self)
        real = np.asarray(real, dtype=np.float32)
        if real.shape[1:] != self.sample_shape:
            raise ValueError(f"real must have shape (n, {self.sample_shape}), got {real.shape}")
        model_checks.check_data_range(real, self.generator, "real")
        return self.d_step(real, class_labels(labels, len(real), self.num_classes))

    def train_generator(self, batch_size, real=None):
        """One generator step (``g_step``) on ``batch_size`` fresh latent vectors; returns ``{"g_loss": ...}``. ``real``:
        the real batch D saw last, for a variant whose G matches it (feature matching)."""
        check_owner(self)
        return self.g_step(positive_int(batch_size, "batch_size"),
                           None if real is None else np.asarray(real, dtype=np.float32))

    def _iteration(self, stream):
        """d_steps discriminator steps on real batches from ``stream``, then one generator step."""
        sigma, d_logs = self.noise_std(), []
        for _ in range(self.d_steps):
            real, labels = stream.next_batch(self.rng)  # one fixed batch size: an epoch's remainder is dropped
            d_logs.append(self.d_step(real, labels))
        keys = list(d_logs[0])  # each key's mean over the d_steps, in float64
        d = np.mean(np.array([[logs[k] for k in keys] for logs in d_logs], dtype=np.float64), axis=0)
        record = {**dict(zip(keys, d)), **self.g_step(stream.batch_size, real)}
        self.step += 1
        return {**record, "step": self.step, "noise_std": sigma}

    # -- training
    def fit(self, data, labels=None, *, batch_size=64, epochs=None, steps=None, hooks=(), verbose=1, monitor=None,
            checkpoint_dir=None, checkpoint_every=None, checkpoint_keep=2, resume=False):
        """Train; can be called again to continue (history and step count carry on).

        Args:
            data: real samples, float32 array (N, *sample_shape) (shuffled each epoch, the last incomplete
                batch dropped), or a function ``sample(n, rng) -> (n, *sample_shape)`` drawing fresh samples
                (then give ``steps``). Data must lie in G's output range (tanh: [-1, 1]): checked first.
            labels: ints (N,) in 0..num_classes-1 for a conditional GAN, else None.
            batch_size: fixed batch size for every D and G update.
            epochs / steps: how long, in passes over ``data`` or in generator steps (give one).
            hooks: ``Hook`` objects (progress frames, averages, monitors).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            monitor: None: the GAN's own ``self.monitor``; ``False``: none for this fit; ``True`` or a
                ``Monitor``: that one (skipped when ``hooks`` already hold a Monitor's hook).
            checkpoint_dir, checkpoint_every, checkpoint_keep, resume: checkpoints ``ckpt-<step>.npz`` in
                ``checkpoint_dir`` every ``checkpoint_every`` generator steps and at the end, the newest
                ``checkpoint_keep`` (>= 2) kept. ``resume=False``: a new run (an empty folder); ``True``: on
                from the newest checkpoint there; a path: from that file. A resumed fit must be the same
                training (data, arguments, hooks, models, settings: what differs is named) and then equals an
                uninterrupted run bit for bit; no other run's checkpoint is ever overwritten or deleted
                (``gan_utils.checkpoint`` has the details).

        Returns ``self.history``: lists per generator step of ``d_loss_real``, ``d_loss_fake``, ``g_loss``,
        ``d_real`` (mean D(x)), ``d_fake`` (mean D(G(z)), both in D's step), ``noise_std`` and ``time``
        (training seconds so far). Bad arguments and damaged or mismatched checkpoints raise before anything
        is trained or restored.
        """
        check_owner(self)
        batch_size = positive_int(batch_size, "batch_size")
        hooks = check_hooks(hooks)
        stream = make_stream(data, labels, batch_size, sample_shape=self.sample_shape, num_classes=self.num_classes,
                             d_steps=self.d_steps, epochs=epochs, steps=steps,
                             each_epoch_hooks=any(h.each_epoch for h in hooks))
        total = stream.total_steps(epochs, steps)
        stream.check(lambda x, name: model_checks.check_data_range(x, self.generator, name))
        model_checks.check_trainable(self.generator, self.discriminator)
        hooks += monitor_hooks(monitor, self.monitor, hooks)
        folder, resume_path = ckpt.resolve_resume(checkpoint_dir, checkpoint_every, checkpoint_keep, resume)
        plan = {"start": self.step, "total": total, "batch_size": batch_size, "n_data": stream.n_data,
                "sampler": stream.sampler}
        # every check first (the checkpoint, the folder), then the checkpoint's state; the run: its own or a new one
        self.checkpoint_run, finished = ckpt.resume_fit(self, folder, resume_path, plan, hooks, stream, verbose)
        if finished:
            return self.history
        if self.noise_decay_steps is None and self.fit_steps is None:
            self.fit_steps = self.step + total  # default decay horizon: the end of the first fit
        self.stop_training = False
        save = None if folder is None else (
            lambda done: ckpt.save_training_state(self, folder, checkpoint_keep, plan, stream, hooks, done))
        self._run(stream, plan, hooks, verbose, save, checkpoint_every, resumed=resume_path is not None)
        return self.history

    def _run(self, stream, plan, hooks, verbose, save, checkpoint_every, resumed):
        """The step loop of ``fit``: iterations, history, progress, hooks, epochs, checkpoints."""
        progbar = keras.utils.Progbar(plan["total"], stateful_metrics=["d_real", "d_fake"]) if verbose == 1 else None
        for h in hooks if not resumed else ():
            if h.at_start:
                h.fn(self)
        t0 = time.perf_counter()
        while self.step - plan["start"] < plan["total"] and not self.stop_training:
            record = self._iteration(stream)
            record["time"] = self.train_seconds + time.perf_counter() - t0
            for key, values in self.history.items():
                values.append(float(record[key]))
            if progbar is not None:
                progbar.update(self.step - plan["start"], [
                    ("d_loss", record["d_loss_real"] + record["d_loss_fake"]), ("g_loss", record["g_loss"]),
                    ("d_real", record["d_real"]), ("d_fake", record["d_fake"])])
            for h in hooks:
                if h.every and self.step % h.every == 0:
                    h.fn(self)
            if stream.steps_per_epoch and (self.step - plan["start"]) % stream.steps_per_epoch == 0:
                self._end_epoch(stream, hooks, record, verbose)
            if checkpoint_every and self.step % checkpoint_every == 0:
                self.train_seconds += time.perf_counter() - t0  # writing does not count as training time
                save(False)
                t0 = time.perf_counter()
        self.train_seconds += time.perf_counter() - t0
        if save is not None:
            save(True)

    def _end_epoch(self, stream, hooks, record, verbose):
        self.epoch += 1
        stream.end_epoch()  # reshuffle for the next epoch
        if verbose == 2:
            print(f"epoch {self.epoch}: step {self.step}, d_loss {record['d_loss_real'] + record['d_loss_fake']:.3f}, "
                  f"g_loss {record['g_loss']:.3f}, D(x) {record['d_real']:.3f}, D(G(z)) {record['d_fake']:.3f}, "
                  f"{record['time']:.0f} s")
        for h in hooks:
            if h.each_epoch:
                h.fn(self)

    def restore(self, path):
        """Load the checkpoint file ``path`` into this GAN (models, optimizers, counters, random generator,
        history), checking it first: ``CheckpointError`` if it is damaged or does not fit, and nothing changes.
        To continue an interrupted fit exactly (its shuffled order, its hooks), use ``fit(..., resume=path)``."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a checkpoint file path, got {type(path).__name__}")
        ckpt.apply_training_state(self, ckpt.read_training_state(self, Path(path)))

    def history_arrays(self):
        """The history as a dict of float NumPy arrays (one entry per generator step)."""
        return {k: np.asarray(v) for k, v in self.history.items()}
