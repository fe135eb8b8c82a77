"""One training rank: LoRA on the base model inside a DeepSpeed engine. Started by `llmops train` via torchrun
(or the deepspeed launcher for multi-node), never by hand:

    python -m torch.distributed.run --nproc_per_node 2 -m tasks.training.recipe --config params.json ...

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist

from tasks.config.schema import Params
from tasks.core.errors import LlmopsError
from tasks.core.files import write_json
from tasks.core.logs import quiet_libraries
from tasks.core.processes import die_with_parent
from tasks.core.progress import Progress
from tasks.training import checkpoints
from tasks.training.model_setup import deepspeed_config, load_model, lora_state, resolve_precision, use_cuda
from tasks.training.sft_data import Encoded, Schedule, collate, encode, load_conversations, loss_sum, scored

log = logging.getLogger("llmops.train")


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


class LoraRecipe:
    """One rank's run in the shape of torchtune's recipes: `setup`, `train`, `save_checkpoint`, `cleanup`."""

    def __init__(self, params: Params, args: argparse.Namespace) -> None:
        self.params, self.cfg, self.args = params, params.train, args
        self.best: dict[str, torch.Tensor] | None = None

    def setup(self) -> None:
        """Process group, data and schedule, the DeepSpeed engine, and the state of a resumed run."""
        import deepspeed

        deepspeed.init_distributed(dist_backend="nccl" if use_cuda() else "gloo", verbose=False)
        self.rank, self.world = dist.get_rank(), dist.get_world_size()
        self.device = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0))) if use_cuda() else torch.device("cpu")
        if use_cuda():
            torch.cuda.set_device(self.device)
        if self.rank != 0:
            logging.getLogger().setLevel(logging.WARNING)
        self.precision = resolve_precision(self.cfg.precision)
        ds_config = deepspeed_config(self.params, self.precision)
        self.zero_stage = ds_config.get("zero_optimization", {}).get("stage", 0)
        seed_everything(self.cfg.seed)
        self._setup_data()
        self._setup_engine(ds_config)
        self._restore()
        self.sink = MetricSink(self.args.mlflow_run_id if self.rank == 0 else None)
        self.progress = Progress(self.total_steps, self.state.step, self.cfg.log_every) if self.rank == 0 else None

    def _setup_data(self) -> None:
        from tasks.models.base_model import load_tokenizer

        cfg, data = self.cfg, self.args.data
        self.tokenizer = load_tokenizer(self.args.base)
        self.train_data = encode(
            self.tokenizer, load_conversations(data / "train.jsonl"), cfg.max_seq_len, "train.jsonl"
        )
        self.val_data = encode(
            self.tokenizer, load_conversations(data / "validation.jsonl"), cfg.max_seq_len, "validation.jsonl"
        )
        self.schedule = Schedule(self.train_data.lengths, self.train_data.targets, cfg.micro_batch_size, self.world,
                                 cfg.grad_accum_steps, cfg.seed, cfg.group_by_length)  # fmt: skip
        self.total_steps = self.schedule.steps_for(cfg.epochs, cfg.max_steps)
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.tokenizer.eos_token_id
        self.pad_multiple = 8 if use_cuda() else 1

    def _setup_engine(self, ds_config: dict[str, Any]) -> None:
        import deepspeed
        from transformers import get_scheduler

        cfg = self.cfg
        model = load_model(self.params, self.args.base, self.args.warm_start)
        if self.rank == 0:
            trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
            log.info("LoRA r=%d on %s: %s trainable parameters; %d ranks, %s, DeepSpeed %s (ZeRO-%d); %d steps",
                     self.params.lora.r, ", ".join(self.params.lora.target_modules), f"{trainable:,}", self.world,
                     self.precision, cfg.deepspeed, self.zero_stage, self.total_steps)  # fmt: skip
        trainable_params = [p for p in model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(trainable_params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        self.scheduler = get_scheduler(
            cfg.scheduler, optimizer, num_warmup_steps=cfg.warmup_steps, num_training_steps=self.total_steps
        )
        self.engine, _, _, _ = deepspeed.initialize(
            model=model, optimizer=optimizer, lr_scheduler=self.scheduler, config=ds_config
        )

    def _restore(self) -> None:
        """A fresh TrainerState, or the checkpoint's (engine states, RNG, best adapter) when resuming."""
        args, root = self.args, self.args.checkpoints
        self.state = TrainerState(args.fingerprint, self.total_steps, args.mlflow_run_id)
        if not args.resume:
            if self.rank == 0:
                checkpoints.remove_partial(root)
            return
        resume_dir = root / args.resume
        self.engine.load_checkpoint(str(root), tag=args.resume, load_module_strict=False)
        checkpoints.load_rng(resume_dir, self.rank)
        self.state = TrainerState(**checkpoints.read_state(resume_dir))
        if (resume_dir / "best_adapter.pt").is_file():
            self.best = torch.load(resume_dir / "best_adapter.pt")
        if self.rank == 0:
            log.info("resumed from %s at step %d/%d", resume_dir, self.state.step, self.total_steps)

    def validation_loss(self) -> float:
        return evaluate(self.engine, self.val_data, self.params, self.rank, self.world, self.pad_id, self.device)

    def train(self) -> None:
        """Optimizer steps until max_steps/epochs or early stopping; checkpoints on the configured cadence."""
        self.engine.train()
        if self.state.step == 0:
            before = {"val_loss": self.validation_loss()}
            self.state.history.append({"step": 0, **before})
            if self.rank == 0:
                self.sink.add(0, before)
                log.info("validation loss before training: %.4f", before["val_loss"])
        state, cfg = self.state, self.cfg
        while state.step < self.total_steps and not state.stopped_early:
            values = self.train_step()
            state.history.append({"step": state.step, **values})
            if self.rank == 0:
                self.sink.add(state.step, values)
                self.progress.update(state.step, {k: values[k] for k in ("loss", "lr", "tokens_per_s")})
                if state.step % cfg.log_every == 0 or "val_loss" in values:
                    self.sink.flush()
            if state.step % cfg.checkpoint_every == 0 and state.step < self.total_steps and not state.stopped_early:
                self.save_checkpoint()

    def train_step(self) -> dict[str, float]:
        """One optimizer step (all accumulation micro-batches), with a validation pass when one is due."""
        state, cfg = self.state, self.cfg
        started = time.perf_counter()
        micros = range(state.step * cfg.grad_accum_steps, (state.step + 1) * cfg.grad_accum_steps)
        batches = (collate(self.train_data, self.schedule.rank_rows(m, self.rank), self.pad_id, self.pad_multiple)
                   for m in micros)  # fmt: skip
        loss, tokens = optimizer_step(self.engine, batches, self.schedule.window_targets(state.step), self.world,
                                      self.device)  # fmt: skip
        state.step += 1
        elapsed = time.perf_counter() - started
        state.train_seconds += elapsed
        state.tokens += int(tokens)
        values = {"loss": loss, "lr": self.scheduler.get_last_lr()[0], "tokens_per_s": tokens / elapsed}
        grad_norm = self.engine.get_global_grad_norm()
        if grad_norm is not None:
            values["grad_norm"] = float(grad_norm)
        if state.step % cfg.eval_every == 0 or state.step == self.total_steps:
            values["val_loss"] = self.validation_loss()
            patience = cfg.early_stopping_patience
            if state.record_eval(values["val_loss"], cfg.early_stopping_min_delta, patience) and patience:
                self.best = lora_state(self.engine, self.zero_stage)
        return values

    def save_checkpoint(self) -> None:
        save_checkpoint(self.engine, self.state, self.best, self.args.checkpoints, self.cfg.keep_checkpoints, self.rank)

    def cleanup(self) -> None:
        """The adapter (the best one under early stopping), the metrics files, and a final checkpoint."""
        state = self.state
        if self.rank == 0:
            self.progress.close()
            if state.stopped_early:
                log.info("early stop at step %d: no val_loss improvement in %d evaluations", state.step,
                         self.cfg.early_stopping_patience)  # fmt: skip
        final = lora_state(self.engine, self.zero_stage)
        state.finished = True
        if self.rank == 0:
            self.sink.flush()
            write_outputs(self.engine, self.tokenizer, self.best if self.best is not None else final, state, self.args)
        self.save_checkpoint()
        dist.barrier()


