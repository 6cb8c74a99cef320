"""A real `vitocc serve` server on 127.0.0.1 (a free port) with the shipped model, and the files the tests upload."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import torch
from PIL import Image
from serve_support import MAX_UPLOAD_BYTES

from hostile_inputs import png_header
from vitocc.serve import Reconstructor, make_server


@pytest.fixture(scope="session")
def shipped_model():
    """The model shipped in the package, loaded once: (model, cfg)."""
    from vitocc.models import load_model

    torch.set_num_threads(2)
    return load_model(None, "cpu")


@pytest.fixture(scope="session")
def server(shipped_model):
    """The server, serving in a thread; `server.url` is the page."""
    model, cfg = shipped_model
    server = make_server(Reconstructor(model, cfg, "cpu", max_upload_bytes=MAX_UPLOAD_BYTES), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(10)


@pytest.fixture(scope="session")
def bad_pictures(tmp_path_factory) -> dict[str, Path]:
    """Files the CLI refuses, by what is wrong with them."""
    root = tmp_path_factory.mktemp("bad")
    (root / "notes.png").write_text("not a picture\n")
    (root / "empty.jpg").write_bytes(b"")
    Image.new("RGB", (200, 200), (255, 255, 255)).save(root / "blank.png")
    (root / "bomb.png").write_bytes(png_header(30000, 30000))
    (root / "huge.jpg").write_bytes(b"\xff\xd8" + bytes(MAX_UPLOAD_BYTES))  # over the server's upload limit
    return {p.stem: p for p in root.iterdir()}
