"""The pixel-aligned hybrid-ViT occupancy network: features where points project, a camera head, loading."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from run_dirs import write_run
from vitocc.config import load_config
from vitocc.data import cameras
from vitocc.errors import UserError
from vitocc.models import build_model, export_safetensors, load_model

HYBRID = ["model.encoder=hybrid_vit_lite0", "model.pixel_aligned=true", "data.img_size=64", "model.c_dim=32",
          "model.hidden_size=32", "model.n_blocks=2", "model.vit_dim=48", "model.vit_depth=1", "model.vit_heads=2"]


def _data_projection(n: int) -> torch.Tensor:
    world = cameras.world_matrix(1.4, 27.0, 40.0)
    grid = cameras.grid_projection(world, cameras.camera_matrix(), np.zeros(3), 0.75)
    return torch.tensor(grid).expand(n, 3, 4)


def test_forward_uses_the_data_camera_and_scores_the_camera_head():
    torch.manual_seed(0)
    model = build_model(load_config(None, HYBRID + ["model.pretrained=true"])).train()
    images, points = torch.randn(2, 3, 64, 64), torch.rand(2, 50, 3) - 0.5
    out = model(points, images, _data_projection(2))
    assert out.logits.shape == (2, 50) and out.camera_loss > 0
    (out.logits.sum() + out.camera_loss).backward()
    assert model.encoder.camera_head.weight.grad.abs().sum() > 0
    assert model.decoder.fc_local.weight.grad.abs().sum() > 0  # the local features reach the decoder
    assert all(p.grad is None for p in model.encoder.stem.parameters())  # frozen ImageNet stem
    assert not model.encoder.stem.training  # its batch norm keeps ImageNet's statistics
    no_camera = model(points, images)
    assert float(no_camera.camera_loss) == 0


def test_local_features_change_with_the_camera():
    torch.manual_seed(0)
    model = build_model(load_config(None, HYBRID)).eval()
    torch.nn.init.normal_(model.decoder.fc_local.weight)
    images, points = torch.randn(1, 3, 64, 64), torch.rand(1, 30, 3) - 0.5
    with torch.no_grad():
        own = model(points, images).logits
        data = model(points, images, _data_projection(1)).logits
    assert not torch.allclose(own, data)


def test_ragged_and_regular_decoding_agree():
    torch.manual_seed(0)
    model = build_model(load_config(None, HYBRID)).eval()
    model.decoder.chunk_points = 7  # chunking paths too
    images, points = torch.randn(3, 3, 64, 64), torch.rand(3, 20, 3) - 0.5
    with torch.no_grad():
        code = model.encode(images)
        regular = model.decode(points, code)
        flat = model.decode_flat(points.reshape(-1, 3), code, torch.arange(3).repeat_interleave(20))
        order = torch.randperm(60)
        shuffled = model.decode_flat(points.reshape(-1, 3)[order], code, torch.arange(3).repeat_interleave(20)[order])
    torch.testing.assert_close(flat, regular.reshape(-1), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(shuffled, regular.reshape(-1)[order], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(model.decode(points[1:2], code[1:2]), regular[1:2], atol=1e-5, rtol=1e-5)


def _gathered_features(model, points: torch.Tensor, code, index: torch.Tensor) -> torch.Tensor:
    """The reference for ragged features (N, F), contiguous: each point projected with its own shape's camera,
    each shape's maps sampled at its points and written back to their rows."""
    from vitocc.models import projection as proj

    uv = proj.project(points, code.projection[index])
    out = uv.new_empty(len(points), sum(m.shape[1] for m in code.maps))
    for k in torch.unique(index).tolist():
        rows = (index == k).nonzero().squeeze(1)
        out[rows] = proj.sample_maps(tuple(m[k:k + 1] for m in code.maps), uv[rows][None])[0]
    return out


