"""Fetch a known data set into a folder: plan, download (whole or selected members), extract.

`fetch_dataset` is what `vitocc download` runs. Without a subset it downloads the whole
zip (resumable, see :mod:`vitocc.data.fetch.download`) and extracts it; with `categories` and/or
`max_models` it reads the zip's central directory with Range requests and fetches only the
chosen members (:mod:`vitocc.data.fetch.remote_zip`), falling back to the whole download when
the server ignores Range. Either way the result is `DEST/<root>/` in the real layout.
"""

from __future__ import annotations

import json
import logging
import os
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from vitocc.data.fetch import download, extract, remote_zip
from vitocc.data.layout import METADATA_FILE, SHAPENET_CLASSES, SPLITS, read_metadata
from vitocc.errors import UserError
from vitocc.io import write_json

log = logging.getLogger(__name__)

DONE_MARKER = ".vitocc_download.json"  # in DEST/<root> after a whole archive was extracted


@dataclass(frozen=True)
class DatasetInfo:
    """A data set `vitocc download` knows: where it is, how big, and its folder in the zip."""

    name: str
    description: str
    url: str
    size_bytes: int
    root: str  # top-level folder inside the archive

    @property
    def filename(self) -> str:
        return Path(urllib.parse.urlparse(self.url).path).name


DATASETS: dict[str, DatasetInfo] = {
    "shapenet": DatasetInfo(
        "shapenet",
        "ShapeNet, 13 classes, Occupancy Networks preprocessing (points, pointclouds, "
        "24 renders + cameras per model, split lists), published by the paper's authors",
        "https://s3.eu-central-1.amazonaws.com/avg-projects/occupancy_networks/data/dataset_small_v1.1.zip",
        73_400_000_000,
        "ShapeNet",
    ),
}


@dataclass
class FetchSummary:
    """What one `fetch_dataset` call did."""

    root: Path  # the data set folder, DEST/<root>
    mode: str  # "full" or "selective"
    bytes_fetched: int = 0  # over the network, this run
    files_written: int = 0
    files_kept: int = 0  # already complete from an earlier run
    classes: list[str] = field(default_factory=list)  # synsets extracted
    models: int = 0  # model folders extracted (selective or limited runs) or 0 when all
    seconds: float = 0.0
    zip_path: Path | None = None  # the kept archive, if any


def dataset_info(name: str) -> DatasetInfo:
    """The known data set `name`, or a UserError listing the known ones."""
    if name.lower() not in DATASETS:
        raise UserError(f"unknown data set '{name}'", f"known: {', '.join(DATASETS)} (see vitocc download --list)")
    return DATASETS[name.lower()]


@dataclass
class _Job:
    """One fetch request, as the helpers below share it."""

    info: DatasetInfo
    dest: Path
    categories: list[str]
    max_models: int | None
    progress: download.Progress
    free: Callable[[str | os.PathLike], int]
    merge_gap: int

    @property
    def subset(self) -> bool:
        return bool(self.categories) or self.max_models is not None


def fetch_dataset(info: DatasetInfo, dest: str | os.PathLike, *, url: str | None = None,
                  categories: list[str] | None = None, max_models: int | None = None,
                  keep_zip: bool = False, sha256: str | None = None,
                  retry: download.RetryPolicy = download.RetryPolicy(),
                  progress: download.Progress | None = None,
                  free: Callable[[str | os.PathLike], int] = download.disk_free,
                  merge_gap: int = 1 << 20) -> FetchSummary:
    """Put `info`'s data set (or the chosen classes / first models of it) under `dest/<root>`.

    `url` overrides `info.url` (http, https or file://). `max_models` caps models per class.
    `free` reports free bytes under a path (for the disk check); `merge_gap` is the largest gap
    between wanted members read in one request. A rerun resumes: partial downloads continue
    and complete files are kept.
    """
    start = time.perf_counter()
    url = url or info.url
    job = _Job(info, Path(dest), list(categories or []), max_models, progress or download.Progress(), free, merge_gap)
    if max_models is not None and max_models < 1:
        raise UserError(f"--max-models must be at least 1, got {max_models}")
    if sha256 and job.subset:
        raise UserError("--sha256 checks the whole archive and cannot be combined with --categories/--max-models",
                        "a subset is verified member by member with the zip's CRC-32")
    if job.dest.exists() and not job.dest.is_dir():
        raise UserError(f"--dest {job.dest} is a file", "choose a folder")
    if url == info.url and info.root == "ShapeNet":  # its 13 classes are known: check before any request
        remote_zip.resolve_categories(job.categories, SHAPENET_CLASSES)
    scheme = urllib.parse.urlparse(url).scheme
    if scheme == "file":
        reader = remote_zip.LocalFileReader(urllib.request.url2pathname(urllib.parse.urlparse(url).path))
        download.verify_sha256(reader.path, sha256)
        summary = _extract(job, reader, "full")
    elif scheme in ("http", "https"):
        summary = _fetch_http(job, url, keep_zip, sha256, retry)
    else:
        raise UserError(f"unsupported URL '{url}'", "use http://, https:// or file://")
    summary.seconds = time.perf_counter() - start
    return summary


