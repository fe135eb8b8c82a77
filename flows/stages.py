"""Prefect tasks over the `tasks/` entry points: one per DVC stage, plus the registry moves.

Prefect's result caching is off everywhere: DVC decides what is stale, the registry decides what moved.
Only training is retried (it resumes from its last checkpoint); a data stage fails the same way twice and a
deploy must never register a second version because the first attempt timed out.
"""

from __future__ import annotations

from pathlib import Path

import orjson
from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.logging import get_run_logger

from tasks.config.schema import Params
from tasks.core.errors import DeployError, GateRefusedError
from tasks.data.formats import FEEDBACK_SNAPSHOT
from tasks.knowledge import pin
from tasks.knowledge.pin import pinned
from tasks.monitoring import feedback
from tasks.monitoring.request_log import url_of
from tasks.pipeline import workspace
from tasks.pipeline.workspace import StageRun
from tasks.registry import deploy as deploying
from tasks.registry import prompt_deploy as prompt_deploying
from tasks.registry.deploy import DeployResult
from tasks.registry.prompt_deploy import PROMPT_DECISION
from tasks.registry.store import Event
from tasks.tracking import runs as tracking
from tasks.training import warm_start


def _stream_to_log(stage: str):
    logger = get_run_logger()

    def on_line(line: str) -> None:
        if line.strip():
            logger.info("%s | %s", stage, line)

    return on_line


@task(name="dvc-stage", cache_policy=NO_CACHE, task_run_name="{stage}")
def dvc_stage(stage: str, root: Path, settled: bool = False) -> StageRun:
    """`dvc repro --single-item STAGE`, its output (every rank's, for training) streamed into this task's log;
    `settled` (workspace.stage_plan): unchanged, and so is everything upstream, so DVC need not be asked."""
    if settled:
        get_run_logger().info("stage %s: unchanged (dvc status: it and every stage upstream)", stage)
        return StageRun(stage, "unchanged", 0.0)
    result = workspace.repro(stage, root, _stream_to_log(stage))
    get_run_logger().info("stage %s: %s in %.1f s", stage, result.status, result.seconds)
    return result


@task(name="feedback-snapshot", cache_policy=NO_CACHE)
def snapshot_feedback(params: Params, root: Path) -> dict:
    """The request log's feedback as a DVC-tracked snapshot, before any stage runs (DVC never reads the database)."""
    s = feedback.export(url_of(params.serving), root / FEEDBACK_SNAPSHOT, feedback.traces_of(params))
    if s["exported_at"]:
        workspace.track(FEEDBACK_SNAPSHOT, root, _stream_to_log("dvc add"))
    said = feedback.describe(s)
    get_run_logger().info("feedback: %s", said)
    return {**{k: s[k] for k in ("exported_at", "changed", "records", "corrections", "approved")}, "said": said}


@task(name="warm-start", cache_policy=NO_CACHE)
def export_warm_start(params: Params, root: Path) -> dict:
    """@champion's adapter into models/warm_start/ before the stages: training continues from it when it fits."""
    said = warm_start.export(params, root / warm_start.WARM_START)
    get_run_logger().info("warm start: %s", said["why"])
    return said


@task(name="pin-index", cache_policy=NO_CACHE)
def refresh_pin(params: Params) -> dict | None:
    """A pinned training index (tasks/knowledge/pin.py) moved to the live index before the rows are grounded."""
    before = pinned(params)
    record = pin.refresh(params)
    if record is not None and record != before:
        get_run_logger().info("pinned index %s -> %s for the training rows", before["version"], record["version"])
    return record


@task(name="dvc-exp-save", cache_policy=NO_CACHE)
def save_experiment(root: Path, name: str) -> str | None:
    saved = workspace.save_experiment(root, name, _stream_to_log("exp save"))
    if saved is None:
        get_run_logger().warning("no DVC experiment recorded (needs a git repository with a commit); see dvc.lock")
    return saved


@task(name="record-in-mlflow", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=10)
def record_in_mlflow(params: Params, run_id: str, record: dict, trained: bool) -> None:
    """Idempotent tags, so retrying a flaky tracking server is safe."""
    tracking.record_orchestration(params, run_id, record, trained)


@task(name="gated-deploy", cache_policy=NO_CACHE)
def gated_deploy(params: Params, run_id: str, dry_run: bool, by: str) -> DeployResult:
    result = deploying.deploy(params, run_id, dry_run, by)
    logger = get_run_logger()
    for check in result.decision.checks:
        (logger.info if check.passed else logger.error)("gate: %s", check.describe())
    logger.info("gate %s: %s", result.decision.status, result.decision.reason)
    return result


@task(name="rollback", cache_policy=NO_CACHE)
def roll_back(params: Params, to: str | None, reason: str, force: bool, by: str, prompt: bool = False) -> Event:
    return (prompt_deploying.rollback_prompt if prompt else deploying.rollback)(params, to, reason, force, by)


@task(name="gated-prompt-deploy", cache_policy=NO_CACHE)
def gated_prompt_deploy(root: Path, version: str, dry_run: bool, by: str) -> dict:
    """`llmops deploy --prompt VERSION`, its output in this task's log: the CLI serves the base model for the judge
    as `llmops evaluate` does (a flow does not import the server); its decision record is the result."""
    record = root / PROMPT_DECISION
    record.unlink(missing_ok=True)
    cmd = [workspace.tool("llmops"), "deploy", "--prompt", version, "--by", by, *(["--dry-run"] if dry_run else [])]
    code, lines = workspace.stream(cmd, root, _stream_to_log("deploy-prompt"))
    if code not in (0, GateRefusedError.exit_code) or not record.is_file():
        raise DeployError(f"llmops deploy --prompt {version}: {workspace.error_of(lines)}")
    return orjson.loads(record.read_bytes())
