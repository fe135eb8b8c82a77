"""`make ui`'s script against a real `prefect server` on loopback: deployments, runs from the UI's API, the drift
trigger. The tiny model and the smoke profile; the workspace is a fresh git repository."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from mlflow.tracking import MlflowClient

from tasks.core.processes import free_port
from tests.workspace import copy_workspace, sh

pytestmark = pytest.mark.e2e

FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
NAME = "llmops-support"


class Ui:
    def __init__(self, ws: Path, api: str, log: Path) -> None:
        self.ws, self.log = ws, log
        self.http = httpx.Client(base_url=api, timeout=30)

    def _send(self, method: str, path: str, **kwargs) -> httpx.Response:
        """Retries 502/503 and timeouts as Prefect's own client does: a busy sqlite server answers 503, or nothing
        within 30 s, for a moment."""
        for attempt in range(6):
            try:
                response = self.http.request(method, path, **kwargs)
            except (httpx.TimeoutException, httpx.RemoteProtocolError):
                if attempt == 5:
                    raise
                time.sleep(2**attempt)
                continue
            if response.status_code not in (502, 503) or attempt == 5:
                break
            time.sleep(2**attempt)
        response.raise_for_status()
        return response

    def post(self, path: str, body: dict | list | None = None):
        response = self._send("POST", path, json=body or {})
        return response.json() if response.content else None

    def get(self, path: str):
        return self._send("GET", path).json()

    def deployment(self, name: str, flow: str | None = None) -> dict:
        return self.get(f"/deployments/name/{flow or name}/{name}")

    def run(self, name: str, parameters: dict, flow: str | None = None, timeout: float = 1200) -> dict:
        """What the UI's Run button does: create a flow run from the deployment; then wait for its end."""
        run = self.post(f"/deployments/{self.deployment(name, flow)['id']}/create_flow_run", {"parameters": parameters})
        return self.wait(run["id"], timeout)

    def wait(self, run_id: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            run = self.get(f"/flow_runs/{run_id}")
            if run["state"]["type"] in FINAL:
                return run
            time.sleep(2)
        raise AssertionError(f"flow run {run_id} not finished after {timeout} s; worker log:\n{self.tail()}")

    def logs(self, run_id: str, until: str = "", timeout: float = 60) -> str:
        """A run's logs; with `until`, read again until that text is there: the run process ships its last lines
        in a batch after the server already shows the final state."""
        deadline = time.monotonic() + timeout
        while True:
            lines, offset = [], 0
            while batch := self.post("/logs/filter", {"logs": {"flow_run_id": {"any_": [run_id]}}, "limit": 200,
                                                     "offset": offset, "sort": "TIMESTAMP_ASC"}):  # fmt: skip
                lines += [entry["message"] for entry in batch]
                offset += len(batch)
            text = "\n".join(lines)
            if until in text or time.monotonic() > deadline:
                return text
            time.sleep(2)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-6000:]


def champion(ws: Path) -> str | None:
    uri = f"sqlite:///{ws / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    version = client.get_registered_model(NAME).aliases.get("champion")
    return None if version is None else str(version)


@pytest.fixture(scope="module")
def ui(smoke_pipeline: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    ws = copy_workspace(smoke_pipeline, tmp_path_factory.mktemp("e2e") / "ws")
    port, home = free_port(), tmp_path_factory.mktemp("prefect-home")
    # The tests use the API alone: the server need not build and serve the UI's files.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "PREFECT_HOME": str(home), "PREFECT_WORKER_QUERY_SECONDS": "2", "PREFECT_UI_ENABLED": "false"}  # fmt: skip
    for leaked in ("MLFLOW_TRACKING_URI", "PREFECT_API_URL", "PREFECT_PROFILE"):
        env.pop(leaked, None)
    log = home / "ui.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(["bash", "infra/prefect/local-ui.sh", str(port)], cwd=ws, env=env, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    ui = Ui(ws, f"http://127.0.0.1:{port}/api", log)
    try:
        deadline = time.monotonic() + 300
        while "Worker" not in log.read_text(errors="replace") or len(_deployments(ui)) < 5:
            assert proc.poll() is None, f"make ui's script exited:\n{ui.tail()}"
            assert time.monotonic() < deadline, f"deployments not served after 300 s:\n{ui.tail()}"
            time.sleep(2)
        yield ui
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)


def _deployments(ui: Ui) -> list[str]:
    try:
        return [d["name"] for d in ui.post("/deployments/filter")]
    except httpx.HTTPError:
        return []


