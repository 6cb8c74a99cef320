"""HTTP downloads that survive interruptions: byte ranges, retries, validators, disk checks.

A large file is streamed into `NAME.part` next to its destination; a rerun resumes it with
an HTTP Range request as long as the server's ETag / Last-Modified still match the ones
recorded in `NAME.part.json` (a changed file restarts from byte 0). Connection errors,
timeouts and 5xx answers are retried with exponential backoff; the size is checked against
Content-Length and the file is renamed into place only when complete (and, on request,
when its sha256 matches). The same ranged reader serves the selective mode
(:mod:`vitocc.data.fetch.remote_zip`), which reads only parts of a remote zip.
"""

from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import shutil
import socket
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import requests

from vitocc.errors import UserError
from vitocc.io import write_json

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 20  # reads from disk
NET_CHUNK_BYTES = 1 << 16  # reads from a socket: a dropped connection loses at most this much


class Progress:
    """Hooks the library calls as work advances; the CLI binds them to rich bars. No-ops here."""

    def bytes_expected(self, n: int) -> None:
        """`n` more bytes are to be transferred (added to the total of this run)."""

    def bytes_advanced(self, n: int) -> None:
        """`n` more bytes arrived."""

    def members_started(self, total: int) -> None:
        """Extraction of `total` archive members begins."""

    def member_done(self) -> None:
        """One member was written or found complete."""


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try: `attempts` failures in a row without progress, waits doubling from
    `backoff_seconds` up to `max_backoff_seconds`; `timeout_seconds` per connect / read."""

    attempts: int = 8
    backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    timeout_seconds: float = 30.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after the `failures`-th failure in a row (1, 2, 4, ... capped)."""
        return min(self.backoff_seconds * 2 ** (failures - 1), self.max_backoff_seconds)


@dataclass(frozen=True)
class RemoteFile:
    """What a HEAD request says about a URL: size and the validators that identify its version."""

    url: str
    size: int
    etag: str | None = None
    last_modified: str | None = None

    def same_version(self, etag: str | None, last_modified: str | None) -> bool:
        """True if the given validators name this version (ETag preferred, else Last-Modified)."""
        if self.etag or etag:
            return self.etag == etag
        return self.last_modified == last_modified

    def contradicted_by(self, headers) -> bool:
        """True if a response's headers name another version (validators it lacks are not held against it)."""
        etag, last_modified = headers.get("ETag"), headers.get("Last-Modified")
        if self.etag and etag:
            return self.etag != etag
        return bool(self.last_modified and last_modified and self.last_modified != last_modified)


class RangeIgnored(Exception):
    """The server answered a Range request with the whole file (HTTP 200)."""


class RemoteChanged(Exception):
    """The file on the server is not the version this transfer started with."""


class _Retryable(Exception):
    """A 5xx/429 answer or a short body: worth another try."""


class _Backoff:
    """Counts failures in a row; sleeps between tries and gives up with a UserError."""

    def __init__(self, retry: RetryPolicy, what: str):
        self.retry, self.what, self.failures = retry, what, 0

    def failed(self, exc: Exception) -> None:
        self.failures += 1
        reason = _describe(exc)
        if self.failures > self.retry.attempts:
            raise UserError(f"{self.what} failed after {self.failures} tries: {reason}",
                            "check the connection and rerun; the download resumes") from exc
        wait = self.retry.delay(self.failures)
        log.warning("%s: %s; retry %d/%d in %.3g s", self.what, reason, self.failures, self.retry.attempts, wait)
        time.sleep(wait)


def _describe(exc: Exception) -> str:
    """A short reason for a transient failure (requests' messages nest whole tracebacks)."""
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return "connection dropped during the transfer"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        return "could not connect"
    return str(exc)


_TRANSIENT = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError, _Retryable)


def new_session() -> requests.Session:
    """A session that asks for raw bytes (no gzip), so byte ranges mean file offsets."""
    session = requests.Session()
    session.headers.update({"Accept-Encoding": "identity", "User-Agent": "vitocc"})
    return session


def _check_status(resp: requests.Response, url: str) -> None:
    """Raise _Retryable for 5xx/429 and UserError for other failures."""
    if resp.status_code >= 500 or resp.status_code == 429:
        raise _Retryable(f"HTTP {resp.status_code} {resp.reason}")
    if resp.status_code >= 400:
        raise UserError(f"{url}: HTTP {resp.status_code} {resp.reason}", "check --url")


