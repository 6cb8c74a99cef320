"""The HTTP side of `vitocc serve`: the page, one upload endpoint, the results and their files.

Why the standard library's `http.server.ThreadingHTTPServer` and not a framework: the page
is for one person on their own machine (bound to 127.0.0.1 by default), it serves a handful
of routes, and the upload is the raw file as the request body (no multipart form to parse).
A thread per request keeps the page, the pictures and the downloads answering while a
reconstruction runs; the reconstructions themselves queue on one lock, since they share one
model and the CPU. No dependency is added, and the module is kept by CPython itself.

Routes (all answers to /api/* that fail are JSON `{"error": message}`):
    GET  /                               the page (static/index.html)
    GET  /static/NAME                    the page's own script and style sheet
    GET  /api/settings                   default settings, upload limit, download formats
    POST /api/reconstruct?name=&threshold=&resolution=&upsampling=&crop=&colour=&cut_background=
                          [&mask_name=&mask_size=]
                                         body: the picture file, then the mask file if any (its last
                                         mask_size bytes); answer: a result (JSON)
    GET  /api/results/ID/picture.png     the square picture the model saw
    GET  /api/results/ID/view            the 3D viewer of the mesh (trimesh's three.js page)
    GET  /api/results/ID/mesh.glb|obj|ply  the mesh, as `vitocc reconstruct` writes it
"""

from __future__ import annotations

import io
import json
import logging
import re
import tempfile
import threading
import uuid
from collections import OrderedDict
from dataclasses import asdict, dataclass, field, replace
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from vitocc.errors import UserError

MAX_UPLOAD_BYTES = 20_000_000  # a 20 MB photo; pictures are reduced to 2048 px before anything else anyway
DOWNLOAD_FORMATS = (".glb", ".obj", ".ply")
KEEP_RESULTS = 16  # the last results stay downloadable; older ones are forgotten (memory)
STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".css": "text/css; charset=utf-8", ".png": "image/png", ".svg": "image/svg+xml"}
MESH_TYPES = {".glb": "model/gltf-binary", ".obj": "model/obj", ".ply": "application/octet-stream"}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    """What the page lets a user choose: the CLI options of the same names."""

    threshold: float  # --threshold: occupancy probability of the surface
    resolution: int  # --resolution: MISE initial resolution
    upsampling: int  # --upsampling: MISE upsampling steps
    crop: bool = True  # not --no-crop: crop around the object
    colour: bool = True  # not --no-colour: vertex colours from the picture
    cut_background: bool = True  # not --keep-background: cut out a background that is not plain


@dataclass
class Result:
    """One reconstruction, kept for its downloads."""

    id: str
    name: str  # the uploaded file's name
    settings: Settings
    mesh: Any  # vitocc.mesh.Mesh
    info: Any  # vitocc.generation.MeshInfo; info.picture is the square PIL picture the model saw
    mask_name: str | None = None  # the uploaded mask's name (--mask), if one was given
    warnings: list[str] = field(default_factory=list)  # what the CLI would log as warnings for this picture
    files: dict[str, bytes] = field(default_factory=dict, repr=False)  # suffix -> bytes, made on first download

    def summary(self) -> dict:
        """The JSON the page receives."""
        base = f"/api/results/{self.id}"
        info = self.info
        return {
            "id": self.id, "name": self.name, "settings": asdict(self.settings), "mask": self.mask_name,
            "warnings": self.warnings,
            "seconds": round(info.seconds, 3), "vertices": info.vertices, "faces": info.faces,
            "watertight": bool(info.watertight), "picture": f"{base}/picture.png",
            "view": f"{base}/view" if info.faces else None,
            "downloads": {s[1:]: f"{base}/mesh{s}" for s in DOWNLOAD_FORMATS} if info.faces else {},
        }