def optimizer_step(engine, batches, window_targets: int, world: int, device) -> tuple[float, float]:
    """Forward/backward over the accumulation micro-batches; returns the global token-mean loss and token count."""
    loss_sum = tokens = 0.0
    accum = engine.gradient_accumulation_steps()
    for batch in batches:
        batch = {k: v.to(device) for k, v in batch.items()}
        logits, scored_tokens, _ = scored(engine, batch)
        loss = torch.nn.functional.cross_entropy(logits, scored_tokens, reduction="sum") / window_targets
        # The engine averages gradients over ranks and divides by the accumulation steps; undo both so the
        # gradient is that of the token-mean loss over the whole global batch.
        engine.backward(loss * world * accum)
        engine.step()
        loss_sum += float(loss.detach())
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
    parser = argparse.ArgumentParser(prog="python -m tasks.training.recipe")
    parser.add_argument("--config", type=Path, required=True, help="the launcher's validated params, as JSON")
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--metrics", type=Path, required=True)
    parser.add_argument("--history", type=Path, required=True)
    parser.add_argument("--checkpoints", type=Path, required=True)
    parser.add_argument("--fingerprint", required=True)
    parser.add_argument("--resume", default=None, help="checkpoint tag to resume from")
    parser.add_argument("--warm-start", type=Path, default=None, help="a LoRA adapter to start from")
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
        recipe = LoraRecipe(Params.model_validate_json(args.config.read_text(encoding="utf-8")), args)
        recipe.setup()
        recipe.train()
        recipe.cleanup()
    except BaseException as err:
        _record_failure(err)
        raise
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    main()