def _fetch_http(job: _Job, url: str, keep_zip: bool, sha256: str | None, retry: download.RetryPolicy) -> FetchSummary:
    """Selective over Range when a subset is asked and the server allows it; else the whole zip."""
    session = download.new_session()
    remote = download.probe(session, url, retry)
    if job.subset:
        reader = remote_zip.HttpRangeReader(session, remote, retry, job.progress)
        try:
            summary = _extract(job, reader, "selective")
            summary.bytes_fetched = reader.bytes_fetched
            return summary
        except download.RemoteChanged as exc:
            raise UserError(f"{exc} during the download", "rerun: complete files are kept") from None
        except download.RangeIgnored:
            log.warning("the server ignores Range requests: downloading the whole archive (%s) instead",
                        download.format_size(remote.size))
    marker = job.dest / job.info.root / DONE_MARKER
    if not job.subset and _marker_matches(marker, remote):
        log.info("%s is already downloaded and extracted (delete %s to redo)", url, marker)
        return FetchSummary(marker.parent, "full", classes=sorted(read_metadata(marker.parent)))
    zip_path = job.dest / (Path(urllib.parse.urlparse(url).path).name or job.info.filename)
    fetched = download.download_file(url, zip_path, remote=remote, extra_space=remote.size, sha256=sha256,
                                     retry=retry, progress=job.progress, free=job.free, session=session)
    summary = _extract(job, remote_zip.LocalFileReader(zip_path), "full")
    summary.bytes_fetched = fetched
    if not job.subset:
        write_json(marker, asdict(remote))
    if keep_zip:
        summary.zip_path = zip_path
    else:
        zip_path.unlink()
    return summary


def _marker_matches(marker: Path, remote: download.RemoteFile) -> bool:
    """True if `marker` records a finished extraction of this version of the archive."""
    try:
        saved = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    return saved.get("url") == remote.url and saved.get("size") == remote.size and remote.same_version(
        saved.get("etag"), saved.get("last_modified"))


def _extract(job: _Job, reader: remote_zip.RangeReader, mode: str) -> FetchSummary:
    """Read the directory, choose members, check names and disk space, extract, finish the layout."""
    root_name = job.info.root
    members = remote_zip.read_central_directory(reader)
    extract.check_member_names(members)
    classes = remote_zip.archive_classes(members, root_name)
    if not classes:
        raise UserError(f"the archive has no class folders under '{root_name}/'", "check --url")
    chosen = remote_zip.resolve_categories(job.categories, classes)
    originals, splits = _limited_splits(job, reader, classes, chosen) if job.max_models else ({}, None)
    selected = [m for synset in chosen
                for m in remote_zip.model_members(classes[synset], set(_flat(splits[synset])) if splits else None)]
    metadata = next((m for m in members if m.name == f"{root_name}/{METADATA_FILE}"), None)
    names = _class_names(reader, metadata, job.merge_gap)
    if metadata and not job.subset:
        selected.append(metadata)
    need = sum(m.file_size for m in extract.pending_members(selected, job.dest))
    download.check_free_space(job.dest, need, f"extracting {len(selected)} files", job.free)
    stats = extract.extract_members(reader, selected, job.dest, job.progress, job.merge_gap)
    root = job.dest / root_name
    if splits:
        extract.write_split_subsets(root, splits, originals)
    extract.write_metadata_if_needed(root, names)
    return FetchSummary(root, mode, files_written=stats.files_written, files_kept=stats.files_kept, classes=chosen,
                        models=sum(len(_flat(s)) for s in splits.values()) if splits else 0)


def _flat(lists: dict[str, list[str]]) -> list[str]:
    return [m for split in SPLITS for m in lists.get(split, [])]


def _limited_splits(job: _Job, reader: remote_zip.RangeReader, classes: dict[str, list[remote_zip.ZipMember]],
                    chosen: list[str]) -> tuple[dict[str, dict[str, list[str]]], dict[str, dict[str, list[str]]]]:
    """The archive's split lists and the subset of them to fetch: synset -> split -> model ids.

    The subset holds at most `job.max_models` per class. A class without split lists takes
    its first model folders (sorted) as training models.
    """
    root = job.info.root
    wanted = [m for synset in chosen for m in remote_zip.split_list_members(classes, root, synset)]
    texts = {m.name: data.decode() for m, data in remote_zip.iter_members(reader, wanted, job.merge_gap)}
    originals, splits = {}, {}
    for synset in chosen:
        lists = {s: [x.strip() for x in texts.get(f"{root}/{synset}/{s}.lst", "").splitlines() if x.strip()]
                 for s in SPLITS}
        if not any(lists.values()):
            lists["train"] = sorted({m.name.split("/")[2] for m in classes[synset] if m.name.count("/") >= 3})
        originals[synset], splits[synset] = lists, remote_zip.choose_models(lists, job.max_models)
    return originals, splits


def _class_names(reader, member: remote_zip.ZipMember | None, merge_gap: int) -> dict[str, str]:
    """synset -> name from the archive's metadata.yaml, or {} when it has none."""
    if member is None:
        return {}
    (_, data), = remote_zip.iter_members(reader, [member], merge_gap)
    meta = yaml.safe_load(data) or {}
    return {str(k): str(v.get("name", k)) if isinstance(v, dict) else str(k) for k, v in meta.items()}
