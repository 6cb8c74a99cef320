"""Trained models in and out: training checkpoints, run directories, safetensors + config.yaml.

Nothing here unpickles arbitrary objects: checkpoints are read with
`torch.load(weights_only=True)`, exported models are safetensors.

Loading for inference copies the weights once at most: the model takes the file's tensors as
its parameters (`load_state_dict(assign=True)`, cast where the file is float16); a training
checkpoint is memory-mapped, so its optimizer state is never read. (Building the model on the
meta device would also skip its random initialisation, ~0.07 s, but meta operations import
torch._dynamo: 1-3 s.)
"""

from __future__ import annotations

from pathlib import Path

import torch

from vitocc.config import Config, config_from_dict, load_config, save_config
from vitocc.errors import UserError
from vitocc.io import atomic_path
from vitocc.models.onet import OccupancyNetwork, build_model
from vitocc.runs import CONFIG_FILE, find_checkpoint, shipped_model_dir

WEIGHTS_FILE = "model.safetensors"


def resolve_checkpoint(run_dir: Path) -> Path:
    """checkpoints/best.pt of a run directory, else checkpoints/last.pt."""
    path = find_checkpoint(run_dir)
    if path is None:
        raise UserError(f"run directory {run_dir} has no checkpoints/best.pt or last.pt",
                        "train it first (vitocc train --out DIR), or give a checkpoint file")
    return path


def checkpoint_file(source: str | Path | None) -> Path:
    """The file `load_model(source)` reads: a run directory's best.pt (else last.pt), the
    shipped model's weights for None, else `source` itself."""
    if source is None:
        return shipped_model_dir() / WEIGHTS_FILE
    path = Path(source).expanduser()
    return resolve_checkpoint(path) if path.is_dir() else path


def read_checkpoint(path: Path, mmap: bool = False) -> dict:
    """A training checkpoint as a dict of tensors and plain values (weights_only unpickling);
    `mmap`: tensors are pages of the file, read when used."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True, mmap=mmap)
    except Exception:  # noqa: BLE001 - any unreadable file is the user's to fix
        # (never torch's advice to retry with weights_only=False: that runs code from the file)
        raise UserError(_unreadable(path)) from None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "config" not in ckpt:
        raise UserError(f"{path} is not a vitocc checkpoint (no model weights and config)")
    return ckpt


def _unreadable(path: Path) -> str:
    return f"{path} is not a readable checkpoint (damaged, or not a PyTorch/safetensors file)"


def _state_dict_into(model: OccupancyNetwork, state: dict, source: Path) -> None:
    """Make `state`'s tensors the parameters and buffers of `model`, cast to the model's dtypes
    (float16 files); UserError if names or shapes differ."""
    own = model.state_dict()
    state = {k: v.to(own[k].dtype) if k in own and v.dtype != own[k].dtype else v for k, v in state.items()}
    try:
        model.load_state_dict(state, assign=True)
    except RuntimeError as exc:
        raise UserError(f"weights in {source} do not match their config: {str(exc).splitlines()[0]}") from None


def _from_safetensors(path: Path) -> tuple[OccupancyNetwork, Config]:
    from safetensors.torch import load_file

    try:  # the header first: a damaged file is named as such, whatever its config
        state = load_file(str(path))
    except Exception:  # noqa: BLE001 - safetensors checks header sizes against the file (no huge allocation)
        raise UserError(_unreadable(path)) from None
    config_path = path.parent / CONFIG_FILE
    if not config_path.is_file():
        raise UserError(f"{path} needs its {CONFIG_FILE} next to it")
    cfg = load_config(str(config_path))
    model = build_model(cfg, pretrained=False)
    _state_dict_into(model, state, path)
    return model, cfg


def load_model(source: str | Path | None, device: torch.device | str = "cpu") -> tuple[OccupancyNetwork, Config]:
    """A trained model in eval mode on `device`, and its config.

    `source`: a training checkpoint (.pt), a run directory (its best.pt, else last.pt), a
    .safetensors file with config.yaml beside it, or None for the model shipped in the package.
    """
    path = checkpoint_file(source)
    if not path.is_file():
        if source is None:
            raise UserError("no checkpoint was given and no shipped model is installed",
                            "pass --checkpoint RUN_DIR|CKPT.pt|model.safetensors")
        raise UserError(f"{path} does not exist")
    if path.suffix == ".safetensors":
        model, cfg = _from_safetensors(path)
    else:
        ckpt = read_checkpoint(path, mmap=True)
        cfg = config_from_dict(ckpt["config"])
        model = build_model(cfg, pretrained=False)
        _state_dict_into(model, ckpt["model"], path)
    return model.to(device).eval(), cfg


def export_safetensors(model: OccupancyNetwork, cfg: Config, out_dir: str | Path,
                       dtype: torch.dtype | None = None) -> Path:
    """Write `out_dir`/model.safetensors and config.yaml (each atomically); returns the weights path.

    `dtype` (e.g. torch.float16) stores floating-point tensors in that type to halve the file;
    loading casts them back to the model's float32 parameters.
    """
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if dtype is not None:
        state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in state.items()}
    weights = out_dir / WEIGHTS_FILE
    with atomic_path(weights) as tmp:
        save_file(state, str(tmp))
    save_config(cfg, out_dir / CONFIG_FILE)
    return weights
