"""One training rank: LoRA on the base model inside a DeepSpeed engine. Started by `llmops train` via torchrun
(or the deepspeed launcher for multi-node), never by hand:

    python -m torch.distributed.run --nproc_per_node 2 -m tasks.train_rank --params params.yaml ...

Every rank runs the same schedule; rank 0 alone logs, reports progress, writes checkpoints' shared files and
the final outputs. A rank that fails writes its error to $LLMOPS_RANK_ERRORS so the launcher can name it.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import random
import shutil
import sys
import time
import traceback
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from tasks import checkpoints
from tasks.config import Params, load_params
from tasks.errors import ConfigError, LlmopsError
from tasks.io import write_json
from tasks.lifecycle import die_with_parent
from tasks.logs import quiet_libraries
from tasks.progress import Progress
from tasks.sft_data import Encoded, Schedule, collate, encode, load_conversations, loss_sum
from tasks.tracking import flatten

log = logging.getLogger("llmops.train")

DEEPSPEED_CONFIGS = Path(__file__).resolve().parents[1] / "infra" / "deepspeed"


@dataclass
class TrainerState:
    """Everything beyond DeepSpeed's own states that a resumed run needs to continue exactly."""

    fingerprint: str
    total_steps: int
    mlflow_run_id: str | None = None
    step: int = 0
    tokens: int = 0
    train_seconds: float = 0.0
    best_val_loss: float | None = None
    best_step: int | None = None
    evals_without_improvement: int = 0
    stopped_early: bool = False
    finished: bool = False
    history: list[dict[str, float]] = field(default_factory=list)

    def record_eval(self, val_loss: float, min_delta: float, patience: int | None) -> bool:
        """Track the best validation loss and early stopping; True when this evaluation is the new best."""
        if self.best_val_loss is None or val_loss < self.best_val_loss - min_delta:
            self.best_val_loss, self.best_step, self.evals_without_improvement = val_loss, self.step, 0
            return True
        self.evals_without_improvement += 1
        self.stopped_early = patience is not None and self.evals_without_improvement >= patience
        return False


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
    if wanted == ["all-linear"]:
        return "all-linear"
    names = {n.rsplit(".", 1)[-1] for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)}
    names.discard("lm_head")
    missing = [w for w in wanted if w not in names]
    if missing:
        raise ConfigError(
            f"lora.target_modules: {', '.join(missing)} match no linear layer of {model_dir} "
            f"({type(model).__name__}); known: {', '.join(sorted(names))}, or [all-linear]"
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


def load_model(params: Params, model_dir: Path):
    """Base model with LoRA adapters attached; QLoRA loads the base in 4 bits."""
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
    return get_peft_model(model, config)


def lora_state(engine, zero_stage: int) -> dict[str, torch.Tensor]:
    """The adapter weights, gathered from every rank under ZeRO-3 (all ranks must call this)."""
    import deepspeed
    from peft import get_peft_model_state_dict

    trainable = [p for p in engine.module.parameters() if p.requires_grad]
    gather = deepspeed.zero.GatheredParameters(trainable) if zero_stage == 3 else nullcontext()
    with gather:
        return {k: v.detach().cpu().clone() for k, v in get_peft_model_state_dict(engine.module).items()}


class MetricSink:
    """Per-step metrics to the MLflow run the launcher opened (rank 0 only), sent in batches."""

    def __init__(self, run_id: str | None) -> None:
        self.run_id = run_id
        self.pending: list[Any] = []
        self.client = None
        if run_id:
            from mlflow.tracking import MlflowClient

            self.client = MlflowClient()

    def add(self, step: int, values: dict[str, float]) -> None:
        if self.client is None:
            return
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.pending.extend(Metric(k, float(v), now, step) for k, v in values.items() if math.isfinite(v))

    def flush(self) -> None:
        if self.client is not None and self.pending:
            for start in range(0, len(self.pending), 1000):
                self.client.log_batch(self.run_id, metrics=self.pending[start : start + 1000])
            self.pending = []


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _all_sum(values: list[float], device: torch.device) -> list[float]:
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def evaluate(engine, data: Encoded, params: Params, rank: int, world: int, pad_id: int, device) -> float:
    """Token-mean validation loss over all ranks' shards."""
    rows = np.arange(len(data.lengths))[: params.train.eval_max_rows]  # the first rows, not the shortest
    rows = rows[np.argsort(data.lengths[rows], kind="stable")]  # similar lengths batch with less padding
    mine = rows[rank::world]
    engine.eval()
    total, targets = loss_sum(engine, data, mine, params.train.micro_batch_size, pad_id, device)
    engine.train()
    total, targets = _all_sum([total, float(targets)], device)
    return total / max(targets, 1)


def train(params: Params, args: argparse.Namespace) -> None:
    import deepspeed
    from transformers import get_scheduler

    from tasks.base_model import load_tokenizer

    deepspeed.init_distributed(dist_backend="nccl" if use_cuda() else "gloo", verbose=False)
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if use_cuda() else torch.device("cpu")
    if use_cuda():
        torch.cuda.set_device(device)
    if rank != 0:
        logging.getLogger().setLevel(logging.WARNING)
    cfg = params.train
    precision = resolve_precision(cfg.precision)
    ds_config = deepspeed_config(params, precision)
    zero_stage = ds_config.get("zero_optimization", {}).get("stage", 0)
    seed_everything(cfg.seed)

    tokenizer = load_tokenizer(args.base)
    train_data = encode(tokenizer, load_conversations(args.data / "train.jsonl"), cfg.max_seq_len, "train.jsonl")
    val_data = encode(
        tokenizer, load_conversations(args.data / "validation.jsonl"), cfg.max_seq_len, "validation.jsonl"
    )
    schedule = Schedule(
        train_data.lengths,
        train_data.targets,
        cfg.micro_batch_size,
        world,
        cfg.grad_accum_steps,
        cfg.seed,
        cfg.group_by_length,
    )
    total_steps = schedule.steps_for(cfg.epochs, cfg.max_steps)
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    pad_multiple = 8 if use_cuda() else 1

    model = load_model(params, args.base)
    if rank == 0:
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        log.info(
            "LoRA r=%d on %s: %s trainable parameters; %d ranks, %s, DeepSpeed %s (ZeRO-%d); %d steps",
            params.lora.r,
            ", ".join(params.lora.target_modules),
            f"{trainable:,}",
            world,
            precision,
            cfg.deepspeed,
            zero_stage,
            total_steps,
        )
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=cfg.learning_rate, weight_decay=cfg.weight_decay
    )
    scheduler = get_scheduler(
        cfg.scheduler, optimizer, num_warmup_steps=cfg.warmup_steps, num_training_steps=total_steps
    )
    engine, _, _, _ = deepspeed.initialize(model=model, optimizer=optimizer, lr_scheduler=scheduler, config=ds_config)

    state = TrainerState(fingerprint=args.fingerprint, total_steps=total_steps, mlflow_run_id=args.mlflow_run_id)
    best: dict[str, torch.Tensor] | None = None
    ckpt_root: Path = args.checkpoints
    if args.resume:
        resume_dir = ckpt_root / args.resume
        engine.load_checkpoint(str(ckpt_root), tag=args.resume, load_module_strict=False)
        checkpoints.load_rng(resume_dir, rank)
        state = TrainerState(**checkpoints.read_state(resume_dir))
        if (resume_dir / "best_adapter.pt").is_file():
            best = torch.load(resume_dir / "best_adapter.pt")
        if rank == 0:
            log.info("resumed from %s at step %d/%d", resume_dir, state.step, total_steps)
    elif rank == 0:
        checkpoints.remove_partial(ckpt_root)

    sink = MetricSink(args.mlflow_run_id if rank == 0 else None)
    progress = Progress(total_steps, state.step, cfg.log_every) if rank == 0 else None
    engine.train()
    if state.step == 0:
        before = {"val_loss": evaluate(engine, val_data, params, rank, world, pad_id, device)}
        state.history.append({"step": 0, **before})
        if rank == 0:
            sink.add(0, before)
            log.info("validation loss before training: %.4f", before["val_loss"])
    while state.step < total_steps and not state.stopped_early:
        started = time.perf_counter()
        batches = (
            collate(train_data, schedule.rank_rows(micro, rank), pad_id, pad_multiple)
            for micro in range(state.step * cfg.grad_accum_steps, (state.step + 1) * cfg.grad_accum_steps)
        )
        loss_sum, tokens = optimizer_step(engine, batches, schedule.window_targets(state.step), world, device)
        state.step += 1
        elapsed = time.perf_counter() - started
        state.train_seconds += elapsed
        state.tokens += int(tokens)
        grad_norm = engine.get_global_grad_norm()
        values = {
            "loss": loss_sum,
            "lr": scheduler.get_last_lr()[0],
            "tokens_per_s": tokens / elapsed,
        }
        if grad_norm is not None:
            values["grad_norm"] = float(grad_norm)
        if state.step % cfg.eval_every == 0 or state.step == total_steps:
            values["val_loss"] = evaluate(engine, val_data, params, rank, world, pad_id, device)
            patience = cfg.early_stopping_patience
            if state.record_eval(values["val_loss"], cfg.early_stopping_min_delta, patience) and patience:
                best = lora_state(engine, zero_stage)
        state.history.append({"step": state.step, **values})
        if rank == 0:
            sink.add(state.step, values)
            progress.update(state.step, {k: values[k] for k in ("loss", "lr", "tokens_per_s")})
            if state.step % cfg.log_every == 0 or "val_loss" in values:
                sink.flush()
        if state.step % cfg.checkpoint_every == 0 and state.step < total_steps and not state.stopped_early:
            save_checkpoint(engine, state, best, ckpt_root, cfg.keep_checkpoints, rank)

    if rank == 0:
        progress.close()
        if state.stopped_early:
            log.info(
                "early stop at step %d: no val_loss improvement in %d evaluations",
                state.step,
                cfg.early_stopping_patience,
            )
    final = lora_state(engine, zero_stage)
    state.finished = True
    if rank == 0:
        sink.flush()
        write_outputs(engine, tokenizer, best if best is not None else final, state, args)
    save_checkpoint(engine, state, best, ckpt_root, cfg.keep_checkpoints, rank)
    dist.barrier()


