"""OccupancyNetwork: image -> shape code -> occupancy logits of 3D points.

Two kinds share this class: the paper's global-code network (any timm encoder -> c) and the
pixel-aligned one (hybrid ViT -> c, feature maps and a camera; each point also gets the maps'
features where it projects, as DISN and PIFu do).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from vitocc.config import Config
from vitocc.errors import UserError
from vitocc.models import projection as proj
from vitocc.models.decoder import CBNDecoder


def occupancy_loss(logits: torch.Tensor, occ: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy with logits (B, T) against occupancies (B, T) in [0, 1]:
    summed over points, mean over the batch (the paper's loss)."""
    bce = F.binary_cross_entropy_with_logits(logits.float(), occ.float(), reduction="none")
    return bce.sum(-1).mean()


@dataclass
class ShapeCode:
    """What the encoder says of B pictures: the global code c (B, c_dim); for pixel-aligned models
    also feature maps (B, C_i, H_i, W_i), the projection (B, 3, 4) used to sample them (the
    camera head's unless the data's camera was given) and the camera head's outputs."""

    c: torch.Tensor
    maps: tuple[torch.Tensor, ...] = ()
    projection: torch.Tensor | None = None
    camera: torch.Tensor | None = None

    def _map(self, fn) -> ShapeCode:
        def opt(t):
            return None if t is None else fn(t)
        return ShapeCode(fn(self.c), tuple(fn(m) for m in self.maps), opt(self.projection),
                         opt(self.camera))

    def __len__(self) -> int:
        return len(self.c)

    def __getitem__(self, index: slice) -> ShapeCode:
        """The codes of some of the pictures (a slice along the batch)."""
        return self._map(lambda t: t[index])

    def float(self) -> ShapeCode:
        return self._map(lambda t: t.float())

    def clone(self) -> ShapeCode:
        return self._map(lambda t: t.clone())


class Prediction(NamedTuple):
    """What the network's forward gives: logits (B, T), and the camera head's loss (a scalar, 0
    when no data camera was given or the model has no camera)."""

    logits: torch.Tensor
    camera_loss: torch.Tensor


