"""Data for the notebooks: seeded toy samplers and an offline MNIST loader.

Every sampler takes an explicit ``numpy.random.Generator`` (or an integer seed), so a
notebook's figures do not depend on NumPy's global state, and returns float32 arrays.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from .checks import positive_int
from .environment import DATA_DIR

MNIST_FILENAME = "mnist.npz"
#: sha256 of the project's ``data/mnist.npz`` (see ``data/MNIST_README.md`` for provenance).
MNIST_SHA256 = "06af5dfe73b70e3bc1c36439982b18a8d76803db9b544f6fdf838a37fbb01b64"
MNIST_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}


def as_rng(rng) -> np.random.Generator:
    """Return ``rng`` if it is a ``numpy.random.Generator``, else ``default_rng(rng)``.

    ``rng`` may be a Generator or a non-negative integer seed. ``None`` is refused: every
    sampler in the collection is seeded explicitly.
    """
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be a numpy.random.Generator or a non-negative int seed, got {rng!r}; "
        "pass e.g. rng=np.random.default_rng(0)"
    )


def _check_positive(value, name) -> float:
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")
    return value


def sample_gaussian(n, rng, mean=4.0, std=1.25) -> np.ndarray:
    """Draw ``n`` samples of N(mean, std**2); returns float32 of shape (n, 1)."""
    n = positive_int(n, "n")
    std = _check_positive(std, "std")
    return as_rng(rng).normal(float(mean), std, size=(n, 1)).astype(np.float32)


def sample_mixture(n, rng, means=(-3.0, 3.0), stds=(0.5, 0.5), weights=None) -> np.ndarray:
    """Draw ``n`` samples of a 1-D Gaussian mixture; returns float32 of shape (n, 1).

    ``means`` and ``stds`` give one entry per component; ``weights`` (default: equal) must be
    non-negative and are normalised to sum to 1.
    """
    n = positive_int(n, "n")
    means = np.asarray(means, dtype=np.float64).ravel()
    stds = np.asarray(stds, dtype=np.float64).ravel()
    if means.size == 0 or means.shape != stds.shape:
        raise ValueError(
            f"means and stds must be non-empty and of equal length, got {means.size} and {stds.size}"
        )
    if np.any(stds <= 0):
        raise ValueError(f"every std must be positive, got {stds.tolist()}")
    if weights is None:
        weights = np.full(means.size, 1.0 / means.size)
    weights = np.asarray(weights, dtype=np.float64).ravel()
    if weights.shape != means.shape or np.any(weights < 0) or weights.sum() <= 0:
        raise ValueError(
            f"weights must be {means.size} non-negative numbers with a positive sum, got {weights.tolist()}"
        )
    weights = weights / weights.sum()
    rng = as_rng(rng)
    component = rng.choice(means.size, size=n, p=weights)
    x = rng.normal(means[component], stds[component])
    return x.reshape(n, 1).astype(np.float32)


def ring_modes(n_modes=8, radius=2.0) -> np.ndarray:
    """Centres of the 2-D ring: ``n_modes`` points evenly spaced on a circle, shape (n_modes, 2)."""
    n_modes = positive_int(n_modes, "n_modes")
    angles = np.linspace(0.0, 2.0 * np.pi, n_modes, endpoint=False)
    return (radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)).astype(np.float32)


def sample_ring(n, rng, n_modes=8, radius=2.0, std=0.02) -> np.ndarray:
    """Draw ``n`` samples of the 2-D ring of Gaussians (equal weights); float32 of shape (n, 2).

    The defaults are the VEEGAN/Unrolled-GAN testbed: 8 modes on a circle of radius 2, std 0.02.
    """
    n = positive_int(n, "n")
    std = _check_positive(std, "std")
    rng = as_rng(rng)
    centres = ring_modes(n_modes, radius)
    component = rng.integers(0, len(centres), size=n)
    return (centres[component] + rng.normal(0.0, std, size=(n, 2))).astype(np.float32)


def sha256_of(path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class DataFileError(RuntimeError):
    """A data file is present but is not the file the project expects."""


class DataDownloadError(OSError):
    """Downloading a data file failed or timed out; the message says how to get the file instead."""


#: seconds ``load_mnist(download=True)`` waits on any one network operation (connect, each read) by default
DOWNLOAD_TIMEOUT_S = 30.0

_RESTORE = (
    f"restore it with `git checkout -- data/{MNIST_FILENAME}` (data/MNIST_README.md says where the file "
    "comes from and how to check it)"
)


def _check_mnist_arrays(arrays, where) -> dict:
    """The MNIST arrays if they have Keras's layout (keys, shapes, uint8 images, integer labels in 0..9)."""
    missing = [k for k in MNIST_SHAPES if k not in arrays]
    if missing:
        raise DataFileError(
            f"{where} lacks the arrays {missing}; an MNIST npz file holds {list(MNIST_SHAPES)} "
            "(the layout of keras.datasets.mnist.load_data())"
        )
    arrays = {k: np.asarray(arrays[k]) for k in MNIST_SHAPES}
    for key, shape in MNIST_SHAPES.items():
        a = arrays[key]
        if a.shape != shape:
            raise DataFileError(f"{where}: {key} has shape {a.shape}, expected {shape}")
        if key.startswith("x_") and a.dtype != np.uint8:
            raise DataFileError(f"{where}: {key} has dtype {a.dtype}, expected uint8 pixels in 0..255")
        if key.startswith("y_"):
            if not np.issubdtype(a.dtype, np.integer):
                raise DataFileError(f"{where}: {key} has dtype {a.dtype}, expected integer labels in 0..9")
            if a.size and (a.min() < 0 or a.max() > 9):
                raise DataFileError(f"{where}: {key} holds labels {a.min()}..{a.max()}, expected 0..9")
    return arrays