def check_host(url: str) -> None:
    """UserError naming the host of `url` when its name cannot be resolved (offline, or a typo)."""
    host = urllib.parse.urlparse(url).hostname
    if not host:
        raise UserError(f"{url} names no host")
    try:
        socket.getaddrinfo(host, None)
    except OSError:
        raise UserError(f"cannot reach {host}: its name does not resolve (no network?)",
                        "check the connection; a rerun resumes the download") from None


# Refusals the system reports at once on a first contact: nothing listens there, or no route leads there (offline).
_UNREACHABLE = (errno.ECONNREFUSED, errno.ENETUNREACH, errno.EHOSTUNREACH)


def unreachable_reason(exc: BaseException) -> str | None:
    """'connection refused', 'network is unreachable' ... when the chain of `exc` (requests wraps urllib3, which
    wraps the socket's error) holds one of _UNREACHABLE; None for other failures (timeouts, drops, 5xx)."""
    todo, seen = [exc], set()
    while todo:
        cause = todo.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, OSError) and cause.errno in _UNREACHABLE:
            return os.strerror(cause.errno).lower()
        todo += [getattr(cause, "reason", None), cause.__cause__, cause.__context__,
                 *(a for a in cause.args if isinstance(a, BaseException))]
    return None


def probe(session: requests.Session, url: str, retry: RetryPolicy) -> RemoteFile:
    """HEAD `url` (with retries): its size, ETag and Last-Modified. A host whose name does not
    resolve, or that refuses or cannot be routed to on this first contact (offline, a wrong URL),
    fails at once, naming it, not after minutes of retries; timeouts and 5xx answers are retried."""
    check_host(url)
    backoff = _Backoff(retry, f"HEAD {url}")
    while True:
        try:
            resp = session.head(url, allow_redirects=True, timeout=retry.timeout_seconds)
            _check_status(resp, url)
            break
        except _TRANSIENT as exc:
            if backoff.failures == 0 and (reason := unreachable_reason(exc)):
                raise UserError(f"cannot reach {urllib.parse.urlparse(url).netloc}: {reason}",
                                "check the URL and the connection; a rerun resumes the download") from None
            backoff.failed(exc)
    if "Content-Length" not in resp.headers:
        raise UserError(f"{url}: the server does not report the file size",
                        "vitocc needs Content-Length to resume and check downloads")
    return RemoteFile(resp.url if resp.url else url, int(resp.headers["Content-Length"]),
                      resp.headers.get("ETag"), resp.headers.get("Last-Modified"))


def stream_range(session: requests.Session, remote: RemoteFile, start: int, end: int,
                 retry: RetryPolicy, chunk_bytes: int = NET_CHUNK_BYTES) -> Iterator[bytes]:
    """Bytes [start, end) of `remote`, in chunks; resumes after drops and retries 5xx/timeouts.

    Raises RangeIgnored if the server sends the whole file for a partial request and
    RemoteChanged if its validators no longer match `remote`.
    """
    backoff = _Backoff(retry, f"GET {remote.url}")
    pos = start
    while pos < end:
        headers = {"Range": f"bytes={pos}-{end - 1}"}
        if_range = remote.etag if remote.etag and not remote.etag.startswith("W/") else remote.last_modified
        if if_range:
            headers["If-Range"] = if_range
        try:
            with session.get(remote.url, headers=headers, stream=True, timeout=retry.timeout_seconds) as resp:
                _check_status(resp, remote.url)
                if remote.contradicted_by(resp.headers):
                    raise RemoteChanged(f"{remote.url} changed on the server")
                if resp.status_code != 206 and (pos > 0 or end < remote.size):
                    raise RangeIgnored(f"{remote.url}: the server ignored the Range header")
                if resp.status_code == 206 and not resp.headers.get("Content-Range", "").startswith(f"bytes {pos}-"):
                    raise UserError(f"{remote.url}: asked for bytes from {pos}, got "
                                    f"'{resp.headers.get('Content-Range')}'", "the server's Range support is broken")
                for chunk in resp.iter_content(chunk_bytes):
                    chunk = chunk[: end - pos]
                    pos += len(chunk)
                    backoff.failures = 0  # progress: count failures in a row only
                    yield chunk
                    if pos >= end:
                        break
                if pos < end:
                    raise _Retryable(f"connection closed at byte {pos} of {end}")
        except _TRANSIENT as exc:
            backoff.failed(exc)


