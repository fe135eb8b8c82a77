"""A prompt version deployed on its own: evaluated with @champion's model, gated like a model, rolled back alone.

llmops deploy --prompt VERSION [--dry-run]    the champion model, answering the test split grounded with that
                                              version's text and the probes; promoted only past the gate
llmops rollback --prompt [--to VERSION]       the prompt's @champion back to its previous version

The candidate is compared with the champion's own evaluation (the same model with the prompt it was trained and
evaluated with), on the same test rows, so the gate's regression checks measure what the prompt changed. The
evaluation is logged to a run of its own, linked to the prompt version. A promotion moves the prompt's alias and
records the version on the champion model version (the tag `prompts.follow` reads), so a later rollback of the
model to this version brings this prompt back with it; a model trained after that renders the text it was trained
with (templates/prompts.yaml) until a prompt deploy says otherwise. The server reads the alias on every poll.
"""

from __future__ import annotations

import logging
import re
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tasks.config.schema import Params
from tasks.core.errors import DeployError
from tasks.core.files import read_jsonl
from tasks.data.formats import FEEDBACK_SNAPSHOT
from tasks.evaluation.gate import Decision
from tasks.evaluation.judge import Endpoint
from tasks.evaluation.run_log import PARITY_REASON_TAG, PARITY_TAG, logged_rows
from tasks.evaluation.statistics import row_table
from tasks.registry import store as registry
from tasks.registry.deploy import Candidate, eval_metrics, gate_decision, locked, previous_champion
from tasks.registry.store import Event, reachable
from tasks.tracking import prompts

log = logging.getLogger("llmops.deploy")

PROMPT_DECISION = Path("data/reports/prompt_deploy.json")  # what `llmops deploy --prompt` decided, for a flow
MODEL_VERSION_TAG = "llmops.prompt_deploy.model_version"  # on the evaluation run: the model it answered with


def gate_tag(model_version: str, key: str) -> str:
    """A prompt version's decision with one model version: a prompt can pass with one model and fail with the next."""
    return f"{registry.GATE}v{model_version}.{key}"


@dataclass(frozen=True)
class Inputs:
    """What a prompt evaluation reads besides params: the split before grounding, the probes, the feedback snapshot
    (its labels calibrate the judge), and the judge's endpoint when evaluate.judge.base_url is null (`llmops deploy
    --prompt` serves the base model for it, as `llmops evaluate` does)."""

    split: Path = Path("data/split")
    probes: Path = Path("data/probes")
    feedback: Path | None = FEEDBACK_SNAPSHOT
    own_judge: Endpoint | None = None


@dataclass(frozen=True)
class PromptDeployResult:
    prompt: str
    version: str
    model_version: str
    run_id: str | None
    decision: Decision
    before: str | None
    after: str | None
    dry_run: bool

    def summary(self) -> dict[str, Any]:
        return {
            "prompt": self.prompt, "version": self.version, "model_version": self.model_version,
            "run_id": self.run_id, "dry_run": self.dry_run, "status": self.decision.status,
            "reason": self.decision.reason, "before": self.before, "after": self.after,
            "failed_checks": [c.describe() for c in self.decision.failed_checks],
            "checks": [asdict(c) for c in self.decision.checks],
        }  # fmt: skip


@dataclass(frozen=True)
class _Champion:
    version: str
    run_id: str
    model_uri: str
    metrics: dict[str, float]
    base_metrics: dict[str, float]
    rows: dict[str, Any]
    parity: tuple[str | None, str | None]
    trained_with: str | None  # the prompt version its training run used


def _champion(client, params: Params, prompt: str) -> _Champion:
    name, alias = params.registry.model_name, params.registry.alias
    version = registry.champion(client, name, alias)
    if version is None:
        raise DeployError(f"{name} has no @{alias}: a prompt is evaluated with the champion model; deploy one first")
    run_id = registry.run_of(client, name, version)
    run = client.get_run(run_id)
    model_uri = run.data.tags.get("llmops.model_uri") or client.get_model_version(name, version).source
    parity = (run.data.tags.get(PARITY_TAG), run.data.tags.get(PARITY_REASON_TAG))
    return _Champion(version, run_id, model_uri, eval_metrics(run), eval_metrics(run, "eval_base."),
                     logged_rows(client, run_id), parity, prompts.of_run(run.data.tags).get(prompt))  # fmt: skip


