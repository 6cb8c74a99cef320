"""`vitocc compare`: two evaluated runs side by side, with the paper's published rows."""

from __future__ import annotations

import csv
import io
import subprocess
import sys

import pytest

from vitocc.cli import main
from vitocc.errors import UserError
from vitocc.evaluation import build_comparison, evaluate_run, load_runs, paper, tables


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory, eval_data, make_run):
    root = tmp_path_factory.mktemp("runs")
    good = make_run(root, "good", eval_data)
    shifted = make_run(root, "shifted", eval_data, shift=0.03)
    for run in (good, shifted):
        evaluate_run(run, workers=1)
    return good, shifted


def run_cli(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out = capsys.readouterr()
    return exit_info.value.code, out.out, out.err


def test_markdown_with_paper_rows_best_values_and_deltas(two_runs):
    good, shifted = two_runs
    out = subprocess.run([sys.executable, "-m", "vitocc", "compare", str(good), str(shifted), "--paper", "--markdown"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "| class | run / method | shapes | IoU ↑ | Chamfer-L1 x10 ↓ | NC ↑ | F@1% ↑ |"
    chair = [line for line in lines if "chair" in line][0]
    assert "| good |" in chair and "**" in chair  # the exact run is best on its class block
    shifted_row = lines[lines.index(chair) + 1]
    assert "| shifted |" in shifted_row and "(-0." in shifted_row and "(+0." in shifted_row  # IoU down, Chamfer up
    published = lines[lines.index(chair) + 2]
    assert "*ONet (published)*" in published and "0.530 | 0.206 | 0.829 | –" in published
    assert any(line.startswith("| **mean** | good |") for line in lines)
    assert "x10 (paper units)" in out.stdout and "published" in out.stdout


def test_csv_is_long_form_with_deltas_against_the_first_run(two_runs, capsys):
    code, out, _ = run_cli(capsys, "compare", *map(str, two_runs), "--csv", "--paper")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    good = [r for r in rows if r["method"] == "good"]
    shifted = [r for r in rows if r["method"] == "shifted"]
    assert [r["class"] for r in good] == ["chair", "table", "mean"]
    assert all(r["delta_iou"] == "" for r in good)
    for g, s in zip(good, shifted):
        assert float(s["delta_iou"]) == pytest.approx(float(s["iou"]) - float(g["iou"]), abs=1e-8)
        assert float(s["delta_chamfer_l1_x10"]) > 0
    onet = [r for r in rows if r["source"] == "published"]
    assert {r["class"] for r in onet} == {"chair", "table", "mean"} and all(r["method"] == "ONet" for r in onet)


def test_rich_table_and_plot(two_runs, capsys, tmp_path):
    code, out, err = run_cli(capsys, "compare", *map(str, two_runs), "--plot", str(tmp_path / "bars.png"))
    assert code == 0
    assert "deltas vs good" in out and "shifted" in out
    assert (tmp_path / "bars.png").read_bytes()[:4] == b"\x89PNG"


def test_plot_without_matplotlib_says_how_to_install(two_runs, monkeypatch, tmp_path):
    table = build_comparison(load_runs(two_runs))
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib -> ImportError
    with pytest.raises(UserError, match="matplotlib") as info:
        tables.plot(table, tmp_path / "x.png")
    assert "vitocc[plot]" in str(info.value)
    assert not (tmp_path / "x.png").exists()


def test_user_errors(two_runs, capsys, tmp_path):
    code, _, err = run_cli(capsys, "compare", str(tmp_path))
    assert code == 2 and "vitocc evaluate" in err
    code, _, err = run_cli(capsys, "compare", str(two_runs[0]), "--csv", "--markdown")
    assert code == 2 and "exclude" in err
    code, out, err = run_cli(capsys, "compare", str(two_runs[0]), "--plot", str(tmp_path / "out.xyz"))
    assert code == 2 and "unknown picture format '.xyz'" in err and not out  # before the table
    (tmp_path / "old.png").write_bytes(b"kept")
    code, out, err = run_cli(capsys, "compare", str(two_runs[0]), "--plot", str(tmp_path / "old.png"))
    assert code == 2 and "--overwrite" in err and (tmp_path / "old.png").read_bytes() == b"kept"
    code, _, _ = run_cli(capsys, "compare", str(two_runs[0]), "--plot", str(tmp_path / "old.png"), "--overwrite")
    assert code == 0 and (tmp_path / "old.png").read_bytes()[:4] == b"\x89PNG"


def test_published_means_follow_the_classes_of_the_run():
    assert paper.published_means(list(paper.ONET_PER_CLASS))["ONet"]["iou"] == 0.593
    assert set(paper.published_means(list(paper.ONET_PER_CLASS))) == {"ONet", "3D-R2N2", "Pix2Mesh", "PSGN", "AtlasNet"}
    subset = paper.published_means(["chair", "table", "spaceship"])
    assert set(subset) == {"ONet"} and subset["ONet"]["iou"] == pytest.approx((0.530 + 0.542) / 2)
    assert paper.published_means(["spaceship"]) == {}
