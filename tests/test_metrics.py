import numpy as np
import pytest
from scipy import stats

from gan_utils import metrics
from gan_utils.data import load_mnist


def test_wasserstein_and_ks_against_a_distribution():
    rng = np.random.default_rng(0)
    target = stats.norm(4, 1.25)
    same = rng.normal(4, 1.25, 10000)
    assert metrics.wasserstein1(same, target) < 0.04
    assert metrics.ks_distance(same, target) < 0.02
    shifted = same + 0.5
    assert metrics.wasserstein1(shifted, target) == pytest.approx(0.5, abs=0.04)
    assert metrics.ks_distance(shifted, target) > 0.1
    # sample-to-sample versions agree with the exact ones
    ref = rng.normal(4, 1.25, 200000)
    assert metrics.wasserstein1(shifted, ref) == pytest.approx(metrics.wasserstein1(shifted, target), abs=0.02)


def test_mode_fractions():
    centres = np.array([[0.0, 0.0], [10.0, 0.0]])
    x = np.array([[0.1, 0.0], [9.9, 0.0], [10.0, 0.2], [5.0, 5.0]])
    assert metrics.mode_fractions(x, centres, 0.5).tolist() == [0.25, 0.5]


def test_frechet_distance_of_gaussians():
    mu, cov = np.zeros(3), np.eye(3)
    assert metrics.frechet_distance(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-8)
    # 1-D: (m1-m2)^2 + (s1-s2)^2
    assert metrics.frechet_distance([1.0], [[4.0]], [0.0], [[1.0]]) == pytest.approx(1 + 1, abs=1e-8)


@pytest.fixture(scope="module")
def evaluator():
    return metrics.MnistEvaluator()


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(split="both")


@pytest.mark.backend
def test_evaluator_accuracy_matches_its_record(evaluator, mnist):
    _, (x_test, y_test) = mnist
    pred, conf = evaluator.predict(x_test)
    acc = np.mean(pred == y_test)
    assert acc >= 0.99
    assert acc == pytest.approx(evaluator.info["test_accuracy"], abs=2e-3)


def test_real_images_score_near_perfect(evaluator, mnist):
    (x_train, y_train), (x_test, y_test) = mnist
    real = evaluator.evaluate(x_train[:10000], labels=y_train[:10000])
    assert real["coverage"] == 10
    assert real["confidence"] > 0.98
    assert real["frechet"] < 2.0  # measured 1.07 for 10k train images against the test set
    assert real["cond_accuracy"] > 0.99
    assert np.all(real["cond_accuracy_per_class"] > 0.97)
    probs = evaluator.features_and_probs(x_train[:10000])[1].max(axis=1)
    assert real["unsure"] == pytest.approx(np.mean(probs < 0.9)) and 0 < real["unsure"] < 0.03  # measured 1.2%
    # frechet of the test set against itself is ~0
    assert evaluator.frechet_distance(x_test) == pytest.approx(0.0, abs=1e-3)


def test_noise_and_single_class_score_badly(evaluator, mnist):
    (x_train, y_train), _ = mnist
    real_fd = evaluator.frechet_distance(x_train[:5000])
    noise = np.random.default_rng(0).uniform(-1, 1, (5000, 28, 28, 1)).astype(np.float32)
    bad = evaluator.evaluate(noise)
    assert bad["frechet"] > 50 * max(real_fd, 0.1)
    ones = x_train[y_train == 1][:5000]
    single = evaluator.evaluate(ones, labels=np.full(len(ones), 7))
    assert single["coverage"] == 1
    assert single["frechet"] > 20 * max(real_fd, 0.1)
    assert single["cond_accuracy"] < 0.05


def test_evaluator_rejects_bad_images(evaluator):
    with pytest.raises(ValueError, match=r"shape \(N, 28, 28\)"):
        evaluator.evaluate(np.zeros((4, 32, 32, 1), np.float32))
    with pytest.raises(TypeError, match="uint8"):
        evaluator.evaluate(np.zeros((4, 28, 28), np.uint8))
    with pytest.raises(ValueError, match=r"must be in \[-1, 1\]"):
        evaluator.evaluate(np.full((4, 28, 28), 3.0, np.float32))
    with pytest.raises(ValueError, match="labels must be in 0..9"):
        evaluator.evaluate(np.zeros((4, 28, 28), np.float32), labels=np.array([0, 1, 2, 10]))


def test_nearest_train_distance(mnist):
    (x_train, _), (x_test, _) = mnist
    d, idx = metrics.nearest_train_distance(x_train[:50], x_train[:2000])
    assert np.allclose(d, 0, atol=1e-2) and np.array_equal(idx, np.arange(50))
    d_test, _ = metrics.nearest_train_distance(x_test[:50], x_train[:2000])
    assert d_test.min() > 1.0


