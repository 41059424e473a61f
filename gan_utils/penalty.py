"""The gradient penalty of WGAN-GP (Gulrajani et al. 2017), as a Keras layer that trains in one ``train_on_batch``.

A Wasserstein critic must be 1-Lipschitz. Weight clipping enforces it crudely; WGAN-GP instead penalises the
critic's input gradient where the optimal critic has gradient norm exactly 1, on the straight segments between
real and fake samples::

    x_hat   = eps * real + (1 - eps) * fake,        eps ~ U[0, 1], one draw per example
    penalty = lambda * mean_batch( (||grad_x D(x_hat)||_2 - 1)^2 )

``eps`` is uniform on [0, 1] (not normal): a weight outside [0, 1] puts ``x_hat`` beyond the segment, where
nothing says the gradient norm should be 1.

**Three levels.**

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
from keras import ops

from .checks import as_number

#: the Keras backends with an input gradient here
GRADIENT_BACKENDS = ("tensorflow", "jax")

_NORM_FLOOR = 1e-12  # inside the square root: a finite derivative of the norm where the gradient is 0


def check_gradient_backend(what="the gradient penalty"):
    """The Keras backend's name if ``input_gradient`` supports it, else NotImplementedError saying which do."""
    name = keras.backend.backend()
    if name not in GRADIENT_BACKENDS:
        raise NotImplementedError(
            f"{what} needs the gradient of the critic with respect to its input, which Keras 3 has no "
            f"backend-agnostic op for; gan_utils.penalty implements it for the {' and '.join(GRADIENT_BACKENDS)} "
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
