"""The game D and G play: what D is trained to output, and what G is trained to make D say.

``gan_utils.training.GAN`` runs the same two steps for every GAN (D on a real and a fake batch with
``D.trainable = True``; G through the combined model D(G(z)) with ``D.trainable = False``). A ``Game``
supplies what differs between GAN variants, through five methods and nothing else:

* ``d_loss()`` and ``g_loss()``: the Keras losses D and the combined model are compiled with (one per
  output, as a list, when D has extra heads);
* ``d_targets(n, rng)``: D's targets for a real and a fake batch, ``(real_targets, fake_targets)``, each
  (n, 1) float32, drawn from the trainer's generator ``rng`` when they are random (``constant_targets``
  False), so a seeded run stays reproducible;
* ``g_targets(n)``: the combined model's targets, what G wants D to say about its fakes;
* ``head_targets(step, inputs)``: targets for D's extra output heads (an auxiliary classifier, a code
  predictor) in the ``"real"``, ``"fake"`` and ``"generator"`` steps, from the inputs of that step's model
  (``x``, ``[x, labels]``, ``z`` or ``[z, labels]``); none by default;
* ``d_step_model(D)``, only for a game with ``one_call_d_step``: a model ``[real, fake] -> [D(real),
  D(fake)]`` that D's step trains in one call, for a loss that needs both batches at once (WGAN-GP);
* ``check_output(shape)`` and ``output_activation_problem(name)``: refuse a D whose real/fake output does
  not fit the loss (its shape; its last activation, e.g. logits under binary cross-entropy); and
  ``config()``, the options a checkpoint must agree with.

Today's options are all one game, ``BinaryCrossEntropyGame``: the non-saturating and the minimax generator
loss, one- and two-sided label smoothing, soft targets drawn in a range, and noisy (flipped) targets.
Other parts of a GAN variant plug in without the trainer knowing about them:

* *instance noise* is a trainer option (noise on both of D's inputs in its step, an ``InstanceNoise`` layer
  before D in the combined model);
* *conditional models* take ``[x, labels]`` and ``[z, labels]`` (``GAN(num_classes=K)``);
* *weight constraints* (weight clipping) are Keras ``kernel_constraint`` arguments of D's layers: the
  optimizer applies them after every update on every backend, i.e. in D's step only;
* *a penalty on D* is a layer inside D that calls ``add_loss`` only when ``training and self.trainable``
  (``gan_utils.layers.OutputPenalty``): D's step pays it, G's step (D frozen) does not;
* *a critic without a sigmoid* is a game whose ``output_activation_problem`` refuses a sigmoid;
* *a latent vector with codes* (InfoGAN) is a game whose ``sample_latent`` draws them; *a network that reads G's
  output* besides D (InfoGAN's Q, sharing D's body) is ``GAN(..., auxiliary=Q)`` with a game whose
  ``auxiliary_outputs`` is 1: Q's output joins the combined model's, its targets come from
  ``head_targets("generator", z)``, and ``D.trainable = False`` keeps the layers Q shares with D frozen in G's
  step (``gan_utils.infogan.InfoGANGame``);
* *a D that is a classifier* (Salimans et al.'s semi-supervised GAN: K class logits, "real" their logsumexp, a
  labelled batch in D's step, G trained by feature matching) changes the two steps themselves:
  ``gan_utils.semi_supervised.SemiSupervisedGAN`` subclasses the trainer, overrides D's and G's step and
  ``_compile_models``, and keeps ``fit``, hooks, history and checkpoints.

**A new game plugs in** by subclassing ``Game``. The Wasserstein critic (Arjovsky et al. 2017) is
``WassersteinGame`` below: ``wasserstein_loss`` (mean of target x score) with targets -1 for real and +1 for
fake samples, and -1 for G's fakes in G's step; D ends in a linear unit; ``GAN(G, D, game=WassersteinGame(),
d_steps=5)`` gives n_critic = 5, and clipping D's weights with ``kernel_constraint`` keeps it Lipschitz.
"""

from __future__ import annotations

import keras
import numpy as np

