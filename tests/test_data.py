import shutil

import numpy as np
import pytest

from gan_utils import data


def test_mnist_file_matches_its_checksum():
    assert data.sha256_of(data.DATA_DIR / data.MNIST_FILENAME) == data.MNIST_SHA256


def test_load_mnist_shapes_ranges_and_known_values():
    (x_train, y_train), (x_test, y_test) = data.load_mnist(split="both")
    assert x_train.shape == (60000, 28, 28, 1) and x_test.shape == (10000, 28, 28, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int32
    assert x_train.min() == -1.0 and x_train.max() == 1.0
    # the checks published in data/MNIST_README.md
    assert list(y_train[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(y_test[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    assert list(np.bincount(y_train)) == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    pixels = (x_train.astype(np.float64) + 1) * 127.5
    assert pixels.mean() == pytest.approx(33.3184, abs=1e-3)
    assert pixels.std() == pytest.approx(78.5675, abs=1e-3)
    x_unit, _ = data.load_mnist(scale="unit", split="test")
    assert x_unit.min() == 0.0 and x_unit.max() == 1.0
    assert np.allclose(x_unit * 2 - 1, x_test, atol=1e-6)


def test_corrupt_file_gives_a_clear_error(tmp_path, monkeypatch):
    bad = tmp_path / "mnist.npz"
    shutil.copy(data.DATA_DIR / data.MNIST_FILENAME, bad)
    with open(bad, "r+b") as f:
        f.seek(1000)
        f.write(b"\x00\x01\x02")
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    with pytest.raises(data.DataFileError) as err:
        data.load_mnist()
    msg = str(err.value)
    assert str(bad) in msg and data.MNIST_SHA256 in msg and "git checkout -- data/mnist.npz" in msg


def test_missing_explicit_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        data.load_mnist(tmp_path / "nope.npz")


def test_bad_arguments():
    with pytest.raises(ValueError, match="scale must be"):
        data.load_mnist(scale="minus-one")
    with pytest.raises(ValueError, match="split must be"):
        data.load_mnist(split="valid")
    with pytest.raises(TypeError, match="rng must be"):
        data.sample_gaussian(10, rng=None)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        data.sample_ring(0, rng=0)
    with pytest.raises(ValueError, match="std must be"):
        data.sample_gaussian(5, 0, std=0)
    with pytest.raises(ValueError, match="weights must be"):
        data.sample_mixture(5, 0, weights=[1, -1])


def test_samplers_are_seeded_and_shaped():
    a = data.sample_gaussian(20000, np.random.default_rng(1), mean=4, std=1.25)
    assert a.shape == (20000, 1) and a.dtype == np.float32
    assert np.array_equal(a, data.sample_gaussian(20000, 1, mean=4, std=1.25))
    assert a.mean() == pytest.approx(4, abs=0.05) and a.std() == pytest.approx(1.25, abs=0.05)
    m = data.sample_mixture(20000, 2, means=(-3, 3), stds=(0.5, 0.5), weights=(1, 3))
    assert np.mean(m > 0) == pytest.approx(0.75, abs=0.02)


def test_ring_modes_are_evenly_spaced_and_distinct():
    c = data.ring_modes(8, radius=2.0)
    angles = np.sort(np.mod(np.arctan2(c[:, 1], c[:, 0]), 2 * np.pi))
    assert np.allclose(np.diff(angles), 2 * np.pi / 8, atol=1e-6)  # endpoint=False: no duplicate mode
    x = data.sample_ring(8000, 0)
    assert x.shape == (8000, 2)
    nearest = np.linalg.norm(x[:, None] - c[None], axis=-1).argmin(1)
    assert np.bincount(nearest, minlength=8).min() > 800


def test_to_uint8_round_trip():
    x, _ = data.load_mnist(split="test")
    raw = data.to_uint8(x[:100])
    assert raw.dtype == np.uint8 and raw.shape == (100, 28, 28)
    assert np.array_equal(data.scale_images(raw), x[:100])


def test_missing_default_file_falls_back_to_keras_with_a_message(tmp_path, monkeypatch, capsys):
    import keras

    fake = np.zeros((60000, 28, 28), np.uint8), np.zeros(60000, np.uint8)
    fake_test = np.zeros((10000, 28, 28), np.uint8), np.zeros(10000, np.uint8)
    monkeypatch.setattr(keras.datasets.mnist, "load_data", lambda: (fake, fake_test))
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)  # no mnist.npz here
    x, y = data.load_mnist(split="test")
    assert x.shape == (10000, 28, 28, 1) and x.min() == -1.0
    out = capsys.readouterr().out
    assert "is missing" in out and "keras.datasets.mnist.load_data()" in out and "git checkout" in out
