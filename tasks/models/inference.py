"""The dtype a model answers in, for evaluation and serving alike (training has its own: train.precision)."""

from __future__ import annotations

import torch

DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}


def native_bf16() -> bool:
    """bf16 computed by the hardware itself: a GPU that has it, or a CPU with AVX512-BF16 or AMX. Elsewhere it is
    emulated, and slower than fp32."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    checks = (getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"))
    return any(check() for check in checks if check is not None)


def inference_dtype(setting: str) -> torch.dtype:
    """`auto`: bf16 where it is native (twice fp32's tokens/s for SmolLM2-135M on 2 cores, bench/eval_speed.py),
    else fp32."""
    if setting == "auto":
        return torch.bfloat16 if native_bf16() else torch.float32
    return DTYPES[setting]


def dtype_name(dtype: torch.dtype) -> str:
    return next(name for name, d in DTYPES.items() if d == dtype)