class Reconstructor:
    """One loaded model shared by every request; reconstructions run one at a time.

    `model`, `cfg`: as `vitocc.models.load_model` returns them; `cfg.generation` gives the
    default settings and everything the page does not set (batching, precision, padding).
    """

    def __init__(self, model, cfg, device="cpu", max_upload_bytes: int = MAX_UPLOAD_BYTES,
                 keep: int = KEEP_RESULTS):
        self.model, self.cfg, self.device = model, cfg, device
        self.max_upload_bytes = max_upload_bytes
        self.keep = keep
        self._lock = threading.Lock()  # one reconstruction at a time: one model, one CPU
        self._results: OrderedDict[str, Result] = OrderedDict()

    def defaults(self) -> Settings:
        gen = self.cfg.generation
        return Settings(threshold=gen.threshold, resolution=gen.resolution0, upsampling=gen.upsampling_steps)

    def settings_from(self, query: dict[str, str]) -> Settings:
        """Settings from the page's query (missing ones: the model's defaults); UserError for a value that
        is not a number. Values MISE cannot run with get the CLI's message from `reconstruct_images`."""
        base = self.defaults()
        return replace(base, threshold=_number(query, "threshold", float, base.threshold),
                       resolution=_number(query, "resolution", int, base.resolution),
                       upsampling=_number(query, "upsampling", int, base.upsampling),
                       crop=_flag(query, "crop", base.crop), colour=_flag(query, "colour", base.colour),
                       cut_background=_flag(query, "cut_background", base.cut_background))

    def generation(self, settings: Settings):
        """The model's generation config with the page's settings, read and checked as the CLI's options are."""
        from vitocc.config import with_values

        return with_values(self.cfg, generation={"threshold": settings.threshold, "resolution0": settings.resolution,
                                                 "upsampling_steps": settings.upsampling}).generation

    def reconstruct(self, data: bytes, name: str, settings: Settings, mask: bytes | None = None,
                    mask_name: str = "mask.png") -> Result:
        """The mesh of the picture file `data` (uploaded as `name`), made as `vitocc reconstruct NAME` makes it;
        with `mask` (a mask picture file uploaded as `mask_name`), as `vitocc reconstruct NAME --mask MASK_NAME`.

        UserError, with the CLI's message naming `name` (or `mask_name`), for a file that is too large,
        empty, not a picture, damaged, or shows no object, and for a mask that does not fit the picture.
        """
        from vitocc.generation import load_image, reconstruct_images

        name, mask_name = safe_name(name), safe_name(mask_name)
        check_size(name, len(data) + len(mask or b""), self.max_upload_bytes)
        with tempfile.TemporaryDirectory(prefix="vitocc-serve-") as tmp, self._lock, _Warnings() as warnings:
            path, mask_path = Path(tmp) / name, Path(tmp) / "mask" / mask_name  # the names as uploaded
            path.write_bytes(data)
            if mask is not None:
                mask_path.parent.mkdir()
                mask_path.write_bytes(mask)

            def as_uploaded(text: str) -> str:
                return text.replace(str(mask_path), mask_name).replace(str(path), name)

            try:
                # As the CLI: the picture is read and prepared (cropped, cut out) first, then meshed as it is.
                picture = load_image(path, crop=settings.crop, cut_background=settings.cut_background,
                                     mask=mask_path if mask is not None else None)
            except UserError as exc:
                raise UserError(as_uploaded(exc.message), exc.hint and as_uploaded(exc.hint)) from None
            [(mesh, info)] = reconstruct_images([picture], self.model, self.generation(settings), self.device,
                                                crop=False, colour=settings.colour, cut_background=False)
        result = Result(id=uuid.uuid4().hex[:12], name=name, settings=settings, mesh=mesh, info=info,
                        mask_name=mask_name if mask is not None else None,
                        warnings=[as_uploaded(w) for w in warnings])
        with self._lock:
            self._results[result.id] = result
            while len(self._results) > self.keep:
                self._results.popitem(last=False)
        log.info("%s: %.2f s, %d vertices, %d faces, watertight %s", name, info.seconds, info.vertices,
                 info.faces, "yes" if info.watertight else "no")
        return result

    def result(self, result_id: str) -> Result | None:
        return self._results.get(result_id)

    def mesh_file(self, result: Result, suffix: str) -> bytes:
        """The mesh file in format `suffix`, written by the CLI's `save_mesh` (so the bytes are the CLI's)."""
        from vitocc.generation import save_mesh

        if suffix not in result.files:
            with tempfile.TemporaryDirectory(prefix="vitocc-serve-") as tmp:
                path = Path(tmp) / f"mesh{suffix}"
                save_mesh(result.mesh, path)
                result.files[suffix] = path.read_bytes()
        return result.files[suffix]


def picture_png(result: Result) -> bytes:
    buffer = io.BytesIO()
    result.info.picture.save(buffer, format="PNG")
    return buffer.getvalue()


