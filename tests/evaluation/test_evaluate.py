"""`vitocc evaluate` and evaluate_run: a tiny run directory in the real layout -> files, table, cache."""

from __future__ import annotations

import csv
import json
import math
import shutil
import subprocess
import sys
import zlib

import numpy as np
import pytest

from run_dirs import write_run
from vitocc import metrics
from vitocc.errors import UserError
from vitocc.evaluation import evaluate_run
from vitocc.evaluation.results import class_means
from vitocc.mesh_io import load_mesh


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_cli_writes_files_and_prints_the_class_table(tmp_path, eval_data, make_run):
    run = make_run(tmp_path, "exact", eval_data)
    out = subprocess.run([sys.executable, "-m", "vitocc", "evaluate", str(run), "--workers", "2",
                          "--fscore", "0.01,0.02"], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    for header in ("IoU", "Chamfer-L1 x10", "NC", "F@1%", "chair", "table", "mean"):
        assert header in out.stdout
    folder = run / "evaluation" / "test"
    shapes = read_rows(folder / "per_shape.csv")
    assert len(shapes) == 4 and {r["class"] for r in shapes} == {"chair", "table"}
    assert all(float(r["iou"]) > 0.97 for r in shapes)  # the predicted meshes are the GT boxes
    classes = read_rows(folder / "per_class.csv")
    assert [r["class"] for r in classes] == ["chair", "table", "mean"]
    for row in classes:
        assert float(row["chamfer_l1_x10"]) == pytest.approx(10 * float(row["chamfer_l1"]))
        assert "fscore@0.02" in row and float(row["fscore@0.02"]) >= float(row["fscore@0.01"])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["n_shapes"] == 4 and summary["view"] == 0
    assert summary["generation"]["resolution"] == 128 and summary["evaluation"]["thresholds"] == [0.01, 0.02]
    assert "unit-cube" in summary["units"] and "chamfer_l1_x10" in summary["metrics"]
    assert summary["mean_over_classes"]["iou"] == pytest.approx(float(classes[-1]["iou"]))
    assert "4 shapes (0 cached)" in out.stderr


def test_rerun_uses_the_cache_and_reevaluates_changed_meshes(tmp_path, eval_data, make_run):
    run = make_run(tmp_path, "run", eval_data)
    first = evaluate_run(run, workers=1)
    assert first.cached == 0
    again = evaluate_run(run, workers=1)
    assert again.cached == 4 and again.per_shape == first.per_shape
    # a killed run leaves some cache entries and no CSVs: only the rest is evaluated
    changed = run / "generation" / "test" / "meshes" / "03001627" / "627model06.obj"
    make_run(tmp_path / "shifted", "run", eval_data, shift=0.05)
    changed.write_bytes((tmp_path / "shifted" / "run" / changed.relative_to(run)).read_bytes())
    (run / "evaluation" / "test" / "per_shape.csv").unlink()
    next(iter((run / "evaluation" / "test" / "cache" / "04379243").glob("*.json"))).unlink()
    resumed = evaluate_run(run, workers=1)
    assert resumed.cached == 2
    row = next(r for r in resumed.per_shape if r["model_id"] == "627model06")
    assert row["iou"] < first.per_shape[0]["iou"] - 0.05
    assert (run / "evaluation" / "test" / "per_shape.csv").is_file()


def test_one_worker_preparing_ahead_and_two_processes_give_the_same_rows(tmp_path, eval_data, make_run):
    run = make_run(tmp_path, "run", eval_data, shift=0.03, empty=("627model07",))
    one = evaluate_run(run, workers=1)
    shutil.rmtree(run / "evaluation")
    two = evaluate_run(run, workers=2)
    assert one.cached == two.cached == 0

    def values(rows):
        return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]

    # same draws per shape whatever reads it (NaN: the empty mesh's Chamfer, equal as strings)
    assert str(values(one.per_shape)) == str(values(two.per_shape))
    assert all(r["seconds"] > 0 for r in one.per_shape + two.per_shape)
    # ... and they are the shape's own: its generator jitters the GT, then draws the samples
    row = next(r for r in one.per_shape if r["model_id"] == "243model07")
    rng = np.random.default_rng([0, zlib.crc32(b"04379243/243model07")])
    gt = metrics.load_ground_truth(eval_data / "04379243" / "243model07", rng)
    vertices, faces = load_mesh(run / "generation" / "test" / "meshes" / "04379243" / "243model07.obj")
    direct = metrics.evaluate_mesh(vertices, faces, gt, rng, n_points=20_000)
    assert (row["iou"], row["chamfer_l1"]) == (direct.iou, direct.chamfer_l1)


def test_empty_meshes_follow_the_reference_convention(tmp_path, eval_data, make_run):
    run = make_run(tmp_path, "run", eval_data, empty=("627model07",))
    result = evaluate_run(run, workers=1)
    empty = next(r for r in result.per_shape if r["model_id"] == "627model07")
    assert empty["empty"] == 1 and empty["iou"] == 0.0 and math.isnan(empty["chamfer_l1"])
    assert empty["accuracy"] == pytest.approx(math.sqrt(3))
    chair = result.per_class[0]
    other = next(r for r in result.per_shape if r["model_id"] == "627model06")
    assert chair["n_empty"] == 1
    assert chair["chamfer_l1"] == pytest.approx(other["chamfer_l1"])  # NaN skipped, as the reference
    assert chair["iou"] == pytest.approx(other["iou"] / 2)  # IoU 0 counts
    assert "nan" in (run / "evaluation" / "test" / "per_shape.csv").read_text()