class OccupancyNetwork(nn.Module):
    """f(p, x): an image encoder (B, 3, S, S) -> ShapeCode and a CBN decoder (points, code) -> logits.

    `image_size`, `image_mean` and `image_std` say how input images must be prepared
    (see `vitocc.data.transforms.image_to_tensor`).
    """

    def __init__(self, encoder: nn.Module, decoder: CBNDecoder, image_size: int,
                 image_mean: tuple[float, ...], image_std: tuple[float, ...], pixel_aligned: bool = False,
                 camera_loss_weight: float = 0.0, camera_mix: float = 0.0):
        super().__init__()
        self.encoder = encoder
        self.decoder = decoder
        self.image_size = image_size
        self.image_mean = tuple(image_mean)
        self.image_std = tuple(image_std)
        self.pixel_aligned = pixel_aligned
        self.camera_loss_weight = camera_loss_weight
        self.camera_mix = camera_mix

    def encode(self, images: torch.Tensor, projection: torch.Tensor | None = None) -> ShapeCode:
        """Normalised images (B, 3, S, S) -> their ShapeCode. A pixel-aligned model samples its maps
        with `projection` (B, 3, 4) when given (the data's camera), else with its own camera."""
        out = self.encoder(images)
        if not isinstance(out, tuple):
            return ShapeCode(out)
        c, maps, camera = out
        if not self.pixel_aligned:
            return ShapeCode(c)
        if projection is None:
            projection = proj.projection_from_pose(*proj.pose_from_head(camera))
        return ShapeCode(c, maps, projection.float(), camera)

    def _local(self, points: torch.Tensor, code: ShapeCode, index: torch.Tensor | None) -> torch.Tensor:
        """Features of the maps at the points' projections: (B, T, F) or, ragged, (N, F).

        Ragged points are taken run by run of equal `index`, each run projected and sampled as a
        batch of one: no gather of a camera per point and no scatter of the features back. The
        runs' features are joined in the layout grid_sample gives them, (F, T_k), and returned as
        an (N, F) view of it (strides (1, N)), which the decoder's Linear layers read as they are."""
        if index is None:
            return proj.sample_maps(code.maps, proj.project(points.float(), code.projection))
        shapes, counts = torch.unique_consecutive(index, return_counts=True)
        runs = [self._local(run[None], code[k:k + 1], None)[0].T
                for k, run in zip(shapes.tolist(), points.split(counts.tolist()))]
        return (runs[0] if len(runs) == 1 else torch.cat(runs, dim=1)).T

    def field(self, code: ShapeCode | torch.Tensor) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
        """The logits of B shapes as one function of ragged points, `query(points (N, 3), index (N,) long) ->
        (N,)`, or of a regular batch, `query(points (B, T, 3), None) -> (B, T)`, for many calls (MISE's rounds).
        Without gradients in eval mode the folded decoder and, for pixel-aligned models, the maps embedded by
        its input layers (`CBNDecoder.embed_maps`: a product per texel, not per point) are prepared once, here."""
        code = code if isinstance(code, ShapeCode) else ShapeCode(code)
        if not self.decoder.folds():
            return lambda points, index: self.decoder(points, code.c, index, self._local_or_none(points, code, index))
        folded = self.decoder.folded(code.c)
        if not self.pixel_aligned:
            return folded.decode
        texels = proj.TexelRows.of(self.decoder.embed_maps(code.maps))

        def local(points: torch.Tensor, shape: int) -> torch.Tensor:
            return texels.sample(proj.project(points.float()[None], code.projection[shape:shape + 1])[0], shape)
        return lambda points, index: folded.decode(points, index, local)

    def _local_or_none(self, points: torch.Tensor, code: ShapeCode, index: torch.Tensor | None) -> torch.Tensor | None:
        return self._local(points, code, index) if self.pixel_aligned else None

    def decode(self, points: torch.Tensor, code: ShapeCode | torch.Tensor) -> torch.Tensor:
        """Points (B, T, 3) in the normalised frame and their shapes' code -> logits (B, T)."""
        return self.field(code)(points, None)

    def decode_flat(self, points: torch.Tensor, code: ShapeCode | torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Ragged batch: points (N, 3) of all shapes, their codes (B pictures), shape `index` (N,) long -> logits (N,).
        For many calls on the same codes, `field` prepares once."""
        return self.field(code)(points, index)

    def forward(self, points: torch.Tensor, images: torch.Tensor,
                projection: torch.Tensor | None = None) -> Prediction:
        """Logits (B, T) of points (B, T, 3) for images (B, 3, S, S), the call DDP wraps. With the data's
        camera `projection` (B, 3, 4) (training), a pixel-aligned model samples features with it
        and scores its camera head (`projection.camera_loss`, times model.camera_loss_weight).
        In training, a share `camera_mix` of the samples use the head's own camera (detached)
        instead, so that the decoder also learns from the features it will get after training."""
        code = self.encode(images, projection)
        if projection is not None and self.training and self.camera_mix > 0 and code.camera is not None:
            own = proj.projection_from_pose(*proj.pose_from_head(code.camera.detach()))
            use_own = torch.rand(len(own), device=own.device) < self.camera_mix
            code = replace(code, projection=torch.where(use_own[:, None, None], own, code.projection))
        logits = self.decode(points, code)
        camera_loss = logits.new_zeros((), dtype=torch.float32)
        if projection is not None and code.camera is not None:
            camera_loss = self.camera_loss_weight * proj.camera_loss(code.camera, projection)
        return Prediction(logits, camera_loss)


def build_model(cfg: Config, *, pretrained: bool | None = None) -> OccupancyNetwork:
    """The occupancy network `cfg.model` describes, for images of `cfg.data.img_size` pixels.

    ImageNet weights for the encoder only when `cfg.model` asks for them (and `pretrained`
    is not False: loaders of trained checkpoints pass False).
    """
    from vitocc.models import hybrid_vit

    m = cfg.model
    if m.fine_map and not m.pixel_aligned:
        raise UserError("model.fine_map needs model.pixel_aligned")
    if m.encoder == hybrid_vit.NAME:
        settings = hybrid_vit.HybridViTSettings(m.vit_dim, m.vit_depth, m.vit_heads, m.pretrained, m.freeze_stem,
                                                m.fine_map)
        encoder = hybrid_vit.HybridViT(m.c_dim, cfg.data.img_size, settings,
                                       pretrained=None if pretrained is None else pretrained and m.pretrained)
        mean, std = encoder.image_mean, encoder.image_std
        local_dim = sum(encoder.map_channels[:2]) if m.pixel_aligned else 0
        fine_dim = sum(encoder.map_channels[2:])
    else:
        import timm

        from vitocc.models.encoders import build_encoder

        if m.pixel_aligned:
            raise UserError(f"model.pixel_aligned needs model.encoder={hybrid_vit.NAME}, not '{m.encoder}'")
        encoder = build_encoder(cfg, pretrained=pretrained)
        data_cfg = timm.data.resolve_model_data_config(encoder)
        mean, std = data_cfg["mean"], data_cfg["std"]
        local_dim = fine_dim = 0
    decoder = CBNDecoder(m.c_dim, m.hidden_size, m.n_blocks, local_dim, fine_dim)
    return OccupancyNetwork(encoder, decoder, cfg.data.img_size, mean, std, m.pixel_aligned, m.camera_loss_weight,
                            m.camera_mix)

