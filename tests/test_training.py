"""The frozen-discriminator discipline, and the trainer's options, on tiny models."""

import copy
import warnings

import numpy as np
import pytest

import keras

from conftest import LATENT, changed, snapshot, tiny_conv_models, tiny_mlp_models
from gan_utils.training import GAN, Hook


def images(rng, n=64):
    return rng.uniform(-1, 1, (n, 8, 8, 1)).astype(np.float32)


def check_discipline(gan, real, labels=None, batch=None):
    """D moves only in its step, G only in its step: every variable, BatchNorm statistics included."""
    G, D = gan.generator, gan.discriminator
    d_before, g_before = snapshot(D), snapshot(G)
    gan.train_discriminator(real, labels)
    d_changed, g_changed = changed(d_before, D), changed(g_before, G)
    assert {v.path for v in D.trainable_weights} <= d_changed, "D's weights did not all change in D's step"
    d_stats = {v.path for v in D.non_trainable_weights if "moving" in v.path}
    assert d_stats <= d_changed, "D's BatchNorm statistics did not change in D's step"
    assert not g_changed, f"G changed in D's step: {sorted(g_changed)}"

    d_before, g_before = snapshot(D), snapshot(G)
    gan.train_generator(batch or len(real))
    d_changed, g_changed = changed(d_before, D), changed(g_before, G)
    assert not d_changed, f"D changed in G's step: {sorted(d_changed)}"
    assert {v.path for v in G.trainable_weights} <= g_changed, "G's weights did not all change in G's step"
    g_stats = {v.path for v in G.non_trainable_weights if "moving" in v.path}
    assert g_stats <= g_changed, "G's BatchNorm statistics did not change in G's step"


@pytest.mark.backend
def test_each_step_moves_only_its_own_network(seeded):
    G, D = tiny_conv_models()
    gan = GAN(G, D, seed=0)
    assert [w for w in D.non_trainable_weights if "moving" in w.path], "the test needs BatchNorm in D"
    for _ in range(3):  # the flag is toggled every step; the discipline holds on every one
        check_discipline(gan, images(seeded, 32))


@pytest.mark.backend
def test_discipline_survives_a_retrace(seeded):
    G, D = tiny_conv_models()
    gan = GAN(G, D, seed=0)
    check_discipline(gan, images(seeded, 32))
    check_discipline(gan, images(seeded, 16))  # another batch size retraces both train steps
    gan.fit(images(seeded, 64), batch_size=8, steps=2, verbose=0)
    check_discipline(gan, images(seeded, 32))


@pytest.mark.parametrize("game", ["bce", "wgan-gp"])
def test_each_train_step_is_traced_once(seeded, game, monkeypatch):
    """The optimizers' slots exist before the first step: TensorFlow traces a step that creates variables twice."""
    from keras.src.backend.tensorflow.trainer import TensorFlowTrainer

    from gan_utils.wgan import WassersteinGAN

    traced, train_step = [], TensorFlowTrainer.train_step
    monkeypatch.setattr(TensorFlowTrainer, "train_step", lambda model, data: traced.append(model) or train_step(model, data))
    G, D = tiny_mlp_models(dim=2)
    if game != "bce":  # a critic: a linear score
        D = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    gan = GAN(G, D, seed=0) if game == "bce" else WassersteinGAN(G, D, gradient_penalty=10.0, seed=0)
    assert gan.d_optimizer.built and gan.g_optimizer.built
    gan.fit(seeded.normal(size=(64, 2)).astype(np.float32), batch_size=16, steps=3, verbose=0)
    assert len(traced) == 2 and len(set(map(id, traced))) == 2, [m.name for m in traced]


@pytest.mark.backend
def test_discipline_conditional(seeded):
    G, D = tiny_conv_models(conditional=True, num_classes=3)
    gan = GAN(G, D, num_classes=3, seed=0)
    for n in (32, 16):
        check_discipline(gan, images(seeded, n), seeded.integers(0, 3, n))


@pytest.mark.backend
def test_discipline_with_instance_noise_and_minimax(seeded):
    G, D = tiny_conv_models()
    gan = GAN(G, D, generator_loss="minimax", instance_noise=0.2, noise_decay_steps=10, seed=0)
    check_discipline(gan, images(seeded, 32))


