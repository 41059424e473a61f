"""Checkpoint files: written atomically, checked by a checksum, loaded without running any code.

``GAN.fit(..., checkpoint_dir=..., checkpoint_every=N, resume=True)`` uses this module; call it
directly only to list or read checkpoints. A checkpoint is one file ``ckpt-<step>.npz`` (``<step>``:
the generator step, 8 digits) in the checkpoint folder:

* NumPy's ``.npz`` (a zip of ``.npy`` arrays), read with ``np.load(allow_pickle=False)``: plain
  numeric and string arrays only, nothing that could execute code when loaded;
* the array ``__meta__``: a JSON string (counters, random-generator state, options, names);
* the array ``__sha256__``: the sha256 of every other array (name, dtype, shape, bytes) and of the
  metadata. A file whose checksum does not match, or that is truncated, raises ``CheckpointError``.

Writing goes to a temporary file in the same folder, which is flushed, ``fsync``-ed and renamed
over the final name with ``os.replace`` (atomic on POSIX and Windows), so a crash leaves either the
old file or the new one, never half of one. The folder keeps the newest ``keep`` checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

FORMAT = "gan_utils-checkpoint-1"
_NAME = re.compile(r"^ckpt-(\d+)\.npz$")
_TEMP = re.compile(r"^\.ckpt-\d+\.npz\.tmp-\d+$")


class CheckpointError(ValueError):
    """A checkpoint cannot be used: truncated, corrupt, or written for other models or options."""


def checkpoint_path(folder, step) -> Path:
    """The file name of the checkpoint at generator step ``step``: ``folder/ckpt-00001234.npz``."""
    return Path(folder) / f"ckpt-{int(step):08d}.npz"


def checkpoint_step(path) -> int:
    """The generator step in a checkpoint's file name."""
    match = _NAME.match(Path(path).name)
    if not match:
        raise CheckpointError(f"{path} is not named like a checkpoint (ckpt-<step>.npz)")
    return int(match.group(1))


def list_checkpoints(folder) -> list:
    """The checkpoint files in ``folder``, oldest step first (temporary files are left out)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _NAME.match(p.name) and p.is_file()]
    return sorted(found, key=checkpoint_step)


def latest_checkpoint(folder):
    """The newest checkpoint file in ``folder`` (by step), or None if there is none."""
    found = list_checkpoints(folder)
    return found[-1] if found else None


def _digest(arrays, meta_json):
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}|{a.dtype.str}|{a.shape}|".encode())
        h.update(a.tobytes())
    h.update(meta_json.encode())
    return h.hexdigest()


def write(path, arrays, meta):
    """Write ``arrays`` (name -> numeric array) and ``meta`` (JSON-able dict) to ``path`` atomically.

    Returns the path. The temporary file ``.<name>.tmp-<pid>`` is removed if anything fails.
    """
    path = Path(path)
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    for name, a in arrays.items():
        if name.startswith("__") or a.dtype.hasobject:
            raise ValueError(f"checkpoint array {name!r}: reserved name or object dtype ({a.dtype})")
    meta_json = json.dumps({"format": FORMAT, **meta}, sort_keys=True)
    payload = {**arrays, "__meta__": np.array(meta_json), "__sha256__": np.array(_digest(arrays, meta_json))}
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    _fsync_folder(path.parent)
    return path


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _read_unchecked(path):
    """(arrays, meta) of a checkpoint, or raise CheckpointError saying what is wrong with it."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as f:
            arrays = {name: f[name] for name in f.files}
    except Exception as e:  # zipfile, zlib, EOF and format errors: the file is damaged
        raise CheckpointError(
            f"checkpoint {path} is truncated or corrupt: it cannot be read ({type(e).__name__}: {e})"
        ) from None
    if "__meta__" not in arrays or "__sha256__" not in arrays:
        raise CheckpointError(f"checkpoint {path} is not a gan_utils checkpoint (no __meta__/__sha256__ entry)")
    meta_json, stored = str(arrays.pop("__meta__")), str(arrays.pop("__sha256__"))
    computed = _digest(arrays, meta_json)
    if computed != stored:
        raise CheckpointError(
            f"checkpoint {path} is corrupt: its sha256 checksum does not match its contents "
            f"(stored {stored[:12]}..., computed {computed[:12]}...)"
        )
    meta = json.loads(meta_json)
    if meta.get("format") != FORMAT:
        raise CheckpointError(f"checkpoint {path} has format {meta.get('format')!r}; this gan_utils reads {FORMAT!r}")
    return arrays, meta


def previous_good(path):
    """The newest intact checkpoint in ``path``'s folder older than ``path``, or None."""
    path = Path(path)
    try:
        step = checkpoint_step(path)
    except CheckpointError:
        step = None
    for other in reversed(list_checkpoints(path.parent)):
        if other.name == path.name or (step is not None and checkpoint_step(other) >= step):
            continue
        try:
            _read_unchecked(other)
        except CheckpointError:
            continue
        return other
    return None


def read(path):
    """``(arrays, meta)`` of the checkpoint at ``path``, after checking it is whole and intact.

    Raises ``CheckpointError`` naming the file and what is wrong, and the newest older checkpoint in
    the same folder that is still intact, with how to resume from it.
    """
    try:
        return _read_unchecked(path)
    except CheckpointError as e:
        if not Path(path).is_file():
            raise
        good = previous_good(path)
        if good is None:
            hint = f"No earlier intact checkpoint is left in {Path(path).parent}: start training again."
        else:
            hint = (
                f"The previous checkpoint {good} is intact and still usable: resume from it with "
                f"gan.fit(..., resume='{good}') or load it with gan.restore('{good}') "
                f"(or delete {path} and use resume=True)."
            )
        raise CheckpointError(f"{e}. {hint}") from None


def remove_stale(folder, current_step, keep):
    """Delete checkpoints newer than ``current_step`` (an abandoned run), then all but the newest ``keep``.

    Also removes temporary files left by writes that were interrupted.
    """
    folder = Path(folder)
    found = list_checkpoints(folder)
    newer = [p for p in found if checkpoint_step(p) > current_step]
    rest = [p for p in found if checkpoint_step(p) <= current_step]
    for p in newer + rest[:-keep]:
        p.unlink(missing_ok=True)
    for p in folder.iterdir():
        if _TEMP.match(p.name) and not p.name.endswith(f".tmp-{os.getpid()}"):
            p.unlink(missing_ok=True)
