"""`vitocc download`: resumable HTTP downloads, the selective Range mode, safe extraction.

Everything runs against a real HTTP server on 127.0.0.1 (tests/data/http_server.py) that
serves a small ZIP64 archive in the real layout, built here from `write_box_dataset`.
"""

from __future__ import annotations

import dataclasses
import logging
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from http_server import FaultyServer

from box_data import write_box_dataset
from vitocc.data import layout
from vitocc.data.fetch import DATASETS, DONE_MARKER, download, extract, fetch_dataset, remote_zip
from vitocc.errors import UserError

CLASSES = {"03001627": "chair", "04379243": "table", "02691156": "airplane"}
FAST = download.RetryPolicy(attempts=4, backoff_seconds=0.001, timeout_seconds=5)
SHAPENET = DATASETS["shapenet"]


def zip_tree(src_root: Path, zip_path: Path, extra: dict[str, bytes] | None = None) -> bytes:
    """Zip `src_root` as the authors' archive: `ShapeNet/...`, directory entries, jpg stored,
    the rest deflated, no metadata.yaml; returns the archive's bytes.

    The real archive is 73 GB, so its directory is ZIP64 (end record, locator, 64-bit extra
    fields). Lowering zipfile's ZIP64 threshold to 0 makes Python's own writer emit those
    records for this small archive, so the parser meets the same structures.
    """
    limit = zipfile.ZIP64_LIMIT
    zipfile.ZIP64_LIMIT = 0
    try:
        with zipfile.ZipFile(zip_path, "w") as zf:
            zf.writestr(zipfile.ZipInfo("ShapeNet/"), b"")
            for path in sorted(src_root.rglob("*")):
                name = "ShapeNet/" + path.relative_to(src_root).as_posix()
                if path.is_dir():
                    zf.writestr(zipfile.ZipInfo(name + "/"), b"")
                elif path.name not in ("boxes.npy", layout.METADATA_FILE):
                    info = zipfile.ZipInfo(name, date_time=(2019, 1, 1, 0, 0, 0))
                    info.compress_type = zipfile.ZIP_STORED if path.suffix == ".jpg" else zipfile.ZIP_DEFLATED
                    with zf.open(info, "w", force_zip64=True) as f:
                        f.write(path.read_bytes())
            for name, data in (extra or {}).items():
                zf.writestr(name, data)
    finally:
        zipfile.ZIP64_LIMIT = limit
    return zip_path.read_bytes()


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> tuple[Path, Path, bytes]:
    """(source tree ShapeNet/, zip path, zip bytes): 3 classes x 4 models, 2048 points, 3 views."""
    base = tmp_path_factory.mktemp("archive")
    src = write_box_dataset(base / "ShapeNet", CLASSES, models_per_class=4, n_points=2048, n_views=3)
    zip_path = base / "dataset_small_v1.1.zip"
    return src, zip_path, zip_tree(src, zip_path)


@pytest.fixture
def server(archive):
    with FaultyServer() as srv:
        srv.put("/dataset_small_v1.1.zip", archive[2])
        yield srv


def url_of(server) -> str:
    return server.url("/dataset_small_v1.1.zip")


def source_files(src: Path, synsets=None, models=None) -> dict[str, bytes]:
    """Relative path -> bytes of the files the archive holds for the given classes/models."""
    out = {}
    for p in src.rglob("*"):
        rel = p.relative_to(src).parts
        if not p.is_file() or p.name in ("boxes.npy", layout.METADATA_FILE):
            continue
        if synsets is not None and rel[0] not in synsets:
            continue
        if models is not None and (len(rel) < 3 or rel[1] not in models):
            continue
        out["/".join(rel)] = p.read_bytes()
    return out


def tree_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# -- the zip directory ----------------------------------------------------------------------


def test_central_directory_parser_reads_zip64_like_zipfile(archive):
    _, zip_path, data = archive
    assert b"PK\x06\x06" in data[-200:] and b"PK\x06\x07" in data[-200:]  # ZIP64 end record + locator
    members = remote_zip.read_central_directory(remote_zip.LocalFileReader(zip_path))
    with zipfile.ZipFile(zip_path) as zf:
        infos = zf.infolist()
        assert any(len(i.extra) >= 12 and i.extra[:2] == b"\x01\x00" for i in infos)  # 64-bit extra fields used
    assert [(m.name, m.offset, m.compressed_size, m.file_size, m.crc) for m in members] == [
        (i.filename, i.header_offset, i.compress_size, i.file_size, i.CRC) for i in infos]
    assert {m.method for m in members if not m.is_dir} == {0, 8}
    wanted = [m for m in members if m.name.endswith((".jpg", "points.npz"))][:5]
    for m, content in remote_zip.iter_members(remote_zip.LocalFileReader(zip_path), wanted):
        assert content == zipfile.ZipFile(zip_path).read(m.name)


