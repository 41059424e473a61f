"""Notebook 08's parts: the ranking measures against hand counts, the nearest-neighbour score against brute
force, AnoGAN's latent search (only z moves; G, D and the caller's models keep every weight), and bad input."""

import keras
import numpy as np
import pytest
from keras import layers

from conftest import snapshot
from gan_utils.anomaly import (LatentSearch, auprc, auroc, check_held_out, class_nearest_distances, knn_score,
                               one_class_split, roc_curve)

LATENT = 6


# ----------------------------------------------------------------------------- ranking measures
def test_auroc_is_the_share_of_correctly_ordered_pairs():
    # pairs (anomaly, normal): 0.35 > 0.1 yes, 0.35 > 0.4 no, 0.8 > 0.1 yes, 0.8 > 0.4 yes -> 3 of 4
    assert auroc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert auroc([0, 1], [0.5, 0.5]) == pytest.approx(0.5)          # a tie counts one half
    assert auroc([0, 0, 1], [0.1, 0.2, 0.9]) == 1.0
    assert auroc([0, 0, 1], [0.9, 0.2, 0.1]) == 0.0                   # a sign error reads as 1 - AUROC
    rng = np.random.default_rng(0)
    assert abs(auroc(rng.integers(0, 2, 20_000), rng.random(20_000)) - 0.5) < 0.02


def test_auprc_is_average_precision():
    # ranked: 1 (P=1/1), 0, 1 (P=2/3), 0 -> (1/2)(1) + (1/2)(2/3)
    assert auprc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(0.5 + 1 / 3)
    assert auprc([1, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.25)   # all tied: the share of anomalies
    assert auprc([0, 1, 1], [0.1, 0.8, 0.9]) == 1.0


def test_roc_curve_runs_from_0_0_to_1_1_and_its_area_is_the_auroc():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 2, 300)
    scores = np.round(rng.random(300) + 0.3 * labels, 1)     # rounded: many ties
    fpr, tpr, thresholds = roc_curve(labels, scores)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0.0, 0.0, 1.0, 1.0)
    assert np.all(np.diff(fpr) >= 0) and np.all(np.diff(tpr) >= 0) and np.all(np.diff(thresholds) < 0)
    area = getattr(np, "trapezoid", None) or np.trapz   # numpy 1.26 (the oldest allowed) has only trapz
    assert area(tpr, fpr) == pytest.approx(auroc(labels, scores))


@pytest.mark.parametrize("labels, scores, message", [
    ([0, 0, 0], [0.1, 0.2, 0.3], "both normal"),
    ([0, 1, 2], [0.1, 0.2, 0.3], "only 0"),
    ([0, 1], [0.1, np.nan], "NaN"),
    ([0, 1, 1], [0.1, 0.2], "equal length"),
])
def test_ranking_measures_refuse_bad_input(labels, scores, message):
    for measure in (auroc, auprc, roc_curve):
        with pytest.raises(ValueError, match=message):
            measure(labels, scores)


# ----------------------------------------------------------------------------- protocol and nearest neighbours
def digits(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (n, 28, 28, 1)).astype(np.float32), np.arange(n) % 10


def test_one_class_split_trains_on_the_nine_normal_digits():
    x_train, y_train = digits(50)
    x_test, y_test = digits(30, seed=1)
    split = one_class_split(x_train, y_train, x_test, y_test, held_out=3)
    assert len(split["normal_train"]) == 45
    assert not any(np.array_equal(img, x) for img in split["normal_train"] for x in x_train[y_train == 3])
    np.testing.assert_array_equal(split["is_anomaly"], (y_test == 3).astype(int))
    assert split["test"].shape == x_test.shape


@pytest.mark.parametrize("digit", [10, -1, 1.5, True, "3", None])
def test_a_held_out_class_outside_0_to_9_is_refused(digit):
    with pytest.raises(ValueError, match="digit 0..9"):
        check_held_out(digit)
    x, y = digits(20)
    with pytest.raises(ValueError, match="digit 0..9"):
        one_class_split(x, y, x, y, held_out=digit)


def test_nearest_neighbour_distances_match_brute_force_and_leave_out_the_held_out_class():
    train, train_labels = digits(60)
    test, _ = digits(7, seed=2)
    d = class_nearest_distances(test, train, train_labels, k=2, chunk=3)
    brute = np.linalg.norm(test.reshape(7, 1, -1) - train.reshape(1, 60, -1), axis=2)
    for c in range(10):
        np.testing.assert_allclose(d[:, c], np.sort(brute[:, train_labels == c], axis=1)[:, :2], rtol=1e-4)
    normal = brute[:, train_labels != 4]
    np.testing.assert_allclose(knn_score(d, 4), np.sort(normal, axis=1)[:, :2].mean(axis=1), rtol=1e-4)


@pytest.mark.parametrize("images, error, message", [
    (np.zeros((3, 28, 14, 1), np.float32), ValueError, "shape"),
    (np.full((3, 28, 28, 1), 200.0, np.float32), ValueError, r"\[-1, 1\]"),
    (np.zeros((3, 28, 28, 1), np.uint8), TypeError, "uint8"),
    (np.full((3, 28, 28, 1), np.nan, np.float32), ValueError, "NaN"),
])
def test_test_images_of_the_wrong_shape_or_range_are_refused(images, error, message):
    train, labels = digits(60)
    with pytest.raises(error, match=message):
        class_nearest_distances(images, train, labels)
    G, D = gan_models()
    with pytest.raises(error, match=message):
        LatentSearch(G, features_of(D)).search(images, steps=1)


