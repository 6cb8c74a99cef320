"""The shipped model's `decode_flat` on the CPU: this tree against an older one, interleaved in one process.

`decode_flat` decodes ragged points sorted by shape, as MISE's query function (`model.field`) does
with its prepared decoder; here it decodes 100k random points of the normalised box for 2 codes of
random pictures, as one shape and as 8 shapes' runs. The older tree's `models/projection.py`,
`models/decoder.py` and `models/onet.py` (from `--before OLD/src`, e.g. `git archive COMMIT src | tar -x
-C OLD`) rebuild the same model (the old classes' constructors, the same weights, a copy of the
encoder), so both sides decode the same points in alternation; printed: the median
seconds of each, their ratio, the largest difference between their logits, and the minor page faults
per call (glibc hands freed activations back to the system, and the next first writes fault them in
again: docs/performance.md).

    python benchmarks/decode_flat.py --before OLD/src [--repeats 9] [--threads 1] [--points 100000]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import importlib.util
import os
import resource
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as the commands set it, before torch loads

import torch  # noqa: E402

from vitocc.models import load_model  # noqa: E402


def older_modules(src: Path) -> dict[str, object]:
    """`models/projection.py`, `models/decoder.py` and `models/onet.py` of the vitocc in `src`, each importing the
    old ones before it (swapped into `vitocc.models` while they load)."""
    import vitocc.models as package

    modules, saved = {}, {}
    try:
        for name in ("projection", "decoder", "onet"):
            spec = importlib.util.spec_from_file_location(f"before_{name}", src / "vitocc" / "models" / f"{name}.py")
            modules[name] = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(modules[name])
            saved[name] = sys.modules[f"vitocc.models.{name}"], getattr(package, name)
            sys.modules[f"vitocc.models.{name}"] = modules[name]
            setattr(package, name, modules[name])
    finally:
        for name, (module, attribute) in saved.items():
            sys.modules[f"vitocc.models.{name}"] = module
            setattr(package, name, attribute)
    return modules


def older_model(model: torch.nn.Module, modules: dict[str, object]) -> torch.nn.Module:
    """`model` rebuilt with the old OccupancyNetwork and CBNDecoder classes (their own constructors' settings) and
    the same weights; the encoder is a copy."""
    d = model.decoder
    decoder = modules["decoder"].CBNDecoder(d.blocks[0].bn_0.gamma.in_features, d.fc_p.out_features, len(d.blocks),
                                            d.local_dim, d.fc_fine.in_features if d.fc_fine is not None else 0)
    decoder.load_state_dict(d.state_dict())
    return modules["onet"].OccupancyNetwork(copy.deepcopy(model.encoder), decoder, model.image_size, model.image_mean,
                                            model.image_std, model.pixel_aligned, model.camera_loss_weight,
                                            model.camera_mix).eval()


def minor_faults() -> int:
    """Minor page faults of this process so far: first touches of memory malloc got from the system."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, required=True, help="src folder of the older vitocc")
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    model, _ = load_model(None)
    before = older_modules(args.before)
    old = older_model(model, before)
    g = torch.Generator().manual_seed(0)
    images = torch.randn(2, 3, model.image_size, model.image_size, generator=g)
    points = torch.rand(args.points, 3, generator=g) * 1.1 - 0.55
    print(f"torch {torch.__version__}, {args.threads} thread(s), {args.points} points, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with torch.inference_mode():
        code = model.encode(images)
        old_code = before["onet"].ShapeCode(**{f.name: getattr(code, f.name) for f in dataclasses.fields(code)})
        for shapes in (1, 8):
            index = torch.arange(args.points) * shapes // args.points % 2  # `shapes` sorted runs over 2 codes
            index = torch.sort(index, stable=True).values if shapes == 1 else index
            times: dict[str, list[float]] = {"before": [], "now": []}
            faults = {"before": 0, "now": 0}
            logits = {}
            for _ in range(args.repeats):
                for name, net, c in (("before", old, old_code), ("now", model, code)):
                    f0, t = minor_faults(), time.perf_counter()
                    logits[name] = net.decode_flat(points, c, index)
                    times[name].append(time.perf_counter() - t)
                    faults[name] += minor_faults() - f0
            before, now = (statistics.median(times[k]) for k in ("before", "now"))
            diff = (logits["before"] - logits["now"]).abs().max().item()
            print(f"{shapes} run(s) of equal shape index: before {before:.3f} s, now {now:.3f} s, "
                  f"{before / now:.2f}x (median of {args.repeats}); max |logit difference| {diff:.2g}; "
                  f"minor page faults per call {faults['before'] // args.repeats} / {faults['now'] // args.repeats}")
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
