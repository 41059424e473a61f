"""One GAN trainer for every notebook: Keras ``train_on_batch`` with a frozen discriminator.

The loop, per iteration (one generator update)::

    for _ in range(d_steps):                     # k discriminator steps
        fake = G.predict_on_batch(z)
        D.trainable = True                       # Keras 3 reads this when a step runs: set it every time
        D.train_on_batch(real, real_targets)     # separate real and fake batches
        D.train_on_batch(fake, fake_targets)
    D.trainable = False                          # freeze D inside the combined model
    combined.train_on_batch(z, g_targets)        # combined = D(G(z)): only G moves

Why the flag is set on every iteration, and never only once before compiling (the Keras 2
recipe): Keras 3 reads ``trainable`` when a train step is traced or run, not at ``compile()``,
and the flag is shared by every model that contains D. Set once, it silently freezes D in its
own step (``tests/test_training.py`` proves both).

``GAN`` builds the models and runs the two steps; ``fit`` repeats them and delegates the rest:
the losses and targets to a ``Game`` (``gan_utils.games``: the extension point for new GAN
variants, with the recipe for adding one), the real batches to a data stream
(``gan_utils.stream``), checkpoints to ``gan_utils.checkpoint``, hooks and the weight average
to ``gan_utils.hooks``, argument checks to ``gan_utils.checks``.
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
from .checks import class_labels, keras_model, non_negative_int, non_negative_std, one_of, positive_int
from .games import GENERATOR_LOSSES, Z_DISTRIBUTIONS, BinaryCrossEntropyGame, Game, sample_z  # noqa: F401  (public here)
from .hooks import Hook, WeightAverage, check_hooks  # noqa: F401  (public here since the first notebooks)
from .layers import InstanceNoise  # noqa: F401
from .losses import BatchMeanOutput, minimax_generator_loss  # noqa: F401
from .model_checks import TrainableLayers
from .monitor import Monitor, monitor_hooks
from .stream import make_stream

HISTORY_KEYS = ("step", "d_loss_real", "d_loss_fake", "g_loss", "d_real", "d_fake", "noise_std", "time")

_KERAS_VERSION = tuple(int(p) for p in keras.__version__.split(".")[:2])
# Before keras 3.15, train_on_batch returned a running mean over calls unless metrics were reset.
_RESET_METRICS = _KERAS_VERSION < (3, 15)


def _game_from_options(game, generator_loss, real_target, fake_target, flip_prob, real_label, fake_label):
    """The game: the one given, or binary cross-entropy with the target options (``real_label``: old name)."""
    names = ("real_label" if real_label is not None else "real_target",
             "fake_label" if fake_label is not None else "fake_target")
    real_target = real_label if real_label is not None else real_target
    fake_target = fake_label if fake_label is not None else fake_target
    if game is None:
        return BinaryCrossEntropyGame(generator_loss, real_target, fake_target, flip_prob, names=names)
    if not isinstance(game, Game):
        raise TypeError(f"game must be a gan_utils.games.Game, got {type(game).__name__}")
    if (generator_loss, real_target, fake_target, flip_prob) != ("non_saturating", 1.0, 0.0, 0.0):
        raise ValueError("with game=..., set the loss and the targets on the game, not on GAN(...)")
    return game


def _model_shapes(generator, discriminator, conditional, game):
    """(latent_dim, sample_shape) of G and D after checking that they fit each other and the game."""
    n_in = 2 if conditional else 1
    kind = "conditional (num_classes is set)" if conditional else "unconditional"
    for model, name, what in ((generator, "generator", "[z, label]"), (discriminator, "discriminator", "[sample, label]")):
        model_checks.model_io(model, name)
        if len(model.inputs) != n_in:
            raise ValueError(
                f"the {name} has {len(model.inputs)} input(s) but a {kind} GAN needs {what if conditional else 'one'}; "
                + ("pass num_classes=None" if conditional else "pass num_classes=K for a conditional GAN"))
    z_shape = tuple(generator.inputs[0].shape[1:])
    if len(z_shape) != 1 or z_shape[0] is None:
        raise ValueError(f"the generator's z input must have shape (latent_dim,), got {z_shape}")
    sample_shape = tuple(generator.outputs[0].shape[1:])
    d_shape = tuple(discriminator.inputs[0].shape[1:])
    if sample_shape != d_shape:
        raise ValueError(f"the generator's output shape {sample_shape} does not match the discriminator's "
                         f"input shape {d_shape}")
    if len(discriminator.outputs) != 1 + game.extra_heads:
        raise ValueError(f"the discriminator has {len(discriminator.outputs)} outputs but the game "
                         f"{type(game).__name__} needs {1 + game.extra_heads} (real/fake first)")
    game.check_output(discriminator.outputs[0].shape[1:])
    model_checks.check_discriminator_output(game, generator, discriminator)
    game.check_latent_dim(int(z_shape[0]))
    return int(z_shape[0]), sample_shape


def _check_auxiliary(auxiliary, generator, discriminator, game, sample_shape):
    """The auxiliary model (InfoGAN's Q) against the game, G's output and G's layers; None if the game takes none."""
    needed = game.auxiliary_outputs
    if auxiliary is None:
        if needed:
            raise ValueError(f"the game {type(game).__name__} needs an auxiliary model with {needed} output(s) "
                             "(InfoGAN's Q, sharing D's body): pass GAN(..., auxiliary=Q)")
        return None
    auxiliary = keras_model(auxiliary, "auxiliary")
    if not needed:
        raise ValueError(f"the game {type(game).__name__} takes no auxiliary model; pass auxiliary=None, or a game "
                         "that trains one (gan_utils.infogan.InfoGANGame)")
    inputs, outputs = model_checks.model_io(auxiliary, "auxiliary")
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != sample_shape:
        raise ValueError(f"the auxiliary model must take one input, G's output of shape {sample_shape}; it takes "
                         f"{[tuple(t.shape[1:]) for t in inputs]}")
    if len(outputs) != needed:
        raise ValueError(f"the auxiliary model has {len(outputs)} outputs but the game {type(game).__name__} "
                         f"needs {needed}")
    if auxiliary is discriminator or auxiliary is generator:
        raise ValueError("the auxiliary model must be its own model (InfoGAN's Q: D's body plus its own head)")
    model_checks.check_distinct(generator, auxiliary, "the auxiliary model")
    d_layers = {id(layer) for layer in model_checks.sublayers(discriminator)}
    if all(id(layer) in d_layers for layer in model_checks.sublayers(auxiliary) if layer.weights):
        raise ValueError("every weight of the auxiliary model belongs to D, so G's step (D frozen) could not train "
                         "it: give Q a head of its own on D's body")
    return auxiliary


def _check_models(generator, discriminator, d_optimizer, g_optimizer, num_classes):
    """Everything about the models and optimizers that Keras would accept and train on silently."""
    model_checks.check_distinct(generator, discriminator)
    if d_optimizer is not None and d_optimizer is g_optimizer:
        raise ValueError("d_optimizer and g_optimizer are the same object; Keras 3 cannot share one optimizer "
                         "between two models: pass two instances")
    for optimizer, name in ((d_optimizer, "d_optimizer"), (g_optimizer, "g_optimizer")):
        if optimizer is not None:
            model_checks.check_optimizer(optimizer, name)
    if num_classes is not None:
        for model, name in ((generator, "generator"), (discriminator, "discriminator")):
            model_checks.check_embeddings(model, name, num_classes)
    model_checks.warn_batchnorm(discriminator)


def _build_compiled_state(model, targets):
    """Create a compiled model's metric and loss-tracker variables now, as Keras does on JAX and torch.

    On TensorFlow Keras creates them inside the first traced train step (of a model with several outputs),
    and a step that creates variables is traced twice. ``_symbolic_build`` is Keras' own build on symbolic
    tensors; where a Keras version lacks it, the first step builds them as before (only slower).
    """
    build = getattr(model, "_symbolic_build", None)
    if build is not None:
        build(data_batch=(model.inputs, targets, None))


def combined_model(generator, discriminator, latent_dim, conditional, noise_layer=None, auxiliary=None):
    """The model D(G(z)) (conditional: D(G(z, y), y)) through which G is trained; ``noise_layer`` before D;
    with an ``auxiliary`` model Q, the outputs [D(G(z)), Q(G(z))] (D's extra heads, if any, before Q's)."""
    z_in = keras.Input((latent_dim,), name="z")
    y_in = keras.Input((), dtype="int32", name="label") if conditional else None
    fake = generator(model_inputs(z_in, y_in))
    d_in = noise_layer(fake) if noise_layer is not None else fake  # instance noise on D's fake input, as in D's step
    outputs = discriminator(model_inputs(d_in, y_in))
    if auxiliary is not None:  # Q reads G's image itself; its layers shared with D are frozen with D in G's step
        outputs = [*(outputs if isinstance(outputs, list) else [outputs]), auxiliary(fake)]
    return keras.Model(model_inputs(z_in, y_in), outputs, name="combined")


class GAN:
    """Train a generator G and a discriminator D with ``train_on_batch``, D frozen in G's step.

    Args:
        generator: Keras model, z (latent_dim,) -> sample; conditional: [z, label] -> sample.
        discriminator: Keras model, sample -> (1,) probability of "real" (or the game's output);
            conditional: [sample, label] -> (1,). With a game that has extra heads, more outputs.
        num_classes: set for a conditional GAN (labels are ints in 0..num_classes-1 fed to both).
            Both models then take the label as a second input of shape () and dtype int32,
            ``keras.Input((), dtype="int32")`` (one integer per sample, e.g. into an
            ``Embedding(num_classes, ...)``).
        d_optimizer, g_optimizer: two distinct optimizers (Keras 3 cannot share one between
            models); default Adam(2e-4, beta_1=0.5), the DCGAN settings.
        game: a ``gan_utils.games.Game`` (losses and targets); default binary cross-entropy
            with the next four options.
        generator_loss: ``"non_saturating"`` (G maximises log D(G(z)); the default) or
            ``"minimax"`` (G minimises log(1 - D(G(z))), the original objective).
        real_target, fake_target: D's loss targets; a float, or a (low, high) range drawn per
            sample ("soft labels"). ``real_target=0.9`` is one-sided label smoothing.
            ``real_label`` / ``fake_label`` are their older names, still accepted.
        flip_prob: probability that each of D's targets is swapped (noisy labels).
        d_steps: discriminator steps per generator step (k in Goodfellow et al.'s algorithm).
        instance_noise: std of Gaussian noise added to D's inputs, real and fake, decaying
            linearly to 0 over ``noise_decay_steps`` generator steps (default: the first fit).
        z_distribution: ``"normal"`` (N(0, 1)) or ``"uniform"`` (U(-1, 1)) latent vectors.
        seed: seeds the trainer's NumPy generator (data order, z, labels, noise). Call
            ``keras.utils.set_random_seed`` before building the models for reproducible weights.
        auxiliary: for a game with ``auxiliary_outputs`` (InfoGAN): a model on G's output (InfoGAN's Q,
            which shares D's body and has a head of its own) whose output joins the combined model's,
            trained in G's step by ``g_optimizer``. ``D.trainable = False`` is recursive, so the layers Q
            shares with D stay frozen in G's step (they learn in D's step, from D's loss); Q's own
            layers learn in G's step only.
        monitor: ``True`` (default): every ``fit`` runs ``self.monitor``, a ``Monitor`` with its
            default settings, which warns (``GANTrainingWarning``) on NaN losses, a winning D,
            rejected fakes, a frozen D and collapsed samples. ``False``: no monitor. A ``Monitor``:
            that one. It never changes the training itself (it only reads, and samples G in
            inference mode).

    Checks before anything is compiled (``gan_utils.model_checks``): G and D must be two models
    without a shared layer; D's last activation must fit the game (a sigmoid for binary
    cross-entropy, none for a Wasserstein critic); optimizers must be instances with a finite
    learning rate >= 0; a conditional model's Embedding needs a row per class; BatchNorm in
    D warns (frozen in G's step, it normalises with other statistics). Layers of D that are
    frozen when the GAN is built stay frozen: only the others are unfrozen for D's step. A second
    GAN built on the same models takes D over (it recompiles D); the first then refuses to train.

    Checkpoints: ``fit(..., checkpoint_dir=..., checkpoint_every=N, resume=True)`` (see ``fit``);
    ``restore(path)`` loads one checkpoint.

    Also ``from gan_utils import GAN`` (the same class). Keras backends: TensorFlow and JAX; importing
    ``gan_utils`` refuses torch and numpy with the reason (``gan_utils.check_backend``).
    """

    def __init__(self, generator, discriminator, *, num_classes=None, d_optimizer=None, g_optimizer=None,
                 game=None, generator_loss="non_saturating", d_steps=1, real_target=1.0, fake_target=0.0,
                 flip_prob=0.0, instance_noise=0.0, noise_decay_steps=None, z_distribution="normal", seed=0,
                 monitor=True, real_label=None, fake_label=None, auxiliary=None):
        self.generator = keras_model(generator, "generator")
        self.discriminator = keras_model(discriminator, "discriminator")
        self.game = _game_from_options(game, generator_loss, real_target, fake_target, flip_prob,
                                       real_label, fake_label)
        self.z_distribution = one_of(z_distribution, Z_DISTRIBUTIONS, "z_distribution")
        self.num_classes = None if num_classes is None else positive_int(num_classes, "num_classes")
        self.conditional = num_classes is not None
        self.d_steps = positive_int(d_steps, "d_steps")
        self.instance_noise = non_negative_std(instance_noise, "instance_noise")
        self.noise_decay_steps = None if noise_decay_steps is None else positive_int(noise_decay_steps,
                                                                                     "noise_decay_steps")
        self.seed = non_negative_int(seed, "seed")
        if self.seed >= 2**32:
            raise ValueError(f"seed must be an integer in [0, 2**32) (Keras seeds its random layers with it), "
                             f"got {seed}")
        if not isinstance(monitor, (bool, Monitor)):
            raise TypeError(f"monitor must be True, False or a gan_utils.monitor.Monitor, got {type(monitor).__name__}")
        _check_models(generator, discriminator, d_optimizer, g_optimizer, self.num_classes)
        self.latent_dim, self.sample_shape = _model_shapes(generator, discriminator, self.conditional, self.game)
        self.auxiliary = _check_auxiliary(auxiliary, generator, discriminator, self.game, self.sample_shape)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self._compile_models()
        self.rng = np.random.default_rng(self.seed)
        self.step = self.epoch = 0
        self.stop_training = False
        self.train_seconds = 0.0
        self.fit_steps = None  # the first fit's end: the default instance-noise horizon
        self.history = {k: [] for k in HISTORY_KEYS}
        self.monitor = Monitor() if monitor is True else (monitor or None)

    # -- building
    def _compile_models(self):
        """Compile D, and the combined model D(G(z)) in which only G is meant to learn."""
        D, heads = self.discriminator, self.game.extra_heads
        if self.game.one_call_d_step and (heads or self.conditional):
            raise ValueError(f"{type(self.game).__name__}'s one-call D step supports an unconditional D with one "
                             "output; pass num_classes=None and a game without extra heads")
        # None: D's step trains D itself, on real then fake; else one call of the game's [real, fake] model
        self.d_model = self.game.d_step_model(D) if self.game.one_call_d_step else None
        previous = getattr(D, "_gan_utils_owner", None)
        if previous is not None and previous() is not None:
            warnings.warn(
                "these models already belong to another GAN (re-running the cell that builds the GAN does this): "
                "compiling D for this one takes D away from it, and that GAN will refuse to train. Keep using "
                "this new GAN, or rebuild the models for a second one", model_checks.ModelWarning, stacklevel=3)
        if not D.trainable:
            D.trainable = True  # the whole D frozen (the Keras 2 recipe, or an interrupted step): the GAN owns this flag
        self.d_layers = TrainableLayers(D)  # only the layers trainable now are ever unfrozen
        D._gan_utils_owner = weakref.ref(self)
        metrics = [BatchMeanOutput()] if not heads else [[BatchMeanOutput()]] + [[] for _ in range(heads)]
        if self.d_model is None:
            D.compile(optimizer=self.d_optimizer, loss=self.game.d_loss(), metrics=metrics)  # d_real / d_fake
        else:  # [real, fake] -> [D(real), D(fake)]: D's loss on each, their mean outputs as d_real / d_fake
            self.d_model.compile(optimizer=self.d_optimizer, loss={"real": self.game.d_loss(), "fake": self.game.d_loss()},
                                 metrics={"real": [BatchMeanOutput()], "fake": [BatchMeanOutput()]})
            _build_compiled_state(self.d_model, {"real": self.d_model.outputs[0], "fake": self.d_model.outputs[1]})
        self.noise_layer = InstanceNoise(seed=self.seed, name="instance_noise") if self.instance_noise else None
        self.combined = combined_model(self.generator, D, self.latent_dim, self.conditional, self.noise_layer,
                                       self.auxiliary)
        self.d_layers.freeze()
        # no metric: the loss is all G's step reports (fewer variables to reset per call)
        self.combined.compile(optimizer=self.g_optimizer, loss=self.game.g_loss())
        self.d_layers.unfreeze()
        # slots now, not inside the first traced train step: creating variables there makes TensorFlow trace it twice
        self.build_optimizers()

    def _check_owner(self):
        """Refuse to train if another GAN has since recompiled D (it would train with that GAN's optimizer)."""
        owner = getattr(self.discriminator, "_gan_utils_owner", None)
        if owner is None or owner() is not self:
            raise RuntimeError(
                "the discriminator has been compiled again since this GAN was built (another GAN(...) on the same "
                "models, e.g. a re-run cell): it now trains with that GAN's optimizer, not this one's. Use the "
                "newest GAN object, or rebuild the models and this GAN")

    def build_optimizers(self):
        """Create the optimizers' slots (as the first train step would) so a checkpoint can fill them."""
        D = self.discriminator
        if not self.d_optimizer.built:
            self.d_layers.unfreeze()
            self.d_optimizer.build((self.d_model or D).trainable_variables)
        if not self.g_optimizer.built:
            self.d_layers.freeze()  # the combined model's trainable variables: G's only
            try:
                self.g_optimizer.build(self.combined.trainable_variables)
            finally:
                self.d_layers.unfreeze()

    def variable_groups(self):
        """Every variable a checkpoint holds, by group: models (with BatchNorm statistics and seed
        generator states), the instance-noise layer, and both optimizers."""
        groups = {"generator": self.generator.variables, "discriminator": self.discriminator.variables}
        if self.d_model is not None:  # the one-call D step's own state (the penalty's eps generator)
            own = {id(v) for v in self.discriminator.variables}
            groups["d_step_model"] = [v for v in self.d_model.variables if id(v) not in own]
        if self.noise_layer is not None:
            groups["instance_noise"] = self.noise_layer.variables
        if self.auxiliary is not None:  # Q's own variables (its shared body is D's)
            own = {id(v) for v in self.discriminator.variables}
            groups["auxiliary"] = [v for v in self.auxiliary.variables if id(v) not in own]
        groups["d_optimizer"] = self.d_optimizer.variables
        groups["g_optimizer"] = self.g_optimizer.variables
        return groups

    def config(self):
        """The options a checkpoint must agree with (JSON values)."""
        return json.loads(json.dumps({  # as read back from a checkpoint: tuples become lists
            "conditional": self.conditional, "num_classes": self.num_classes, "latent_dim": self.latent_dim,
            "sample_shape": self.sample_shape, "d_steps": self.d_steps, "z_distribution": self.z_distribution,
            "instance_noise": self.instance_noise, "noise_decay_steps": self.noise_decay_steps, **self.game.config()}))

    # -- sampling
    def sample_z(self, n, rng):
        """Latent vectors (n, latent_dim) float32 from this GAN's z distribution (or its game's), drawn from ``rng``."""
        return self.game.sample_latent(positive_int(n, "n"), self.latent_dim, rng, self.z_distribution)

    def _draw_labels(self, n):
        """Labels for n fakes, drawn from the trainer's generator (None for an unconditional GAN)."""
        return self.rng.integers(0, self.num_classes, n, dtype=np.int32) if self.conditional else None

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
        step = self.step if step is None else step
        horizon = self.noise_decay_steps or self.fit_steps or 1
        return self.instance_noise * max(0.0, 1.0 - step / horizon)

    # -- the two steps of one iteration
    def _with_heads(self, targets, step, inputs):
        extra = self.game.head_targets(step, inputs)
        return [targets, *extra] if extra else targets

    def _train(self, model, inputs, targets, step):
        if _RESET_METRICS:
            model.reset_metrics()
        logs = model.train_on_batch(inputs, self._with_heads(targets, step, inputs), return_dict=True)
        mean = [v for k, v in logs.items() if k.endswith("mean_output")]
        return logs["loss"], (mean[0] if mean else float("nan"))

    def _d_step(self, real, y_real, real_targets, fake_targets, sigma=0.0):
        """One discriminator update on a real batch and one on a fresh fake batch."""
        rng, n = self.rng, len(real)
        z = self.sample_z(n, rng)
        y_fake = self._draw_labels(n)
        fake = np.asarray(self.generator.predict_on_batch(model_inputs(z, y_fake)))  # G in inference mode
        if sigma:  # instance noise on both of D's inputs
            real = real + rng.normal(0.0, sigma, real.shape).astype(np.float32)
            fake = fake + rng.normal(0.0, sigma, fake.shape).astype(np.float32)
        self.d_layers.unfreeze()  # D learns in its own step: Keras 3 reads the flag when the step runs
        if self.d_model is not None:  # the game's one-call step on [real, fake] (e.g. WGAN-GP)
            if _RESET_METRICS:
                self.d_model.reset_metrics()
            logs = self.d_model.train_on_batch([real, fake], {"real": real_targets, "fake": fake_targets},
                                               return_dict=True)
            return {"d_loss_real": logs["real_loss"], "d_loss_fake": logs["fake_loss"],
                    "d_real": logs["real_mean_output"], "d_fake": logs["fake_mean_output"]}
        loss_real, d_real = self._train(self.discriminator, model_inputs(real, y_real), real_targets, "real")
        loss_fake, d_fake = self._train(self.discriminator, model_inputs(fake, y_fake), fake_targets, "fake")
        return {"d_loss_real": loss_real, "d_loss_fake": loss_fake, "d_real": d_real, "d_fake": d_fake}

    def _g_step(self, targets, sigma=0.0):
        """One generator update through the combined model D(G(z)), with D frozen."""
        z = self.sample_z(len(targets), self.rng)
        if self.noise_layer is not None:
            self.noise_layer.stddev.assign(sigma)
        self.d_layers.freeze()  # freeze D inside the combined model: only G moves
        try:
            y_gen = self._draw_labels(len(targets))
            loss, _ = self._train(self.combined, model_inputs(z, y_gen), targets, "generator")
        finally:  # also after an error or Ctrl-C: D must not stay frozen
            self.d_layers.unfreeze()
        return {"g_loss": loss}

    def train_discriminator(self, real, labels=None):
        """One discriminator step on a real batch (n, *sample_shape) and n fresh fakes.

        Uses this GAN's targets (smoothing, noisy labels) and current instance noise; returns
        ``d_loss_real``, ``d_loss_fake``, ``d_real`` and ``d_fake``. ``fit`` calls the same step.
        """
        self._check_owner()
        real = np.asarray(real, dtype=np.float32)
        if real.shape[1:] != self.sample_shape:
            raise ValueError(f"real must have shape (n, {self.sample_shape}), got {real.shape}")
        model_checks.check_data_range(real, self.generator, "real")
        labels = class_labels(labels, len(real), self.num_classes)
        real_targets, fake_targets = self.game.d_targets(len(real), self.rng)
        return self._d_step(real, labels, real_targets, fake_targets, self.noise_std())

    def train_generator(self, batch_size):
        """One generator step on ``batch_size`` fresh latent vectors; returns ``g_loss``."""
        self._check_owner()
        return self._g_step(self.game.g_targets(positive_int(batch_size, "batch_size")), self.noise_std())

    def _iteration(self, stream, constant_targets, g_targets):
        """d_steps discriminator steps on real batches from ``stream``, then one generator step."""
        sigma, n = self.noise_std(), stream.batch_size
        d = np.zeros(4)
        for _ in range(self.d_steps):
            real, y_real = stream.next_batch(self.rng)  # one fixed batch size: an epoch's remainder is dropped
            real_targets, fake_targets = constant_targets or self.game.d_targets(n, self.rng)
            logs = self._d_step(real, y_real, real_targets, fake_targets, sigma)
            d += (logs["d_loss_real"], logs["d_loss_fake"], logs["d_real"], logs["d_fake"])
        d /= self.d_steps
        g = self._g_step(g_targets, sigma)
        self.step += 1
        return dict(zip(HISTORY_KEYS, (self.step, *d[:2], g["g_loss"], *d[2:], sigma)))

    # -- training
    def fit(self, data, labels=None, *, batch_size=64, epochs=None, steps=None, hooks=(), verbose=1, monitor=None,
            checkpoint_dir=None, checkpoint_every=None, checkpoint_keep=2, resume=False):
        """Train; can be called again to continue (history and step count carry on).

        Args:
            data: real samples, float32 array (N, *sample_shape) (shuffled each epoch, the last
                incomplete batch dropped), or a function ``sample(n, rng) -> (n, *sample_shape)``
                that draws fresh real samples (then give ``steps``; every batch is checked for
                shape and finite values). If G ends with tanh or sigmoid, the data must lie in
                its range ([-1, 1] or [0, 1]): checked on a strided subset before training.
            labels: ints (N,) in 0..num_classes-1 for a conditional GAN, else None.
            batch_size: fixed batch size for every D and G update.
            epochs / steps: how long, in passes over ``data`` or in generator steps (give one).
                One generator step uses ``d_steps`` real batches.
            hooks: ``Hook`` objects (progress frames, monitors).
            verbose: 0 silent, 1 progress bar, 2 one line per epoch.
            monitor: None (default): the GAN's own ``self.monitor`` (on unless the GAN was built
                with ``monitor=False``); ``False``: none for this fit; ``True`` or a ``Monitor``:
                that one. Skipped when ``hooks`` already hold a Monitor's hook.
            checkpoint_dir, checkpoint_every, checkpoint_keep, resume: checkpoints ``ckpt-<step>.npz``
                in ``checkpoint_dir`` every ``checkpoint_every`` generator steps and at the end, the
                newest ``checkpoint_keep`` (>= 2) of the run kept. The folder is created and a probe
                file written there before training: a read-only or full folder fails at once.
                ``resume=False``: a new run (the folder must hold no checkpoints); ``True``: continue
                from the newest checkpoint there if any; a path: from that file, which must lie in
                ``checkpoint_dir`` unless that folder holds no checkpoints. A run keeps its id across
                resumes, and a fit deletes or overwrites only its own run's checkpoints (the oldest
                beyond ``checkpoint_keep``; after resuming from an older one, the newer ones it
                replaces); where another run's (or an unreadable) checkpoint would be touched it
                refuses to start. Resuming checks that the call asks for the same training (data,
                labels, arguments, hooks) with the same models and settings (GAN options, the layers'
                configurations, the optimizers' settings such as the learning rate: a differing one
                is named, never silently replaced) and restores everything (models with BatchNorm
                statistics and seed states, optimizers, counters, the epoch's order and position,
                the random generator, history, hooks' states); it then equals an uninterrupted run
                bit for bit (same seed, on CPU). After an interrupted fit (an error, Ctrl-C), the same
                call with ``resume=True`` continues it on the same GAN too.

        Returns ``self.history``: lists per generator step of ``d_loss_real``, ``d_loss_fake``,
        ``g_loss``, ``d_real`` (mean D(x)), ``d_fake`` (mean D(G(z)), both in D's step),
        ``noise_std`` and ``time`` (training seconds so far).

        Raises ValueError / TypeError for bad arguments and ``CheckpointError`` (a ValueError) for a
        damaged or mismatched checkpoint, all before anything is trained or restored.
        """
        self._check_owner()
        batch_size = positive_int(batch_size, "batch_size")
        hooks = check_hooks(hooks)
        stream = make_stream(data, labels, batch_size, sample_shape=self.sample_shape, num_classes=self.num_classes,
                             d_steps=self.d_steps, epochs=epochs, steps=steps,
                             each_epoch_hooks=any(h.each_epoch for h in hooks))
        total = stream.total_steps(epochs, steps)
        stream.check(lambda x, name: model_checks.check_data_range(x, self.generator, name))
        for model, name in ((self.discriminator, "discriminator"), (self.generator, "generator")):
            if not model.trainable_weights:
                raise ValueError(f"the {name} has no trainable weights; it could not learn")
        hooks += monitor_hooks(monitor, self.monitor, hooks)
        folder, resume_path = ckpt.resolve_resume(checkpoint_dir, checkpoint_every, checkpoint_keep, resume)
        plan = {"start": self.step, "total": total, "batch_size": batch_size, "n_data": stream.n_data,
                "sampler": stream.sampler}
        finished = self._resume(resume_path, folder, plan, hooks, stream, verbose)
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
        constant = self.game.constant_targets and tuple(  # converted once, not in every call (~60 us each)
            ops.convert_to_tensor(t) for t in self.game.d_targets(stream.batch_size, self.rng))
        g_targets = ops.convert_to_tensor(self.game.g_targets(stream.batch_size))
        progbar = keras.utils.Progbar(plan["total"], stateful_metrics=["d_real", "d_fake"]) if verbose == 1 else None
        for h in hooks if not resumed else ():
            if h.at_start:
                h.fn(self)
        t0 = time.perf_counter()
        while self.step - plan["start"] < plan["total"] and not self.stop_training:
            record = self._iteration(stream, constant, g_targets)
            record["time"] = self.train_seconds + time.perf_counter() - t0
            for key, value in record.items():
                self.history[key].append(float(value))
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

    # -- checkpoints
    def _resume(self, path, folder, plan, hooks, stream, verbose):
        """Check the checkpoint ``path`` (None: a new run) and the checkpoint ``folder`` (None: no checkpoints)
        for this fit, then restore the checkpoint; True if the fit that wrote it had finished.

        Every check comes first: if one fails, nothing is changed.
        """
        state = None
        if path is not None:
            state = ckpt.read_training_state(self, path, plan=plan, hooks=hooks, stream=stream)
        ckpt.begin_run(self, folder, state, stream)  # the folder is writable, no other run's checkpoint at stake
        if state is None:
            return False
        ckpt.apply_training_state(self, state, hooks, stream)
        plan["start"] = state["meta"]["fit"]["start"]  # differs after an interrupted fit of this same GAN
        finished = state["meta"]["fit"]["finished"]
        if verbose:
            print(f"resumed from {path} at step {self.step}" + (" (that fit had finished)" if finished else "")
                  + (f"; {state['note']}" if state["note"] else ""))
        return finished

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
        ckpt.apply_training_state(self, ckpt.read_training_state(self, Path(path)))

    def history_arrays(self):
        """The history as a dict of float NumPy arrays (one entry per generator step)."""
        return {k: np.asarray(v) for k, v in self.history.items()}