# ----------------------------------------------------------------------------- AnoGAN's latent search
def gan_models(seed=0):
    keras.utils.set_random_seed(seed)
    z = keras.Input((LATENT,))
    h = layers.Reshape((7, 7, 4))(layers.ReLU()(layers.BatchNormalization()(layers.Dense(7 * 7 * 4)(z))))
    h = layers.Conv2DTranspose(4, 3, strides=2, padding="same", activation="relu")(h)
    G = keras.Model(z, layers.Conv2DTranspose(1, 3, strides=2, padding="same", activation="tanh")(h), name="G")
    x = keras.Input((28, 28, 1))
    h = layers.Dropout(0.3)(layers.LeakyReLU(0.2)(layers.Conv2D(4, 3, strides=2, padding="same")(x)))
    h = layers.LeakyReLU(0.2, name="features")(layers.Conv2D(4, 3, strides=2, padding="same")(h))
    D = keras.Model(x, layers.Dense(1, activation="sigmoid")(layers.Flatten()(h)), name="D")
    return G, D


def features_of(D):
    return keras.Model(D.input, D.get_layer("features").output)


@pytest.mark.backend
def test_the_search_moves_only_z_and_fits_images_that_g_can_draw():
    G, D = gan_models()
    search = LatentSearch(G, features_of(D), learning_rate=0.05, batch_size=8)
    assert [v.path for v in search.model.trainable_weights] == ["latent_table/z"]
    z_true = np.random.default_rng(5).standard_normal((8, LATENT)).astype(np.float32)
    images = np.asarray(G.predict_on_batch(z_true))
    frozen = {"G": (G, snapshot(G)), "D": (D, snapshot(D)),
              "copies": (search.model, {v.path: np.array(v.numpy()) for v in search.model.non_trainable_weights})}
    result = search.search(images, steps=60, seed=1, record_at=(1, 60))
    for name, (model, before) in frozen.items():
        weights = model.weights if name != "copies" else model.non_trainable_weights
        assert all(np.array_equal(before[v.path], v.numpy()) for v in weights), f"{name} moved"
    assert G.trainable and D.trainable and all(layer.trainable for layer in G.layers)   # the caller's models unfrozen
    assert np.abs(result["z"] - np.random.default_rng(1).standard_normal((8, LATENT))).mean() > 0.01   # z moved
    assert result["scores_at"][60].mean() < 0.7 * result["scores_at"][1].mean()   # the fit improves
    np.testing.assert_allclose(result["scores_at"][60], result["score"])
    np.testing.assert_allclose(result["score"], 0.9 * result["residual"] + 0.1 * result["feature_distance"])
    np.testing.assert_allclose(np.abs(images - result["reconstruction"]).mean(axis=(1, 2, 3)), result["residual"],
                               rtol=1e-4)


def test_a_last_partial_batch_is_padded_and_each_image_keeps_its_own_z():
    G, D = gan_models()
    images = np.asarray(G.predict_on_batch(np.random.default_rng(2).standard_normal((5, LATENT)).astype(np.float32)))
    result = LatentSearch(G, None, batch_size=4).search(images, steps=3, seed=0)
    assert result["z"].shape == (5, LATENT) and result["score"].shape == (5,) and np.all(np.isfinite(result["score"]))
    np.testing.assert_allclose(result["score"], result["residual"])   # no features model: the residual alone
    alone = LatentSearch(G, None, batch_size=4).search(images[:4], steps=3, seed=0)
    np.testing.assert_allclose(alone["score"], result["score"][:4], rtol=1e-5)


def test_bad_search_setups_are_refused_before_anything_is_built():
    G, D = gan_models()
    z, label = keras.Input((LATENT,)), keras.Input((1,))
    conditional = keras.Model([z, label], G(layers.Add()([z, layers.Dense(LATENT)(label)])))
    with pytest.raises(ValueError, match="one input"):
        LatentSearch(conditional)
    with pytest.raises(ValueError, match="features"):
        LatentSearch(G, keras.Sequential([keras.Input((10,)), layers.Dense(2)]))
    for kwargs, message in [({"feature_weight": 1.5}, "feature_weight"), ({"feature_weight": float("nan")}, "feature_weight"),
                            ({"learning_rate": 0.0}, "learning_rate"), ({"batch_size": 0}, "batch_size")]:
        with pytest.raises(ValueError, match=message):
            LatentSearch(G, features_of(D), **kwargs)
    search = LatentSearch(G, features_of(D), batch_size=2)
    images = np.zeros((2, 28, 28, 1), np.float32) - 1
    for kwargs, message in [({"steps": 0}, "steps"), ({"steps": 2.5}, "steps"), ({"steps": 5, "record_at": (6,)}, "record_at")]:
        with pytest.raises(ValueError, match=message):
            search.search(images, **kwargs)
