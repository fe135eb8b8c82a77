"""The train stage: decide the ranks, open (or reopen) the MLflow run, launch, and publish the result.

The ranks themselves live in tasks.training.recipe. This side never touches torch.distributed, so a failing rank
surfaces here as a TrainingError naming that rank and its own error message.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tasks.config.schema import Params
from tasks.core.errors import ConfigError, TrainingError
from tasks.core.files import atomic_writer, write_json
from tasks.core.processes import die_with_parent, free_port
from tasks.tracking import runs as tracking
from tasks.training import checkpoints, cpu_comm, run_log, warm_start
from tasks.training.warm_start import WarmStart

log = logging.getLogger("llmops.train")


@dataclass(frozen=True)
class TrainPaths:
    base: Path
    data: Path
    out: Path
    metrics: Path
    history: Path
    checkpoints: Path
    warm_start: Path | None = None

    @property
    def inputs(self) -> list[Path]:
        return [self.data / "train.jsonl", self.data / "validation.jsonl", self.base / "config.json"]

    @property
    def fingerprinted(self) -> list[Path]:
        """The inputs and every file of the base model: a checkpoint resumes only onto the same bytes."""
        base_files = sorted(p for p in self.base.iterdir() if p.is_file() and p.name != "config.json")
        return [*self.inputs, *base_files]


def world_size(setting: int | str, gpus: int) -> int:
    """`auto` means every GPU on this node, or one process on CPU."""
    if setting == "auto":
        return max(gpus, 1)
    if gpus and setting > gpus:
        raise ConfigError(f"train.world_size: {setting} ranks asked for but this node has {gpus} GPUs")
    return int(setting)


def threads_per_rank(world: int, cores: int) -> int:
    """The cores split between the ranks, unless OMP_NUM_THREADS says how many each process may use (a machine
    shared with other work: CI runners, a notebook beside the run)."""
    return int(os.environ.get("OMP_NUM_THREADS") or max(1, cores // world))


def launch_command(rank_args: list[str], world: int, hostfile: str | None, port: int) -> list[str]:
    """torchrun on one node; the deepspeed launcher (ssh to each host in the hostfile) across nodes."""
    if hostfile:
        if not Path(hostfile).is_file():
            raise ConfigError(f"train.hostfile: {hostfile} not found (see infra/deepspeed/hostfile.example)")
        runner = [sys.executable, "-m", "deepspeed.launcher.runner", "--hostfile", hostfile]
        return [*runner, "--master_port", str(port), "--module", "tasks.training.recipe", *rank_args]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(world)]
    return [
        *torchrun,
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(port),
        "-m",
        "tasks.training.recipe",
        *rank_args,
    ]


def fingerprint(params: Params, world: int, paths: TrainPaths, start: WarmStart | None = None) -> str:
    """Settings that change the trajectory; logging and checkpoint cadence do not."""
    cadence = {"log_every", "checkpoint_every", "keep_checkpoints"}
    settings = {
        "lora": params.lora.model_dump(),
        "train": params.train.model_dump(exclude=cadence),
        "world_size": world,
        "warm_start": start.run_id if start else None,
    }
    return checkpoints.fingerprint(settings, paths.fingerprinted)


def root_cause(error_dir: Path) -> str | None:
    """The first rank to fail; later failures are usually the others losing their peer."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in error_dir.glob("rank-*.json")]
    if not records:
        return None
    records.sort(key=lambda r: r["time"])
    first = records[0]
    same = [r["rank"] for r in records if r["message"] == first["message"]]
    who = f"ranks {', '.join(map(str, sorted(same)))}" if len(same) > 1 else f"rank {first['rank']}"
    log.debug("rank %s traceback:\n%s", first["rank"], first["traceback"])
    return f"{who} failed: {first['message']}"


