"""What a rank builds before training: precision, the DeepSpeed config from infra/deepspeed/, the LoRA model.

The launcher calls the checks here before starting any rank, so a bad setting fails in seconds, not after
every rank has loaded the model.
"""

from __future__ import annotations

import json
import os
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import torch

from tasks.config.profiles import flatten
from tasks.config.schema import Params
from tasks.core.errors import ConfigError

DEEPSPEED_CONFIGS = Path(__file__).resolve().parents[2] / "infra" / "deepspeed"


def use_cuda() -> bool:
    return torch.cuda.is_available()


def resolve_precision(precision: str) -> str:
    if precision == "auto":
        return "bf16" if use_cuda() and torch.cuda.is_bf16_supported() else "fp32"
    if precision in ("bf16", "fp16") and not use_cuda():
        raise ConfigError(f"train.precision: {precision} needs a CUDA GPU and none is present; use auto or fp32")
    return precision


def deepspeed_config(params: Params, precision: str) -> dict[str, Any]:
    """The named config from infra/deepspeed/ with its "auto" values filled from params."""
    path = DEEPSPEED_CONFIGS / f"{params.train.deepspeed}.json"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in DEEPSPEED_CONFIGS.glob("*.json")))
        raise ConfigError(f"train.deepspeed: no config {path} (known: {known})")
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path}: not valid JSON: {err}") from None
    fill = {
        "train_micro_batch_size_per_gpu": params.train.micro_batch_size,
        "gradient_accumulation_steps": params.train.grad_accum_steps,
        "gradient_clipping": params.train.max_grad_norm,
    }
    for key, value in fill.items():
        if config.get(key, "auto") == "auto":
            config[key] = value
    for name in ("bf16", "fp16"):
        if config.get(name, {}).get("enabled") == "auto":
            config[name]["enabled"] = precision == name
    leftover = [k for k, v in flatten(config).items() if v == "auto"]
    if leftover:
        raise ConfigError(f"{path}: 'auto' is not supported for {', '.join(leftover)}; give a value")
    if "optimizer" in config or "scheduler" in config:
        raise ConfigError(f"{path}: remove 'optimizer'/'scheduler'; they come from train.* in params.yaml")
    return config


def lora_targets(model: torch.nn.Module, wanted: list[str], model_dir: Path) -> list[str] | str:
    """Check lora.target_modules against the model's linear layers, naming the known ones on a miss."""
    names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    return _matched(wanted, names - {"lm_head"}, f"{model_dir} ({type(model).__name__})")


def check_lora_targets(wanted: list[str], model_dir: Path) -> None:
    """The launcher's check, from the weight files alone: building even a skeleton of the model costs seconds
    of imports on every launch. The ranks check again on the real modules."""
    if wanted == ["all-linear"]:
        return
    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    names = linear_layer_names(model_dir, config.get("vocab_size"))
    if names is not None:
        _matched(wanted, names, f"{model_dir} ({', '.join(config.get('architectures') or ['?'])})")


def linear_layer_names(model_dir: Path, vocab_size: int | None) -> set[str] | None:
    """Leaf names of the layers with a 2-D weight, less those as tall as the vocabulary (embeddings and the
    output head): a decoder's linear layers. None when the weights are not safetensors (the ranks check then)."""
    from safetensors import safe_open

    files = sorted(model_dir.glob("*.safetensors"))
    if not files:
        return None
    names = set()
    for file in files:
        with safe_open(file, framework="numpy") as weights:
            keys = weights.keys()  # a safe_open handle is not iterable
            for key in keys:
                module, _, kind = key.rpartition(".")
                shape = weights.get_slice(key).get_shape()
                if kind == "weight" and len(shape) == 2 and shape[0] != vocab_size:
                    names.add(module.rsplit(".", 1)[-1])
    return names


def _matched(wanted: list[str], names: set[str], model: str) -> list[str] | str:
    if wanted == ["all-linear"]:
        return "all-linear"
    missing = [w for w in wanted if w not in names]
    if missing:
        raise ConfigError(
            f"lora.target_modules: {', '.join(missing)} match no linear layer of {model}; "
            f"known: {', '.join(sorted(names))}, or [all-linear]"
        )
    return wanted


def check_qlora() -> None:
    """QLoRA's 4-bit kernels are CUDA-only; refuse early rather than fail inside bitsandbytes."""
    if not use_cuda():
        raise ConfigError(
            "train.qlora: 4-bit QLoRA needs a CUDA GPU (bitsandbytes) and none is present; "
            "set train.qlora: false to train LoRA on the full-precision base"
        )
    try:
        import bitsandbytes  # noqa: F401
    except ImportError:
        raise ConfigError("train.qlora: bitsandbytes is not installed; pip install -e '.[gpu]'") from None


def load_model(params: Params, model_dir: Path, warm_start: Path | None = None):
    """Base model with LoRA adapters attached (zero-initialised, or a warm start's weights); QLoRA loads the base
    in 4 bits."""
    from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training
    from transformers import AutoModelForCausalLM

    if not (model_dir / "config.json").is_file():
        raise ConfigError(f"{model_dir}: no model there; run `dvc repro base_model` (or `llmops base-model`)")
    kwargs: dict[str, Any] = {"dtype": torch.float32}
    if params.train.qlora:
        check_qlora()
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=torch.bfloat16
        )
        kwargs["device_map"] = {"": int(os.environ.get("LOCAL_RANK", 0))}
    model = AutoModelForCausalLM.from_pretrained(model_dir, **kwargs)
    if params.train.qlora:
        model = prepare_model_for_kbit_training(model)
    lora = params.lora
    config = LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora_targets(model, lora.target_modules, model_dir),
        task_type="CAUSAL_LM",
    )
    model = get_peft_model(model, config)
    if warm_start is not None:
        _load_adapter(model, warm_start)
    return model


def _load_adapter(model, adapter_dir: Path) -> None:
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    result = set_peft_model_state_dict(model, load_file(str(adapter_dir / "adapter_model.safetensors")))
    if result.unexpected_keys:
        first = result.unexpected_keys[0]
        raise ConfigError(f"{adapter_dir}: {len(result.unexpected_keys)} adapter weights fit no LoRA module of the "
                          f"model (e.g. {first}); remove the folder to train from zero")  # fmt: skip


def lora_state(engine, zero_stage: int) -> dict[str, torch.Tensor]:
    """The adapter weights, gathered from every rank under ZeRO-3 (all ranks must call this)."""
    import deepspeed
    from peft import get_peft_model_state_dict

    trainable = [p for p in engine.module.parameters() if p.requires_grad]
    gather = deepspeed.zero.GatheredParameters(trainable) if zero_stage == 3 else nullcontext()
    with gather:
        return {k: v.detach().cpu().clone() for k, v in get_peft_model_state_dict(engine.module).items()}
