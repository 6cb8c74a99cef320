"""Typed configuration for every component, with presets shipped in the package."""

from vitocc.config.loading import (
    apply_overrides,
    config_from_dict,
    config_to_dict,
    load_config,
    merge,
    preset_names,
    save_config,
    valid_keys,
    with_values,
)
from vitocc.config.schema import (
    Config,
    DataConfig,
    GenerationConfig,
    ModelConfig,
    TestConfig,
    TrainingConfig,
)

__all__ = [
    "Config", "DataConfig", "ModelConfig", "TrainingConfig", "GenerationConfig", "TestConfig",
    "load_config", "apply_overrides", "merge", "config_to_dict", "config_from_dict",
    "save_config", "preset_names", "valid_keys", "with_values",
]
