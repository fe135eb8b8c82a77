"""Gated deploy, rollback and status: the gate decides (tasks.evaluation.gate), the registry adapter moves the alias.

llmops deploy [--run-id RUN] [--dry-run]     register the evaluated run's model; promote only past the gate
llmops rollback [--to VERSION]               @champion back to the previous champion, or to VERSION
llmops status                                champion, its metrics, the decision history

Nothing is promoted by accident: the alias moves only after a passed decision is recorded, under the registry
lock, and every failure before that point leaves @champion where it was.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace

from tasks.config.schema import Params
from tasks.core.errors import DeployError
from tasks.evaluation.gate import Decision, Rows, decide, require_parity
from tasks.evaluation.run_log import (
    EVAL_STATUS,
    INDEX_VERSION,
    PARITY_REASON_TAG,
    PARITY_TAG,
    TEST_MD5,
    logged_rows,
)
from tasks.evaluation.statistics import RowTable
from tasks.models.gguf import GGUF_DIR, GGUF_TAG, gguf_file
from tasks.registry import store as registry
from tasks.registry.store import APPROVED_METRICS, APPROVED_ON, Event, reachable
from tasks.tracking import prompts

log = logging.getLogger("llmops.deploy")


@dataclass(frozen=True)
class Candidate:
    run_id: str
    model_uri: str
    eval_status: str | None
    metrics: dict[str, float]
    base_metrics: dict[str, float]
    rows: dict[str, RowTable] = field(default_factory=dict)  # per-row test values: {"model": ..., "base": ...}
    parity: tuple[str | None, str | None] = (None, None)  # the GGUF parity check's status and reason (tags)
    prompts: dict[str, str] = field(default_factory=dict)  # {prompt name: version} the run trained with
    evaluated_on: tuple[str | None, str | None] = (None, None)  # the test rows' md5 and their index version


@dataclass(frozen=True)
class DeployResult:
    version: str | None  # None on a dry run: nothing was registered
    decision: Decision
    champion_before: str | None
    champion_after: str | None
    dry_run: bool

    def summary(self, name: str, alias: str) -> dict:
        """What `llmops report` and an orchestrator show of the decision."""
        return {
            "model": name, "alias": alias, "version": self.version, "dry_run": self.dry_run,
            "status": self.decision.status, "reason": self.decision.reason,
            "champion_before": self.champion_before, "champion_after": self.champion_after,
            "failed_checks": [c.describe() for c in self.decision.failed_checks],
            "checks": [asdict(c) for c in self.decision.checks],
        }  # fmt: skip


def candidate(client, run_id: str) -> Candidate:
    from mlflow.exceptions import MlflowException

    try:
        run = client.get_run(run_id)
    except MlflowException as err:
        if getattr(err, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            raise DeployError(f"MLflow run {run_id} not found at {client.tracking_uri}") from None
        raise
    model_uri = run.data.tags.get("llmops.model_uri")
    if not model_uri:
        raise DeployError(f"MLflow run {run_id} has no logged model (tag llmops.model_uri); rerun the train stage")
    tags = run.data.tags
    status = tags.get(EVAL_STATUS)
    used = prompts.of_run(tags)
    on = (tags.get(TEST_MD5), tags.get(INDEX_VERSION))
    if status != "complete":
        return Candidate(run_id, model_uri, status, {}, {}, prompts=used, evaluated_on=on)
    parity = (tags.get(PARITY_TAG), tags.get(PARITY_REASON_TAG))
    return Candidate(run_id, model_uri, status, eval_metrics(run), eval_metrics(run, "eval_base."),
                     logged_rows(client, run_id), parity, used, on)  # fmt: skip


def eval_metrics(run, prefix: str = "eval.") -> dict[str, float]:
    return {k.removeprefix(prefix): v for k, v in run.data.metrics.items() if k.startswith(prefix)}


def gate_decision(
    cand: Candidate, champion_metrics: dict[str, float] | None, params: Params, champion_rows: RowTable | None = None
) -> Decision:
    """The gate, with a missing or partial evaluation as a failed decision and any error inside it as `error`."""
    try:
        rows = Rows(cand.rows.get("model") or {}, champion_rows, cand.rows.get("base")) if cand.rows else None
        decision = decide(cand.metrics, champion_metrics, params.gate, cand.base_metrics, rows)
        if params.serving.engine == "llamacpp":
            decision = require_parity(decision, *cand.parity)
    except Exception as err:  # a bug or bad data inside the gate must not promote, and must be visible
        return Decision("error", (), f"gate error: {type(err).__name__}: {err}")
    if cand.eval_status != "complete":
        state = cand.eval_status or "missing"
        return Decision(
            "failed", decision.checks, f"evaluation of run {cand.run_id} is {state}; run `dvc repro evaluate` first"
        )
    return decision


def _champion_evaluation(client, params: Params, version: str | None) -> tuple[dict | None, RowTable | None]:
    """The champion's metrics and per-row test values (None where its run logged none)."""
    if version is None:
        return None, None
    run_id = registry.run_of(client, params.registry.model_name, version)
    return eval_metrics(client.get_run(run_id)), logged_rows(client, run_id).get("model")


