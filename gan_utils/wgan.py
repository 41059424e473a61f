"""The Wasserstein GAN (Arjovsky et al. 2017) and its gradient penalty (WGAN-GP, Gulrajani et al. 2017).

``WassersteinGame``: the loss. A critic with a linear output, ``wasserstein_loss`` (mean of target x
score) with targets -1 for real and +1 for fake samples, and -1 for G's fakes in G's step: the critic
minimises E[f(fake)] - E[f(real)], G minimises -E[f(G(z))].

``WassersteinGAN``: the trainer with that game. The critic must be kept (about) 1-Lipschitz: by the model
(weight clipping with ``gan_utils.layers.WeightClip`` as a ``kernel_constraint``, or
``gan_utils.layers.SpectralNormalization``): then the steps are the plain GAN's; or by the penalty,
``WassersteinGAN(G, critic, gradient_penalty=10)``: the critic's step becomes one ``train_on_batch`` on
``[real, fake]`` through ``GradientPenalty`` (it needs both batches at once), which is all the class
overrides (``build_models`` and ``d_step``).

The penalty, in three levels:

* ``input_gradient(model, x)``: d sum(model(x)) / dx, one row per example (the examples of a critic without
  batch statistics are independent, so the gradient of the sum is each score's own gradient);
* ``gradient_penalty(model, real, fake, eps)``: mean over the batch of (||grad D(x_hat)|| - 1)^2, without
  the weight lambda;
* ``GradientPenalty(critic, weight=10.0, seed=None)``: a layer on ``[real, fake]`` that returns the critic's
  scores ``[D(real), D(fake)]`` and, in training only (``training and self.trainable``, the rule of
  ``gan_utils.layers.OutputPenalty``), draws ``eps`` and adds ``weight * penalty`` with ``add_loss``.

**One train step** (the Keras-GAN / keras-contrib "improved WGAN" layout)::

    real, fake = keras.Input(shape), keras.Input(shape)
    scores = GradientPenalty(critic, weight=10.0, seed=0)([real, fake])
    critic_step = keras.Model([real, fake], scores)
    critic_step.compile(optimizer, loss=[wasserstein_loss, wasserstein_loss])
    critic_step.train_on_batch([x_real, x_fake], [-ones, ones])   # E[D(fake)] - E[D(real)] + lambda * GP

The model shares the critic's weights (the layer holds ``critic``), so the update lands in ``critic``. The
generator's step uses ``critic`` directly (or the layer frozen), which pays no penalty.

**The input gradient per backend.** Keras 3 has no backend-agnostic gradient, so it is written once per
backend, each differentiable again with respect to the critic's weights (the penalty's gradient is a second
derivative). On both, the critic runs through ``stateless_call`` with the current values of its variables, and
the state it updates (Dropout's seed, BatchNorm's statistics) comes back and is assigned:

* TensorFlow: a ``tf.GradientTape`` that watches ``x`` around the critic's call. Inside the trainer's own tape
  (and ``tf.function``/XLA) the inner gradient is recorded by the outer tape, which differentiates it again.
* JAX: ``jax.grad(x -> sum(D(x)), has_aux=True)``. Inside Keras' JAX trainer the variables' current values are
  the tracers the trainer differentiates, so the outer ``jax.grad`` sees through the inner one; the updated
  state is the auxiliary output (calling ``critic(x)`` inside ``jax.grad`` instead leaks a tracer from a
  BatchNormalization layer).
* any other backend: ``NotImplementedError`` naming the backend, when the layer is constructed or
  ``input_gradient`` is called.

Losses a critic adds itself (an ``OutputPenalty`` inside it) count for ``D(real)`` and ``D(fake)``, not for
the extra pass on ``x_hat``. A critic with batch statistics (BatchNormalization in training mode) couples the
examples, so the gradient of the sum is not each example's gradient (after a batch normalisation it can vanish,
and the penalty is then lambda whatever the critic): Gulrajani et al. use no batch normalisation in the critic
(layer normalisation instead).

**Cost.** One critic step with the penalty runs the critic three times and differentiates twice: on a small
DCGAN critic for 28x28 images (batch 64, CPU, TensorFlow) a step took about twice as long as without it.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from .checks import as_number, non_negative_int
from .games import Game
from .losses import BatchMeanOutput, wasserstein_loss
from .step_models import build_compiled_state, combined_model, real_fake_logs
from .training import GAN

#: the Keras backends with an input gradient here
GRADIENT_BACKENDS = ("tensorflow", "jax")

_NORM_FLOOR = 1e-12  # inside the square root: a finite derivative of the norm where the gradient is 0


def check_gradient_backend(what="the gradient penalty"):
    """The Keras backend's name if ``input_gradient`` supports it, else NotImplementedError saying which do."""
    name = keras.backend.backend()
    if name not in GRADIENT_BACKENDS:
        raise NotImplementedError(
            f"{what} needs the gradient of the critic with respect to its input, which Keras 3 has no "
            f"backend-agnostic op for; gan_utils.wgan implements it for the {' and '.join(GRADIENT_BACKENDS)} "
            f"backends, not for the {name!r} backend. Set KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax.")
    return name


