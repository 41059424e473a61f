"""Sample a saved generator into an npz file of uint8 images.

    python -m gan_utils.sample data/pretrained/dcgan_generator.keras --n 10000 --out samples.npz
    python -m gan_utils.sample data/pretrained/cgan_generator.keras --n 10000 --out sevens.npz --label 7
    python -m gan_utils.sample data/pretrained/cgan_generator.keras --n 10000 --out all.npz --all-labels

    python -m gan_utils.sample data/pretrained/infogan_generator.keras --n 10000 --out s.npz [--code 3]

The npz holds ``images``: uint8 (N, 28, 28) in 0..255 and, for a conditional generator,
``labels``: int32 (N,), the digit requested for each image. A generator is conditional when it
has two inputs, ``[z (latent_dim,), label int32 ()]``; an unconditional one takes ``z`` only.
An InfoGAN generator (notebook 06) has three, ``[noise (noise_dim,), categorical code int32 (),
continuous codes (m,)]``: its npz holds ``codes``, int32 (N,), each image's categorical code (evenly
spread over the codes, or all ``--code K``), and ``continuous``, float32 (N, m), drawn U(-1, 1) as in
training. Which digit a code draws was learned without labels: the codes are not digit labels.
Latent vectors (noise) are N(0, 1), drawn from ``numpy.random.default_rng(seed)``.

``save_generator`` is how the notebooks save a generator: atomically, then reloaded with
``safe_mode=True`` and checked to draw the same images.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import json
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batches import model_inputs
from .checks import is_int
from .files import atomic_write, temporary_path
from .settings import REPO_ROOT

#: without a way to read the memory available (no /proc/meminfo, no sysconf), ``sample`` refuses to hold more
#: than this many bytes (images, latent vectors and labels).
DEFAULT_MEMORY_CAP_BYTES = 8 * 10**9
#: the share of the available memory ``sample`` may plan to use.
MEMORY_SHARE = 0.8


class SampleError(ValueError):
    """Bad arguments or an unusable model file; the message says which and why."""


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


def _gb(nbytes) -> str:
    return f"{nbytes / 1e9:.3g} GB"


def available_memory_bytes():
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``, else free pages), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (AttributeError, OSError, ValueError):
        return None


def memory_limit_bytes():
    """``(bytes, why)``: what ``sample`` may plan to hold, ``MEMORY_SHARE`` of the memory available now (or
    ``DEFAULT_MEMORY_CAP_BYTES`` where that cannot be read), and a few words saying which."""
    available = available_memory_bytes()
    if available:
        return int(MEMORY_SHARE * available), f"{MEMORY_SHARE:.0%} of the {_gb(available)} available now"
    return DEFAULT_MEMORY_CAP_BYTES, f"the {_gb(DEFAULT_MEMORY_CAP_BYTES)} cap (available memory unknown)"


def sample_memory_bytes(n, latent_dim, shape, conditional, batch_size=1000):
    """Bytes ``sample`` holds for ``n`` images: z (float32), the uint8 images, the labels (int32), one float batch."""
    per_image = 4 * latent_dim + shape[0] * shape[1] + (4 if conditional else 0)
    return int(n) * per_image + 3 * 4 * min(int(n), batch_size) * shape[0] * shape[1]


def _check_memory(n, per_image_floats, shape, extra_bytes, batch_size):
    need = int(n) * (4 * per_image_floats + shape[0] * shape[1] + extra_bytes) + 3 * 4 * min(int(n), batch_size) * shape[0] * shape[1]
    limit, why = memory_limit_bytes()
    if need > limit:
        per_image = 4 * per_image_floats + shape[0] * shape[1] + extra_bytes
        fits = max(1, (limit - (need - n * per_image)) // per_image)
        raise SampleError(
            f"--n {n} would need about {_gb(need)} of memory ({per_image} bytes per image: latent vector, "
            f"{shape[0]}x{shape[1]} uint8 image{', label' if extra_bytes else ''}), more than {why}; "
            f"use --n {fits} or less and sample in several runs with different --seed"
        )


def sample_infogan(generator, n, seed=0, code=None, batch_size=1000):
    """Draw ``n`` images from an InfoGAN generator (see ``infogan_signature``).

    Returns ``(images, codes, continuous)``: uint8 (n, H, W), int32 (n,) categorical codes — all ``code``,
    or evenly spread over the codes in order (0, 0, ..., 1, 1, ...; counts differ by at most one) — and the
    continuous codes float32 (n, m), U(-1, 1) as in training. Noise N(0, 1); all drawn from
    ``numpy.random.default_rng(seed)``. Raises ``SampleError`` before drawing anything for a model that is
    not an InfoGAN generator, a code out of range, or an ``n`` that would not fit in memory.
    """
    from .data import to_uint8

    if not is_int(n) or n <= 0:
        raise SampleError(f"--n must be a positive integer, got {n!r}")
    info = infogan_signature(generator)
    if info is None:
        raise SampleError(
            "--code applies to an InfoGAN generator (inputs [noise, categorical code, continuous codes], notebook 06); "
            f"this model takes {len(generator.inputs)} input(s)" + (": z, or [z, label] with --label" if len(generator.inputs) < 3 else ""))
    noise_dim, categories, continuous_dim = info
    shape = image_shape(generator)
    if code is not None and (not is_int(code) or not 0 <= code < categories):
        raise SampleError(f"--code must be an integer in 0..{categories - 1} (this InfoGAN generator has {categories} "
                          f"categorical codes), got {code!r}")
    _check_memory(n, noise_dim + 2 * continuous_dim, shape, 4, batch_size)
    rng = np.random.default_rng(seed)
    codes = (np.full(n, code) if code is not None else np.arange(n) * categories // n).astype(np.int32)
    noise = rng.standard_normal((n, noise_dim), dtype=np.float32)
    continuous = rng.uniform(-1.0, 1.0, (n, continuous_dim)).astype(np.float32)  # as in training
    images = np.empty((n, *shape), dtype=np.uint8)
    for i in range(0, n, batch_size):
        part = slice(i, i + batch_size)
        batch = np.asarray(generator.predict_on_batch([noise[part], codes[part], continuous[part]]))
        images[part] = to_uint8(batch).reshape(-1, *shape)
    return images, codes, continuous


def sample(generator, n, seed=0, label=None, all_labels=False, batch_size=1000):
    """Draw ``n`` images from ``generator``.

    Args:
        generator: a Keras model, z -> image or [z, label] -> image, images in [-1, 1].
        n: number of images, a positive integer.
        seed: seed of the NumPy generator for z.
        label: for a conditional generator, one digit for every image.
        all_labels: for a conditional generator, equal numbers of every class (n must be a
            multiple of the number of classes), in order 0, 0, ..., 1, 1, ...

    Returns:
        ``(images, labels)``: uint8 (n, 28, 28) in 0..255 (the generator's output shape without
        the channel axis), and int32 (n,) or None for an unconditional generator.

    Raises ``SampleError`` before drawing anything for a model that is not a generator, bad labels, or an
    ``n`` whose arrays would not fit in memory (``sample_memory_bytes`` against ``memory_limit_bytes``).
    """
    from .data import to_uint8

    if not is_int(n) or n <= 0:
        raise SampleError(f"--n must be a positive integer, got {n!r}")
    if infogan_signature(generator) is not None:
        if label is not None or all_labels:
            raise SampleError(
                "this is an InfoGAN generator (inputs [noise, categorical code, continuous codes]): its categorical "
                "code is not a digit label (which digit each code draws was learned without labels); use --code K "
                "for one code, or neither for codes evenly spread")
        images, codes, _ = sample_infogan(generator, n, seed, batch_size=batch_size)
        return images, codes
    latent_dim, conditional, num_classes = generator_signature(generator)
    shape = image_shape(generator)
    if label is not None and all_labels:
        raise SampleError("give --label K or --all-labels, not both")
    labels = None
    if conditional:
        if label is None and not all_labels:
            raise SampleError(
                "this generator is conditional (inputs [z, label]): pass --label K for one digit "
                "or --all-labels for equal numbers of each"
            )
        k = num_classes if num_classes is not None else 10
        if all_labels and n % k:
            raise SampleError(f"--all-labels needs --n to be a multiple of {k} (the number of classes), got {n}")
        if not all_labels and (not is_int(label) or not 0 <= label < k):
            raise SampleError(f"--label must be an integer in 0..{k - 1}, got {label!r}")
    elif label is not None or all_labels:
        raise SampleError("this generator is unconditional (one input, z): --label and --all-labels do not apply")

    need = sample_memory_bytes(n, latent_dim, shape, conditional, batch_size)
    limit, why = memory_limit_bytes()
    if need > limit:
        per_image = 4 * latent_dim + shape[0] * shape[1] + (4 if conditional else 0)
        fits = max(1, (limit - (need - n * per_image)) // per_image)
        raise SampleError(
            f"--n {n} would need about {_gb(need)} of memory ({per_image} bytes per image: latent vector, "
            f"{shape[0]}x{shape[1]} uint8 image{', label' if conditional else ''}), more than {why}; "
            f"use --n {fits} or less and sample in several runs with different --seed"
        )

    if conditional:
        if all_labels:
            labels = np.repeat(np.arange(k, dtype=np.int32), n // k)
        else:
            labels = np.full(n, label, dtype=np.int32)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, latent_dim), dtype=np.float32)
    images = np.empty((n, *shape), dtype=np.uint8)
    for i in range(0, n, batch_size):  # uint8 batch by batch: never all n images as float32
        part_labels = None if labels is None else labels[i : i + batch_size]
        batch = np.asarray(generator.predict_on_batch(model_inputs(z[i : i + batch_size], part_labels)))
        images[i : i + batch_size] = to_uint8(batch).reshape(-1, *shape)
    return images, labels


def discriminator_rejection(d_probs, accept=None, real_target=1.0, seed=0, eps=1e-6):
    """Which of G's samples to keep, from D's outputs: discriminator rejection sampling (Azadi et al. 2019).

    A D trained to output ``real_target`` (t; one-sided label smoothing makes it 0.9) for real images and 0 for
    G's is best at ``D(x) = t p_data(x) / (p_data(x) + p_G(x))``, so ``p_data / p_G = D / (t - D)``: D estimates
    how much more often real data than G lands near ``x``. Keeping each sample with probability
    ``r(x) / max r`` (rejection sampling) then turns G's distribution into the data's, as far as D is right.
    With ``accept=None`` that is the rule, and few samples survive; ``accept`` in (0, 1] keeps that share on
    average instead, by Azadi et al.'s shifted rule: keep with probability ``sigmoid(F(x) - gamma)``,
    ``F = d - log(1 - exp(d - eps))``, ``d = log r(x) - max log r`` (``sigmoid(F)`` is ``r / max r``), ``gamma``
    solved for so that the probabilities average ``accept``. Unlike a hard cut at D's top share, every sample
    keeps a chance, so a digit that D rates a little less real is thinned, not dropped.

    Args:
        d_probs: D's outputs for G's samples, probabilities in (0, 1), shape (n,) or (n, 1); the maximum over
            them stands for ``max r``, so pass a pool of a few thousand at least.
        accept: the share to keep on average, in (0, 1]; None: plain rejection sampling (gamma = 0).
        real_target: the target D was trained towards for real images (1.0, or 0.9 with label smoothing).
            Outputs at or above it (D cannot be exactly optimal) count as the largest ratio seen below it.
        seed: seed of the NumPy generator for the accept/reject draws.

    Returns a boolean mask over the samples: True = keep. Raises ``SampleError`` for bad input, before drawing.
    """
    d = np.asarray(d_probs, dtype=np.float64)
    if d.ndim == 2 and d.shape[1] == 1:
        d = d[:, 0]
    if d.ndim != 1 or d.size < 2:
        raise SampleError(f"d_probs must be D's outputs for at least 2 samples, shape (n,) or (n, 1); got shape {d.shape}")
    if not np.all(np.isfinite(d)) or d.min() <= 0 or d.max() >= 1:
        raise SampleError("d_probs must be finite probabilities strictly between 0 and 1 (D's sigmoid outputs); "
                          f"got values in [{np.nanmin(d):.3g}, {np.nanmax(d):.3g}]{' and NaN or inf' if not np.all(np.isfinite(d)) else ''}")
    if isinstance(real_target, bool) or not isinstance(real_target, (int, float)) or not 0 < real_target <= 1:
        raise SampleError(f"real_target must be D's target for real images, in (0, 1]; got {real_target!r}")
    if accept is not None and (isinstance(accept, bool) or not isinstance(accept, (int, float)) or not 0 < accept <= 1):
        raise SampleError(f"accept must be the share of samples to keep, in (0, 1], or None; got {accept!r}")
    below = d < real_target
    if not below.any():
        raise SampleError(f"every output of D is at or above real_target={real_target}: pass the target D was trained "
                          "towards for real images (0.9 with one-sided label smoothing)")
    log_ratio = np.log(d) - np.log(np.where(below, real_target - d, 1.0))  # log p_data / p_G as D estimates it
    log_ratio = np.where(below, log_ratio, log_ratio[below].max())
    delta = log_ratio - log_ratio.max()
    f = delta - np.log1p(-np.exp(delta - eps))
    gamma = 0.0
    if accept is not None:  # the mean of sigmoid(f - gamma) falls as gamma rises: bisection
        low, high = -60.0, 60.0
        for _ in range(100):
            gamma = (low + high) / 2
            low, high = (gamma, high) if np.mean(_sigmoid(f - gamma)) > accept else (low, gamma)
    return np.random.default_rng(seed).uniform(size=d.shape) < _sigmoid(f - gamma)


def _sigmoid(x):
    return 0.5 * (1 + np.tanh(0.5 * x))  # no overflow for large |x|


def save_npz(path, images, labels=None, **more):
    """Write ``images`` (and ``labels``, and any ``more`` named arrays) to ``path`` atomically: a temporary
    file, then a rename."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")  # what np.savez would do silently
    arrays = {"images": images} if labels is None else {"images": images, "labels": labels}
    arrays.update(more)

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez_compressed(f, **arrays)

    return atomic_write(path, write)


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