@pytest.mark.parametrize("shipped", [False, True], ids=["small fine-map model", "shipped model"])
def test_ragged_decoding_is_the_gathered_features_decoded(shipped):
    """With gradients `_local` joins the runs' features without a copy into (N, F) rows (an (N, F) view of their
    (F, N) layout): they are exactly the features gathered point by point, in rows, for sorted runs across chunk
    boundaries and for a shuffled index. Without gradients decode_flat runs the folded decoder on the maps
    embedded once by its input layers (`CBNDecoder.embed_maps`, sampled as texel rows): its logits are those
    of the gathered features through the plain layers, to float rounding (a missing bias or a swapped block
    is 1e-2 or more)."""
    torch.manual_seed(0)
    if shipped:
        model, _ = load_model(None, "cpu")
    else:
        model = build_model(load_config(None, HYBRID + ["model.fine_map=true"])).eval()
        with torch.no_grad():  # every decoder weight, bias and running statistic away from its initial value
            for name, p in model.decoder.named_parameters():
                p.copy_(torch.randn_like(p) * 0.3 + (1.0 if name.endswith("gamma.bias") else 0.0))
            for m in model.decoder.modules():
                if isinstance(m, torch.nn.BatchNorm1d):
                    m.running_mean.normal_()
                    m.running_var.uniform_(0.5, 1.5)
        model.decoder.chunk_points = 37
    size = model.image_size
    n = 3 * model.decoder.chunk_points + 5
    images, points = torch.randn(3, 3, size, size), torch.rand(n, 3) * 1.1 - 0.55
    runs = torch.tensor([5, n // 2, n // 4, n - 5 - n // 2 - n // 4])
    sorted_index = torch.repeat_interleave(torch.tensor([0, 2, 1, 0]), runs)  # sorted runs, as MISE sends them
    with torch.inference_mode():
        code = model.encode(images)
        for index in (sorted_index, sorted_index[torch.randperm(n)], torch.full((n,), 1)):
            logits = model.decode_flat(points, code, index)
            chunks = [(points[i:i + model.decoder.chunk_points], index[i:i + model.decoder.chunk_points])
                      for i in range(0, n, model.decoder.chunk_points)]
            reference = torch.cat([model.decoder(p, code.c, i, _gathered_features(model, p, code, i)) for p, i in chunks])
            torch.testing.assert_close(logits, reference, rtol=1e-5, atol=1e-4)
            assert torch.equal(model._local(points, code, index), _gathered_features(model, points, code, index))


def test_embedded_maps_sample_to_the_input_layers_outputs():
    """Sampling the maps embedded by fc_local / fc_fine (as texel rows, the folded decoder's input) and adding
    the bias gives the layers' outputs on the sampled features, also outside the picture (border padding keeps
    the bilinear weights' sum at 1)."""
    from vitocc.models import projection as proj

    torch.manual_seed(0)
    model = build_model(load_config(None, HYBRID + ["model.fine_map=true"])).eval()
    decoder = model.decoder
    for layer in (decoder.fc_local, decoder.fc_fine):
        torch.nn.init.normal_(layer.weight)
    size = model.image_size
    with torch.inference_mode():
        maps = model.encode(torch.randn(2, 3, size, size)).maps
        uv = torch.rand(2, 500, 2) * 2.6 - 1.3  # a third of them outside the picture
        features = proj.sample_maps(maps, uv)
        expected = decoder.fc_local(features[..., :decoder.local_dim]) + decoder.fc_fine(features[..., decoder.local_dim:])
        texels = proj.TexelRows.of(decoder.embed_maps(maps))
        embedded = torch.stack([texels.sample(uv[b], b) for b in range(2)])
    assert embedded.shape == expected.shape == (2, 500, decoder.fc_p.out_features)
    torch.testing.assert_close(embedded + decoder.fc_local.bias, expected, rtol=1e-5, atol=1e-4)
    assert (embedded - expected).abs().max() > 1e-2  # the bias is not in the maps: the check can fail


def test_export_and_load_round_trip(tmp_path):
    cfg = load_config(None, HYBRID + ["model.pretrained=true"])
    model = build_model(cfg).eval()
    images, points = torch.randn(1, 3, 64, 64), torch.rand(1, 20, 3) - 0.5
    with torch.no_grad():
        expected = model(points, images).logits
    export_safetensors(model, cfg, tmp_path / "shipped")
    for source in (tmp_path / "shipped" / "model.safetensors", write_run(tmp_path / "run", cfg, model)):
        loaded, _ = load_model(source)
        with torch.no_grad():
            torch.testing.assert_close(loaded(points, images).logits, expected)


def test_pixel_aligned_needs_the_hybrid_encoder():
    with pytest.raises(UserError, match="model.pixel_aligned needs model.encoder=hybrid_vit_lite0"):
        build_model(load_config(None, ["model.encoder=resnet18", "model.pixel_aligned=true"]))


def test_global_code_hybrid_has_no_local_features():
    model = build_model(load_config(None, HYBRID + ["model.pixel_aligned=false"])).eval()
    assert model.decoder.fc_local is None
    with torch.no_grad():
        code = model.encode(torch.randn(2, 3, 64, 64))
        assert code.maps == () and model.decode(torch.rand(2, 5, 3), code).shape == (2, 5)


def test_camera_mix_samples_features_with_the_head_camera():
    from vitocc.models import projection as proj

    torch.manual_seed(0)
    model = build_model(load_config(None, HYBRID)).train()
    torch.nn.init.normal_(model.decoder.fc_local.weight)
    torch.nn.init.normal_(model.encoder.camera_head.weight)  # a head camera unlike the data's
    images, points = torch.randn(4, 3, 64, 64), torch.rand(4, 30, 3) - 0.5
    data_only = model(points, images, _data_projection(4))
    with torch.no_grad():
        own = proj.projection_from_pose(*proj.pose_from_head(model.encode(images).camera))
    model.camera_mix = 1.0
    mixed = model(points, images, _data_projection(4))
    model.camera_mix = 0.0
    torch.testing.assert_close(mixed.logits, model(points, images, own).logits)  # features: the head's camera
    torch.testing.assert_close(mixed.camera_loss, data_only.camera_loss)  # the head: still scored on the data's
    assert not torch.allclose(mixed.logits, data_only.logits)


def test_fine_map_adds_the_stride_4_features_through_a_layer_that_starts_at_zero():
    """model.fine_map: a third map (the stem's stride 4, 24 channels) whose decoder layer starts at
    zero, so the model gives what it gave without the map until training moves that layer."""
    torch.manual_seed(0)
    plain = build_model(load_config(None, HYBRID)).eval()
    fine = build_model(load_config(None, HYBRID + ["model.fine_map=true"])).eval()
    missing, unexpected = fine.load_state_dict(plain.state_dict(), strict=False)
    assert missing == ["decoder.fc_fine.weight"] and unexpected == []
    images, points = torch.randn(2, 3, 64, 64), torch.rand(2, 40, 3) - 0.5
    with torch.no_grad():
        code = fine.encode(images)
        assert [tuple(m.shape[1:]) for m in code.maps] == [(48, 4, 4), (40, 8, 8), (24, 16, 16)]
        torch.testing.assert_close(fine.decode(points, code), plain.decode(points, plain.encode(images)))
        torch.nn.init.normal_(fine.decoder.fc_fine.weight)
        assert not torch.allclose(fine.decode(points, code), plain.decode(points, plain.encode(images)))


def test_fine_map_needs_pixel_aligned_features():
    with pytest.raises(UserError, match="model.fine_map needs model.pixel_aligned"):
        build_model(load_config(None, HYBRID + ["model.pixel_aligned=false", "model.fine_map=true"]))
