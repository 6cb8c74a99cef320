"""CPU training and decoding speed: samples/s of a training step per preset, decoder points/s.

Training steps run on synthetic batches (random images and points, the preset's batch
size, image size and points per shape), so the figure is the model's cost alone, in fp32
and with CPU bf16 autocast. Decoding evaluates 100k points in eval mode, folded (the
default) and plain, in one regular batch and as a ragged batch of 8 shapes, and folded
under CPU bf16 autocast.

Run: python benchmarks/train_throughput.py [--threads 2] [--steps 5] [--default-batch 8]
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import torch

from vitocc.config import apply_overrides, load_config
from vitocc.models import build_model
from vitocc.training.schedules import build_optimizer, build_scheduler
from vitocc.training.trainer import training_step


def synthetic_batch(batch_size: int, img_size: int, n_points: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "inputs": torch.randn(batch_size, 3, img_size, img_size, generator=g),
        "points": torch.rand(batch_size, n_points, 3, generator=g) - 0.5,
        "points.occ": (torch.rand(batch_size, n_points, generator=g) < 0.3).float(),
    }


def train_samples_per_s(preset: str, amp: str, steps: int, batch_size: int | None) -> tuple[float, str]:
    cfg = load_config(preset, [f"training.amp={amp}"])
    if batch_size:
        cfg = apply_overrides(cfg, [f"training.batch_size={batch_size}"])
    tcfg = dataclasses.replace(cfg.training, schedule="constant", warmup_steps=0)
    model = build_model(cfg, pretrained=False)
    optimizer = build_optimizer(model, tcfg)
    scheduler = build_scheduler(optimizer, tcfg, None)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    batch = synthetic_batch(tcfg.batch_size, cfg.data.img_size, cfg.data.points_subsample)
    cpu = torch.device("cpu")
    training_step(model, batch, optimizer, scaler, scheduler, cpu, tcfg)  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        training_step(model, batch, optimizer, scaler, scheduler, cpu, tcfg)
    rate = steps * tcfg.batch_size / (time.perf_counter() - start)
    label = (f"{cfg.model.encoder}@{cfg.data.img_size}, hidden {cfg.model.hidden_size}, "
             f"{cfg.data.points_subsample} points, batch {tcfg.batch_size}")
    return rate, label


@torch.inference_mode()
def decoder_points_per_s(hidden: int, folded: bool, ragged: bool, bf16: bool = False, n_points: int = 100_000,
                         repeats: int = 3) -> float:
    cfg = load_config(None, [f"model.hidden_size={hidden}"])
    from vitocc.models.decoder import CBNDecoder

    decoder = CBNDecoder(cfg.model.c_dim, hidden, cfg.model.n_blocks).eval()
    decoder.fold = folded
    n_shapes = 8 if ragged else 1
    c = torch.randn(n_shapes, cfg.model.c_dim)
    if ragged:
        points = torch.rand(n_points, 3) - 0.5
        index = torch.randint(0, n_shapes, (n_points,)).sort().values

        def run():
            return decoder(points, c, index)
    else:
        points = torch.rand(1, n_points, 3) - 0.5

        def run():
            return decoder(points, c)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
        run()
        start = time.perf_counter()
        for _ in range(repeats):
            run()
    return repeats * n_points / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--default-batch", type=int, default=8, help="batch for the GPU-sized default preset")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads")
    for preset, batch in (("synthetic-cpu", None), ("default", args.default_batch)):
        for amp in ("off", "bf16"):
            rate, label = train_samples_per_s(preset, amp, args.steps, batch)
            print(f"train step  {preset:14s} amp={amp:4s} {label}: {rate:6.1f} samples/s")
    for hidden in (256, 128):
        for ragged in (False, True):
            folded, plain = (decoder_points_per_s(hidden, f, ragged) for f in (True, False))
            bf16 = decoder_points_per_s(hidden, True, ragged, bf16=True)
            kind = "ragged, 8 shapes" if ragged else "one shape"
            print(f"decoder eval hidden {hidden}, 100k points ({kind}): folded {folded / 1e3:.1f}k points/s, "
                  f"plain {plain / 1e3:.1f}k ({folded / plain:.2f}x), folded + bf16 autocast {bf16 / 1e3:.1f}k")


if __name__ == "__main__":
    main()
