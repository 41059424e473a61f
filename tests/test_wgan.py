"""The Wasserstein GAN (``gan_utils.wgan.WassersteinGAN``): the three ways to keep the critic Lipschitz (weight
clipping, spectral normalisation, the gradient penalty), each with the frozen-critic discipline proved on
every variable, the penalty's update checked against its formula, and bad input refused before training."""

import keras
import numpy as np
import pytest
from keras import layers

from conftest import LATENT, changed, snapshot
from gan_utils.layers import SpectralNormalization, WeightClip
from gan_utils.monitor import Monitor
from gan_utils.training import GAN
from gan_utils.wgan import WassersteinGame, WassersteinGAN

pytestmark = pytest.mark.backend


def generator(dim=2):
    z = keras.Input((LATENT,))
    return keras.Model(z, layers.Dense(dim)(layers.Dense(8, activation="relu")(z)), name="G")


def critic(method, dim=2, keras_sn=False):
    """A small critic with a linear output, kept Lipschitz by ``method``: clip, sn or gp (in the game)."""
    x = keras.Input((dim,))
    if method == "sn":
        wrap = keras.layers.SpectralNormalization if keras_sn else SpectralNormalization
        h = wrap(layers.Dense(8))(x)
        h = layers.LeakyReLU(0.2)(h)
        score = wrap(layers.Dense(1))(h)
    else:
        kwargs = {"kernel_constraint": WeightClip(0.05), "bias_constraint": WeightClip(0.05)} if method == "clip" else {}
        h = layers.LeakyReLU(0.2)(layers.Dense(8, **kwargs)(x))
        score = layers.Dense(1, **kwargs)(h)
    return keras.Model(x, score, name="critic")


def wgan(method, keras_sn=False, **kwargs):
    keras.utils.set_random_seed(0)
    return WassersteinGAN(generator(), critic(method, keras_sn=keras_sn), gradient_penalty=10.0 if method == "gp" else None,
               d_steps=5, seed=0,
               d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.9),
               g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.0, beta_2=0.9), **kwargs)


REAL = np.random.default_rng(1).normal(3.0, 1.0, (32, 2)).astype(np.float32)


@pytest.mark.parametrize("method", ["clip", "sn", "gp"])
def test_each_critic_moves_only_in_its_own_step(method):
    gan = wgan(method)
    G, D = gan.generator, gan.discriminator
    d0, g0 = snapshot(D), snapshot(G)
    gan.train_discriminator(REAL)
    learning = {v.path for v in D.trainable_weights}
    if method == "gp":  # one call on real and fake: the output bias cancels in E[D(fake)] - E[D(real)]
        learning -= {D.layers[-1].bias.path}
    assert learning <= changed(d0, D), "every weight of the critic learns in its step"
    assert not changed(g0, G)
    d0, g0 = snapshot(D), snapshot(G)
    gan.train_generator(len(REAL))
    assert not changed(d0, D), f"the frozen critic changed in G's step: {changed(d0, D)}"  # SN's vector too
    assert {v.path for v in G.trainable_weights} <= changed(g0, G)
    if method == "clip":
        assert all(np.abs(w).max() <= 0.05 + 1e-7 for w in D.get_weights())


def test_keras_spectral_normalization_rewrites_a_frozen_critic():
    """Why gan_utils has its own SpectralNormalization: Keras' layer updates in every training-mode call."""
    gan = wgan("sn", keras_sn=True)
    gan.train_discriminator(REAL)
    d0 = snapshot(gan.discriminator)
    gan.train_generator(len(REAL))
    assert changed(d0, gan.discriminator), ("keras.layers.SpectralNormalization no longer changes a frozen D: "
                                            "gan_utils.layers.SpectralNormalization may be unnecessary")


def test_the_penalty_step_follows_its_formula():
    """Linear critic D(x) = w x + b and a G that always outputs c: one SGD step of the critic is
    w -= lr * (c - mean(real) + 2 lambda (|w| - 1) sign(w)), b is unchanged."""
    z = keras.Input((LATENT,))
    c = 0.5
    G = keras.Model(z, layers.Dense(1, kernel_initializer="zeros", bias_initializer=keras.initializers.Constant(c))(z))
    x = keras.Input((1,))
    D = keras.Model(x, layers.Dense(1, kernel_initializer=keras.initializers.Constant(3.0))(x))
    lr, lam = 0.01, 10.0
    gan = WassersteinGAN(G, D, gradient_penalty=lam, seed=0,
              d_optimizer=keras.optimizers.SGD(lr), g_optimizer=keras.optimizers.SGD(lr))
    real = np.random.default_rng(0).normal(2.0, 1.0, (16, 1)).astype(np.float32)
    logs = gan.train_discriminator(real)
    w = 3.0
    expected = w - lr * ((c - real.mean()) + 2 * lam * (abs(w) - 1) * np.sign(w))
    np.testing.assert_allclose(D.get_weights()[0][0, 0], expected, rtol=1e-5)
    np.testing.assert_allclose(D.get_weights()[1], [0.0], atol=1e-7)
    np.testing.assert_allclose(logs["d_loss_real"], -(w * real.mean()), rtol=1e-5)  # -mean D(real)
    np.testing.assert_allclose(logs["d_loss_fake"], w * c, rtol=1e-5)  # mean D(fake)
    np.testing.assert_allclose(logs["d_real"], w * real.mean(), rtol=1e-5)


