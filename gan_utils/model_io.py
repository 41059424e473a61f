"""Saving and loading generators: ``.keras`` files checked as they are written and read, and what a file's inputs say.

``save_generator`` is how the notebooks save a generator: atomically, then reloaded with ``safe_mode=True`` and
checked to draw the same images, its config written by ``portable_config`` so that the oldest Keras the project
allows reads what a newer one saved (``save_portable``). ``load_generator`` reads one with ``safe_mode=True``, or
says why it cannot. ``generator_signature``, ``infogan_signature`` and ``image_shape`` read what a loaded
generator takes and draws: z, [z, label] or InfoGAN's [noise, categorical code, continuous codes]. Each raises
``SampleError`` (``gan_utils.checks``) with the reason.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import SampleError
from .environment import REPO_ROOT
from .files import atomic_write


def _one_line(text, limit=400) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_generator(path):
    """Load a ``.keras`` generator with ``safe_mode=True`` (no compile).

    Raises ``SampleError`` if the file does not exist, is not a ``.keras`` file, or exists but cannot be read
    as a Keras model (the message gives the loader's reason).
    """
    path = Path(path)
    if not path.exists():
        raise SampleError(f"model file not found: {path}")
    if not path.is_file():
        raise SampleError(f"{path} is a folder, not a model file; pass the .keras file saved with model.save(...)")
    if path.suffix != ".keras":
        raise SampleError(f"expected a Keras 3 model file ending in .keras, got {path.name}")
    if not zipfile.is_zipfile(path):
        raise SampleError(
            f"{path} exists but cannot be read as a Keras model: it is not a .keras (zip) archive "
            f"({path.stat().st_size} bytes; truncated by an interrupted copy or save?); save the model again "
            "with model.save(path)"
        )
    import keras

    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as e:
        raise SampleError(
            f"{path} exists but cannot be read as a Keras model: {type(e).__name__}: {_one_line(e)}"
        ) from e


def infogan_signature(generator):
    """``(noise_dim, categories, continuous)`` of an InfoGAN generator, or None for any other model.

    An InfoGAN generator takes three inputs: noise (noise_dim,), one integer categorical code per image
    (shape () or (1,), an integer dtype) and continuous codes (continuous,); the number of categories is read
    from its ``CategoryEncoding`` (or ``Embedding``) layer.
    """
    import keras

    inputs = generator.inputs
    if len(inputs) != 3:
        return None
    noise, code, continuous = (tuple(t.shape[1:]) for t in inputs)
    if len(noise) != 1 or len(continuous) != 1 or code not in ((), (1,)) or "int" not in str(inputs[1].dtype):
        return None
    counts = [layer.num_tokens for layer in generator.layers if isinstance(layer, keras.layers.CategoryEncoding)]
    counts += [layer.input_dim for layer in generator.layers if isinstance(layer, keras.layers.Embedding)]
    if not counts or None in (noise[0], continuous[0]):
        return None
    return int(noise[0]), int(counts[0]), int(continuous[0])


def generator_signature(generator):
    """``(latent_dim, conditional, num_classes)`` of a generator.

    ``num_classes`` is read from the generator's Embedding layer when it is conditional (None if it
    has none); the latent size from the first input's shape ``(latent_dim,)``. Raises ``SampleError`` for a
    model that is not a generator (see ``image_shape`` for its output).
    """
    import keras

    inputs = generator.inputs
    if len(inputs) not in (1, 2):
        raise SampleError(
            f"this model is not a generator: a generator takes z, [z, label] or (InfoGAN) [noise, categorical code, "
            f"continuous codes]; this model has {len(inputs)} inputs"
            + (" that are not those of an InfoGAN generator" if len(inputs) == 3 else "")
        )
    shape = tuple(inputs[0].shape[1:])
    if len(shape) != 1 or shape[0] is None:
        raise SampleError(
            f"this model is not a generator: its first input must be z of shape (latent_dim,), got {shape}"
        )
    conditional = len(inputs) == 2
    num_classes = None
    if conditional:
        label_shape = tuple(inputs[1].shape[1:])
        if label_shape not in ((), (1,)):
            raise SampleError(
                f"this model is not a generator: its second input must be one integer label per image, shape () "
                f"or (1,), got {label_shape}"
            )
        dims = [layer.input_dim for layer in generator.layers if isinstance(layer, keras.layers.Embedding)]
        num_classes = int(dims[0]) if dims else None
    return int(shape[0]), conditional, num_classes


def image_shape(generator):
    """``(H, W)`` of the images a generator draws: its one output must have shape (H, W) or (H, W, 1)."""
    outputs = generator.outputs
    if len(outputs) != 1:
        raise SampleError(
            f"this model is not a generator: a generator has one output (images), this one has {len(outputs)}"
        )
    shape = tuple(outputs[0].shape[1:])
    if len(shape) == 3 and shape[-1] == 1:
        shape = shape[:2]
    if len(shape) != 2 or any(d is None for d in shape):
        raise SampleError(
            f"this model is not a generator: its output must be grey images of shape (H, W) or (H, W, 1), "
            f"got {tuple(outputs[0].shape[1:])}"
        )
    return int(shape[0]), int(shape[1])


@dataclass
class SavedGenerator:
    """What ``save_generator`` did: where the file is (None once a temporary one is deleted), its size."""

    path: Path | None
    megabytes: float
    written: bool

    def __str__(self):
        if self.path is None:
            return f"saved to a temporary folder (quick mode); reloaded with safe_mode=True: same images; {self.megabytes:.2f} MB"
        shown = self.path.resolve()
        if shown.is_relative_to(REPO_ROOT):
            shown = shown.relative_to(REPO_ROOT)  # no user-specific folders in a notebook's output
        where = f"saved to {shown}" if self.written else f"left {shown} as it is"
        return f"{where}; reloaded with safe_mode=True: same images; {self.megabytes:.2f} MB"


#: the Keras modules whose classes ``portable_config`` may look up (built-in layers and their parts)
PORTABLE_MODULES = ("keras.layers", "keras.initializers", "keras.regularizers", "keras.constraints", "keras.activations")


def _defaults(module, class_name):
    """{argument: default} of a built-in Keras class's constructor, or {} if it is not one."""
    if module not in PORTABLE_MODULES:
        return {}
    cls = getattr(importlib.import_module(module), class_name, None)
    if not inspect.isclass(cls):
        return {}
    params = inspect.signature(cls.__init__).parameters.values()
    return {p.name: p.default for p in params if p.default is not inspect.Parameter.empty}