def _require(params: Params, ref: prompts.PromptRef | None, prompt: str, version: str) -> prompts.PromptRef:
    if not params.context.enabled:
        raise DeployError(
            "context.enabled is false: the model answers without the context prompt, so a version of it changes "
            "nothing; set context.enabled: true (and retrain) first"
        )
    if ref is None:
        raise DeployError(f"prompt {prompt} has no version {version}; `llmops status` lists the registered ones")
    if not re.search(r"\{\{\s*sections\s*\}\}", ref.template):
        raise DeployError(f"prompt {prompt} version {version} has no {{{{sections}}}}: the retrieved help-centre "
                          "sections would never reach the model")  # fmt: skip
    return ref


def deploy_prompt(
    params: Params, version: str, inputs: Inputs = Inputs(), dry_run: bool = False, by: str | None = None
) -> PromptDeployResult:
    """Evaluate prompt `version` with @champion's model and move the prompt's @champion only if the gate passes."""
    by = by or registry.actor()
    alias = params.registry.alias
    prompt = prompts.context_prompt(params.registry.model_name)
    client = registry.connect(params)
    with reachable(client, "reading the prompt version and the champion"):
        ref = _require(params, prompts.get(client, prompt, version), prompt, version)
        champ = _champion(client, params, prompt)
        current = prompts.load(client, prompt, alias)
        before = current.version if current else None
    if champ.trained_with is None:
        raise DeployError(f"model v{champ.version} was trained without the context prompt (its run has no "
                          f"{prompts.RUN_TAG}{prompt} tag): retrain with context.enabled: true first")  # fmt: skip
    if before == ref.version:
        same = Decision("passed", (), f"{prompt} version {ref.version} is already @{alias}; nothing to do")
        return PromptDeployResult(prompt, ref.version, champ.version, None, same, before, before, dry_run)
    if not (inputs.split / "test.jsonl").is_file():
        raise DeployError(f"{inputs.split / 'test.jsonl'}: the test split a prompt is evaluated on is missing; run "
                          "`dvc repro split` first")  # fmt: skip
    run_id, model_rows = _evaluate(params, inputs, client, champ, ref)
    with reachable(client, "reading the prompt's evaluation"):
        metrics = eval_metrics(client.get_run(run_id))
    cand = Candidate(run_id, champ.model_uri, "complete", metrics, champ.base_metrics,
                     {"model": model_rows, "base": champ.rows.get("base") or {}}, champ.parity,
                     {prompt: ref.version})  # fmt: skip
    state = f"@{alias} of {prompt} did not move"
    with reachable(client, "deciding on the prompt version", state), locked(client, params, by):
        now = registry.champion(client, params.registry.model_name, alias)
        if now != champ.version:
            decision = Decision("error", (), f"@{alias} moved from model v{champ.version} to v{now} while the prompt "
                                             "was evaluated; deploy the prompt again")  # fmt: skip
        else:
            decision = gate_decision(cand, champ.metrics, params, champ.rows.get("model"))
        client.set_tag(run_id, "llmops.gate.status", decision.status)
        if dry_run:
            return PromptDeployResult(prompt, ref.version, champ.version, run_id, decision, before, before, True)
        client.set_prompt_version_tag(prompt, ref.version, gate_tag(champ.version, "status"), decision.status)
        client.set_prompt_version_tag(prompt, ref.version, gate_tag(champ.version, "reason"), decision.reason[:5000])
        after = ref.version if decision.passed else before
        if decision.passed:
            _serve(client, params, prompt, champ.version, ref.version)
        action = {"passed": "promote", "failed": "reject", "error": "error"}[decision.status]
        event = Event(registry.now(), action, ref.version, before, after, by, decision.reason, run_id, champ.version)
        _append_or_undo(client, prompt, event, lambda: _serve(client, params, prompt, champ.version, before))
    return PromptDeployResult(prompt, ref.version, champ.version, run_id, decision, before, after, False)