def test_a_gradient_penalty_checkpoint_restores_the_whole_state(tmp_path):
    """The checkpoint holds the penalty's eps generator (group ``d_step_model``): restored, every variable equals
    the uninterrupted run's at that step, and the next critic step from both gives the same update."""
    data = np.random.default_rng(2).normal(3.0, 1.0, (256, 2)).astype(np.float32)
    run = wgan("gp", monitor=False)
    run.fit(data, batch_size=16, steps=2, verbose=0, checkpoint_dir=tmp_path, checkpoint_every=2)
    restored = wgan("gp", monitor=False)
    restored.restore(tmp_path / "ckpt-00000002.npz")
    assert "d_step_model" in restored.variable_groups()
    for group, variables in run.variable_groups().items():
        for a, b in zip(variables, restored.variable_groups()[group]):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=group)
    assert run.rng.bit_generator.state == restored.rng.bit_generator.state
    assert run.train_discriminator(data[:16]) == restored.train_discriminator(data[:16])
    for a, b in zip(run.discriminator.get_weights(), restored.discriminator.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_the_monitor_does_not_read_a_critics_scores_as_probabilities(recwarn):
    gan = wgan("gp", monitor=Monitor(window=5, every=1000))
    gan.fit(lambda n, rng: rng.normal(3.0, 1.0, (n, 2)).astype(np.float32), steps=12, batch_size=16, verbose=0)
    assert not {"d_wins", "fakes_rejected"} & {kind for _, kind, _ in gan.monitor.events}


def test_the_wasserstein_gan_plays_its_own_game_only():
    with pytest.raises(ValueError, match="plays WassersteinGame"):
        WassersteinGAN(generator(), critic("clip"), game=WassersteinGame())
    assert WassersteinGAN(generator(), critic("clip")).config()["gradient_penalty"] is None


@pytest.mark.parametrize("c", [0, -0.01, float("nan"), float("inf"), True, "x"])
def test_bad_clipping_values_are_refused(c):
    with pytest.raises(ValueError, match="WeightClip needs a clipping value c > 0"):
        WeightClip(c)


@pytest.mark.parametrize("weight", [-1.0, float("nan"), float("inf"), True, "ten"])
def test_bad_penalty_weights_are_refused(weight):
    with pytest.raises(ValueError, match="gradient_penalty must be a finite number >= 0"):
        WassersteinGAN(generator(), critic("gp"), gradient_penalty=weight)


def test_the_penalty_on_an_unsupported_backend_is_refused_before_anything(monkeypatch):
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(NotImplementedError, match="not for the 'torch' backend.*KERAS_BACKEND=tensorflow"):
        WassersteinGAN(generator(), critic("gp"), gradient_penalty=10.0)
    WassersteinGAN(generator(), critic("clip"))  # clipping and spectral normalisation need no input gradient


def test_the_one_call_step_refuses_a_conditional_critic():
    from conftest import tiny_conv_models

    G, _ = tiny_conv_models(conditional=True, num_classes=3, batchnorm=False)
    x, y = keras.Input((8, 8, 1)), keras.Input((), dtype="int32")
    h = layers.Concatenate()([layers.Flatten()(x), layers.Embedding(3, 4)(y)])
    D = keras.Model([x, y], layers.Dense(1)(h))
    with pytest.raises(ValueError, match="one-call critic step supports an unconditional critic"):
        WassersteinGAN(G, D, num_classes=3, gradient_penalty=10.0)
    assert getattr(D, "optimizer", None) is None


def test_identical_critic_steps_give_identical_results():
    """A loss linear in D's output ran nondeterministically on TensorFlow (see wasserstein_loss): 10 fresh
    critics from one seed must report the same loss and end with the same weights."""
    from gan_utils.losses import wasserstein_loss

    data = np.random.default_rng(2).normal(3.0, 1.0, (16, 2)).astype(np.float32)
    results = set()
    for _ in range(10):
        keras.utils.set_random_seed(0)
        D = critic("none")
        D.compile(keras.optimizers.SGD(1e-3), loss=wasserstein_loss)
        loss = float(D.train_on_batch(data, -np.ones((16, 1), np.float32)))
        results.add((loss, b"".join(w.tobytes() for w in D.get_weights())))
    assert len(results) == 1
