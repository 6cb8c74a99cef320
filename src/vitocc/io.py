"""Atomic file writing: results, configs and checkpoints are never left half-written.

Everything that writes a file the user keeps goes through :func:`atomic_path`: the
content is written to a temporary file in the same folder, flushed, and renamed over
the destination, so an interrupted run leaves either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


def _default_file_mode() -> int:
    """0666 minus the process umask: the mode `open()` would give a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


_FILE_MODE = _default_file_mode()


class WriteError(OSError):
    """A file the user asked for could not be written; `filename` is that file (never a temporary name)."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None, fsync: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it onto `path` if the block succeeds.

    `suffix` defaults to the destination's suffix. Temporary files start with "." and
    contain ".tmp", so a crash leaves nothing that looks like a result, and the next write of
    the same destination removes what a killed process left. `fsync=False` skips
    the flush to disk (3x faster for small files) where a rerun re-verifies content anyway
    (zip extraction checks every file's CRC). An OSError on the way (disk full, no permission)
    becomes a WriteError naming `path`.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # A process killed outright (SIGKILL, power loss) leaves its temporary file behind; the next
        # write of the same destination removes it (vitocc never writes one file from two processes).
        for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp*"):
            stale.unlink(missing_ok=True)
        # The temporary name ends with the real suffix (".tmp.npz"), because numpy appends
        # ".npz" to names that lack it and trimesh/PIL infer the format from it.
        ext = path.suffix if suffix is None else suffix
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{ext}", dir=path.parent)
    except OSError as exc:
        raise WriteError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        if fsync:
            with open(tmp_path, "rb+") as f:
                os.fsync(f.fileno())
        os.chmod(tmp_path, _FILE_MODE)  # mkstemp makes 0600; results get the usual mode
        os.replace(tmp_path, path)
    except OSError as exc:
        if isinstance(exc, WriteError):  # a nested atomic write named its own file already
            raise
        raise WriteError(exc.errno, exc.strerror or str(exc), str(path)) from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Atomically write `data` to `path`."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write UTF-8 `text` to `path`."""
    write_bytes(path, text.encode("utf-8"))


def write_json(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write `obj` as indented JSON."""
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def check_outputs(outputs: Iterable[str | os.PathLike], inputs: Iterable[str | os.PathLike] = (),
                  overwrite: bool = False) -> None:
    """Refuse, before any work, outputs that would lose data or fail at the end: one that is an
    input, a folder, an existing file (unless `overwrite`), two outputs on one path, or a place
    that cannot be written. Raises UserError with one line naming the path."""
    from vitocc.errors import UserError

    taken = {Path(p).resolve() for p in inputs}
    seen: set[Path] = set()
    for out in outputs:
        path = Path(out)
        real = path.resolve()
        if real in taken:
            raise UserError(f"{path} is an input: it would be overwritten", "choose another output name")
        if real in seen:
            raise UserError(f"two outputs would be written to {path}", "give the inputs distinct names")
        seen.add(real)
        if path.is_dir():
            raise UserError(f"{path} is a folder, not a file")
        if path.exists() and not overwrite:
            raise UserError(f"{path} exists", "pass --overwrite to replace it, or choose another name")
        parent = next(p for p in path.parents if p.exists())  # as the user wrote it (the last one, . or /, exists)
        if not parent.is_dir():
            raise UserError(f"cannot write {path}: {parent} is a file, not a folder")
        if not os.access(parent, os.W_OK | os.X_OK):
            raise UserError(f"cannot write {path}: permission denied")