def _evaluate(
    params: Params, inputs: Inputs, client, champ: _Champion, ref: prompts.PromptRef
) -> tuple[str, dict[str, dict[str, float]]]:
    """The champion's merged model on the test split grounded with `ref`, logged to a new run: (its id, per-row
    values)."""
    from tasks.data.grounding import write_grounded
    from tasks.evaluation import judge, run_log
    from tasks.evaluation.evaluate import evaluate
    from tasks.evaluation.paths import EvalPaths
    from tasks.knowledge.context import Prompt
    from tasks.knowledge.retrieve import Retriever
    from tasks.models.downloaded import download
    from tasks.models.embeddings import embed
    from tasks.tracking.runs import use_experiment

    name = params.registry.model_name
    with tempfile.TemporaryDirectory(prefix="llmops-prompt-") as tmp:
        grounded = Path(tmp) / "grounded"
        retriever = Retriever(params.index.uri, params.index.table, embed)
        write_grounded(inputs.split, grounded, retriever, params.serving.retrieval, params.context, ("test",),
                       Prompt(ref.template, ref.version))  # fmt: skip
        with reachable(client, f"downloading model v{champ.version}"):
            _, model = download(name, champ.version, Path(tmp))
        paths = EvalPaths(grounded / "test.jsonl", grounded / "intents.jsonl", model, inputs.probes,
                          Path(tmp) / "eval.json")  # fmt: skip
        log.info("evaluating %s version %s with %s v%s", ref.name, ref.version, name, champ.version)
        summary = evaluate(params, paths) | {"model": f"v{champ.version} with {ref.name} v{ref.version}"}
        examples = list(read_jsonl(paths.examples))
        with reachable(client, "logging the prompt's evaluation"):
            run = client.create_run(
                use_experiment(params),
                run_name=f"prompt {ref.name} v{ref.version} with {name} v{champ.version}",
                tags={MODEL_VERSION_TAG: champ.version, "llmops.prompt_deploy.champion_run": champ.run_id},
            )
            run_id = run.info.run_id
            try:
                prompts.record_on_run(client, run_id, ref)
                summary["judge_enabled"] = float(params.evaluate.judge.enabled)
                if params.evaluate.judge.enabled:  # the champion's evaluation was judged: so is this one, alike
                    cfg = params.evaluate.judge
                    ep = judge.endpoint(cfg, inputs.own_judge)
                    summary |= judge.evaluate_with_judge(cfg, ep, examples, judge.labelled_items(cfg, inputs.feedback),
                                                         run_id)  # fmt: skip
                run_log.log_evaluation(run_id, paths, summary, examples, champ.base_metrics, None)
            except BaseException as err:  # a half-logged evaluation is marked so, as the evaluate stage marks its own
                client.set_tag(run_id, run_log.EVAL_STATUS, "failed")
                client.set_tag(run_id, "llmops.eval.error", f"{type(err).__name__}: {err}"[:5000])
                client.set_terminated(run_id, "FAILED")
                raise
            client.set_terminated(run_id)
    return run_id, row_table(examples)


def _serve(client, params: Params, prompt: str, model_version: str, version: str | None) -> None:
    """The prompt's alias, and the champion model version's record of the prompt it serves with (`prompts.follow`);
    None: no alias (where there was none before)."""
    if version is None:
        client.delete_prompt_alias(prompt, params.registry.alias)
        return
    client.set_prompt_alias(prompt, params.registry.alias, int(version))
    client.set_model_version_tag(params.registry.model_name, model_version, prompts.RUN_TAG + prompt, version)


def _append_or_undo(client, prompt: str, event: Event, undo: Callable[[], None]) -> None:
    """History is part of the move: if it cannot be written, the alias goes back to where it was."""
    try:
        registry.append_prompt_history(client, prompt, event)
    except Exception:
        if event.champion != event.previous:
            undo()
        raise


def rollback_prompt(
    params: Params, to: str | None = None, reason: str = "", force: bool = False, by: str | None = None
) -> Event:
    """The prompt's @champion back to the version before it with this champion model (or the one the model was
    trained with), or to `to`; a version that never passed the gate with this model needs `force`."""
    by = by or registry.actor()
    alias = params.registry.alias
    prompt = prompts.context_prompt(params.registry.model_name)
    client = registry.connect(params)
    with (
        reachable(client, "rolling back the prompt", f"@{alias} of {prompt} did not move"),
        locked(client, params, by),
    ):
        champ = _champion(client, params, prompt)
        current = prompts.load(client, prompt, alias)
        current_version = current.version if current else None
        with_model = [e for e in registry.prompt_history(client, prompt) if e.model_version == champ.version]
        target = to or previous_champion(with_model, current_version) or champ.trained_with
        if target == current_version and to is not None:
            raise DeployError(f"{prompt}: version {target} is already @{alias}")
        if target is None or target == current_version:
            raise DeployError(f"{prompt}: no earlier version with model v{champ.version}; pass --to VERSION")
        ref = prompts.get(client, prompt, target)
        if ref is None:
            raise DeployError(f"prompt {prompt} has no version {target}")
        status = ref.tags.get(gate_tag(champ.version, "status"))
        if target != champ.trained_with and status != "passed" and not force:
            raise DeployError(f"{prompt} version {target} did not pass the gate with model v{champ.version} (status "
                              f"{status or 'never evaluated'}); pass --force to serve it anyway")  # fmt: skip
        _serve(client, params, prompt, champ.version, target)
        why = reason or f"rollback to {prompt} v{target}"
        event = Event(registry.now(), "rollback", target, current_version, target, by, why, None, champ.version)
        _append_or_undo(client, prompt, event, lambda: _serve(client, params, prompt, champ.version, current_version))
    return event
