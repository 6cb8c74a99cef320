"""OccupancyNetwork: timm encoders, pretrained weights offline, overfitting a few shapes, loading."""

from __future__ import annotations

import time

import pytest
import torch

from run_dirs import write_run
from vitocc.config import load_config
from vitocc.data.dataset import ShapeNetDataset, collate
from vitocc.errors import UserError
from vitocc.models import build_model, export_safetensors, load_model, occupancy_loss

TINY = ["model.encoder=vit_tiny_patch16_224", "data.img_size=32", "model.hidden_size=32",
        "model.c_dim=32", "model.n_blocks=2", "data.points_subsample=128", "data.n_views=3"]


@pytest.mark.parametrize("encoder", ["vit_tiny_patch16_224", "resnet18"])
def test_encoders_map_images_to_c(encoder):
    cfg = load_config(None, TINY + [f"model.encoder={encoder}"])
    model = build_model(cfg).eval()
    assert model.image_size == 32 and len(model.image_mean) == 3 and len(model.image_std) == 3
    with torch.no_grad():
        c = model.encode(torch.randn(2, 3, 32, 32))
        logits = model.decode(torch.rand(2, 10, 3) - 0.5, c)
    assert c.c.shape == (2, 32) and logits.shape == (2, 10)


def test_unknown_encoder_is_a_user_error():
    with pytest.raises(UserError, match="unknown timm encoder 'vit_tinyy_patch16_224'"):
        build_model(load_config(None, TINY + ["model.encoder=vit_tinyy_patch16_224"]))


def test_pretrained_without_network_fails_fast(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    cfg = load_config(None, TINY + ["model.pretrained=true", "model.encoder=resnet10t"])
    start = time.perf_counter()
    with pytest.raises(UserError, match="unreachable"):
        build_model(cfg)
    assert time.perf_counter() - start < 5


def test_pretrained_file_loads_local_imagenet_weights(tmp_path):
    import timm

    torch.manual_seed(1)
    imagenet = timm.create_model("resnet18")  # stands for a downloaded ImageNet checkpoint
    torch.save(imagenet.state_dict(), tmp_path / "resnet18.pth")
    cfg = load_config(None, TINY + ["model.encoder=resnet18", f"model.pretrained_file={tmp_path / 'resnet18.pth'}"])
    model = build_model(cfg)
    assert torch.equal(model.encoder.conv1.weight, imagenet.conv1.weight)
    assert model.encoder.fc.out_features == 32  # classifier replaced by the projection to c
    missing = load_config(None, TINY + [f"model.pretrained_file={tmp_path / 'nope.pth'}"])
    with pytest.raises(UserError, match="does not exist"):
        build_model(missing)


def test_loss_decreases_when_overfitting_two_shapes(box_dataset):
    torch.manual_seed(0)
    cfg = load_config(None, TINY)
    model = build_model(cfg).train()
    data = ShapeNetDataset(box_dataset, "train", cfg.data, train=True,
                           image_mean=model.image_mean, image_std=model.image_std)
    batch = collate([data[(i, 0)] for i in range(2)])
    batch.pop("broken")
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = occupancy_loss(model(batch["points"], batch["inputs"]).logits, batch["points.occ"])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses


def test_export_and_load_round_trip(tmp_path):
    cfg = load_config(None, TINY)
    model = build_model(cfg).eval()
    images, points = torch.randn(1, 3, 32, 32), torch.rand(1, 20, 3) - 0.5
    with torch.no_grad():
        expected = model(points, images)

    export_safetensors(model, cfg, tmp_path / "shipped")
    loaded, loaded_cfg = load_model(tmp_path / "shipped" / "model.safetensors")
    assert not loaded.training and loaded_cfg == cfg
    with torch.no_grad():
        torch.testing.assert_close(loaded(points, images), expected)

    loaded, _ = load_model(write_run(tmp_path / "run", cfg, model))
    with torch.no_grad():
        torch.testing.assert_close(loaded(points, images), expected)


def test_half_precision_export_halves_the_file_and_loads_as_float32(tmp_path):
    cfg = load_config(None, TINY)
    model = build_model(cfg).eval()
    full = export_safetensors(model, cfg, tmp_path / "fp32")
    half = export_safetensors(model, cfg, tmp_path / "fp16", dtype=torch.float16)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    loaded, _ = load_model(half)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    images, points = torch.randn(1, 3, 32, 32), torch.rand(1, 20, 3) - 0.5
    with torch.no_grad():
        torch.testing.assert_close(loaded(points, images), model(points, images), atol=5e-2, rtol=5e-2)


def test_load_model_errors(tmp_path):
    from vitocc.models.loading import shipped_model_dir

    if not (shipped_model_dir() / "model.safetensors").is_file():
        with pytest.raises(UserError, match="no checkpoint was given"):
            load_model(None)
    with pytest.raises(UserError, match="has no checkpoints"):
        load_model(tmp_path)
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UserError, match="is not a readable checkpoint"):
        load_model(tmp_path / "junk.pt")