def _same(value, default):
    if isinstance(default, tuple):
        default = list(default)
    return type(value) is type(default) and value == default


def portable_config(config):
    """A ``.keras`` config without the constructor arguments that only restate their defaults.

    Each Keras release adds arguments to built-in classes and writes them into every saved file
    (Keras 3.15: ``input_axes`` and ``output_axes`` on every initializer, ``renorm*`` on BatchNormalization,
    ``quantization_config`` on Dense); an older Keras refuses a file that names an argument it does not
    know. Left out, each takes its default again, so the file means the same model to every release
    that has the layer. Works on the parsed ``config.json``; returns a new dict.
    """
    if isinstance(config, list):
        return [portable_config(v) for v in config]
    if not isinstance(config, dict):
        return config
    out = {k: portable_config(v) for k, v in config.items()}
    if isinstance(out.get("config"), dict) and "class_name" in out:
        defaults = _defaults(out.get("module"), out["class_name"])
        out["config"] = {k: v for k, v in out["config"].items() if not (k in defaults and _same(v, defaults[k]))}
    return out


def save_portable(model, path):
    """``model.save(path)``, then the file's config rewritten by ``portable_config`` (weights untouched)."""
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        members = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w") as archive:
        for info, data in members:
            if info.filename == "config.json":
                data = json.dumps(portable_config(json.loads(data))).encode()
            archive.writestr(info, data)


def save_generator(generator, path, probe, *, write=True, temporary=False, max_mb=10.0, atol=1e-5):
    """Save a generator as ``.keras`` and prove the file is usable: it reloads and draws the same images.

    Args:
        generator: the Keras model in memory.
        path: the ``.keras`` file. Written atomically (a temporary file in the same folder, then a
            rename), so an interrupted save never leaves a half-written model behind.
        probe: inputs for the comparison, ``z`` (n, latent_dim) or ``[z, labels]``.
        write: False only checks an existing file against ``generator`` (e.g. the pretrained one).
        temporary: save into a temporary folder instead of ``path`` (quick mode), deleted afterwards;
            ignored when ``write`` is False.
        max_mb: the largest acceptable file, in MB (10**6 bytes).
        atol: the largest acceptable pixel difference between the two models' images.

    The config is written by ``portable_config`` (no argument that only restates its default), so a
    file saved by a newer Keras loads on the oldest one the project allows. The file is reloaded with
    ``safe_mode=True`` (no Python code deserialised, so only built-in layers load). Raises ``SampleError`` if it does not reload, draws other images or is too large.
    Returns a ``SavedGenerator`` whose ``str`` is a one-line report.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise SampleError(f"save a generator as a .keras file, got {path.name}")
    temporary = temporary and write  # nothing to check in a new folder unless we write there
    folder = tempfile.TemporaryDirectory(prefix="gan_utils-") if temporary else contextlib.nullcontext()
    with folder as tmp:
        target = Path(tmp) / path.name if temporary else path
        if write:
            atomic_write(target, lambda tmp: save_portable(generator, tmp))  # loads on older Keras too
        reloaded = load_generator(target)
        expected = np.asarray(generator.predict_on_batch(probe))
        diff = float(np.max(np.abs(np.asarray(reloaded.predict_on_batch(probe)) - expected)))
        if not diff <= atol:
            raise SampleError(f"{target.name} reloads but draws other images (max pixel difference {diff:.3g} > {atol})")
        megabytes = target.stat().st_size / 1e6
        if megabytes > max_mb:
            raise SampleError(f"{target.name} is {megabytes:.1f} MB, more than the {max_mb} MB allowed")
    return SavedGenerator(None if temporary else path, megabytes, write)
