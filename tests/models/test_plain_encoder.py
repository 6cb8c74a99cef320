"""The hybrid ViT is plain torch (no timm import for one picture); it must keep timm's names and numerics,
so that the shipped model and every checkpoint trained with the timm build load and give the same meshes."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from vitocc.data.transforms import image_to_tensor
from vitocc.generation import load_image
from vitocc.models import efficientnet_lite, hybrid_vit, load_model
from vitocc.models.loading import shipped_model_dir

timm = pytest.importorskip("timm")

CHAIR = Path(__file__).parents[2] / "examples" / "chair.png"


class _TimmStem(nn.Module):
    """The stem as hybrid_vit built it from timm before: tf_efficientnet_lite0 (features_only) cut after stage 5."""

    def __init__(self, pretrained: bool):
        super().__init__()
        full = efficientnet_lite.build_lite0(pretrained, features_only=True, out_indices=(2, 3))
        self.conv_stem, self.bn1 = full.conv_stem, full.bn1
        self.blocks = nn.Sequential(*list(full.blocks)[:5])

    def forward(self, images):
        x = self.bn1(self.conv_stem(images))
        maps = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i in (1, 2):  # stride 4, stride 8
                maps.append(x)
        return *maps, x


def _timm_twin(model: hybrid_vit.HybridViT) -> nn.Module:
    """A copy of `model` whose stem and transformer blocks are timm's modules."""
    from timm.models.vision_transformer import Block

    twin = copy.deepcopy(model)
    twin.stem = _TimmStem(pretrained=False).eval()
    dim, heads = model.blocks[0].attn.qkv.in_features, model.blocks[0].attn.num_heads
    twin.blocks = nn.Sequential(*[Block(dim, heads, mlp_ratio=4.0, qkv_bias=True) for _ in model.blocks])
    return twin


@pytest.fixture(scope="module")
def shipped():
    return load_model(None, "cpu")


def test_shipped_weights_load_strictly_into_the_timm_build_and_give_the_same_outputs(shipped):
    model, cfg = shipped
    encoder = model.encoder
    twin = _timm_twin(encoder).eval()
    assert list(twin.state_dict()) == list(encoder.state_dict())  # same names, same order
    twin.load_state_dict(encoder.state_dict(), strict=True)
    images = image_to_tensor(load_image(CHAIR), model.image_size, model.image_mean, model.image_std)[None]
    with torch.no_grad():
        ours, theirs = encoder(images), twin(images)
    (c, maps, camera), (c_t, maps_t, camera_t) = ours, theirs
    for a, b in [(c, c_t), (camera, camera_t), *zip(maps, maps_t)]:
        assert a.shape == b.shape
        assert (a - b).abs().max().item() <= 5e-6 * max(1.0, b.abs().max().item())


def test_shipped_model_loads_strictly_into_the_plain_build():
    from safetensors.torch import load_file

    from vitocc.config import load_config
    from vitocc.models import build_model

    cfg = load_config(str(shipped_model_dir() / "config.yaml"))
    model = build_model(cfg, pretrained=False)
    state = load_file(str(shipped_model_dir() / "model.safetensors"))
    assert set(state) == set(model.state_dict())
    model.load_state_dict(state, strict=True)


def test_pretrained_plain_stem_is_timms_imagenet_lite0():
    ours = hybrid_vit.LiteStem(pretrained=True, frozen=True).eval()
    theirs = _TimmStem(pretrained=True).eval()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    torch.manual_seed(0)
    images = torch.randn(2, 3, 160, 160)
    odd = torch.randn(1, 3, 129, 97)  # TensorFlow "same" padding at sizes not divisible by the strides
    with torch.no_grad():
        for x in (images, odd):
            for a, b in zip(ours(x), theirs(x)):
                assert a.shape == b.shape
                torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-5)


def test_a_seed_gives_timms_initial_transformer_blocks():
    from timm.models.vision_transformer import Block

    torch.manual_seed(3)
    ours = hybrid_vit.Block(192, 3)
    torch.manual_seed(3)
    theirs = Block(192, 3, mlp_ratio=4.0, qkv_bias=True)
    for (name, a), (name_t, b) in zip(ours.state_dict().items(), theirs.state_dict().items(), strict=True):
        assert name == name_t and torch.equal(a, b)
    x = torch.randn(2, 11, 192)
    with torch.no_grad():
        torch.testing.assert_close(ours(x), theirs(x), atol=1e-6, rtol=1e-6)


def test_one_picture_imports_neither_timm_nor_torchvision(tmp_path):
    code = ("import sys, dataclasses; from vitocc.models import load_model; "
            "from vitocc.generation import reconstruct_images, save_mesh; m, cfg = load_model(None); "
            "gen = dataclasses.replace(cfg.generation, resolution0=8, upsampling_steps=1); "
            f"save_mesh(reconstruct_images([{str(CHAIR)!r}], m, gen)[0][0], {str(tmp_path / 'chair.obj')!r}); "
            "print(sorted(set(sys.modules) & {'timm', 'torchvision', 'torch._dynamo'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
