"""The CBN decoder: initialisation, the folded inference form and ragged decoding."""

from __future__ import annotations

import torch

from vitocc.models.decoder import CBNDecoder


def _randomised(seed: int = 0) -> CBNDecoder:
    """A decoder with random weights and running statistics, as after training."""
    torch.manual_seed(seed)
    decoder = CBNDecoder(c_dim=16, hidden=32, n_blocks=3)
    with torch.no_grad():
        for name, p in decoder.named_parameters():
            p.copy_(torch.randn_like(p) * 0.3 + (1.0 if name.endswith("gamma.bias") else 0.0))
        for m in decoder.modules():
            if isinstance(m, torch.nn.BatchNorm1d):
                m.running_mean.copy_(torch.randn_like(m.running_mean))
                m.running_var.copy_(torch.rand_like(m.running_var) + 0.5)
    return decoder.eval()


def test_initialisation_gamma_one_beta_zero_blocks_identity():
    torch.manual_seed(0)
    decoder = CBNDecoder(c_dim=16, hidden=32, n_blocks=2)
    c = torch.randn(3, 16)
    for m in [decoder.bn] + [b.bn_0 for b in decoder.blocks] + [b.bn_1 for b in decoder.blocks]:
        assert torch.equal(m.gamma(c), torch.ones(3, 32))
        assert torch.equal(m.beta(c), torch.zeros(3, 32))
    x = torch.randn(3 * 10, 32)
    for block in decoder.blocks:
        assert torch.equal(block(x, c, None, False), x)


def test_folded_equals_plain_regular_and_ragged():
    decoder = _randomised()
    c = torch.randn(3, 16)
    points = torch.rand(3, 50, 3) - 0.5
    with torch.no_grad():
        folded = decoder(points, c)
        decoder.fold = False
        plain = decoder(points, c)
        decoder.fold = True
    assert folded.shape == (3, 50)
    assert plain.abs().max() > 0.1  # non-trivial outputs
    torch.testing.assert_close(folded, plain, atol=1e-5, rtol=1e-5)

    # Ragged: shapes with 7, 0 and 20 points, sorted by shape and interleaved; against each shape alone
    # (folded) and against the plain layers on the same ragged batch (gathers).
    sorted_index = torch.repeat_interleave(torch.arange(3), torch.tensor([7, 0, 20]))
    for index in (sorted_index, sorted_index[torch.randperm(len(sorted_index))]):
        flat = torch.rand(len(index), 3) - 0.5
        with torch.no_grad():
            ragged = decoder(flat, c, index)
            decoder.fold = False
            plain_ragged = decoder(flat, c, index)
            decoder.fold = True
            for k in range(3):
                alone = decoder(flat[index == k][None], c[k:k + 1])[0]
                torch.testing.assert_close(ragged[index == k], alone, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(ragged, plain_ragged, atol=1e-5, rtol=1e-5)


def test_training_mode_uses_batch_statistics_and_updates_running_stats():
    decoder = CBNDecoder(c_dim=8, hidden=16, n_blocks=1).train()
    before = decoder.bn.bn.running_mean.clone()
    logits = decoder(torch.rand(2, 30, 3), torch.randn(2, 8))
    logits.sum().backward()
    assert not torch.equal(before, decoder.bn.bn.running_mean)
    assert decoder.blocks[0].fc_1.weight.grad.abs().sum() > 0


def test_chunked_decoding_without_gradients_matches_one_pass():
    decoder = _randomised(1)
    c = torch.randn(2, 16)
    points = torch.rand(2, 300, 3) - 0.5
    index = torch.randint(0, 2, (500,))
    flat = torch.rand(500, 3) - 0.5
    with torch.no_grad():
        whole, whole_flat = decoder(points, c), decoder(flat, c, index)
        decoder.chunk_points = 64  # chunks of 64 points within each shape's run: 10 and 8 of them
        torch.testing.assert_close(decoder(points, c), whole, atol=1e-6, rtol=1e-6)
        torch.testing.assert_close(decoder(flat, c, index), whole_flat, atol=1e-6, rtol=1e-6)


def test_folded_form_only_without_gradients_in_eval_mode_and_in_autocast_precision():
    """The folded form (per-shape weights, buffers) runs only without gradients in eval mode with `fold`; it
    computes in the dtype autocast gives matrix products (products into buffers bypass autocast), and takes
    an empty batch."""
    decoder = _randomised(2)
    c, points = torch.randn(2, 16), torch.rand(2, 40, 3) - 0.5
    with torch.no_grad():
        assert decoder.folds()
        fp32 = decoder(points, c)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            assert decoder.folded(c).w0.dtype == torch.bfloat16
            bf16 = decoder(points, c)
        empty = decoder(torch.empty(0, 3), c, torch.empty(0, dtype=torch.long))
        decoder.train()
        assert not decoder.folds()
        decoder.eval()
    assert not decoder.folds()  # gradients on
    assert fp32.dtype == torch.float32 and bf16.dtype == torch.bfloat16 and empty.shape == (0,)
    error = (bf16.float() - fp32).abs().max()
    assert 0 < error < 0.05 * fp32.abs().max()  # it did compute in bf16 (8 bits of mantissa), and close
