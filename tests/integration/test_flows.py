"""Flow pieces under Prefect's test harness (one session-wide API): stages as tasks, the workspace slot."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import Future
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogWorker

from flows.deploy import deploy, rollback
from flows.retrain import _run_stages
from flows.workspace_lock import workspace_slot
from tasks.config.schema import Params
from tasks.core.errors import GateRefusedError, StageError, WorkspaceBusyError
from tests.integration.test_deploy import GOOD, NAME, candidate, champion, write_params
from tests.workspace import sh

pytestmark = pytest.mark.integration

FAILING_RANK = """
import sys
print("launching 2 rank(s)")
print("step 1 loss 3.2", flush=True)
print("error: training failed: rank 1 failed: RuntimeError: boom", file=sys.stderr)
sys.exit(1)
"""


@pytest.fixture
def dvc_repo(tmp_path: Path) -> Path:
    (tmp_path / "ranks.py").write_text(FAILING_RANK)
    (tmp_path / "dvc.yaml").write_text(
        "stages:\n"
        f"  prepare:\n    cmd: {sys.executable} -c \"open('a.txt', 'w').write('a')\"\n    outs: [a.txt]\n"
        f"  train:\n    cmd: {sys.executable} ranks.py\n    deps: [a.txt, ranks.py]\n    outs: [b.txt]\n"
    )
    sh("git", "init", "-q", cwd=tmp_path)
    sh("dvc", "init", "-q", cwd=tmp_path)
    return tmp_path


def test_a_failing_rank_fails_its_stage_task_with_the_ranks_error(harness, dvc_repo: Path) -> None:
    done: list[dict] = []

    @flow
    def stages() -> None:
        _run_stages(dvc_repo, Params(), done)

    state = stages(return_state=True)
    assert state.is_failed()
    with pytest.raises(StageError, match="stage train failed: training failed: rank 1 failed: RuntimeError: boom"):
        state.result()
    assert [(d["stage"], d["status"]) for d in done] == [("prepare", "ran"), ("train", "failed")]
    assert done[1]["error"] == "training failed: rank 1 failed: RuntimeError: boom"
    APILogWorker.drain_all(timeout=10)
    with get_client(sync_client=True) as client:
        flow_run = LogFilterFlowRunId(any_=[state.state_details.flow_run_id])
        logs = [log.message for log in client.read_logs(LogFilter(flow_run_id=flow_run))]
    assert any(m == "train | step 1 loss 3.2" for m in logs), logs  # the rank's output, line by line
    retries = sum("Task run failed with exception" in m and "Retries are exhausted" not in m for m in logs)
    assert retries >= 1  # train is retried once (it resumes from its checkpoint); prepare is not


def test_a_second_flow_run_waits_for_the_workspace_then_says_why(harness, tmp_path: Path) -> None:
    holding, release = threading.Event(), threading.Event()

    @flow
    def holder() -> None:
        with workspace_slot(tmp_path, wait_s=60):
            holding.set()
            release.wait(60)

    @flow
    def second() -> None:
        with workspace_slot(tmp_path, wait_s=2):
            pass

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert holding.wait(60)
        state = second(return_state=True)
        with pytest.raises(WorkspaceBusyError, match="another flow run has held workspace"):
            state.result()
    finally:
        release.set()
        thread.join(60)
    assert second(return_state=True).is_completed()  # free again once the holder is done


@pytest.fixture
def registry_workspace(tmp_path: Path, logged_tiny_model: str, monkeypatch: pytest.MonkeyPatch):
    """A workspace whose params.yaml points at a sqlite registry; flows run in the current directory."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    write_params(tmp_path, uri)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    return uri, logged_tiny_model


def test_deploy_and_rollback_flows_move_the_champion_and_say_so(
    harness, registry_workspace: tuple[str, str], emitted
) -> None:
    uri, model_uri = registry_workspace
    assert deploy(run_id=candidate(uri, model_uri, GOOD))["champion_after"] == "1"
    worse = candidate(uri, model_uri, {**GOOD, "rougeL": 0.3})
    refused = deploy(run_id=worse, return_state=True)
    with pytest.raises(GateRefusedError, match=r"rougeL = 0\.3, needs >= 0\.38"):
        refused.result()
    assert champion(uri) == "1"
    deploy(run_id=candidate(uri, model_uri, {**GOOD, "rougeL": 0.5}))
    assert rollback(reason="complaints")["champion"] == "1" and champion(uri) == "1"

    emitted.drain()
    events = [e for e in emitted._client.events if e.event.startswith("llmops.")]
    names = [e.event for e in events]
    assert names == ["llmops.model.promoted", "llmops.gate.failed", "llmops.model.promoted", "llmops.model.rolled_back"]
    failed = events[1]
    assert failed.resource.id == f"llmops.model.{NAME}" and failed.payload["version"] == "2"
    assert failed.payload["champion_after"] == "1" and failed.payload["metrics"]["rougeL"] == 0.3
    assert any("rougeL = 0.3" in c for c in failed.payload["failed_checks"])
    assert events[3].payload == {"version": "1", "champion_before": "3", "reason": "complaints",
                                 "by": events[3].payload["by"]}  # fmt: skip
    assert events[3].payload["by"].startswith("prefect:")


def test_a_killed_local_run_gives_the_workspace_back_when_its_lease_runs_out(killed_holder: Future) -> None:
    killed, second = killed_holder.result(timeout=600)
    assert killed.returncode == -9 and "crash: slot after" in killed.stdout, killed.stdout + killed.stderr[-3000:]
    # once the lease ran out, within a turn of 15 s
    assert second.returncode == 0 and "wait: slot after" in second.stdout, second.stdout + second.stderr[-3000:]
