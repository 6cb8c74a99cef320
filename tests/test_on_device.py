"""The device-agnostic paths on $VITOCC_TEST_DEVICE (the `device` fixture: the CPU by default,
`cuda` in benchmarks/gpu_check.sh): decoder, pixel-aligned model, MISE, generation with the
shipped model and a training step under the default autocast, each against the CPU."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from vitocc.config import load_config
from vitocc.data.transforms import image_to_tensor
from vitocc.devices import needs_grad_scaler
from vitocc.generation import generate_meshes, load_image
from vitocc.generation.mise import lattice_to_points, mise
from vitocc.models import build_model, load_model
from vitocc.models.decoder import CBNDecoder

CHAIR = Path(__file__).parents[1] / "examples" / "chair.png"
HYBRID = ["model.encoder=hybrid_vit_lite0", "model.pixel_aligned=true", "data.img_size=64", "model.c_dim=32",
          "model.hidden_size=32", "model.n_blocks=2", "model.vit_dim=48", "model.vit_depth=1", "model.vit_heads=2"]


def _close(got: torch.Tensor, expected: torch.Tensor, tolerance: float = 1e-3) -> None:
    """Equal up to `tolerance` of the values' scale: GPUs may use TF32 convolutions and other kernels."""
    scale = max(1.0, expected.abs().max().item())
    assert (got.float().cpu() - expected.float()).abs().max().item() <= tolerance * scale


def test_decoder_regular_and_ragged_as_on_the_cpu(device):
    torch.manual_seed(0)
    decoder = CBNDecoder(16, 32, 2).eval()
    for p in decoder.parameters():  # not the identity start: every layer counts
        torch.nn.init.normal_(p, std=0.3)
    c, points = torch.randn(3, 16), torch.rand(3, 500, 3) - 0.5
    index = torch.arange(3).repeat_interleave(500)
    with torch.no_grad():
        expected = decoder(points, c)
        on_device = decoder.to(device)
        _close(on_device(points.to(device), c.to(device)), expected)
        _close(on_device(points.reshape(-1, 3).to(device), c.to(device), index.to(device)), expected.reshape(-1))


def test_pixel_aligned_model_as_on_the_cpu(device):
    torch.manual_seed(0)
    model = build_model(load_config(None, HYBRID)).eval()
    torch.nn.init.normal_(model.decoder.fc_local.weight)
    images, points = torch.randn(2, 3, 64, 64), torch.rand(2, 40, 3) - 0.5
    with torch.no_grad():
        expected = model.decode_flat(points.reshape(-1, 3), model.encode(images), torch.arange(2).repeat_interleave(40))
        model.to(device)
        code = model.encode(images.to(device))
        got = model.decode_flat(points.reshape(-1, 3).to(device), code, torch.arange(2, device=device).repeat_interleave(40))
    _close(got, expected, 1e-2)


def test_mise_on_the_device_queries_the_points_of_the_cpu(device):
    def sphere(points: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        radius = 0.2 + 0.1 * index.float()
        return 20.0 * (radius - points.norm(dim=1))

    on_cpu = mise(sphere, 2, 8, 2, 0.5, 0.1)
    on_device = mise(sphere, 2, 8, 2, 0.5, 0.1, device=device)
    assert on_device.values.device.type == device.type
    assert on_device.n_queried == on_cpu.n_queried
    torch.testing.assert_close(on_device.values.cpu(), on_cpu.values, atol=1e-4, rtol=1e-4)
    assert lattice_to_points(torch.zeros(1, 3, dtype=torch.long, device=device), 32, 0.1).device.type == device.type


def test_shipped_model_reconstructs_a_closed_mesh_under_the_default_autocast(device):
    model, cfg = load_model(None, device)
    assert next(model.parameters()).device.type == device.type
    picture = load_image(CHAIR)
    images = image_to_tensor(picture, model.image_size, model.image_mean, model.image_std)[None]
    gen = dataclasses.replace(cfg.generation, resolution0=16, upsampling_steps=1)
    (mesh, info), = generate_meshes(model, images, gen, device)
    assert info.faces > 1000 and info.watertight
    if device.type != "cpu":  # the CPU's own mesh: the same up to the decoder's precision
        cpu_model, _ = load_model(None, "cpu")
        (cpu_mesh, _), = generate_meshes(cpu_model, images, gen, "cpu")
        assert abs(len(mesh.faces) - len(cpu_mesh.faces)) <= 0.05 * len(cpu_mesh.faces)


@pytest.mark.parametrize("amp", ["auto", "bf16"])
def test_training_steps_under_autocast_lower_the_loss(device, amp):
    from vitocc.training.schedules import build_optimizer, build_scheduler
    from vitocc.training.trainer import training_step

    torch.manual_seed(0)
    cfg = load_config(None, HYBRID + [f"training.amp={amp}", "training.lr=1e-3", "training.warmup_steps=0",
                                      "training.schedule=constant"])
    model = build_model(cfg).to(device)
    optimizer = build_optimizer(model, cfg.training)
    scheduler = build_scheduler(optimizer, cfg.training, None)
    scaler = torch.amp.GradScaler(device.type, enabled=needs_grad_scaler(device, amp))
    points = torch.rand(4, 64, 3) - 0.5
    batch = {"inputs": torch.randn(4, 3, 64, 64), "points": points,
             "points.occ": (points.norm(dim=-1) < 0.3).float()}
    batch = {k: v.to(device) for k, v in batch.items()}
    losses = [float(training_step(model, batch, optimizer, scaler, scheduler, device, cfg.training)) for _ in range(8)]
    assert all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0]
