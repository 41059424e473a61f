"""Models, optimizers and data that Keras trains on without a word: each gets a clear error or warning
before anything is compiled or trained, and D's frozen layers, its optimizer and its flags are safe."""

import warnings

import keras
import numpy as np
import pytest
from keras import layers

from conftest import LATENT, changed, snapshot, tiny_conv_models, tiny_mlp_models
from gan_utils.wgan import WassersteinGame
from gan_utils.model_checks import ModelWarning
from gan_utils.training import GAN

X = np.random.default_rng(0).uniform(-1, 1, (64, 8, 8, 1)).astype("float32")


def conv():
    return tiny_conv_models(batchnorm=False)


def mlp_d(activation="sigmoid", hidden=8):
    x = keras.Input((1,))
    h = layers.Dense(hidden, activation="relu", name="feature")(x)
    return keras.Model(x, layers.Dense(1, activation=activation)(h))


def mlp_g(latent=LATENT, activation=None):
    z = keras.Input((latent,))
    return keras.Model(z, layers.Dense(1, activation=activation)(layers.Dense(8, activation="relu")(z)))


def fit_briefly(gan, data, steps=2, **kwargs):
    return gan.fit(data, batch_size=16, steps=steps, verbose=0, monitor=False, **kwargs)


@pytest.mark.backend
def test_a_layer_the_user_froze_stays_frozen():
    G, D = conv()
    feature = D.layers[1]  # the convolution: a "pretrained" layer frozen on purpose
    feature.trainable = False
    gan = GAN(G, D, seed=0)
    frozen_before = [w.copy() for w in feature.get_weights()]
    rest_before = snapshot(D)
    fit_briefly(gan, X, steps=3)
    assert all(np.array_equal(a, b) for a, b in zip(frozen_before, feature.get_weights())), "a frozen layer trained"
    assert changed(rest_before, D), "D's other layers must still learn"
    assert feature.trainable is False and D.trainable is True


def test_a_fully_frozen_d_is_made_trainable():
    """The Keras 2 recipe froze the whole D before building the combined model: the GAN owns that flag."""
    G, D = tiny_mlp_models()
    D.trainable = False
    gan = GAN(G, D, seed=0)
    before = snapshot(D)
    fit_briefly(gan, np.random.default_rng(0).normal(size=(64, 1)).astype("float32"))
    assert changed(before, D)


def test_a_second_gan_on_the_same_models_warns_and_the_first_refuses():
    G, D = conv()
    first = GAN(G, D, seed=0)
    with pytest.warns(ModelWarning, match="already belong to another GAN"):
        second = GAN(G, D, seed=0)
    before_g, before_d = snapshot(G), snapshot(D)
    with pytest.raises(RuntimeError, match="compiled again since this GAN was built"):
        fit_briefly(first, X)
    with pytest.raises(RuntimeError, match="compiled again"):
        first.train_discriminator(X[:8])
    with pytest.raises(RuntimeError, match="compiled again"):
        first.train_generator(8)
    assert not changed(before_g, G) and not changed(before_d, D)
    fit_briefly(second, X)
    assert int(second.d_optimizer.iterations.numpy()) == 4


def test_a_gan_no_longer_alive_does_not_warn():
    G, D = conv()
    GAN(G, D, seed=0)
    import gc

    gc.collect()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelWarning)
        GAN(G, D, seed=0)


@pytest.mark.parametrize("data,match", [
    (X * 127.5 + 127.5, r"range from 0\S* to 25\S*, but the generator ends with tanh.*x / 127.5 - 1"),
    (X * 3, r"range from -2\.9\S* to 2\.9")])
def test_data_outside_the_generators_range_is_refused(data, match):
    gan = GAN(*conv(), seed=0)
    before = snapshot(gan.discriminator)
    with pytest.raises(ValueError, match=match):
        fit_briefly(gan, data)
    with pytest.raises(ValueError, match="real " + match):
        gan.train_discriminator(data[:16])
    assert not changed(before, gan.discriminator) and gan.step == 0


def test_images_in_unit_range_for_a_tanh_generator_warn():
    gan = GAN(*conv(), seed=0)
    with pytest.warns(ModelWarning, match=r"scale them with 2 \* x - 1"):
        fit_briefly(gan, (X + 1) / 2)


def test_nan_data_are_refused():
    gan = GAN(*conv(), seed=0)
    bad = X.copy()
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN or infinite"):
        fit_briefly(gan, bad)


def test_a_discriminator_that_outputs_logits_is_refused():
    with pytest.raises(ValueError, match=r"ends with a linear activation, but binary cross-entropy needs a probability"):
        GAN(mlp_g(), mlp_d(activation=None))
    with pytest.raises(ValueError, match="ends with a tanh activation"):
        GAN(mlp_g(), mlp_d(activation="tanh"))


def test_a_critic_with_a_sigmoid_is_refused_under_the_wasserstein_loss():
    with pytest.raises(ValueError, match="a Wasserstein critic outputs an unbounded score"):
        GAN(mlp_g(), mlp_d(activation="sigmoid"), game=WassersteinGame())
    GAN(mlp_g(), mlp_d(activation=None), game=WassersteinGame())  # a linear critic is right


def test_swapped_generator_and_discriminator_are_named():
    G, D = mlp_g(latent=1), mlp_d()  # both (1,) -> (1,): the shapes cannot tell
    with pytest.raises(ValueError, match="are G and D swapped"):
        GAN(D, G)


@pytest.mark.parametrize("kwargs", [{"real_target": 0.0, "fake_target": 1.0}, {"real_target": 0.2, "fake_target": 0.9},
                                    {"real_target": 0.5, "fake_target": 0.5}])
