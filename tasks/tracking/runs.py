"""MLflow plumbing every stage shares: where runs go, lineage tags, the run a summary names, failing a run.

What a training run or an evaluation records lives with its stage (training/run_log.py, evaluation/run_log.py).
"""

from __future__ import annotations

import logging
import os
import subprocess
from pathlib import Path
from typing import Any

import orjson
import yaml

from tasks.config.schema import Params
from tasks.core.errors import TrackingError

log = logging.getLogger("llmops.tracking")


def tracking_uri(params: Params) -> str:
    """MLFLOW_TRACKING_URI from the environment (as every MLflow tool reads it) wins over params.yaml."""
    return os.environ.get("MLFLOW_TRACKING_URI") or params.mlflow.tracking_uri


def use_experiment(params: Params) -> str:
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(params))
    try:
        return mlflow.set_experiment(params.mlflow.experiment).experiment_id
    except Exception as err:  # the MLflow client raises many types for one cause: the store is unusable
        raise TrackingError(f"MLflow at {tracking_uri(params)}: {err}") from None


def git_tags() -> dict[str, str]:
    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], capture_output=True, text=True, check=False)
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "HEAD")
    if not commit:
        return {}
    return {
        "mlflow.source.git.commit": commit,
        "git.dirty": str(bool(git("status", "--porcelain", "--untracked-files=no"))),
    }


def dvc_lock_tags(paths: list[Path], lock: Path = Path("dvc.lock")) -> dict[str, str]:
    """The md5 DVC recorded for each input (a stage's output, or a stage's dependency such as the feedback
    snapshot's folder), so a model version leads back to its exact data."""
    if not lock.is_file():
        return {}
    stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
    recorded = {entry["path"]: entry.get("md5", "") for stage in stages.values()
                for entry in [*stage.get("deps", []), *stage.get("outs", [])]}  # fmt: skip
    wanted = {str(p) for p in paths}
    return {f"dvc.{path}": md5 for path, md5 in recorded.items() if path in wanted}


def run_id_in(summary: Path, stage: str) -> str:
    """The MLflow run a stage's summary file names (train.json names the training run, eval.json the evaluated one)."""
    from tasks.core.errors import DataFormatError

    if not summary.is_file():
        raise DataFormatError(f"{summary}: not found; run `dvc repro {stage}` first")
    run_id = orjson.loads(summary.read_bytes()).get("mlflow_run_id")
    if not run_id:
        raise DataFormatError(f"{summary}: names no MLflow run; rerun `dvc repro {stage}`")
    return run_id


def fail_run(run_id: str, reason: str) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    client.set_tag(run_id, "llmops.error", reason[:5000])
    client.set_terminated(run_id, status="FAILED")


def record_orchestration(params: Params, run_id: str, record: dict[str, Any], trained: bool) -> None:
    """Which orchestrated run touched this MLflow run, with what overrides and why.

    One tag per flow run (`llmops.flow_run.<id>`), since a cached training run can be gated by several; the
    overrides that trained it also go to `llmops.overrides` when this flow run did the training.
    """
    from mlflow.tracking import MlflowClient

    use_experiment(params)
    client = MlflowClient()
    tags = {f"llmops.flow_run.{record['flow_run_id']}": orjson.dumps(record).decode()[:5000]}
    if trained:
        tags["llmops.overrides"] = orjson.dumps(record["overrides"]).decode()[:5000]
    try:
        for key, value in tags.items():
            client.set_tag(run_id, key, value)
    except Exception as err:  # the run or the store is gone: this record cannot be written
        raise TrackingError(f"MLflow run {run_id} at {tracking_uri(params)}: {err}") from None
