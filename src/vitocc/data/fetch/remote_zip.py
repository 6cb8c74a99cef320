"""Read parts of a zip archive that may sit on a web server, through byte-range reads.

The central directory at the end of a zip lists every member with its offset, sizes and
CRC, so a client that can read byte ranges needs only that directory plus the ranges of
the members it wants, not the whole archive. This module parses the directory (end record,
ZIP64 locator and record, ZIP64 extra fields: the ShapeNet archive is 73 GB), chooses the
members of the requested classes and models, reads their ranges with neighbouring ranges
merged into few requests, and inflates and CRC-checks each member. The archive is reached
through a :class:`RangeReader`: a local file or :class:`HttpRangeReader`.
"""

from __future__ import annotations

import os
import stat
import struct
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import requests

from vitocc.data.fetch import download
from vitocc.data.layout import SHAPENET_CLASSES, SPLITS
from vitocc.errors import UserError

_EOCD = struct.Struct("<4s4H2LH")  # signature, disk, cd disk, entries here, entries, cd size, cd offset, comment
_LOCATOR = struct.Struct("<4sLQL")  # signature, disk of the ZIP64 record, its offset, disks
_EOCD64 = struct.Struct("<4sQ2H2L4Q")  # signature, size, versions, disks, entries here, entries, cd size, cd offset
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")  # one central directory entry, 46 bytes
_LOCAL = struct.Struct("<4s2B4HL2L2H")  # local file header, 30 bytes
_SIG_EOCD, _SIG_LOCATOR, _SIG_EOCD64 = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"
_SIG_CENTRAL, _SIG_LOCAL = b"PK\x01\x02", b"PK\x03\x04"
_SATURATED = 0xFFFFFFFF
_MAX_COMMENT = 0xFFFF
_TAIL_GUESS = 1 << 13  # first tail read: the end records (and a small directory)
STORED, DEFLATED = 0, 8


class RangeReader(Protocol):
    """Random access to the bytes of an archive."""

    size: int

    def read(self, start: int, end: int) -> bytes:
        """Bytes [start, end)."""

    def stream(self, start: int, end: int) -> Iterator[bytes]:
        """Bytes [start, end) in chunks, for long ranges."""


