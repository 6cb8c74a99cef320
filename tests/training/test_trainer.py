"""The trainer: run directory, resume equivalence, stopping rules, user errors."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging

import pytest
import torch

from vitocc.config import apply_overrides, config_from_dict, load_config
from vitocc.errors import UserError
from vitocc.models import build_model, export_safetensors, load_model, read_checkpoint
from vitocc.training import train
from vitocc.training.trainer import Trainer, init_weights


def _log(run):
    return [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]


@contextlib.contextmanager
def _vitocc_log(caplog, level: str):
    """caplog receives the `vitocc` logger's records at `level` and above, inside the block
    (the logger may not propagate: the CLI routes it through rich)."""
    caplog.set_level(level, logger="vitocc")
    logger = logging.getLogger("vitocc")
    logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)


def test_run_directory_layout_checkpoints_and_log(tiny_cfg, tmp_path):
    cfg = apply_overrides(tiny_cfg, ["training.max_steps=5", "training.validate_every=4"])
    result = train(cfg, tmp_path / "run")
    run = tmp_path / "run"
    assert result.step == 5 and result.stop_reason == "max_steps"
    assert sorted(p.name for p in run.iterdir()) == ["checkpoints", "config.yaml", "log.jsonl"]
    assert sorted(p.name for p in (run / "checkpoints").iterdir()) == ["best.pt", "last.pt"]
    ckpt = read_checkpoint(run / "checkpoints" / "last.pt")  # weights_only unpickling
    assert set(ckpt) == {"model", "optimizer", "scheduler", "scaler", "state", "rng", "config"}
    assert ckpt["state"]["step"] == 5 and config_from_dict(ckpt["config"]) == cfg
    lines = _log(run)
    assert [r["step"] for r in lines if "loss" in r] == [1, 2, 3, 4, 5]
    val = [r for r in lines if "val_iou" in r]
    assert [r["step"] for r in val] == [4, 5]  # every 4 steps, and the final weights
    assert 0 <= val[-1]["val_iou"] <= 1 and result.best_iou == max(r["val_iou"] for r in val)
    best = read_checkpoint(run / "checkpoints" / "best.pt")
    assert best["state"]["best_iou"] == result.best_iou
    model, loaded_cfg = load_model(run)
    assert not model.training and loaded_cfg == cfg


def test_resume_gives_the_same_weights_as_training_straight(tiny_cfg, tmp_path, monkeypatch):
    """2N steps straight == N steps, resume, N more (4 train shapes, batch 2: resumes mid-epoch).

    Same CPU kernels in the same order: the tolerance only absorbs float summation order,
    which does not change here; GPU runs with nondeterministic kernels differ by ~1e-6.
    """
    straight, split = tmp_path / "straight", tmp_path / "split"
    train(apply_overrides(tiny_cfg, ["training.max_steps=6"]), straight)
    first = train(apply_overrides(tiny_cfg, ["training.max_steps=3"]), split)
    assert (first.step, first.epoch) == (3, 1)
    steps = []
    real_step = Trainer.step
    monkeypatch.setattr(Trainer, "step", lambda self, batch: steps.append(1) or real_step(self, batch))
    train(apply_overrides(tiny_cfg, ["training.max_steps=6"]), split, resume=True)
    assert len(steps) == 3  # the resumed session continued, it did not start over

    a = read_checkpoint(straight / "checkpoints" / "last.pt")
    b = read_checkpoint(split / "checkpoints" / "last.pt")
    assert a["state"]["step"] == b["state"]["step"] == 6 and a["state"]["epoch"] == b["state"]["epoch"]
    for name, tensor in a["model"].items():
        torch.testing.assert_close(b["model"][name], tensor, atol=1e-6, rtol=1e-5, msg=name)
    for key, slot in a["optimizer"]["state"].items():
        torch.testing.assert_close(b["optimizer"]["state"][key]["exp_avg_sq"], slot["exp_avg_sq"], atol=1e-8, rtol=1e-5)
    losses = lambda run: [(r["step"], round(r["loss"], 4)) for r in _log(run) if "loss" in r]  # noqa: E731
    assert losses(split) == losses(straight)  # the log holds each step once, same values
    steps.clear()
    again = train(apply_overrides(tiny_cfg, ["training.max_steps=6"]), split, resume=True)
    assert (steps, again.step) == ([], 6)  # resuming a finished run (killed after its last save) adds no step


def test_schedule_steps_lets_a_run_stop_early_on_a_longer_cosine(tiny_cfg, tmp_path):
    """3 steps on a 6-step cosine, then resumed to 6: the same learning rates as 6 straight."""
    cosine = ["training.optimizer=adamw", "training.schedule=cosine", "training.warmup_steps=1"]
    train(apply_overrides(tiny_cfg, cosine + ["training.max_steps=6"]), tmp_path / "straight")
    split = tmp_path / "split"
    train(apply_overrides(tiny_cfg, cosine + ["training.max_steps=3", "training.schedule_steps=6"]), split)
    train(apply_overrides(tiny_cfg, cosine + ["training.max_steps=6", "training.schedule_steps=6"]), split, resume=True)
    steps = lambda run: [r["step"] for r in _log(run) if "lr" in r]  # noqa: E731
    rates = lambda run: [r["lr"] for r in _log(run) if "lr" in r]  # noqa: E731
    assert steps(split) == steps(tmp_path / "straight") == [1, 2, 3, 4, 5, 6]
    assert rates(split) == pytest.approx(rates(tmp_path / "straight"))
    assert rates(split)[2] > 0.5 * rates(split)[0]  # a 3-step cosine would be at zero by step 3


def test_max_epochs_and_cosine_schedule(tiny_cfg, tmp_path):
    cfg = apply_overrides(tiny_cfg, ["training.max_epochs=2", "training.optimizer=adamw", "training.schedule=cosine",
                                     "training.warmup_steps=1", "training.grad_clip=0.5"])
    result = train(cfg, tmp_path / "run")
    assert (result.step, result.stop_reason) == (4, "max_epochs")  # 4 shapes, batch 2: 2 steps per epoch
    lrs = [r["lr"] for r in _log(tmp_path / "run") if "lr" in r]
    assert lrs[0] == pytest.approx(1e-3) and lrs[-1] == pytest.approx(0.0, abs=1e-12)  # decayed to 0 at the end


def test_cpu_bf16_autocast_trains(tiny_cfg, tmp_path):
    result = train(apply_overrides(tiny_cfg, ["training.max_steps=2", "training.amp=bf16"]), tmp_path / "run")
    assert result.step == 2 and torch.isfinite(torch.tensor(result.val["val_loss"]))


def test_near_surface_points_train_in_a_loader_worker_and_say_what_they_change(tiny_cfg, tmp_path, caplog):
    cfg = apply_overrides(tiny_cfg, ["training.max_steps=2", "data.surface_fraction=0.5", "data.num_workers=1"])
    with _vitocc_log(caplog, "INFO"):
        result = train(cfg, tmp_path / "run")
    assert result.step == 2 and torch.isfinite(torch.tensor(result.val["val_loss"]))
    assert any("surface_fraction 0.5" in r.getMessage() and "test.threshold 0.2" in r.getMessage()
               for r in caplog.records)
    assert load_model(tmp_path / "run")[1].data.surface_fraction == 0.5  # the run remembers its sampling


def test_run_directory_errors(tiny_cfg, tmp_path):
    with pytest.raises(UserError, match="last.pt does not exist"):
        train(tiny_cfg, tmp_path / "new", resume=True)
    train(apply_overrides(tiny_cfg, ["training.max_steps=1"]), tmp_path / "run")
    with pytest.raises(UserError, match="already holds a run"):
        train(tiny_cfg, tmp_path / "run")
    (tmp_path / "run" / "checkpoints" / "last.pt").unlink()  # as if killed before its first last.pt
    assert train(apply_overrides(tiny_cfg, ["training.max_steps=1"]), tmp_path / "run").step == 1
    other = dataclasses.replace(tiny_cfg, model=dataclasses.replace(tiny_cfg.model, hidden_size=16))
    with pytest.raises(UserError, match="checkpoint does not match the model config"):
        train(other, tmp_path / "run", resume=True)
    with pytest.raises(UserError, match="fewer than a batch of 8"):
        train(apply_overrides(tiny_cfg, ["training.batch_size=8"]), tmp_path / "big")
    with pytest.raises(UserError, match="amp=fp16 needs a CUDA GPU"):
        train(apply_overrides(tiny_cfg, ["training.amp=fp16"]), tmp_path / "fp16")


def test_skip_broken_trains_on_and_warns_once_per_epoch(tiny_overrides, write_boxes, tmp_path, caplog):
    root = write_boxes(tmp_path / "data", {"03001627": "chair"}, models_per_class=8, n_points=512, n_views=1)
    bad = root / "03001627" / "627model00" / "points.npz"
    bad.write_bytes(b"PK\x03\x04 truncated")
    cfg = load_config(None, tiny_overrides + [f"data.path={root}", "data.n_views=1", "training.max_epochs=2"])
    with pytest.raises(UserError, match=f"cannot read {bad}"):
        train(cfg, tmp_path / "strict")
    with _vitocc_log(caplog, "WARNING"):
        result = train(apply_overrides(cfg, ["data.skip_broken=true"]), tmp_path / "lenient")
    assert result.step == 4  # 4 training shapes, batch 2: the broken one only shrinks its batch
    # one per epoch; only warnings count (this test's tmp path has "broken" in its name, so
    # an INFO line of the strict run above names it too when the logger propagates)
    warnings = {r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "broken" in r.getMessage()}
    assert len(warnings) == 2 and all("skipped 1 broken shape" in w and str(bad) in w for w in warnings)


def test_init_weights_fine_tunes_from_a_trained_run(tiny_cfg, tmp_path):
    """A new run starts from another run's weights, with its own step count and schedule."""
    train(apply_overrides(tiny_cfg, ["training.max_steps=2"]), tmp_path / "base")
    base = read_checkpoint(tmp_path / "base" / "checkpoints" / "last.pt")["model"]
    warm = apply_overrides(tiny_cfg, ["training.max_steps=1", "training.lr=0", f"training.init_weights={tmp_path / 'base'}"])
    result = train(warm, tmp_path / "tuned")
    tuned = read_checkpoint(tmp_path / "tuned" / "checkpoints" / "last.pt")
    assert result.step == 1 and tuned["state"]["step"] == 1
    weights = [name for name in base if "running_" not in name and "num_batches" not in name]  # not BN statistics
    for name in weights:  # lr 0: the copied weights come through unchanged
        torch.testing.assert_close(tuned["model"][name], base[name], msg=name)
    other = dataclasses.replace(warm, model=dataclasses.replace(warm.model, hidden_size=16))
    with pytest.raises(UserError, match="do not fit this config's model: size mismatch for "):
        train(other, tmp_path / "other")
    fewer = dataclasses.replace(warm, model=dataclasses.replace(warm.model, n_blocks=warm.model.n_blocks - 1))
    with pytest.raises(UserError, match="do not fit this config's model: this model has no decoder.blocks"):
        train(fewer, tmp_path / "fewer")