def optimizer_step(engine, batches, window_targets: int, world: int, device) -> tuple[float, float]:
    """Forward/backward over the accumulation micro-batches; returns the global token-mean loss and token count."""
    loss_sum = tokens = 0.0
    accum = engine.gradient_accumulation_steps()
    for batch in batches:
        batch = {k: v.to(device) for k, v in batch.items()}
        out = engine(**batch, num_items_in_batch=window_targets)
        # The engine averages gradients over ranks and divides by the accumulation steps; undo both so the
        # gradient is that of the token-mean loss over the whole global batch.
        engine.backward(out.loss * world * accum)
        engine.step()
        loss_sum += float(out.loss.detach())
        tokens += float(batch["attention_mask"].sum())
    loss_sum, tokens = _all_sum([loss_sum, tokens], device)
    return loss_sum, tokens


def save_checkpoint(engine, state: TrainerState, best, root: Path, keep: int, rank: int) -> None:
    """All ranks write into a temporary directory; rank 0 publishes it once everyone is done."""
    tmp = checkpoints.tmp_tag(state.step)
    engine.save_checkpoint(str(root), tag=tmp, save_latest=False, exclude_frozen_parameters=True)
    checkpoints.save_rng(root / tmp, rank)
    if rank == 0:
        checkpoints.write_state(root / tmp, state.__dict__)
        if best is not None:
            torch.save(best, root / tmp / "best_adapter.pt")
    dist.barrier()
    if rank == 0:
        checkpoints.commit(root, state.step, keep)
    dist.barrier()