def test_class_means_come_first_then_the_mean_over_classes():
    rows = [{"class_id": "a", "class": "chair", "empty": 0, "iou": v, "chamfer_l1": v} for v in (0.2, 0.4, 0.6)]
    rows.append({"class_id": "b", "class": "table", "empty": 1, "iou": 0.0, "chamfer_l1": float("nan")})
    means = class_means(rows, ["iou", "chamfer_l1"])
    assert [m["class"] for m in means] == ["chair", "table", "mean"]
    assert means[0]["iou"] == pytest.approx(0.4) and means[2]["iou"] == pytest.approx(0.2)  # not 1.2 / 4
    assert math.isnan(means[1]["chamfer_l1"]) and means[2]["chamfer_l1"] == pytest.approx(0.4)
    assert means[2]["chamfer_l1_x10"] == pytest.approx(4.0) and means[2]["n_empty"] == 1


def test_missing_meshes_without_a_checkpoint_ask_for_mise(tmp_path, eval_data, make_run):
    run = make_run(tmp_path, "run", eval_data)
    (run / "generation" / "test" / "meshes" / "04379243" / "243model07.obj").unlink()
    with pytest.raises(UserError, match="missing") as info:
        evaluate_run(run, workers=1)
    assert "vitocc mise" in str(info.value)


def test_broken_mesh_is_named_and_the_others_are_cached(tmp_path, eval_data, make_run):
    run = make_run(tmp_path, "run", eval_data)
    (run / "generation" / "test" / "meshes" / "04379243" / "243model07.obj").write_text("f 1 2 3\nv nonsense\n")
    with pytest.raises(UserError, match="243model07") as info:
        evaluate_run(run, workers=1)
    assert "--overwrite" in str(info.value)
    assert len(list((run / "evaluation" / "test" / "cache").rglob("*.json"))) == 3


def test_bad_inputs_are_user_errors(tmp_path, eval_data, make_run):
    run = make_run(tmp_path, "run", eval_data)
    with pytest.raises(UserError, match="not a run directory"):
        evaluate_run(tmp_path, workers=1)
    with pytest.raises(UserError, match="does not exist"):
        evaluate_run(run, data=tmp_path / "nowhere", workers=1)
    with pytest.raises(UserError, match="inside test"):
        evaluate_run(run, inside="parity", workers=1)
    with pytest.raises(UserError, match="thresholds"):
        evaluate_run(run, thresholds=[-0.1], workers=1)


def test_missing_meshes_are_generated_with_the_run_checkpoint(tmp_path, box_dataset):
    """No generation/ yet: evaluate runs `vitocc mise`'s generate_split with the run's checkpoint first."""
    import torch

    from vitocc.config import load_config
    from vitocc.models import build_model

    torch.set_num_threads(2)
    cfg = load_config(None, [
        "model.encoder=resnet18", "model.c_dim=32", "model.hidden_size=32", "model.n_blocks=1",
        "data.img_size=32", f"data.path={box_dataset}", "data.num_workers=0",
        "generation.resolution0=8", "generation.upsampling_steps=1", "test.n_points=5000",
    ])
    torch.manual_seed(0)
    run = write_run(tmp_path / "run", cfg, build_model(cfg, pretrained=False))
    result = evaluate_run(run, workers=1)
    assert len(result.per_shape) == 2  # one test model per class
    assert len(list((run / "generation" / "test" / "meshes").rglob("*.obj"))) == 2
    assert (run / "generation" / "test" / "stats.json").is_file()
    assert result.summary["checkpoint"]["path"].endswith("last.pt")
    assert result.summary["generation"]["resolution"] == 16

    # Meshes made with other weights (`vitocc mise --checkpoint`): the summary names those weights.
    from vitocc.generation import generate_split, plan_split

    other = run / "checkpoints" / "other.pt"
    shutil.copyfile(run / "checkpoints" / "last.pt", other)
    generate_split(plan_split(run, source=other), overwrite=True)
    assert evaluate_run(run, workers=1).summary["checkpoint"]["path"] == str(other)


def test_mise_warns_when_kept_meshes_come_from_other_weights(tmp_path, box_dataset, caplog):
    import logging

    from vitocc.config import load_config
    from vitocc.generation import generate_split, plan_split
    from vitocc.models import build_model

    cfg = load_config(None, ["model.encoder=resnet18", "model.c_dim=16", "model.hidden_size=16", "model.n_blocks=1",
                             "data.img_size=32", f"data.path={box_dataset}", "data.num_workers=0",
                             "generation.resolution0=4", "generation.upsampling_steps=1"])
    run = write_run(tmp_path / "run", cfg, build_model(cfg, pretrained=False))
    generate_split(plan_split(run))
    other = run / "checkpoints" / "other.pt"
    shutil.copyfile(run / "checkpoints" / "last.pt", other)
    next((run / "generation" / "test" / "meshes").rglob("*.obj")).unlink()
    with caplog.at_level(logging.WARNING, logger="vitocc"):
        stats = generate_split(plan_split(run, source=other))
    assert stats.generated == 1 and stats.checkpoint["path"] == str(other)
    assert "1 meshes" in caplog.text and "last.pt" in caplog.text and "--overwrite" in caplog.text