def _decide_against_champion(client, params: Params, cand: Candidate) -> tuple[str | None, Decision]:
    name, alias = params.registry.model_name, params.registry.alias
    before = registry.champion(client, name, alias)
    try:
        reference, rows = _champion_evaluation(client, params, before)
    except Exception as err:  # the champion's run is unreadable: compare with nothing rather than guess
        return before, Decision("error", (), f"gate error: metrics of champion v{before}: {type(err).__name__}: {err}")
    return before, gate_decision(cand, reference, params, rows)


def deploy(params: Params, run_id: str, dry_run: bool = False, by: str | None = None) -> DeployResult:
    """Register the run's model (a run it registered before keeps its version) and promote it if the gate
    passes."""
    by = by or registry.actor()
    name, alias = params.registry.model_name, params.registry.alias
    client = registry.connect(params)
    with reachable(client, "reading the candidate run and the champion"):
        cand = candidate(client, run_id)
        current = registry.champion(client, name, alias)
        if current is not None and registry.run_of(client, name, current) == run_id:
            approved = client.get_model_version(name, current).tags
            if approved.get(APPROVED_ON, "") in ("", registry.approved_on(*cand.evaluated_on)):
                same = Decision("passed", (), f"run {run_id} is already @{alias} as version {current}; nothing to do")
                return DeployResult(current, same, current, current, dry_run)
            return _recheck(client, params, cand, current, approved, dry_run, by)
        if dry_run:
            before, decision = _decide_against_champion(client, params, cand)
            return DeployResult(None, decision, before, before, dry_run=True)
        version = registry.version_of_run(client, name, run_id)
        if version is None:
            version = registry.register(client, name, cand.model_uri, run_id, by)
            log.info("registered %s version %s from run %s", name, version, run_id)
            prompts.record_on_model_version(client, name, version, cand.prompts, cand.model_uri)
            if cand.parity[0] == "passed":  # its GGUF, evaluated and at parity, is the version's llamacpp variant
                variant = f"runs:/{run_id}/{GGUF_DIR}/{gguf_file(params.serving.gguf_type)}"
                client.set_model_version_tag(name, version, GGUF_TAG, variant)
        else:
            log.info("run %s is %s version %s already; deciding on it again", run_id, name, version)
    state = f"version {version} is registered but undecided (tag llmops.gate.status=pending); @{alias} did not move"
    with reachable(client, "deciding on the new version", state), locked(client, params, by):
        before, decision = _decide_against_champion(client, params, cand)
        registry.record_decision(client, name, version, decision, by)
        after = version if decision.passed else before
        if decision.passed:
            _approve(client, params, version, cand)
            registry.move_alias(client, name, alias, version)
        action = {"passed": "promote", "failed": "reject", "error": "error"}[decision.status]
        event = Event(registry.now(), action, version, before, after, by, decision.reason, run_id)
        _append_or_undo(client, params, event, before)
    return DeployResult(version, decision, before, after, dry_run=False)


def _approve(client, params: Params, version: str, cand: Candidate) -> None:
    """What the version passed on: its test rows (with the index their context came from) and the metrics a later
    recheck of it compares with (those gate.max_regression reads, with their counts and intervals)."""
    name, watched = params.registry.model_name, tuple(params.gate.max_regression)
    kept = {k: v for k, v in cand.metrics.items() if k.startswith(watched)}
    client.set_model_version_tag(name, version, APPROVED_ON, registry.approved_on(*cand.evaluated_on))
    client.set_model_version_tag(name, version, APPROVED_METRICS, json.dumps(kept))


def _recheck(client, params: Params, cand: Candidate, version: str, approved: dict[str, str], dry_run: bool,
             by: str) -> DeployResult:  # fmt: skip
    """The champion's own run was evaluated again on other test rows (a help-centre edit moved the index, and
    `dvc repro` re-evaluated the same model without retraining it): the gate decides on it again, against what it
    passed with before. Passed: it stays @champion on the new rows. Failed: it stays too (no earlier model was
    judged on them), marked failed, and the deploy exits non-zero; undo the edit or retrain."""
    name, alias = params.registry.model_name, params.registry.alias
    reference = json.loads(approved.get(APPROVED_METRICS) or "{}") or None
    index = cand.evaluated_on[1] or "none"
    log.info("%s version %s (@%s) was evaluated again (index %s); deciding on it again", name, version, alias, index)

    def decide_again() -> Decision:
        decision = gate_decision(cand, reference, params)
        stays = "stays @" + alias + ("" if decision.passed else ", marked failed")
        return replace(decision, reason=f"v{version} evaluated again on index {index}: {stays}: {decision.reason}")

    if dry_run:
        return DeployResult(version, decide_again(), version, version, dry_run=True)
    with reachable(client, "rechecking the champion", f"@{alias} did not move"), locked(client, params, by):
        if registry.champion(client, name, alias) != version:
            raise DeployError(f"@{alias} moved while version {version} was being rechecked; deploy again")
        decision = decide_again()
        registry.record_decision(client, name, version, decision, by)
        if decision.passed:
            _approve(client, params, version, cand)
        action = "recheck" if decision.passed else f"recheck-{decision.status}"
        event = Event(registry.now(), action, version, version, version, by, decision.reason, cand.run_id)
        registry.append_history(client, name, event)
    return DeployResult(version, decision, version, version, dry_run=False)


