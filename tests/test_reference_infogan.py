"""InfoGAN (notebook 06) by ``gan_utils.infogan.InfoGAN.fit`` and by a hand-written loop in one process: bit-identical.

The reference loop is the method as notebook 06 teaches it: D's step one ``train_on_batch`` of D's loss on a real and a
fake batch plus lambda * L_I on the fakes' codes (D and Q unfrozen), G's step G's loss plus lambda * L_I (D and Q frozen).
Draws from one ``np.random.default_rng(seed)``: the real batch, z for D's fakes, z for G's step."""

import keras
import numpy as np
import pytest
from keras import ops

pytestmark = pytest.mark.backend


# --------------------------------------------------------------------------------------------- InfoGAN (notebook 06)
def _infogan_models(seed, noise=4, categories=3, continuous=2):
    """Tiny G, D and Q as notebook 06 builds them: Q's body is D's body (the same layer objects), LayerNorm in it."""
    from keras import layers

    keras.utils.set_random_seed(seed)
    latent = noise + categories + continuous
    z = keras.Input((latent,))
    h = layers.ReLU()(layers.BatchNormalization(momentum=0.8)(layers.Dense(8, use_bias=False)(z)))
    G = keras.Model(z, layers.Dense(2)(h), name="G")
    body = [layers.Dense(8, name="body_dense"), layers.LayerNormalization(name="body_norm"), layers.LeakyReLU(0.2)]

    def shared(x):
        for layer in body:
            x = layer(x)
        return x

    x = keras.Input((2,))
    D = keras.Model(x, layers.Dense(1, activation="sigmoid", name="real_fake")(shared(x)), name="D")
    xq = keras.Input((2,))
    Q = keras.Model(xq, layers.Dense(categories + continuous, name="q_codes")(
        layers.LeakyReLU(0.2)(layers.Dense(8, name="q_hidden")(shared(xq)))), name="Q")
    return G, D, Q


def _infogan_reference(G, D, Q, game, sampler, steps, batch, seed, d_lr, g_lr):
    """Notebook 06's InfoGAN by hand: D's step one train_on_batch of [real, fake] -> [D(real), D(fake), Q(fake)]
    (D's loss + lambda * L_I on those fakes' codes) with D and Q unfrozen; G's step [D(G(z)), Q(G(z))] with both frozen."""
    from keras import layers

    from gan_utils.infogan import InfoLoss

    real_in, fake_in = keras.Input((2,)), keras.Input((2,))
    d_step = keras.Model([real_in, fake_in], [layers.Identity(name="real")(D(real_in)),
                                              layers.Identity(name="fake")(D(fake_in)),
                                              layers.Identity(name="codes")(Q(fake_in))])
    info = InfoLoss(game.categories, game.continuous, game.categorical_weight, game.continuous_weight)
    bce = keras.losses.BinaryCrossentropy()
    d_step.compile(keras.optimizers.Adam(d_lr, beta_1=0.5), loss={"real": bce, "fake": bce, "codes": info})
    z_in = keras.Input((game.latent_dim,))
    image = G(z_in)
    combined = keras.Model(z_in, [D(image), Q(image)])
    D.trainable = Q.trainable = False
    combined.compile(keras.optimizers.Adam(g_lr, beta_1=0.5), loss=[bce, info])
    D.trainable = Q.trainable = True
    rng = np.random.default_rng(seed)
    ones, zeros = np.ones((batch, 1), np.float32), np.zeros((batch, 1), np.float32)
    losses = []
    for _ in range(steps):
        real = sampler(batch, rng)
        z = game.sample_latent(batch, game.latent_dim, rng, "normal")
        fake = np.asarray(G.predict_on_batch(z))
        D.trainable = Q.trainable = True
        d_step.reset_metrics()  # per-batch losses on Keras < 3.15 too (it returned running means there)
        logs = d_step.train_on_batch([real, fake], {"real": ones, "fake": zeros, "codes": z[:, game.noise_dim:]},
                                     return_dict=True)
        z = game.sample_latent(batch, game.latent_dim, rng, "normal")
        D.trainable = Q.trainable = False
        combined.reset_metrics()
        g_loss = combined.train_on_batch(z, [ones, z[:, game.noise_dim:]], return_dict=True)["loss"]
        D.trainable = Q.trainable = True
        losses.append(tuple(float(v) for v in (logs["real_loss"], logs["fake_loss"], logs["codes_loss"], g_loss)))
    return losses, d_step.optimizer, combined.optimizer


@pytest.mark.parametrize("weights", [(1.0, 1.0), (0.0, 0.0)], ids=["infogan", "control"])
def test_06_infogan(weights):
    from gan_utils.infogan import InfoGAN, InfoGANGame

    def sampler(n, rng):
        return rng.normal(2.0, 0.5, (n, 2)).astype(np.float32)

    game_options = dict(noise_dim=4, categories=3, continuous=2, categorical_weight=weights[0],
                        continuous_weight=weights[1])
    G, D, Q = _infogan_models(6)
    gan = InfoGAN(G, D, Q, game=InfoGANGame(**game_options), seed=6, monitor=False,
                  d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5), g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    gan.fit(sampler, steps=6, batch_size=16, verbose=0)
    G_ref, D_ref, Q_ref = _infogan_models(6)
    losses, d_opt, g_opt = _infogan_reference(G_ref, D_ref, Q_ref, InfoGANGame(**game_options), sampler, 6, 16, 6,
                                              2e-4, 1e-3)
    for a, b in zip(G.variables + D.variables + Q.variables, G_ref.variables + D_ref.variables + Q_ref.variables):
        assert np.array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b)), a.path
    for mine, theirs in ((gan.d_optimizer, d_opt), (gan.g_optimizer, g_opt)):
        assert [tuple(v.shape) for v in mine.variables] == [tuple(v.shape) for v in theirs.variables]
        for a, b in zip(mine.variables, theirs.variables):
            assert np.array_equal(ops.convert_to_numpy(a), ops.convert_to_numpy(b)), a.path
    h = gan.history
    assert [(a, b, c, d) for a, b, c, d in zip(h["d_loss_real"], h["d_loss_fake"], h["d_info_loss"], h["g_loss"])] == losses