def test_spans_merge_neighbours_only():
    def member(offset, end):
        return remote_zip.ZipMember(str(offset), offset, end, 0, 0, 0, 0, 0, 0)

    spans = remote_zip.plan_spans([member(200, 300), member(0, 100), member(100, 150), member(1000, 1100)], 60)
    assert [(s.start, s.end, len(s.members)) for s in spans] == [(0, 300, 3), (1000, 1100, 1)]


def test_choose_models_keeps_every_split():
    lists = {"train": [f"t{i}" for i in range(70)], "val": [f"v{i}" for i in range(10)],
             "test": [f"e{i}" for i in range(20)]}
    assert remote_zip.choose_models(lists, 10) == {"train": [f"t{i}" for i in range(7)], "val": ["v0"],
                                                   "test": ["e0", "e1"]}
    assert remote_zip.choose_models(lists, 2) == {"train": ["t0"], "val": ["v0"], "test": []}
    assert remote_zip.choose_models({"train": ["a"], "val": [], "test": ["b"]}, 5) == {
        "train": ["a"], "val": [], "test": ["b"]}


# -- whole-file downloads -------------------------------------------------------------------


def test_full_download_extracts_everything_and_reruns_for_free(archive, server, tmp_path):
    src = archive[0]
    summary = fetch_dataset(SHAPENET, tmp_path, url=url_of(server), retry=FAST)
    root = tmp_path / "ShapeNet"
    assert summary.mode == "full" and summary.bytes_fetched == len(archive[2])
    got = tree_files(root)
    meta = got.pop(layout.METADATA_FILE)
    got.pop(DONE_MARKER)
    assert got == source_files(src)
    assert layout.read_metadata(root) == CLASSES and b"chair" in meta
    assert not (tmp_path / "dataset_small_v1.1.zip").exists()  # without --keep-zip the zip is deleted
    sent = server.bytes_sent
    again = fetch_dataset(SHAPENET, tmp_path, url=url_of(server), retry=FAST)
    assert server.bytes_sent == sent and again.bytes_fetched == 0 and sorted(again.classes) == sorted(CLASSES)


def test_resume_after_dropped_connection_is_byte_identical(archive, server, tmp_path):
    data, dest = archive[2], tmp_path / "a.zip"
    server.faults.drop_after, server.faults.drops = int(0.4 * len(data)), 1
    with pytest.raises(UserError, match="rerun"):  # no retries: the run dies, a partial file stays
        download.download_file(url_of(server), dest, retry=download.RetryPolicy(attempts=0, timeout_seconds=5))
    kept = (tmp_path / "a.zip.part").stat().st_size
    assert 0 < kept <= int(0.4 * len(data)) and not dest.exists()  # whole chunks received before the drop
    server.faults.drop_after, server.faults.drops = int(0.3 * len(data)), 1  # and it drops once more
    fetched = download.download_file(url_of(server), dest, retry=FAST)
    assert dest.read_bytes() == data
    assert fetched == len(data) - kept
    assert server.bytes_sent < 1.2 * len(data)
    assert sorted(set(server.statuses())) == [206]
    assert not (tmp_path / "a.zip.part").exists() and not (tmp_path / "a.zip.part.json").exists()


def test_503_answers_are_retried(archive, server, tmp_path):
    server.faults.fail_503 = 3
    download.download_file(url_of(server), tmp_path / "a.zip", retry=FAST)
    assert (tmp_path / "a.zip").read_bytes() == archive[2]
    assert server.statuses() == [503, 503, 503, 206]


def test_too_many_failures_is_a_clear_error(server, tmp_path):
    server.faults.fail_503 = 10
    with pytest.raises(UserError, match="failed after 3 tries: HTTP 503"):
        download.download_file(url_of(server), tmp_path / "a.zip", retry=download.RetryPolicy(2, 0.001))


def test_changed_etag_restarts_from_zero(archive, server, tmp_path, caplog):
    dest = tmp_path / "a.zip"
    server.faults.drop_after, server.faults.drops = 5000, 1
    with pytest.raises(UserError):
        download.download_file(url_of(server), dest, retry=download.RetryPolicy(attempts=0, timeout_seconds=5))
    new = archive[2][::-1]  # a new version of the file: same size, other bytes, other ETag
    server.put("/dataset_small_v1.1.zip", new)
    with caplog.at_level(logging.WARNING, logger="vitocc"):
        fetched = download.download_file(url_of(server), dest, retry=FAST)
    assert dest.read_bytes() == new and fetched == len(new)
    assert "changed on the server" in caplog.text


