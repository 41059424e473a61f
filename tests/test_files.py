"""atomic_write: the one way gan_utils writes a file (checkpoints, figures, GIFs, models, sample files)."""

import os

import pytest

from gan_utils.files import atomic_write, temporary_path


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
