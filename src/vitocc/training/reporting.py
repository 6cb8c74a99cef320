"""What a run tells the user: `log.jsonl` in the run directory and a rich progress bar."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from vitocc.io import write_text


class RunLog:
    """`log.jsonl`: one JSON object per logging or validation step, appended and flushed.

    A new run starts it empty; a resumed run drops the lines after the checkpoint's step
    (they describe training that the resume repeats).
    """

    def __init__(self, path: Path, enabled: bool, keep_until_step: int | None):
        self.path = path
        self.enabled = enabled
        if not enabled:
            return
        kept = []
        if keep_until_step is not None and path.is_file():
            for line in path.read_text().splitlines():
                try:
                    if json.loads(line).get("step", 0) <= keep_until_step:
                        kept.append(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a crash
        write_text(path, "".join(line + "\n" for line in kept))

    def write(self, record: dict[str, Any]) -> None:
        if self.enabled:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")


class TrainProgress:
    """A rich progress bar: step, loss, validation IoU, samples/s and ETA.

    `console` should be the one log records go to (so both share the live display);
    a new stderr console by default.
    """

    def __init__(self, enabled: bool, total_steps: int | None, start_step: int, console=None):
        self.enabled = enabled
        if not enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self.progress = Progress(
            TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(),
            TextColumn("loss {task.fields[loss]}"), TextColumn("val IoU {task.fields[iou]}"),
            TextColumn("{task.fields[speed]} samples/s"), TimeRemainingColumn(),
            console=console or Console(stderr=True), transient=False,
        )
        self.task = self.progress.add_task("train", total=total_steps, completed=start_step,
                                           loss="-", iou="-", speed="-")

    def __enter__(self) -> TrainProgress:
        if self.enabled:
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.enabled:
            self.progress.stop()

    def update(self, step: int, loss: float | None = None, iou: float | None = None,
               samples_per_s: float | None = None) -> None:
        if not self.enabled:
            return
        fields: dict[str, Any] = {}
        if loss is not None:
            fields["loss"] = f"{loss:.2f}"
        if iou is not None:
            fields["iou"] = f"{iou:.3f}"
        if samples_per_s is not None:
            fields["speed"] = f"{samples_per_s:.1f}"
        self.progress.update(self.task, completed=step, **fields)
