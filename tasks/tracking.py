"""MLflow: where runs go, what a training run records, and the logged model.

Only the launcher process opens and closes runs; rank 0 adds per-step metrics to the run by id.
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from tasks.config import Params
from tasks.errors import TrackingError
from tasks.feedback import ids_in as feedback_ids
from tasks.io import atomic_writer

if TYPE_CHECKING:
    from tasks.evaluate import EvalPaths
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


def run_id_in(summary: Path, stage: str) -> str:
    """The MLflow run a stage's summary file names (train.json names the training run, eval.json the evaluated one)."""
    from tasks.errors import DataFormatError

    if not summary.is_file():
        raise DataFormatError(f"{summary}: not found; run `dvc repro {stage}` first")
    run_id = orjson.loads(summary.read_bytes()).get("mlflow_run_id")
    if not run_id:
        raise DataFormatError(f"{summary}: names no MLflow run; rerun `dvc repro {stage}`")
    return run_id


FEEDBACK = Path("data/feedback/records.jsonl")


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
        **dvc_lock_tags([paths.data / "train.jsonl", paths.data / "validation.jsonl", paths.base, FEEDBACK]),
    }
    fed = feedback_ids(paths.data / "train.jsonl")
    tags["llmops.feedback.records"] = str(len(fed))
    run = client.create_run(experiment_id, tags=tags, run_name=f"train-{params.profile}")
    client.log_dict(run.info.run_id, {"train_split_feedback_ids": fed}, "training/feedback_ids.json")
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


EVAL_STATUS = "llmops.eval.status"


def mark_evaluation(params: Params, run_id: str, status: str, reason: str = "") -> None:
    """`running` before any metric is written and `complete` after the last artifact, so the deploy gate
    can tell a finished evaluation from a partial or crashed one."""
    from mlflow.tracking import MlflowClient

    use_experiment(params)
    client = MlflowClient()
    try:
        client.set_tag(run_id, EVAL_STATUS, status)
        if reason:
            client.set_tag(run_id, "llmops.eval.error", reason[:5000])
    except Exception as err:  # the run or the store is gone: the caller's evaluation cannot be recorded
        raise TrackingError(f"MLflow run {run_id} at {tracking_uri(params)}: {err}") from None


def log_evaluation(
    run_id: str,
    paths: EvalPaths,
    summary: dict[str, Any],
    examples: list[dict],
    baseline: dict[str, Any] | None,
    base_examples: list[dict] | None,
) -> None:
    """Metrics (eval.* and eval_base.*), the per-example table, plots and the HTML report, then `complete`."""
    import pandas as pd
    from mlflow.entities import Metric
    from mlflow.tracking import MlflowClient

    from tasks import eval_report

    client = MlflowClient()
    now = int(time.time() * 1000)
    metrics = [Metric(f"eval.{k}", float(v), now, 0) for k, v in summary.items() if _is_number(v)]
    metrics += [Metric(f"eval_base.{k}", float(v), now, 0) for k, v in (baseline or {}).items() if _is_number(v)]
    client.log_batch(run_id, metrics=metrics)
    table = pd.DataFrame([{**e, "leaked": ", ".join(e.get("leaked", [])), "refusal": ", ".join(e.get("refusal", [])),
                           "toxic": ", ".join(e.get("toxic", []))} for e in examples])  # fmt: skip
    client.log_table(run_id, data=table, artifact_file="evaluation/examples.json")
    images = eval_report.plots(summary, examples, baseline, base_examples)
    page = eval_report.html(run_id, summary, examples, baseline, base_examples, images)
    with tempfile.TemporaryDirectory(prefix="llmops-eval-") as tmp:
        for name, png in images.items():
            (Path(tmp) / name).write_bytes(png)
        (Path(tmp) / "report.html").write_text(page, encoding="utf-8")
        client.log_artifacts(run_id, tmp, artifact_path="evaluation")
    client.log_dict(run_id, summary, "evaluation/metrics.json")
    if paths.report:
        with atomic_writer(paths.report) as fh:
            fh.write(page.encode("utf-8"))
    client.set_tag(run_id, "llmops.eval.test_md5", summary["test_md5"])
    client.set_tag(run_id, EVAL_STATUS, "complete")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


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
