"""The environment a notebook runs in: the variables and repository paths gan_utils reads, and the report a
notebook prints first (its mode, and the software and hardware it runs on).

    QUICK = quick_mode()        # GAN_QUICK=1 (or CI=true): short training, loose floors
    print(environment_report(QUICK, train=train_mode()))

``GAN_QUICK`` (or, if unset, ``CI``, which CI services set): quick mode, short training and loose floors.
``GAN_TRAIN=0``: notebooks 02, 03, 05 and 06 load their pretrained generator instead of training one.
``GAN_LONG=1``: notebook 08 covers every held-out digit instead of three (about three times as long).
``GAN_UTILS_DATA``: the folder with the data files (default: the repository's ``data/``).
``GAN_FIGURES_DIR``: where figures go (default: the repository's ``figures/``).

Importing this module imports neither NumPy nor Keras (``environment_report`` imports Keras when called).
"""

from __future__ import annotations

import os
import platform
from pathlib import Path

#: The repository: the folder that holds ``gan_utils/``, ``data/`` and ``figures/``.
REPO_ROOT = Path(__file__).resolve().parent.parent
#: Folder with the project's data files; override with the environment variable GAN_UTILS_DATA.
DATA_DIR = Path(os.environ.get("GAN_UTILS_DATA", REPO_ROOT / "data"))

_TRUE = ("1", "true", "yes")
_FALSE = ("0", "false", "no")


def quick_mode(environ=None) -> bool:
    """True when ``GAN_QUICK`` (or, if it is unset, ``CI``) is 1, true or yes (any case)."""
    env = os.environ if environ is None else environ
    return env.get("GAN_QUICK", env.get("CI", "")).strip().lower() in _TRUE


def train_mode(environ=None) -> bool:
    """False when ``GAN_TRAIN`` is 0, false or no (any case): load the pretrained generator instead."""
    env = os.environ if environ is None else environ
    return env.get("GAN_TRAIN", "1").strip().lower() not in _FALSE


def long_mode(environ=None) -> bool:
    """True when ``GAN_LONG`` is 1, true or yes (any case): the longer, complete version of a notebook's study."""
    env = os.environ if environ is None else environ
    return env.get("GAN_LONG", "").strip().lower() in _TRUE


def figures_root(environ=None) -> Path:
    """Where figures go: ``$GAN_FIGURES_DIR`` or the repository's ``figures/``; ``quick/`` below it in quick mode."""
    env = os.environ if environ is None else environ
    root = Path(env.get("GAN_FIGURES_DIR", REPO_ROOT / "figures"))
    return root / "quick" if quick_mode(env) else root


def visible_gpus() -> list[str]:
    """Names of the GPUs the current Keras backend can use (TensorFlow, JAX or torch); [] on a CPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if backend == "jax":
        import jax

        return [str(d) for d in jax.devices() if d.platform == "gpu"]
    if backend == "torch":
        import torch

        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    return []


def environment_report(quick, train=None) -> str:
    """Three lines: Python, Keras and its backend (with TensorFlow's version); the GPUs; the mode.

    ``train`` (notebooks 02, 03, 05 and 06) adds whether the notebook trains or loads its pretrained generator.
    """
    import keras

    backend = keras.backend.backend()
    versions = f"Python {platform.python_version()}, Keras {keras.__version__} (backend: {backend})"
    if backend == "tensorflow":
        import tensorflow as tf

        versions += f", TensorFlow {tf.__version__}"
    gpus = visible_gpus()
    hardware = f"GPU: {', '.join(gpus)}" if gpus else "GPU: none visible, running on the CPU"
    mode = "mode: QUICK (GAN_QUICK or CI: short training, loose floors)" if quick else "mode: FULL"
    if train is not None:
        mode += "; TRAIN: train the models" if train else "; TRAIN = False: load the pretrained generator"
    return "\n".join((versions, hardware, mode))
