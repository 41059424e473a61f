"""The mode-gap check: G's training-mode and inference-mode outputs differ (BatchNorm's moving statistics lag).

D trains on fakes G makes in inference mode (``predict_on_batch``: moving statistics) while G is trained in
training mode (batch statistics). The generator here projects z (4 values) to 256 units like a DCGAN's first
layer: with Glorot weights the projection's batch variance is about 4 * 2 / 260 = 0.03, while BatchNorm's moving
variance starts at 1, so in inference mode the activations come out about 6 times too small until the moving
statistics catch up. With momentum 0.99, 0.99**25 = 78% of that lag is left after 25 steps; with 0.8, 0.4%.
"""

import warnings

import keras
import numpy as np
import pytest
from keras import layers

from conftest import LATENT, tiny_conv_models
from gan_utils.monitor import ADVICE, GANTrainingWarning, Monitor, has_batchnorm, training_mode_output
from gan_utils.training import GAN


def generator(momentum=None, dropout=False):
    """z -> 256 (BatchNorm with this momentum; None: no BatchNorm) -> ReLU -> 2-D sample."""
    z = keras.Input((LATENT,))
    h = layers.Dense(256, use_bias=False)(z)
    if momentum is not None:
        h = layers.BatchNormalization(momentum=momentum)(h)
    h = layers.ReLU()(h)
    if dropout:  # random in training mode: a seed state that a training-mode call advances
        h = layers.GaussianNoise(0.1)(layers.Dropout(0.2)(h))
    return keras.Model(z, layers.Dense(2)(h), name="G")


def discriminator():
    return keras.Sequential([keras.Input((2,)), layers.Dense(16, activation="relu"),
                             layers.Dense(1, activation="sigmoid")], name="D")


def blob(n, rng):
    return rng.normal([2.0, -1.0], 0.5, (n, 2)).astype("float32")


