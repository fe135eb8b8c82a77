"""The retrain flow: a snapshot of the feedback, every DVC stage in order, then the gated deploy.

llmops retrain --set train.epochs=2          (locally, Prefect's temporary server)
prefect deployment run retrain/retrain -p epochs=2   (against a server; see prefect.yaml and `make ui`)

Overrides are written into params.yaml for the run (what `dvc exp run -S` does), recorded as a DVC
experiment and in MLflow, and taken out again afterwards. The flow fails when a stage fails or when the gate
does not pass; in both cases @champion stays where it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, runtime
from prefect.artifacts import create_markdown_artifact
from prefect.logging import get_run_logger

from flows.events import emit_decision
from flows.stages import (
    dvc_stage,
    export_warm_start,
    gated_deploy,
    record_in_mlflow,
    refresh_pin,
    save_experiment,
    snapshot_feedback,
)
from flows.workspace_lock import workspace_slot
from tasks.config.overrides import overridden, preview_overrides, requested_overrides
from tasks.config.schema import Params
from tasks.core.errors import GateRefusedError, StageError
from tasks.core.files import write_json
from tasks.pipeline.workspace import StageRun, stage_plan
from tasks.registry.summary import retrain_markdown
from tasks.tracking.runs import run_id_in

SUMMARY = Path("data/reports/retrain.json")


def _run_stages(root: Path, params: Params, done: list[dict[str, Any]]) -> None:
    """In DVC's order, one task each; `done` gets every stage's result, the failed one included. A pinned index
    follows the live one before the training rows are grounded: a retrain learns what the help centre says now."""
    refresh_pin(params)
    for stage, settled in stage_plan(root):
        task = dvc_stage.with_options(retries=params.orchestration.train_retries) if stage == "train" else dvc_stage
        try:
            done.append(task(stage, root, settled).as_dict())
        except StageError as err:
            done.append(StageRun(stage, "failed", err.seconds, err.reason).as_dict())
            raise
        if stage == "index" and done[-1]["status"] != "unchanged":
            refresh_pin(params)


def _deploy(root: Path, params: Params, summary: dict[str, Any], dry_run: bool, reason: str) -> None:
    run_id = run_id_in(root / "data/reports/eval.json", "evaluate")
    trained = any(s["stage"] == "train" and s["status"] == "ran" for s in summary["stages"])
    record = {k: summary[k] for k in ("flow_run_id", "flow_run", "deployment", "overrides", "experiment")}
    record_in_mlflow(params, run_id, {**record, "reason": reason}, trained)
    result = gated_deploy(params, run_id, dry_run, by=f"prefect:{summary['flow_run']}")
    summary["mlflow_run_id"] = run_id
    summary["deploy"] = result.summary(params.registry.model_name, params.registry.alias)
    summary["event"] = emit_decision(params.registry.model_name, result, run_id)


@flow(name="retrain")
def retrain(
    epochs: int | None = None,
    learning_rate: float | None = None,
    max_steps: int | None = None,
    base_model: str | None = None,
    profile: str | None = None,
    set_params: list[str] | None = None,
    dry_run: bool = False,
    reason: str = "manual",
) -> dict[str, Any]:
    """Rebuild what changed (DVC), evaluate, and promote the new model only if it passes the gate.

    Args:
        epochs: train.epochs (also set max_steps to null in set_params to let epochs decide).
        learning_rate: train.learning_rate.
        max_steps: train.max_steps.
        base_model: model.base: smollm2, tiny, a local directory or a hub id.
        profile: a params profile, e.g. smoke.
        set_params: any other params as KEY=VALUE, e.g. gate.min.rougeL=0.2 or train.max_steps=null.
        dry_run: show the gate's decision; register and move nothing.
        reason: why this run happened (recorded in MLflow); the drift trigger fills it in.
    """
    root = Path.cwd()
    overrides = requested_overrides(epochs, learning_rate, max_steps, base_model, profile, set_params)
    summary: dict[str, Any] = {
        "flow_run": runtime.flow_run.name, "flow_run_id": runtime.flow_run.id,
        "deployment": runtime.deployment.name, "overrides": overrides, "reason": reason, "feedback": None,
        "warm_start": None, "stages": [], "experiment": None, "deploy": None, "outcome": "failed", "error": None,
    }  # fmt: skip
    get_run_logger().info("retrain in %s with overrides %s (%s)", root, overrides or "none", reason)
    try:
        wait_s = preview_overrides(root / "params.yaml", overrides).orchestration.workspace_wait_s  # bad ones fail now
        with workspace_slot(root, wait_s), overridden(root / "params.yaml", overrides) as params:
            summary["feedback"] = snapshot_feedback(params, root)
            summary["warm_start"] = export_warm_start(params, root)
            _run_stages(root, params, summary["stages"])
            summary["experiment"] = save_experiment(root, f"prefect-{summary['flow_run']}")
            _deploy(root, params, summary, dry_run, reason)
        summary["outcome"] = _outcome(summary["deploy"])
    except Exception as err:
        summary["error"] = str(err)
        raise
    finally:
        _publish(root, summary)
    if summary["outcome"] == "refused":
        raise GateRefusedError(f"gate {summary['deploy']['status']}: {summary['deploy']['reason']}")
    return summary


def _outcome(deploy: dict[str, Any]) -> str:
    if deploy["dry_run"]:
        return "dry run"
    if deploy["status"] != "passed":
        return "refused"
    return "promoted" if deploy["champion_after"] != deploy["champion_before"] else "unchanged"


def _publish(root: Path, summary: dict[str, Any]) -> None:
    """The summary as a file (what `llmops retrain` prints) and as a markdown artifact on the flow run."""
    write_json(root / SUMMARY, summary)
    create_markdown_artifact(retrain_markdown(summary), key="retrain-summary", description="stages, gate, decision")