def test_sha256_is_checked_and_a_mismatch_keeps_the_file(archive, server, tmp_path):
    good = download.sha256_file(archive[1])
    with pytest.raises(UserError, match="sha256"):
        download.download_file(url_of(server), tmp_path / "a.zip", sha256="0" * 64, retry=FAST)
    assert (tmp_path / "a.zip.part").stat().st_size == len(archive[2])  # complete, kept for a retry
    sent = server.bytes_sent
    download.download_file(url_of(server), tmp_path / "a.zip", sha256=good, retry=FAST)
    assert server.bytes_sent == sent and (tmp_path / "a.zip").read_bytes() == archive[2]


def test_too_little_disk_space_is_refused_before_any_byte(server, tmp_path):
    server.faults.head_size = 10**16  # the server announces 10 PB
    with pytest.raises(UserError, match=r"not enough disk space.*GB \(.*GiB\)"):
        fetch_dataset(SHAPENET, tmp_path / "data", url=url_of(server), retry=FAST)
    assert server.bytes_sent == 0 and not (tmp_path / "data").exists()


def test_selective_disk_check_refuses_before_writing(server, tmp_path):
    with pytest.raises(UserError, match="not enough disk space"):
        fetch_dataset(SHAPENET, tmp_path, url=url_of(server), categories=["chair"], retry=FAST,
                      free=lambda path: 1000)
    assert not any(tmp_path.iterdir())


# -- selective downloads --------------------------------------------------------------------


def test_selective_one_class_fetches_a_fraction_and_loads(archive, server, tmp_path):
    src, _, data = archive
    summary = fetch_dataset(SHAPENET, tmp_path, url=url_of(server), categories=["chair"], retry=FAST)
    root = tmp_path / "ShapeNet"
    assert summary.mode == "selective" and summary.classes == ["03001627"]
    assert summary.bytes_fetched == server.bytes_sent < 0.45 * len(data)  # one class of three + directory
    assert len(server.statuses()) <= 4  # tail, ZIP64 record, directory, one merged range
    got = tree_files(root)
    assert yaml_classes(got.pop(layout.METADATA_FILE)) == {"03001627": "chair"}
    assert got == source_files(src, {"03001627"})
    assert layout.read_metadata(root) == {"03001627": "chair"}
    test_models = layout.read_split_list(root / "03001627", "test")
    points, occ = layout.read_points_npz(root / "03001627" / test_models[0] / layout.POINTS_FILE)
    assert points.shape == (2048, 3) and occ.any()
    world, cam = layout.read_cameras_npz(root / "03001627" / test_models[0] / layout.IMG_FOLDER / "cameras.npz", 2)
    assert world.shape == (3, 4) and cam.shape == (3, 3)
    print(f"\nselective chair: {summary.bytes_fetched} of {len(data)} bytes "
          f"({summary.bytes_fetched / len(data):.1%}) in {len(server.statuses())} GETs")


def yaml_classes(text: bytes) -> dict[str, str]:
    import yaml

    return {k: v["name"] for k, v in yaml.safe_load(text).items()}


def test_selective_max_models_writes_limited_lists_and_resumes(archive, server, tmp_path):
    src = archive[0]
    # a small merge gap, as 1 MiB (right for 2 MB models) would merge this whole small archive
    summary = fetch_dataset(SHAPENET, tmp_path, url=url_of(server), categories=["table", "03001627"],
                            max_models=3, retry=FAST, merge_gap=4096)
    root = tmp_path / "ShapeNet"
    assert summary.models == 6 and sorted(summary.classes) == ["03001627", "04379243"]
    print(f"\nchair+table, 3 models each: {summary.bytes_fetched} of {len(archive[2])} bytes in "
          f"{len(server.statuses())} GETs")
    assert summary.bytes_fetched < 0.6 * len(archive[2])  # 6 of 12 models + lists + directory
    for synset in ("03001627", "04379243"):
        lists = {s: layout.read_split_list(root / synset, s) for s in layout.SPLITS}
        full = {s: layout.read_split_list(src / synset, s) for s in layout.SPLITS}
        assert lists == {"train": full["train"][:1], "val": full["val"], "test": full["test"]}
        assert sorted(p.name for p in (root / synset).iterdir() if p.is_dir()) == sorted(sum(lists.values(), []))
    models = {m for s in ("03001627", "04379243") for split in layout.SPLITS
              for m in layout.read_split_list(root / s, split)}
    expect = source_files(src, {"03001627", "04379243"}, models)
    got = {k: v for k, v in tree_files(root).items() if not k.endswith((".lst", ".yaml"))}
    assert got == expect
    # resume: a lost file and a truncated one are fetched again, the rest is kept
    lost, cut = sorted(root.rglob("*.jpg"))[:2]
    lost.unlink()
    cut.write_bytes(cut.read_bytes()[:100])
    again = fetch_dataset(SHAPENET, tmp_path, url=url_of(server), categories=["table", "chair"], max_models=3,
                          retry=FAST)
    assert again.files_written == 2 and again.files_kept == len(expect) - 2
    assert {k: v for k, v in tree_files(root).items() if not k.endswith((".lst", ".yaml"))} == expect


