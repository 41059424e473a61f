"""WGAN-GP's gradient penalty: the input gradient per backend, the penalty's value, its eps, and that one
train_on_batch differentiates it with respect to the critic's weights (a second derivative)."""

import math

import keras
import numpy as np
import pytest
from keras import layers

from gan_utils.layers import OutputPenalty
from gan_utils.losses import wasserstein_loss
from gan_utils.wgan import GradientPenalty, gradient_penalty, input_gradient, interpolate

W = np.array([[2.0], [-1.0], [2.0]], np.float32)  # ||W|| = 3: the penalty of the linear critic is (3 - 1)^2 = 4
B = np.array([0.5], np.float32)


def linear_critic(w=W, b=B):
    """D(x) = x @ w + b; its input gradient is w for every example."""
    x = keras.Input((len(w),))
    dense = layers.Dense(1)
    critic = keras.Model(x, dense(x), name="linear_critic")
    dense.set_weights([w, b])
    return critic


def tanh_critic(seed=0, dim=2, hidden=4):
    """D(x) = tanh(x @ W1 + b1) @ w2 + b2, with weights drawn from ``seed`` (non-zero biases)."""
    rng = np.random.default_rng(seed)
    x = keras.Input((dim,))
    first, second = layers.Dense(hidden, activation="tanh"), layers.Dense(1)
    critic = keras.Model(x, second(first(x)), name="tanh_critic")
    first.set_weights([rng.normal(size=(dim, hidden)).astype("float32"), rng.normal(size=hidden).astype("float32")])
    second.set_weights([rng.normal(size=(hidden, 1)).astype("float32"), rng.normal(size=1).astype("float32")])
    return critic


def tanh_input_gradient(weights, x):
    """The tanh critic's input gradient in float64 NumPy, one row per example."""
    w1, b1, w2, _ = (np.asarray(w, np.float64) for w in weights)
    h = np.tanh(x @ w1 + b1)
    return ((1.0 - h**2) * w2[:, 0]) @ w1.T


def tanh_penalty(weights, x):
    norm = np.linalg.norm(tanh_input_gradient(weights, x), axis=1)
    return np.mean((norm - 1.0) ** 2)


def penalty_model(critic, weight=10.0, seed=0, lr=1.0):
    """The one-step WGAN-GP critic model: [real, fake] -> [D(real), D(fake)], with the penalty inside."""
    shape = critic.input_shape[1:]
    real, fake = keras.Input(shape, name="real"), keras.Input(shape, name="fake")
    layer = GradientPenalty(critic, weight=weight, seed=seed, name="gp")
    model = keras.Model([real, fake], layer([real, fake]))
    model.compile(keras.optimizers.SGD(lr), loss=[wasserstein_loss, wasserstein_loss])
    return model, layer


def targets(n):
    return [-np.ones((n, 1), np.float32), np.ones((n, 1), np.float32)]


# 1. the input gradient


@pytest.mark.backend
def test_input_gradient_of_a_linear_critic_is_its_kernel_for_every_row(seeded):
    x = seeded.normal(size=(7, 3)).astype("float32")
    gradient = keras.ops.convert_to_numpy(input_gradient(linear_critic(), x))
    np.testing.assert_array_equal(gradient, np.repeat(W.T, 7, axis=0))


@pytest.mark.backend
def test_input_gradient_of_images_has_their_shape(seeded):
    kernel = seeded.normal(size=(4 * 4 * 2, 1)).astype("float32")
    x_in = keras.Input((4, 4, 2))
    dense = layers.Dense(1)
    critic = keras.Model(x_in, dense(layers.Flatten()(x_in)))
    dense.set_weights([kernel, B])
    x = seeded.normal(size=(3, 4, 4, 2)).astype("float32")
    gradient = keras.ops.convert_to_numpy(input_gradient(critic, x))
    np.testing.assert_array_equal(gradient, np.broadcast_to(kernel.reshape(1, 4, 4, 2), x.shape))


@pytest.mark.backend
def test_input_gradient_of_a_nonlinear_critic_matches_finite_differences(seeded):
    critic = tanh_critic()
    weights = critic.get_weights()
    x = seeded.normal(size=(5, 2))
    gradient = keras.ops.convert_to_numpy(input_gradient(critic, x.astype("float32")))

    def score(x):  # the critic in float64
        w1, b1, w2, b2 = (np.asarray(w, np.float64) for w in weights)
        return (np.tanh(x @ w1 + b1) @ w2 + b2)[:, 0]

    h = 1e-6
    central = np.stack([(score(x + h * e) - score(x - h * e)) / (2 * h) for e in np.eye(2)], axis=1)
    np.testing.assert_allclose(central, tanh_input_gradient(weights, x), rtol=1e-7, atol=1e-9)  # the replica
    np.testing.assert_allclose(gradient, central, rtol=1e-5, atol=1e-6)


