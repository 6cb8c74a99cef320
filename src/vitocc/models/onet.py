"""OccupancyNetwork: image -> shape code c -> occupancy logits of 3D points."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from vitocc.config import Config
from vitocc.models.decoder import CBNDecoder


def occupancy_loss(logits: torch.Tensor, occ: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with logits (B, T) against occupancies (B, T) in [0, 1]:
    summed over points, mean over the batch (the paper's loss)."""
    bce = F.binary_cross_entropy_with_logits(logits.float(), occ.float(), reduction="none")
    return bce.sum(-1).mean()


class OccupancyNetwork(nn.Module):
    """f(p, x): an image encoder (B, 3, S, S) -> c (B, c_dim) and a CBN decoder (points, c) -> logits.

    `image_size`, `image_mean` and `image_std` say how input images must be prepared
    (see `vitocc.data.transforms.image_to_tensor`).
    """

    def __init__(self, encoder: nn.Module, decoder: CBNDecoder, image_size: int,
                 image_mean: tuple[float, ...], image_std: tuple[float, ...]):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.image_size = image_size
        self.image_mean = tuple(image_mean)
        self.image_std = tuple(image_std)

    def encode(self, images: torch.Tensor) -> torch.Tensor:
        """Normalised images (B, 3, S, S) -> shape codes c (B, c_dim)."""
        return self.encoder(images)

    def decode(self, points: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """Points (B, T, 3) in the normalised frame and c (B, c_dim) -> logits (B, T)."""
        return self.decoder(points, c)

    def decode_flat(self, points: torch.Tensor, c: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Ragged batch: points (N, 3) of all shapes, c (B, c_dim), shape `index` (N,) long -> logits (N,)."""
        return self.decoder(points, c, index)

    def forward(self, points: torch.Tensor, images: torch.Tensor) -> torch.Tensor:
        """Logits (B, T) of points (B, T, 3) for images (B, 3, S, S): the call DDP wraps."""
        return self.decode(points, self.encode(images))

    def compute_loss(self, batch: dict[str, Any]) -> torch.Tensor:
        """Training loss of a batch with `inputs`, `points` and `points.occ` (see `occupancy_loss`)."""
        return occupancy_loss(self(batch["points"], batch["inputs"]), batch["points.occ"])


def build_model(cfg: Config, *, pretrained: bool | None = None) -> OccupancyNetwork:
    """The occupancy network `cfg.model` describes, for images of `cfg.data.img_size` pixels.

    ImageNet weights for the encoder only when `cfg.model` asks for them (and `pretrained`
    is not False: loaders of trained checkpoints pass False).
    """
    import timm

    from vitocc.models.encoders import build_encoder

    encoder = build_encoder(cfg, pretrained=pretrained)
    data_cfg = timm.data.resolve_model_data_config(encoder)
    decoder = CBNDecoder(cfg.model.c_dim, cfg.model.hidden_size, cfg.model.n_blocks)
    return OccupancyNetwork(encoder, decoder, cfg.data.img_size, data_cfg["mean"], data_cfg["std"])
