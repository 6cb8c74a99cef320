"""Atomic writes: the destination holds the old or the new content, never a partial one."""

import numpy as np
import pytest

from vitocc.io import atomic_path, write_json, write_text


def test_failed_write_keeps_the_old_file(tmp_path):
    target = tmp_path / "result.txt"
    write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["result.txt"]


def test_numpy_writer_keeps_the_name(tmp_path):
    target = tmp_path / "points.npz"
    with atomic_path(target) as tmp:
        np.savez(tmp, a=np.arange(3))
    assert np.load(target)["a"].tolist() == [0, 1, 2]
    assert len(list(tmp_path.iterdir())) == 1


def test_write_json_creates_folders(tmp_path):
    write_json(tmp_path / "a" / "b.json", {"x": 1})
    assert (tmp_path / "a" / "b.json").read_text().strip().startswith("{")


def test_written_files_get_the_usual_mode(tmp_path):
    import os
    umask = os.umask(0)
    os.umask(umask)
    write_text(tmp_path / "a.txt", "x")
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_killed_writer_s_temporary_file_is_removed_by_the_next_write(tmp_path):
    from vitocc.io import write_text

    stale = tmp_path / ".last.pt.abc123.tmp.pt"  # what SIGKILL during a checkpoint write leaves
    stale.write_bytes(b"half")
    other = tmp_path / ".best.pt.abc123.tmp.pt"
    other.write_bytes(b"another file's")
    write_text(tmp_path / "last.pt", "new")
    assert not stale.exists() and other.exists() and (tmp_path / "last.pt").read_text() == "new"