def build_parser():
    parser = argparse.ArgumentParser(
        prog="python -m gan_utils.sample", description="Sample a saved generator (.keras) into an npz file."
    )
    parser.add_argument("model", help="a generator saved with model.save('....keras')")
    parser.add_argument("--n", type=int, default=10000, help="number of images (default 10000)")
    parser.add_argument("--out", required=True, help="output .npz: images uint8 (N, 28, 28) [and labels (N,)]")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--label", type=int, help="conditional model: the digit to draw")
    group.add_argument("--all-labels", action="store_true", help="conditional model: equal numbers of each digit")
    group.add_argument("--code", type=int, help="InfoGAN generator: one categorical code for every image "
                       "(default: codes evenly spread)")
    parser.add_argument("--seed", type=int, default=0, help="seed for the latent vectors (default 0)")
    return parser


def check_output_path(path) -> Path:
    """``--out``: a new or existing ``.npz`` file in an existing, writable folder; else ``SampleError``.

    Checked before anything is loaded or drawn; the check writes (and removes) the temporary file that
    ``atomic_write`` will use.
    """
    path = Path(path)
    if path.is_dir():
        raise SampleError(f"--out {path} is a folder; give a file name in it, e.g. --out {path / 'samples.npz'}")
    if path.suffix != ".npz":
        raise SampleError(
            f"--out must be a file name ending in .npz, got {path.name!r}; e.g. --out {path.with_suffix('.npz')}"
        )
    folder = path.parent
    if not folder.exists():
        raise SampleError(f"--out {path}: the folder {folder} does not exist; create it first (mkdir -p {folder})")
    if not folder.is_dir():
        raise SampleError(f"--out {path}: {folder} is a file, not a folder")
    probe = temporary_path(path)
    try:
        with open(probe, "wb"):
            pass
        probe.unlink()
    except OSError as e:
        reason = e.strerror or e
        raise SampleError(f"--out {path}: cannot write in {folder} ({reason}); choose a writable folder") from None
    return path