# 2 and 3. the penalty's value


@pytest.mark.backend
def test_penalty_of_a_linear_critic_with_norm_3_is_4_for_any_eps(seeded):
    critic = linear_critic()
    real, fake = seeded.normal(size=(2, 6, 3)).astype("float32")
    for eps in (seeded.uniform(size=6), np.zeros(6), np.ones(6), seeded.uniform(size=(6, 1))):
        assert float(gradient_penalty(critic, real, fake, eps.astype("float32"))) == 4.0


@pytest.mark.backend
def test_penalty_value_is_the_analytic_one():
    # D(x) = 2 tanh(x): D'(x) = 2 / cosh(x)^2 is 2 at 0 and 1 at asinh(1), so the penalty is mean((2-1)^2, 0) = 0.5
    x_in = keras.Input((1,))
    first, second = layers.Dense(1, activation="tanh"), layers.Dense(1)
    critic = keras.Model(x_in, second(first(x_in)))
    first.set_weights([np.ones((1, 1), "float32"), np.zeros(1, "float32")])
    second.set_weights([np.full((1, 1), 2.0, "float32"), np.full(1, 0.3, "float32")])
    a = math.asinh(1.0)
    real = np.array([[0.0], [2 * a], [-3 * a]], "float32")
    fake = np.array([[0.0], [0.0], [a]], "float32")
    eps = np.array([0.3, 0.5, 0.25], "float32")  # x_hat = 0, asinh(1), 0 (the third: -0.75 a + 0.75 a)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(interpolate(real, fake, eps))[:, 0], [0.0, a, 0.0],
                               atol=1e-6)
    assert float(gradient_penalty(critic, real, fake, eps)) == pytest.approx(2.0 / 3.0, abs=1e-6)
    assert float(gradient_penalty(critic, real[:2], fake[:2], eps[:2])) == pytest.approx(0.5, abs=1e-6)


@pytest.mark.backend
def test_layer_returns_the_scores_and_adds_weight_times_penalty_in_training(seeded):
    critic = linear_critic()
    layer = GradientPenalty(critic, weight=2.5, seed=0)
    real, fake = seeded.normal(size=(2, 5, 3)).astype("float32")
    scores = layer([real, fake], training=True)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scores[0]), real @ W + B, rtol=1e-6)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(scores[1]), fake @ W + B, rtol=1e-6)
    assert [float(loss) for loss in layer.losses] == [2.5 * 4.0]


# 4. one train_on_batch differentiates the penalty with respect to the weights


@pytest.mark.backend
def test_train_step_update_is_minus_the_analytic_gradient_of_loss_plus_penalty(seeded):
    critic = linear_critic()
    model, _ = penalty_model(critic, weight=10.0)
    real, fake = seeded.normal(size=(16, 3)).astype("float32"), seeded.normal(1.0, 1.0, (16, 3)).astype("float32")
    loss = model.train_on_batch([real, fake], targets(16))[0]
    # loss = mean(-D(real)) + mean(D(fake)) + 10 (||w|| - 1)^2, with D(x) = x @ w + b
    w = W[:, 0].astype(np.float64)
    norm = np.linalg.norm(w)
    gradient_w = fake.mean(axis=0) - real.mean(axis=0) + 10.0 * 2.0 * (norm - 1.0) * w / norm  # second order
    assert loss == pytest.approx(float((fake.mean(0) - real.mean(0)) @ w) + 40.0, rel=1e-5)
    kernel, bias = critic.get_weights()
    np.testing.assert_allclose(kernel[:, 0], w - gradient_w, rtol=1e-5)
    np.testing.assert_allclose(bias, B, atol=1e-6)  # d loss / d b = -1 + 1 + 0