@pytest.mark.backend
def test_fit_updates_each_network_the_expected_number_of_times(seeded):
    G, D = tiny_conv_models(batchnorm=False)
    gan = GAN(G, D, d_steps=3, seed=0)
    gan.fit(images(seeded, 200), batch_size=10, steps=4, verbose=0)
    # k=3 discriminator steps, each a real and a fake update; one generator update per step
    assert int(gan.d_optimizer.iterations.numpy()) == 4 * 3 * 2
    assert int(gan.g_optimizer.iterations.numpy()) == 4
    assert gan.history["step"] == [1, 2, 3, 4]


@pytest.mark.backend
def test_classic_keras2_recipe_freezes_d_on_keras3(seeded):
    """Why the trainer toggles the flag: setting it once before compiling stops D learning."""
    G, D = tiny_mlp_models()
    D.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    D.trainable = False
    z = keras.Input((LATENT,))
    combined = keras.Model(z, D(G(z)))
    combined.compile(keras.optimizers.Adam(1e-3), "binary_crossentropy")
    before = snapshot(D)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        D.train_on_batch(seeded.normal(size=(16, 1)).astype("float32"), np.ones((16, 1), "float32"))
    assert not changed(before, D), "Keras now trains D here: re-check the notebooks' text and README"
    if keras.backend.backend() == "tensorflow":  # the only sign of trouble, on TensorFlow
        assert any("does not have any trainable weights" in str(w.message) for w in caught)


@pytest.mark.backend
def test_losses_are_per_batch_not_running_means(seeded):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0)
    bce = keras.losses.BinaryCrossentropy()
    for shift in (0.0, 5.0, -3.0):  # very different batches: a running mean would lag behind
        real = (seeded.normal(size=(32, 1)) + shift).astype(np.float32)
        expected = float(bce(np.ones((32, 1)), D.predict_on_batch(real)))
        got = gan.train_discriminator(real)
        assert got["d_loss_real"] == pytest.approx(expected, rel=1e-4)
        assert got["d_real"] == pytest.approx(float(D.predict_on_batch(real).mean()), abs=0.05)


@pytest.mark.backend
def test_minimax_loss_is_log_one_minus_d(seeded):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, generator_loss="minimax", seed=0)
    z = gan.sample_z(64, copy.deepcopy(gan.rng))  # the z the step will draw
    expected = float(np.mean(np.log(1.0 - D.predict_on_batch(G.predict_on_batch(z)))))
    out = gan.train_generator(64)
    assert out["g_loss"] < 0  # log(1 - D(G(z))) is negative
    assert out["g_loss"] == pytest.approx(expected, rel=1e-4)  # before the update, as train_on_batch reports


def d_targets(gan, n):
    return gan.game.d_targets(n, gan.rng)


def test_targets_smoothing_ranges_and_flips():
    G, D = tiny_mlp_models()
    assert np.all(d_targets(GAN(G, D, real_target=0.9), 100)[0] == np.float32(0.9))
    real_t, fake_t = d_targets(GAN(G, D, real_target=(0.7, 1.0), fake_target=(0.0, 0.3)), 2000)
    assert 0.7 <= real_t.min() and real_t.max() <= 1.0 and real_t.std() > 0.05
    assert 0.0 <= fake_t.min() and fake_t.max() <= 0.3
    real_t, fake_t = d_targets(GAN(G, D, flip_prob=0.1, seed=1), 20000)
    assert np.mean(real_t == 0) == pytest.approx(0.1, abs=0.01)
    assert np.mean(fake_t == 1) == pytest.approx(0.1, abs=0.01)


def test_instance_noise_decays_linearly(seeded):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, instance_noise=0.5, noise_decay_steps=10, seed=0)
    gan.fit(lambda n, rng: rng.normal(size=(n, 1)).astype("float32"), steps=12, batch_size=8, verbose=0)
    assert gan.history["noise_std"][:3] == pytest.approx([0.5, 0.45, 0.4])
    assert gan.history["noise_std"][-2:] == [0.0, 0.0]
    assert float(gan.noise_layer.stddev.numpy()) == 0.0


def test_hooks_every_and_each_epoch(seeded):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0)
    calls = []
    hooks = [
        Hook(lambda g: calls.append(("every", g.step)), every=3),
        Hook(lambda g: calls.append(("epoch", g.epoch)), each_epoch=True, at_start=True),
    ]
    gan.fit(seeded.normal(size=(50, 1)).astype("float32"), batch_size=10, epochs=2, hooks=hooks, verbose=0)
    assert calls == [("epoch", 0), ("every", 3), ("epoch", 1), ("every", 6), ("every", 9), ("epoch", 2)]