def locked(client, params: Params, by: str):
    """The registry lock every move of an alias (a model's or its prompt's) is made under."""
    cfg = params.registry
    return registry.lock(client, cfg.model_name, cfg.lock_wait_s, cfg.lock_stale_s, by)


def _append_or_undo(client, params: Params, event: Event, before: str | None) -> None:
    """History is part of the move: if it cannot be written, the alias goes back to where it was."""
    try:
        registry.append_history(client, params.registry.model_name, event)
    except Exception:
        if event.champion != before:
            registry.move_alias(client, params.registry.model_name, params.registry.alias, before)
        raise


def previous_champion(events: list[Event], current: str | None) -> str | None:
    """The champion before the current one: promotions stack up, rollbacks pop back down the stack."""
    stack: list[str] = []
    for event in events:
        if event.action == "promote":
            stack.append(event.version)
        elif event.action == "rollback":
            while stack and stack[-1] != event.version:
                stack.pop()
            if not stack:
                stack.append(event.version)
    if current is not None and (not stack or stack[-1] != current):
        stack.append(current)
    return stack[-2] if len(stack) >= 2 else None


def rollback(
    params: Params, to: str | None = None, reason: str = "", force: bool = False, by: str | None = None
) -> Event:
    """Move @champion to `to`, or back to the previous champion; recorded in the history."""
    by = by or registry.actor()
    name, alias = params.registry.model_name, params.registry.alias
    client = registry.connect(params)
    with reachable(client, "rolling back", f"@{alias} did not move"), locked(client, params, by):
        current = registry.champion(client, name, alias)
        target = to or previous_champion(registry.history(client, name), current)
        if target is None:
            raise DeployError(f"{name}: no earlier champion in the history; pass --to VERSION")
        if target == current:
            raise DeployError(f"{name}: version {target} is already @{alias}")
        _check_target(client, name, target, force)
        registry.move_alias(client, name, alias, target)
        why = reason or (f"rollback to v{target}" if to else f"rollback to the previous champion v{target}")
        event = Event(registry.now(), "rollback", target, current, target, by, why)
        _append_or_undo(client, params, event, current)
    return event


def _check_target(client, name: str, version: str, force: bool) -> None:
    from mlflow.exceptions import MlflowException

    try:
        mv = client.get_model_version(name, version)
    except MlflowException as err:
        if getattr(err, "error_code", "") == "RESOURCE_DOES_NOT_EXIST":
            raise DeployError(f"{name}: there is no version {version}") from None
        raise
    status = mv.tags.get(f"{registry.GATE}status")
    if status != "passed" and not force:
        raise DeployError(
            f"{name} version {version} did not pass the gate (status {status or 'unknown'}); "
            "pass --force to make it champion anyway"
        )


@dataclass(frozen=True)
class Status:
    name: str
    alias: str
    champion: str | None
    champion_run: str | None
    metrics: dict[str, float]
    history: list[Event]
    versions: list[dict[str, str]]
    prompt: str = ""
    prompt_champion: str | None = None
    prompt_history: list[Event] = field(default_factory=list)  # prompt deploys and rollbacks (prompt_deploy.py)


def _metrics_if_readable(client, run_id: str | None) -> dict[str, float]:
    """Status still shows the registry when the champion's run was deleted or garbage-collected."""
    from mlflow.exceptions import MlflowException

    if run_id is None:
        return {}
    try:
        return eval_metrics(client.get_run(run_id))
    except MlflowException as err:
        if getattr(err, "error_code", "") != "RESOURCE_DOES_NOT_EXIST":
            raise
        log.warning("the champion's run %s is gone; its metrics cannot be shown", run_id)
        return {}


def status(params: Params) -> Status:
    name, alias = params.registry.model_name, params.registry.alias
    client = registry.connect(params)
    with reachable(client, "reading the registry"):
        current = registry.champion(client, name, alias)
        run_id = registry.run_of(client, name, current) if current else None
        metrics = _metrics_if_readable(client, run_id)
        events = registry.history(client, name)
        versions = [
            {
                "version": str(v.version),
                "status": v.tags.get(f"{registry.GATE}status", ""),
                "run_id": v.tags.get(f"{registry.GATE}run_id") or v.run_id or "",
                "prompts": ", ".join(f"{p} v{pv}" for p, pv in sorted(prompts.of_run(v.tags).items())),
            }
            for v in client.search_model_versions(f"name='{name}'")
        ]
        prompt = prompts.context_prompt(name)
        served = prompts.load(client, prompt, alias)
        prompt_events = registry.prompt_history(client, prompt)
    versions.sort(key=lambda v: int(v["version"]))
    return Status(name, alias, current, run_id, metrics, events, versions, prompt, served and served.version,
                  prompt_events)  # fmt: skip
