"""Load configurations: presets or YAML files merged over the defaults, then `--set` overrides.

Every value is checked against the type of its dataclass field (a `Literal` lists the allowed
words), and the whole config against `config.validation` once it is loaded; unknown keys,
wrong types and values out of range are :class:`~vitocc.errors.UserError` s that say what is
valid.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from vitocc.config.schema import Config
from vitocc.config.validation import validate
from vitocc.errors import UserError
from vitocc.io import write_text

_PRESET_PACKAGE = "vitocc.config.presets"


def preset_names() -> list[str]:
    """Names of the presets shipped inside the package (`default`, `synthetic-cpu`, ...)."""
    files = resources.files(_PRESET_PACKAGE).iterdir()
    return sorted(f.name[: -len(".yaml")] for f in files if f.name.endswith(".yaml"))


def _read_source(source: str) -> tuple[dict, str]:
    """The mapping in a preset (by name) or a YAML file (by path), and a label for errors."""
    if source in preset_names():
        text = resources.files(_PRESET_PACKAGE).joinpath(f"{source}.yaml").read_text()
        label = f"preset '{source}'"
    else:
        path = Path(source)
        if not path.is_file():
            raise UserError(
                f"config '{source}' is neither a preset nor a file",
                f"presets: {', '.join(preset_names())}; or give the path of a YAML file",
            )
        text = path.read_text()
        label = str(path)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.constructor.ConstructorError as exc:  # a tag such as !!python/object: refused, no code runs
        tag = (exc.problem or "").rpartition(" tag ")[2].strip("'").replace("tag:yaml.org,2002:", "!!")
        line = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
        raise UserError(f"{label}: the tag {tag}{line} is refused: a config holds plain values only",
                        "remove the tag; configs are read with yaml.safe_load, so no code runs") from None
    except yaml.MarkedYAMLError as exc:
        where = f" (line {exc.problem_mark.line + 1})" if exc.problem_mark else ""
        raise UserError(f"{label} is not valid YAML: {exc.problem or exc.context}{where}") from None
    except yaml.YAMLError as exc:
        raise UserError(f"{label} is not valid YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise UserError(f"{label} must be a mapping of sections (data, model, training, ...)")
    return data, label


def valid_keys(cfg: Config | None = None) -> list[str]:
    """All `section.key` names, in declaration order."""
    cfg = cfg or Config()
    return [
        f"{section.name}.{f.name}"
        for section in dataclasses.fields(cfg)
        for f in dataclasses.fields(getattr(cfg, section.name))
    ]


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """`value` converted to the field type `hint`, or a UserError naming `key`."""
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        allowed = typing.get_args(hint)
        word = _coerce(value, str, key)
        if word not in allowed:
            raise UserError(f"{key} must be one of {', '.join(allowed)}, got {value!r}")
        return word
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None or (isinstance(value, str) and value.lower() in ("none", "null")):
            if type(None) in args:
                return None
        inner = [a for a in args if a is not type(None)]
        return _coerce(value, inner[0], key)
    if origin is list:
        (item,) = typing.get_args(hint)
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise UserError(f"{key} must be a list, got {value!r}")
        return [_coerce(v, item, key) for v in value]
    if hint is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "yes", "no", "on", "off"):
            return value.lower() in ("true", "yes", "on")
        raise UserError(f"{key} must be true or false, got {value!r}")
    if hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        raise UserError(f"{key} must be an integer, got {value!r}")
    if hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)  # YAML 1.1 reads "1e-4" as a string
            except ValueError:
                pass
        raise UserError(f"{key} must be a number, got {value!r}")
    if hint is str:
        if isinstance(value, bool):  # YAML 1.1 reads off/on as booleans: `amp: off` means "off"
            return "on" if value else "off"
        if isinstance(value, (str, int, float)):
            return str(value)
        raise UserError(f"{key} must be a string, got {value!r}")
    raise TypeError(f"unsupported config type {hint!r} for {key}")


def _set(cfg: Config, key: str, value: Any) -> None:
    section_name, _, name = key.partition(".")
    section = getattr(cfg, section_name, None) if section_name else None
    if section is None or not dataclasses.is_dataclass(section) or not name:
        raise UserError(f"unknown config key '{key}'", f"valid keys: {', '.join(valid_keys(cfg))}")
    hints = typing.get_type_hints(type(section))
    if name not in hints:
        keys = [k for k in valid_keys(cfg) if k.startswith(section_name + ".")]
        raise UserError(f"unknown config key '{key}'", f"valid keys: {', '.join(keys)}")
    setattr(section, name, _coerce(value, hints[name], key))


def merge(cfg: Config, data: dict, label: str = "config") -> Config:
    """`cfg` with the nested mapping `data` ({section: {key: value}}) written over it."""
    cfg = dataclasses.replace(cfg, **{
        f.name: dataclasses.replace(getattr(cfg, f.name)) for f in dataclasses.fields(cfg)
    })
    sections = [f.name for f in dataclasses.fields(cfg)]
    for section_name, values in data.items():
        if section_name not in sections:
            raise UserError(
                f"unknown config section '{section_name}' in {label}",
                f"valid sections: {', '.join(sections)}; valid keys: {', '.join(valid_keys(cfg))}",
            )
        if not isinstance(values, dict):
            raise UserError(f"section '{section_name}' in {label} must be a mapping")
        for name, value in values.items():
            _set(cfg, f"{section_name}.{name}", value)
    return cfg


def parse_override(text: str) -> tuple[str, Any]:
    """`section.key=value` -> (key, value parsed as YAML)."""
    key, sep, raw = text.partition("=")
    if not sep or not key.strip():
        raise UserError(f"override '{text}' is not of the form section.key=value")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


def apply_overrides(cfg: Config, overrides: typing.Iterable[str]) -> Config:
    """`cfg` with each `section.key=value` override applied, values parsed by field type, then validated."""
    data: dict[str, dict[str, Any]] = {}
    for text in overrides:
        key, value = parse_override(text)
        section, _, name = key.partition(".")
        if not name:
            raise UserError(f"unknown config key '{key}'", f"valid keys: {', '.join(valid_keys(cfg))}")
        data.setdefault(section, {})[name] = value
    return validate(merge(cfg, data, "--set"))


def with_values(cfg: Config, **sections: dict[str, Any]) -> Config:
    """`cfg` with typed values (command-line flags, say) written into its sections, None values
    skipped, each read as its field's type, then validated:
    `with_values(cfg, generation={"threshold": 0.3, "resolution0": None})`."""
    data = {name: {k: v for k, v in values.items() if v is not None} for name, values in sections.items()}
    return validate(merge(cfg, data, "options"))


def load_config(source: str | None = None, overrides: typing.Iterable[str] = ()) -> Config:
    """Defaults, then the preset or YAML file `source`, then `overrides`; validated (config.validation)."""
    cfg = Config()
    if source is not None:
        data, label = _read_source(source)
        cfg = merge(cfg, data, label)
    return apply_overrides(cfg, overrides)


def config_to_dict(cfg: Config) -> dict:
    """Plain nested mapping of `cfg`, as written to config.yaml."""
    return dataclasses.asdict(cfg)


def config_from_dict(data: dict) -> Config:
    """A Config from a nested mapping (e.g. read back from a checkpoint), checked as YAML is."""
    return validate(merge(Config(), data, "mapping"))


def save_config(cfg: Config, path: str | Path) -> None:
    """Write `cfg` as YAML, atomically."""
    write_text(path, yaml.safe_dump(config_to_dict(cfg), sort_keys=False))