def _read_mnist_npz(path: Path) -> dict:
    try:
        loaded = np.load(path, allow_pickle=False)
    except Exception as e:  # zipfile, zlib, EOF, pickle and format errors
        raise DataFileError(
            f"{path} cannot be read as an npz file ({type(e).__name__}: {e}); pass an npz file saved with "
            f"np.savez(path, {'=..., '.join(MNIST_SHAPES)}=...)"
        ) from None
    if not isinstance(loaded, np.lib.npyio.NpzFile):
        raise DataFileError(f"{path} holds a single array, not an npz file with the arrays {list(MNIST_SHAPES)}")
    with loaded as f:
        missing = [k for k in MNIST_SHAPES if k not in f.files]
        if missing:
            raise DataFileError(
                f"{path} lacks the arrays {missing} (it holds {f.files}); an MNIST npz file holds "
                f"{list(MNIST_SHAPES)}, the layout of keras.datasets.mnist.load_data()"
            )
        try:
            arrays = {k: f[k] for k in MNIST_SHAPES}
        except Exception as e:  # a damaged member of the archive
            raise DataFileError(f"{path} is truncated or corrupt: {type(e).__name__}: {e}") from None
    return _check_mnist_arrays(arrays, path)


def _positive_seconds(value, name) -> float:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}") from None
    if not np.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{name} must be a positive, finite number of seconds, got {value!r}")
    return seconds


def _download_mnist(timeout) -> dict:
    """``keras.datasets.mnist.load_data()`` with every socket operation bounded by ``timeout`` seconds.

    ``urllib`` (which Keras uses) has no timeout of its own; the process-wide socket default is set for the
    duration of the call and restored afterwards (other threads opening sockets meanwhile get it too).
    """
    import socket

    import keras

    before = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        (x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
    except Exception as e:
        raise DataDownloadError(
            f"downloading MNIST with keras.datasets.mnist.load_data() failed (timeout {timeout:g} s per network "
            f"operation): {type(e).__name__}: {e}. Instead, put the project's file at "
            f"{DATA_DIR / MNIST_FILENAME}: {_RESTORE}"
        ) from e
    finally:
        socket.setdefaulttimeout(before)
    arrays = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}
    return _check_mnist_arrays(arrays, "the downloaded MNIST")


