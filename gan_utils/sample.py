"""Sample a saved generator into an npz file of uint8 images.

    python -m gan_utils.sample data/pretrained/dcgan_generator.keras --n 10000 --out samples.npz
    python -m gan_utils.sample data/pretrained/cgan_generator.keras --n 10000 --out sevens.npz --label 7
    python -m gan_utils.sample data/pretrained/cgan_generator.keras --n 10000 --out all.npz --all-labels

The npz holds ``images``: uint8 (N, 28, 28) in 0..255 and, for a conditional generator,
``labels``: int32 (N,), the digit requested for each image. A generator is conditional when it
has two inputs, ``[z (latent_dim,), label int32 ()]``; an unconditional one takes ``z`` only.
Latent vectors are N(0, 1), drawn from ``numpy.random.default_rng(seed)``.

``save_generator`` is how the notebooks save a generator: atomically, then reloaded with
``safe_mode=True`` and checked to draw the same images.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batches import predict_in_batches
from .checks import is_int
from .files import atomic_write
from .settings import REPO_ROOT


class SampleError(ValueError):
    """Bad arguments or an unusable model file; the message says which and why."""


def load_generator(path):
    """Load a ``.keras`` generator with ``safe_mode=True`` (no compile); checks the file exists."""
    path = Path(path)
    if not path.is_file():
        raise SampleError(f"model file not found: {path}")
    if path.suffix != ".keras":
        raise SampleError(f"expected a Keras 3 model file ending in .keras, got {path.name}")
    import keras

    return keras.models.load_model(path, compile=False, safe_mode=True)


def generator_signature(generator):
    """``(latent_dim, conditional, num_classes)`` of a generator.

    ``num_classes`` is read from the generator's Embedding layer when it is conditional (None if it
    has none); the latent size from the first input's shape ``(latent_dim,)``.
    """
    import keras

    inputs = generator.inputs
    if len(inputs) not in (1, 2):
        raise SampleError(f"a generator takes z or [z, label]; this model has {len(inputs)} inputs")
    shape = tuple(inputs[0].shape[1:])
    if len(shape) != 1 or shape[0] is None:
        raise SampleError(f"the generator's first input must be z of shape (latent_dim,), got {shape}")
    conditional = len(inputs) == 2
    num_classes = None
    if conditional:
        dims = [layer.input_dim for layer in generator.layers if isinstance(layer, keras.layers.Embedding)]
        num_classes = int(dims[0]) if dims else None
    return int(shape[0]), conditional, num_classes


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
    """
    from .data import to_uint8

    if not is_int(n) or n <= 0:
        raise SampleError(f"--n must be a positive integer, got {n!r}")
    latent_dim, conditional, num_classes = generator_signature(generator)
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
        if all_labels:
            if n % k:
                raise SampleError(f"--all-labels needs --n to be a multiple of {k} (the number of classes), got {n}")
            labels = np.repeat(np.arange(k, dtype=np.int32), n // k)
        else:
            if not is_int(label) or not 0 <= label < k:
                raise SampleError(f"--label must be an integer in 0..{k - 1}, got {label!r}")
            labels = np.full(n, label, dtype=np.int32)
    elif label is not None or all_labels:
        raise SampleError("this generator is unconditional (one input, z): --label and --all-labels do not apply")

    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, latent_dim), dtype=np.float32)
    return to_uint8(predict_in_batches(generator, z, labels, batch_size)), labels


def save_npz(path, images, labels=None):
    """Write ``images`` (and ``labels``) to ``path`` atomically: a temporary file, then a rename."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")  # what np.savez would do silently
    arrays = {"images": images} if labels is None else {"images": images, "labels": labels}

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

    The file is reloaded with ``safe_mode=True`` (no Python code deserialised, so only built-in
    layers load). Raises ``SampleError`` if it does not reload, draws other images or is too large.
    Returns a ``SavedGenerator`` whose ``str`` is a one-line report.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise SampleError(f"save a generator as a .keras file, got {path.name}")
    temporary = temporary and write  # nothing to check in a new folder unless we write there
    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / path.name if temporary else path
        if write:
            atomic_write(target, generator.save)
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
    parser.add_argument("--seed", type=int, default=0, help="seed for the latent vectors (default 0)")
    return parser


def main(argv=None):
    """The command line; returns 0, or exits with status 2 and a one-line message on bad input."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.n <= 0:
        parser.error(f"--n must be a positive integer, got {args.n}")
    if args.seed < 0:
        parser.error(f"--seed must be a non-negative integer, got {args.seed}")
    if not Path(args.model).is_file():
        parser.error(f"model file not found: {args.model}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        generator = load_generator(args.model)
        images, labels = sample(generator, args.n, seed=args.seed, label=args.label, all_labels=args.all_labels)
    except SampleError as exc:
        parser.error(str(exc))
    path = save_npz(args.out, images, labels)
    what = f" with labels {np.bincount(labels).tolist()}" if labels is not None else ""
    print(f"wrote {len(images)} images {images.shape[1:]} uint8{what} to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


describe = generator_signature  # its name before 2026-12
