"""atomic_write: the one way gan_utils writes a file (checkpoints, figures, GIFs, models, sample files)."""

import os

import pytest

from gan_utils.files import atomic_write, pid_alive, stale_temporaries, temporary_path


def test_writes_through_a_temporary_file_with_the_same_suffix(tmp_path):
    seen = []

    def write(tmp):
        seen.append(tmp)
        tmp.write_text("new")

    path = atomic_write(tmp_path / "sub" / "figure.png", write)  # the folder is created
    assert path.read_text() == "new"
    assert seen[0].parent == path.parent and seen[0].suffix == ".png" and seen[0].name.startswith(".figure.tmp-")
    assert seen[0] == temporary_path(path) and str(os.getpid()) in seen[0].name
    assert sorted(p.name for p in path.parent.iterdir()) == ["figure.png"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "ckpt.npz"
    path.write_text("old")

    def half_then_fail(tmp):
        tmp.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half_then_fail, durable=True)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt.npz"]


def _dead_pid():
    """A pid no process can have: above the system's largest pid."""
    try:
        with open("/proc/sys/kernel/pid_max") as f:
            return int(f.read()) + 1
    except OSError:
        return 2**22 + 1  # above Linux's largest pid_max


@pytest.mark.skipif(os.name == "nt", reason="whether a pid runs is not checked on Windows: temporaries are kept")
def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    path = tmp_path / "samples.npz"
    dead = tmp_path / f".samples.tmp-{_dead_pid()}.npz"  # a killed writer's leftover
    dead.write_bytes(b"half a file")
    live = tmp_path / f".samples.tmp-{os.getppid()}.npz"  # a writer that still runs: left alone
    live.write_bytes(b"being written")
    other = tmp_path / f".other.tmp-{_dead_pid()}.npz"  # another target's temporary: not ours to judge
    other.write_bytes(b"x")
    assert stale_temporaries(path) == [dead]
    atomic_write(path, lambda tmp: tmp.write_text("new"))
    assert path.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["samples.npz", live.name, other.name])


def test_pid_alive():
    assert pid_alive(os.getpid()) and not pid_alive(0)
    if os.name != "nt":
        assert not pid_alive(_dead_pid())
