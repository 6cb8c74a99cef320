"""The shared model-folder writer: real layout, exact counts, atomic folders, splits, resumable runs."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest
import trimesh

from vitocc import errors
from vitocc.data import layout, writer
from vitocc.errors import UserError

SIZE = np.array([1.0, 0.5, 0.3])  # a box in the canonical frame: longest side 1, centred
SMALL = writer.Counts(n_points=3000, n_surface=2000, n_views=2, antialias=2)


def box_source(size=SIZE) -> writer.ModelSource:
    mesh = trimesh.creation.box(size)
    return writer.ModelSource(mesh=mesh, occupancy_fn=lambda p: np.all(np.abs(p) <= np.asarray(size) / 2, axis=1),
                               face_colors=np.tile([0.8, 0.3, 0.2], (len(mesh.faces), 1)))


def make_box(payload, rng: np.random.Generator) -> writer.ModelSource:
    """A SourceFn: payload is the box size, or "bad" to fail."""
    if payload == "bad":
        raise ValueError("not a mesh")
    return box_source(payload)


def test_write_model_writes_the_real_layout(tmp_path):
    folder = tmp_path / "02958343" / "m0"
    writer.write_model(folder, box_source(), SMALL, np.random.default_rng(0))
    points, occ = layout.read_points_npz(folder / layout.POINTS_FILE)
    assert points.shape == (3000, 3) and np.abs(points).max() <= 0.55
    assert occ.mean() == pytest.approx(SIZE.prod() / 1.1**3, abs=0.02)
    with np.load(folder / layout.POINTS_FILE) as f:
        assert f["points"].dtype == np.float16 and f["occupancies"].dtype == np.uint8
        assert float(f["scale"]) == pytest.approx(1 / np.linalg.norm(SIZE)) and np.all(f["loc"] == 0)
    surface, normals = layout.read_pointcloud_npz(folder / layout.POINTCLOUD_FILE)
    assert surface.shape == normals.shape == (2000, 3)
    assert np.abs(np.abs(surface) - SIZE / 2).min(1).max() < 2.5e-4  # on a face (float16 rounding)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-3)
    images = sorted(p.name for p in (folder / layout.IMG_FOLDER).glob("*.jpg"))
    assert images == ["000.jpg", "001.jpg"]
    world, cam = layout.read_cameras_npz(folder / layout.IMG_FOLDER / layout.CAMERAS_FILE, 1)
    assert world.shape == (3, 4) and cam[0, 0] == pytest.approx(149.844)
    assert [p.name for p in tmp_path.joinpath("02958343").iterdir()] == ["m0"]  # no temp folder left


def test_occupancy_is_evaluated_on_the_stored_float16_points(tmp_path):
    seen = []

    def occupancy_fn(points):
        seen.append(points)
        return points[:, 0] > 0

    source = writer.ModelSource(mesh=trimesh.creation.box(SIZE), occupancy_fn=occupancy_fn)
    writer.write_model(tmp_path / "m", source, SMALL, np.random.default_rng(1))
    points, occ = layout.read_points_npz(tmp_path / "m" / layout.POINTS_FILE, dtype=np.float64)
    assert np.array_equal(seen[0], points) and np.array_equal(occ, points[:, 0] > 0)


def test_failed_model_leaves_no_folder(tmp_path):
    def broken(points):
        raise RuntimeError("boom")

    source = writer.ModelSource(mesh=trimesh.creation.box(SIZE), occupancy_fn=broken)
    with pytest.raises(RuntimeError):
        writer.write_model(tmp_path / "m", source, SMALL, np.random.default_rng(0))
    assert list(tmp_path.iterdir()) == []


def test_npz_files_are_byte_identical_and_undated(tmp_path):
    for name in ("a", "b"):
        writer.write_model(tmp_path / name, box_source(), SMALL, np.random.default_rng(7))
    for file in (layout.POINTS_FILE, layout.POINTCLOUD_FILE, f"{layout.IMG_FOLDER}/{layout.CAMERAS_FILE}",
                 f"{layout.IMG_FOLDER}/000.jpg"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes(), file
    with zipfile.ZipFile(tmp_path / "a" / layout.POINTS_FILE) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_split_ids_is_deterministic_disjoint_and_80_5_15():
    ids = [f"id{i:03d}" for i in range(200)]
    splits = writer.split_ids(ids, seed=3)
    assert splits == writer.split_ids(list(reversed(ids)), seed=3)
    assert [len(splits[s]) for s in ("train", "val", "test")] == [160, 10, 30]
    assert sorted(sum(splits.values(), [])) == ids
    assert splits != writer.split_ids(ids, seed=4)
    small = writer.split_ids(["a", "b", "c"])
    assert [len(small[s]) for s in ("train", "val", "test")] == [1, 1, 1]


def test_dataset_index_is_readable(tmp_path):
    writer.write_dataset_index(tmp_path, {"02958343": "car"}, {"02958343": {"train": ["a", "b"], "val": ["c"], "test": []}})
    assert layout.read_metadata(tmp_path) == {"02958343": "car"}
    assert layout.read_split_list(tmp_path / "02958343", "train") == ["a", "b"]
    assert layout.read_split_list(tmp_path / "02958343", "test") == []


@pytest.mark.parametrize("workers", [1, 2])
def test_build_models_is_resumable_and_collects_failures(tmp_path, workers):
    stale = tmp_path / "c" / f".m1{writer.TEMP_MARK}123"
    stale.mkdir(parents=True)  # left by a killed run
    tasks = [writer.ModelTask(tmp_path / "c" / f"m{i}", payload, (0, i))
             for i, payload in enumerate([[1.0, 0.4, 0.4], [0.6, 1.0, 0.2], "bad"])]
    report = writer.build_models(tasks, make_box, SMALL, workers=workers, show_progress=False)
    assert sorted(p.name for p in report.built) == ["m0", "m1"]
    assert [(p.name, reason) for p, reason in report.failed] == [("m2", "ValueError: not a mesh")]
    assert not stale.exists() and not (tmp_path / "c" / "m2").exists()
    before = (tmp_path / "c" / "m0" / layout.POINTS_FILE).read_bytes()
    again = writer.build_models(tasks, make_box, SMALL, workers=workers, show_progress=False)
    assert sorted(p.name for p in again.skipped) == ["m0", "m1"] and again.built == []
    assert (tmp_path / "c" / "m0" / layout.POINTS_FILE).read_bytes() == before


def test_a_swallowed_ctrl_c_stops_a_serial_build_after_that_model(tmp_path, monkeypatch):
    """A Ctrl-C that a library swallowed inside a model (its record kept by the CLI's handler) stops the
    one-worker loop once that model is written, instead of the run going on with every remaining model."""
    monkeypatch.setattr(errors, "ctrl_c_seen", [])

    def swallowing(payload, rng):
        if payload == "interrupt":
            errors.ctrl_c_seen.append(True)  # what the handler records before its KeyboardInterrupt is lost
            payload = [1.0, 0.4, 0.4]
        return make_box(payload, rng)

    tasks = [writer.ModelTask(tmp_path / "c" / f"m{i}", payload, (0, i))
             for i, payload in enumerate([[1.0, 0.4, 0.4], "interrupt", [0.6, 1.0, 0.2], [0.5, 1.0, 0.5]])]
    with pytest.raises(KeyboardInterrupt):
        writer.build_models(tasks, swallowing, SMALL, workers=1, show_progress=False)
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["m0", "m1"]  # complete folders only


def test_worker_count_does_not_change_the_files(tmp_path):
    tasks = lambda root: [writer.ModelTask(root / f"m{i}", [1.0, 0.3 + 0.1 * i, 0.5], (5, i)) for i in range(2)]  # noqa: E731
    writer.build_models(tasks(tmp_path / "one"), make_box, SMALL, workers=1, show_progress=False)
    writer.build_models(tasks(tmp_path / "two"), make_box, SMALL, workers=2, show_progress=False)
    for i in range(2):
        a = (tmp_path / "one" / f"m{i}" / layout.POINTS_FILE).read_bytes()
        assert a == (tmp_path / "two" / f"m{i}" / layout.POINTS_FILE).read_bytes()


def test_resuming_with_other_settings_is_refused(tmp_path):
    writer.check_build_params(tmp_path, writer.params_of(SMALL, seed=0))
    writer.check_build_params(tmp_path, writer.params_of(SMALL, seed=0))  # same: fine
    with pytest.raises(UserError, match="n_views 2 there, 24 now"):
        writer.check_build_params(tmp_path, writer.params_of(writer.Counts(n_points=3000, n_surface=2000), seed=0))


def test_sample_surface_is_area_weighted(tmp_path):
    mesh = trimesh.creation.box([1.0, 0.1, 0.1])
    points, normals = writer.sample_surface(mesh, 20000, np.random.default_rng(0))
    on_big_faces = np.abs(normals[:, 0]) < 0.5  # 4 faces of 0.1 each vs 2 end faces of 0.01
    assert on_big_faces.mean() == pytest.approx(0.4 / 0.42, abs=0.01)
    assert np.allclose(np.abs(points[~on_big_faces, 0]), 0.5)


def test_existing_model_folders_are_never_overwritten(tmp_path):
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        writer.write_model(tmp_path / "m", box_source(), SMALL, np.random.default_rng(0))
    assert (tmp_path / "m" / "keep.txt").read_text() == "mine"
