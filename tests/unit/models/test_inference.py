"""The inference dtype: one setting for evaluation and serving."""

from __future__ import annotations

import pytest
import torch

from tasks.config.schema import ModelParams
from tasks.models.inference import dtype_name, inference_dtype


def test_auto_is_bf16_only_on_a_gpu_that_has_it() -> None:
    gpu_bf16 = torch.cuda.is_available() and torch.cuda.is_bf16_supported()
    assert inference_dtype("auto") == (torch.bfloat16 if gpu_bf16 else torch.float32)
    assert inference_dtype("fp32") == torch.float32 and inference_dtype("bf16") == torch.bfloat16
    assert [dtype_name(inference_dtype(s)) for s in ("fp32", "bf16")] == ["fp32", "bf16"]


def test_an_unknown_dtype_is_refused_by_the_schema() -> None:
    with pytest.raises(ValueError, match="inference_dtype"):
        ModelParams(inference_dtype="fp8")
