"""A real HTTP/1.1 file server on 127.0.0.1 for download tests, with faults on demand.

It honours Range and If-Range, sends ETag / Last-Modified, counts the body bytes it sends,
and can misbehave the way real servers and networks do: drop the connection after K body
bytes, answer 503 a number of times, ignore Range, announce a huge size on HEAD, or serve
a new version of a file (new ETag).
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Faults:
    """Misbehaviour to inject; counters go down as faults are served."""

    drop_after: int | None = None  # close the connection after this many body bytes ...
    drops: int = 0  # ... this many times
    fail_503: int = 0  # answer 503 to this many GET requests
    ignore_range: bool = False  # always answer 200 with the whole file
    head_size: int | None = None  # Content-Length announced by HEAD


@dataclass
class ServerState:
    files: dict[str, bytes] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    bytes_sent: int = 0  # body bytes, over all requests
    log: list[tuple[str, str, int, str | None]] = field(default_factory=list)  # method, path, status, Range
    lock: threading.Lock = field(default_factory=threading.Lock)

    def etag(self, path: str) -> str:
        digest = hashlib.sha1(self.files[path]).hexdigest()[:16]
        return f'"{digest}-{self.versions[path]}"'


class FaultyServer:
    """`with FaultyServer() as server: server.put("/a.zip", data); get(server.url("/a.zip"))`."""

    def __init__(self):
        self.state = ServerState()
        handler = type("Handler", (_Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self) -> FaultyServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def put(self, path: str, data: bytes) -> None:
        """Serve `data` at `path`; replacing a file gives it a new ETag and Last-Modified."""
        with self.state.lock:
            self.state.files[path] = data
            self.state.versions[path] = self.state.versions.get(path, 0) + 1

    @property
    def faults(self) -> Faults:
        return self.state.faults

    @property
    def bytes_sent(self) -> int:
        return self.state.bytes_sent

    def statuses(self, method: str = "GET") -> list[int]:
        return [status for m, _, status, _ in self.state.log if m == method]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    state: ServerState

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        state, faults, path = self.state, self.state.faults, self.path
        range_header = self.headers.get("Range")
        with state.lock:
            data = state.files.get(path)
            if data is None:
                return self._status(404, head, range_header)
            if not head and faults.fail_503 > 0:
                faults.fail_503 -= 1
                return self._status(503, head, range_header)
            etag, version = state.etag(path), state.versions[path]
            drop = faults.drop_after if (not head and faults.drops > 0) else None
            if drop is not None:
                faults.drops -= 1
        start, end, status = 0, len(data), 200
        if range_header and not faults.ignore_range and self.headers.get("If-Range", etag) == etag:
            match = re.fullmatch(r"bytes=(\d*)-(\d*)", range_header.strip())
            if match and match.group(1):
                start = int(match.group(1))
                end = min(int(match.group(2)) + 1, len(data)) if match.group(2) else len(data)
            elif match and match.group(2):
                start = max(0, len(data) - int(match.group(2)))
            if not match or start >= len(data) or start >= end:
                return self._status(416, head, range_header)
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Accept-Ranges", "none" if faults.ignore_range else "bytes")
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", formatdate(1_700_000_000 + version, usegmt=True))
        size = faults.head_size if head and faults.head_size else end - start
        self.send_header("Content-Length", str(size))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{len(data)}")
        self.end_headers()
        state.log.append((self.command, path, status, range_header))
        if head:
            return
        body = data[start:end] if drop is None else data[start:end][:drop]
        self.wfile.write(body)
        with state.lock:
            state.bytes_sent += len(body)
        if drop is not None:
            self.wfile.flush()
            self.close_connection = True

    def _status(self, code: int, head: bool, range_header: str | None) -> None:
        self.state.log.append((self.command, self.path, code, range_header))
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()
