"""Manual registry moves from the Prefect UI: the gated deploy of an evaluated run, and rollback.

prefect deployment run deploy/deploy -p dry_run=true
prefect deployment run rollback/rollback -p to=3 -p reason="complaints about v4"
prefect deployment run deploy-prompt/deploy-prompt -p version=4
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, runtime

from flows.events import emit_decision, emit_prompt_decision, emit_prompt_rollback, emit_rollback
from flows.stages import gated_deploy, gated_prompt_deploy, roll_back
from tasks.config.schema import load_params
from tasks.core.errors import GateRefusedError
from tasks.tracking.prompts import context_prompt
from tasks.tracking.runs import run_id_in


def _actor() -> str:
    return f"prefect:{runtime.flow_run.name}"


@flow(name="deploy")
def deploy(run_id: str | None = None, dry_run: bool = False) -> dict[str, Any]:
    """Register an evaluated MLflow run's model; @champion moves only if every gate check passes.

    Args:
        run_id: the MLflow run to deploy; empty: the run the last `evaluate` stage evaluated.
        dry_run: show the gate's decision; register and move nothing.
    """
    root = Path.cwd()
    params = load_params(root / "params.yaml")
    run_id = run_id or run_id_in(root / "data/reports/eval.json", "evaluate")
    result = gated_deploy(params, run_id, dry_run, _actor())
    emit_decision(params.registry.model_name, result, run_id)
    if not result.decision.passed:
        raise GateRefusedError(f"gate {result.decision.status}: {result.decision.reason}")
    return result.summary(params.registry.model_name, params.registry.alias)


@flow(name="deploy-prompt")
def deploy_prompt(version: str, dry_run: bool = False) -> dict[str, Any]:
    """Evaluate a version of the context prompt with @champion's model; its @champion moves only past the gate.

    Args:
        version: the prompt version (MLflow Prompt Registry, `<model>-context`) to deploy.
        dry_run: evaluate and show the decision; move nothing.
    """
    params = load_params(Path.cwd() / "params.yaml")
    result = gated_prompt_deploy(Path.cwd(), version, dry_run, _actor())
    emit_prompt_decision(params.registry.model_name, result)
    if result["status"] != "passed":
        raise GateRefusedError(f"gate {result['status']}: {result['reason']}")
    return result


@flow(name="rollback")
def rollback(to: str | None = None, reason: str = "", force: bool = False, prompt: bool = False) -> dict[str, Any]:
    """Move @champion back to the previous champion, or to version `to`; recorded in the registry history.

    Args:
        to: the version to make champion; empty: the previous champion.
        reason: recorded in the history (and the event).
        force: allow a version that did not pass the gate.
        prompt: roll back the context prompt's @champion (its versions) instead of the model's.
    """
    params = load_params(Path.cwd() / "params.yaml")
    event = roll_back(params, to, reason, force, _actor(), prompt)
    if prompt:
        emit_prompt_rollback(params.registry.model_name, context_prompt(params.registry.model_name), event)
    else:
        emit_rollback(params.registry.model_name, event)
    return {"champion": event.champion, "previous": event.previous, "reason": event.reason}
