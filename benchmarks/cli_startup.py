"""Wall time of `vitocc --help` (median of 10 runs) and whether it imported torch/timm/trimesh.

Run: python benchmarks/cli_startup.py
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

PROBE = (
    "import sys\nfrom vitocc.cli import main\n"
    "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
    "sys.stderr.write('heavy=' + ','.join(m for m in ('torch', 'timm', 'trimesh') if m in sys.modules))"
)


def main(runs: int = 10) -> None:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
        times.append(time.perf_counter() - start)
    heavy = out.stderr.strip().split("heavy=")[-1] or "none"
    print(f"vitocc --help: median {statistics.median(times):.3f} s, min {min(times):.3f} s, "
          f"max {max(times):.3f} s over {runs} runs; heavy modules imported: {heavy}")
    print(f"bare python -c pass for reference: {_bare():.3f} s")


def _bare() -> float:
    times = []
    for _ in range(5):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


if __name__ == "__main__":
    main()
