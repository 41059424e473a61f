"""The monitor flags each failure mode, provoked on purpose, and stays quiet on a healthy run."""

import warnings

import keras
import numpy as np
import pytest
from keras import layers

from conftest import tiny_conv_models, tiny_mlp_models
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


def poisoned(G, D):
    """D with a NaN in its output layer: every loss is NaN from the first step (data with NaN are refused
    before training, so divergence is provoked in the weights)."""
    weights = D.layers[-1].get_weights()
    weights[0][0, 0] = np.nan
    D.layers[-1].set_weights(weights)
    return G, D


def test_nan_loss_is_flagged_and_can_stop(seeded):
    G, D = poisoned(*tiny_mlp_models())
    monitor = Monitor(window=20, every=10, stop=True)
    caught = run(GAN(G, D, seed=0), monitor)
    assert kinds(monitor)[0] == "nan" and "diverged" in str(caught[0].message)


def test_winning_discriminator_is_flagged(seeded):
    G, D = tiny_mlp_models()
    # D learns fast and G cannot learn at all (learning rate 0): D's loss collapses towards 0
    gan = GAN(G, D, seed=0, d_optimizer=keras.optimizers.Adam(0.05), g_optimizer=keras.optimizers.SGD(0.0))
    monitor = Monitor(window=20, every=1000, d_loss_floor=0.05, d_fake_floor=0.02)
    run(gan, monitor, steps=150, data=lambda n, rng: rng.normal(20.0, 0.1, (n, 1)).astype("float32"))
    assert "d_wins" in kinds(monitor) and "fakes_rejected" in kinds(monitor)
    assert any("label smoothing" in m for _, _, m in monitor.events)


@pytest.mark.backend
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


def linear_models():
    """G and D without ReLU, D poisoned: every loss is NaN from the first step."""
    G = keras.Sequential([keras.Input((4,)), layers.Dense(1)])
    D = keras.Sequential([keras.Input((1,)), layers.Dense(1, activation="sigmoid")])
    return poisoned(G, D)


def test_monitor_is_on_by_default(seeded):
    gan = GAN(*linear_models(), seed=0)
    assert isinstance(gan.monitor, Monitor)
    with pytest.warns(GANTrainingWarning, match="losses D real nan.*training has diverged"):
        gan.fit(normal, steps=2, batch_size=8, verbose=0)
    assert kinds(gan.monitor) == ["nan"] and gan.monitor.events[0][0] == 1


def test_nan_weights_are_flagged_even_when_the_losses_look_fine(seeded):
    gan = GAN(*tiny_mlp_models(), seed=0)
    weights = gan.discriminator.get_weights()
    weights[0][0, 0] = np.nan  # behind a ReLU: on TensorFlow relu(NaN) = 0, so D's output and losses stay finite
    gan.discriminator.set_weights(weights)
    monitor = Monitor()
    with pytest.warns(GANTrainingWarning, match="the discriminator's weights contain NaN"):
        monitor._check_d_moves(gan)
    assert kinds(monitor) == ["nan"]


@pytest.mark.parametrize("where", ["GAN", "fit"])
def test_monitor_can_be_turned_off(seeded, where):
    gan = GAN(*poisoned(*tiny_mlp_models()), seed=0, monitor=where != "GAN")
    with warnings.catch_warnings():
        warnings.simplefilter("error", GANTrainingWarning)
        gan.fit(normal, steps=2, batch_size=8, verbose=0, monitor=False if where == "fit" else None)
    if where == "GAN":
        assert gan.monitor is None
    else:
        assert gan.monitor.events == []


def test_own_monitor_replaces_the_default(seeded):
    mine = Monitor(window=5, every=2, stop=True)
    gan = GAN(*linear_models(), seed=0, monitor=mine)
    assert gan.monitor is mine
    run(gan, mine, steps=6)  # also passed as a hook: it runs once, not twice
    assert kinds(mine) == ["nan"] and len(mine.events) == 1 and gan.step == 1  # stopped at the first NaN

    gan = GAN(*linear_models(), seed=0)
    per_fit = Monitor(window=5, every=2)
    with pytest.warns(GANTrainingWarning):
        gan.fit(normal, steps=3, batch_size=8, verbose=0, monitor=per_fit)
    assert kinds(per_fit) == ["nan"] and gan.monitor.events == []
    other = Monitor(window=5, every=2)
    run(gan, other, steps=3)  # a Monitor's hook in hooks: the default stays out
    assert kinds(other) == ["nan"] and gan.monitor.events == []


@pytest.mark.backend
def test_the_monitor_does_not_change_training():
    """It reads the history, samples G in inference mode and, for the mode-gap check, in training mode without
    updating G's BatchNorm statistics: the weights (statistics and seed states included) and the history come out
    bit-identical."""
    x = np.random.default_rng(2).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")
    weights, histories = [], []
    for monitor in (Monitor(window=10, every=5, mode_gap_ratio=0.001), False):  # the mode-gap check warns too
        keras.utils.set_random_seed(2)
        gan = GAN(*tiny_conv_models(), seed=2, monitor=monitor)  # BatchNorm and Dropout
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", GANTrainingWarning)
            gan.fit(x, batch_size=16, steps=12, verbose=0)
        weights.append([np.array(keras.ops.convert_to_numpy(v)) for v in gan.generator.variables + gan.discriminator.variables])
        histories.append({k: v for k, v in gan.history.items() if k != "time"})
        if monitor:
            assert monitor.mode_gap["step"] == 10 and "g_mode_gap" in kinds(monitor)  # the check ran
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
    assert histories[0] == histories[1]