def test_swapped_targets_are_refused(kwargs):
    with pytest.raises(ValueError, match="is not above.*swapped targets"):
        GAN(*tiny_mlp_models(), **kwargs)


@pytest.mark.parametrize("rate", [-1e-3, float("nan"), float("inf")])
@pytest.mark.parametrize("which", ["d_optimizer", "g_optimizer"])
def test_bad_learning_rates_are_refused(rate, which):
    G, D = tiny_mlp_models()
    with pytest.raises(ValueError, match=f"{which} has learning rate {rate:.3g}; it must be a finite number >= 0"):
        GAN(G, D, **{which: keras.optimizers.Adam(rate)})
    assert getattr(D, "optimizer", None) is None, "nothing may be compiled before the error"


def test_an_optimizer_given_as_a_string_is_refused():
    with pytest.raises(TypeError, match=r"got the string 'adam': pass e.g. d_optimizer=keras.optimizers.Adam"):
        GAN(*tiny_mlp_models(), d_optimizer="adam")
    with pytest.raises(TypeError, match="g_optimizer must be a keras.optimizers.Optimizer"):
        GAN(*tiny_mlp_models(), g_optimizer=object())


def test_a_learning_rate_schedule_is_accepted():
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-3, 100, 0.9)
    GAN(*tiny_mlp_models(), d_optimizer=keras.optimizers.Adam(schedule))


def test_batchnorm_in_the_discriminator_warns():
    with pytest.warns(ModelWarning, match="frozen Keras 3 BatchNormalization normalises with its moving statistics"):
        GAN(*tiny_conv_models(batchnorm=True))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ModelWarning)
        GAN(*tiny_conv_models(batchnorm=False))


def test_a_layer_shared_by_g_and_d_is_refused():
    shared = layers.Dense(8, activation="relu", name="shared_dense")
    z = keras.Input((LATENT,))
    G = keras.Model(z, layers.Dense(1)(shared(z)))
    x = keras.Input((1,))
    D = keras.Model(x, layers.Dense(1, activation="sigmoid")(shared(layers.Dense(LATENT)(x))))
    with pytest.raises(ValueError, match=r"share the layer\(s\) \['shared_dense'\]"):
        GAN(G, D)
    assert getattr(D, "optimizer", None) is None


def test_the_same_model_twice_is_refused():
    D = mlp_d()
    with pytest.raises(ValueError, match="the generator and the discriminator are the same model"):
        GAN(D, D)


def test_an_interrupted_generator_step_leaves_d_trainable(monkeypatch):
    G, D = conv()
    gan = GAN(G, D, seed=0)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(gan.combined, "train_on_batch", interrupted)
    with pytest.raises(KeyboardInterrupt):
        fit_briefly(gan, X)
    assert D.trainable and all(layer.trainable for layer in D.layers)
    monkeypatch.undo()
    fit_briefly(gan, X)  # and the next fit trains D as before
    assert int(gan.d_optimizer.iterations.numpy()) > 0


@pytest.mark.parametrize("sampler,error,match", [
    (lambda n, rng: rng.normal(size=(n, 2)), ValueError, r"returned shape \(16, 2\).*must return \(16, 1\)"),
    (lambda n, rng: rng.normal(size=(n,)), ValueError, r"returned shape \(16,\)"),
    (lambda n, rng: np.full((n, 1), np.nan), ValueError, "NaN or infinite"),
    (lambda n, rng: "text", TypeError, "returned str, not an array of numbers"),
])
def test_a_sampler_returning_bad_batches_is_named(sampler, error, match):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0)
    before = snapshot(D)
    with pytest.raises(error, match=match):
        fit_briefly(gan, sampler)
    assert not changed(before, D)


def test_a_sampler_outside_a_tanh_range_is_refused():
    z = keras.Input((LATENT,))
    G = keras.Model(z, layers.Dense(1, activation="tanh")(z))
    gan = GAN(G, mlp_d(), seed=0)
    with pytest.raises(ValueError, match="the data sampler's samples range from"):
        fit_briefly(gan, lambda n, rng: rng.normal(5.0, 1.0, (n, 1)))


def test_labels_beyond_an_embedding_are_refused():
    G, D = tiny_conv_models(conditional=True, num_classes=3, batchnorm=False)
    with pytest.raises(ValueError, match=r"Embedding .* has input_dim=3 but num_classes=5.*Embedding\(5, ...\)"):
        GAN(G, D, num_classes=5)


class Subclassed(keras.Model):
    def __init__(self):
        super().__init__()
        self.dense = layers.Dense(1)

    def call(self, z):
        return self.dense(z)


def test_a_subclassed_generator_is_explained():
    with pytest.raises(ValueError, match=r"the generator \(Subclassed\) has no defined inputs.*keras.Input"):
        GAN(Subclassed(), mlp_d())


@pytest.mark.parametrize("seed", [2**32, 2**63, 2**64])
def test_seeds_beyond_32_bits_are_refused(seed):
    with pytest.raises(ValueError, match=r"seed must be an integer in \[0, 2\*\*32\)"):
        GAN(*tiny_mlp_models(), seed=seed)


def test_nan_data_are_refused_for_any_generator():
    gan = GAN(*tiny_mlp_models(), seed=0)  # a linear G: no output range to check against
    data = np.random.default_rng(0).normal(size=(64, 1)).astype("float32")
    data[3] = np.inf
    with pytest.raises(ValueError, match="data contain NaN or infinite values"):
        fit_briefly(gan, data)
    assert gan.step == 0


def test_a_zero_learning_rate_is_allowed():
    gan = GAN(*tiny_mlp_models(), g_optimizer=keras.optimizers.SGD(0.0))  # G held fixed on purpose
    assert float(gan.g_optimizer.learning_rate) == 0.0
