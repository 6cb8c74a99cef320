"""Config loading: defaults, presets, YAML merge, --set overrides and their errors."""

import pytest
import yaml

from vitocc.config import Config, apply_overrides, config_from_dict, config_to_dict, load_config, preset_names, save_config
from vitocc.errors import UserError


def test_defaults_follow_the_paper():
    cfg = Config()
    assert cfg.model.c_dim == 256 and cfg.model.hidden_size == 256 and cfg.model.n_blocks == 5
    assert cfg.data.points_subsample == 2048
    assert cfg.training.lr == pytest.approx(1e-4) and cfg.training.batch_size == 64
    assert cfg.generation.resolution0 == 32 and cfg.generation.upsampling_steps == 2
    assert cfg.generation.threshold == pytest.approx(0.2) and cfg.generation.padding == pytest.approx(0.1)
    assert cfg.test.fscore_thresholds == [0.01] and cfg.data.test_view == 0
    assert cfg.model.encoder.startswith("vit_")


def test_presets_ship_and_load():
    names = preset_names()
    assert {"default", "onet-resnet18", "synthetic-cpu"} <= set(names)
    assert load_config("default").model.encoder == "vit_small_patch16_224"
    assert load_config("onet-resnet18").model.encoder == "resnet18"
    cpu = load_config("synthetic-cpu")
    assert cpu.model.encoder.startswith("vit_tiny") and cpu.data.path == "data/synthetic"


def test_yaml_file_merges_over_defaults(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("model:\n  hidden_size: 64\ntraining:\n  lr: 1e-3\n")
    cfg = load_config(str(path))
    assert cfg.model.hidden_size == 64
    assert cfg.training.lr == pytest.approx(1e-3)  # YAML 1.1 reads 1e-3 as a string
    assert cfg.model.c_dim == 256  # untouched keys keep their defaults


def test_overrides_are_parsed_by_field_type():
    cfg = apply_overrides(Config(), [
        "training.max_steps=10", "training.grad_clip=none", "data.classes=chair,table",
        "data.skip_broken=true", "model.pretrained_file=/w.pth", "test.fscore_thresholds=[0.01, 0.02]",
    ])
    assert cfg.training.max_steps == 10
    assert cfg.training.grad_clip is None
    assert cfg.data.classes == ["chair", "table"]
    assert cfg.data.skip_broken is True
    assert cfg.model.pretrained_file == "/w.pth"
    assert cfg.test.fscore_thresholds == [0.01, 0.02]


def test_overrides_do_not_mutate_the_input():
    base = Config()
    apply_overrides(base, ["model.hidden_size=32"])
    assert base.model.hidden_size == 256


@pytest.mark.parametrize("override, fragment", [
    ("model.hiden_size=3", "model.hidden_size"),  # the message lists valid keys
    ("modle.encoder=x", "valid keys"),
    ("training.max_steps=ten", "integer"),
    ("training.lr=fast", "number"),
    ("data.skip_broken=maybe", "true or false"),
    ("novalue", "section.key=value"),
    ("training.optimizer=sgd", "training.optimizer must be one of adam, adamw, got 'sgd'"),  # Literal words
    ("generation.amp=fp8", "generation.amp must be one of auto, bf16, fp16, off"),
    ("training.amp=off", None),  # YAML reads off as false: still the word
    ("generation.threshold=1.5", "generation.threshold (--threshold) must be a probability"),  # ranges
    ("data.surface_fraction=2", "data.surface_fraction must be in [0, 1]"),
    ("training.max_steps=0", "training.max_steps must be > 0"),
    ("test.fscore_thresholds=[0.01, 3]", "test.fscore_thresholds must be distances"),
    ("generation.first_level_margin=-1", "generation.first_level_margin must be >= 0"),
    ("generation.finest_level_ratio=-2", "generation.finest_level_ratio must be >= 0"),
    ("generation.finest_level_ratio=0.5", "generation.finest_level_ratio must be 0 (off) or >= 1"),
    ("generation.padding=-0.1", "generation.padding and generation.refinement_steps must be >= 0"),
])
def test_bad_overrides_are_user_errors(override, fragment):
    if fragment is None:
        assert apply_overrides(Config(), [override]).training.amp == "off"
        return
    with pytest.raises(UserError) as info:
        apply_overrides(Config(), [override])
    assert fragment in str(info.value)


@pytest.mark.parametrize("name", ["first_level_margin", "finest_level_ratio"])
def test_the_mise_margin_and_ratio_are_finite_numbers(name):
    assert getattr(apply_overrides(Config(), [f"generation.{name}=3"]).generation, name) == 3
    for bad in ("inf", "nan"):
        with pytest.raises(UserError, match=f"generation.{name} must be >= 0 and finite"):
            apply_overrides(Config(), [f"generation.{name}={bad}"])


def test_a_bad_value_in_a_file_fails_at_load_before_any_work(tmp_path):
    path = tmp_path / "exp.yaml"
    path.write_text("generation:\n  upsampling_steps: 9\n")
    with pytest.raises(UserError, match="generation.upsampling_steps .--upsampling. must be in 0..5, got 9"):
        load_config(str(path))
    with pytest.raises(UserError, match="generation.upsampling_steps"):  # also a checkpoint's stored config
        config_from_dict({"generation": {"upsampling_steps": 9}})


def test_unknown_section_and_missing_source(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("optim:\n  lr: 1\n")
    with pytest.raises(UserError, match="valid sections"):
        load_config(str(path))
    with pytest.raises(UserError, match="neither a preset nor a file"):
        load_config("no-such-preset")


def test_round_trip_through_yaml(tmp_path):
    cfg = load_config("synthetic-cpu", ["training.seed=7"])
    save_config(cfg, tmp_path / "config.yaml")
    again = config_from_dict(yaml.safe_load((tmp_path / "config.yaml").read_text()))
    assert config_to_dict(again) == config_to_dict(cfg)


def test_with_values_reads_typed_flags_skips_none_and_validates():
    from vitocc.config import with_values

    cfg = with_values(Config(), generation={"threshold": 0.3, "resolution0": None, "amp": "bf16"},
                      training={"max_steps": 5})
    assert (cfg.generation.threshold, cfg.generation.resolution0, cfg.generation.amp) == (0.3, 32, "bf16")
    assert cfg.training.max_steps == 5 and Config().generation.threshold == 0.2  # the input is not changed
    with pytest.raises(UserError, match="generation.amp must be one of"):
        with_values(Config(), generation={"amp": "fp8"})
    with pytest.raises(UserError, match=r"generation.threshold \(--threshold\) must be a probability"):
        with_values(Config(), generation={"threshold": 2.0})