# -- images in [0, 1], float labels, too few images
def test_unit_scaled_images_are_refused(evaluator, mnist):
    _, (x_test, y_test) = mnist
    unit = (x_test[:3000] + 1) / 2  # what load_mnist(scale="unit") returns
    cached = dict(evaluator._reference)
    for call in (evaluator.evaluate, evaluator.frechet_distance, evaluator.predict):
        with pytest.raises(ValueError, match=r"look like images in \[0, 1\].*2 \* x - 1.*load_mnist\(scale='tanh'\)"):
            call(unit)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        evaluator.evaluate(unit[:1])  # a single digit too
    assert evaluator._reference.keys() == cached.keys()
    # the rule cannot fire on [-1, 1] images: real tanh digits, noise, a dark or a blank (white / grey) batch
    rng = np.random.default_rng(0)
    for fine in (x_test[:1], unit * 2 - 1, rng.uniform(-1, 1, (8, 28, 28)), np.full((8, 28, 28), -1.0),
                 np.ones((8, 28, 28)), np.zeros((8, 28, 28)), np.tanh(rng.normal(0, 0.1, (8, 28, 28)))):
        metrics._check_images(fine)


def test_labels_must_be_integers_of_shape_n(evaluator, mnist):
    _, (x_test, y_test) = mnist
    x, y = x_test[:200], y_test[:200]
    fix = r"labels must be integers .* got dtype float32; pass e\.g\. labels\.astype\(np\.int32\)"
    with pytest.raises(TypeError, match=fix):
        evaluator.evaluate(x, labels=y.astype(np.float32))  # exact integers as floats: still refused
    with pytest.raises(TypeError, match="labels must be integers"):
        evaluator.evaluate(x, labels=y > 4)
    with pytest.raises(ValueError, match=r"labels must have shape \(200,\)"):
        evaluator.evaluate(x, labels=y[:, None])
    with pytest.raises(ValueError, match=r"labels must have shape \(200,\)"):
        evaluator.evaluate(x, labels=y[:199])
    with pytest.raises(ValueError, match=r"labels must be in 0\.\.9"):
        evaluator.evaluate(x, labels=np.where(y == 3, -1, y))


def test_frechet_distance_needs_enough_images(evaluator, mnist):
    (x_train, _), _ = mnist
    for n in (20, metrics.FEATURE_DIM):
        with pytest.raises(ValueError, match=rf"needs more images than the evaluator's 128 features, got {n}"):
            evaluator.evaluate(x_train[:n])
        with pytest.raises(ValueError, match="at least 2000 images"):
            evaluator.frechet_distance(x_train[:n])
    with pytest.warns(metrics.SmallSampleWarning, match=r"only 500 images is biased upwards.*at least 2000"):
        small = evaluator.evaluate(x_train[:500])
    assert small["frechet"] > 2.0  # measured 4.8 (mean of 5 draws) against 0.62 at N = 60000
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error", metrics.SmallSampleWarning)
        assert evaluator.frechet_distance(x_train[:metrics.MIN_STABLE_FD_SAMPLES]) < 3.0
    assert metrics.FEATURE_DIM == evaluator.model.get_layer(metrics.FEATURE_LAYER).units


@pytest.mark.backend
def test_the_stored_reference_statistics_are_the_evaluators(evaluator):
    """data/mnist_evaluator_reference.npz holds what the committed evaluator computes on this backend's stack."""
    stored = evaluator.reference_stats("test")
    mean, cov = evaluator.compute_reference_stats("test")
    assert stored[0] is not mean  # read from the file, not recomputed
    np.testing.assert_allclose(stored[0], mean, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(stored[1], cov, rtol=1e-4, atol=1e-5)
    assert metrics.frechet_distance(*stored, mean, cov) < 1e-3


def test_reference_statistics_of_other_weights_are_not_used(tmp_path, monkeypatch):
    """A reference file written for other weights (or other data) is ignored: the statistics are computed."""
    import shutil

    for name in (metrics.EVALUATOR_WEIGHTS, metrics.EVALUATOR_REFERENCE):
        shutil.copy(metrics.DATA_DIR / name, tmp_path / name)
    evaluator = metrics.MnistEvaluator(tmp_path / metrics.EVALUATOR_WEIGHTS)
    assert evaluator._stored_reference("test") is not None
    computed = []
    monkeypatch.setattr(evaluator, "compute_reference_stats", lambda split: computed.append(split) or (0, 0))
    with np.load(tmp_path / metrics.EVALUATOR_REFERENCE) as stored:
        arrays = dict(stored)
    for key, other in (("weights_sha256", "0" * 64), ("mnist_sha256", "f" * 64)):
        np.savez(tmp_path / metrics.EVALUATOR_REFERENCE, **{**arrays, key: np.array(other)})
        assert evaluator._stored_reference("test") is None
    evaluator.reference_stats("test")
    assert computed == ["test"]
    path = metrics.write_reference_stats(evaluator, splits=("test",))  # rewritten for these weights
    assert path == tmp_path / metrics.EVALUATOR_REFERENCE and not list(tmp_path.glob("*tmp*"))
