"""The semi-supervised GAN: which weights move in which step, D's parametrisation, feature matching's targets,
the exported classifier, the linear probe, and the errors."""

from pathlib import Path

import keras
import numpy as np
import pytest
from keras import layers

from conftest import changed, snapshot
from gan_utils.semi_supervised import (FeatureMatching, LinearProbe, SemiSupervisedGAN, discriminator_from_classifier,
                                       export_classifier, labelled_subset, shift_images)

DIM, K, LATENT = 6, 3, 4


def models(noise=True, batchnorm=True):
    """G: z -> (DIM,) (BatchNorm inside); the classifier: (DIM,) -> hidden -> features -> K logits."""
    z = keras.Input((LATENT,))
    h = layers.Dense(8, activation="relu", name="g_hidden")(z)
    if batchnorm:
        h = layers.BatchNormalization(name="g_bn")(h)
    G = keras.Model(z, layers.Dense(DIM, activation="tanh", name="g_out")(h), name="G")
    x = keras.Input((DIM,))
    h = layers.GaussianNoise(0.3, name="input_noise")(x) if noise else x
    h = layers.Dense(8, activation="relu", name="c_hidden")(h)
    f = layers.Dense(5, activation="relu", name="c_features")(h)
    C = keras.Model(x, layers.Dense(K, name="logits")(f), name="classifier")
    return G, C


def data(rng, n=64):
    x = np.tanh(rng.normal(size=(n, DIM))).astype(np.float32)
    y = rng.integers(0, K, n).astype(np.int32)
    return x, y


@pytest.mark.backend
def test_d_step_moves_the_classifier_only_and_g_step_moves_g_only(seeded):
    """D's step (labelled + unlabelled + fake batch, one call) moves every classifier weight and nothing of G;
    G's step (feature matching through D's frozen layers) moves G and no classifier weight, although the feature
    model it trains through is made of the classifier's layers: ``D.trainable = False`` freezes them all."""
    keras.utils.set_random_seed(1)
    G, C = models()
    x, y = data(seeded)
    gan = SemiSupervisedGAN(G, C, "c_features", x[:12], y[:12], seed=1)
    g0, c0 = snapshot(G), snapshot(C)
    gan.train_discriminator(x[12:44])
    assert changed(c0, C) == {v.path for v in C.trainable_weights}
    assert not changed(g0, G)
    g0, c0 = snapshot(G), snapshot(C)
    gan.train_generator(32, real=x[12:44])
    assert changed(g0, G) == {v.path for v in G.weights}  # weights and BatchNorm statistics
    assert not changed(c0, C)
    assert gan.discriminator.trainable and all(layer.trainable for layer in C.layers)


@pytest.mark.backend
def test_fit_records_the_labelled_loss_and_learns_the_labelled_examples(seeded):
    keras.utils.set_random_seed(2)
    G, C = models(noise=False)
    x, y = data(seeded, 200)
    y = (x[:, 0] > 0).astype(np.int32) + (x[:, 1] > 0)  # a learnable rule
    gan = SemiSupervisedGAN(G, C, "c_features", x[:30], y[:30], labelled_batch=16, seed=2,
                            d_optimizer=keras.optimizers.Adam(1e-2), g_optimizer=keras.optimizers.Adam(1e-3))
    gan.fit(x, batch_size=32, steps=120, verbose=0)
    h = gan.history_arrays()
    assert len(h["labelled_loss"]) == len(h["labelled_accuracy"]) == len(h["step"]) == 120
    assert h["labelled_loss"][-10:].mean() < 0.5 * h["labelled_loss"][:10].mean()
    assert np.mean(gan.classify(x[:30]).argmax(1) == y[:30]) >= 0.9


def test_d_is_z_over_z_plus_one():
    """D(x) = Z / (Z + 1) with Z = sum_k exp(l_k): the probability of "real" when "fake" has logit 0."""
    keras.utils.set_random_seed(0)
    _, C = models(noise=False)
    D = discriminator_from_classifier(C)
    x = np.random.default_rng(0).normal(size=(16, DIM)).astype(np.float32)
    z = np.exp(np.asarray(C.predict_on_batch(x), np.float64)).sum(axis=1)
    np.testing.assert_allclose(np.asarray(D.predict_on_batch(x))[:, 0], z / (z + 1), rtol=1e-5)