def _stateless_inputs(model):
    """The current values of ``model``'s variables (inside a trainer's stateless scope: its traced values)."""
    return ([v.value for v in model.trainable_variables], [v.value for v in model.non_trainable_variables])


def _write_back(model, before, after):
    """Assign the state ``stateless_call`` changed (Dropout's seed, BatchNorm statistics), and only that."""
    for variable, old, new in zip(model.non_trainable_variables, before, after):
        if new is not old:
            variable.assign(new)


def _tensorflow_input_gradient(model, x, training):
    import tensorflow as tf

    trainable, non_trainable = _stateless_inputs(model)
    with tf.GradientTape() as tape:
        tape.watch(x)
        score, state = model.stateless_call(trainable, non_trainable, x, training=training)
        total = tf.reduce_sum(score)
    gradient = tape.gradient(total, x, unconnected_gradients=tf.UnconnectedGradients.ZERO)
    _write_back(model, non_trainable, state)
    return gradient


def _jax_input_gradient(model, x, training):
    import jax
    import jax.numpy as jnp

    trainable, non_trainable = _stateless_inputs(model)

    def total(x):
        score, state = model.stateless_call(trainable, non_trainable, x, training=training)
        return jnp.sum(score), state

    gradient, state = jax.grad(total, has_aux=True)(x)
    _write_back(model, non_trainable, state)
    return gradient


def input_gradient(model, x, training=None):
    """d sum(model(x)) / dx, the shape of ``x``: for a critic scoring each example alone, each example's gradient.

    Differentiable again with respect to ``model``'s weights on both backends (TensorFlow: nested tapes;
    JAX: nested ``jax.grad``). ``training`` is passed to the model. NotImplementedError on other backends.
    """
    name = check_gradient_backend("input_gradient")
    x = ops.convert_to_tensor(x)
    if name == "tensorflow":
        return _tensorflow_input_gradient(model, x, training)
    return _jax_input_gradient(model, x, training)


def interpolate(real, fake, eps):
    """``eps * real + (1 - eps) * fake`` with one ``eps`` per example: shape (N,), or broadcastable to ``real``."""
    real = ops.convert_to_tensor(real)
    fake = ops.convert_to_tensor(fake, dtype=real.dtype)
    eps = ops.convert_to_tensor(eps, dtype=real.dtype)
    if len(eps.shape) == 1 and len(real.shape) > 1:
        eps = ops.reshape(eps, (-1,) + (1,) * (len(real.shape) - 1))
    return eps * real + (1.0 - eps) * fake