def test_hook_can_stop_training(seeded):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0)

    def stop(g):
        g.stop_training = True

    gan.fit(lambda n, rng: rng.normal(size=(n, 1)).astype("float32"), steps=50, batch_size=8,
            hooks=[Hook(stop, every=5)], verbose=0)
    assert gan.step == 5


@pytest.mark.backend
def test_same_seed_same_history(seeded):
    runs = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        G, D = tiny_mlp_models()
        gan = GAN(G, D, seed=3, real_target=(0.8, 1.0), flip_prob=0.05)
        gan.fit(np.random.default_rng(3).normal(size=(64, 1)).astype("float32"), batch_size=16, epochs=3, verbose=0)
        runs.append((gan.history["d_loss_real"], [w.copy() for w in G.get_weights()]))
    assert runs[0][0] == runs[1][0]
    assert all(np.array_equal(a, b) for a, b in zip(runs[0][1], runs[1][1]))


def test_weight_average_is_the_mean_of_the_averaged_steps(seeded):
    from gan_utils.training import WeightAverage

    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0)
    average = WeightAverage(G, start_step=2)
    seen = []
    record = Hook(lambda g: seen.append([w.copy() for w in G.get_weights()]) if g.step > 2 else None, every=1)
    gan.fit(lambda n, rng: rng.normal(size=(n, 1)).astype("float32"), steps=6, batch_size=8, verbose=0,
            hooks=[average.hook(), record])
    assert average.count == 4
    for got, *steps in zip(average.averaged_weights(), *seen):
        assert np.allclose(got, np.mean(steps, axis=0), atol=1e-6)
    with pytest.raises(RuntimeError, match="no weights averaged yet"):
        WeightAverage(G, start_step=100).averaged_weights()


def test_weight_average_with_decay_is_an_exponential_moving_average(seeded):
    from gan_utils.training import WeightAverage

    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0)
    average = WeightAverage(G, decay=0.5)
    seen = []
    record = Hook(lambda g: seen.append([w.astype(np.float64) for w in G.get_weights()]), every=1)
    gan.fit(lambda n, rng: rng.normal(size=(n, 1)).astype("float32"), steps=5, batch_size=8, verbose=0,
            hooks=[average.hook(), record])
    expected = seen[0]
    for step in seen[1:]:
        expected = [0.5 * e + 0.5 * w for e, w in zip(expected, step)]
    for got, want, last in zip(average.averaged_weights(), expected, seen[-1]):
        assert np.allclose(got, want, atol=1e-6)
    assert any(not np.allclose(want, last) for want, last in zip(expected, seen[-1])), "the average lags the weights"
    restored = WeightAverage(G)
    restored.load_state_dict(average.state_dict())
    assert restored.decay == 0.5 and restored.count == 5
    for bad in (0.0, 1.0, 1.5, -0.1, True, "0.9"):
        with pytest.raises(ValueError, match="decay must be None"):
            WeightAverage(G, decay=bad)


def test_default_noise_decay_ends_with_the_first_fit(seeded):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, instance_noise=0.4, seed=0)
    data = lambda n, rng: rng.normal(size=(n, 1)).astype("float32")  # noqa: E731
    gan.fit(data, steps=4, batch_size=8, verbose=0)
    gan.fit(data, steps=3, batch_size=8, verbose=0)  # continuing must not restart the noise
    assert gan.history["noise_std"] == pytest.approx([0.4, 0.3, 0.2, 0.1, 0.0, 0.0, 0.0])


def test_batch_mean_output_is_the_latest_batch_and_reset_is_free():
    from gan_utils.training import BatchMeanOutput

    m = BatchMeanOutput()
    m.update_state(None, np.full((4, 1), 0.25, np.float32))
    m.update_state(None, np.array([[1.0], [0.0], [0.5], [0.5]], np.float32))
    assert float(m.result()) == pytest.approx(0.5)  # the latest batch, not a running mean
    m.reset_state()
    assert float(m.result()) == pytest.approx(0.5)
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(m))
    assert isinstance(again, BatchMeanOutput) and again.name == "mean_output"


@pytest.mark.backend
def test_compiled_discriminator_saves_and_loads(tmp_path):
    G, D = tiny_mlp_models()
    gan = GAN(G, D, seed=0)
    gan.train_discriminator(np.zeros((16, 1), np.float32))
    D.save(tmp_path / "d.keras")
    again = keras.models.load_model(tmp_path / "d.keras")  # its compile config names gan_utils' metric
    x = np.linspace(-1, 1, 16, dtype=np.float32)[:, None]
    np.testing.assert_allclose(again.predict_on_batch(x), D.predict_on_batch(x), rtol=1e-6)
