"""What the serve tests share besides fixtures: the settings they use, the upload limit, the CLI's messages.

Import as `from serve_support import ...` (pytest puts this folder on sys.path).
"""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
# Small MISE settings keep each reconstruction near a second on 2 busy cores; the page sets the same.
FAST = {"threshold": "0.4", "resolution": "16", "upsampling": "1"}
MAX_UPLOAD_BYTES = 3_000_000


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
