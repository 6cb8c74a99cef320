"""DataLoaders for training and evaluation: sharded, seeded, resumable mid-epoch.

:class:`EpochSampler` plays the role of torch's DistributedSampler (a shuffled epoch cut
into one shard per rank) and also hands each item its own seed, so the data a run sees
depends only on `training.seed` and the epoch, never on worker scheduling.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from vitocc.data.dataset import collate
from vitocc.errors import UserError


def item_seed(seed: int, epoch: int, index: int) -> int:
    """A 31-bit seed for one item of one epoch, independent across (seed, epoch, index)."""
    return int(np.random.SeedSequence([seed, epoch, index]).generate_state(1)[0] >> 1)


class EpochSampler(torch.utils.data.Sampler):
    """Yields `(index, item_seed)` for this rank's shard of an epoch.

    Training (`shuffle=True`) permutes with a generator seeded by (seed, epoch) and pads
    the epoch to a multiple of `world_size` so every rank runs the same number of steps;
    evaluation keeps dataset order and does not pad (each sample counted once overall).
    `set_epoch(epoch, skip)` starts the next pass at the `skip`-th item of the shard: how
    `--resume` continues in the middle of an epoch.
    """

    def __init__(self, n: int, shuffle: bool, seed: int = 0, rank: int = 0, world_size: int = 1):
        self.n, self.shuffle, self.seed = n, shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.epoch, self.skip = 0, 0

    def set_epoch(self, epoch: int, skip: int = 0) -> None:
        self.epoch, self.skip = epoch, skip

    def _shard(self) -> list[int]:
        if self.shuffle:
            g = torch.Generator().manual_seed(self.seed * 100_003 + self.epoch)
            order = torch.randperm(self.n, generator=g).tolist()
            pad = -len(order) % self.world_size
            order += order[:pad]
        else:
            order = list(range(self.n))
        return order[self.rank::self.world_size]

    def __iter__(self) -> Iterator[tuple[int, int]]:
        for index in self._shard()[self.skip:]:
            yield index, item_seed(self.seed, self.epoch, index)

    def __len__(self) -> int:
        return max(0, len(self._shard()) - self.skip)


def seed_worker(worker_id: int) -> None:
    """Seed numpy and random in a worker from torch's per-worker seed (base seed + worker id)."""
    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def build_loader(dataset: torch.utils.data.Dataset, batch_size: int, shuffle: bool, num_workers: int,
                 device: torch.device, seed: int, *, drop_last: bool | None = None,
                 rank: int = 0, world_size: int = 1) -> torch.utils.data.DataLoader:
    """A DataLoader over `dataset` with an :class:`EpochSampler` (`loader.sampler`).

    Workers are seeded per worker and persistent, memory is pinned for CUDA. `drop_last`
    defaults to `shuffle` (training batches are full, batch norm needs more than one shape).
    """
    drop_last = shuffle if drop_last is None else drop_last
    sampler = EpochSampler(len(dataset), shuffle, seed, rank, world_size)
    if drop_last and len(sampler) < batch_size:
        raise UserError(
            f"the training split has {len(sampler)} shapes per process, fewer than a batch of {batch_size}",
            "lower training.batch_size or add shapes",
        )
    return torch.utils.data.DataLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        num_workers=num_workers,
        collate_fn=collate,
        pin_memory=device.type == "cuda",
        drop_last=drop_last,
        persistent_workers=num_workers > 0,
        worker_init_fn=seed_worker,
        generator=torch.Generator().manual_seed(seed),
    )


def take_broken(batch: dict[str, Any], skip_broken: bool) -> list[str]:
    """Remove and return the messages of broken shapes in `batch`; a UserError unless `skip_broken`."""
    broken = batch.pop("broken", [])
    if broken and not skip_broken:
        raise UserError(broken[0])
    return broken


def batch_to_device(batch: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """The batch with its tensors on `device` (non-blocking from pinned memory)."""
    return {k: v.to(device, non_blocking=True) if torch.is_tensor(v) else v for k, v in batch.items()}
