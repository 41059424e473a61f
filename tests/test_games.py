"""The trainer's extension points: a new game, extra heads on D, a weight constraint and a penalty on D,
each through the unchanged trainer, with the frozen-D discipline proved for every model it builds."""

import copy

import keras
import numpy as np
import pytest
from keras import layers

from conftest import LATENT, changed, snapshot
from gan_utils.games import BinaryCrossEntropyGame, Game
from gan_utils.wgan import WassersteinGame
from gan_utils.layers import OutputPenalty, WeightClip
from gan_utils.losses import wasserstein_loss
from gan_utils.training import GAN

pytestmark = pytest.mark.backend


def mlp_generator(dim=2):
    z = keras.Input((LATENT,))
    return keras.Model(z, layers.Dense(dim)(layers.Dense(8, activation="relu")(z)), name="G")


def critic(dim=2, clip=None, penalty=None):
    x = keras.Input((dim,))
    kwargs = {} if clip is None else {"kernel_constraint": WeightClip(clip)}  # weight clipping
    h = layers.Dense(8, activation="leaky_relu", **kwargs)(x)
    score = layers.Dense(1, **kwargs)(h)  # a critic: linear output, no sigmoid
    if penalty is not None:
        score = OutputPenalty(penalty)(score)
    return keras.Model(x, score, name="critic")


def moved_only_in_own_step(gan, real):
    G, D = gan.generator, gan.discriminator
    d0, g0 = snapshot(D), snapshot(G)
    gan.train_discriminator(real)
    assert {v.path for v in D.trainable_weights} <= changed(d0, D) and not changed(g0, G)
    d0, g0 = snapshot(D), snapshot(G)
    gan.train_generator(len(real))
    assert not changed(d0, D) and {v.path for v in G.trainable_weights} <= changed(g0, G)


def test_wasserstein_game_trains_a_critic_through_the_same_loop(seeded):
    keras.utils.set_random_seed(0)
    gan = GAN(mlp_generator(), critic(clip=0.05), game=WassersteinGame(), d_steps=5, seed=0,
              d_optimizer=keras.optimizers.RMSprop(5e-5), g_optimizer=keras.optimizers.RMSprop(5e-5))
    real = seeded.normal(size=(32, 2)).astype(np.float32) + 3.0
    moved_only_in_own_step(gan, real)
    # the losses are means of target x score: real targets -1, fake +1, G's targets -1
    scores = gan.discriminate(real)  # train_on_batch reports the loss before its update
    out = gan.train_discriminator(real)
    assert out["d_loss_real"] == pytest.approx(-scores.mean(), rel=1e-4)
    # weight clipping (a kernel constraint) holds after every critic update, on every backend
    gan.fit(lambda n, rng: rng.normal(size=(n, 2)).astype("float32"), steps=3, batch_size=16, verbose=0, monitor=False)
    for v in gan.discriminator.trainable_weights:
        if "kernel" in v.path:
            assert np.abs(keras.ops.convert_to_numpy(v)).max() <= 0.05 + 1e-7
    assert int(gan.d_optimizer.iterations.numpy()) == 2 * 2 + 3 * 5 * 2
    assert wasserstein_loss(np.array([[-1.0], [1.0]], "float32"), np.array([[2.0], [3.0]], "float32")).shape == (2,)


def test_a_binary_cross_entropy_game_refuses_a_critic():
    with pytest.raises(ValueError, match=r"must output shape \(1,\) \(a sigmoid probability\)"):
        GAN(mlp_generator(), keras.Sequential([keras.Input((2,)), layers.Dense(3)]))
    with pytest.raises(ValueError, match="set the loss and the targets on the game"):
        GAN(mlp_generator(), critic(), game=WassersteinGame(), real_target=0.9)
    with pytest.raises(TypeError, match="game must be a gan_utils.games.Game"):
        GAN(mlp_generator(), critic(), game="wasserstein")


def test_the_target_options_make_the_game():
    G, D = mlp_generator(), keras.Sequential([keras.Input((2,)), layers.Dense(1, activation="sigmoid")])
    game = GAN(G, D, real_target=0.9, fake_target=(0.0, 0.1)).game
    assert (game.real_target, game.fake_target) == (0.9, (0.0, 0.1))
    with pytest.raises(TypeError, match="real_label"):  # the old name is gone
        GAN(G, D, real_label=0.9)
    with pytest.raises(ValueError, match="real_target must be in"):
        GAN(G, D, real_target=1.5)
    assert isinstance(GAN(G, D).game, BinaryCrossEntropyGame)