def train(momentum, monitor, steps=25, data=blob, **gan_options):
    keras.utils.set_random_seed(0)
    gan = GAN(generator(momentum), discriminator(), seed=0, monitor=False, **gan_options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        gan.fit(data, steps=steps, batch_size=32, verbose=0, hooks=[monitor.hook()])
    return gan, [w for w in caught if issubclass(w.category, GANTrainingWarning)]


def kinds(monitor):
    return [k for _, k, _ in monitor.events]


def test_lagging_batchnorm_statistics_are_flagged_at_the_first_check():
    monitor = Monitor(window=1000, every=25)  # window: the loss checks stay out of it
    _, caught = train(0.99, monitor)
    assert kinds(monitor) == ["g_mode_gap"] and monitor.events[0][0] == 25  # the first check
    assert monitor.mode_gap["step"] == 25 and monitor.mode_gap["ratio"] > 2 * monitor.mode_gap_ratio
    message = str(caught[0].message)
    assert message.startswith("step 25: for the same z, G's outputs in training mode and in inference mode differ by ")
    assert "D's mean output is" in message and message.endswith(ADVICE["g_mode_gap"])
    assert "momentum=0.8" in message and "moving statistics lag behind the batch statistics" in message


@pytest.mark.parametrize("momentum", [0.8, None])
def test_batchnorm_that_keeps_up_or_none_is_not_flagged(momentum):
    monitor = Monitor(window=1000, every=25)
    _, caught = train(momentum, monitor)  # trained as above
    assert caught == [] and monitor.events == []
    if momentum is None:
        assert monitor.mode_gap is None  # no BatchNorm: nothing to compare
    else:
        assert monitor.mode_gap["step"] == 25 and monitor.mode_gap["ratio"] < monitor.mode_gap_ratio


def test_the_threshold_is_an_argument_and_none_turns_the_check_off():
    quiet = Monitor(window=1000, every=25, mode_gap_ratio=None)
    _, caught = train(0.99, quiet)
    assert caught == [] and quiet.mode_gap is None
    strict = Monitor(window=1000, every=25, mode_gap_ratio=0.001)  # below the statistical noise of BatchNorm
    train(0.8, strict)
    assert kinds(strict) == ["g_mode_gap"]
    for bad in (0, 1, 1.5, -0.1, True):
        with pytest.raises(ValueError, match="mode_gap_ratio must be None or in"):
            Monitor(mode_gap_ratio=bad)


def test_a_winning_discriminator_names_the_mode_gap_first():
    """Chosen design: d_wins and fakes_rejected still warn, but lead with the gap as the likely cause."""
    monitor = Monitor(window=20, every=1000)  # the gap is measured when d_wins is about to warn
    train(0.99, monitor, steps=60, data=lambda n, rng: rng.normal(20.0, 0.1, (n, 2)).astype("float32"),
          d_optimizer=keras.optimizers.Adam(0.05))
    assert kinds(monitor)[:2] == ["g_mode_gap", "d_wins"] and "fakes_rejected" in kinds(monitor)
    for _, kind, message in monitor.events[1:]:
        assert "first fix G's mode gap (g_mode_gap:" in message and message.endswith(ADVICE[kind])


def test_without_a_gap_the_usual_advice_stands():
    monitor = Monitor(window=20, every=1000)
    train(None, monitor, steps=60, data=lambda n, rng: rng.normal(20.0, 0.1, (n, 2)).astype("float32"),
          d_optimizer=keras.optimizers.Adam(0.05))
    assert "d_wins" in kinds(monitor) and "g_mode_gap" not in kinds(monitor)
    assert not any("mode gap" in m for _, _, m in monitor.events)


def variables(model):
    """Copies of every variable: weights, BatchNorm statistics and seed generator states."""
    return [np.array(keras.ops.convert_to_numpy(v), copy=True) for v in model.variables]


@pytest.mark.backend
@pytest.mark.parametrize("conditional", [False, True])
def test_the_check_leaves_every_variable_of_g_bit_identical(seeded, conditional):
    if conditional:  # labels into G; BatchNorm in G (not in D)
        G, _ = tiny_conv_models(conditional=True, num_classes=3)
        _, D = tiny_conv_models(conditional=True, num_classes=3, batchnorm=False)
        gan = GAN(G, D, num_classes=3, seed=0, monitor=False)
    else:  # BatchNorm, Dropout and noise in G: moving statistics and seed states
        gan = GAN(generator(0.99, dropout=True), discriminator(), seed=0, monitor=False)
    monitor = Monitor(mode_gap_ratio=0.001)  # make it warn too: the warning's D scores must not change anything
    before, d_before = variables(gan.generator), variables(gan.discriminator)
    with pytest.warns(GANTrainingWarning, match="G's outputs in training mode and in inference mode differ"):
        gap = monitor._measure_mode_gap(gan)
    assert gap is not None and gap["ratio"] > 0
    assert all(np.array_equal(a, b) for a, b in zip(before, variables(gan.generator)))
    assert all(np.array_equal(a, b) for a, b in zip(d_before, variables(gan.discriminator)))
    # what the check avoids: a plain training-mode call moves the statistics (and the seed states)
    gan.generator(monitor._z if not conditional else [monitor._z, monitor._labels.astype("int32")], training=True)
    assert not all(np.array_equal(a, b) for a, b in zip(before, variables(gan.generator)))


@pytest.mark.backend
def test_the_training_mode_output_is_what_a_training_mode_call_gives(seeded):
    G = generator(0.99)
    z = seeded.standard_normal((16, LATENT)).astype("float32")
    before = variables(G)
    out = training_mode_output(G, z)
    assert all(np.array_equal(a, b) for a, b in zip(before, variables(G)))
    np.testing.assert_allclose(out, keras.ops.convert_to_numpy(G(z, training=True)), rtol=1e-6, atol=1e-6)
    assert has_batchnorm(G) and not has_batchnorm(generator(None))
    outer = keras.Sequential([keras.Input((LATENT,)), G])  # nested models count
    assert has_batchnorm(outer)
