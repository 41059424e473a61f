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

The model is read by ``gan_utils.model_io.load_generator`` (``safe_mode=True``), which also saves the
notebooks' generators (``save_generator``) and reads what a generator takes (``generator_signature``,
``infogan_signature``, ``image_shape``). Everything is checked before anything is drawn, the memory the images
need included.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

from .batches import batched_predictions
from .checks import SampleError, is_int
from .files import atomic_write, temporary_path
from .model_io import generator_signature, image_shape, infogan_signature, load_generator

#: without a way to read the memory available (no /proc/meminfo, no sysconf), ``sample`` refuses to hold more
#: than this many bytes (images, latent vectors and labels).
DEFAULT_MEMORY_CAP_BYTES = 8 * 10**9
#: the share of the available memory ``sample`` may plan to use.
MEMORY_SHARE = 0.8


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


def _memory_bytes(n, per_image_floats, shape, extra_bytes, batch_size):
    """``(bytes in all, bytes per image)`` for ``n`` images: per image ``per_image_floats`` float32 numbers, the
    uint8 image and ``extra_bytes`` (a label or code); and one float batch of ``batch_size`` images."""
    per_image = 4 * per_image_floats + shape[0] * shape[1] + extra_bytes
    return int(n) * per_image + 3 * 4 * min(int(n), batch_size) * shape[0] * shape[1], per_image


def sample_memory_bytes(n, latent_dim, shape, conditional, batch_size=1000):
    """Bytes ``sample`` holds for ``n`` images: z (float32), the uint8 images, the labels (int32), one float batch."""
    return _memory_bytes(n, latent_dim, shape, 4 if conditional else 0, batch_size)[0]


def _check_memory(n, per_image_floats, shape, extra_bytes, batch_size):
    """``SampleError`` before anything is drawn if ``n`` images need more than ``memory_limit_bytes``."""
    need, per_image = _memory_bytes(n, per_image_floats, shape, extra_bytes, batch_size)
    limit, why = memory_limit_bytes()
    if need > limit:
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
    for rows, batch in batched_predictions(generator, [noise, codes, continuous], batch_size=batch_size):
        images[rows] = to_uint8(batch).reshape(-1, *shape)  # uint8 batch by batch: never all n images as float32
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

    _check_memory(n, latent_dim, shape, 4 if conditional else 0, batch_size)

    if conditional:
        if all_labels:
            labels = np.repeat(np.arange(k, dtype=np.int32), n // k)
        else:
            labels = np.full(n, label, dtype=np.int32)
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((n, latent_dim), dtype=np.float32)
    images = np.empty((n, *shape), dtype=np.uint8)
    for rows, batch in batched_predictions(generator, z, labels, batch_size):
        images[rows] = to_uint8(batch).reshape(-1, *shape)  # uint8 batch by batch: never all n images as float32
    return images, labels


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