def test_server_ignoring_range_falls_back_to_full_download(archive, server, tmp_path, caplog):
    server.faults.ignore_range = True
    with caplog.at_level(logging.WARNING, logger="vitocc"):
        summary = fetch_dataset(SHAPENET, tmp_path, url=url_of(server), categories=["airplane"], retry=FAST)
    assert "ignores Range" in caplog.text and summary.mode == "full"
    got = tree_files(tmp_path / "ShapeNet")
    got.pop(layout.METADATA_FILE)
    assert got == source_files(archive[0], {"02691156"})
    assert not (tmp_path / "dataset_small_v1.1.zip").exists()


def test_unknown_category_names_the_choices(server, tmp_path):
    with pytest.raises(UserError, match="unknown category 'spaceship'.*chair \\(03001627\\)"):
        fetch_dataset(SHAPENET, tmp_path, url=url_of(server), categories=["spaceship"], retry=FAST)
    with pytest.raises(UserError, match="not in the archive: 'lamp' \\(03636649\\)"):
        fetch_dataset(SHAPENET, tmp_path, url=url_of(server), categories=["lamp"], retry=FAST)


def test_bad_categories_and_an_unreachable_host_fail_before_any_request(tmp_path):
    """The published ShapeNet zip: its classes are known, so no request is made for bad ones;
    a host that does not resolve fails at once, naming it, instead of retrying for minutes."""
    start = time.perf_counter()
    with pytest.raises(UserError, match="unknown categories 'notaclass', 'xyz'"):
        fetch_dataset(SHAPENET, tmp_path, categories=["chair", "notaclass", "xyz"])
    offline = dataclasses.replace(SHAPENET, url="https://no-such-host.invalid/dataset_small_v1.1.zip")
    with pytest.raises(UserError, match="cannot reach no-such-host.invalid"):
        fetch_dataset(offline, tmp_path, categories=["chair"])
    assert time.perf_counter() - start < 10 and not any(tmp_path.iterdir())


def test_a_host_that_refuses_the_first_contact_fails_at_once_naming_it(tmp_path):
    """Nothing listens on the port (a wrong URL, or offline behind a resolver): one line in a second, not the
    default policy's 8 retries over 3 minutes. Failures after the first contact are still retried (the resume tests)."""
    import socket

    with socket.socket() as closed:  # a port that was free a moment ago: connecting to it is refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    start = time.perf_counter()
    with pytest.raises(UserError, match=f"cannot reach 127.0.0.1:{port}: connection refused"):
        fetch_dataset(SHAPENET, tmp_path, url=f"http://127.0.0.1:{port}/dataset_small_v1.1.zip")
    assert time.perf_counter() - start < 10 and not any(tmp_path.iterdir())


def test_subsets_extend_metadata_and_never_shorten_a_whole_class(archive, tmp_path):
    src, zip_path, _ = archive
    root = tmp_path / "ShapeNet"
    fetch_dataset(SHAPENET, tmp_path, url=zip_path.as_uri(), categories=["chair"], max_models=1)
    assert layout.read_metadata(root) == {"03001627": "chair"}
    assert sum(len(layout.read_split_list(root / "03001627", s)) for s in layout.SPLITS) == 1
    fetch_dataset(SHAPENET, tmp_path, url=zip_path.as_uri(), categories=["table"])  # whole class
    assert layout.read_metadata(root) == {"03001627": "chair", "04379243": "table"}
    fetch_dataset(SHAPENET, tmp_path, url=zip_path.as_uri(), categories=["table"], max_models=1)
    for split in layout.SPLITS:  # the whole class keeps the archive's lists
        assert layout.read_split_list(root / "04379243", split) == layout.read_split_list(src / "04379243", split)