def _rank_config(params: Params, checkpoints_dir: Path) -> Path:
    """The validated params for the ranks, beside the checkpoints (shared storage on a multi-node run):
    ranks never read params.yaml, so what they train with is exactly what the launcher checked and logged."""
    path = checkpoints_dir / "params.json"
    checkpoints_dir.mkdir(parents=True, exist_ok=True)
    with atomic_writer(path) as fh:
        fh.write(params.model_dump_json(by_alias=True).encode("utf-8"))
    return path


def _check_inputs(paths: TrainPaths) -> None:
    for path in paths.inputs:
        if not path.is_file():
            stage = "base_model" if path.parent == paths.base else "split"
            raise ConfigError(f"{path}: not found; run `dvc repro {stage}` first")


def _warm_start(params: Params, paths: TrainPaths) -> tuple[WarmStart | None, str]:
    if not params.train.warm_start:
        return None, "train.warm_start is off"
    base_md5 = tracking.dvc_lock_tags([paths.base]).get(f"dvc.{paths.base}")
    return warm_start.resolve(paths.warm_start, params.lora, base_md5)


def train(params: Params, paths: TrainPaths) -> dict[str, Any]:
    """Run (or resume) LoRA training on `world` ranks; returns the metrics summary."""
    import torch

    from tasks.training.model_setup import check_lora_targets, check_qlora, deepspeed_config, resolve_precision

    _check_inputs(paths)
    deepspeed_config(params, resolve_precision(params.train.precision))
    if params.train.qlora:
        check_qlora()
    check_lora_targets(params.lora.target_modules, paths.base)
    gpus = torch.cuda.device_count()
    world = world_size(params.train.world_size, gpus)
    start, why = _warm_start(params, paths)
    if start:
        params = warm_start.warm_params(params, start)
    log.info("%s start: %s", "warm" if start else "cold", why)
    expected = fingerprint(params, world, paths, start)
    resume = checkpoints.resumable(paths.checkpoints, expected)
    state = checkpoints.read_state(resume) if resume else None
    run_id = run_log.start_training_run(params, paths, state["mlflow_run_id"] if state else None,
                                        start.describe() if start else f"none: {why}")  # fmt: skip
    flags = {
        "--config": _rank_config(params, paths.checkpoints), "--base": paths.base, "--data": paths.data,
        "--out": paths.out,
        "--metrics": paths.metrics, "--history": paths.history, "--checkpoints": paths.checkpoints,
        "--fingerprint": expected, "--mlflow-run-id": run_id,
    }  # fmt: skip
    rank_args = [item for flag, value in flags.items() for item in (flag, str(value))]
    if start:
        rank_args += ["--warm-start", str(start.adapter)]
    if resume:
        rank_args += ["--resume", resume.name]
        log.info("resuming from %s (step %d)", resume, state["step"])
    cmd = launch_command(rank_args, world, params.train.hostfile, free_port())
    with tempfile.TemporaryDirectory(prefix="llmops-rank-errors-") as errors:
        env = {**os.environ, "LLMOPS_RANK_ERRORS": errors, "MLFLOW_TRACKING_URI": tracking.tracking_uri(params)}
        if not gpus:
            env.update(cpu_comm.build(), OMP_NUM_THREADS=str(threads_per_rank(world, os.cpu_count() or 1)))
        log.info("launching %d rank(s): %s", world, " ".join(cmd[:8]) + " ...")
        code = subprocess.call(cmd, env=env, preexec_fn=die_with_parent)
        if code != 0:
            reason = root_cause(Path(errors)) or f"the launcher exited with code {code} and no rank reported an error"
            tracking.fail_run(run_id, reason)
            raise TrainingError(f"training failed: {reason}")
    summary = json.loads(paths.metrics.read_text(encoding="utf-8"))
    summary["mlflow_run_id"] = run_id
    run_log.finish_training_run(run_id, params, paths, summary)
    write_json(paths.metrics, summary)  # the evaluate stage finds the run (and its logged model) here
    return summary
