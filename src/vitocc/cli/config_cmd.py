"""`vitocc config`: print a resolved configuration (preset or file, plus overrides)."""

from __future__ import annotations

import typer

from vitocc.cli.common import console


def config(
    source: str | None = typer.Argument(None, help="Preset name or YAML file; defaults if omitted."),
    set_: list[str] = typer.Option([], "--set", help="Override a key: section.key=value (repeatable)."),
    list_presets: bool = typer.Option(False, "--list", help="List the shipped presets and exit."),
) -> None:
    """Print the configuration a run would use, as YAML (or the preset names with --list)."""
    import yaml

    from vitocc.config import config_to_dict, load_config, preset_names

    if list_presets:
        for name in preset_names():
            console.print(name)
        return
    cfg = load_config(source, set_)
    console.print(yaml.safe_dump(config_to_dict(cfg), sort_keys=False), end="", markup=False, highlight=False)