from .checks import as_number, non_negative_int, one_of, probability_target
from .losses import minimax_generator_loss, wasserstein_loss

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

    #: the trainer may convert the targets to tensors once per fit (they never change between steps)
    constant_targets = True
    #: how many output heads D has besides its real/fake output
    extra_heads = 0
    #: D outputs the probability of "real" (the monitor's "D wins" and "fakes rejected" checks read it so)
    probability_output = True
    #: D's step is one call of ``d_step_model(D)`` on [real, fake] instead of one call per batch
    one_call_d_step = False
    #: how many outputs the GAN's ``auxiliary`` model has (InfoGAN's Q: 1); 0: the game takes none
    auxiliary_outputs = 0

    def d_loss(self):
        raise NotImplementedError

    def g_loss(self):
        raise NotImplementedError

    def d_targets(self, n, rng):
        raise NotImplementedError

    def g_targets(self, n):
        raise NotImplementedError

    def head_targets(self, step, inputs):
        """Targets of D's extra heads in ``step`` ("real", "fake" or "generator"): a list, one per head."""
        return []

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

    def d_step_model(self, discriminator):
        """The model D's step trains when ``one_call_d_step`` is True (else D itself, on a real then a fake batch).

        A game returns a model ``[real, fake] -> [D(real), D(fake)]`` built around D, with outputs named
        ``"real"`` and ``"fake"``, when its loss needs both batches at once (WGAN-GP's penalty on points
        between them). The trainer compiles it with D's optimizer and D's loss on each output, and D's
        step becomes one ``train_on_batch([real, fake], [real_targets, fake_targets])``.
        """
        raise NotImplementedError

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

    def __init__(self, generator_loss="non_saturating", real_target=1.0, fake_target=0.0, flip_prob=0.0,
                 names=("real_target", "fake_target")):
        self.generator_loss = one_of(generator_loss, GENERATOR_LOSSES, "generator_loss")
        self.real_target = probability_target(real_target, names[0])
        self.fake_target = probability_target(fake_target, names[1])
        self.flip_prob = float(flip_prob)
        if not 0.0 <= self.flip_prob < 0.5:
            raise ValueError(f"flip_prob must be in [0, 0.5), got {flip_prob}")
        real_mean, fake_mean = np.mean(self.real_target), np.mean(self.fake_target)
        if real_mean <= fake_mean:
            raise ValueError(
                f"{names[0]}={real_target!r} is not above {names[1]}={fake_target!r}: D would learn to call real "
                "samples fake (swapped targets?). Real targets are high (1, or 0.9 with label smoothing), "
                "fake targets low (0); for noisy labels use flip_prob")
        self.constant_targets = not (
            isinstance(self.real_target, tuple) or isinstance(self.fake_target, tuple) or self.flip_prob
        )

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
        # The key names are those of checkpoints written before games existed, so those still load.
        return {"generator_loss": self.generator_loss, "real_label": self.real_target,
                "fake_label": self.fake_target, "flip_prob": self.flip_prob}


class WassersteinGame(Game):
    """The Wasserstein GAN's game: a critic with a linear output, ``wasserstein_loss``, targets -1 (real) / +1 (fake).

    The critic minimises E[f(fake)] - E[f(real)]; G minimises -E[f(G(z))]. The critic must be kept
    (about) 1-Lipschitz: by the model (weight clipping with ``gan_utils.layers.WeightClip`` as a
    ``kernel_constraint``, or ``gan_utils.layers.SpectralNormalization``), or by the game:
    ``gradient_penalty=lambda`` (WGAN-GP, Gulrajani et al. 2017; lambda = 10 in the paper) trains the
    critic in one call on ``[real, fake]`` through ``gan_utils.penalty.GradientPenalty``, which adds
    lambda * mean (||grad D(x_hat)|| - 1)^2 at x_hat = eps real + (1 - eps) fake, eps ~ U[0, 1] per
    example (``seed`` seeds eps). The penalty needs an input gradient, implemented for the TensorFlow
    and JAX backends.
    """

    probability_output = False  # an unbounded score

    def __init__(self, gradient_penalty=None, seed=0):
        if gradient_penalty is not None:
            from .penalty import check_gradient_backend

            value = as_number(gradient_penalty)
            if not (np.isfinite(value) and value >= 0):
                raise ValueError(f"gradient_penalty must be a finite number >= 0 (lambda; 10 in WGAN-GP) or None, "
                                 f"got {gradient_penalty!r}")
            check_gradient_backend("WassersteinGame(gradient_penalty=...)")
            gradient_penalty = value
        self.gradient_penalty = gradient_penalty
        self.seed = non_negative_int(seed, "seed")
        self.one_call_d_step = gradient_penalty is not None  # the penalty needs real and fake in one step

    def d_step_model(self, discriminator):
        from .penalty import GradientPenalty

        shape = tuple(discriminator.inputs[0].shape[1:])
        real, fake = keras.Input(shape, name="real_input"), keras.Input(shape, name="fake_input")
        real_score, fake_score = GradientPenalty(discriminator, self.gradient_penalty, seed=self.seed,
                                                 name="gradient_penalty")([real, fake])
        outputs = [keras.layers.Identity(name="real")(real_score), keras.layers.Identity(name="fake")(fake_score)]
        return keras.Model([real, fake], outputs, name="critic_step")

    def config(self):
        return {"game": "WassersteinGame", "gradient_penalty": self.gradient_penalty}

    def d_loss(self):
        return wasserstein_loss

    def g_loss(self):
        return wasserstein_loss

    def d_targets(self, n, rng):
        return -np.ones((n, 1), np.float32), np.ones((n, 1), np.float32)

    def g_targets(self, n):
        return -np.ones((n, 1), np.float32)

    def output_activation_problem(self, activation):
        if activation in ("sigmoid", "tanh", "softmax"):
            return (f"ends with a {activation} activation, but a Wasserstein critic outputs an unbounded score: "
                    "end it with a linear unit, layers.Dense(1)")
        return None
