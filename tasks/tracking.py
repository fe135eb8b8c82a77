"""MLflow: where runs go, what a training run records, and the logged model.

Only the launcher process opens and closes runs; rank 0 adds per-step metrics to the run by id.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from tasks.config import Params
from tasks.errors import TrackingError

if TYPE_CHECKING:
    from tasks.train import TrainPaths

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


def flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train": {"lr": 1}} -> {"train.lr": 1}; lists stay whole (MLflow params are strings)."""
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


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
    """The md5 DVC recorded for each input, so a model version leads back to its exact data."""
    if not lock.is_file():
        return {}
    stages = (yaml.safe_load(lock.read_text(encoding="utf-8")) or {}).get("stages", {})
    recorded = {out["path"]: out.get("md5", "") for stage in stages.values() for out in stage.get("outs", [])}
    wanted = {str(p) for p in paths}
    return {f"dvc.{path}": md5 for path, md5 in recorded.items() if path in wanted}


def start_training_run(params: Params, paths: TrainPaths, resume_run_id: str | None) -> str:
    """A new run with params and lineage tags, or the interrupted run being resumed."""
    from mlflow.tracking import MlflowClient

    experiment_id = use_experiment(params)
    client = MlflowClient()
    if resume_run_id:
        try:
            client.update_run(resume_run_id, status="RUNNING")
            client.set_tag(resume_run_id, "llmops.resumed", "true")
            return resume_run_id
        except Exception:
            log.warning("MLflow run %s of the checkpoint is gone; logging to a new run", resume_run_id)
    tags = {
        "llmops.stage": "train",
        "llmops.profile": params.profile,
        "llmops.base_model": params.model.base,
        **git_tags(),
        **dvc_lock_tags([paths.data / "train.jsonl", paths.data / "validation.jsonl", paths.base]),
    }
    run = client.create_run(experiment_id, tags=tags, run_name=f"train-{params.profile}")
    flat = flatten(params.model_dump(by_alias=True, exclude={"profile"}))
    from mlflow.entities import Param

    client.log_batch(run.info.run_id, params=[Param(k, str(v)[:6000]) for k, v in flat.items()])
    return run.info.run_id


def fail_run(run_id: str, reason: str) -> None:
    from mlflow.tracking import MlflowClient

    client = MlflowClient()
    client.set_tag(run_id, "llmops.error", reason[:5000])
    client.set_terminated(run_id, status="FAILED")


def finish_training_run(run_id: str, params: Params, paths: TrainPaths, summary: dict[str, Any]) -> None:
    """Adapter, tokenizer, loss curve and the merged chat model go to the run; then it is closed."""
    import mlflow

    from tasks.chat_model import log_chat_model, merge_adapter
    from tasks.plots import loss_curve

    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics({f"final.{k}": float(v) for k, v in summary.items() if isinstance(v, (int, float))})
        mlflow.log_artifacts(str(paths.out), artifact_path="adapter")
        mlflow.log_artifact(str(paths.history), artifact_path="training")
        with tempfile.TemporaryDirectory(prefix="llmops-train-") as tmp:
            plot = loss_curve(paths.history, Path(tmp) / "loss_curve.png")
            mlflow.log_artifact(str(plot), artifact_path="training")
            merged = Path(tmp) / "merged"
            merge_adapter(paths.base, paths.out, merged)
            summary["model_uri"] = log_chat_model(merged)
        mlflow.set_tag("llmops.model_uri", summary["model_uri"])
