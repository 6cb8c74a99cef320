"""What the evaluation files hold: metric definitions, class means, and CSV reading/writing.

Every value in the files is in the unit-cube frame of the data set (longest side 1); the
one exception is the column `chamfer_l1_x10`, Chamfer-L1 times 10 ("paper units"), which
per_class.csv and summary.json carry beside `chamfer_l1` because papers print that.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from vitocc.errors import UserError
from vitocc.io import write_text

UNITS = ("unit-cube frame of the data set (bounding box centred at 0, longest side 1); "
         "chamfer_l1_x10 = 10 x chamfer_l1 ('paper units', as the Occupancy Networks tables)")
EMPTY_CONVENTION = (
    "an empty predicted mesh gets accuracy = completeness = sqrt(3), accuracy2 = completeness2 = 3, "
    "normals -1, IoU 0, F-scores 0, and no Chamfer value (NaN): as in the paper's evaluator, whose "
    "means skipped the missing Chamfer of empty meshes; n_empty counts them per class")


@dataclass(frozen=True)
class Metric:
    """A column of the result files: how it is defined and which way is better."""

    key: str
    label: str  # table header, with its unit factor when there is one
    higher_is_better: bool
    definition: str
    scale: float = 1.0  # shown value = stored value * scale (tables only)


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("iou", "IoU", True, "|pred and GT| / |pred or GT| of occupancy at the 100k points of points.npz "
           "(1e-4 jitter), pred occupancy from an inside test against the predicted mesh"),
    Metric("chamfer_l1", "Chamfer-L1", False, "(accuracy + completeness) / 2"),
    Metric("chamfer_l1_x10", "Chamfer-L1 x10", False, "10 x chamfer_l1 (paper units)"),
    Metric("chamfer_l2", "Chamfer-L2", False, "(accuracy2 + completeness2) / 2"),
    Metric("accuracy", "Accuracy", False, "mean distance from 100k samples on the prediction to the nearest "
           "GT point of pointcloud.npz"),
    Metric("completeness", "Completeness", False, "mean distance from the GT points of pointcloud.npz to the "
           "nearest of 100k samples on the prediction"),
    Metric("accuracy2", "Accuracy2", False, "mean squared distance prediction -> GT"),
    Metric("completeness2", "Completeness2", False, "mean squared distance GT -> prediction"),
    Metric("normal_consistency", "NC", True, "(normals_accuracy + normals_completeness) / 2"),
    Metric("normals_accuracy", "NC acc", True, "mean |dot| of unit normals, prediction samples (face normals) "
           "vs their nearest GT point"),
    Metric("normals_completeness", "NC comp", True, "mean |dot| of unit normals, GT points vs their nearest "
           "prediction sample"),
)}


def fscore_metrics(thresholds: Iterable[float]) -> list[Metric]:
    """F-score, precision and recall columns for each threshold tau (unit-cube distance)."""
    out = []
    for tau in thresholds:
        pct = f"{100 * tau:g}%"
        out += [
            Metric(f"fscore@{tau:g}", f"F@{pct}", True, f"2PR/(P+R) at tau = {tau:g} ({pct} of the unit cube)"),
            Metric(f"precision@{tau:g}", f"P@{pct}", True, f"share of prediction samples within {tau:g} of GT"),
            Metric(f"recall@{tau:g}", f"R@{pct}", True, f"share of GT points within {tau:g} of the prediction"),
        ]
    return out


def metric_for(key: str) -> Metric:
    """The Metric of a column name (including `fscore@tau` style ones)."""
    if key in METRICS:
        return METRICS[key]
    if "@" in key:
        return next(m for m in fscore_metrics([float(key.split("@")[1])]) if m.key == key)
    raise KeyError(key)


def thresholds_of(columns: Iterable[str]) -> list[float]:
    """F-score thresholds present in a set of column names, in order."""
    return [float(c.split("@")[1]) for c in columns if c.startswith("fscore@")]


def _mean(values: Sequence[float]) -> float:
    """Mean of the finite values (NaN when there is none), as pandas' mean skips NaN."""
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else float("nan")


def class_means(per_shape: Sequence[dict], metric_keys: Sequence[str]) -> list[dict]:
    """One row per class (in first-seen order) with the mean of each metric over its shapes,
    then the row `mean` with the mean over classes (the paper's averaging).

    per_shape rows need `class_id`, `class`, `empty` and the metric keys. NaN values (the
    Chamfer of empty meshes) are skipped. Rows gain `chamfer_l1_x10`.
    """
    groups: dict[str, list[dict]] = {}
    for row in per_shape:
        groups.setdefault(row["class_id"], []).append(row)
    rows = []
    for class_id, shapes in groups.items():
        row = {"class_id": class_id, "class": shapes[0]["class"], "n_shapes": len(shapes),
               "n_empty": sum(int(s["empty"]) for s in shapes)}
        row.update({key: _mean([float(s[key]) for s in shapes]) for key in metric_keys})
        rows.append(_with_x10(row))
    mean = {"class_id": "", "class": "mean", "n_shapes": sum(r["n_shapes"] for r in rows),
            "n_empty": sum(r["n_empty"] for r in rows)}
    mean.update({key: _mean([r[key] for r in rows]) for key in metric_keys})
    return rows + [_with_x10(mean)]


def _with_x10(row: dict) -> dict:
    if "chamfer_l1" in row:
        row["chamfer_l1_x10"] = 10.0 * row["chamfer_l1"]
    return row


def to_csv(rows: Sequence[dict], columns: Sequence[str]) -> str:
    """CSV text of `rows` with `columns`; floats with 9 significant digits, NaN as `nan`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([f"{v:.9g}" if isinstance(v, float) else v for v in (row.get(c, "") for c in columns)])
    return buffer.getvalue()


def write_csv(path: str | Path, rows: Sequence[dict], columns: Sequence[str]) -> None:
    """Atomically write `rows` as CSV."""
    write_text(path, to_csv(rows, columns))


def read_csv(path: str | Path) -> list[dict]:
    """Rows of a result CSV, numbers as float (ids and names stay strings)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"missing {path}", "run `vitocc evaluate RUN_DIR` first")
    with open(path, newline="") as f:
        return [{k: _number(k, v) for k, v in row.items()} for row in csv.DictReader(f)]


def _number(key: str, value: str) -> float | str:
    if key in ("class_id", "class", "model_id"):
        return value
    try:
        return float(value)
    except ValueError:
        return value
