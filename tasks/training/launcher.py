"""The train stage: decide the ranks, open (or reopen) the MLflow run, launch, and publish the result.

The ranks themselves live in tasks.training.recipe. This side never touches torch.distributed, so a failing rank
surfaces here as a TrainingError naming that rank and its own error message.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from tasks.config.schema import Params, TrainParams
from tasks.core.errors import ConfigError, TrainingError
from tasks.core.files import atomic_writer, write_json
from tasks.core.processes import die_with_parent, free_port
from tasks.tracking import runs as tracking
from tasks.training import checkpoints, cpu_comm, run_log, warm_start
from tasks.training.warm_start import WarmStart

log = logging.getLogger("llmops.train")

JOIN_TIMEOUT = timedelta(minutes=10)  # how long the nodes of a `train.nodes` run wait for each other
LAUNCH_KEY = "llmops/launch"
# what a rank says when a peer is gone (gloo, nccl): a consequence, not a cause
LOST_PEER = re.compile(r"closed by peer|reset by peer|broken pipe|remote process exited|communicator was aborted", re.I)


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


@dataclass(frozen=True)
class Rendezvous:
    """Where the torchruns of a `train.nodes` run meet: c10d on the port after train.rdzv_endpoint's (that one
    serves the launch to the joining nodes)."""

    nodes: int
    endpoint: str
    run_id: str
    is_host: bool

    def args(self) -> list[str]:
        host, port = _host_port(self.endpoint)
        return [
            "--nnodes", str(self.nodes), "--rdzv_backend", "c10d", "--rdzv_endpoint", f"{host}:{port + 1}",
            "--rdzv_id", self.run_id, "--rdzv_conf", f"is_host={str(self.is_host).lower()}", "--max_restarts", "0",
        ]  # fmt: skip


def _host_port(endpoint: str) -> tuple[str, int]:
    """train.rdzv_endpoint (`host:port`, checked by the schema) split."""
    host, port = endpoint.rsplit(":", 1)
    return host, int(port)


def launch_command(
    rank_args: list[str], world: int, hostfile: str | None, port: int, rendezvous: Rendezvous | None = None
) -> list[str]:
    """torchrun on one node, or on each of `train.nodes` (c10d rendezvous); the deepspeed launcher (ssh to each
    host in the hostfile) across the nodes of a hostfile."""
    if hostfile:
        if not Path(hostfile).is_file():
            raise ConfigError(f"train.hostfile: {hostfile} not found (see infra/deepspeed/hostfile.example)")
        runner = [sys.executable, "-m", "deepspeed.launcher.runner", "--hostfile", hostfile]
        return [*runner, "--master_port", str(port), "--module", "tasks.training.recipe", *rank_args]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", str(world)]
    where = rendezvous.args() if rendezvous else ["--master_addr", "127.0.0.1", "--master_port", str(port)]
    return [*torchrun, *where, "-m", "tasks.training.recipe", *rank_args]


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


def root_cause(error_dir: Path, world: int) -> str | None:
    """The first rank to fail for a reason of its own; the others only lost their peer. A rank that reports
    nothing while the others only lost it was killed (or its node went down): that is the cause to name."""
    records = [json.loads(p.read_text(encoding="utf-8")) for p in error_dir.glob("rank-*.json")]
    if not records:
        return None
    records.sort(key=lambda r: r["time"])
    causes = [r for r in records if not LOST_PEER.search(r["message"])]
    silent = sorted(set(range(world)) - {r["rank"] for r in records})
    if silent and not causes:
        return (f"{_ranks(silent)} stopped without a report (killed, out of memory, or its node went down); "
                f"rank {records[0]['rank']} lost it: {records[0]['message']}")  # fmt: skip
    first = (causes or records)[0]
    same = sorted(r["rank"] for r in records if r["message"] == first["message"])
    log.debug("rank %s traceback:\n%s", first["rank"], first.get("traceback", ""))
    return f"{_ranks(same)} failed: {first['message']}"


def _ranks(numbers: list[int]) -> str:
    return f"rank {numbers[0]}" if len(numbers) == 1 else f"ranks {', '.join(map(str, numbers))}"


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
    """Run (or resume) LoRA training on `world` ranks (on each of `train.nodes`); returns the metrics summary."""
    import torch

    from tasks.training.model_setup import check_lora_targets, check_qlora, deepspeed_config, resolve_precision

    _check_inputs(paths)
    deepspeed_config(params, resolve_precision(params.train.precision))
    if params.train.qlora:
        check_qlora()
    check_lora_targets(params.lora.target_modules, paths.base)
    gpus = torch.cuda.device_count()
    per_node = world_size(params.train.world_size, gpus)
    world = per_node * params.train.nodes
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
    with _rank_errors(params.train.nodes, paths.checkpoints) as errors:
        with _serve_launch(params.train, rank_args, per_node, errors) as rendezvous:
            cmd = launch_command(rank_args, per_node, params.train.hostfile, free_port(), rendezvous)
            code = _run_ranks(cmd, params, per_node, gpus, errors)
        if code != 0:
            reason = root_cause(errors, world) or f"the launcher exited with code {code} and no rank reported an error"
            tracking.fail_run(run_id, reason)
            raise TrainingError(f"training failed: {reason}")
    summary = json.loads(paths.metrics.read_text(encoding="utf-8"))
    summary["mlflow_run_id"] = run_id
    run_log.finish_training_run(run_id, params, paths, summary)
    write_json(paths.metrics, summary)  # the evaluate stage finds the run (and its logged model) here
    return summary


def join(params: Params) -> int:
    """The ranks of a further node of a `train.nodes` run, started as the first node's `llmops train` says;
    returns how many ran here. The first node owns the MLflow run and publishes the outputs."""
    import torch

    if params.train.nodes == 1:
        raise ConfigError("train.nodes is 1: `llmops train --join` starts the other nodes of a multi-node run "
                          "(set train.nodes and train.rdzv_endpoint; docs/training.md)")  # fmt: skip
    launch = _await_launch(params.train.rdzv_endpoint or "")
    rendezvous = Rendezvous(params.train.nodes, params.train.rdzv_endpoint or "", launch["rdzv_id"], is_host=False)
    per_node, errors = launch["per_node"], Path(launch["errors"])
    cmd = launch_command(launch["rank_args"], per_node, None, 0, rendezvous)
    code = _run_ranks(cmd, params, per_node, torch.cuda.device_count(), errors)
    if code != 0:
        reason = root_cause(errors, per_node * params.train.nodes) or f"torchrun exited with code {code}"
        raise TrainingError(f"training failed: {reason}")
    return per_node


def _run_ranks(cmd: list[str], params: Params, per_node: int, gpus: int, errors: Path) -> int:
    env = {**os.environ, "LLMOPS_RANK_ERRORS": str(errors), "MLFLOW_TRACKING_URI": tracking.tracking_uri(params)}
    if not gpus:
        env.update(cpu_comm.build(), OMP_NUM_THREADS=str(threads_per_rank(per_node, os.cpu_count() or 1)))
    log.info("launching %d rank(s): %s", per_node, " ".join(cmd[:8]) + " ...")
    return subprocess.call(cmd, env=env, preexec_fn=die_with_parent)


@contextmanager
def _rank_errors(nodes: int, checkpoints_dir: Path) -> Iterator[Path]:
    """Where the ranks report their errors: a temporary folder on one node; across nodes, a folder every node's
    ranks reach (shared storage, like the checkpoints), emptied before each launch."""
    if nodes == 1:
        with tempfile.TemporaryDirectory(prefix="llmops-rank-errors-") as tmp:
            yield Path(tmp)
        return
    errors = checkpoints_dir / "rank-errors"
    shutil.rmtree(errors, ignore_errors=True)
    errors.mkdir(parents=True)
    yield errors


@contextmanager
def _serve_launch(train: TrainParams, rank_args: list[str], per_node: int, errors: Path) -> Iterator[Rendezvous | None]:
    """On a `train.nodes` run, serve this launch at train.rdzv_endpoint for `llmops train --join` while the ranks
    run: a joining node starts exactly these ranks, and can never pick up a launch that is over."""
    if train.nodes == 1:
        yield None
        return
    from torch.distributed import TCPStore

    endpoint = train.rdzv_endpoint or ""
    host, port = _host_port(endpoint)
    rendezvous = Rendezvous(train.nodes, endpoint, uuid.uuid4().hex[:12], is_host=True)
    try:
        store = TCPStore(host, port, is_master=True, wait_for_workers=False, timeout=JOIN_TIMEOUT)
    except (RuntimeError, OSError) as err:
        raise ConfigError(f"train.rdzv_endpoint: cannot listen on {host}:{port} ({err}); it must name this node "
                          "and a free port (the next port is torchrun's rendezvous)") from err  # fmt: skip
    launch = {"rank_args": rank_args, "per_node": per_node, "rdzv_id": rendezvous.run_id, "errors": str(errors)}
    store.set(LAUNCH_KEY, json.dumps(launch))
    log.info("waiting for %d more node(s) to run `llmops train --join` (rendezvous %s)", train.nodes - 1,
             rendezvous.endpoint)  # fmt: skip
    try:
        yield rendezvous
    finally:
        del store


def _await_launch(endpoint: str) -> dict[str, Any]:
    from torch.distributed import TCPStore

    host, port = _host_port(endpoint)
    try:
        store = TCPStore(host, port, is_master=False, timeout=JOIN_TIMEOUT)
        return json.loads(store.get(LAUNCH_KEY))
    except (RuntimeError, OSError) as err:
        raise TrainingError(f"no `llmops train` serving a launch at train.rdzv_endpoint {endpoint} within "
                            f"{JOIN_TIMEOUT.seconds} s: start it on that node ({err})") from err  # fmt: skip
