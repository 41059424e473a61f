"""InfoGAN (``gan_utils.infogan.InfoGAN``): which weights move in which step when Q shares D's body, the codes, the errors."""

import keras
import numpy as np
import pytest
from keras import layers

from conftest import changed, snapshot
from gan_utils.infogan import InfoGAN, InfoGANGame, InfoLoss
from gan_utils.training import GAN, Hook

NOISE, K, C = 4, 3, 2
LATENT = NOISE + K + C


def infogan_models(q_shares_body=True, q_head=True):
    """G: latent -> (2,); D = head(body(x)); Q = q_head(body(x)), the body's layers shared by D and Q."""
    z = keras.Input((LATENT,))
    G = keras.Model(z, layers.Dense(2, name="g_out")(layers.Dense(8, activation="relu", name="g_hidden")(z)), name="G")
    body = layers.Dense(8, activation="leaky_relu", name="body")
    x = keras.Input((2,))
    features = body(x)
    D = keras.Model(x, layers.Dense(1, activation="sigmoid", name="real_fake")(features), name="D")
    xq = keras.Input((2,))
    q_features = body(xq) if q_shares_body else layers.Dense(8, name="q_body")(xq)
    q_out = layers.Dense(K + C, name="q_head")(layers.Dense(8, activation="leaky_relu", name="q_hidden")(q_features))
    Q = keras.Model(xq, q_out if q_head else layers.Dense(K + C, name="q_tiny")(q_features), name="Q")
    return G, D, Q


def paths(model, *layer_names):
    return {v.path for name in layer_names for v in model.get_layer(name).trainable_weights}


def game(**kwargs):
    return InfoGANGame(noise_dim=NOISE, categories=K, continuous=C, **kwargs)


@pytest.mark.backend
def test_each_step_moves_exactly_its_weights_when_q_shares_ds_body(seeded):
    """D's step (D's loss + lambda * L_I): D's body, D's real/fake head and Q's head, nothing of G. G's step: G only;
    D and Q frozen together (``D.trainable = False`` alone would leave Q's head trainable)."""
    keras.utils.set_random_seed(3)
    G, D, Q = infogan_models()
    gan = InfoGAN(G, D, Q, game=game(), seed=3, monitor=False)
    real = seeded.normal(size=(32, 2)).astype(np.float32)
    g0, d0, q0 = snapshot(G), snapshot(D), snapshot(Q)
    gan.train_discriminator(real)
    assert changed(d0, D) == paths(D, "body", "real_fake")
    assert not changed(g0, G)
    assert changed(q0, Q) == paths(Q, "body", "q_hidden", "q_head")  # the shared body and Q's own head
    g0, d0, q0 = snapshot(G), snapshot(D), snapshot(Q)
    gan.train_generator(32)
    assert changed(g0, G) == {v.path for v in G.trainable_weights}
    assert not changed(d0, D)
    assert not changed(q0, Q)
    assert D.trainable and all(layer.trainable for layer in Q.layers)  # nothing stays frozen after the step


@pytest.mark.backend
def test_the_information_term_trains_ds_body_in_ds_step(seeded):
    """The body Q shares with D moves by the information term: with lambda > 0 D's step ends elsewhere than with
    lambda = 0 from the same start, and the logged ``d_info_loss`` is lambda * L_I on that step's fakes."""
    bodies, losses = [], []
    real = seeded.normal(size=(16, 2)).astype(np.float32)
    for weights in ((1.0, 0.5), (0.0, 0.0)):
        keras.utils.set_random_seed(7)
        G, D, Q = infogan_models()
        gan = InfoGAN(G, D, Q, game=game(categorical_weight=weights[0], continuous_weight=weights[1]), seed=7,
                      monitor=False)
        rng = np.random.default_rng(0)
        rng.bit_generator.state = gan.rng.bit_generator.state
        z = gan.sample_z(16, rng)  # the z of D's step: its targets come first but are constant, no draw
        fake = gan.generate(z)
        q = np.asarray(Q.predict_on_batch(fake))
        _, codes, cont = gan.game.split_latent(z)
        logits = q[:, :K] - q[:, :K].max(axis=1, keepdims=True)
        ce = np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(16), codes]
        expected = weights[0] * ce.mean() + weights[1] * 0.5 * ((cont - q[:, K:]) ** 2).sum(axis=1).mean()
        logs = gan.train_discriminator(real)
        assert logs["d_info_loss"] == pytest.approx(expected, rel=1e-4, abs=1e-7)
        bodies.append([w.copy() for w in D.get_layer("body").get_weights()])
        losses.append(logs["d_loss_real"])
    assert losses[0] == pytest.approx(losses[1], rel=1e-6)  # the same D loss on the real batch before the update
    assert not all(np.array_equal(a, b) for a, b in zip(*bodies))


@pytest.mark.backend
def test_without_the_information_term_q_and_the_codes_get_no_gradient(seeded):
    """The control (both weights 0): neither step moves Q's head, and G's loss is G's GAN loss alone."""
    keras.utils.set_random_seed(4)
    G, D, Q = infogan_models()
    gan = InfoGAN(G, D, Q, game=game(categorical_weight=0.0, continuous_weight=0.0), seed=4, monitor=False)
    q0 = snapshot(Q)
    rng = np.random.default_rng(gan.seed)
    rng.bit_generator.state = gan.rng.bit_generator.state
    z = gan.sample_z(16, rng)  # the z G's step will draw
    expected = float(np.mean(-np.log(gan.discriminate(gan.generate(z)))))
    assert gan.train_generator(16)["g_loss"] == pytest.approx(expected, rel=1e-4)
    gan.train_discriminator(seeded.normal(size=(16, 2)).astype(np.float32))
    assert not (changed(q0, Q) - paths(Q, "body"))  # Q's body is D's: it learns from D's loss


