"""Per-class comparison of runs (and of the paper's published numbers) for `vitocc compare`.

A :class:`Comparison` is a table in long form: for every class (then the `mean` group) one
entry per run, plus published rows where the paper has that class. Best values are found
per group and metric; deltas are against the first run. Rendering lives in
:mod:`vitocc.evaluation.tables`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from vitocc.errors import UserError
from vitocc.evaluation import paper, results
from vitocc.runs import RunDir

MEAN = "mean"


@dataclass
class Entry:
    """One row: a method's metrics on one class (or the mean over classes)."""

    group: str  # class name, or "mean"
    method: str  # run label, or the published method's name
    values: dict[str, float]  # display keys -> value (chamfer already x10)
    published: bool = False
    n_shapes: int | None = None
    n_empty: int | None = None


@dataclass
class Comparison:
    """Entries grouped by class, the displayed metric columns and the reference run."""

    columns: list[results.Metric]
    groups: list[str]
    entries: list[Entry]
    reference: str  # label of the first run: deltas are against it
    notes: list[str] = field(default_factory=list)

    def group(self, name: str) -> list[Entry]:
        return [e for e in self.entries if e.group == name]

    def best(self, name: str, key: str) -> float | None:
        """The best value of metric `key` in group `name` over all its entries (runs and published)."""
        metric = next(m for m in self.columns if m.key == key)
        values = [e.values[key] for e in self.group(name) if _finite(e.values.get(key))]
        if not values:
            return None
        return max(values) if metric.higher_is_better else min(values)

    def delta(self, entry: Entry, key: str) -> float | None:
        """entry - reference run in the same group, for run entries other than the reference."""
        if entry.published or entry.method == self.reference:
            return None
        ref = next((e for e in self.group(entry.group) if e.method == self.reference and not e.published), None)
        if ref is None or not _finite(ref.values.get(key)) or not _finite(entry.values.get(key)):
            return None
        return entry.values[key] - ref.values[key]


def display_columns(thresholds: Sequence[float]) -> list[results.Metric]:
    """IoU, Chamfer-L1 x10, normal consistency and the F-score at the first threshold."""
    cols = [results.METRICS[k] for k in ("iou", "chamfer_l1_x10", "normal_consistency")]
    return cols + [m for m in results.fscore_metrics(thresholds[:1]) if m.key.startswith("fscore@")]


def run_entries(label: str, per_class: Sequence[dict], keys: Sequence[str]) -> list[Entry]:
    """Entries of one run from its per_class.csv rows (the `mean` row included)."""
    return [Entry(str(r["class"]), label, {k: float(r[k]) for k in keys if k in r},
                  n_shapes=int(r["n_shapes"]), n_empty=int(r["n_empty"])) for r in per_class]


def build_comparison(runs: Sequence[tuple[str, Sequence[dict]]], with_paper: bool = False) -> Comparison:
    """A comparison of runs given as (label, per_class rows); `with_paper` adds published rows."""
    thresholds = results.thresholds_of(runs[0][1][0].keys())
    columns = display_columns(thresholds)
    keys = [m.key for m in columns]
    entries: list[Entry] = []
    groups: list[str] = []
    for label, rows in runs:
        for entry in run_entries(label, rows, keys):
            entries.append(entry)
            if entry.group not in groups and entry.group != MEAN:
                groups.append(entry.group)
    groups.append(MEAN)
    notes = []
    class_sets = {label: sorted(str(r["class"]) for r in rows if r["class"] != MEAN) for label, rows in runs}
    if len({tuple(v) for v in class_sets.values()}) > 1:
        notes.append("the runs cover different classes: their means are not comparable")
    if with_paper:
        entries += _published_entries(groups, class_sets[runs[0][0]])
        notes.append(f"published rows: {paper.SOURCE}; real ShapeNet, comparable only on the same data and split")
    order = {g: i for i, g in enumerate(groups)}
    entries.sort(key=lambda e: (order[e.group], e.published))  # stable: runs in order, then published
    return Comparison(columns, groups, entries, runs[0][0], notes)


def _published_entries(groups: list[str], class_names: list[str]) -> list[Entry]:
    out = []
    for group in groups[:-1]:
        values = paper.onet_class(group)
        if values is not None:
            out.append(Entry(group, "ONet", values, published=True))
    for method, values in paper.published_means(class_names).items():
        out.append(Entry(MEAN, method, values, published=True))
    return out


def load_runs(run_dirs: Sequence[str | Path], split: str = "test") -> list[tuple[str, list[dict]]]:
    """(label, per_class rows) of each run's evaluation/<split>/per_class.csv; labels are the folder names
    (made unique with their parent when two runs share a name)."""
    if not run_dirs:
        raise UserError("no run directory given", "pass one or more RUN_DIRs")
    paths = [Path(p) for p in run_dirs]
    names = [p.resolve().name for p in paths]
    labels = [f"{p.resolve().parent.name}/{n}" if names.count(n) > 1 else n for p, n in zip(paths, names)]
    out = []
    for label, path in zip(labels, paths):
        if not path.exists():
            raise UserError(f"{path} does not exist", "pass run directories that `vitocc evaluate` has scored")
        csv_path = RunDir(path).per_class(split)
        if not csv_path.is_file():
            raise UserError(f"{path} has no evaluation of split '{split}' ({csv_path} is missing)",
                            f"run `vitocc evaluate {path} --split {split}` first")
        rows = results.read_csv(csv_path)
        if not rows or rows[-1].get("class") != MEAN:
            raise UserError(f"{csv_path} is not a vitocc per_class.csv", f"rerun `vitocc evaluate {path}`")
        out.append((label, rows))
    return out


def _finite(value: float | None) -> bool:
    return value is not None and not math.isnan(value)
