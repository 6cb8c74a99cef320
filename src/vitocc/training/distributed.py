"""Data-parallel training under torchrun: one process per GPU (or per CPU share with gloo).

`torchrun --nproc_per_node=K [--nnodes=M ...] -m vitocc train ...` sets RANK, WORLD_SIZE and
LOCAL_RANK; without them everything here is a single process and a no-op.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class DistContext:
    """This process's place in the job: global rank, number of processes, local rank, device."""

    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        """Rank 0 alone logs and writes files."""
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def setup(device: torch.device) -> DistContext:
    """Join the torchrun job if there is one: NCCL on CUDA (device cuda:LOCAL_RANK), gloo on CPU."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistContext(0, 1, 0, device)
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return DistContext(dist.get_rank(), dist.get_world_size(), local_rank, device)


def wait_for_all(ctx: DistContext) -> None:
    """Block until every process gets here (a no-op alone). Before the group is destroyed: a
    process that left while rank 0 was still writing its checkpoint aborted in gloo's threads
    ("terminate called without an active exception", SIGABRT) in 2 of 8 runs on a busy CPU."""
    if ctx.enabled:
        dist.barrier()


def teardown(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_sum(values: list[float], ctx: DistContext) -> list[float]:
    """Element-wise sum of `values` over all processes (the values themselves when alone)."""
    if not ctx.enabled:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.tolist()

