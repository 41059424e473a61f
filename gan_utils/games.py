"""The game D and G play: what D is trained to output, and what G is trained to make D say.

``gan_utils.training.GAN`` runs the two steps (D on a real and a fake batch with ``D.trainable = True``;
G through the combined model D(G(z)) with ``D.trainable = False``). A ``Game`` is what a loss is, and
nothing else:

* ``d_loss()`` and ``g_loss()``: the Keras losses D and the combined model are compiled with;
* ``d_targets(n, rng)``: D's targets for a real and a fake batch, ``(real_targets, fake_targets)``, each
  (n, 1), drawn from the trainer's generator ``rng`` when they are random, so a seeded run stays
  reproducible; ``g_targets(n)``: the combined model's targets, what G wants D to say about its fakes;
* ``sample_latent(n, latent_dim, rng, distribution)`` and ``check_latent_dim``: G's latent vectors (a game
  whose latent vector holds codes, InfoGAN's, draws them here);
* ``equilibrium()``: D's output and the losses when G has matched the data (None for a critic's score);
* ``check_output(shape)`` and ``output_activation_problem(name)``: refuse a D whose real/fake output does
  not fit the loss (its shape; its last activation, e.g. logits under binary cross-entropy);
* ``config()``: the options a checkpoint must agree with.

Today's options are all one game, ``BinaryCrossEntropyGame``: the non-saturating and the minimax generator
loss, one- and two-sided label smoothing, soft targets drawn in a range, and noisy (flipped) targets. The
Wasserstein critic's game is ``gan_utils.wgan.WassersteinGame``, InfoGAN's ``gan_utils.infogan.InfoGANGame``.

What is not a loss is not a game. Instance noise is a trainer option; conditional models take
``[x, labels]`` (``GAN(num_classes=K)``); weight clipping is a Keras ``kernel_constraint`` on D's layers
(applied after D's updates only); a penalty D pays in its own step only is a layer that calls ``add_loss``
when ``training and self.trainable`` (``gan_utils.layers.OutputPenalty``). A variant that changes the steps
themselves — a critic step on real and fake at once (WGAN-GP), a second network reading G's output
(InfoGAN's Q), a D that is a classifier (the semi-supervised GAN) — is a subclass of the trainer that
overrides its public steps (``build_models``, ``d_step``, ``g_step``).
"""

from __future__ import annotations

import keras
import numpy as np

from keras import ops

from .checks import one_of, probability_target
from .losses import minimax_generator_loss

GENERATOR_LOSSES = ("non_saturating", "minimax")
Z_DISTRIBUTIONS = ("normal", "uniform")


def sample_z(n, latent_dim, rng, distribution="normal") -> np.ndarray:
    """Latent vectors, float32 (n, latent_dim): N(0, 1) or U(-1, 1) per coordinate."""
    if distribution == "normal":
        return rng.standard_normal((n, latent_dim), dtype=np.float32)
    if distribution == "uniform":
        return rng.uniform(-1.0, 1.0, (n, latent_dim)).astype(np.float32)
    raise ValueError(f"distribution must be one of {Z_DISTRIBUTIONS}, got {distribution!r}")


class Game:
    """The parts of a GAN's objective that the trainer asks for; see the module docstring."""

    def d_loss(self):
        raise NotImplementedError

    def g_loss(self):
        raise NotImplementedError

    def d_targets(self, n, rng):
        raise NotImplementedError

    def g_targets(self, n):
        raise NotImplementedError

    def cached_targets(self, n, make):
        """Targets that never change, as tensors converted once per batch size: ``make(n)`` (a tuple of arrays) the
        first time, the same tensors after (converting them took about 60 us a call)."""
        cache = self.__dict__.setdefault("_cached_targets", {})
        if n not in cache:
            cache[n] = tuple(ops.convert_to_tensor(t) for t in make(n))
        return cache[n]

    def equilibrium(self):
        """D's output and the three losses when G has matched the data (p_g = p_data), as a dict with keys
        ``d``, ``d_loss_real``, ``d_loss_fake`` and ``g_loss``; None for a game without one (a critic's score)."""
        return None

    def sample_latent(self, n, latent_dim, rng, distribution):
        """G's latent vectors, float32 (n, latent_dim), drawn from ``rng``: N(0, 1) or U(-1, 1) per coordinate
        (``distribution``, the GAN's ``z_distribution``). A game whose latent vector holds codes (InfoGAN)
        draws them here, and the trainer's every z (D's fakes, G's step, the monitor) comes from it."""
        return sample_z(n, latent_dim, rng, distribution)

    def check_latent_dim(self, latent_dim):
        """Raise ValueError if G's latent size does not fit the game (a game with codes needs room for them)."""

    def check_output(self, shape):
        """Raise ValueError if D's real/fake output of shape ``shape`` (without the batch) does not fit the loss."""
        if tuple(shape) != (1,):
            raise ValueError(f"the discriminator must output shape (1,), got {tuple(shape)}")

    def output_activation_problem(self, activation):
        """What is wrong with D's last activation ``activation`` (a name, None if unknown) for this loss, or None."""
        return None

    def config(self):
        """The game's options, as JSON values (a checkpoint must agree with them)."""
        return {"game": type(self).__name__}


