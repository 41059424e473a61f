"""Checkpoint files: written atomically, checked by a checksum, loaded without running any code.

A checkpoint is one file ``ckpt-<step>.npz`` (``<step>``: the generator step, 8 digits) in the checkpoint
folder:

* NumPy's ``.npz`` (a zip of ``.npy`` arrays), read with ``np.load(allow_pickle=False)``: plain
  numeric and string arrays only, nothing that could execute code when loaded;
* the array ``__meta__``: a JSON string (counters, random-generator state, options, names);
* the array ``__sha256__``: the sha256 of every other array (name, dtype, shape, bytes) and of the
  metadata. A file whose checksum does not match, or that is truncated, raises ``CheckpointError``.

Writing goes to a temporary file in the same folder, which is flushed, ``fsync``-ed and renamed
over the final name with ``os.replace`` (atomic on POSIX and Windows), so a crash leaves either the
old file or the new one, never half of one. ``remove_stale`` keeps the newest ``keep`` checkpoints of a
run and only ever deletes checkpoints that carry that run's id; ``check_writable`` writes and removes a
probe file, so a read-only or full disk is reported before training and not at the first checkpoint.
What a GAN's checkpoint holds is ``gan_utils.checkpoint``'s.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

import numpy as np

from .files import atomic_write

FORMAT = "gan_utils-checkpoint-1"
_NAME = re.compile(r"^ckpt-(\d+)\.npz$")
# temporary files of interrupted writes: atomic_write's ".ckpt-<step>.tmp-<pid>.npz" and, from older
# versions, ".ckpt-<step>.npz.tmp-<pid>"
_TEMP = re.compile(r"^\.ckpt-\d+(?:\.tmp-(\d+)\.npz|\.npz\.tmp-(\d+))$")


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

    Returns the path. The temporary file (``gan_utils.files.atomic_write``) is removed if anything fails.
    """
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    for name, a in arrays.items():
        if name.startswith("__") or a.dtype.hasobject:
            raise ValueError(f"checkpoint array {name!r}: reserved name or object dtype ({a.dtype})")
    meta_json = json.dumps({"format": FORMAT, **meta}, sort_keys=True)
    payload = {**arrays, "__meta__": np.array(meta_json), "__sha256__": np.array(_digest(arrays, meta_json))}

    def save(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **payload)

    return atomic_write(path, save, durable=True)


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
                f"The previous checkpoint {good} is intact and still usable: move {path} out of the folder "
                f"(or delete it) and resume with gan.fit(..., resume=True), or load it with gan.restore('{good}')."
            )
        raise CheckpointError(f"{e}. {hint}") from None


def run_of(path):
    """The run id in a checkpoint's metadata, or None (written before run ids, unreadable, or not a checkpoint).

    Reads the metadata only, without the checksum: enough to tell whose file it is, not to use it.
    """
    try:
        with np.load(path, allow_pickle=False) as f:
            run = json.loads(str(f["__meta__"])).get("run")
    except Exception:  # damaged, truncated or not an npz: nobody's that we can tell
        return None
    return run if isinstance(run, str) else None


def remove_stale(folder, current_step, keep, run):
    """Delete run ``run``'s checkpoints newer than ``current_step`` (its abandoned continuation, after a
    resume from an older checkpoint), then all but its newest ``keep``.

    Only checkpoints whose metadata carries the run id ``run`` are ever deleted: those of another run, or
    whose run cannot be read, stay. Also removes temporary files left by writes that were interrupted.
    """
    folder = Path(folder)
    mine = [p for p in list_checkpoints(folder) if run is not None and run_of(p) == run]
    newer = [p for p in mine if checkpoint_step(p) > current_step]
    rest = [p for p in mine if checkpoint_step(p) <= current_step]
    for p in newer + rest[:-keep]:
        p.unlink(missing_ok=True)
    for p in folder.iterdir():
        match = _TEMP.match(p.name)
        if match and str(os.getpid()) not in match.groups():
            p.unlink(missing_ok=True)


def _write_probe(path):
    """Write and sync a small file (the probe of ``check_writable``)."""
    with open(path, "wb") as f:
        f.write(b"\0" * 4096)
        f.flush()
        os.fsync(f.fileno())


def check_writable(folder):
    """Create ``folder`` if needed, then write and remove a small probe file in it.

    Raises OSError (PermissionError for a read-only folder) naming ``checkpoint_dir`` and the fix, before
    anything is trained; a folder this call created is removed again then.
    """
    folder = Path(folder)
    created = not folder.exists()
    probe = folder / f".ckpt-probe-{os.getpid()}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        _write_probe(probe)
        probe.unlink()
    except OSError as e:
        try:
            probe.unlink(missing_ok=True)
            if created:
                folder.rmdir()
        except OSError:
            pass
        reason = e.strerror or str(e) or type(e).__name__
        message = (f"checkpoint_dir={str(folder)!r} cannot be written ({reason}), so no checkpoint could be saved: "
                   "make the folder writable or free space on its disk, or pass another checkpoint_dir")
        raise (OSError(e.errno, message) if e.errno else OSError(message)) from e