def write_outputs(engine, tokenizer, adapter: dict[str, torch.Tensor], state: TrainerState, args) -> None:
    """The adapter (with tokenizer) and the metrics/history files the DVC stage declares."""
    tmp = args.out.with_name(f".{args.out.name}.tmp")
    if tmp.exists():
        shutil.rmtree(tmp)
    engine.module.save_pretrained(tmp, state_dict=adapter)
    tokenizer.save_pretrained(tmp)
    if args.out.exists():
        shutil.rmtree(args.out)
    tmp.rename(args.out)

    last = state.history[-1]  # history[0] is the evaluation before the first step
    summary = {
        "steps": state.step,
        "total_steps": state.total_steps,
        "stopped_early": state.stopped_early,
        "train_loss": round(last["loss"], 6),
        "val_loss": round(last["val_loss"], 6) if "val_loss" in last else None,
        "best_val_loss": round(state.best_val_loss, 6) if state.best_val_loss is not None else None,
        "best_step": state.best_step,
        "initial_val_loss": round(state.history[0]["val_loss"], 6),
        "tokens": state.tokens,
        "tokens_per_s": round(state.tokens / state.train_seconds, 2) if state.train_seconds else None,
        "train_seconds": round(state.train_seconds, 2),
    }
    write_json(args.metrics, summary)
    args.history.parent.mkdir(parents=True, exist_ok=True)
    columns = ["step", "loss", "val_loss", "lr", "grad_norm", "tokens_per_s"]
    with args.history.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(state.history)


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tasks.train_rank")
    parser.add_argument("--params", type=Path, required=True)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--history", type=Path, required=True)
    parser.add_argument("--checkpoints", type=Path, required=True)
    parser.add_argument("--fingerprint", required=True)
    parser.add_argument("--resume", default=None, help="checkpoint tag to resume from")
    parser.add_argument("--mlflow-run-id", default=None)
    return parser.parse_args(argv)


def _record_failure(err: BaseException) -> None:
    directory = os.environ.get("LLMOPS_RANK_ERRORS")
    if not directory:
        return
    rank = os.environ.get("RANK", "0")
    message = str(err) if isinstance(err, LlmopsError) else f"{type(err).__name__}: {err}"
    record = {"rank": int(rank), "time": time.time(), "message": message, "traceback": traceback.format_exc()}
    Path(directory, f"rank-{rank}.json").write_text(json.dumps(record), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    die_with_parent()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    quiet_libraries()
    args = _parse(argv)
    try:
        train(load_params(args.params), args)
    except BaseException as err:
        _record_failure(err)
        raise
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
