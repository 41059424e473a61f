"""Atomic file writes: a file is either the old one or the whole new one, never half of one."""

from __future__ import annotations

import os
import re
from pathlib import Path


def temporary_path(path) -> Path:
    """The temporary name ``atomic_write`` writes ``path`` under first (same folder, same suffix, this process)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


def pid_alive(pid) -> bool:
    """True if a process ``pid`` exists (or might: where this cannot be told, e.g. on Windows, the answer is True)."""
    pid = int(pid)
    if pid <= 0:
        return False
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there; never remove what may be in use
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:
        return True
    return True


def stale_temporaries(path) -> list:
    """Temporary files of ``path`` (``.stem.tmp-<pid>.suffix``, same folder) left by processes that no longer run.

    A write that is killed (SIGKILL, a power cut, a closed notebook kernel) cannot remove its temporary
    file; the pid in its name tells whether its writer is gone. Files of live processes (and of this one) are
    never listed.
    """
    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.stem)}\.tmp-(\d+){re.escape(path.suffix)}$")
    try:
        entries = list(os.scandir(path.parent))
    except OSError:  # the folder does not exist (yet) or cannot be listed
        return []
    found = []
    for entry in entries:
        match = pattern.match(entry.name)
        if match and not pid_alive(match.group(1)) and entry.is_file(follow_symlinks=False):
            found.append(path.parent / entry.name)
    return sorted(found)


def atomic_write(path, write, *, durable=False) -> Path:
    """Write ``path`` atomically: ``write(temporary_path)`` writes the file, which is then renamed over ``path``.

    The temporary file lies in the same folder and keeps ``path``'s suffix (Keras and matplotlib look at it);
    ``os.replace`` is atomic on POSIX and Windows. If ``write`` raises, the temporary file is removed and
    ``path`` is left as it was. ``durable=True`` also flushes the file and the folder to disk (``fsync``), so
    the rename survives a power cut. The folder is created if needed. Returns ``path``.

    Temporary files of the same target left by killed processes (``.stem.tmp-<pid>.suffix`` whose pid no
    longer runs, see ``stale_temporaries``) are removed first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in stale_temporaries(path):
        try:
            stale.unlink(missing_ok=True)
        except OSError:  # e.g. a read-only folder: the write below reports the real problem
            pass
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
