"""What a training run records in MLflow: params and lineage when it starts; adapter, curve and model at the end.

Only the launcher process opens and closes runs; rank 0 adds per-step metrics to the run by id.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tasks.config.profiles import flatten
from tasks.config.schema import Params
from tasks.data.formats import FEEDBACK, feedback_ids
from tasks.knowledge.context import shipped_prompts
from tasks.knowledge.pin import pinned
from tasks.tracking import prompts
from tasks.tracking.runs import dvc_lock_tags, git_tags, use_experiment

if TYPE_CHECKING:
    from tasks.training.launcher import TrainPaths

log = logging.getLogger("llmops.tracking")


def start_training_run(params: Params, paths: TrainPaths, resume_run_id: str | None, warm_start: str) -> str:
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
    lineage = [
        paths.data / "train.jsonl",
        paths.data / "validation.jsonl",
        paths.base,
        FEEDBACK,
        Path(params.index.uri),
        Path(params.context.pinned_index),
    ]
    tags = {
        "llmops.stage": "train",
        "llmops.profile": params.profile,
        "llmops.base_model": params.model.base,
        "llmops.warm_start": warm_start,
        **git_tags(),
        **dvc_lock_tags(lineage),
    }
    if params.context.enabled:
        tags["llmops.context"] = "retrieved"  # its rows carry the chunks of the index above
        if pin := pinned(params):
            tags["llmops.context.pinned_index"] = pin["version"]  # ...of the pinned copy (tasks/knowledge/pin.py)
    fed = feedback_ids(paths.data / "train.jsonl")
    tags["llmops.feedback.records"] = str(len(fed))
    run = client.create_run(experiment_id, tags=tags, run_name=f"train-{params.profile}")
    client.log_dict(run.info.run_id, {"train_split_feedback_ids": fed}, "training/feedback_ids.json")
    flat = flatten(params.model_dump(by_alias=True, exclude={"profile"}))
    from mlflow.entities import Param

    client.log_batch(run.info.run_id, params=[Param(k, str(v)[:6000]) for k, v in flat.items()])
    if params.context.enabled:  # its rows were rendered with the shipped context prompt: that version, registered
        shipped_prompt = shipped_prompts()["context"]
        name = prompts.context_prompt(params.registry.model_name)
        ref = prompts.register(client, name, shipped_prompt["template"], shipped_prompt["description"])
        prompts.record_on_run(client, run.info.run_id, ref)
    return run.info.run_id


def finish_training_run(run_id: str, params: Params, paths: TrainPaths, summary: dict[str, Any]) -> None:
    """Adapter, tokenizer, loss curve and the merged chat model go to the run; then it is closed.

    The loss curve is also written beside the history as a PNG, a DVC plot that renders without a network
    (`dvc plots show` draws the CSV with Vega from a CDN)."""
    import mlflow

    from tasks.core.plots import loss_curve
    from tasks.models.logged_model import log_chat_model, merge_adapter

    with mlflow.start_run(run_id=run_id):
        mlflow.log_metrics({f"final.{k}": float(v) for k, v in summary.items() if isinstance(v, (int, float))})
        mlflow.log_artifacts(str(paths.out), artifact_path="adapter")
        mlflow.log_artifact(str(paths.history), artifact_path="training")
        mlflow.log_artifact(str(loss_curve(paths.history, paths.history.with_suffix(".png"))), artifact_path="training")
        with tempfile.TemporaryDirectory(prefix="llmops-train-") as tmp:
            merged = Path(tmp) / "merged"
            merge_adapter(paths.base, paths.out, merged)
            summary["model_uri"] = log_chat_model(merged)
        mlflow.set_tag("llmops.model_uri", summary["model_uri"])