def _load_mnist_arrays(path, download=False, timeout=DOWNLOAD_TIMEOUT_S) -> dict:
    """The raw uint8 arrays: the default file (sha256-checked), an explicit ``path`` (layout-checked) or Keras."""
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    timeout = _positive_seconds(timeout, "timeout")
    default = path is None
    path = Path(path) if path is not None else DATA_DIR / MNIST_FILENAME
    if not path.exists():
        if not default:
            raise FileNotFoundError(
                f"MNIST file {path} does not exist; pass path=None to use the project's "
                f"data/{MNIST_FILENAME}"
            )
        if not download:
            raise FileNotFoundError(
                f"MNIST file {path} is missing: {_RESTORE}; or pass load_mnist(download=True) to fetch MNIST "
                f"with keras.datasets.mnist.load_data() (needs the network; gives up after timeout="
                f"{timeout:g} s without an answer)"
            )
        print(
            f"{path} is missing; downloading MNIST with keras.datasets.mnist.load_data() (timeout {timeout:g} s). "
            f"To work offline, {_RESTORE}."
        )
        return _download_mnist(timeout)
    if not path.is_file():
        raise DataFileError(f"{path} is a folder, not an MNIST npz file")
    if default:
        # Only the project's own file has a known hash; any other copy (a re-saved npz, Keras's own
        # mnist.npz) holds the same arrays in another zip container and is checked for its layout instead.
        digest = sha256_of(path)
        if digest != MNIST_SHA256:
            raise DataFileError(
                f"{path} is corrupt or altered: its sha256 is {digest}, expected {MNIST_SHA256}. "
                f"Restore it with `git checkout -- data/{MNIST_FILENAME}` (or copy it again from the "
                "source named in data/MNIST_README.md)."
            )
    return _read_mnist_npz(path)


def scale_images(images, scale="tanh") -> np.ndarray:
    """uint8 images in 0..255 -> float32 (N, 28, 28, 1): ``"tanh"`` gives [-1, 1], ``"unit"`` [0, 1]."""
    if scale not in ("tanh", "unit"):
        raise ValueError(f"scale must be 'tanh' (for [-1, 1]) or 'unit' (for [0, 1]), got {scale!r}")
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 in 0..255, got dtype {images.dtype}")
    x = images.astype(np.float32)[..., None] / np.float32(255.0)
    return x * np.float32(2.0) - np.float32(1.0) if scale == "tanh" else x


def grey_images(images, dtype=np.float32) -> np.ndarray:
    """Grey images (N, H, W) or (N, H, W, 1) as an array (N, H, W) of ``dtype``; ValueError for another shape."""
    x = np.asarray(images, dtype=dtype)
    if x.ndim == 4 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W) or (N, H, W, 1), got {x.shape}")
    return x


def to_uint8(images) -> np.ndarray:
    """Generator output in [-1, 1], shape (N, 28, 28[, 1]) -> uint8 (N, 28, 28) in 0..255 (clipped)."""
    x = grey_images(images, np.float32)
    return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def load_mnist(path=None, scale="tanh", split="train", *, download=False, timeout=DOWNLOAD_TIMEOUT_S):
    """Load MNIST offline from the project's ``data/mnist.npz``.

    Args:
        path: an npz file in Keras's layout; ``None`` uses ``data/mnist.npz`` and checks its sha256.
            An explicit path is not compared with that hash (a re-saved copy of the same arrays is a
            different file); its arrays are checked instead: the keys ``x_train y_train x_test y_test``,
            their shapes, uint8 images and integer labels in 0..9 (``DataFileError`` otherwise).
        scale: ``"tanh"`` for images in [-1, 1] (a tanh generator's range), ``"unit"`` for [0, 1].
        split: ``"train"`` (60,000 images), ``"test"`` (10,000) or ``"both"``.
        download: what to do when the default ``data/mnist.npz`` is missing. ``False`` (the default)
            raises ``FileNotFoundError`` saying how to restore it; ``True`` fetches MNIST with
            ``keras.datasets.mnist.load_data()`` instead (needs the network; the arrays are checked, the
            file is not saved into ``data/``). Has no effect when the file is there.
        timeout: with ``download=True``, the most seconds any one network operation (connecting, each
            read) may wait: the socket default timeout is set to it around the download and restored
            afterwards, so a server that accepts the connection and never answers raises
            ``DataDownloadError`` instead of hanging.

    Returns:
        ``(images, labels)``: float32 (N, 28, 28, 1) and int32 (N,) in 0..9; for
        ``split="both"`` a pair of such tuples, ``((x_train, y_train), (x_test, y_test))``.
    """
    if split not in ("train", "test", "both"):
        raise ValueError(f"split must be 'train', 'test' or 'both', got {split!r}")
    if scale not in ("tanh", "unit"):
        raise ValueError(f"scale must be 'tanh' (for [-1, 1]) or 'unit' (for [0, 1]), got {scale!r}")
    arrays = _load_mnist_arrays(path, download, timeout)
    train = (scale_images(arrays["x_train"], scale), arrays["y_train"].astype(np.int32))
    test = (scale_images(arrays["x_test"], scale), arrays["y_test"].astype(np.int32))
    return {"train": train, "test": test, "both": (train, test)}[split]