def viewer_html(result: Result) -> str:
    """trimesh's own three.js viewer page (shipped inside the trimesh wheel: three.js, its trackball
    controls and glTF loader) showing the mesh, seen from the front-left and above like the renders."""
    import numpy as np
    import trimesh
    from trimesh.viewer.notebook import scene_to_html

    scene = trimesh.Scene(result.mesh.to_trimesh())
    # Objects face +x with y up (docs/design.md section 2): look from the front, 30 degrees above, 45 to the side.
    scene.set_camera(angles=(np.radians(-30), np.radians(45), 0), distance=2.2 * max(result.mesh.extents),
                     center=result.mesh.bounds.mean(axis=0))
    return scene_to_html(scene).replace("</body>", f"<script>{VIEWER_LIGHTING}</script></body>", 1)


# Our addition to trimesh's viewer page. A glTF mesh without a material gets glTF's default one, which
# is fully metallic (metalness 1): lit by the viewer's one light at the camera, it shows near black.
# Make it matte once it has loaded, and add light from the sky and the ground so that faces turned
# away from the camera keep their colour.
VIEWER_LIGHTING = """
scene.add(new THREE.HemisphereLight(0xffffff, 0x808080, 0.35));
(function matte() {
  let meshes = 0;
  scene.traverse((object) => { if (object.isMesh) { object.material.metalness = 0; meshes += 1; } });
  if (meshes && camera) { render(); } else { requestAnimationFrame(matte); }
})();
"""


def check_size(name: str, size: int, limit: int) -> None:
    if size > limit:
        raise UserError(f"{name}: the file is too large ({size / 1e6:.1f} MB)",
                        f"the page takes at most {limit / 1e6:.1f} MB: downscale it first, "
                        "or restart with a larger --max-upload-mb")


def safe_name(name: str) -> str:
    """The uploaded file's own name, without folders or characters a file name cannot hold."""
    name = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", unquote(name).replace("\\", "/").rsplit("/", 1)[-1]).strip(" .")
    return name[-120:] or "picture"


def _number(query: dict[str, str], key: str, kind: type, default):
    text = query.get(key, "").strip()
    if not text:
        return default
    try:
        return kind(text)
    except ValueError:
        raise UserError(f"{key} must be {'an integer' if kind is int else 'a number'}, got {text!r}") from None


def _flag(query: dict[str, str], key: str, default: bool) -> bool:
    text = query.get(key, "").strip().lower()
    return default if not text else text not in ("0", "false", "no", "off")


class _Warnings(logging.Handler):
    """Collects, as a list of lines, the warnings vitocc logs in this thread while the block runs."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.thread = threading.get_ident()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.lines.append(record.getMessage())

    def __enter__(self) -> list[str]:
        logging.getLogger("vitocc").addHandler(self)
        return self.lines

    def __exit__(self, *exc) -> None:
        logging.getLogger("vitocc").removeHandler(self)


def static_file(name: str) -> bytes | None:
    """A file of the page (src/vitocc/serve/static), or None: only plain names of files that are there."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+\.[a-z]+", name):
        return None
    item = resources.files("vitocc.serve").joinpath("static", name)
    return item.read_bytes() if item.is_file() else None


