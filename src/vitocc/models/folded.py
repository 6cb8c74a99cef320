"""The decoder's inference form: every conditional batch norm folded into per-shape weights, and
points decoded shape by shape in chunks through buffers that are reused.

In eval mode without gradients a CBN is a fixed affine x * scale + shift per shape. The one after
each block's first Linear is folded into that Linear's weights (a (H, H) matrix per shape), the
stream's biases (fc_p, fc_local and every fc_1) into the next CBN's shift, so a block costs two
matrix products written into existing buffers, one fused multiply-add, one in-place bias add and
two in-place ReLUs: no bias copies, no fresh activations (on the CPU each fresh one page-faults
its memory in again).
`CBNDecoder.folded` builds it; `OccupancyNetwork` decodes through it without gradients.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

LocalFn = Callable[[torch.Tensor, int], torch.Tensor]
"""`local_fn(points (n, 3), shape) -> (n, H)`: a chunk's embedded local features (no fc_local bias)."""


@dataclass(frozen=True)
class FoldedDecoder:
    """A CBN decoder's parameters for B shapes, folded (K blocks, hidden H)."""

    w_p: torch.Tensor  # (3, H): fc_p.weight.T
    scale0: torch.Tensor  # (K, B, H): each block's first CBN
    shift0: torch.Tensor  # (K, B, H): its shift, plus scale0 times the biases the stream has gathered
    w0: torch.Tensor  # (K, B, H, H): fc_0.weight.T times the block's second CBN scale (columns)
    b0: torch.Tensor  # (K, B, H): fc_0.bias times that scale, plus its shift
    w1: torch.Tensor  # (K, H, H): fc_1.weight.T
    scale: torch.Tensor  # (B, H): the last CBN
    shift: torch.Tensor  # (B, H)
    w_out: torch.Tensor  # (H, 1)
    b_out: torch.Tensor  # (1,)
    chunk_points: int  # points per chunk

    def chunk(self, points: torch.Tensor, shape: int, local: torch.Tensor | None,
              buffers: tuple[torch.Tensor, torch.Tensor, torch.Tensor], out: torch.Tensor) -> None:
        """Logits of one shape's points (n, 3) into out (n,); `local` (n, H) or None; buffers: three (>= n, H)."""
        n = len(points)
        x, y, z = (b[:n] for b in buffers)
        if local is None:
            torch.mm(points, self.w_p, out=x)
        else:
            x.copy_(local).addmm_(points, self.w_p)
        for k in range(len(self.w1)):
            torch.addcmul(self.shift0[k, shape], x, self.scale0[k, shape], out=y).clamp_(min=0)
            torch.mm(y, self.w0[k, shape], out=z)
            z.add_(self.b0[k, shape]).clamp_(min=0)
            x.addmm_(z, self.w1[k])
        torch.addcmul(self.shift[shape], x, self.scale[shape], out=y).clamp_(min=0)
        torch.addmm(self.b_out, y, self.w_out, out=out[:, None])

    def decode(self, points: torch.Tensor, index: torch.Tensor | None, local_fn: LocalFn | None = None) -> torch.Tensor:
        """Logits (N,) of points (N, 3) of shapes `index` (N,) long, sorted or not, `chunk_points` at a time
        within each shape's run; with `index` None, logits (B, T) of a regular batch of points (B, T, 3).
        `local_fn` gives pixel-aligned models' features per chunk."""
        if index is None:
            flat = points.reshape(-1, 3)
            shapes = torch.arange(points.shape[0], device=points.device).repeat_interleave(points.shape[1])
            return self.decode(flat, shapes, local_fn).view(points.shape[:-1])
        chunk_points = self.chunk_points
        out = points.new_empty(len(points), dtype=self.w_p.dtype)
        if len(points) == 0:
            return out
        order = None
        if bool((index[1:] < index[:-1]).any()):
            order = torch.argsort(index, stable=True)
            points, index = points[order], index[order]
        shapes, counts = torch.unique_consecutive(index, return_counts=True)
        hidden = self.w_p.shape[1]
        buffers = tuple(points.new_empty((min(chunk_points, int(counts.max())), hidden), dtype=self.w_p.dtype)
                        for _ in range(3))
        start = 0
        for shape, count in zip(shapes.tolist(), counts.tolist()):
            for first in range(start, start + count, chunk_points):
                last = min(first + chunk_points, start + count)
                p = points[first:last].to(self.w_p.dtype)
                local = None if local_fn is None else local_fn(points[first:last], shape)
                self.chunk(p, shape, local, buffers, out[first:last])
            start += count
        if order is not None:
            out = torch.empty_like(out).index_copy_(0, order, out)
        return out