@pytest.mark.backend
def test_train_step_differentiates_a_nonlinear_critics_penalty(seeded):
    # real == fake: x_hat = real whatever eps is, the Wasserstein terms cancel, and the update is minus the
    # penalty's gradient, which a float64 finite difference over the weights gives
    critic = tanh_critic(seed=1)
    weights = [np.asarray(w, np.float64) for w in critic.get_weights()]
    x = seeded.normal(size=(8, 2)).astype("float32")
    model, _ = penalty_model(critic, weight=3.0, lr=0.5)
    model.train_on_batch([x, x], targets(8))
    h = 1e-6
    for index, (before, after) in enumerate(zip(weights, critic.get_weights())):
        gradient = np.zeros_like(before)
        for position in np.ndindex(before.shape):
            plus, minus = [w.copy() for w in weights], [w.copy() for w in weights]
            plus[index][position] += h
            minus[index][position] -= h
            gradient[position] = 3.0 * (tanh_penalty(plus, x) - tanh_penalty(minus, x)) / (2 * h)
        np.testing.assert_allclose(after, before - 0.5 * gradient, rtol=1e-4, atol=1e-5)
    assert np.abs(critic.get_weights()[0] - weights[0]).max() > 1e-3  # the penalty did move the weights


@pytest.mark.backend
def test_critic_with_dropout_and_batchnorm_trains(seeded):
    # state inside the critic (Dropout's seed, BatchNorm's statistics) comes out of the inner gradient and is
    # written back (on JAX, updating it inside jax.grad would leak a tracer)
    x_in = keras.Input((3,))
    h = layers.Dropout(0.2)(layers.Dense(8, activation="relu")(x_in))
    batchnorm = layers.BatchNormalization()
    critic = keras.Model(x_in, layers.Dense(1)(batchnorm(h)))
    model, _ = penalty_model(critic, lr=0.01)
    real, fake = seeded.normal(size=(2, 16, 3)).astype("float32")
    moving_mean = keras.ops.convert_to_numpy(batchnorm.moving_mean).copy()
    assert np.isfinite(model.train_on_batch([real, fake], targets(16))[0])
    assert not np.array_equal(keras.ops.convert_to_numpy(batchnorm.moving_mean), moving_mean)


@pytest.mark.backend
def test_critics_own_losses_count_for_real_and_fake_not_for_x_hat(seeded):
    x_in = keras.Input((3,))
    critic = keras.Model(x_in, OutputPenalty(0.5)(linear_critic()(x_in)))
    model, _ = penalty_model(critic, lr=0.0)
    real, fake = seeded.normal(size=(2, 16, 3)).astype("float32")
    scores = real @ W + B, fake @ W + B
    expected = scores[1].mean() - scores[0].mean() + 40.0 + 0.5 * (np.mean(scores[0] ** 2) + np.mean(scores[1] ** 2))
    assert model.train_on_batch([real, fake], targets(16))[0] == pytest.approx(expected, rel=1e-5)


# 5. eps


@pytest.mark.backend
def test_eps_is_uniform_on_0_1_one_per_example_and_seeded(seeded):
    real = np.zeros((4096, 2), "float32")
    eps = keras.ops.convert_to_numpy(GradientPenalty(linear_critic(), seed=3).draw_eps(real))
    assert eps.shape == (4096,) and eps.min() >= 0.0 and eps.max() <= 1.0
    assert eps.mean() == pytest.approx(0.5, abs=0.02) and eps.std() == pytest.approx(math.sqrt(1 / 12), abs=0.01)
    assert eps.min() < 0.01 and eps.max() > 0.99  # spread over the whole segment, not bunched like a normal
    # x_hat lies on each example's own segment: x_hat - fake = eps_i (real - fake), one eps_i per image
    real, fake = seeded.normal(size=(2, 6, 4, 4, 1)).astype("float32")
    x_hat = keras.ops.convert_to_numpy(interpolate(real, fake, eps[:6]))
    np.testing.assert_allclose(x_hat - fake, eps[:6, None, None, None] * (real - fake), atol=1e-6)
    # the same seed draws the same eps, each call a new one, another seed others
    again = GradientPenalty(linear_critic(), seed=3)
    first, second = (keras.ops.convert_to_numpy(again.draw_eps(real)) for _ in range(2))
    np.testing.assert_array_equal(first, eps[:6])
    assert not np.array_equal(first, second)
    other = keras.ops.convert_to_numpy(GradientPenalty(linear_critic(), seed=4).draw_eps(real))
    assert not np.array_equal(other, first)


@pytest.mark.backend
def test_call_penalises_at_the_seeded_eps(seeded):
    critic = tanh_critic(seed=2)
    real, fake = seeded.normal(size=(2, 8, 2)).astype("float32")
    layer = GradientPenalty(critic, weight=1.0, seed=7)
    layer([real, fake], training=True)
    eps = keras.ops.convert_to_numpy(GradientPenalty(critic, seed=7).draw_eps(real))
    x_hat = eps[:, None] * real.astype(np.float64) + (1 - eps[:, None]) * fake
    assert float(layer.losses[0]) == pytest.approx(tanh_penalty(critic.get_weights(), x_hat), rel=1e-4)