def format_size(n: int) -> str:
    """`146800000000` -> '146.80 GB (136.72 GiB)': decimal as vendors sell disks, binary as df shows."""
    return f"{n / 1e9:.2f} GB ({n / 2**30:.2f} GiB)"


def disk_free(path: str | os.PathLike) -> int:
    """Free bytes on the file system that holds `path` (or its nearest existing parent)."""
    path = Path(path).absolute()
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def check_free_space(folder: str | os.PathLike, need: int, what: str,
                     free: Callable[[str | os.PathLike], int] = disk_free) -> None:
    """UserError if `folder` has fewer than `need` free bytes; `what` says what needs them."""
    available = free(folder)
    if need > available:
        raise UserError(
            f"not enough disk space in {folder}: {what} needs {format_size(need)}, "
            f"{format_size(available)} free",
            "free space, choose another --dest, or fetch a subset with --categories/--max-models")


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(url: str, dest: str | os.PathLike, *, extra_space: int = 0, sha256: str | None = None,
                  retry: RetryPolicy = RetryPolicy(), progress: Progress | None = None,
                  free: Callable[[str | os.PathLike], int] = disk_free,
                  session: requests.Session | None = None, remote: RemoteFile | None = None) -> int:
    """Download `url` to `dest` through `dest.part`, resuming a previous partial download.

    `extra_space` bytes are required on top of the download (e.g. for extraction) by the
    free-space check made before any byte is written. `remote` is a fresh :func:`probe` of
    `url`, if the caller has one. Returns the bytes transferred now.
    """
    dest = Path(dest)
    progress = progress or Progress()
    session = session or new_session()
    remote = remote or probe(session, url, retry)
    part, meta = dest.with_name(dest.name + ".part"), dest.with_name(dest.name + ".part.json")
    if dest.is_file() and dest.stat().st_size == remote.size:
        log.info("%s is already complete", dest)
        verify_sha256(dest, sha256)
        return 0
    done = part.stat().st_size if part.is_file() and _same_version(meta, remote) else 0
    done = done if done <= remote.size else 0  # longer than the file: not a prefix of it
    if done == 0 and part.is_file():
        log.warning("%s changed on the server since the partial download; starting over", url)
    check_free_space(dest.parent, remote.size - done + extra_space,
                     f"the download ({format_size(remote.size - done)} left) plus extraction", free)
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_json(meta, asdict(remote))
    fetched, expected = 0, remote.size - done
    progress.bytes_expected(expected)
    for _restart in range(3):
        try:
            with open(part, "r+b" if done else "wb") as f:
                f.seek(done)
                f.truncate()
                for chunk in stream_range(session, remote, done, remote.size, retry):
                    f.write(chunk)
                    done += len(chunk)
                    fetched += len(chunk)
                    progress.bytes_advanced(len(chunk))
                f.flush()
                os.fsync(f.fileno())
            break
        except (RangeIgnored, RemoteChanged) as exc:
            log.warning("%s; starting over from byte 0", exc)
            remote, done = probe(session, url, retry), 0
            progress.bytes_expected(fetched + remote.size - expected)  # the bar now counts the refetch
            expected = fetched + remote.size
            write_json(meta, asdict(remote))
    else:
        raise UserError(f"{url} kept changing while downloading", "try again later")
    if part.stat().st_size != remote.size:
        raise UserError(f"{part} has {part.stat().st_size} bytes, the server announced {remote.size}",
                        "rerun to resume")
    verify_sha256(part, sha256)
    os.replace(part, dest)
    meta.unlink()
    return fetched


def _same_version(meta: Path, remote: RemoteFile) -> bool:
    """True if the partial download recorded in `meta` is of the version `remote` describes."""
    try:
        saved = json.loads(meta.read_text())
    except (OSError, ValueError):
        return False
    return saved.get("size") == remote.size and remote.same_version(saved.get("etag"), saved.get("last_modified"))


def verify_sha256(path: Path, expected: str | None) -> None:
    """UserError if `path`'s sha256 differs from `expected` (skipped when None); the file is kept."""
    if expected is None:
        return
    actual = sha256_file(path)
    if actual.lower() != expected.strip().lower():
        raise UserError(f"sha256 of {path} is {actual}, expected {expected}",
                        f"if the expected value is right, delete {path} and rerun")
