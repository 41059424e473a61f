"""InfoGAN (Chen et al. 2016): G's latent vector carries codes, and a network Q must read them back.

G's latent vector is ``[noise (noise_dim), one-hot categorical code (categories), continuous codes
(continuous)]``: the noise is N(0, 1), the categorical code c1 uniform over ``categories`` values, the
continuous codes U(-1, 1). Q shares D's body and outputs ``categories`` logits followed by ``continuous``
means. The information term (``InfoLoss``, lambda * L_I)

    categorical_weight * CE(c1, Q(G(z, c))) + continuous_weight * 0.5 * ||c_cont - mu(G(z, c))||^2

is the negative of the variational lower bound on the mutual information I(c; G(z, c)), up to the constant
H(c1), with a unit-variance Gaussian for the continuous codes. ``InfoGAN(G, D, Q, game=InfoGANGame(...))``
puts it in both objectives, as the method does: D's step minimises D's loss plus lambda * L_I on that step's
fakes (one ``train_on_batch`` that moves D's body, D's head and Q's head), G's step G's loss plus
lambda * L_I with D and Q frozen (only G moves).

``categorical_weight = continuous_weight = 0`` gives the control: the same networks and budget, without
the information term.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers, ops

from . import model_checks
from .checks import as_number, keras_model, positive_int
from .games import BinaryCrossEntropyGame, sample_z
from .losses import BatchMeanOutput
from .step_models import build_compiled_state, real_fake_logs
from .training import GAN, TrainableLayers


@keras.saving.register_keras_serializable(package="gan_utils")
class InfoLoss(keras.losses.Loss):
    """Q's loss on the codes: cross-entropy on the categorical code plus half the squared error on the
    continuous ones, weighted. ``y_true``: (n, categories + continuous) = [one-hot code, continuous codes];
    ``y_pred``: Q's output, [categories logits, continuous means]."""

    def __init__(self, categories=10, continuous=2, categorical_weight=1.0, continuous_weight=0.1,
                 name="info_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.categories, self.continuous = int(categories), int(continuous)
        self.categorical_weight, self.continuous_weight = float(categorical_weight), float(continuous_weight)

    def call(self, y_true, y_pred):
        k = self.categories
        y_true = ops.cast(y_true, y_pred.dtype)
        loss = self.categorical_weight * ops.categorical_crossentropy(y_true[:, :k], y_pred[:, :k], from_logits=True)
        if self.continuous:
            error = y_true[:, k:] - y_pred[:, k:]
            loss = loss + self.continuous_weight * 0.5 * ops.sum(error * error, axis=-1)
        return loss

    def get_config(self):
        return {**super().get_config(), "categories": self.categories, "continuous": self.continuous,
                "categorical_weight": self.categorical_weight, "continuous_weight": self.continuous_weight}


def _weight(value, name):
    number = as_number(value)
    if not (math.isfinite(number) and number >= 0):
        raise ValueError(f"{name} must be a finite number >= 0 (0: no information term), got {value!r}")
    return number


class InfoGANGame(BinaryCrossEntropyGame):
    """Binary cross-entropy GAN whose latent vector holds codes that Q must recover (see the module docstring).

    Args:
        noise_dim, categories, continuous: the latent layout; G's input has noise_dim + categories +
            continuous numbers (the paper's MNIST model: 62, 10, 2).
        categorical_weight, continuous_weight: lambda for the categorical and the continuous codes
            (the paper: 1 for a categorical code, smaller for continuous ones); 0 and 0: no
            information term (the control).
        generator_loss, real_target, fake_target, flip_prob: as ``BinaryCrossEntropyGame``.
    """

    def __init__(self, noise_dim=62, categories=10, continuous=2, categorical_weight=1.0, continuous_weight=0.1,
                 generator_loss="non_saturating", real_target=1.0, fake_target=0.0, flip_prob=0.0):
        super().__init__(generator_loss, real_target, fake_target, flip_prob)
        self.noise_dim = positive_int(noise_dim, "noise_dim")
        self.categories = positive_int(categories, "categories")
        if self.categories < 2:
            raise ValueError(f"categories must be at least 2 (a code with one value carries nothing), got {categories}")
        self.continuous = int(continuous)
        if self.continuous < 0 or self.continuous != continuous:
            raise ValueError(f"continuous must be an integer >= 0, got {continuous!r}")
        self.categorical_weight = _weight(categorical_weight, "categorical_weight")
        self.continuous_weight = _weight(continuous_weight, "continuous_weight")

    @property
    def latent_dim(self):
        return self.noise_dim + self.categories + self.continuous

    def check_latent_dim(self, latent_dim):
        if latent_dim != self.latent_dim:
            raise ValueError(
                f"the generator's latent input has {latent_dim} numbers, but this InfoGAN game needs noise_dim + "
                f"categories + continuous = {self.noise_dim} + {self.categories} + {self.continuous} = "
                f"{self.latent_dim}")

    def information_loss(self):
        """lambda * L_I: Q's loss on the codes (``InfoLoss``), in D's step and in G's."""
        return InfoLoss(self.categories, self.continuous, self.categorical_weight, self.continuous_weight)

    def g_loss(self):
        return [super().g_loss(), self.information_loss()]

    def code_targets(self, z):
        """Q's targets in G's step: the codes G was given (one-hot categorical, continuous), from z (n, latent_dim)."""
        return z[:, self.noise_dim:]

    def make_latent(self, noise, codes, continuous=None):
        """G's latent vectors from their parts: noise (n, noise_dim), categorical codes ints (n,) in
        0..categories-1 and continuous codes (n, continuous) (default 0); float32 (n, latent_dim)."""
        noise = np.asarray(noise, dtype=np.float32)
        n = len(noise)
        if noise.shape != (n, self.noise_dim):
            raise ValueError(f"noise must have shape (n, {self.noise_dim}), got {noise.shape}")
        codes = np.asarray(codes)
        if codes.shape != (n,) or not np.issubdtype(codes.dtype, np.integer):
            raise ValueError(f"codes must be {n} integers (one per noise vector), got shape {codes.shape} {codes.dtype}")
        if n and (codes.min() < 0 or codes.max() >= self.categories):
            raise ValueError(f"codes must lie in 0..{self.categories - 1}, got {codes.min()}..{codes.max()}")
        continuous = np.zeros((n, self.continuous), np.float32) if continuous is None else np.asarray(
            continuous, dtype=np.float32)
        if continuous.shape != (n, self.continuous):
            raise ValueError(f"continuous must have shape (n, {self.continuous}), got {continuous.shape}")
        one_hot = np.eye(self.categories, dtype=np.float32)[codes]
        return np.concatenate([noise, one_hot, continuous], axis=1)

    def split_latent(self, z):
        """(noise, categorical codes as ints, continuous codes) of latent vectors z (n, latent_dim)."""
        z = np.asarray(z)
        k = self.noise_dim + self.categories
        return z[:, : self.noise_dim], z[:, self.noise_dim : k].argmax(axis=1), z[:, k:]

    def sample_latent(self, n, latent_dim, rng, distribution):
        self.check_latent_dim(latent_dim)
        noise = sample_z(n, self.noise_dim, rng, distribution)
        codes = rng.integers(0, self.categories, n)  # c1 ~ Cat(categories), uniform
        continuous = rng.uniform(-1.0, 1.0, (n, self.continuous)).astype(np.float32)  # c2, c3 ~ U(-1, 1)
        return self.make_latent(noise, codes, continuous)

    def config(self):
        return {**super().config(), "infogan": {
            "noise_dim": self.noise_dim, "categories": self.categories, "continuous": self.continuous,
            "categorical_weight": self.categorical_weight, "continuous_weight": self.continuous_weight}}


def _check_q(q_network, generator, discriminator, sample_shape):
    """Q against G's output and D's layers: one input (G's output), one output, a head of its own."""
    q_network = keras_model(q_network, "q_network")
    inputs, outputs = model_checks.model_io(q_network, "q_network")
    if len(inputs) != 1 or tuple(inputs[0].shape[1:]) != sample_shape:
        raise ValueError(f"Q must take one input, G's output of shape {sample_shape}; it takes "
                         f"{[tuple(t.shape[1:]) for t in inputs]}")
    if len(outputs) != 1:
        raise ValueError(f"Q has {len(outputs)} outputs but InfoGAN needs one: [categorical logits, continuous means]")
    if q_network is discriminator or q_network is generator:
        raise ValueError("Q must be its own model (InfoGAN's Q: D's body plus its own head)")
    model_checks.check_distinct(generator, q_network, "Q")
    d_layers = {id(layer) for layer in model_checks.sublayers(discriminator)}
    if all(id(layer) in d_layers for layer in model_checks.sublayers(q_network) if layer.weights):
        raise ValueError("every weight of Q belongs to D, so G's step (D frozen) could not train it: give Q a head "
                         "of its own on D's body")
    return q_network


class InfoGAN(GAN):
    """InfoGAN through ``train_on_batch``: the information term in both D's and G's objective, as the method has it.

    Args:
        generator: z -> image, z laid out as the game's ``[noise, one-hot c1, continuous codes]``.
        discriminator: image -> (1,) probability of "real" (D's body and its real/fake head).
        q_network: image -> (categories + continuous,): Q, D's body plus a head of its own (its logits for c1,
            then the continuous codes' means).
        game: an ``InfoGANGame`` (the latent layout and the information term's weights, lambda).
        Every other keyword: as ``GAN`` (unconditional only; ``d_optimizer`` trains D and Q, ``g_optimizer`` G).

    D's step is one ``train_on_batch`` of ``[real, fake] -> [D(real), D(fake), Q(fake)]``: D's loss on the real and
    the fake batch plus lambda * L_I, Q's loss on the codes of that step's fakes, so D's body (which Q shares) and Q's
    head learn from the information term (Chen et al.'s objective; openai/InfoGAN puts Q's layers in D's variables).
    G's step trains ``z -> [D(G(z)), Q(G(z))]`` on G's loss plus lambda * L_I with D and Q frozen: only G moves.
    Both steps need D and Q frozen or unfrozen together, so the flags cover both (``TrainableLayers(D, Q)``).
    """

    def __init__(self, generator, discriminator, q_network, *, game, **options):
        if not isinstance(game, InfoGANGame):
            raise TypeError(f"game must be a gan_utils.infogan.InfoGANGame, got {type(game).__name__}")
        self.q_network = q_network
        super().__init__(generator, discriminator, game=game, **options)
        self.history["d_info_loss"] = []  # lambda * L_I in D's step (Q's loss on that step's fakes)

    def check_variant(self):
        super().check_variant()
        if self.conditional:
            raise ValueError("InfoGAN's codes replace the labels: pass num_classes=None")
        self.q_network = _check_q(self.q_network, self.generator, self.discriminator, self.sample_shape)

    def build_models(self):
        """D's step model [real, fake] -> {real: D(real), fake: D(fake), codes: Q(fake)}; G's z -> [D(G(z)), Q(G(z))]."""
        D, Q = self.discriminator, self.q_network
        self.d_layers = TrainableLayers(D, Q)  # Q's head freezes and learns with D: D's step trains both
        real, fake = keras.Input(self.sample_shape, name="real_images"), keras.Input(self.sample_shape, name="fake_images")
        outputs = [layers.Identity(name="real")(D(real)), layers.Identity(name="fake")(D(fake)),
                   layers.Identity(name="codes")(Q(fake))]
        d_model = keras.Model([real, fake], outputs, name="infogan_d_step")
        z = keras.Input((self.latent_dim,), name="z")
        image = self.generator(z)
        combined = keras.Model(z, [D(self.noise_layer(image) if self.noise_layer is not None else image), Q(image)],
                               name="combined")
        bce, info = self.game.d_loss(), self.game.information_loss()
        self.compile_step_models(d_model, combined, d_loss={"real": bce, "fake": bce, "codes": info},
                                 d_metrics={"real": [BatchMeanOutput()], "fake": [BatchMeanOutput()]},
                                 g_loss=self.game.g_loss())
        build_compiled_state(d_model, dict(zip(("real", "fake", "codes"), d_model.outputs)))

    def d_step(self, real, labels=None):
        """One update of D and Q: D's loss on real and on fresh fakes, plus lambda * L_I on those fakes' codes."""
        real_targets, fake_targets = self.game.d_targets(len(real), self.rng)
        fake, _, z = self.fakes(len(real))  # G in inference mode
        real, fake = self.with_noise(real, fake)
        logs = self.update_discriminator(
            [real, fake], {"real": real_targets, "fake": fake_targets, "codes": self.game.code_targets(z)})
        return {**real_fake_logs(logs), "d_info_loss": logs["codes_loss"]}

    def g_step(self, n, real=None):
        """One update of G on G's loss plus lambda * the information term, D and Q frozen."""
        z = self.sample_z(n, self.rng)
        return {"g_loss": self.update_generator(z, [self.generator_targets(n), self.game.code_targets(z)])}

    def models(self):
        return {**super().models(), "auxiliary": self.q_network}

    def variable_groups(self):
        groups = super().variable_groups()
        own = {id(v) for v in self.discriminator.variables}
        q_own = [v for v in self.q_network.variables if id(v) not in own]  # Q's head (its body is D's)
        groups.pop("d_step_model", None)  # D's step model's own variables are Q's head's: grouped as "auxiliary"
        optimizers = {k: groups.pop(k) for k in ("d_optimizer", "g_optimizer")}
        return {**groups, "auxiliary": q_own, **optimizers}
