"""`vitocc build-dataset` end to end: a folder of meshes (good, textured, broken) -> the real layout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh
from PIL import Image

from vitocc.data import cameras, layout
from vitocc.data.build.from_meshes import BuildOptions, build_dataset, class_of_folder, model_ids, parse_split
from vitocc.data.writer import Counts
from vitocc.errors import UserError


def vitocc(*args: str, code: int = 0) -> None:
    """Run a vitocc command in this process through the CLI entry point (no interpreter start-up)."""
    from vitocc.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["-q", *args])
    assert exit_info.value.code == code


COUNTS = Counts(n_points=4096, n_surface=4096, n_views=3)
OPTIONS = BuildOptions(classes_from_folders=True, split=(1 / 3, 1 / 3, 1 / 3), seed=3)


def write_mesh_dir(root: Path, write_textured_cube) -> Path:
    """chair/: three good meshes (one textured); mugs/: three good, one corrupt, one with NaNs; one loose file."""
    chair, mugs = root / "chair", root / "mugs"
    for folder in (chair, mugs, chair / "textured"):
        folder.mkdir(parents=True, exist_ok=True)
    seat = trimesh.creation.box([0.5, 0.1, 0.5])
    back = trimesh.creation.box([0.1, 0.5, 0.5]).apply_translation([-0.2, 0.3, 0])
    trimesh.util.concatenate([seat, back]).export(chair / "simple.obj")  # overlapping parts
    write_textured_cube(chair / "textured")
    sphere = trimesh.creation.icosphere(2)
    sphere.visual.vertex_colors = np.tile([30, 160, 90, 255], (len(sphere.vertices), 1))
    sphere.export(chair / "ball.ply")
    trimesh.creation.cylinder(0.3, 0.8).export(mugs / "cup.stl")
    trimesh.creation.annulus(0.2, 0.4, 0.3).export(mugs / "ring.glb")
    trimesh.creation.cone(0.3, 0.5).export(mugs / "lid.off")
    (mugs / "broken.off").write_text("OFF\n3 1 0\n0 0 0\n1 0\n")
    (mugs / "nan.obj").write_text("v 0 0 0\nv 1 0 0\nv nan 1 0\nf 1 2 3\n")
    trimesh.creation.box().export(root / "loose.obj")
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory, textured_cube_file):
    root = tmp_path_factory.mktemp("build")
    mesh_dir = write_mesh_dir(root / "meshes", textured_cube_file)
    result = build_dataset(mesh_dir, root / "data", OPTIONS, COUNTS, workers=2, show_progress=False)
    return mesh_dir, root / "data", result


def test_classes_models_and_skipped_files(built):
    mesh_dir, dest, result = built
    assert result.classes == {"03001627": "chair", "mugs": "mugs"}  # a ShapeNet name maps to its synset
    assert layout.read_metadata(dest) == result.classes
    assert sorted(e.model for e in result.built) == ["ball", "cube", "cup", "lid", "ring", "simple"]
    reasons = {p.name: r for p, r in result.failed}
    assert set(reasons) == {"broken.off", "nan.obj", "loose.obj"}
    assert "NaN" in reasons["nan.obj"] and "class folder" in reasons["loose.obj"]

    report = json.loads((dest / "build_report.json").read_text())
    assert report["counts"] == {"built": 6, "existing": 0, "failed": 3}
    assert {row["file"] for row in report["failed"]} == {"mugs/broken.off", "mugs/nan.obj", "loose.obj"}
    rows = {row["model"]: row for row in report["models"]}
    assert rows["cube"]["file"] == "chair/textured/cube.obj" and rows["cube"]["class"] == "03001627"
    for synset in result.classes:
        lists = {split: layout.read_split_list(dest / synset, split) for split in layout.SPLITS}
        assert [len(v) for v in lists.values()] == [1, 1, 1]
        assert {m for v in lists.values() for m in v} == {r["model"] for r in rows.values() if r["class"] == synset}


def test_model_files_follow_the_real_layout(built):
    _, dest, _ = built
    folder = dest / "03001627" / "cube"
    points, occ = layout.read_points_npz(folder / layout.POINTS_FILE)
    assert points.shape == (4096, 3) and np.abs(points).max() <= 0.55
    inside = np.all(np.abs(points) < 0.5 - 1e-3, axis=1)
    outside = np.any(np.abs(points) > 0.5 + 1e-3, axis=1)
    assert occ[inside].all() and not occ[outside].any()  # the cube fills the normalised box
    with np.load(folder / layout.POINTS_FILE) as f:
        assert f["points"].dtype == np.float16 and float(f["scale"]) == pytest.approx(1 / np.sqrt(3))
        loc, scale = f["loc"], float(f["scale"])
    surface, normals = layout.read_pointcloud_npz(folder / layout.POINTCLOUD_FILE)
    assert np.allclose(np.abs(surface).max(axis=1), 0.5, atol=1e-3)
    assert np.allclose(np.linalg.norm(normals, axis=1), 1, atol=1e-2)
    outward = np.einsum("ij,ij->i", normals, surface) > 0
    assert outward.all()  # normals come oriented, from the cleaned surface
    for view in range(COUNTS.n_views):
        image = np.asarray(Image.open(folder / layout.IMG_FOLDER / layout.image_name(view)))
        world, cam = layout.read_cameras_npz(folder / layout.IMG_FOLDER / layout.CAMERAS_FILE, view)
        pix, _ = cameras.project(surface, world, cam, loc, scale)
        cols, rows = np.clip(np.round(pix - 0.5).astype(int), 0, 136).T
        assert (image[rows, cols].min(axis=1) < 235).mean() > 0.98  # the surface lands on the object
        r, b = image[..., 0].astype(int), image[..., 2].astype(int)
        assert (r > 2 * b + 60).sum() > 100 and (b > 2 * r + 60).sum() > 100  # red and blue texture halves


def test_model_files_depend_only_on_seed_and_id(built, tmp_path):
    """The same file alone, with one worker instead of two, gives byte-identical files."""
    mesh_dir, dest, _ = built
    alone = tmp_path / "meshes" / "mugs"
    alone.mkdir(parents=True)
    (alone / "cup.stl").write_bytes((mesh_dir / "mugs" / "cup.stl").read_bytes())
    build_dataset(tmp_path / "meshes", tmp_path / "data", OPTIONS, COUNTS, workers=1, show_progress=False)
    for name in (layout.POINTS_FILE, layout.POINTCLOUD_FILE, f"{layout.IMG_FOLDER}/{layout.image_name(1)}"):
        assert (tmp_path / "data" / "mugs" / "cup" / name).read_bytes() == (dest / "mugs" / "cup" / name).read_bytes()


def test_output_loads_through_the_data_reader(built):
    from vitocc.config import DataConfig
    from vitocc.data.dataset import ShapeNetDataset

    _, dest, _ = built
    data = ShapeNetDataset(dest, "train", DataConfig(img_size=32, n_views=3), fields=("points", "inputs", "pointcloud"))
    assert len(data) == 2
    item = data[0]
    assert item["inputs"].shape == (3, 32, 32) and item["points"].shape == (2048, 3)


def test_resume_keeps_models_and_refuses_other_settings(built):
    mesh_dir, dest, first = built
    before = (dest / "mugs" / "cup" / layout.POINTS_FILE).stat().st_mtime_ns
    again = build_dataset(mesh_dir, dest, OPTIONS, COUNTS, workers=1, show_progress=False)
    assert not again.built and len(again.existing) == 6
    assert again.splits == first.splits
    assert (dest / "mugs" / "cup" / layout.POINTS_FILE).stat().st_mtime_ns == before
    with pytest.raises(UserError, match="other settings"):
        build_dataset(mesh_dir, dest, OPTIONS, Counts(n_points=100, n_surface=100, n_views=3), show_progress=False)


def test_cli_z_up_and_nothing_built(tmp_path, capsys):
    meshes = tmp_path / "towers"
    meshes.mkdir()
    trimesh.creation.box([0.2, 0.3, 1.0]).export(meshes / "tower.stl")  # tall along z
    vitocc("build-dataset", str(meshes), "--dest", str(tmp_path / "data"), "--up", "z", "--points", "512",
           "--views", "1", "--workers", "1")
    surface, _ = layout.read_pointcloud_npz(tmp_path / "data" / "towers" / "tower" / layout.POINTCLOUD_FILE)
    assert np.argmax(np.ptp(surface, axis=0)) == 1  # now tall along y

    (meshes / "tower.stl").write_bytes(b"solid nothing\nendsolid\n")
    capsys.readouterr()
    vitocc("build-dataset", str(meshes), "--dest", str(tmp_path / "other"), "--points", "512", "--views", "1",
           code=2)
    err = capsys.readouterr().err
    assert "no model could be built" in err and "tower.stl" in err
    assert err.count("no triangles") == 1  # each skipped file is reported once, in the summary
    assert json.loads((tmp_path / "other" / "build_report.json").read_text())["counts"]["failed"] == 1


def test_class_and_model_naming():
    assert class_of_folder("03001627") == ("03001627", "chair")
    assert class_of_folder("Table") == ("04379243", "table")
    assert class_of_folder("my mugs") == ("my_mugs", "my mugs")
    shapenet_v2 = [Path("1a2b/models/model_normalized.obj"), Path("3c4d/models/model_normalized.obj")]
    assert model_ids(shapenet_v2) == ["1a2b", "3c4d"]
    assert model_ids([Path("a/x.obj"), Path("b/y.ply")]) == ["x", "y"]
    assert model_ids([Path("x.obj"), Path("x.ply")]) == ["x", "x-2"]
    assert parse_split("80/5/15") == pytest.approx((0.8, 0.05, 0.15))
    assert parse_split("0/0/100") == (0.0, 0.0, 1.0)
    with pytest.raises(UserError):
        parse_split("80/20")
    with pytest.raises(UserError, match="sums to 120, not 100"):
        parse_split("50/60/10")


def test_a_zero_share_gets_no_models():
    from vitocc.data.writer import split_ids

    ids = [f"m{i}" for i in range(10)]
    assert split_ids(ids, 0, (0.0, 0.0, 1.0)) == {"train": [], "val": [], "test": ids}
    assert {k: len(v) for k, v in split_ids(ids, 0, (0.9, 0.05, 0.05)).items()} == {"train": 8, "val": 1, "test": 1}


TINY_TRAINING = ["model.encoder=resnet18", "data.img_size=32", "model.hidden_size=32", "model.c_dim=32",
                 "model.n_blocks=1", "data.points_subsample=64", "data.num_workers=0", "training.batch_size=2",
                 "training.validate_every=2", "training.checkpoint_every=2", "training.threads=1"]


def test_output_trains_and_evaluates_unchanged(built, tmp_path):
    """vitocc train --data DEST, then mise and evaluate on the run, as on real ShapeNet."""
    import torch

    _, dest, _ = built
    run = tmp_path / "run"
    threads = torch.get_num_threads()  # training.threads=1 sets it for the whole process
    try:
        vitocc("train", "--data", str(dest), "--out", str(run), "--gpu", "-1", "--max-steps", "2",
               *[arg for o in TINY_TRAINING for arg in ("--set", o)])
        vitocc("mise", str(run), "--resolution", "8", "--upsampling", "0", "--gpu", "-1")
        vitocc("evaluate", str(run), "--workers", "1")
    finally:
        torch.set_num_threads(threads)
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert any("val_iou" in r for r in records)  # the val split was read and scored too
    summary = json.loads((run / "evaluation" / "test" / "summary.json").read_text())
    per_class = (run / "evaluation" / "test" / "per_class.csv").read_text()
    assert summary["split"] == "test" and "chair" in per_class and "mugs" in per_class
