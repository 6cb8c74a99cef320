"""End to end: `vitocc reconstruct` and `vitocc mise` with a tiny randomly initialised model in a run directory."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import trimesh
from PIL import Image

from box_data import write_box_dataset
from run_dirs import write_run
from vitocc.cli import main
from vitocc.config import load_config
from vitocc.generation import generate_split, plan_split
from vitocc.models import build_model


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, box_dataset):
    """A run directory with config.yaml and checkpoints/last.pt of a small random model reading box_dataset."""
    torch.set_num_threads(2)
    cfg = load_config(None, [
        "model.encoder=resnet18", "model.c_dim=32", "model.hidden_size=32", "model.n_blocks=2",
        "data.img_size=32", f"data.path={box_dataset}", "data.num_workers=0",
        "generation.resolution0=8", "generation.upsampling_steps=2", "generation.batch_size=2",
    ])
    torch.manual_seed(0)
    model = build_model(cfg, pretrained=False)
    # Non-zero CBN weights make the random field depend on the image, as a trained one does;
    # larger input and output weights give it surfaces inside the box at thresholds 0.2 and 0.5.
    for name, p in model.decoder.named_parameters():
        if "gamma.weight" in name or "beta.weight" in name or "fc_1" in name:
            torch.nn.init.normal_(p, std=0.5)
    with torch.no_grad():
        model.decoder.fc_p.weight.mul_(4.0)
        model.decoder.fc_out.weight.mul_(3.0)
        model.decoder.fc_out.bias.zero_()
    return write_run(tmp_path_factory.mktemp("run"), cfg, model)


def run_cli(*args) -> int:
    try:
        main(list(args))
    except SystemExit as exc:
        return exc.code
    return 0


def test_reconstruct_several_images_reports_bad_files_and_keeps_going(tiny_run, box_dataset, tmp_path, capsys):
    render = next(box_dataset.glob("*/*/img_choy2016/000.jpg"))
    rgba = np.zeros((80, 80, 4), np.uint8)
    rgba[20:60, 25:55] = (200, 40, 40, 255)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "cutout.png")
    (tmp_path / "notes.png").write_text("not a picture")
    out = tmp_path / "meshes"
    code = run_cli("reconstruct", str(render), str(tmp_path / "cutout.png"), str(tmp_path / "notes.png"),
                   str(tmp_path / "missing.jpg"),
                   "-o", str(out), "--checkpoint", str(tiny_run), "--format", "ply",
                   "--preview", str(tmp_path / "preview.png"))
    captured = capsys.readouterr()
    assert code == 1
    errors = [line for line in captured.err.splitlines() if "notes.png" in line]
    assert len(errors) == 1 and "not an image" in errors[0]
    assert sum("missing.jpg" in line and "no such file" in line for line in captured.err.splitlines()) == 1
    assert sorted(p.name for p in out.iterdir()) == ["000.ply", "cutout.ply"]
    for path in out.iterdir():
        mesh = trimesh.load(path, force="mesh")
        assert len(mesh.faces) > 0 and mesh.is_watertight  # after trimesh's vertex merging
        assert np.abs(mesh.vertices).max() <= 0.55 + 0.01 * 1.1 / 32 + 1e-6  # box + closing cap
    assert "watertight yes" in captured.out and "faces" in captured.out
    preview = Image.open(tmp_path / "preview.png")
    assert preview.width > 3 * preview.height / 2  # two rows of input + 3 renders


def test_reconstruct_one_image_to_a_file_with_overrides(tiny_run, box_dataset, tmp_path):
    render = next(box_dataset.glob("*/*/img_choy2016/001.jpg"))
    code = run_cli("reconstruct", str(render), "-o", str(tmp_path / "one.glb"), "--checkpoint",
                   str(tiny_run / "checkpoints" / "last.pt"), "--resolution", "4", "--upsampling", "1",
                   "--threshold", "0.5", "--no-crop", "--amp", "bf16")  # CPU bf16 autocast path
    assert code == 0
    assert len(trimesh.load(tmp_path / "one.glb", force="mesh").faces) > 0


def test_reconstruct_rejects_a_file_output_for_many_images(tiny_run, box_dataset, tmp_path, capsys):
    renders = [str(p) for p in list(box_dataset.glob("*/*/img_choy2016/000.jpg"))[:2]]
    assert run_cli("reconstruct", *renders, "-o", str(tmp_path / "x.obj"), "--checkpoint", str(tiny_run)) == 2
    assert "give a folder" in capsys.readouterr().err


def test_mise_generates_a_split_and_resumes(tiny_run, box_dataset, capsys):
    assert run_cli("mise", str(tiny_run), "--split", "test", "--batch-size", "2") == 0
    out = tiny_run / "generation" / "test"
    meshes = sorted(out.glob("meshes/*/*.obj"))
    expected = sorted((box_dataset / synset).name for synset in ("03001627", "04379243"))
    assert sorted(p.parent.name for p in meshes) == expected and len(meshes) == 2
    for mesh_file in meshes:
        model = mesh_file.stem
        assert model in (box_dataset / mesh_file.parent.name / "test.lst").read_text()
        assert (out / "inputs" / mesh_file.parent.name / f"{model}.jpg").read_bytes() == (
            box_dataset / mesh_file.parent.name / model / "img_choy2016" / "000.jpg").read_bytes()
    stats = json.loads((out / "stats.json").read_text())
    assert stats["generated"] == 2 and stats["skipped"] == 0 and stats["failed"] == []
    assert stats["dense_points"] == 33**3 and 0 < stats["points_queried_per_shape"] <= 33**3
    assert set(stats["seconds_by_stage"]) >= {"encode", "mise_decoder", "mise_other", "marching_cubes", "write"}
    assert "2 generated" in capsys.readouterr().out

    stamps = {p: p.stat().st_mtime_ns for p in [*meshes, out / "stats.json"]}
    assert run_cli("mise", str(tiny_run)) == 0
    assert "0 generated, 2 already there" in capsys.readouterr().out
    assert all(p.stat().st_mtime_ns == t for p, t in stamps.items())  # meshes and their stats kept
    assert run_cli("mise", str(tiny_run), "--overwrite", "--upsampling", "1") == 0
    stats = json.loads((out / "stats.json").read_text())
    assert stats["generated"] == 2 and stats["dense_points"] == 17**3


def test_mise_interrupted_while_writing_a_shape_resumes_with_every_input_picture(tiny_run, tmp_path, monkeypatch):
    """A shape's mesh is its 'done' mark: stopped when the input picture of a shape is to be written (KeyboardInterrupt
    stands for the kill), the rerun must still write that picture. With the mesh written first, the rerun skipped
    the shape and its picture was never written (found by benchmarks/kill_resume.py)."""
    import vitocc.io

    data = write_box_dataset(tmp_path / "data", {"03001627": "chair"}, models_per_class=8, n_points=256, n_views=1)
    run = tmp_path / "run"

    def stop(path, content):
        raise KeyboardInterrupt

    monkeypatch.setattr(vitocc.io, "write_bytes", stop)  # the first shape's input picture
    with pytest.raises(KeyboardInterrupt):
        generate_split(plan_split(run, "test", source=tiny_run, data=data))
    monkeypatch.undo()
    generate_split(plan_split(run, "test", source=tiny_run, data=data))
    out = run / "generation" / "test"
    meshes = sorted(p.stem for p in out.glob("meshes/*/*.obj"))
    assert meshes and meshes == sorted(p.stem for p in out.glob("inputs/*/*.jpg"))


def test_simplification_refinement_and_field_normals_with_the_model(tiny_run, tmp_path):
    from vitocc.generation import generate_meshes, save_mesh
    from vitocc.models import load_model

    model, cfg = load_model(tiny_run)
    gen = cfg.generation
    gen.simplify_nfaces, gen.refinement_steps, gen.vertex_normals = 300, 3, True
    images = torch.randn(2, 3, model.image_size, model.image_size)
    (mesh, info), _ = generate_meshes(model, images, gen)
    assert 0 < info.faces <= 300 and mesh.is_closed and info.watertight
    assert set(info.stages) == {"encode", "mise_decoder", "mise_other", "marching_cubes", "postprocess"}
    normals = mesh.vertex_normals
    np.testing.assert_allclose(np.linalg.norm(normals, axis=1), 1.0, atol=1e-5)
    from_faces = trimesh.Trimesh(mesh.vertices, mesh.faces).vertex_normals
    assert (np.einsum("ij,ij->i", normals, from_faces) > 0).mean() > 0.9  # outward, like the faces
    assert all(p.grad is None for p in model.parameters())  # refinement leaves the model alone
    save_mesh(mesh, tmp_path / "m.obj")
    assert (tmp_path / "m.obj").read_text().count("\nvn ") == len(mesh.vertices)


def test_a_broken_shape_is_reported_and_the_others_generated(tiny_run, tmp_path):
    data = write_box_dataset(tmp_path / "data", {"03001627": "chair"}, models_per_class=8, n_points=256, n_views=1)
    broken, fine = (data / "03001627" / "test.lst").read_text().split()
    (data / "03001627" / broken / "img_choy2016" / "000.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    run = tmp_path / "run"
    stats = generate_split(plan_split(run, "test", source=tiny_run, data=data))
    assert stats.generated == 1 and len(stats.failed) == 1 and broken in stats.failed[0]["error"]
    assert stats.failed[0]["model_id"] == broken and stats.failed[0]["class_id"] == "03001627"
    assert [p.stem for p in run.glob("generation/test/meshes/*/*.obj")] == [fine]
    assert json.loads((run / "generation" / "test" / "stats.json").read_text())["failed"] == stats.failed


def test_reconstruct_images_from_python_takes_paths_and_pil_images(tiny_run, box_dataset):
    from vitocc.generation import reconstruct_images
    from vitocc.models import load_model

    model, cfg = load_model(tiny_run)
    render = next(box_dataset.glob("*/*/img_choy2016/000.jpg"))
    results = reconstruct_images([render, Image.open(render)], model, cfg.generation)
    assert len(results) == 2
    (mesh_a, info_a), (mesh_b, info_b) = results
    assert np.array_equal(mesh_a.faces, mesh_b.faces)  # same picture, same mesh
    assert info_a.picture.width == info_a.picture.height and info_a.faces == len(mesh_a.faces) > 0


def test_reconstruct_never_replaces_an_input_or_an_existing_file(tiny_run, box_dataset, tmp_path, capsys):
    """Checked before the model loads: the preview on the input picture, an existing mesh, a folder."""
    picture = tmp_path / "car.png"
    Image.open(next(box_dataset.glob("*/*/img_choy2016/000.jpg"))).save(picture)
    before = picture.read_bytes()
    ckpt = ["--checkpoint", str(tiny_run)]
    assert run_cli("reconstruct", str(picture), "-o", str(tmp_path / "car.obj"), "--preview", str(picture), *ckpt) == 2
    assert picture.read_bytes() == before and not (tmp_path / "car.obj").exists()
    assert "is an input" in capsys.readouterr().err

    (tmp_path / "old.obj").write_text("kept")
    assert run_cli("reconstruct", str(picture), "-o", str(tmp_path / "old.obj"), *ckpt) == 2
    assert (tmp_path / "old.obj").read_text() == "kept" and "--overwrite" in capsys.readouterr().err
    assert run_cli("reconstruct", str(picture), "-o", str(tmp_path / "old.obj"), "--overwrite", *ckpt) == 0
    assert len(trimesh.load(tmp_path / "old.obj", force="mesh").faces) > 0

    (tmp_path / "dir.obj").mkdir()
    assert run_cli("reconstruct", str(picture), "-o", str(tmp_path / "dir.obj"), *ckpt) == 2
    assert "is a folder" in capsys.readouterr().err


def test_reconstruct_makes_a_picture_given_twice_once(tiny_run, box_dataset, tmp_path, capsys):
    picture = next(box_dataset.glob("*/*/img_choy2016/000.jpg"))
    out = tmp_path / "meshes"
    assert run_cli("reconstruct", str(picture), str(picture), "-o", str(out), "--checkpoint", str(tiny_run)) == 0
    assert [p.name for p in out.iterdir()] == ["000.obj"]
    assert capsys.readouterr().out.count("->") == 1


def test_reconstruct_colours_the_mesh_unless_no_colour(tiny_run, box_dataset, tmp_path):
    """A model without a camera head colours through the best-fitting render view; --no-colour writes grey."""
    render = next(box_dataset.glob("*/*/img_choy2016/000.jpg"))
    assert run_cli("reconstruct", str(render), "-o", str(tmp_path / "c.ply"), "--checkpoint", str(tiny_run),
                   "--preview", str(tmp_path / "c.png")) == 0
    coloured = trimesh.load(tmp_path / "c.ply", process=False)
    assert coloured.visual.kind == "vertex"
    picture_colours = np.asarray(Image.open(render).convert("RGB")).reshape(-1, 3)
    object_colours = picture_colours[(picture_colours < 200).any(axis=1)]
    # the mesh's colours are the object's (not white, not the default grey)
    assert np.abs(np.median(coloured.visual.vertex_colors[:, :3], axis=0) - np.median(object_colours, axis=0)).max() < 40
    assert run_cli("reconstruct", str(render), "-o", str(tmp_path / "g.ply"), "--checkpoint", str(tiny_run),
                   "--no-colour", "--preview", str(tmp_path / "g.png")) == 0
    assert trimesh.load(tmp_path / "g.ply", process=False).visual.kind != "vertex"
    renders = [np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB"))[:, 260:].astype(int) for name in "cg"]
    assert np.abs(renders[0] - renders[1]).mean() > 2  # the preview shows the colours


def test_reconstruct_mask_and_keep_background(tiny_run, tmp_path, capsys):
    ramp = (np.linspace(90, 230, 120)[:, None, None] * np.ones((120, 160, 3))).astype(np.uint8)  # a gradient
    ramp[40:90, 50:110] = (150, 20, 20)
    Image.fromarray(ramp).save(tmp_path / "photo.png")
    mask = np.zeros((120, 160), np.uint8)
    mask[40:90, 50:110] = 255
    Image.fromarray(mask).save(tmp_path / "mask.png")
    common = ("--checkpoint", str(tiny_run), "--no-crop", "--preview")
    assert run_cli("reconstruct", str(tmp_path / "photo.png"), "-o", str(tmp_path / "m.obj"), "--mask",
                   str(tmp_path / "mask.png"), *common, str(tmp_path / "m.png")) == 0
    assert run_cli("reconstruct", str(tmp_path / "photo.png"), "-o", str(tmp_path / "k.obj"), "--keep-background",
                   *common, str(tmp_path / "k.png")) == 0
    assert run_cli("reconstruct", str(tmp_path / "photo.png"), "-o", str(tmp_path / "d.obj"), *common,
                   str(tmp_path / "d.png")) == 0
    seen = {name: np.asarray(Image.open(tmp_path / f"{name}.png").convert("RGB"))[:, :256] for name in "mkd"}
    corner = (slice(40, 48), slice(4, 12))  # the picture's top left (the sheet has a 2 px margin; the square adds white rows)
    assert (seen["m"][corner] == 255).all() and (seen["d"][corner] == 255).all()  # background cut (mask or auto)
    assert (seen["k"][corner] < 200).all()  # kept: the gradient's dark top
    assert (tmp_path / "m.obj").read_text().count("\nv ") > 10
    capsys.readouterr()
    assert run_cli("reconstruct", str(tmp_path / "photo.png"), str(tmp_path / "mask.png"), "-o", str(tmp_path / "two"),
                   "--mask", str(tmp_path / "mask.png"), "--checkpoint", str(tiny_run)) == 2
    assert "--mask" in capsys.readouterr().err
