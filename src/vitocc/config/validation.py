"""Checks of setting values that their types cannot express, run once when a config is loaded.

Allowed words (optimizer, schedule, amp) are `Literal` types in the schema, checked as values
are read (`config.loading`); this module checks ranges and combinations. Each message names
the setting as `section.key`, as the user writes it in YAML or `--set`. What depends on the
machine (fp16 needs CUDA) or on the data (a cosine needs the epoch length) is checked where
that is known.
"""

from __future__ import annotations

import math

from vitocc.config.schema import Config, DataConfig, GenerationConfig, TestConfig, TrainingConfig
from vitocc.errors import UserError


def validate(cfg: Config) -> Config:
    """`cfg` itself, or a UserError naming the first setting out of its range."""
    check_data(cfg.data)
    check_training(cfg.training)
    check_generation(cfg.generation)
    check_test(cfg.test)
    return cfg


def check_data(data: DataConfig) -> None:
    if data.img_size < 32:
        raise UserError(f"data.img_size must be >= 32 pixels, got {data.img_size}")
    if data.points_subsample < 1 or data.n_views < 1 or not 0 <= data.test_view < data.n_views:
        raise UserError(f"data.points_subsample and data.n_views must be >= 1 and data.test_view in "
                        f"0..n_views-1, got {data.points_subsample}, {data.n_views}, {data.test_view}")
    if not 0 <= data.surface_fraction <= 1 or data.surface_band <= 0:
        raise UserError(f"data.surface_fraction must be in [0, 1] and data.surface_band > 0, got "
                        f"{data.surface_fraction} and {data.surface_band}")
    if not 0 <= data.background_prob <= 1:
        raise UserError(f"data.background_prob must be in [0, 1], got {data.background_prob}")
    if data.num_workers < 0:
        raise UserError(f"data.num_workers must be >= 0, got {data.num_workers}")


def check_training(training: TrainingConfig) -> None:
    if training.batch_size < 1:
        raise UserError(f"training.batch_size must be >= 1, got {training.batch_size}")
    if training.lr < 0 or training.weight_decay < 0 or training.warmup_steps < 0:
        raise UserError("training.lr, training.weight_decay and training.warmup_steps must be >= 0")
    for key in ("max_steps", "max_epochs", "schedule_steps", "max_time"):
        value = getattr(training, key)
        if value is not None and value <= 0:
            raise UserError(f"training.{key} must be > 0 (or null for no limit), got {value}")
    for key in ("validate_every", "checkpoint_every", "log_every"):
        if getattr(training, key) < 1:
            raise UserError(f"training.{key} must be >= 1 step, got {getattr(training, key)}")


def check_generation(gen: GenerationConfig) -> None:
    """MISE and meshing settings (also called on settings the CLI derives from flags)."""
    if gen.resolution0 < 1:
        raise UserError(f"generation.resolution0 (--resolution) must be >= 1, got {gen.resolution0}")
    if not 0 <= gen.upsampling_steps <= 5:
        raise UserError(f"generation.upsampling_steps (--upsampling) must be in 0..5, got {gen.upsampling_steps}")
    if not 0.0 < gen.threshold < 1.0:
        raise UserError(f"generation.threshold (--threshold) must be a probability in (0, 1), got {gen.threshold}")
    if gen.batch_size < 1 or gen.points_batch < 1:
        raise UserError("generation.batch_size and generation.points_batch must be >= 1")
    if gen.padding < 0 or gen.refinement_steps < 0:
        raise UserError(f"generation.padding and generation.refinement_steps must be >= 0, got {gen.padding}, "
                        f"{gen.refinement_steps}")
    for name in ("first_level_margin", "finest_level_ratio"):
        if not 0 <= getattr(gen, name) < math.inf:
            raise UserError(f"generation.{name} must be >= 0 and finite, got {getattr(gen, name)}")
    if 0 < gen.finest_level_ratio < 1:
        raise UserError(f"generation.finest_level_ratio must be 0 (off) or >= 1 (below 1 it can skip points whose "
                        f"voxel corners straddle the threshold), got {gen.finest_level_ratio}")


def check_test(test: TestConfig) -> None:
    if not 0.0 < test.threshold < 1.0:
        raise UserError(f"test.threshold must be a probability in (0, 1), got {test.threshold}")
    if test.n_points < 1 or test.num_workers < 1:
        raise UserError(f"test.n_points and test.num_workers (--workers) must be >= 1, got {test.n_points}, "
                        f"{test.num_workers}")
    if not all(0 < tau < 1.8 for tau in test.fscore_thresholds):
        raise UserError(f"test.fscore_thresholds must be distances in (0, 1.8), got {test.fscore_thresholds}")