@pytest.mark.backend
def test_g_loss_adds_the_weighted_code_losses(seeded):
    keras.utils.set_random_seed(5)
    G, D, Q = infogan_models()
    gan = InfoGAN(G, D, Q, game=game(categorical_weight=1.0, continuous_weight=0.5), seed=5, monitor=False)
    rng = np.random.default_rng(0)
    rng.bit_generator.state = gan.rng.bit_generator.state
    z = gan.sample_z(16, rng)
    fake = gan.generate(z)
    q = np.asarray(Q.predict_on_batch(fake))
    _, codes, cont = gan.game.split_latent(z)
    logits = q[:, :K] - q[:, :K].max(axis=1, keepdims=True)
    ce = np.log(np.exp(logits).sum(axis=1)) - logits[np.arange(16), codes]
    info = ce + 0.5 * 0.5 * ((cont - q[:, K:]) ** 2).sum(axis=1)
    expected = np.mean(-np.log(gan.discriminate(fake))) + info.mean()
    assert gan.train_generator(16)["g_loss"] == pytest.approx(expected, rel=1e-4)


def test_latent_vectors_hold_noise_one_hot_codes_and_uniform_continuous_codes():
    g = game()
    z = g.sample_latent(3000, LATENT, np.random.default_rng(0), "normal")
    noise, codes, cont = g.split_latent(z)
    one_hot = z[:, NOISE : NOISE + K]
    assert z.dtype == np.float32 and z.shape == (3000, LATENT)
    assert set(np.unique(one_hot)) == {0.0, 1.0} and np.all(one_hot.sum(axis=1) == 1)
    assert np.all(np.abs(np.bincount(codes, minlength=K) / 3000 - 1 / K) < 0.03)  # uniform over the codes
    assert cont.min() >= -1 and cont.max() <= 1 and abs(cont.mean()) < 0.05
    assert abs(noise.std() - 1) < 0.05
    again = g.make_latent(noise, codes, cont)
    np.testing.assert_array_equal(again, z)
    with pytest.raises(ValueError, match=r"codes must lie in 0..2"):
        g.make_latent(noise[:2], np.array([0, 3]))
    with pytest.raises(ValueError, match=r"noise must have shape \(n, 4\)"):
        g.make_latent(z[:2], np.array([0, 1]))


def test_info_loss_round_trips_its_config():
    loss = InfoLoss(10, 2, 1.0, 0.1)
    again = InfoLoss.from_config(loss.get_config())
    assert (again.categories, again.continuous, again.categorical_weight, again.continuous_weight) == (10, 2, 1.0, 0.1)


def test_bad_infogan_setups_are_refused_before_anything_is_compiled():
    G, D, Q = infogan_models()
    with pytest.raises(TypeError, match="game must be a gan_utils.infogan.InfoGANGame"):
        InfoGAN(G, D, Q, game=None)
    with pytest.raises(TypeError, match="auxiliary"):  # the plain trainer has no Q: InfoGAN is its own class
        GAN(G, D, auxiliary=Q)
    with pytest.raises(ValueError, match=r"needs noise_dim \+ categories \+ continuous = 4 \+ 3 \+ 3 = 10"):
        InfoGAN(G, D, Q, game=InfoGANGame(noise_dim=4, categories=3, continuous=3))
    with pytest.raises(ValueError, match="must take one input, G's output of shape"):
        InfoGAN(G, D, keras.Model(z := keras.Input((3,)), layers.Dense(K + C)(z)), game=game())
    x = keras.Input((2,))
    uses_g = keras.Model(x, layers.Dense(K + C)(G.get_layer("g_out")(layers.Dense(8)(x))))
    with pytest.raises(ValueError, match=r"the generator and Q share the layer\(s\) \['g_out'\]"):
        InfoGAN(G, D, uses_g, game=game())
    only_d = keras.Model(x, D.get_layer("real_fake")(D.get_layer("body")(x)))
    with pytest.raises(ValueError, match="every weight of Q belongs to D"):
        InfoGAN(G, D, only_d, game=game())
    for bad in (dict(categories=1), dict(continuous=-1), dict(categorical_weight=-1.0), dict(continuous_weight=np.nan)):
        with pytest.raises(ValueError):
            InfoGANGame(**bad)


@pytest.mark.backend
def test_a_resumed_infogan_fit_restores_qs_head(tmp_path, seeded):
    """Q's own weights (not D's) are part of the checkpoint: a resumed run ends where an uninterrupted one does."""
    data = seeded.normal(size=(64, 2)).astype(np.float32)

    def run(steps, **kwargs):
        keras.utils.set_random_seed(6)
        G, D, Q = infogan_models()
        gan = InfoGAN(G, D, Q, game=game(), seed=6, monitor=False)
        gan.fit(data, batch_size=16, steps=steps, verbose=0, **kwargs)
        return gan, Q

    class Stop(Exception):
        pass

    def stop(gan):
        raise Stop

    _, q_full = run(8)
    with pytest.raises(Stop):  # killed at step 5, after the checkpoint of step 4
        run(8, checkpoint_dir=tmp_path, checkpoint_every=4, hooks=[Hook(stop, every=5)])
    gan, q_resumed = run(8, checkpoint_dir=tmp_path, checkpoint_every=4, resume=True)
    assert gan.step == 8
    for a, b in zip(q_full.weights, q_resumed.weights):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert "auxiliary" in gan.variable_groups()