class BinaryCrossEntropyGame(Game):
    """Goodfellow et al.'s game: D outputs a probability, trained with binary cross-entropy.

    Args:
        generator_loss: ``"non_saturating"`` (G maximises log D(G(z)); the default) or ``"minimax"``
            (G minimises log(1 - D(G(z))), the original objective).
        real_target, fake_target: D's targets; a float, or a (low, high) range drawn per sample ("soft
            labels"). ``real_target=0.9`` is one-sided label smoothing.
        flip_prob: probability that each of D's targets is swapped ("noisy labels").
    """

    def __init__(self, generator_loss="non_saturating", real_target=1.0, fake_target=0.0, flip_prob=0.0):
        self.generator_loss = one_of(generator_loss, GENERATOR_LOSSES, "generator_loss")
        self.real_target = probability_target(real_target, "real_target")
        self.fake_target = probability_target(fake_target, "fake_target")
        self.flip_prob = float(flip_prob)
        if not 0.0 <= self.flip_prob < 0.5:
            raise ValueError(f"flip_prob must be in [0, 0.5), got {flip_prob}")
        real_mean, fake_mean = np.mean(self.real_target), np.mean(self.fake_target)
        if real_mean <= fake_mean:
            raise ValueError(
                f"real_target={real_target!r} is not above fake_target={fake_target!r}: D would learn to call real "
                "samples fake (swapped targets?). Real targets are high (1, or 0.9 with label smoothing), "
                "fake targets low (0); for noisy labels use flip_prob")
        # D's targets drawn per step (soft or flipped labels); else constant
        self.random_targets = isinstance(self.real_target, tuple) or isinstance(self.fake_target, tuple) or bool(self.flip_prob)

    def d_loss(self):
        return keras.losses.BinaryCrossentropy()

    def g_loss(self):
        return minimax_generator_loss if self.generator_loss == "minimax" else keras.losses.BinaryCrossentropy()

    @staticmethod
    def _fill(value, n, rng):
        if isinstance(value, tuple):  # soft labels: a target drawn per sample
            return rng.uniform(value[0], value[1], (n, 1)).astype(np.float32)
        return np.full((n, 1), value, dtype=np.float32)

    def d_targets(self, n, rng):
        if not self.random_targets:
            return self.cached_targets(n, lambda n: (self._fill(self.real_target, n, rng), self._fill(self.fake_target, n, rng)))
        real_targets = self._fill(self.real_target, n, rng)  # real_target < 1: one-sided label smoothing
        fake_targets = self._fill(self.fake_target, n, rng)
        if self.flip_prob:
            flip_real = rng.random((n, 1)) < self.flip_prob  # noisy labels: swap some targets
            flip_fake = rng.random((n, 1)) < self.flip_prob
            real_targets, fake_targets = (np.where(flip_real, fake_targets, real_targets),
                                          np.where(flip_fake, real_targets, fake_targets))
        return real_targets, fake_targets

    def g_targets(self, n):
        return np.ones((n, 1), np.float32)  # G's target: "call my fakes real"

    def equilibrium(self):
        """With real target a and fake target b (their means: binary cross-entropy is linear in the target),
        the optimal D is (a p_data + b p_g) / (p_data + p_g), so at p_g = p_data D = (a + b) / 2 everywhere:
        1/2 and losses log 2 for targets 1 and 0, but 0.45 with one-sided smoothing (a = 0.9), where D's loss is
        0.778 on real and 0.598 on fake samples. Flipped labels move the targets' means, not D's value."""
        real, fake = float(np.mean(self.real_target)), float(np.mean(self.fake_target))
        real, fake = (1 - self.flip_prob) * real + self.flip_prob * fake, (1 - self.flip_prob) * fake + self.flip_prob * real
        d = (real + fake) / 2

        def bce(target):
            return float(-(target * np.log(d) + (1 - target) * np.log(1 - d)))

        g_loss = float(np.log(1 - d)) if self.generator_loss == "minimax" else bce(1.0)  # G's loss on target 1
        return {"d": d, "d_loss_real": bce(real), "d_loss_fake": bce(fake), "g_loss": g_loss}

    def check_output(self, shape):
        if tuple(shape) != (1,):
            raise ValueError(f"the discriminator must output shape (1,) (a sigmoid probability), got {tuple(shape)}")

    def output_activation_problem(self, activation):
        if activation is None or activation == "sigmoid":
            return None
        return (f"ends with a {activation} activation, but binary cross-entropy needs a probability in [0, 1]: "
                "end D with a sigmoid, e.g. layers.Dense(1, activation=\"sigmoid\")")

    def config(self):
        return {"generator_loss": self.generator_loss, "real_target": self.real_target,
                "fake_target": self.fake_target, "flip_prob": self.flip_prob}


def game_from_options(game, generator_loss, real_target, fake_target, flip_prob):
    """The game: the one given, or binary cross-entropy with the target options."""
    if game is None:
        return BinaryCrossEntropyGame(generator_loss, real_target, fake_target, flip_prob)
    if not isinstance(game, Game):
        raise TypeError(f"game must be a gan_utils.games.Game, got {type(game).__name__}")
    if (generator_loss, real_target, fake_target, flip_prob) != ("non_saturating", 1.0, 0.0, 0.0):
        raise ValueError("with game=..., set the loss and the targets on the game, not on GAN(...)")
    return game
