"""The monitor flags each failure mode, provoked on purpose, and stays quiet on a healthy run."""

import warnings

import keras
import numpy as np
import pytest
from keras import layers

from conftest import tiny_mlp_models
from gan_utils.monitor import GANTrainingWarning, Monitor, mean_pairwise_distance
from gan_utils.training import GAN


def normal(n, rng):
    return rng.normal(4.0, 1.0, (n, 1)).astype("float32")


def run(gan, monitor, steps=60, data=normal):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(data, steps=steps, batch_size=32, verbose=0, hooks=[monitor.hook()])
    return [w for w in caught if issubclass(w.category, GANTrainingWarning)]


def kinds(monitor):
    return [k for _, k, _ in monitor.events]


def test_healthy_run_is_quiet(seeded):
    G, D = tiny_mlp_models()
    monitor = Monitor(window=20, every=10, reference=normal(64, seeded))
    assert run(GAN(G, D, seed=0), monitor) == []


def test_nan_loss_is_flagged_and_can_stop(seeded):
    G, D = tiny_mlp_models()
    monitor = Monitor(window=20, every=10, stop=True)
    caught = run(GAN(G, D, seed=0), monitor, data=lambda n, rng: np.full((n, 1), np.nan, "float32"))
    assert kinds(monitor)[0] == "nan" and "diverged" in str(caught[0].message)


def test_winning_discriminator_is_flagged(seeded):
    G, D = tiny_mlp_models()
    # D learns fast and G cannot learn at all (learning rate 0): D's loss collapses towards 0
    gan = GAN(G, D, seed=0, d_optimizer=keras.optimizers.Adam(0.05), g_optimizer=keras.optimizers.SGD(0.0))
    monitor = Monitor(window=20, every=1000, d_loss_floor=0.05, d_fake_floor=0.02)
    run(gan, monitor, steps=150, data=lambda n, rng: rng.normal(20.0, 0.1, (n, 1)).astype("float32"))
    assert "d_wins" in kinds(monitor) and "fakes_rejected" in kinds(monitor)
    assert any("label smoothing" in m for _, _, m in monitor.events)


def test_frozen_discriminator_is_flagged(seeded):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0, d_optimizer=keras.optimizers.SGD(0.0))  # D's updates change nothing
    monitor = Monitor(window=1000, every=5)
    run(gan, monitor, steps=20)
    assert kinds(monitor) == ["d_frozen"]
    assert "frozen-discriminator trap" in monitor.events[0][2]


def test_collapsed_generator_is_flagged(seeded):
    keras.utils.set_random_seed(0)
    z = keras.Input((4,))
    G = keras.Model(z, layers.Dense(1, kernel_initializer="zeros")(z))  # ignores z: every sample identical
    _, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0, g_optimizer=keras.optimizers.SGD(0.0))
    monitor = Monitor(window=1000, every=5, reference=normal(64, seeded))
    run(gan, monitor, steps=10)
    assert "collapse" in kinds(monitor)


def test_each_kind_warns_once(seeded):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0, d_optimizer=keras.optimizers.SGD(0.0))
    monitor = Monitor(window=1000, every=2)
    caught = run(gan, monitor, steps=30)
    assert len(caught) == 1


def test_bad_arguments():
    with pytest.raises(ValueError, match="window must be a positive integer"):
        Monitor(window=0)
    with pytest.raises(ValueError, match="diversity_ratio must be in"):
        Monitor(diversity_ratio=2)
    with pytest.raises(ValueError, match="at least 2 samples"):
        mean_pairwise_distance(np.zeros((1, 3)))
