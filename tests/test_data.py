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


# -- a missing data/mnist.npz: an error by default, a bounded download on request
def _fake_keras_mnist():
    fake = np.zeros((60000, 28, 28), np.uint8), np.zeros(60000, np.uint8)
    fake_test = np.zeros((10000, 28, 28), np.uint8), np.zeros(10000, np.uint8)
    return fake, fake_test


def test_missing_default_file_is_an_error_saying_how_to_get_it(tmp_path, monkeypatch):
    import keras

    def no_network():
        raise AssertionError("load_mnist() must not download without download=True")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", no_network)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)  # no mnist.npz here
    with pytest.raises(FileNotFoundError) as err:
        data.load_mnist()
    msg = str(err.value)
    assert str(tmp_path / "mnist.npz") in msg and "is missing" in msg
    assert "git checkout -- data/mnist.npz" in msg and "data/MNIST_README.md" in msg
    assert "download=True" in msg and "timeout=" in msg
    assert list(tmp_path.iterdir()) == []


def test_download_true_fetches_with_keras_under_a_socket_timeout(tmp_path, monkeypatch, capsys):
    import socket

    import keras

    seen = []

    def fake_load_data():
        seen.append(socket.getdefaulttimeout())
        return _fake_keras_mnist()

    monkeypatch.setattr(keras.datasets.mnist, "load_data", fake_load_data)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    before = socket.getdefaulttimeout()
    x, y = data.load_mnist(split="test", download=True, timeout=7)
    assert x.shape == (10000, 28, 28, 1) and x.min() == -1.0 and y.dtype == np.int32
    assert seen == [7.0], "the download runs under the timeout"
    assert socket.getdefaulttimeout() == before, "and the process-wide default is restored"
    out = capsys.readouterr().out
    assert "is missing" in out and "keras.datasets.mnist.load_data()" in out and "git checkout" in out
    assert list(tmp_path.iterdir()) == [], "nothing is written into data/"


def test_download_that_never_answers_is_bounded(tmp_path, monkeypatch):
    """A server that accepts the connection and never answers: Keras's real download gives up after the timeout."""
    import socket
    import time

    import keras

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # the kernel accepts connections; nothing ever reads or answers
    port = server.getsockname()[1]
    cache = tmp_path / "keras_cache"

    def load_data_from_silent_server():
        keras.utils.get_file("mnist.npz", origin=f"http://127.0.0.1:{port}/mnist.npz", cache_dir=str(cache))
        raise AssertionError("the silent server cannot have answered")

    monkeypatch.setattr(keras.datasets.mnist, "load_data", load_data_from_silent_server)
    monkeypatch.setattr(data, "DATA_DIR", tmp_path / "data")
    before = socket.getdefaulttimeout()
    start = time.monotonic()
    try:
        with pytest.raises(data.DataDownloadError) as err:
            data.load_mnist(download=True, timeout=0.5)
    finally:
        server.close()
    assert time.monotonic() - start < 10
    msg = str(err.value)
    assert "timeout 0.5 s" in msg and "git checkout -- data/mnist.npz" in msg
    assert socket.getdefaulttimeout() == before
    assert not (tmp_path / "data").exists()


def test_download_arguments_are_checked(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "DATA_DIR", tmp_path)
    with pytest.raises(TypeError, match="download must be True or False"):
        data.load_mnist(download="yes")
    for bad in (0, -1, float("inf")):
        with pytest.raises(ValueError, match="timeout must be a positive, finite number of seconds"):
            data.load_mnist(download=True, timeout=bad)


# -- an explicit path: checked for its arrays, not for the shipped file's hash
SMALL = {"x_train": (6, 28, 28), "y_train": (6,), "x_test": (4, 28, 28), "y_test": (4,)}


def _small_mnist(**changes):
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, SMALL["x_train"], dtype=np.uint8),
        "y_train": np.arange(6, dtype=np.uint8),
        "x_test": rng.integers(0, 256, SMALL["x_test"], dtype=np.uint8),
        "y_test": np.array([9, 8, 7, 6], np.uint8),
    }
    arrays.update(changes)
    return {k: v for k, v in arrays.items() if v is not None}


def test_a_resaved_copy_of_the_real_file_loads(tmp_path):
    with np.load(data.DATA_DIR / data.MNIST_FILENAME) as f:
        arrays = {k: f[k] for k in f.files}
    copy = tmp_path / "my_mnist.npz"
    np.savez(copy, **arrays)  # same arrays, another zip container
    assert data.sha256_of(copy) != data.MNIST_SHA256
    x, y = data.load_mnist(copy, split="test")
    assert x.shape == (10000, 28, 28, 1) and list(y[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]


def test_explicit_path_with_the_right_layout_loads(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "MNIST_SHAPES", SMALL)
    path = tmp_path / "small.npz"
    np.savez_compressed(path, **_small_mnist())
    (x_train, y_train), (x_test, y_test) = data.load_mnist(path, split="both", scale="unit")
    assert x_train.shape == (6, 28, 28, 1) and x_test.shape == (4, 28, 28, 1)
    assert y_test.tolist() == [9, 8, 7, 6] and y_train.dtype == np.int32


BAD_FILES = [
    ("missing_key", {"y_test": None}, r"lacks the arrays \['y_test'\]"),
    ("wrong_shape", {"x_train": np.zeros((6, 32, 32), np.uint8)},
     r"x_train has shape \(6, 32, 32\), expected \(6, 28, 28\)"),
    ("float_images", {"x_test": np.zeros((4, 28, 28), np.float32)}, r"x_test has dtype float32, expected uint8"),
    ("float_labels", {"y_train": np.zeros(6, np.float64)}, r"y_train has dtype float64, expected integer labels"),
    ("label_range", {"y_test": np.array([0, 1, 2, 10])}, r"y_test holds labels 0\.\.10, expected 0\.\.9"),
]


@pytest.mark.parametrize("changes,match", [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_explicit_path_with_a_wrong_layout_gives_a_clear_error(tmp_path, monkeypatch, changes, match):
    monkeypatch.setattr(data, "MNIST_SHAPES", SMALL)
    path = tmp_path / "bad.npz"
    np.savez(path, **_small_mnist(**changes))
    before = path.read_bytes()
    with pytest.raises(data.DataFileError, match=match) as err:
        data.load_mnist(path)
    assert str(path) in str(err.value)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["bad.npz"]


def test_explicit_path_that_is_not_an_npz_file(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("not a zip")
    with pytest.raises(data.DataFileError, match="cannot be read as an npz file"):
        data.load_mnist(text)
    single = tmp_path / "one.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(data.DataFileError, match="holds a single array"):
        data.load_mnist(single)
    with pytest.raises(data.DataFileError, match="is a folder"):
        data.load_mnist(tmp_path)