def test_init_weights_starts_new_layers_from_their_initialisation(tmp_path, caplog):
    """Fine-tuning with the fine map added: every trained tensor is copied, the new layer is named in the log."""
    pixel = ["model.encoder=hybrid_vit_lite0", "model.pixel_aligned=true", "data.img_size=64", "model.c_dim=16",
             "model.hidden_size=16", "model.n_blocks=1", "model.vit_dim=24", "model.vit_depth=1", "model.vit_heads=2"]
    base = build_model(load_config(None, pixel))
    export_safetensors(base, load_config(None, pixel), tmp_path / "base")
    model = build_model(load_config(None, pixel + ["model.fine_map=true"]), pretrained=False)
    with caplog.at_level(logging.INFO, logger="vitocc"):
        init_weights(model, str(tmp_path / "base" / "model.safetensors"))
    state = model.state_dict()
    for name, tensor in base.state_dict().items():
        torch.testing.assert_close(state[name], tensor, msg=name)
    assert torch.count_nonzero(state["decoder.fc_fine.weight"]) == 0
    assert any("1 tensor(s) new to this model" in r.getMessage() and "decoder.fc_fine.weight" in r.getMessage()
               for r in caplog.records)


def test_a_new_trainer_reports_its_elapsed_time_before_running(tiny_cfg, tmp_path):
    from vitocc.training import distributed

    ctx = distributed.DistContext(0, 1, 0, torch.device("cpu"))
    trainer = Trainer(tiny_cfg, tmp_path / "run", ctx, resume=False, progress=False)
    assert 0 <= trainer.elapsed() < 60 and trainer.state.step == 0  # elapsed() used to need run() first
