"""Rendering of a :class:`~vitocc.evaluation.compare.Comparison`: rich, Markdown, CSV, bar chart.

One layout everywhere: a block of rows per class (one per run, then published rows), the
`mean` block last (mean over classes), a column per metric whose header says its unit
factor and direction (Chamfer-L1 x10 = paper units). The best value of a block is bold;
other runs show their difference to the first run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from vitocc.errors import UserError
from vitocc.evaluation.compare import MEAN, Comparison, Entry
from vitocc.evaluation.results import Metric, to_csv


def header(metric: Metric) -> str:
    """Column title with the direction of better: `IoU ↑`, `Chamfer-L1 x10 ↓`."""
    return f"{metric.label} {'↑' if metric.higher_is_better else '↓'}"


def method_label(entry: Entry) -> str:
    return f"{entry.method} (published)" if entry.published else entry.method


def _value(entry: Entry, key: str) -> str:
    value = entry.values.get(key)
    return "–" if value is None or math.isnan(value) else f"{value:.3f}"


def _delta(value: float | None) -> str:
    return "" if value is None else f" ({value:+.3f})"


def _is_best(table: Comparison, entry: Entry, key: str) -> bool:
    best = table.best(entry.group, key)
    value = entry.values.get(key)
    return best is not None and value is not None and not math.isnan(value) and abs(value - best) < 5e-4 and \
        len(table.group(entry.group)) > 1


def _show_method(table: Comparison) -> bool:
    return len({(e.method, e.published) for e in table.entries}) > 1


def _counts(entry: Entry) -> str:
    if entry.n_shapes is None:
        return ""
    return f"{entry.n_shapes}" + (f" ({entry.n_empty} empty)" if entry.n_empty else "")


@dataclass
class _Cell:
    """One metric value of a row, before styling: its text, whether it is the block's best, its delta."""

    text: str
    best: bool
    delta: float | None


def _rows(table: Comparison):
    """(group, first row of its block?, entry, metric cells) in table order: what every renderer styles."""
    for group in table.groups:
        for i, entry in enumerate(table.group(group)):
            cells = [_Cell(_value(entry, m.key), _is_best(table, entry, m.key), table.delta(entry, m.key))
                     for m in table.columns]
            yield group, i == 0, entry, cells


def to_rich(table: Comparison, title: str | None = None):
    """A rich Table (import rich lazily: the CLI's --help does not need it)."""
    from rich.table import Table

    out = Table(title=title, caption="\n".join(table.notes) or None, caption_justify="left")
    out.add_column("class")
    show_method = _show_method(table)
    if show_method:
        out.add_column("run / method")
    out.add_column("shapes", justify="right")
    for metric in table.columns:
        out.add_column(header(metric), justify="right")
    for group, first, entry, cells in _rows(table):
        if group == MEAN and first:
            out.add_section()
        row = [group if first else ""]
        if show_method:
            row.append(f"[dim italic]{method_label(entry)}[/]" if entry.published else entry.method)
        row.append(_counts(entry))
        for metric, cell in zip(table.columns, cells):
            text = f"[bold green]{cell.text}[/]" if cell.best else cell.text
            if cell.delta is not None:
                good = (cell.delta > 0) == metric.higher_is_better
                text += f"[{'green' if good else 'red'}]{_delta(cell.delta)}[/]" if cell.delta else _delta(cell.delta)
            row.append(f"[dim italic]{text}[/]" if entry.published else text)
        out.add_row(*row)
    return out


def to_markdown(table: Comparison) -> str:
    """A GitHub Markdown table; best values of each class block in **bold**."""
    show_method = _show_method(table)
    head = ["class"] + (["run / method"] if show_method else []) + ["shapes"] + [header(m) for m in table.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for group, first, entry, cells in _rows(table):
        row = [f"**{group}**" if group == MEAN and first else group if first else ""]
        if show_method:
            row.append(f"*{method_label(entry)}*" if entry.published else entry.method)
        row.append(_counts(entry))
        row += [(f"**{c.text}**" if c.best else c.text) + _delta(c.delta) for c in cells]
        lines.append("| " + " | ".join(row) + " |")
    notes = [f"Chamfer-L1 is shown x10 (paper units); mean = mean over classes. {' '.join(table.notes)}".strip()]
    return "\n".join(lines + [""] + notes) + "\n"


def to_csv_text(table: Comparison) -> str:
    """Long-form CSV: class, method, source, n_shapes, n_empty, each metric and its delta to the first run."""
    keys = [m.key for m in table.columns]
    rows = []
    for entry in table.entries:
        row = {"class": entry.group, "method": entry.method, "source": "published" if entry.published else "run",
               "n_shapes": "" if entry.n_shapes is None else entry.n_shapes,
               "n_empty": "" if entry.n_empty is None else entry.n_empty}
        for key in keys:
            row[key] = entry.values.get(key, "")
            delta = table.delta(entry, key)
            row[f"delta_{key}"] = "" if delta is None else delta
        rows.append(row)
    columns = ["class", "method", "source", "n_shapes", "n_empty"] + keys + [f"delta_{k}" for k in keys]
    return to_csv(rows, columns)


PLOT_SUFFIXES = (".png", ".pdf", ".svg")


def check_plot_path(path: str | Path) -> Path:
    """`path` if a plot can be saved there (png, pdf or svg), else a UserError."""
    path = Path(path)
    if path.suffix.lower() not in PLOT_SUFFIXES:
        raise UserError(f"--plot {path}: unknown picture format '{path.suffix}'", f"use {', '.join(PLOT_SUFFIXES)}")
    return path


def plot(table: Comparison, path: str | Path) -> Path:
    """A bar chart per metric (classes on x, one bar per run/method) saved to `path` (png, pdf, svg)."""
    path = check_plot_path(path)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise UserError("--plot needs matplotlib, which is not installed",
                        "pip install 'vitocc[plot]' (or pip install matplotlib)") from None
    from vitocc.io import atomic_path

    methods = list(dict.fromkeys(method_label(e) for e in table.entries))
    fig, axes = plt.subplots(len(table.columns), 1, figsize=(max(6, 0.9 * len(table.groups) * max(1, len(methods)) / 2 + 3),
                                                              2.6 * len(table.columns)), squeeze=False)
    width = 0.8 / len(methods)
    for ax, metric in zip(axes[:, 0], table.columns):
        for j, method in enumerate(methods):
            xs, ys = [], []
            for x, group in enumerate(table.groups):
                entry = next((e for e in table.group(group) if method_label(e) == method), None)
                if entry is not None and entry.values.get(metric.key) is not None and not math.isnan(entry.values[metric.key]):
                    xs.append(x - 0.4 + width * (j + 0.5))
                    ys.append(entry.values[metric.key])
            ax.bar(xs, ys, width, label=method, hatch="//" if "(published)" in method else None)
        ax.set_ylabel(header(metric))
        ax.set_xticks(range(len(table.groups)), table.groups, rotation=30, ha="right")
    axes[0, 0].legend(fontsize="small", ncols=min(4, len(methods)))
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)
    return path