def test_feature_matching_loss_is_the_squared_gap_of_batch_means():
    rng = np.random.default_rng(0)
    fake = rng.normal(size=(8, 5)).astype(np.float32)
    real_mean = rng.normal(size=5).astype(np.float32)
    loss = float(FeatureMatching()(np.tile(real_mean, (8, 1)), fake))
    assert loss == pytest.approx(np.mean((fake.mean(axis=0) - real_mean) ** 2), rel=1e-5)


@pytest.mark.backend
def test_g_step_matches_the_real_batchs_mean_features(seeded):
    """The loss G's step reports equals the feature-matching loss computed here from the same z, with the real
    batch's mean features as the target (no noise or BatchNorm, so training and inference modes agree)."""
    keras.utils.set_random_seed(4)
    G, C = models(noise=False, batchnorm=False)
    x, y = data(seeded)
    gan = SemiSupervisedGAN(G, C, "c_features", x[:12], y[:12], seed=4)
    real = x[12:44]
    gan.train_discriminator(real)
    state = gan.rng.bit_generator.state
    z = gan.sample_z(32, gan.rng)
    gan.rng.bit_generator.state = state
    features = gan.features
    expected = np.mean((np.asarray(features.predict_on_batch(np.asarray(G.predict_on_batch(z)))).mean(axis=0)
                        - np.asarray(features.predict_on_batch(real)).mean(axis=0)) ** 2)
    assert gan.train_generator(32, real=real)["g_loss"] == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="pass the batch D's step saw"):
        gan.train_generator(32)


def test_exported_classifier_gives_softmax_of_logits_and_loads_in_safe_mode(tmp_path):
    keras.utils.set_random_seed(0)
    _, C = models(noise=False)
    model = export_classifier(C)
    x = np.random.default_rng(1).normal(size=(10, DIM)).astype(np.float32)
    logits = np.asarray(C.predict_on_batch(x), np.float64)
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.asarray(model.predict_on_batch(x)), expected, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "c.keras")
    loaded = keras.saving.load_model(tmp_path / "c.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded.predict_on_batch(x)), expected, rtol=1e-5, atol=1e-6)


def test_labelled_subset_draws_k_per_class_reproducibly():
    labels = np.repeat(np.arange(10), 50)
    a, b = labelled_subset(labels, 10, 3), labelled_subset(labels, 10, 3)
    np.testing.assert_array_equal(a, b)
    assert np.array_equal(np.bincount(labels[a]), np.full(10, 10)) and len(set(a)) == 100
    assert not np.array_equal(a, labelled_subset(labels, 10, 4))
    with pytest.raises(ValueError, match="class 9 has 5 examples"):
        labelled_subset(np.concatenate([np.repeat(np.arange(9), 50), np.full(5, 9)]), 10, 0)


def test_shift_images_moves_whole_digits():
    images = -np.ones((50, 8, 8, 1), np.float32)
    images[:, 3:5, 3:5] = 1.0
    shifted = shift_images(images, np.random.default_rng(0), max_shift=2)
    assert np.all((shifted == 1).sum(axis=(1, 2, 3)) == 4)  # the blob stays whole (it is 3 px from every border)
    assert not np.array_equal(shifted, images)
    np.testing.assert_array_equal(shift_images(images, np.random.default_rng(0), max_shift=0), images)


def test_linear_probe_learns_a_separable_problem_and_chooses_l2_without_the_test_set():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(10, 20)) * 3
    y = np.repeat(np.arange(10), 20)
    x = centres[y] + rng.normal(size=(200, 20))
    probe = LinearProbe().fit(x, y)
    assert probe.chosen_l2 in probe.l2_grid and set(probe.cv_accuracy) == set(probe.l2_grid)
    y_test = np.repeat(np.arange(10), 30)
    assert probe.accuracy(centres[y_test] + rng.normal(size=(300, 20)), y_test) >= 0.95
    with pytest.raises(ValueError, match="labels must lie"):
        LinearProbe(l2=1.0).fit(x, y + 1)
    with pytest.raises(ValueError, match="finite 2-D"):
        LinearProbe(l2=1.0).fit(np.full((4, 2), np.nan), np.zeros(4, int))