def main(argv=None):
    """The command line; returns 0, or exits with status 2 and a one-line message on bad input.

    Everything that can be checked is checked before sampling: the arguments, ``--out``, the model file
    (readable, a generator), the labels and the memory ``--n`` images need.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n <= 0:
        parser.error(f"--n must be a positive integer, got {args.n}")
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    if not Path(args.model).exists():
        parser.error(f"model file not found: {args.model}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        out = check_output_path(args.out)
        generator = load_generator(args.model)
        infogan = infogan_signature(generator) is not None
        if infogan and (args.label is not None or args.all_labels):
            sample(generator, args.n, label=args.label, all_labels=args.all_labels)  # refused: codes are not labels
        if infogan or args.code is not None:  # the latter: not an InfoGAN generator, refused with the reason
            images, codes, continuous = sample_infogan(generator, args.n, seed=args.seed, code=args.code)
            labels, more = None, {"codes": codes, "continuous": continuous}
        else:
            generator_signature(generator)
            image_shape(generator)
            images, labels = sample(generator, args.n, seed=args.seed, label=args.label, all_labels=args.all_labels)
            more = {}
    except SampleError as exc:
        parser.error(str(exc))
    try:
        path = save_npz(out, images, labels, **more)
    except OSError as exc:
        parser.exit(1, f"{parser.prog}: error: could not write {out}: {exc}\n")
    what = f" with labels {np.bincount(labels).tolist()}" if labels is not None else ""
    if "codes" in more:
        what = f" with categorical codes {np.bincount(more['codes']).tolist()} and continuous codes"
    print(f"wrote {len(images)} images {images.shape[1:]} uint8{what} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


describe = generator_signature  # its name before 2026-12