class LocalFileReader:
    """A zip on disk (a finished download, or `--url file://...`)."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        if not self.path.is_file():
            raise UserError(f"no such file: {self.path}", "check --url")
        self.size = self.path.stat().st_size
        self.bytes_fetched = 0  # nothing crosses a network

    def read(self, start: int, end: int) -> bytes:
        return b"".join(self.stream(start, end))

    def stream(self, start: int, end: int) -> Iterator[bytes]:
        with open(self.path, "rb") as f:
            f.seek(start)
            while start < end:
                chunk = f.read(min(download.CHUNK_BYTES, end - start))
                if not chunk:
                    raise UserError(f"{self.path} ends at byte {start}, expected {end}", "the zip is truncated")
                start += len(chunk)
                yield chunk


class HttpRangeReader:
    """A zip on a web server, read with Range requests (retries and resume inside each range)."""

    def __init__(self, session: requests.Session, remote: download.RemoteFile, retry: download.RetryPolicy,
                 progress: download.Progress):
        self.session, self.remote, self.retry, self.progress = session, remote, retry, progress
        self.size = remote.size
        self.bytes_fetched = 0

    def read(self, start: int, end: int) -> bytes:
        return b"".join(self.stream(start, end))

    def stream(self, start: int, end: int) -> Iterator[bytes]:
        self.progress.bytes_expected(end - start)
        for chunk in download.stream_range(self.session, self.remote, start, end, self.retry):
            self.bytes_fetched += len(chunk)
            self.progress.bytes_advanced(len(chunk))
            yield chunk


@dataclass(frozen=True, slots=True)
class ZipMember:
    """One central directory entry. [offset, end) spans its local header, data and descriptor."""

    name: str
    offset: int
    end: int
    compressed_size: int
    file_size: int
    crc: int
    method: int
    flags: int
    mode: int  # unix st_mode from the external attributes; 0 for archives made on DOS/Windows

    @property
    def is_dir(self) -> bool:
        return self.name.endswith("/")

    @property
    def is_symlink(self) -> bool:
        return stat.S_ISLNK(self.mode)


def read_central_directory(reader: RangeReader) -> list[ZipMember]:
    """All members of the zip behind `reader`, in directory order.

    Costs one small read of the tail (a wider one if the archive has a long comment), plus one
    for the ZIP64 record and one for the directory where the tail does not already hold them.
    """
    tail = _Tail(reader, _TAIL_GUESS)
    at = _find_eocd(tail.data)
    if at is None:
        tail = _Tail(reader, _EOCD.size + _MAX_COMMENT + _LOCATOR.size)
        at = _find_eocd(tail.data)
    if at is None:
        raise UserError("not a zip archive (no end-of-central-directory record)", "check --url")
    _, disk, cd_disk, _, count, cd_size, cd_offset, _ = _EOCD.unpack_from(tail.data, at)
    locator = at - _LOCATOR.size
    if locator >= 0 and tail.data[locator: locator + 4] == _SIG_LOCATOR:
        _, _, record_offset, disks = _LOCATOR.unpack_from(tail.data, locator)
        record = tail.read(record_offset, record_offset + _EOCD64.size)
        sig, _, _, _, disk, cd_disk, _, count, cd_size, cd_offset = _EOCD64.unpack_from(record)
        if sig != _SIG_EOCD64:
            raise UserError(f"broken zip: no ZIP64 end record at byte {record_offset}", "the archive is corrupt")
        disk = max(disk, disks - 1)
    elif _SATURATED in (cd_size, cd_offset) or count == 0xFFFF:
        raise UserError("broken zip: ZIP64 sizes without a ZIP64 locator", "the archive is corrupt")
    if disk or cd_disk:
        raise UserError("multi-part (spanned) zip archives are not supported", "join the parts first")
    if cd_offset + cd_size > reader.size:
        raise UserError("broken zip: the central directory lies past the end of the file",
                        "the archive is truncated; download it again")
    return _parse_entries(tail.read(cd_offset, cd_offset + cd_size), count, cd_offset)


class _Tail:
    """The last `n` bytes of the archive, serving reads inside them without a request."""

    def __init__(self, reader: RangeReader, n: int):
        self.reader, self.start = reader, max(0, reader.size - n)
        self.data = reader.read(self.start, reader.size)

    def read(self, start: int, end: int) -> bytes:
        if start >= self.start:
            return self.data[start - self.start: end - self.start]
        return self.reader.read(start, end)


def _find_eocd(tail: bytes) -> int | None:
    """Offset in `tail` of the end-of-central-directory record whose comment ends the file."""
    at = len(tail)
    while (at := tail.rfind(_SIG_EOCD, 0, at)) >= 0:
        if at + _EOCD.size <= len(tail) and at + _EOCD.size + _EOCD.unpack_from(tail, at)[-1] == len(tail):
            return at
    return None


def _parse_entries(directory: bytes, count: int, cd_offset: int) -> list[ZipMember]:
    """`count` central directory entries; each member's span ends where the next one starts."""
    rows = []
    pos = 0
    for _ in range(count):
        if directory[pos: pos + 4] != _SIG_CENTRAL:
            raise UserError(f"broken zip: bad central directory entry at byte {cd_offset + pos}",
                            "the archive is corrupt")
        (_, _, _, _, _, flags, method, _, _, crc, csize, usize, name_len, extra_len, comment_len,
         disk, _, external, offset) = _CENTRAL.unpack_from(directory, pos)
        name_bytes = directory[pos + _CENTRAL.size: pos + _CENTRAL.size + name_len]
        extra = directory[pos + _CENTRAL.size + name_len: pos + _CENTRAL.size + name_len + extra_len]
        if _SATURATED in (usize, csize, offset) or disk == 0xFFFF:
            usize, csize, offset = _zip64_extra(extra, usize, csize, offset)
        name = name_bytes.decode("utf-8" if flags & 0x800 else "cp437")
        rows.append((name, offset, csize, usize, crc, method, flags, external >> 16))
        pos += _CENTRAL.size + name_len + extra_len + comment_len
    offsets = sorted(r[1] for r in rows)
    ends = dict(zip(offsets, offsets[1:] + [cd_offset]))
    return [ZipMember(name, offset, ends[offset], csize, usize, crc, method, flags, mode)
            for name, offset, csize, usize, crc, method, flags, mode in rows]


def _zip64_extra(extra: bytes, usize: int, csize: int, offset: int) -> tuple[int, int, int]:
    """Replace the saturated 32-bit fields by the 64-bit values of the ZIP64 extra field (id 1)."""
    pos = 0
    while pos + 4 <= len(extra):
        field_id, size = struct.unpack_from("<2H", extra, pos)
        if field_id == 1:
            values = iter(struct.unpack_from(f"<{size // 8}Q", extra, pos + 4))
            try:
                usize = next(values) if usize == _SATURATED else usize
                csize = next(values) if csize == _SATURATED else csize
                offset = next(values) if offset == _SATURATED else offset
            except StopIteration:
                break
            return usize, csize, offset
        pos += 4 + size
    raise UserError("broken zip: a ZIP64 entry lacks its ZIP64 extra field", "the archive is corrupt")


def member_data(member: ZipMember, raw: bytes) -> bytes:
    """The content of `member` from `raw` = archive bytes [member.offset, member.end); CRC-checked."""
    sig, _, _, _, _, _, _, _, _, _, name_len, extra_len = _LOCAL.unpack_from(raw)
    if sig != _SIG_LOCAL:
        raise UserError(f"{member.name}: no local header at byte {member.offset}", "the archive is corrupt")
    if member.flags & 0x1:
        raise UserError(f"{member.name} is encrypted", "vitocc reads unencrypted archives only")
    start = _LOCAL.size + name_len + extra_len
    packed = raw[start: start + member.compressed_size]
    if member.method == STORED:
        data = packed
    elif member.method == DEFLATED:
        try:
            data = zlib.decompress(packed, -15)
        except zlib.error as exc:
            raise UserError(f"{member.name}: corrupt compressed data ({exc})",
                            "the archive is damaged; download it again") from None
    else:
        raise UserError(f"{member.name}: unsupported compression method {member.method}",
                        "vitocc reads stored and deflated members")
    crc = zlib.crc32(data)
    if len(data) != member.file_size or crc != member.crc:
        raise UserError(f"{member.name}: CRC check failed (expected {member.crc:08x}, got {crc:08x}, "
                        f"{len(data)} of {member.file_size} bytes)", "the archive is damaged; download it again")
    return data


