"""Devices and mixed precision: `--gpu K` to a torch device, an amp setting to an autocast context.

Code stays device-agnostic: tensors move with `.to(device)`, and autocast is entered only
where the device and the user's setting call for it.
"""

from __future__ import annotations

import contextlib
from contextlib import AbstractContextManager

import torch

from vitocc.errors import UserError


def resolve_device(gpu: int | None) -> torch.device:
    """`--gpu` of every command: None -> cuda:0 if a GPU is visible, else the CPU; `-1` -> the CPU;
    `k` -> cuda:k (a GPU that is not there is a UserError)."""
    if gpu is None:
        gpu = 0 if torch.cuda.is_available() else -1
    if gpu < 0:
        return torch.device("cpu")
    if not torch.cuda.is_available():
        raise UserError(f"--gpu {gpu}: no CUDA GPU is available", "use --gpu -1 to run on the CPU")
    count = torch.cuda.device_count()
    if gpu >= count:
        raise UserError(f"--gpu {gpu}: only {count} CUDA GPU(s) are visible (0..{count - 1})")
    return torch.device("cuda", gpu)


def amp_dtype(device: torch.device, amp: str, setting: str = "training.amp") -> torch.dtype | None:
    """The autocast dtype for `amp` on `device`, or None for full precision.

    `auto`: bf16 on CUDA GPUs that support it, else fp16; off on the CPU. `bf16` is also
    allowed on the CPU (fast on CPUs with AVX512-BF16/AMX); `fp16` is CUDA only.
    """
    if amp == "off":
        return None
    if device.type == "cuda":
        if amp == "fp16" or (amp == "auto" and not torch.cuda.is_bf16_supported()):
            return torch.float16
        return torch.bfloat16
    if amp == "bf16":
        return torch.bfloat16
    if amp == "fp16":
        raise UserError(f"{setting}=fp16 needs a CUDA GPU", "use bf16 on the CPU, or off")
    return None


def autocast(device: torch.device, amp: str, setting: str = "training.amp") -> AbstractContextManager:
    """An autocast context for `amp` on `device`; a no-op when `amp_dtype` is None."""
    dtype = amp_dtype(device, amp, setting)
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def needs_grad_scaler(device: torch.device, amp: str) -> bool:
    """fp16 gradients underflow without loss scaling; bf16 and fp32 need none."""
    return amp_dtype(device, amp) == torch.float16