# -- extraction safety ----------------------------------------------------------------------


def symlink_zip(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ShapeNet/03001627/m/points.npz", b"x")
        info = zipfile.ZipInfo("ShapeNet/03001627/m/link")
        info.external_attr = 0o120777 << 16
        zf.writestr(info, "/etc/passwd")


@pytest.mark.parametrize("bad, reason", [
    ("../evil", "contains '..'"),
    ("ShapeNet/03001627/../../evil", "contains '..'"),
    ("/tmp/vitocc_evil_abs", "is an absolute path"),
    ("ShapeNet\\..\\evil", "backslash"),
    (None, "is a symbolic link"),
])
def test_hostile_member_names_are_refused_and_nothing_is_written(tmp_path, bad, reason):
    zip_path = tmp_path / "evil.zip"
    if bad is None:
        symlink_zip(zip_path)
    else:
        with zipfile.ZipFile(zip_path, "w") as zf:
            zf.writestr("ShapeNet/03001627/m/points.npz", b"fine")
            zf.writestr(zipfile.ZipInfo("ShapeNet/03001627/m/zz"), b"x")
            info = zipfile.ZipInfo("placeholder")
            info.filename = bad  # zipfile would normalise the name; a hostile tool does not
            zf.writestr(info, b"evil")
    dest = tmp_path / "dest"
    with pytest.raises(UserError, match=f"unsafe archive.*{reason}"):
        fetch_dataset(SHAPENET, dest, url=zip_path.as_uri())
    assert not dest.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.zip"]
    assert not Path("/tmp/vitocc_evil_abs").exists()


def test_corrupt_member_fails_its_crc(archive, tmp_path):
    data = bytearray(archive[2])
    member = next(m for m in remote_zip.read_central_directory(remote_zip.LocalFileReader(archive[1]))
                  if m.name.endswith("001.jpg"))  # stored: the flipped byte reaches the CRC as is
    data[member.end - 100] ^= 0xFF
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    with pytest.raises(UserError, match=f"{member.name}: CRC check failed"):
        fetch_dataset(SHAPENET, tmp_path / "dest", url=bad.as_uri())
    assert not extract.target_path(tmp_path / "dest", member).exists()


def test_local_zip_extraction_resumes(archive, tmp_path):
    src, zip_path, _ = archive
    first = fetch_dataset(SHAPENET, tmp_path, url=zip_path.as_uri(), categories=["airplane"])
    root = tmp_path / "ShapeNet"
    files = sorted(p for p in root.rglob("*.npz"))
    files[0].write_bytes(b"partial")
    files[1].unlink()
    again = fetch_dataset(SHAPENET, tmp_path, url=zip_path.as_uri(), categories=["airplane"])
    assert (first.files_written, again.files_written, again.files_kept) == (
        first.files_written, 2, first.files_written - 2)
    assert zip_path.exists()  # a file:// archive is the user's: never deleted
    got = tree_files(root)
    got.pop(layout.METADATA_FILE)
    assert got == source_files(src, {"02691156"})


# -- command line ---------------------------------------------------------------------------


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "vitocc", *args], capture_output=True, text=True, timeout=120)


def test_cli_list_and_one_line_errors(archive, tmp_path):
    listed = run_cli("download", "--list")
    assert listed.returncode == 0 and "shapenet" in listed.stdout and "73.40 GB" in listed.stdout
    for args, message in [
        (("download", "shapenet", "--url", "ftp://host/x.zip"), "unsupported URL"),
        (("download", "shapenet", "--url", archive[1].as_uri(), "--categories", "spaceship"), "unknown category"),
        (("download", "mnist"), "unknown data set 'mnist'"),
        (("download",), "name the data set to download"),
    ]:
        out = run_cli(*args, "--dest", str(tmp_path / "d"))
        lines = [line for line in out.stderr.splitlines() if line.strip()]
        assert out.returncode == 2 and len(lines) == 1 and message in lines[0], out.stderr


def test_cli_selective_subset_then_summary(archive, tmp_path):
    out = run_cli("-q", "download", "shapenet", "--url", archive[1].as_uri(), "--dest", str(tmp_path),
                  "--categories", "chair", "--max-models", "2")
    assert out.returncode == 0, out.stderr
    assert "1 classes (chair 03001627), 2 models" in out.stdout and "files written" in out.stdout
    assert layout.read_split_list(tmp_path / "ShapeNet" / "03001627", "train")