@dataclass(frozen=True)
class Span:
    """One read covering the members it lists (and the gaps between them)."""

    start: int
    end: int
    members: tuple[ZipMember, ...]


def plan_spans(members: Iterable[ZipMember], merge_gap: int) -> list[Span]:
    """Group members into reads: neighbours less than `merge_gap` bytes apart share one request."""
    spans: list[Span] = []
    for m in sorted(members, key=lambda m: m.offset):
        if spans and m.offset - spans[-1].end <= merge_gap:
            last = spans[-1]
            spans[-1] = Span(last.start, max(last.end, m.end), last.members + (m,))
        else:
            spans.append(Span(m.offset, m.end, (m,)))
    return spans


def iter_members(reader: RangeReader, members: Iterable[ZipMember],
                 merge_gap: int = 1 << 20) -> Iterator[tuple[ZipMember, bytes]]:
    """(member, content) for each member, in archive order, read in few merged ranges."""
    for span in plan_spans(members, merge_gap):
        chunks = reader.stream(span.start, span.end)
        buffer, buffer_start = bytearray(), span.start
        for m in span.members:
            while buffer_start + len(buffer) < m.end:
                buffer += next(chunks)
            raw = bytes(buffer[m.offset - buffer_start: m.end - buffer_start])
            del buffer[: m.end - buffer_start]
            buffer_start = m.end
            yield m, member_data(m, raw)
        chunks.close()


# -- choosing members ---------------------------------------------------------------------


def archive_classes(members: Iterable[ZipMember], root: str) -> dict[str, list[ZipMember]]:
    """Class folder (synset) -> its files, for files under `root/<synset>/`."""
    classes: dict[str, list[ZipMember]] = {}
    for m in members:
        parts = m.name.split("/")
        if len(parts) >= 3 and parts[0] == root and not m.is_dir:
            classes.setdefault(parts[1], []).append(m)
    return classes


def resolve_categories(tokens: list[str], available: Iterable[str]) -> list[str]:
    """Class names or synset ids (`chair`, `03001627`) -> synsets present in the archive.

    An empty list means every class of the archive. Every unknown token is named in one error.
    """
    available = sorted(available)
    if not tokens:
        return available
    by_name = {name: synset for synset, name in SHAPENET_CLASSES.items()}
    found = {t: t if t in SHAPENET_CLASSES or t in available else by_name.get(t.lower()) for t in tokens}
    unknown = [t for t, synset in found.items() if synset is None]
    if unknown:
        known = ", ".join(f"{n} ({s})" for s, n in SHAPENET_CLASSES.items())
        raise UserError(f"unknown categor{'ies' if len(unknown) > 1 else 'y'} {', '.join(map(repr, unknown))}",
                        f"use class names or synset ids: {known}")
    missing = [f"'{t}' ({s})" for t, s in found.items() if s not in available]
    if missing:
        raise UserError(f"not in the archive: {', '.join(missing)}", f"it has: {', '.join(available) or 'no class folders'}")
    return list(dict.fromkeys(found.values()))


def split_list_members(classes: dict[str, list[ZipMember]], root: str, synset: str) -> list[ZipMember]:
    """The train/val/test .lst members of a class folder."""
    names = {f"{root}/{synset}/{split}.lst" for split in SPLITS}
    return [m for m in classes[synset] if m.name in names]


def choose_models(splits: dict[str, list[str]], n: int) -> dict[str, list[str]]:
    """At most `n` models, spread over the splits in proportion to their sizes.

    Every non-empty split gets one model first (if `n` allows), so a subset can still be
    validated and tested; within a split the list's own order is kept (the first models).
    """
    sizes = {s: len(splits.get(s, [])) for s in SPLITS}
    total = sum(sizes.values())
    quota = {s: 0 for s in SPLITS}
    for s in [s for s in SPLITS if sizes[s]][:n]:
        quota[s] = 1
    while sum(quota.values()) < min(n, total):
        s = max((s for s in SPLITS if quota[s] < sizes[s]), key=lambda s: sizes[s] * n / total - quota[s])
        quota[s] += 1
    return {s: splits.get(s, [])[: quota[s]] for s in SPLITS}


def model_members(class_members: list[ZipMember], models: set[str] | None) -> list[ZipMember]:
    """Files of a class folder `root/<synset>/`: those inside the given model folders, or all when None.

    With a model set, the class's own split lists are left out (the caller writes shortened ones).
    """
    if models is None:
        return list(class_members)
    return [m for m in class_members if m.name.count("/") >= 3 and m.name.split("/")[2] in models]
