"""Safe, verified, resumable extraction of zip members into a destination folder.

Every member name of an archive is checked before anything is written: absolute paths,
`..` components, drive letters, backslashes and symlinks are refused (zip-slip), so a
hostile archive writes nothing at all. Each member is CRC-checked as it is inflated
(:func:`vitocc.data.fetch.remote_zip.member_data`) and written atomically, so an interrupted
extraction leaves only complete files; a rerun keeps the files whose size and CRC match and
rewrites the others. After extraction the data set is made usable as is: `metadata.yaml`
if the archive lacks it, and split lists shortened to the models of a subset.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from vitocc.data import layout
from vitocc.data.fetch.download import CHUNK_BYTES, Progress
from vitocc.data.fetch.remote_zip import RangeReader, ZipMember, iter_members
from vitocc.errors import UserError
from vitocc.io import atomic_path

log = logging.getLogger(__name__)


@dataclass
class ExtractStats:
    """What one extraction did."""

    files_written: int = 0
    files_kept: int = 0  # already complete on disk
    bytes_written: int = 0


def check_member_names(members: Iterable[ZipMember]) -> None:
    """UserError naming the first member that could write outside the destination.

    Refused: absolute paths (`/x`, `C:x`, `\\\\x`), `..` components, backslashes (a
    Windows separator that could hide `..`), empty names and symbolic links.
    """
    for m in members:
        path = PurePosixPath(m.name)
        reason = (
            "is an absolute path" if m.name.startswith(("/", "\\")) or path.is_absolute()
            else "has a drive letter" if len(m.name) > 1 and m.name[1] == ":"
            else "contains '..'" if ".." in path.parts
            else "contains a backslash" if "\\" in m.name
            else "is empty" if not m.name.strip("/")
            else "is a symbolic link" if m.is_symlink
            else None
        )
        if reason:
            raise UserError(f"unsafe archive: member '{m.name}' {reason}; nothing was extracted",
                            "the archive may be hostile; get it from a trusted source")


def target_path(dest: Path, member: ZipMember) -> Path:
    """Where `member` goes under `dest` (names already passed :func:`check_member_names`)."""
    return dest.joinpath(*PurePosixPath(member.name).parts)


def is_complete(path: Path, member: ZipMember) -> bool:
    """True if `path` holds exactly the member's content (size, then CRC-32)."""
    if not path.is_file() or path.stat().st_size != member.file_size:
        return False
    crc = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            crc = zlib.crc32(chunk, crc)
    return crc == member.crc


def pending_members(members: Iterable[ZipMember], dest: Path) -> list[ZipMember]:
    """Members not yet on disk with the right size (a cheap stat; CRC comes in extraction)."""
    return [m for m in members if not m.is_dir
            and not ((p := target_path(dest, m)).is_file() and p.stat().st_size == m.file_size)]


def extract_members(reader: RangeReader, members: list[ZipMember], dest: str | Path,
                    progress: Progress | None = None, merge_gap: int = 1 << 20) -> ExtractStats:
    """Write `members` under `dest`, reading only those not already complete on disk.

    Names must have passed :func:`check_member_names`. Returns what was written and kept.
    """
    dest, progress, stats = Path(dest), progress or Progress(), ExtractStats()
    files = [m for m in members if not m.is_dir]
    progress.members_started(len(files))
    todo = []
    for m in files:
        if is_complete(target_path(dest, m), m):
            stats.files_kept += 1
            progress.member_done()
        else:
            todo.append(m)
    for m, data in iter_members(reader, todo, merge_gap):
        with atomic_path(target_path(dest, m), fsync=False) as tmp:  # a rerun re-checks every CRC
            tmp.write_bytes(data)
        stats.files_written += 1
        stats.bytes_written += len(data)
        progress.member_done()
    return stats


def write_split_subsets(root: Path, splits: dict[str, dict[str, list[str]]],
                        originals: dict[str, dict[str, list[str]]]) -> None:
    """train/val/test.lst of each class, naming only the models of a subset.

    A class whose lists on disk are the archive's own (`originals`: a whole class was
    extracted before) keeps them: a subset never shortens a complete class.
    """
    for synset, lists in splits.items():
        folder = root / synset
        on_disk = {s: _read_list(folder / f"{s}.lst") for s in lists}
        if on_disk == {s: originals[synset].get(s, []) for s in lists} and any(on_disk.values()):
            log.warning("%s already holds the whole class: keeping its split lists", folder)
            continue
        layout.write_split_lists(folder, lists)


def _read_list(path: Path) -> list[str]:
    return [x.strip() for x in path.read_text().splitlines() if x.strip()] if path.is_file() else []


def write_metadata_if_needed(root: Path, classes: dict[str, str]) -> None:
    """metadata.yaml naming exactly the class folders present, written when missing or different.

    `classes` maps synset -> name (the archive's metadata.yaml, else the 13 ShapeNet classes
    fill in). After a subset the file names only the classes on disk, so readers that iterate
    it find every class folder; a later, larger run extends it.
    """
    present = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if (root / layout.METADATA_FILE).is_file() and sorted(layout.read_metadata(root)) == present:
        return
    layout.write_metadata(root, {s: classes.get(s, layout.SHAPENET_CLASSES.get(s, s)) for s in present})
