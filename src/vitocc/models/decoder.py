"""The paper's conditional-batch-norm decoder, written for speed on (points, channels) matrices.

Points of all shapes are one (N, hidden) matrix; per-shape quantities (B, hidden) reach
their points either by broadcasting (regular batches: T points per shape, N = B*T) or by a
gather with a shape index (ragged batches). In eval mode each conditional batch norm, whose
running statistics and gamma/beta are then fixed per shape, is an affine x * scale + shift;
without gradients the decoder runs in its folded inference form (`vitocc.models.folded`).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from vitocc.models.folded import FoldedDecoder

# Points per chunk of the folded form. On the CPU its three (chunk, hidden) buffers take 12 MB at
# hidden 128 (MISE with the shipped model: 8192 was 1.06x faster than 4096, 2048 slower); GPUs take
# a shape's points at once.
CPU_CHUNK_POINTS = 8192
GPU_CHUNK_POINTS = 262144


def modulate(x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor, index: torch.Tensor | None) -> torch.Tensor:
    """x * scale + shift with per-shape scale/shift (B, H) applied to points x (N, H): `index` (N,) long
    gives each point's shape (a gather); None means N = B*T in shape order."""
    if index is None:
        b, h = scale.shape
        out = torch.addcmul(shift.unsqueeze(1), x.view(b, -1, h), scale.unsqueeze(1))
        return out.view(-1, h)
    return torch.addcmul(shift[index], x, scale[index])


