"""gan_utils: the plumbing of the GAN notebooks (data, the frozen-discriminator trainer, metrics, plots).

The public names are importable from the package itself, ``from gan_utils import GAN, load_mnist``, and
from their modules as before (``from gan_utils.training import GAN``: the same objects). They are loaded on
first use, so ``import gan_utils.data`` stays light: it imports NumPy, not Keras.

Keras backends: TensorFlow and JAX. Importing the package refuses the others (``check_backend``) before
anything imports Keras, with the reason and the fix, instead of failing later with an obscure error.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path

SUPPORTED_BACKENDS = ("tensorflow", "jax")

_FIX = "Set KERAS_BACKEND=tensorflow (or jax) before importing keras (in a notebook: then restart its kernel)."
_REFUSED = {
    "torch": (
        "KERAS_BACKEND=torch is not supported: torch's binary cross-entropy raises on a NaN before the training "
        "monitor can explain it; Keras' torch backend draws Dropout from torch's global generator, which "
        "checkpoints do not save, so a resumed run is not bit-identical to an uninterrupted one; and the "
        "benchmark has no fused torch reference."
    ),
    "numpy": (
        "KERAS_BACKEND=numpy is not supported: Keras' numpy backend has no gradients and cannot train "
        "(train_on_batch raises NotImplementedError)."
    ),
    "openvino": (
        "KERAS_BACKEND=openvino is not supported: Keras' openvino backend runs inference only and cannot train."
    ),
}


class UnsupportedBackendError(ImportError):
    """The Keras backend is not one gan_utils supports (``SUPPORTED_BACKENDS``)."""


def keras_backend_name(environ=None) -> str:
    """The Keras backend in use, or the one ``import keras`` will choose, without importing Keras.

    If Keras is already imported: ``keras.config.backend()``. Otherwise what Keras reads at import: the
    ``KERAS_BACKEND`` environment variable if set and not empty, else ``"backend"`` in ``keras.json`` (in
    ``$KERAS_HOME``, else ``~/.keras``, or ``/tmp/.keras`` where the home folder is not writable), else
    ``"tensorflow"``. Pass ``environ`` to read another mapping than ``os.environ`` (Keras not consulted).
    """
    if environ is None:
        keras = sys.modules.get("keras")
        backend = getattr(getattr(keras, "config", None), "backend", None)
        if callable(backend):
            return backend()
        environ = os.environ
    if environ.get("KERAS_BACKEND"):
        return environ["KERAS_BACKEND"]
    if "KERAS_HOME" in environ:
        folder = Path(environ["KERAS_HOME"])
    else:
        home = os.path.expanduser("~")
        folder = Path(home if os.access(home, os.W_OK) else "/tmp") / ".keras"
    try:
        config = json.loads((folder / "keras.json").expanduser().read_text())
    except (OSError, ValueError):
        config = {}
    backend = config.get("backend") if isinstance(config, dict) else None
    return backend or "tensorflow"


def check_backend(name=None) -> str:
    """Return the Keras backend ``name`` (default: ``keras_backend_name()``) if gan_utils supports it.

    Raises ``UnsupportedBackendError`` (an ``ImportError``) for any other backend, saying why and how to fix it.
    """
    if name is None:
        name = keras_backend_name()
    if name in SUPPORTED_BACKENDS:
        return name
    reason = _REFUSED.get(name, f"KERAS_BACKEND={name} is not a Keras backend gan_utils knows.")
    raise UnsupportedBackendError(
        f"gan_utils supports the tensorflow and jax Keras backends; {reason} {_FIX}"
    )


check_backend()

# Public name -> the module that defines it (imported on first use, by __getattr__).
_EXPORTS = {
    "training": ("GAN", "sample_z"),
    "games": ("Game", "BinaryCrossEntropyGame"),
    "infogan": ("InfoGAN", "InfoGANGame", "InfoLoss"),
    "wgan": ("WassersteinGAN", "WassersteinGame", "GradientPenalty", "input_gradient", "gradient_penalty"),
    "anomaly": ("LatentSearch", "auroc", "auprc"),
    "hooks": ("Hook", "WeightAverage"),
    "monitor": ("Monitor", "GANTrainingWarning"),
    "checkpoint": ("CheckpointError",),
    "model_checks": ("ModelWarning",),
    "layers": ("MinibatchStdDev", "InstanceNoise", "OutputPenalty", "WeightClip", "SpectralNormalization"),
    "losses": ("minimax_generator_loss", "wasserstein_loss", "BatchMeanOutput"),
    "data": ("load_mnist", "sample_gaussian", "sample_mixture", "sample_ring", "ring_modes", "DataFileError",
             "DataDownloadError"),
    "metrics": (
        "MnistEvaluator", "wasserstein1", "ks_distance", "mode_fractions", "mode_coverage", "energy_distance",
        "frechet_distance", "nearest_train_distance", "SmallSampleWarning",
    ),
    "model_io": ("save_generator", "load_generator"),
    "checks": ("SampleError",),
    "semi_supervised": ("SemiSupervisedGAN", "LinearProbe"),
    "environment": ("environment_report", "long_mode", "quick_mode", "train_mode"),
}
_ORIGIN = {name: module for module, names in _EXPORTS.items() for name in names}
_SUBMODULES = (
    "anomaly", "batches", "boundary", "checkpoint", "checkpoint_files", "checks", "codes", "data", "environment", "files", "games", "hooks",
    "infogan", "layers", "losses", "metrics", "model_checks", "model_io", "monitor", "plotting", "rejection",
    "sample", "semi_supervised", "step_models", "stream", "training", "wgan",
)

__all__ = ["SUPPORTED_BACKENDS", "UnsupportedBackendError", "check_backend", "keras_backend_name", *_ORIGIN]


def __getattr__(name):
    if name in _ORIGIN:
        value = getattr(importlib.import_module(f".{_ORIGIN[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_SUBMODULES))
