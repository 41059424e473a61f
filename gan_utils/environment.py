"""What a notebook prints first: its mode, read from the environment, and the software and hardware it runs on.

    QUICK = quick_mode()        # GAN_QUICK=1 (or CI=true): short training, loose floors
    print(environment_report(QUICK, train=train_mode()))

The variables (read in ``gan_utils.settings``): ``GAN_QUICK`` (or ``CI``, which CI services set) selects
quick mode; ``GAN_TRAIN=0`` makes notebooks 02 and 03 load their pretrained generator instead of training one.
"""

from __future__ import annotations

import platform

from .settings import long_mode, quick_mode, train_mode  # noqa: F401  (imported from here by the notebooks)


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

    ``train`` (notebooks 02 and 03) adds whether the notebook trains or loads its pretrained generator.
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


describe = environment_report  # the name notebooks used before 2026-12