class Handler(BaseHTTPRequestHandler):
    """The routes of the module docstring. `self.server.reconstructor` does the work."""

    server_version = "vitocc-serve"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        path = urlsplit(self.path).path
        rec: Reconstructor = self.server.reconstructor
        if not self._trusted():
            return None
        if path in ("/", "/index.html"):
            return self._send(200, static_file("index.html"), STATIC_TYPES[".html"])
        if path.startswith("/static/"):
            body = static_file(path[len("/static/"):])
            if body is None:
                return self._error(404, f"{path}: no such file")
            return self._send(200, body, STATIC_TYPES.get(Path(path).suffix, "application/octet-stream"))
        if path == "/api/settings":
            return self._json(200, {"settings": asdict(rec.defaults()), "max_upload_bytes": rec.max_upload_bytes,
                                    "formats": [s[1:] for s in DOWNLOAD_FORMATS]})
        match = re.fullmatch(r"/api/results/([0-9a-f]+)/(picture\.png|view|mesh\.[a-z]+)", path)
        result = rec.result(match.group(1)) if match else None
        if result is None:
            return self._error(404, f"{path}: no such page" if not match else "no such result (the server keeps "
                               f"the last {rec.keep}; reconstruct the picture again)")
        what = match.group(2)
        if what == "picture.png":
            return self._send(200, picture_png(result), "image/png")
        if not result.info.faces:
            return self._error(404, f"{result.name}: the mesh is empty (nothing above the threshold)")
        if what == "view":
            return self._send(200, viewer_html(result).encode(), STATIC_TYPES[".html"])
        suffix = "." + what.split(".", 1)[1]
        if suffix not in DOWNLOAD_FORMATS:
            return self._error(404, f"{what}: the page offers {' '.join(DOWNLOAD_FORMATS)}")
        filename = f"{Path(result.name).stem}{suffix}"
        return self._send(200, rec.mesh_file(result, suffix), MESH_TYPES[suffix],
                          {"Content-Disposition": f"attachment; filename=\"{filename}\""})

    def do_POST(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        if url.path != "/api/reconstruct":
            self._drain()
            return self._error(404, f"{url.path}: no such endpoint")
        rec: Reconstructor = self.server.reconstructor
        if not self._trusted():
            return None
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        name = safe_name(query.get("name", "picture"))
        try:
            length = int(self.headers.get("Content-Length", ""))
        except ValueError:
            self._drain()
            return self._error(411, "the upload needs a Content-Length")
        try:
            if length > rec.max_upload_bytes:
                self._drain(length)  # read it all: a browser shows no answer when the upload is cut off
                check_size(name, length, rec.max_upload_bytes)
            data = self.rfile.read(length)
            mask_size = _number(query, "mask_size", int, 0)
            if not 0 <= mask_size <= length:
                raise UserError(f"mask_size must be in 0..{length} (the upload's size), got {mask_size}")
            mask = data[length - mask_size:] if mask_size else None
            result = rec.reconstruct(data[:length - mask_size], name, rec.settings_from(query), mask,
                                     query.get("mask_name", "mask.png"))
        except UserError as exc:
            return self._error(413 if length > rec.max_upload_bytes else 400, str(exc))
        except Exception as exc:  # noqa: BLE001 - last resort, as in the CLI: one line; the traceback goes to the log
            log.exception("%s: reconstruction failed", name)
            return self._error(500, f"{type(exc).__name__}: {exc}")
        return self._json(200, result.summary())

    def _trusted(self) -> bool:
        """Whether the request may come from another web page than ours; if so, answer 403 and say False.

        A server on a loopback address answers only to loopback host names (a page elsewhere that
        rebinds its own name to 127.0.0.1 gets nothing), and a browser's request from another page's
        origin (its Origin header) is refused, so other sites cannot make this machine reconstruct.
        """
        host = self.headers.get("Host", "")
        origin = self.headers.get("Origin")
        port = self.server.server_address[1]
        if self.server.loopback and host not in {f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}:
            reason = f"this server answers to 127.0.0.1:{port} and localhost:{port} only, not {host!r}"
        elif origin is not None and origin != f"http://{host}":
            reason = f"requests from other pages ({origin}) are refused"
        else:
            return True
        self._drain()
        self.close_connection = True
        self._error(403, reason)
        return False

    def _drain(self, length: int | None = None) -> None:
        """Read and discard the request body, so that the client gets to read the answer."""
        if length is None:
            try:
                length = int(self.headers.get("Content-Length", "0"))
            except ValueError:
                length, self.close_connection = 0, True
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def _json(self, status: int, payload: dict) -> None:
        self._send(status, json.dumps(payload).encode(), "application/json")

    def _error(self, status: int, message: str) -> None:
        self._json(status, {"error": message})

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(HTTPStatus(status))
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        log.debug("%s %s", self.address_string(), format % args)


class Server(ThreadingHTTPServer):
    """A ThreadingHTTPServer that knows its Reconstructor; `url` is where the page is."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], reconstructor: Reconstructor):
        super().__init__(address, Handler)
        self.reconstructor = reconstructor
        self.loopback = address[0] in ("127.0.0.1", "localhost", "::1")

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def make_server(reconstructor: Reconstructor, host: str = "127.0.0.1", port: int = 8000) -> Server:
    """The server, bound (port 0: a free port, see `server.url`) but not yet serving: call `serve_forever()`.

    UserError when the address cannot be bound (port in use, unknown host).
    """
    import socket

    kind = type("Server6", (Server,), {"address_family": socket.AF_INET6}) if ":" in host else Server
    try:
        return kind((host, port), reconstructor)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UserError(f"cannot serve on {host}:{port}: {reason}",
                        "choose another --port" if port else "choose another --host") from None