def test_output_penalty_is_paid_in_d_step_only(seeded):
    keras.utils.set_random_seed(1)
    weight = 0.5
    gan = GAN(mlp_generator(), critic(penalty=weight), game=WassersteinGame(), seed=1, monitor=False)
    real = seeded.normal(size=(16, 2)).astype(np.float32)
    scores = gan.discriminate(real)
    out = gan.train_discriminator(real)
    # D's loss on the real batch: -mean(score) + weight * mean(score^2), as train_on_batch reports it (before the update)
    assert out["d_loss_real"] == pytest.approx(-scores.mean() + weight * np.mean(scores**2), rel=1e-3)
    z = gan.sample_z(16, copy.deepcopy(gan.rng))  # the z G's step will draw
    expected = -gan.discriminate(gan.generate(z)).mean()  # G's loss: no penalty while D is frozen
    assert gan.train_generator(16)["g_loss"] == pytest.approx(expected, rel=1e-3)


class AuxiliaryClassifierGAN(GAN):
    """A variant written as users write one: an AC-GAN (D has a real/fake head and a classifier head that names the
    class) through the public steps only: ``check_variant``, ``build_models``, ``d_step``, ``g_step``."""

    def check_variant(self):
        if len(self.discriminator.outputs) != 2:
            raise ValueError("an AC-GAN's D has two heads: real/fake and the class")

    def build_models(self):
        G, D = self.generator, self.discriminator
        z, y = keras.Input((self.latent_dim,)), keras.Input((), dtype="int32")
        combined = keras.Model([z, y], D([G([z, y]), y]))
        bce, ce = keras.losses.BinaryCrossentropy(), keras.losses.SparseCategoricalCrossentropy()
        self.compile_step_models(D, combined, d_loss=[bce, ce], g_loss=[bce, ce])

    def d_step(self, real, labels=None):
        real_targets, fake_targets = self.game.d_targets(len(real), self.rng)
        fake, fake_labels, _ = self.fakes(len(real))
        real_logs = self.update_discriminator([real, labels], [real_targets, labels])
        fake_logs = self.update_discriminator([fake, fake_labels], [fake_targets, fake_labels])
        return {"d_loss_real": real_logs["loss"], "d_loss_fake": fake_logs["loss"], "d_real": float("nan"),
                "d_fake": float("nan")}

    def g_step(self, n, real=None):
        z, labels = self.sample_z(n, self.rng), self.draw_labels(n)
        return {"g_loss": self.update_generator([z, labels], [self.generator_targets(n), labels])}


def conditional_two_head_models(k=3):
    z, y = keras.Input((LATENT,)), keras.Input((), dtype="int32")
    h = layers.Concatenate()([z, layers.Flatten()(layers.Embedding(k, 2)(y))])
    G = keras.Model([z, y], layers.Dense(2)(layers.Dense(8, activation="relu")(h)), name="G")
    x, yd = keras.Input((2,)), keras.Input((), dtype="int32")
    h = layers.Dense(8, activation="leaky_relu")(layers.Concatenate()([x, layers.Flatten()(layers.Embedding(k, 2)(yd))]))
    D = keras.Model([x, yd], [layers.Dense(1, activation="sigmoid")(h), layers.Dense(k, activation="softmax")(h)])
    return G, D


def test_a_variant_with_a_second_head_needs_only_the_public_steps(seeded):
    """The extension point is enough for an AC-GAN: each step moves only its own network, the classifier head learns."""
    keras.utils.set_random_seed(2)
    G, D = conditional_two_head_models()
    with pytest.raises(ValueError, match="has 2 outputs but GAN's steps need one"):
        GAN(G, D, num_classes=3, monitor=False)  # the plain trainer's steps cannot train it
    G, D = conditional_two_head_models()
    gan = AuxiliaryClassifierGAN(G, D, num_classes=3, seed=2, monitor=False)
    real, labels = seeded.normal(size=(32, 2)).astype(np.float32), seeded.integers(0, 3, 32)
    d0, g0 = snapshot(D), snapshot(G)
    gan.train_discriminator(real, labels)
    assert {v.path for v in D.trainable_weights} <= changed(d0, D) and not changed(g0, G)
    d0, g0 = snapshot(D), snapshot(G)
    gan.train_generator(32)
    assert not changed(d0, D) and {v.path for v in G.trainable_weights} <= changed(g0, G)
    history = gan.fit(real, labels, batch_size=16, steps=4, verbose=0)
    assert len(history["g_loss"]) == 4 and all(np.isfinite(history["d_loss_real"]))
    x = np.repeat(np.eye(2, dtype=np.float32)[None], 4, 0).reshape(-1, 2)
    assert gan.discriminate(x, np.zeros(len(x), np.int32)).shape == (len(x),)  # the real/fake head's output


def test_base_game_methods_must_be_written():
    game = Game()
    for method, args in (("d_loss", ()), ("g_loss", ()), ("d_targets", (4, None)), ("g_targets", (4,))):
        with pytest.raises(NotImplementedError):
            getattr(game, method)(*args)
    assert game.equilibrium() is None and game.config() == {"game": "Game"}
