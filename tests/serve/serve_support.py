"""What the serve tests share besides fixtures: the settings they use, the upload limit, the CLI's messages.

Import as `from serve_support import ...` (pytest puts this folder on sys.path).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Small MISE settings keep each reconstruction near a second on 2 busy cores; the page sets the same.
FAST = {"threshold": "0.4", "resolution": "16", "upsampling": "1"}
MAX_UPLOAD_BYTES = 3_000_000


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims width x height pixels in a few bytes (a decompression bomb)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b"")


def cli_error(capsys, monkeypatch, picture: Path, *options: str) -> str:
    """The one-line message `vitocc reconstruct NAME` prints for `picture`, run in its folder (so it names
    the file as the page does), without 'error: '."""
    from vitocc.cli import main

    monkeypatch.chdir(picture.parent)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        main(["reconstruct", picture.name, "-o", "out.obj", *options])
    assert exit_info.value.code == 2
    first = capsys.readouterr().err.splitlines()[0]
    assert first.startswith("error: ")
    return first[len("error: "):]