class CBatchNorm(nn.Module):
    """Batch norm over points without affine, then gamma(c), beta(c): linear maps of the shape code.

    gamma starts at 1 and beta at 0 (zero weights, bias 1 / 0): at initialisation it is a
    plain batch norm.
    """

    def __init__(self, c_dim: int, features: int):
        super().__init__()
        self.bn = nn.BatchNorm1d(features, affine=False)
        self.gamma = nn.Linear(c_dim, features)
        self.beta = nn.Linear(c_dim, features)
        nn.init.zeros_(self.gamma.weight)
        nn.init.ones_(self.gamma.bias)
        nn.init.zeros_(self.beta.weight)
        nn.init.zeros_(self.beta.bias)

    def affine(self, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(scale, shift) (B, H) of the eval form for codes c (B, c_dim): running statistics and gamma/beta in one."""
        scale = self.gamma(c) * torch.rsqrt(self.bn.running_var + self.bn.eps)
        return scale, self.beta(c) - self.bn.running_mean * scale

    def forward(self, x: torch.Tensor, c: torch.Tensor, index: torch.Tensor | None, folded: bool) -> torch.Tensor:
        """x (N, H), c (B, c_dim) -> (N, H). `folded` (eval only) applies the fused affine."""
        if folded:
            return modulate(x, *self.affine(c), index)
        return modulate(self.bn(x), self.gamma(c), self.beta(c), index)


class CResnetBlock(nn.Module):
    """CBN -> ReLU -> Linear -> CBN -> ReLU -> Linear, plus the input; starts as the identity
    (the second Linear has zero weights and bias)."""

    def __init__(self, c_dim: int, hidden: int):
        super().__init__()
        self.bn_0 = CBatchNorm(c_dim, hidden)
        self.bn_1 = CBatchNorm(c_dim, hidden)
        self.fc_0 = nn.Linear(hidden, hidden)
        self.fc_1 = nn.Linear(hidden, hidden)
        nn.init.zeros_(self.fc_1.weight)
        nn.init.zeros_(self.fc_1.bias)

    def forward(self, x: torch.Tensor, c: torch.Tensor, index: torch.Tensor | None, folded: bool) -> torch.Tensor:
        # In-place ReLU and residual add on fresh outputs: less memory traffic, same gradients.
        h = self.fc_0(F.relu(self.bn_0(x, c, index, folded), inplace=True))
        return self.fc_1(F.relu(self.bn_1(h, c, index, folded), inplace=True)).add_(x)


def logit(probability: float) -> float:
    """log(p / (1 - p)): an occupancy threshold in the space of the decoder's outputs (logits)."""
    if not 0.0 < probability < 1.0:
        raise ValueError(f"threshold must be in (0, 1), got {probability}")
    return math.log(probability / (1.0 - probability))


class CBNDecoder(nn.Module):
    """Occupancy decoder: Linear(3, H) -> n_blocks conditional ResNet blocks -> CBN -> ReLU -> Linear(H, 1).

    In eval mode it uses the folded form unless `fold` is set to False (the plain form,
    same numbers up to float rounding).
    """

    def __init__(self, c_dim: int = 256, hidden: int = 256, n_blocks: int = 5, local_dim: int = 0, fine_dim: int = 0):
        super().__init__()
        self.fc_p = nn.Linear(3, hidden)
        # Pixel-aligned models: per-point local features (N, local_dim) join the point's embedding,
        # the fine map's (N, fine_dim) through a layer of their own that starts at zero, so a model
        # fine-tuned with the fine map added starts as the model it came from.
        self.fc_local = nn.Linear(local_dim, hidden) if local_dim else None
        self.local_dim = local_dim
        self.fc_fine = nn.Linear(fine_dim, hidden, bias=False) if fine_dim else None
        if self.fc_fine is not None:
            nn.init.zeros_(self.fc_fine.weight)
        self.blocks = nn.ModuleList(CResnetBlock(c_dim, hidden) for _ in range(n_blocks))
        self.bn = CBatchNorm(c_dim, hidden)
        self.fc_out = nn.Linear(hidden, 1)
        self.fold = True
        self.chunk_points = CPU_CHUNK_POINTS  # the folded form's chunks on the CPU

    def forward(self, points: torch.Tensor, c: torch.Tensor, index: torch.Tensor | None = None,
                local: torch.Tensor | None = None) -> torch.Tensor:
        """Logits of points (B, T, 3) -> (B, T), or of points (N, 3) with shape `index` (N,) -> (N,).

        A decoder built with local_dim + fine_dim > 0 needs the points' local features `local`,
        (B, T, F) or (N, F). Without gradients in eval mode (and `fold`) a decoder without them
        runs in the folded form (`folded`, which also takes pixel-aligned features)."""
        if index is None and (points.dim() != 3 or points.shape[0] != c.shape[0]):
            raise ValueError(f"points {tuple(points.shape)} must be (B, T, 3) for c {tuple(c.shape)}")
        if (local is not None) != (self.fc_local is not None):
            raise ValueError("local features are needed exactly when the decoder has local_dim > 0")
        if local is None and self.folds():
            return self.folded(c).decode(points, index)
        return self._decode(points, c, index, local)

    def folds(self) -> bool:
        """Whether decoding now takes the folded form: eval mode, no gradients, `fold` set."""
        return self.fold and not self.training and not torch.is_grad_enabled()

    def folded(self, c: torch.Tensor) -> FoldedDecoder:
        """The folded inference form for codes c (B, c_dim), in the dtype autocast gives matrix products here
        (explicit products into buffers bypass autocast)."""
        dtype = _matmul_dtype(c.device)
        bias = self.fc_p.bias + (self.fc_local.bias if self.fc_local is not None else 0.0)
        scale0, shift0, w0, b0, w1 = [], [], [], [], []
        for block in self.blocks:
            scale, shift = block.bn_0.affine(c)
            scale0.append(scale)
            shift0.append(shift + scale * bias)  # the stream's biases, kept out of it
            scale, shift = block.bn_1.affine(c)
            w0.append(block.fc_0.weight.T * scale[:, None, :])
            b0.append(block.fc_0.bias * scale + shift)
            w1.append(block.fc_1.weight.T)
            bias = bias + block.fc_1.bias
        scale, shift = self.bn.affine(c)
        parts = (self.fc_p.weight.T, torch.stack(scale0), torch.stack(shift0), torch.stack(w0), torch.stack(b0),
                 torch.stack(w1), scale, shift + scale * bias, self.fc_out.weight.T, self.fc_out.bias)
        chunk = self.chunk_points if c.device.type == "cpu" else GPU_CHUNK_POINTS
        return FoldedDecoder(*(t.to(dtype).contiguous() for t in parts), chunk)

    def embed_maps(self, maps: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, ...]:
        """Feature maps (B, C_i, H_i, W_i) -> (B, hidden, H_i, W_i): each through its columns of
        fc_local (the first maps, local_dim channels in all) or fc_fine (the rest), without bias.

        A linear layer commutes with bilinear sampling (its weights sum to 1, with border padding),
        so the features sampled from these maps and summed are fc_local(local) + fc_fine(fine) less
        fc_local's bias: a (hidden, C) product per texel instead of a (hidden, local_dim + fine_dim)
        one per point (MISE decodes ~100k points against ~2k texels per shape)."""
        weights = torch.cat([self.fc_local.weight] + ([self.fc_fine.weight] if self.fc_fine is not None else []), 1)
        blocks = weights.split([m.shape[1] for m in maps], dim=1)
        return tuple(torch.einsum("hc,bcyx->bhyx", w, m) for w, m in zip(blocks, maps))

    def _decode(self, points: torch.Tensor, c: torch.Tensor, index: torch.Tensor | None,
                local: torch.Tensor | None) -> torch.Tensor:
        folded = self.fold and not self.training
        batch_shape = points.shape[:-1]
        x = self.fc_p(points.reshape(-1, 3))
        if local is not None:
            local = local.reshape(len(x), -1)
            x = x + self.fc_local(local[:, :self.local_dim])
            if self.fc_fine is not None:
                x = x + self.fc_fine(local[:, self.local_dim:])
        for block in self.blocks:
            x = block(x, c, index, folded)
        logits = self.fc_out(F.relu(self.bn(x, c, index, folded), inplace=True))
        return logits.view(batch_shape)


def _matmul_dtype(device: torch.device) -> torch.dtype:
    """The dtype of a matrix product on `device` in the current context: autocast's where it is on, else float32."""
    one = torch.ones(1, 1, device=device)
    return torch.mm(one, one).dtype