def test_deployments_schedule_and_drift_trigger(ui: Ui) -> None:
    assert sorted(_deployments(ui)) == ["deploy", "deploy-prompt", "drift-watch", "retrain", "rollback"]
    watch = ui.deployment("drift-watch")
    assert [s["schedule"]["cron"] for s in watch["schedules"]] == ["0 */6 * * *"]  # from params.yaml
    assert watch["work_pool_name"] == "llmops-local"
    retrain = ui.deployment("retrain")
    form = retrain["parameter_openapi_schema"]["properties"]  # what the UI renders as the run form
    assert {"epochs", "learning_rate", "base_model", "set_params", "dry_run"} <= set(form)
    automations = ui.post("/automations/filter")
    triggers = [a for a in automations if "llmops.drift.detected" in a["trigger"].get("expect", [])]
    assert len(triggers) == 1
    assert triggers[0]["actions"][0]["deployment_id"] == retrain["id"]
    # The server's scheduler turns the cron into scheduled runs (it did not under SQLAlchemy 2.1).
    deadline = time.monotonic() + 180
    flt = {"deployments": {"id": {"any_": [watch["id"]]}}, "flow_runs": {"state": {"type": {"any_": ["SCHEDULED"]}}}}
    while not (scheduled := ui.post("/flow_runs/filter", flt)):
        assert time.monotonic() < deadline, f"no scheduled drift-watch runs after 180 s:\n{ui.tail()}"
        time.sleep(3)
    assert all(run["expected_start_time"][14:16] == "00" for run in scheduled)  # on the hour, as the cron says
    ui.post(f"/deployments/{watch['id']}/pause_deployment")  # none of them may start during the other tests


def test_a_refused_retrain_keeps_the_champion_and_its_model_is_gated_again(ui: Ui) -> None:
    """An override from the run form fails the gate of the model the session's smoke repro built (no stage reads
    the gate, so DVC finds every stage unchanged and nothing retrains); the next run without it promotes that
    same model. (A retrain that trains: tests/integration/test_demo.py.)"""
    params_before = (ui.ws / "params.yaml").read_text()
    refused = ui.run("retrain", {"set_params": ["gate.min.rougeL=2"], "reason": "e2e"})
    logs = ui.logs(refused["id"], until="gate failed")
    assert refused["state"]["type"] == "FAILED", f"{refused['state']}\n{logs[-4000:]}\n{ui.tail()}"
    assert "gate failed: rougeL = 0" in logs and "needs >= 2" in logs
    assert champion(ui.ws) is None
    assert (ui.ws / "params.yaml").read_text() == params_before  # taken out again, failed or not
    for stage in ("generate", "prepare", "split", "train", "evaluate"):  # DVC says what is stale: nothing
        assert f"stage {stage}: unchanged" in logs

    run = ui.run("retrain", {"reason": "e2e"})
    logs = ui.logs(run["id"])
    assert run["state"]["type"] == "COMPLETED", f"{run['state']}\n{logs[-4000:]}\n{ui.tail()}"
    assert champion(ui.ws) == "1"  # one registration: refused before, promoted now
    summary = orjson.loads((ui.ws / "data/reports/retrain.json").read_bytes())
    assert summary["outcome"] == "promoted" and summary["flow_run"] == run["name"]
    assert f"prefect-{run['name']}" in sh("dvc", "exp", "list", "--all-commits", cwd=ui.ws)
    uri = f"sqlite:///{ui.ws / 'mlflow.db'}"
    tags = MlflowClient(tracking_uri=uri).get_run(summary["mlflow_run_id"]).data.tags
    assert "llmops.overrides" not in tags  # neither flow run trained it
    records = [orjson.loads(tags[f"llmops.flow_run.{flow_run['id']}"]) for flow_run in (refused, run)]
    assert [r["overrides"] for r in records] == [{"gate.min.rougeL": 2}, {}]  # both flow runs that gated it
    assert {r["reason"] for r in records} == {"e2e"}


def test_drift_watch_triggers_a_retrain_and_cancelling_it_keeps_the_champion(ui: Ui) -> None:
    """The event starts the retrain deployment with the drift as its reason; an operator cancels the run from the
    UI while it works, and the champion stays. (A drift retrain that promotes: tests/integration/test_demo.py.)"""
    sh("llmops", "traffic", "--out", "data/traffic/shifted.jsonl", "--n", "300", "--shift-share", "0.5", cwd=ui.ws)
    retrain_id = ui.deployment("retrain")["id"]
    known = {r["id"] for r in ui.post("/flow_runs/filter", {"deployments": {"id": {"any_": [retrain_id]}}})}
    watch = ui.run("drift-watch", {"window": "data/traffic/shifted.jsonl"}, flow="drift-watch")
    assert watch["state"]["type"] == "COMPLETED", ui.logs(watch["id"])[-4000:]
    deadline = time.monotonic() + 120
    while not (new := [r for r in ui.post("/flow_runs/filter", {"deployments": {"id": {"any_": [retrain_id]}}})
                       if r["id"] not in known]):  # fmt: skip
        assert time.monotonic() < deadline, "llmops.drift.detected started no retrain run"
        time.sleep(2)
    reason = new[0]["parameters"]["reason"]
    assert reason.startswith("drift: ") and "intent mix moved" in reason, reason
    deadline = time.monotonic() + 300
    while ui.get(f"/flow_runs/{new[0]['id']}")["state"]["type"] != "RUNNING":
        assert time.monotonic() < deadline, f"the triggered retrain did not start:\n{ui.tail()}"
        time.sleep(1)
    ui.post(f"/flow_runs/{new[0]['id']}/set_state", {"state": {"type": "CANCELLING", "name": "Cancelling"}})
    cancelled = ui.wait(new[0]["id"], 300)
    assert cancelled["state"]["type"] == "CANCELLED", ui.logs(new[0]["id"])[-4000:]
    assert champion(ui.ws) == "1"
