"""`vitocc serve`: a local web page that turns a dropped picture into a mesh (see docs/serve.md)."""

from __future__ import annotations

from pathlib import Path

import typer

from vitocc.cli.common import console, err_console, gpu_option
from vitocc.errors import ctrl_c_seen

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def serve(
    host: str = typer.Option("127.0.0.1", "--host",
                             help="Address to listen on (0.0.0.0: every network; anyone there can use it)."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, help="Port to listen on (0: a free one)."),
    checkpoint: Path | None = typer.Option(None, "--checkpoint", "-c",
                                             help="Checkpoint .pt, run directory or .safetensors.",
                                             show_default="the model shipped in the package"),
    max_upload_mb: float = typer.Option(20.0, "--max-upload-mb", help="Largest picture file the page takes, in MB."),
    gpu: int | None = gpu_option(),
) -> None:
    """Serve a page: drop a picture, turn the mesh in 3D, download it as GLB, OBJ or PLY.

    The model loads once and serves every request; meshes are the ones `vitocc reconstruct` makes with the same settings.
    Ctrl+C stops the server.
    """
    from vitocc.devices import resolve_device
    from vitocc.errors import UserError
    from vitocc.models import load_model
    from vitocc.serve import Reconstructor, make_server

    if max_upload_mb <= 0:
        raise UserError(f"--max-upload-mb must be positive, got {max_upload_mb}")
    device = resolve_device(gpu)
    model, cfg = load_model(checkpoint, device)
    server = make_server(Reconstructor(model, cfg, device, max_upload_bytes=int(max_upload_mb * 1e6)), host, port)
    if host not in LOOPBACK:
        err_console.print(f"[yellow]warning:[/yellow] listening on {host}: anyone who can reach this machine "
                          "can use the page", highlight=False, soft_wrap=True)
    console.print(f"vitocc serve: {server.url} (Ctrl+C stops)", highlight=False, soft_wrap=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        ctrl_c_seen.clear()  # the server's normal stop, not an interrupted command
        console.print("stopped", highlight=False)
    finally:
        server.server_close()
