"""The losses GANs train with, beyond Keras' own, and the metric D's step reports.

Registered for serialisation under the package name ``gan_utils``, so models compiled with them
save and load.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="gan_utils")
def minimax_generator_loss(y_true, y_pred):
    """The original minimax generator loss, log(1 - D(G(z))), which G minimises.

    It saturates: when D confidently rejects fakes (D(G(z)) ~ 0) its gradient vanishes.
    """
    p = ops.clip(y_pred, 1e-7, 1.0 - 1e-7)
    return ops.mean(ops.log(1.0 - p), axis=-1)


@keras.saving.register_keras_serializable(package="gan_utils")
def wasserstein_loss(y_true, y_pred):
    """mean(y_true * y_pred): with targets -1 for real and +1 for fake samples, a critic that minimises it
    maximises E[f(real)] - E[f(fake)], the dual form of the Wasserstein-1 distance (Arjovsky et al. 2017);
    G, with target -1 for its fakes, maximises E[f(fake)].

    The term ``0 * y_pred**2`` adds nothing to the value or the gradient. It is there for TensorFlow: with a
    loss linear in ``y_pred`` (its gradient does not depend on D's output), identical ``train_on_batch`` calls
    from the same seed returned different losses and updates (measured on TensorFlow 2.21: 2 to 5 distinct
    values in 10 identical runs; JAX: one); with the term, every run gave the same (``tests/test_wgan.py``)."""
    y_true = ops.cast(y_true, y_pred.dtype)
    return ops.mean(y_true * y_pred + 0.0 * ops.square(y_pred), axis=-1)


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