# 6. no penalty outside training


@pytest.mark.backend
def test_no_penalty_when_not_training_or_frozen(seeded):
    real, fake = seeded.normal(size=(2, 8, 3)).astype("float32")
    layer = GradientPenalty(linear_critic(), seed=0)
    layer([real, fake], training=False)
    assert layer.losses == []
    layer([real, fake])
    assert layer.losses == []
    layer.critic.trainable = False  # the critic frozen (as in G's step) and the layer not
    layer([real, fake], training=True)
    assert layer.losses == []
    layer.critic.trainable, layer.trainable = True, False
    layer([real, fake], training=True)
    assert layer.losses == []

    model, _ = penalty_model(linear_critic())
    wasserstein = float((fake.mean(0) - real.mean(0)) @ W[:, 0])
    assert model.test_on_batch([real, fake], targets(8))[0] == pytest.approx(wasserstein, rel=1e-5)
    scores = model.predict_on_batch([real, fake])
    np.testing.assert_allclose(scores[0], real @ W + B, rtol=1e-6)


@pytest.mark.backend
def test_a_frozen_penalty_layer_adds_nothing_to_a_generator_step(seeded):
    # G's step: z -> G -> fake, scored by the frozen critic (the layer frozen with it): G pays no penalty
    critic = linear_critic()
    z_in, real_in = keras.Input((2,)), keras.Input((3,))
    generator = layers.Dense(3)
    layer = GradientPenalty(critic, seed=0)
    layer.trainable = False
    model = keras.Model([real_in, z_in], layer([real_in, generator(z_in)]))
    model.compile(keras.optimizers.SGD(0.0), loss=[wasserstein_loss, wasserstein_loss])
    real, z = seeded.normal(size=(8, 3)).astype("float32"), seeded.normal(size=(8, 2)).astype("float32")
    fake = keras.ops.convert_to_numpy(generator(z))
    wasserstein = float((fake.mean(0) - real.mean(0)) @ W[:, 0])
    assert model.train_on_batch([real, z], targets(8))[0] == pytest.approx(wasserstein, rel=1e-4, abs=1e-5)
    np.testing.assert_array_equal(critic.get_weights()[0], W)


# 7. arguments, backends, serialisation


@pytest.mark.parametrize("weight", [-1.0, -1e-9, float("nan"), float("inf"), "ten", None, True])
def test_bad_weight_is_refused(weight):
    with pytest.raises(ValueError, match="weight"):
        GradientPenalty(linear_critic(), weight=weight)


def test_weight_zero_adds_no_loss(seeded):
    layer = GradientPenalty(linear_critic(), weight=0)
    layer(list(seeded.normal(size=(2, 4, 3)).astype("float32")), training=True)
    assert layer.losses == []


def test_critic_must_be_a_keras_layer():
    with pytest.raises(TypeError, match="critic"):
        GradientPenalty(lambda x: x)


def test_unsupported_backend_is_refused_at_construction(monkeypatch):
    critic = linear_critic()
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    with pytest.raises(NotImplementedError, match=r"'torch' backend.*KERAS_BACKEND=tensorflow or KERAS_BACKEND=jax"):
        GradientPenalty(critic)
    with pytest.raises(NotImplementedError, match=r"tensorflow and jax backends, not for the 'torch'"):
        input_gradient(critic, np.zeros((2, 3), "float32"))


@pytest.mark.backend
def test_config_and_saved_model_round_trip(tmp_path, seeded):
    model, layer = penalty_model(tanh_critic(dim=3), weight=5.0, seed=11)
    clone = GradientPenalty.from_config(layer.get_config())
    assert (clone.weight, clone.seed, clone.name) == (5.0, 11, "gp")
    path = tmp_path / "critic_step.keras"
    model.save(path)
    loaded = keras.models.load_model(path, safe_mode=True)
    loaded_layer = loaded.get_layer("gp")
    assert isinstance(loaded_layer, GradientPenalty) and (loaded_layer.weight, loaded_layer.seed) == (5.0, 11)
    real, fake = seeded.normal(size=(2, 4, 3)).astype("float32")
    for got, want in zip(loaded.predict_on_batch([real, fake]), model.predict_on_batch([real, fake])):
        np.testing.assert_allclose(got, want, rtol=1e-6)
