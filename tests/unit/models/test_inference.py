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


def test_a_merged_fine_tune_computes_like_the_model_loaded_from_its_folder(tiny_model_dir, tmp_path) -> None:
    """PEFT leaves merged weights frozen; then torch's matmul computes the prefill's last-token logits as a batched
    matmul over a copy of the output weight per row (1.7x the generation time in bf16 on CPU), not as one mm."""
    from peft import LoraConfig, get_peft_model
    from torch.profiler import ProfilerActivity, profile
    from transformers import AutoModelForCausalLM

    from tasks.models.logged_model import merged_model

    lora = get_peft_model(
        AutoModelForCausalLM.from_pretrained(tiny_model_dir), LoraConfig(r=2, target_modules=["q_proj"])
    )
    lora.save_pretrained(tmp_path / "adapter")
    model = merged_model(tiny_model_dir, tmp_path / "adapter").to(torch.bfloat16).eval()
    ids = torch.randint(3, 100, (4, 12))
    with torch.no_grad(), profile(activities=[ProfilerActivity.CPU]) as prof:
        model(input_ids=ids, logits_to_keep=1)
    assert "aten::bmm" not in {e.key for e in prof.key_averages()}
