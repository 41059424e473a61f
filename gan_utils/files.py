"""Atomic file writes: a file is either the old one or the whole new one, never half of one."""

from __future__ import annotations

import os
from pathlib import Path


def temporary_path(path) -> Path:
    """The temporary name ``atomic_write`` writes ``path`` under first (same folder, same suffix, this process)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


def atomic_write(path, write, *, durable=False) -> Path:
    """Write ``path`` atomically: ``write(temporary_path)`` writes the file, which is then renamed over ``path``.

    The temporary file lies in the same folder and keeps ``path``'s suffix (Keras and matplotlib look at it);
    ``os.replace`` is atomic on POSIX and Windows. If ``write`` raises, the temporary file is removed and
    ``path`` is left as it was. ``durable=True`` also flushes the file and the folder to disk (``fsync``), so
    the rename survives a power cut. The folder is created if needed. Returns ``path``.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temporary_path(path)
    try:
        write(tmp)
        if durable:
            _fsync(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    if durable:
        _fsync(path.parent)
    return path


def _fsync(path):
    """fsync a file or a folder; a no-op where the system cannot open or sync it (folders on Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

