"""The dtype a model answers in, for evaluation and serving alike (training has its own: train.precision)."""

from __future__ import annotations

import torch

DTYPES = {"bf16": torch.bfloat16, "fp32": torch.float32}


def inference_dtype(setting: str) -> torch.dtype:
    """`auto`: bf16 on a GPU that has it, else fp32. On these CPUs (AVX512-BF16, no AMX) bf16 evaluates
    SmolLM2-135M 1.7x faster, but its replies widened the default fine-tune's fairness gap to 0.50
    (p = 0.0002) and the gate refused it (docs/evaluation.md): fp32 stays the CPU default."""
    if setting == "auto":
        return torch.bfloat16 if torch.cuda.is_available() and torch.cuda.is_bf16_supported() else torch.float32
    return DTYPES[setting]


def dtype_name(dtype: torch.dtype) -> str:
    return next(name for name, d in DTYPES.items() if d == dtype)