@pytest.mark.parametrize("change, message", [
    (dict(labelled_y=np.array([0, 1, 3])), r"labelled_y must lie in 0\.\.2"),
    (dict(labelled_y=np.array([0.0, 1.0, 2.0])), "labelled_y must be 3 integers"),
    (dict(labelled_x=np.zeros((3, DIM + 1))), "labelled_x must have shape"),
    (dict(labelled_x=np.full((3, DIM), np.nan)), "NaN"),
    (dict(labelled_batch=4), "more than the 3 labelled"),
    (dict(features="no_such_layer"), "has no layer 'no_such_layer'"),
])
def test_bad_input_is_refused_before_anything_is_built(change, message):
    keras.utils.set_random_seed(0)
    G, C = models()
    args = dict(labelled_x=np.zeros((3, DIM), np.float32), labelled_y=np.array([0, 1, 2]), features="c_features")
    args.update(change)
    before = snapshot(C)
    with pytest.raises(ValueError, match=message):
        SemiSupervisedGAN(G, C, args.pop("features"), args.pop("labelled_x"), args.pop("labelled_y"), **args)
    assert not changed(before, C)


def test_a_classifier_with_a_softmax_or_a_foreign_feature_model_is_refused():
    keras.utils.set_random_seed(0)
    G, C = models()
    x = keras.Input((DIM,))
    soft = keras.Model(x, layers.Dense(K, activation="softmax")(x))
    with pytest.raises(ValueError, match="must end in logits"):
        SemiSupervisedGAN(G, soft, "dense", np.zeros((3, DIM)), np.arange(3))
    foreign = keras.Model(x, layers.Dense(4)(x))
    with pytest.raises(ValueError, match="built on the classifier's own layers"):
        SemiSupervisedGAN(G, C, foreign, np.zeros((3, DIM)), np.arange(3))


DATA = Path(__file__).resolve().parent.parent / "data"


@pytest.mark.backend
def test_the_committed_sgan_classifier_keeps_its_interface():
    """data/pretrained/sgan_classifier.keras (notebook 07): loads with safe_mode=True (also on the oldest Keras the
    project allows), takes (N, 28, 28, 1) images in [-1, 1] and returns 10 probabilities that sum to 1 and
    classify real test digits (0.930 on the whole test set when saved, 2026-12-04 evening)."""
    from gan_utils.data import load_mnist

    model = keras.saving.load_model(DATA / "pretrained" / "sgan_classifier.keras", compile=False, safe_mode=True)
    assert tuple(model.inputs[0].shape) == (None, 28, 28, 1) and tuple(model.outputs[0].shape) == (None, 10)
    x, y = load_mnist(split="test")
    probs = np.asarray(model.predict(x, batch_size=1000, verbose=0))  # the whole test set, as the notebook scores it
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    accuracy = np.mean(probs.argmax(axis=1) == y)
    assert probs.min() >= 0 and accuracy > 0.9
    assert abs(accuracy - 0.930) < 0.003, f"{accuracy:.4f}: not the classifier notebook 07 saved (0.9300)"


@pytest.mark.backend
def test_the_committed_dcgan_discriminator_is_notebook_02s_d():
    """data/pretrained/dcgan_discriminator.keras (read by notebook 07) loads with safe_mode=True, has notebook 02's
    shape (three LeakyReLU layers: two convolutions and the hidden layer) and outputs probabilities."""
    D = keras.saving.load_model(DATA / "pretrained" / "dcgan_discriminator.keras", compile=False, safe_mode=True)
    assert sum(isinstance(layer, layers.LeakyReLU) for layer in D.layers) == 3
    out = np.asarray(D.predict(np.random.default_rng(0).uniform(-1, 1, (8, 28, 28, 1)).astype(np.float32), verbose=0))
    assert out.shape == (8, 1) and np.all((out >= 0) & (out <= 1))
