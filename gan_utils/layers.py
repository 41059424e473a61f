"""Layers for GANs: minibatch standard deviation, instance noise, and a penalty that only D's own step pays.

**Minibatch standard deviation** (Karras et al. 2018, ProGAN).

A discriminator that looks at one sample at a time cannot see that a whole batch of fakes is the
same point: mode collapse is invisible to it. ``MinibatchStdDev`` gives D one extra feature, the
average standard deviation of its input across the batch (or across small groups of the batch),
appended to every sample. A collapsed batch of fakes has a value near 0 there while a real batch
does not, so D can reject collapse and G is pushed to spread out.

The layer has no weights and computes the same thing in training and inference, so it behaves
identically inside a frozen discriminator (``D.trainable = False`` in the combined model D(G(z))),
and the generator receives a gradient through it there.
"""

from __future__ import annotations

import keras
from keras import ops

from .checks import as_number


@keras.saving.register_keras_serializable(package="gan_utils")
class MinibatchStdDev(keras.layers.Layer):
    """Append the batch's mean standard deviation as one extra feature (last axis).

    Input ``(N, ..., C)``, output ``(N, ..., C + 1)``: for a dense input ``(N, F)`` one more
    feature, for images ``(N, H, W, C)`` one more channel. The extra value is the standard
    deviation of each input coordinate across the samples of a group, averaged over all
    coordinates (one number per group), and is the same for every sample of the group.

    Args:
        group_size: samples per group; ``None`` (default) uses the whole batch as one group.
            With a group size the batch size must be a multiple of it; sample ``i`` belongs to
            group ``i % (N // group_size)`` (as in ProGAN's reference code).
        epsilon: added to the variance before the square root (a finite gradient at 0).

    The trainer feeds D separate real and fake batches, so each batch's feature describes only
    real or only fake samples: exactly the contrast that reveals a collapsed generator.
    """

    def __init__(self, group_size=None, epsilon=1e-8, **kwargs):
        super().__init__(**kwargs)
        if group_size is not None and (
            isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 2
        ):
            raise ValueError(f"group_size must be None or an integer >= 2, got {group_size!r}")
        if not epsilon > 0:
            raise ValueError(f"epsilon must be positive, got {epsilon!r}")
        self.group_size = group_size
        self.epsilon = float(epsilon)

    def call(self, x):
        x = ops.convert_to_tensor(x)
        rest = tuple(x.shape[1:])  # static feature shape (..., C)
        if any(d is None for d in rest):
            raise ValueError(f"MinibatchStdDev needs a static feature shape, got {x.shape}")
        batch = ops.shape(x)[0]
        group = self.group_size
        if group is None:
            groups = ops.expand_dims(x, 1)  # (N, 1, ...): one group of N samples
        else:
            groups = ops.reshape(x, (group, -1) + rest)  # (group, N // group, ...)
        centred = groups - ops.mean(groups, axis=0, keepdims=True)
        std = ops.sqrt(ops.mean(ops.square(centred), axis=0) + self.epsilon)  # (M, ...) per coordinate
        feature = ops.mean(std, axis=tuple(range(1, 1 + len(rest))))  # (M,): one number per group
        if group is None:
            feature = ops.broadcast_to(feature, (batch,))
        else:
            feature = ops.tile(feature, (group,))  # sample i -> group i % M
        feature = ops.reshape(ops.cast(feature, x.dtype), (-1,) + (1,) * len(rest))  # (N, 1, ..., 1)
        feature = ops.broadcast_to(feature, tuple(ops.shape(x)[:-1]) + (1,))  # (N, ..., 1)
        return ops.concatenate([x, feature], axis=-1)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (None if input_shape[-1] is None else input_shape[-1] + 1,)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size, "epsilon": self.epsilon}



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


@keras.saving.register_keras_serializable(package="gan_utils")
class OutputPenalty(keras.layers.Layer):
    """Identity on D's output that adds ``weight * mean(output^2)`` to D's loss, in D's own step only.

    The "drift" penalty of Karras et al. (2018) keeps a critic's scores near 0 (they use weight 0.001 with a
    Wasserstein critic). It is the pattern for any penalty on D: a layer inside D that calls ``add_loss``
    only when ``training`` and ``self.trainable``. In D's step the trainer sets ``D.trainable = True`` and
    ``train_on_batch`` adds the penalty to D's loss; in G's step D is frozen (``trainable`` is recursive),
    so G's loss never contains it, the same rule by which a frozen D's BatchNorm stops updating.
    """

    def __init__(self, weight=1e-3, **kwargs):
        super().__init__(**kwargs)
        if not float(weight) > 0:
            raise ValueError(f"weight must be positive, got {weight!r}")
        self.weight = float(weight)

    def call(self, x, training=None):
        if training and self.trainable:
            self.add_loss(self.weight * ops.mean(ops.square(x)))
        return x

    def get_config(self):
        return {**super().get_config(), "weight": self.weight}


@keras.saving.register_keras_serializable(package="gan_utils")
class WeightClip(keras.constraints.Constraint):
    """Weight clipping of the original Wasserstein GAN (Arjovsky et al. 2017): every weight into [-c, c].

    Pass it as ``kernel_constraint=WeightClip(0.01)`` (and ``bias_constraint``) to D's layers. Keras'
    optimizers apply constraints right after each update of the constrained variable, on every
    backend, so it clips after every step of D and never touches G (D is frozen in G's step, so its
    variables are not updated there) or BatchNorm statistics (not constrained), unlike a loop of
    ``get_weights``/``set_weights`` over all of D's weights.
    """

    def __init__(self, c=0.01):
        value = as_number(c)
        if not (value > 0 and value < float("inf")):
            raise ValueError(f"WeightClip needs a clipping value c > 0 (the WGAN paper uses 0.01), got {c!r}")
        self.c = value

    def __call__(self, w):
        return ops.clip(w, -self.c, self.c)

    def get_config(self):
        return {"c": self.c}


@keras.saving.register_keras_serializable(package="gan_utils")
class SpectralNormalization(keras.layers.SpectralNormalization):
    """Keras' spectral normalisation (Miyato et al. 2018) that leaves a frozen discriminator alone.

    ``keras.layers.SpectralNormalization`` divides the wrapped kernel by its largest singular value
    and stores the result (and its power-iteration vector) in every training-mode call. In a GAN
    the combined model D(G(z)) calls D in training mode with D frozen, so Keras' layer would rewrite
    D's kernel in G's step. This subclass does the update only when the layer is trainable, i.e. in
    D's own step; otherwise it is the same layer (``tests/test_wgan.py`` measures both).
    """

    def call(self, inputs, training=False):
        return super().call(inputs, training=bool(training) and self.trainable)
