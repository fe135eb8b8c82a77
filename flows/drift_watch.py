"""The scheduled drift check: on drift, emit `llmops.drift.detected`, which the retrain deployment's trigger
turns into a retrain run (or start that deployment directly where no server runs automations).

prefect deployment run drift-watch/drift-watch       (on the cron of orchestration.drift_watch_cron)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, task
from prefect.cache_policies import NO_CACHE
from prefect.deployments import run_deployment
from prefect.logging import get_run_logger

from flows.events import emit_drift
from tasks import drift
from tasks.config import DriftParams, load_params
from tasks.io import write_json

REPORT = Path("data/reports/drift.json")


@task(name="drift-check", cache_policy=NO_CACHE)
def check(root: Path, window: Path, params: DriftParams) -> drift.DriftResult:
    reference = drift.read_prompts(root / "data/split/train.jsonl")
    result = drift.check(reference, drift.read_prompts(root / window), params)
    write_json(root / REPORT, result.as_dict())
    get_run_logger().info(result.reason)
    return result


@flow(name="drift-watch")
def drift_watch(window: str | None = None, start_retrain: bool = False) -> dict[str, Any]:
    """Compare recent prompts with the training prompts; on drift, ask for a retrain.

    Args:
        window: JSONL of recent prompts; empty: drift.window from params.yaml.
        start_retrain: also start the retrain deployment directly (for servers without automations).
    """
    root = Path.cwd()
    params = load_params(root / "params.yaml")
    result = check(root, Path(window or params.drift.window), params.drift)
    if result.drifted:
        emit_drift(params.registry.model_name, result.as_dict())
        if start_retrain:
            run = run_deployment("retrain/retrain", parameters={"reason": result.reason}, timeout=0)
            get_run_logger().info("started retrain flow run %s", run.name)
    return result.as_dict()
