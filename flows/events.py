"""Prefect events about the model, for automations and for people reading the event feed.

llmops.model.promoted     @champion moved to a new version that passed the gate
llmops.gate.failed        the gate refused a candidate (or could not judge it); @champion stayed
llmops.model.rolled_back  @champion moved back by a rollback
llmops.prompt.promoted    the context prompt's @champion moved to a version that passed the gate with the champion
llmops.prompt.refused     the gate refused a prompt version (or could not judge it); the prompt's @champion stayed
llmops.prompt.rolled_back the context prompt's @champion moved back by a rollback
llmops.drift.detected     production traffic drifted from the training data (the retrain deployment's trigger)

Each names the registered model as its resource (`llmops.model.<name>`), so one automation can follow a model;
a prompt's events name the prompt as a related resource (`mlflow.prompt.<name>`).
"""

from __future__ import annotations

from typing import Any

from prefect.events import emit_event

from tasks.registry.deploy import DeployResult
from tasks.registry.store import Event


def model_resource(name: str) -> dict[str, str]:
    return {"prefect.resource.id": f"llmops.model.{name}", "prefect.resource.name": name}


def _run_related(run_id: str | None) -> list[dict[str, str]]:
    if not run_id:
        return []
    return [{"prefect.resource.id": f"mlflow.run.{run_id}", "prefect.resource.role": "mlflow-run"}]


def emit_decision(name: str, result: DeployResult, run_id: str) -> str | None:
    """The event for a gate decision, or None when nothing was decided (a dry run, or already champion)."""
    decision = result.decision
    if result.dry_run or (result.version is not None and result.version == result.champion_before):
        return None
    payload: dict[str, Any] = {
        "version": result.version, "champion_before": result.champion_before,
        "champion_after": result.champion_after, "status": decision.status, "reason": decision.reason,
        "metrics": {c.metric: c.value for c in decision.checks},
        "failed_checks": [c.describe() for c in decision.failed_checks], "run_id": run_id,
    }  # fmt: skip
    event = "llmops.model.promoted" if decision.passed else "llmops.gate.failed"
    emit_event(event, resource=model_resource(name), related=_run_related(run_id), payload=payload)
    return event


def emit_rollback(name: str, event: Event) -> str:
    payload = {"version": event.champion, "champion_before": event.previous, "reason": event.reason, "by": event.by}
    emit_event("llmops.model.rolled_back", resource=model_resource(name), payload=payload)
    return "llmops.model.rolled_back"


def emit_drift(name: str, payload: dict[str, Any]) -> str:
    emit_event("llmops.drift.detected", resource=model_resource(name), payload=payload)
    return "llmops.drift.detected"


def _prompt_related(prompt: str, run_id: str | None = None) -> list[dict[str, str]]:
    return [{"prefect.resource.id": f"mlflow.prompt.{prompt}", "prefect.resource.role": "prompt"},
            *_run_related(run_id)]  # fmt: skip


def emit_prompt_decision(name: str, decision: dict[str, Any]) -> str | None:
    """The event for a prompt deploy's decision (`PromptDeployResult.summary()`), or None when nothing was decided
    (a dry run, or the version already serves)."""
    if decision["dry_run"] or decision["run_id"] is None:
        return None
    event = "llmops.prompt.promoted" if decision["status"] == "passed" else "llmops.prompt.refused"
    payload = {k: decision[k] for k in ("version", "model_version", "before", "after", "status", "reason",
                                        "failed_checks", "run_id")}  # fmt: skip
    emit_event(event, resource=model_resource(name), related=_prompt_related(decision["prompt"], decision["run_id"]),
               payload=payload)  # fmt: skip
    return event


def emit_prompt_rollback(name: str, prompt: str, event: Event) -> str:
    payload = {"version": event.champion, "before": event.previous, "model_version": event.model_version,
               "reason": event.reason, "by": event.by}  # fmt: skip
    emit_event("llmops.prompt.rolled_back", resource=model_resource(name), related=_prompt_related(prompt),
               payload=payload)  # fmt: skip
    return "llmops.prompt.rolled_back"
