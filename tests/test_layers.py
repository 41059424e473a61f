"""MinibatchStdDev: the value it appends, its shapes, and that it works inside a frozen discriminator."""

import keras
import numpy as np
import pytest
from keras import layers

from conftest import LATENT, changed, snapshot
from gan_utils.layers import MinibatchStdDev
from gan_utils.training import GAN

pytestmark = pytest.mark.backend  # Keras ops on each backend


def test_dense_input_gets_the_batch_mean_std(seeded):
    x = seeded.normal(size=(16, 3)).astype("float32")
    y = np.asarray(MinibatchStdDev()(x))
    assert y.shape == (16, 4)
    np.testing.assert_array_equal(y[:, :3], x)  # the input passes through unchanged
    np.testing.assert_allclose(y[:, 3], x.std(axis=0).mean(), rtol=1e-5)


def test_collapsed_batch_scores_zero_and_spread_batch_does_not(seeded):
    same = np.repeat(seeded.normal(size=(1, 5)), 32, axis=0).astype("float32")
    spread = seeded.normal(0.0, 2.0, (32, 5)).astype("float32")
    assert np.asarray(MinibatchStdDev()(same))[:, -1].max() < 1e-3
    assert np.asarray(MinibatchStdDev()(spread))[:, -1].min() > 1.0


def test_images_get_one_more_channel(seeded):
    x = seeded.normal(size=(6, 4, 4, 2)).astype("float32")
    y = np.asarray(MinibatchStdDev()(x))
    assert y.shape == (6, 4, 4, 3)
    np.testing.assert_allclose(y[..., 2], x.std(axis=0).mean(), rtol=1e-5)


def test_groups_follow_progan_layout(seeded):
    x = seeded.normal(size=(8, 3)).astype("float32")
    y = np.asarray(MinibatchStdDev(group_size=4)(x))[:, -1]
    expected = x.reshape(4, 2, 3).std(axis=0).mean(axis=-1)  # sample i is in group i % 2
    np.testing.assert_allclose(y, np.tile(expected, 4), rtol=1e-5)


def test_output_shape_config_and_argument_checks():
    layer = MinibatchStdDev(group_size=4, name="mbstd")
    assert layer.compute_output_shape((None, 7, 7, 8)) == (None, 7, 7, 9)
    clone = MinibatchStdDev.from_config(layer.get_config())
    assert clone.group_size == 4 and clone.epsilon == layer.epsilon
    with pytest.raises(ValueError, match="group_size"):
        MinibatchStdDev(group_size=1)
    with pytest.raises(ValueError, match="epsilon"):
        MinibatchStdDev(epsilon=0.0)


def test_saved_model_round_trip(tmp_path, seeded):
    x_in = keras.Input((3,))
    model = keras.Model(x_in, layers.Dense(1)(MinibatchStdDev()(x_in)))
    path = tmp_path / "d.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    x = seeded.normal(size=(8, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-6)


def _gan_with_mbstd_in_d(seed=0):
    keras.utils.set_random_seed(seed)
    G = keras.Sequential([keras.Input((LATENT,)), layers.Dense(8, activation="relu"), layers.Dense(2)], name="G")
    x_in = keras.Input((2,))
    h = layers.Dense(8, activation="leaky_relu")(x_in)
    h = MinibatchStdDev()(h)
    D = keras.Model(x_in, layers.Dense(1, activation="sigmoid")(h), name="D")
    return GAN(G, D, seed=seed)


def test_works_inside_a_frozen_discriminator(seeded):
    gan = _gan_with_mbstd_in_d()
    real = seeded.normal(size=(32, 2)).astype("float32")
    d0, g0 = snapshot(gan.discriminator), snapshot(gan.generator)
    gan.train_discriminator(real)  # D's own step: D moves, G does not
    assert changed(d0, gan.discriminator) == set(d0) and not changed(g0, gan.generator)
    d1, g1 = snapshot(gan.discriminator), snapshot(gan.generator)
    gan.train_generator(32)  # combined model with D frozen: only G moves
    assert not changed(d1, gan.discriminator) and changed(g1, gan.generator) == set(g1)
    assert gan.discriminator.trainable  # the trainer leaves D trainable between steps


def test_generator_gets_a_gradient_through_the_batch_std():
    # D sees only the appended std feature: G can lower its loss only through the batch statistic.
    keras.utils.set_random_seed(0)
    G = keras.Sequential([keras.Input((LATENT,)), layers.Dense(2)], name="G")
    x_in = keras.Input((2,))
    std_only = layers.Lambda(lambda t: t[:, -1:])(MinibatchStdDev()(x_in))
    D = keras.Model(x_in, layers.Dense(1, activation="sigmoid", kernel_initializer="ones")(std_only), name="D")
    gan = GAN(G, D, seed=0, g_optimizer=keras.optimizers.SGD(0.1))
    kernel, bias = (np.array(w) for w in G.get_weights())
    gan.train_generator(32)
    new_kernel, new_bias = G.get_weights()
    assert np.abs(new_kernel - kernel).max() > 1e-4  # the batch's spread depends on G's kernel: it moved
    np.testing.assert_allclose(new_bias, bias, atol=1e-6)  # a shift of every sample leaves the spread unchanged
