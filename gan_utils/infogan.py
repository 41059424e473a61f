"""InfoGAN's game (Chen et al. 2016): G's latent vector carries codes, and a network Q must read them back.

G's latent vector is ``[noise (noise_dim), one-hot categorical code (categories), continuous codes
(continuous)]``: the noise is N(0, 1), the categorical code c1 uniform over ``categories`` values, the
continuous codes U(-1, 1). The GAN's auxiliary model Q (``GAN(..., auxiliary=Q)``) shares D's body and
outputs ``categories`` logits followed by ``continuous`` means. In G's step the combined model's outputs are
``[D(G(z, c)), Q(G(z, c))]`` and its loss adds, to G's usual loss,

    categorical_weight * CE(c1, Q(G(z, c))) + continuous_weight * 0.5 * ||c_cont - mu(G(z, c))||^2

(the negative of the variational lower bound on the mutual information I(c; G(z, c)), up to the constant
H(c1), with a unit-variance Gaussian for the continuous codes). G and Q's head minimise it together; the
layers Q shares with D are frozen in that step, because ``D.trainable = False`` is recursive in Keras 3,
and learn in D's step from D's loss only.

``categorical_weight = continuous_weight = 0`` gives the control: the same networks and budget, without
the information term.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from .checks import as_number, positive_int
from .games import BinaryCrossEntropyGame, sample_z


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

    auxiliary_outputs = 1

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

    def g_loss(self):
        return [super().g_loss(), InfoLoss(self.categories, self.continuous, self.categorical_weight,
                                           self.continuous_weight)]

    def head_targets(self, step, inputs):
        if step != "generator":
            return []  # D's steps: D alone, no code to read
        return [inputs[:, self.noise_dim:]]  # Q's targets: the codes G was given (one-hot, continuous)

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
