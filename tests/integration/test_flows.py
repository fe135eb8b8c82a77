"""Flow pieces under Prefect's test harness (one session-wide API): stages as tasks, the workspace slot."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
from prefect import flow
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.logging.handlers import APILogWorker
from prefect.testing.utilities import prefect_test_harness

from flows.retrain import _run_stages
from flows.workspace_lock import workspace_slot
from tasks.config import Params
from tasks.errors import StageError, WorkspaceBusyError
from tests.workspace import sh

pytestmark = pytest.mark.integration

FAILING_RANK = """
import sys
print("launching 2 rank(s)")
print("step 1 loss 3.2", flush=True)
print("error: training failed: rank 1 failed: RuntimeError: boom", file=sys.stderr)
sys.exit(1)
"""


@pytest.fixture(scope="session")
def harness():
    with prefect_test_harness(server_startup_timeout=120):
        yield


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