def gradient_penalty(model, real, fake, eps, training=None):
    """mean over the batch of (||grad_x model(x_hat)||_2 - 1)^2 at ``x_hat = interpolate(real, fake, eps)``.

    Without the weight lambda. The norm is over every axis but the batch (all pixels and channels of an image).
    """
    x_hat = interpolate(real, fake, eps)
    gradient = input_gradient(model, x_hat, training=training)
    axes = tuple(range(1, len(gradient.shape)))
    squared = ops.sum(ops.square(gradient), axis=axes) if axes else ops.square(gradient)
    norm = ops.sqrt(squared + _NORM_FLOOR)
    return ops.mean(ops.square(norm - 1.0))


@keras.saving.register_keras_serializable(package="gan_utils")
class GradientPenalty(keras.layers.Layer):
    """The critic on ``[real, fake]``, returning ``[D(real), D(fake)]``, plus WGAN-GP's penalty in training.

    Args:
        critic: the critic, a built Keras model (or layer) with a linear score output; the layer holds it, so a
            model made of this layer trains ``critic``'s own weights.
        weight: lambda, a finite number >= 0 (10 in the paper); 0 adds no loss.
        seed: seed of the ``keras.random.SeedGenerator`` that draws ``eps`` (one U[0, 1] number per example,
            a new draw per step); ``None`` for an unseeded generator.

    In ``call([real, fake], training=None)`` the penalty ``weight * gradient_penalty(critic, real, fake, eps)``
    is added with ``add_loss`` when ``training`` and both the layer and ``critic`` are trainable, and not
    otherwise (prediction, a frozen layer or critic: a frozen critic's penalty would only reach G's weights). Raises NotImplementedError at construction on a backend without ``input_gradient``.
    """

    def __init__(self, critic, weight=10.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        check_gradient_backend("GradientPenalty")
        if not isinstance(critic, keras.layers.Layer):
            raise TypeError(f"critic must be a Keras model or layer, got {type(critic).__name__}")
        number = as_number(weight)
        if not (math.isfinite(number) and number >= 0):
            raise ValueError(f"weight must be a finite number >= 0 (lambda, 10 in WGAN-GP), got {weight!r}")
        self.critic = critic
        self.weight = number
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if not self.critic.built:
            self.critic.build(input_shape[0])
        self.built = True

    def draw_eps(self, real):
        """One U[0, 1] weight per example of ``real``, shape (N,) (advances the seed generator)."""
        real = ops.convert_to_tensor(real)
        return keras.random.uniform((ops.shape(real)[0],), 0.0, 1.0, dtype=real.dtype, seed=self.seed_generator)

    def call(self, inputs, training=None):
        real, fake = inputs
        real_score = self.critic(real, training=training)
        fake_score = self.critic(fake, training=training)
        if training and self.trainable and self.critic.trainable and self.weight > 0:
            penalty = gradient_penalty(self.critic, real, fake, self.draw_eps(real), training=training)
            self.add_loss(self.weight * penalty)
        return [real_score, fake_score]

    def get_config(self):
        return {**super().get_config(), "critic": keras.saving.serialize_keras_object(self.critic),
                "weight": self.weight, "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["critic"] = keras.saving.deserialize_keras_object(config["critic"])
        return cls(**config)


class WassersteinGame(Game):
    """The Wasserstein GAN's game: a critic with a linear output, ``wasserstein_loss``, targets -1 (real) / +1 (fake).

    The critic minimises E[f(fake)] - E[f(real)]; G minimises -E[f(G(z))] (see the module docstring).
    """

    def config(self):
        return {"game": "WassersteinGame"}

    def d_loss(self):
        return wasserstein_loss

    def g_loss(self):
        return wasserstein_loss

    def d_targets(self, n, rng):
        return self.cached_targets(n, lambda n: (-np.ones((n, 1), np.float32), np.ones((n, 1), np.float32)))

    def g_targets(self, n):
        return -np.ones((n, 1), np.float32)

    def output_activation_problem(self, activation):
        if activation in ("sigmoid", "tanh", "softmax"):
            return (f"ends with a {activation} activation, but a Wasserstein critic outputs an unbounded score: "
                    "end it with a linear unit, layers.Dense(1)")
        return None


class WassersteinGAN(GAN):
    """A Wasserstein GAN: ``GAN`` with ``WassersteinGame``, and WGAN-GP's one-call critic step when penalised.

    Args:
        generator, critic: G, and a critic ending in a linear unit (``Dense(1)``).
        gradient_penalty: None (default): no penalty, keep the critic Lipschitz by its layers (weight
            clipping, spectral normalisation) and train it with the plain GAN's steps; a number lambda
            >= 0 (10 in WGAN-GP): every critic step is one ``train_on_batch`` on ``[real, fake]`` of a model
            made of ``GradientPenalty(critic, lambda)``, which adds lambda * mean (||grad D(x_hat)|| - 1)^2.
        penalty_seed: seeds eps of the penalty (default: ``seed``).
        d_steps: critic steps per generator step (n_critic; 5 in both papers).
        Every other keyword: as ``GAN`` (not ``game``, nor the binary cross-entropy target options).

    An unconditional critic only with the penalty (the penalty's model takes one image input).
    """

    def __init__(self, generator, critic, *, gradient_penalty=None, penalty_seed=None, **options):
        if "game" in options:
            raise ValueError("WassersteinGAN plays WassersteinGame; pass no game=...")
        if gradient_penalty is not None:
            value = as_number(gradient_penalty)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"gradient_penalty must be a finite number >= 0 (lambda; 10 in WGAN-GP) or None, "
                                 f"got {gradient_penalty!r}")
            check_gradient_backend("WassersteinGAN(gradient_penalty=...)")
            gradient_penalty = value
        self.gradient_penalty = gradient_penalty
        self.penalty_seed = None if penalty_seed is None else non_negative_int(penalty_seed, "penalty_seed")
        super().__init__(generator, critic, game=WassersteinGame(), **options)

    def check_variant(self):
        super().check_variant()
        if self.gradient_penalty is not None and self.conditional:
            raise ValueError("the gradient penalty's one-call critic step supports an unconditional critic with one "
                             "output; pass num_classes=None")

    def build_models(self):
        if self.gradient_penalty is None:  # a critic kept Lipschitz by its layers: the plain GAN's steps
            return super().build_models()
        real, fake = keras.Input(self.sample_shape, name="real_input"), keras.Input(self.sample_shape, name="fake_input")
        seed = self.seed if self.penalty_seed is None else self.penalty_seed
        real_score, fake_score = GradientPenalty(self.discriminator, self.gradient_penalty, seed=seed,
                                                 name="gradient_penalty")([real, fake])
        outputs = [keras.layers.Identity(name="real")(real_score), keras.layers.Identity(name="fake")(fake_score)]
        critic_step = keras.Model([real, fake], outputs, name="critic_step")  # [real, fake] -> [D(real), D(fake)]
        combined = combined_model(self.generator, self.discriminator, self.latent_dim, False, self.noise_layer)
        loss = self.game.d_loss()
        self.compile_step_models(critic_step, combined, d_loss={"real": loss, "fake": loss}, g_loss=self.game.g_loss(),
                                 d_metrics={"real": [BatchMeanOutput()], "fake": [BatchMeanOutput()]})
        build_compiled_state(critic_step, {"real": critic_step.outputs[0], "fake": critic_step.outputs[1]})

    def d_step(self, real, labels=None):
        """One critic update; with the penalty, one call on [real, fake] that pays E[D(fake)] - E[D(real)] + lambda GP."""
        if self.gradient_penalty is None:
            return super().d_step(real, labels)
        real_targets, fake_targets = self.game.d_targets(len(real), self.rng)
        fake, _, _ = self.fakes(len(real))  # G in inference mode
        real, fake = self.with_noise(real, fake)
        return real_fake_logs(self.update_discriminator([real, fake], {"real": real_targets, "fake": fake_targets}))

    def config(self):
        return {**super().config(), "gradient_penalty": self.gradient_penalty}
