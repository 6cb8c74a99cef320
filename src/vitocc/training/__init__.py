"""Training: the loop (AMP, DDP, validation, stopping rules), checkpoints and schedules."""

from vitocc.training.checkpoints import save_checkpoint
from vitocc.training.trainer import TrainResult, TrainState, train
from vitocc.training.validation import occupancy_iou, validate

__all__ = ["train", "TrainResult", "TrainState", "save_checkpoint", "occupancy_iou", "validate"]
