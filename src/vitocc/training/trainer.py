"""The training loop: data, model, optimiser, AMP, DDP, validation, checkpoints, stopping rules.

One call, :func:`train`, runs or resumes an experiment in a run directory (docs/design.md section 4):
`config.yaml` (the resolved config), `checkpoints/{last,best}.pt`, `log.jsonl`.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from vitocc.config import Config, TrainingConfig, config_to_dict, save_config
from vitocc.data.dataset import ShapeNetDataset
from vitocc.data.loader import batch_to_device, build_loader, take_broken
from vitocc.devices import amp_dtype, autocast, needs_grad_scaler
from vitocc.errors import UserError
from vitocc.models.loading import load_model, read_checkpoint
from vitocc.models.onet import build_model, occupancy_loss
from vitocc.runs import BEST, LAST, RunDir
from vitocc.training import distributed
from vitocc.training.checkpoints import rng_state, save_checkpoint, set_rng_state
from vitocc.training.interrupts import deferred_interrupt
from vitocc.training.reporting import RunLog, TrainProgress
from vitocc.training.schedules import build_optimizer, build_scheduler
from vitocc.training.validation import ValidationSettings, validate

log = logging.getLogger(__name__)


@dataclass
class TrainState:
    """Where a run is: saved in every checkpoint, restored by `--resume`."""

    step: int = 0
    epoch: int = 0
    batch_in_epoch: int = 0  # batches of `epoch` already trained on
    best_iou: float = -1.0
    elapsed_seconds: float = 0.0


@dataclass
class TrainResult:
    """Summary of a finished (or stopped) run."""

    run_dir: Path
    step: int
    epoch: int
    best_iou: float
    val: dict[str, float] | None
    stop_reason: str


def planned_steps(cfg: Config, steps_per_epoch: int) -> int | None:
    """Total steps the stopping rules allow (the earlier of max_steps and max_epochs), if known."""
    limits = [cfg.training.max_steps, cfg.training.max_epochs and cfg.training.max_epochs * steps_per_epoch]
    known = [n for n in limits if n]
    return min(known) if known else None


def check_run_dir(run_dir: Path, resume: bool) -> None:
    """A new run needs a directory without last.pt; a resumed one needs it.

    A run killed before its first last.pt may have left best.pt: nothing can resume it, so a new
    run starts over in its place rather than refusing both ways.
    """
    last = RunDir(run_dir).checkpoints / LAST
    if resume and not last.is_file():
        raise UserError(f"--resume: {last} does not exist", "start a new run without --resume")
    if not resume and last.is_file():
        raise UserError(f"{run_dir} already holds a run", "continue it with --resume, or choose another --out")


def initial_model(cfg: Config, resume: bool) -> torch.nn.Module:
    """The model to train: ImageNet-initialised as the config says, or the weights of
    `training.init_weights` for a new fine-tuning run (a resumed run loads its checkpoint later)."""
    warm = cfg.training.init_weights is not None
    model = build_model(cfg, pretrained=False if resume or warm else None)
    if warm and not resume:
        init_weights(model, cfg.training.init_weights)
    return model


def build_loaders(cfg: Config, model: torch.nn.Module, device: torch.device,
                  ctx: distributed.DistContext) -> tuple[torch.utils.data.DataLoader, torch.utils.data.DataLoader]:
    """The training loader (shuffled, this rank's shard; with cameras for pixel-aligned models) and
    the validation loader, both with the model's image normalisation."""
    data, tcfg = cfg.data, cfg.training
    stats = {"image_mean": model.image_mean, "image_std": model.image_std}
    train_fields = ("points", "inputs", "cameras") if cfg.model.pixel_aligned else ("points", "inputs")
    train_set = ShapeNetDataset(data.path, data.train_split, data, train_fields, train=True, **stats)
    val_set = ShapeNetDataset(data.path, data.val_split, data, ("points", "points_iou", "inputs"), **stats)
    shard = {"rank": ctx.rank, "world_size": ctx.world_size}
    return (build_loader(train_set, tcfg.batch_size, True, data.num_workers, device, tcfg.seed, **shard),
            build_loader(val_set, tcfg.batch_size, False, data.num_workers, device, tcfg.seed, **shard))


def init_weights(model: torch.nn.Module, source: str) -> None:
    """Copy a trained model's weights into `model` to fine-tune it: a new run with a fresh
    optimizer, schedule and step count, unlike --resume. Layers the trained model lacks (an added
    fine map's input layer) keep their initialisation and are named in the log; a trained tensor
    with no place in `model`, or of another shape, is refused."""
    trained, _ = load_model(source)
    hint = "fine-tune with the model section of their config.yaml"
    try:
        missing, unexpected = model.load_state_dict(trained.state_dict(), strict=False)
    except RuntimeError as exc:
        raise UserError(f"training.init_weights {source}: the weights do not fit this config's model: "
                        f"{str(exc).splitlines()[1].strip()}", hint) from None
    if unexpected:
        raise UserError(f"training.init_weights {source}: the weights do not fit this config's model: "
                        f"this model has no {unexpected[0]}", hint)
    if missing:
        log.info("training.init_weights: %d tensor(s) new to this model start from their initialisation: %s",
                 len(missing), ", ".join(missing))


def training_step(net: torch.nn.Module, batch: dict, optimizer: torch.optim.Optimizer, scaler: torch.amp.GradScaler,
                  scheduler: torch.optim.lr_scheduler.LRScheduler, device: torch.device,
                  tcfg: TrainingConfig) -> torch.Tensor:
    """Forward (under autocast) and backward of the loss on `batch` (on `device`), gradient
    clipping, optimiser and schedule step; returns the detached loss."""
    net.train()
    with autocast(device, tcfg.amp):
        logits, camera_loss = net(batch["points"], batch["inputs"], batch.get("inputs.projection"))
    loss = occupancy_loss(logits, batch["points.occ"]) + camera_loss
    optimizer.zero_grad(set_to_none=True)
    scaler.scale(loss).backward()
    if tcfg.grad_clip:
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(net.parameters(), tcfg.grad_clip)
    scaler.step(optimizer)
    scaler.update()
    scheduler.step()
    return loss.detach()


class Trainer:
    """State and steps of one training process (one rank under torchrun)."""

    def __init__(self, cfg: Config, run_dir: Path, ctx: distributed.DistContext, resume: bool, progress: bool,
                 console=None):
        self.cfg, self.run_dir, self.ctx = cfg, run_dir, ctx
        self.device = ctx.device
        tcfg = cfg.training
        check_run_dir(run_dir, resume)
        amp_dtype(self.device, tcfg.amp)  # a bad amp setting fails before any work
        if tcfg.threads:
            torch.set_num_threads(tcfg.threads)
        torch.manual_seed(tcfg.seed)
        ckpt = read_checkpoint(RunDir(run_dir).checkpoints / LAST) if resume else None
        self.model = initial_model(cfg, resume).to(self.device)
        self.train_loader, self.val_loader = build_loaders(cfg, self.model, self.device, ctx)
        self.steps_per_epoch = len(self.train_loader)
        self.total_steps = planned_steps(cfg, self.steps_per_epoch)

        self.optimizer = build_optimizer(self.model, tcfg)
        self.scheduler = build_scheduler(self.optimizer, tcfg, self.total_steps)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=needs_grad_scaler(self.device, tcfg.amp))
        self.state = TrainState()
        if ckpt is not None:
            self._restore(ckpt)
        self.net = self.model
        if ctx.enabled:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

        if ctx.is_main:
            save_config(cfg, RunDir(run_dir).config)
        self.log = RunLog(RunDir(run_dir).log, ctx.is_main, self.state.step if resume else None)
        self.progress = TrainProgress(progress and ctx.is_main, self.total_steps, self.state.step, console)
        self.last_val: dict[str, float] | None = None
        self.last_val_step = -1
        self.broken: list[str] = []
        self.session_start = time.perf_counter()  # reset by run(); set here so elapsed() always works
        self.elapsed_before = self.state.elapsed_seconds

    def _restore(self, ckpt: dict) -> None:
        try:
            self.model.load_state_dict(ckpt["model"])
        except RuntimeError as exc:
            raise UserError(f"checkpoint does not match the model config: {str(exc).splitlines()[0]}",
                            "resume with the run's own config.yaml") from None
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.scheduler.load_state_dict(ckpt["scheduler"])
        self.scaler.load_state_dict(ckpt["scaler"])
        self.state = TrainState(**ckpt["state"])
        set_rng_state(ckpt["rng"])
        log.info("resumed from step %d (epoch %d)", self.state.step, self.state.epoch)

    def checkpoint(self, name: str) -> None:
        """Write checkpoints/`name` (rank 0 only)."""
        if not self.ctx.is_main:
            return
        save_checkpoint(RunDir(self.run_dir).checkpoints / name, {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "scaler": self.scaler.state_dict(),
            "state": dataclasses.asdict(self.state),
            "rng": rng_state(),
            "config": config_to_dict(self.cfg),
        })

    def step(self, batch: dict) -> torch.Tensor:
        """One optimisation step on `batch`; returns the detached loss."""
        return training_step(self.net, batch_to_device(batch, self.device), self.optimizer, self.scaler,
                             self.scheduler, self.device, self.cfg.training)

    def run_validation(self) -> None:
        """Validate, log, and keep best.pt when the IoU improves."""
        cfg = self.cfg
        metrics = validate(self.model, self.val_loader, self.device, ValidationSettings.of(cfg), self.ctx)
        self.last_val, self.last_val_step = metrics, self.state.step
        improved = metrics["val_iou"] > self.state.best_iou
        if improved:
            self.state.best_iou = metrics["val_iou"]
            self.checkpoint(BEST)
        self.log.write({"step": self.state.step, "epoch": self.state.epoch, **metrics,
                        "best_iou": self.state.best_iou, "elapsed_s": round(self.elapsed(), 2)})
        self.progress.update(self.state.step, iou=metrics["val_iou"])
        if self.ctx.is_main:
            log.info("step %d: val loss %.2f, IoU %.4f%s", self.state.step, metrics["val_loss"],
                     metrics["val_iou"], " (best)" if improved else "")

    def elapsed(self) -> float:
        """Training seconds of the whole run, over all resumed sessions."""
        return self.elapsed_before + time.perf_counter() - self.session_start

    def _stop_reason(self) -> str | None:
        tcfg = self.cfg.training
        reason = None
        if tcfg.max_steps is not None and self.state.step >= tcfg.max_steps:
            reason = "max_steps"
        elif tcfg.max_time is not None:
            # Ranks must agree on a clock-based stop, or one of them would wait forever.
            over = time.perf_counter() - self.session_start >= tcfg.max_time
            reason = "max_time" if distributed.all_reduce_sum([float(over)], self.ctx)[0] > 0 else None
        return reason

    def _end_epoch(self) -> None:
        self.state.epoch += 1
        self.state.batch_in_epoch = 0
        if self.broken and self.ctx.is_main:
            log.warning("epoch %d: skipped %d broken shape(s); first: %s", self.state.epoch, len(self.broken),
                        self.broken[0])
        self.broken = []

    def _train_epochs(self) -> str:
        """Train until a stopping rule fires; returns its name."""
        tcfg = self.cfg.training
        batch_size = tcfg.batch_size
        loss_sum, n_loss = torch.zeros((), device=self.device), 0
        mark_time, mark_step = time.perf_counter(), self.state.step
        reason = self._stop_reason()  # a run resumed from its final checkpoint trains no further step
        if reason:
            return reason
        while True:
            if tcfg.max_epochs is not None and self.state.epoch >= tcfg.max_epochs:
                return "max_epochs"
            self.train_loader.sampler.set_epoch(self.state.epoch, self.state.batch_in_epoch * batch_size)
            for batch in self.train_loader:
                self.broken += take_broken(batch, self.cfg.data.skip_broken)
                if "inputs" not in batch:
                    continue  # every shape of the batch was broken and skipped
                with deferred_interrupt():  # last.pt never holds a step that log.jsonl lacks
                    loss_sum += self.step(batch)
                    n_loss += 1
                    self.state.step += 1
                    self.state.batch_in_epoch += 1
                    step = self.state.step
                    if step % tcfg.log_every == 0:
                        loss = distributed.all_reduce_sum([loss_sum.item() / n_loss], self.ctx)[0] / self.ctx.world_size
                        now = time.perf_counter()
                        speed = (step - mark_step) * batch_size * self.ctx.world_size / max(now - mark_time, 1e-9)
                        self.log.write({"step": step, "epoch": self.state.epoch, "loss": loss,
                                        "lr": self.scheduler.get_last_lr()[0], "samples_per_s": round(speed, 2),
                                        "elapsed_s": round(self.elapsed(), 2)})
                        self.progress.update(step, loss=loss, samples_per_s=speed)
                        loss_sum.zero_()
                        n_loss, mark_time, mark_step = 0, now, step
                    else:
                        self.progress.update(step)
                validating = tcfg.validate_every and step % tcfg.validate_every == 0
                saving = tcfg.checkpoint_every and step % tcfg.checkpoint_every == 0
                if validating:
                    self.run_validation()
                if saving:
                    self.save_last()
                if validating or saving:  # samples/s counts training time only
                    mark_time, mark_step = time.perf_counter(), step
                reason = self._stop_reason()
                if reason:
                    return reason
            self._end_epoch()

    def save_last(self) -> None:
        self.state.elapsed_seconds = self.elapsed()
        self.checkpoint(LAST)

    def run(self) -> TrainResult:
        """Train, then validate the final weights (unless just done) and write last.pt."""
        self.session_start = time.perf_counter()
        self.elapsed_before = self.state.elapsed_seconds
        if self.ctx.is_main:
            log.info("training %s on %s: %d shapes, %d steps per epoch, run directory %s", self.cfg.model.encoder,
                     self.device, len(self.train_loader.dataset), self.steps_per_epoch, self.run_dir)
            if self.cfg.data.surface_fraction > 0:
                log.info("data.surface_fraction %g moves the best occupancy threshold up; validation uses "
                         "test.threshold %g: pick it with vitocc.evaluation.point_iou.sweep_thresholds (docs/train.md)",
                         self.cfg.data.surface_fraction, self.cfg.test.threshold)
        try:
            with self.progress:
                reason = self._train_epochs()
                if self.last_val_step != self.state.step:
                    self.run_validation()
        except KeyboardInterrupt:
            self.save_last()
            if self.ctx.is_main:
                log.warning("interrupted at step %d: saved %s", self.state.step, RunDir(self.run_dir).checkpoints / LAST)
            raise
        self.save_last()
        return TrainResult(self.run_dir, self.state.step, self.state.epoch, self.state.best_iou, self.last_val, reason)


def train(cfg: Config, out_dir: str | Path, device: torch.device | None = None, resume: bool = False,
          progress: bool = False, console=None) -> TrainResult:
    """Train (or with `resume`, continue from checkpoints/last.pt) the model of `cfg` into `out_dir`.

    Under torchrun every process calls this; they train data-parallel (DDP) and rank 0 alone
    writes. `device` is this process's device (default cuda:0 if there is a GPU, else the CPU;
    under torchrun on GPUs, cuda:LOCAL_RANK).
    `progress` shows a rich progress bar on `console` (a rich Console; stderr by default).
    """
    if device is None:
        device = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
    ctx = distributed.setup(device)
    try:
        result = Trainer(cfg, Path(out_dir), ctx, resume, progress, console).run()
        distributed.wait_for_all(ctx)  # the others wait while rank 0 writes the last checkpoint
        return result
    finally:
        distributed.teardown(ctx)
