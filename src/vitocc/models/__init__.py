"""Occupancy networks: timm image encoders or the pixel-aligned hybrid ViT, the CBN decoder, loading and exporting."""

from vitocc.models.decoder import CBNDecoder
from vitocc.models.encoders import build_encoder
from vitocc.models.loading import export_safetensors, load_model, read_checkpoint, resolve_checkpoint
from vitocc.models.onet import OccupancyNetwork, ShapeCode, build_model, occupancy_loss

__all__ = [
    "OccupancyNetwork", "ShapeCode", "CBNDecoder", "build_model", "build_encoder", "occupancy_loss",
    "load_model", "export_safetensors", "read_checkpoint", "resolve_checkpoint",
]
