"""The scheduled drift check: on drift, emit `llmops.drift.detected`, which the retrain deployment's trigger
turns into a retrain run (or start that deployment directly where no server runs automations).

prefect deployment run drift-watch/drift-watch       (on the cron of orchestration.drift_watch_cron)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment
from prefect.logging import get_run_logger

from flows.events import emit_drift
from tasks.config.schema import Params, load_params
from tasks.monitoring import drift_run as drift_check


@task(name="drift-check", cache_policy=NO_CACHE)
def check(root: Path, window: str | None, params: Params) -> drift_check.Outcome:
    outcome = drift_check.run(params, root, window)
    log = get_run_logger()
    log.info("window: %s", outcome.source)
    log.info(outcome.result.reason)
    log.info("report: %s (MLflow run %s)", outcome.report, outcome.run_id)
    for line in outcome.answers_table():
        log.info("answers %s", line)
    rows = "\n".join(f"| {c.name} | {'yes' if c.fired else 'no'} | {c.p_value:.3g} | {c.detail} |"
                     for c in outcome.result.checks)  # fmt: skip
    answers = "".join(f"\n- {line}" for line in outcome.answers_table())
    create_markdown_artifact(
        f"**{outcome.result.status}**: {outcome.result.reason}\n\n| check | fired | p | detail |\n|---|---|---|---|\n"
        f"{rows}\n\nAnswers in the window, per model version (online scores):{answers or ' none'}\n\n"
        f"Report: `{outcome.report}`, MLflow run `{outcome.run_id}`",
        key="drift-check",
        description="drift check decision",
    )
    return outcome


@flow(name="drift-watch")
def drift_watch(window: str | None = None, start_retrain: bool = False) -> dict[str, Any]:
    """Compare recent prompts with the training prompts; on drift, ask for a retrain.

    Args:
        window: "request_log", or a JSONL file of recent chats; empty: drift.window from params.yaml.
        start_retrain: also start the retrain deployment directly (for servers without automations).
    """
    root = Path.cwd()
    params = load_params(root / "params.yaml")
    outcome = check(root, window, params)
    result = outcome.result
    if result.drifted:
        emit_drift(params.registry.model_name, {**result.summary(), "mlflow_run_id": outcome.run_id})
        if start_retrain:
            run = run_deployment("retrain/retrain", parameters={"reason": result.reason}, timeout=0)
            get_run_logger().info("started retrain flow run %s", run.name)
    return {**result.summary(), "mlflow_run_id": outcome.run_id}
