"""Prefect's server on PostgreSQL, the orchestration database past one machine: the retrain flow of the smoke
workspace runs against it, and its flow run, task runs and logs are there to read back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tasks.core.processes import free_port, wait_until_ready
from tests.postgres import Postgres
from tests.workspace import copy_workspace

pytestmark = pytest.mark.e2e

BIN = Path(sys.executable).parent


def test_the_retrain_flow_runs_on_a_prefect_server_backed_by_postgres(
    postgres: Postgres, smoke_pipeline: Path, tmp_path: Path
) -> None:
    ws = copy_workspace(smoke_pipeline, tmp_path / "ws")
    database = postgres.create("prefect").replace("postgresql+psycopg://", "postgresql+asyncpg://")
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "PREFECT_HOME": str(tmp_path / "home"),
           "PREFECT_API_DATABASE_CONNECTION_URL": database, "PREFECT_UI_ENABLED": "false",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}  # fmt: skip
    for leaked in ("MLFLOW_TRACKING_URI", "PREFECT_API_URL", "PREFECT_PROFILE"):
        env.pop(leaked, None)
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen([str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
                                  env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        wait_until_ready(f"{api}/health", server, timeout=180)
        retrain = subprocess.run([str(BIN / "llmops"), "retrain", "--reason", "postgres"], cwd=ws,
                                 env={**env, "PREFECT_API_URL": api}, capture_output=True, text=True,
                                 timeout=900)  # fmt: skip
        assert retrain.returncode == 0, f"{retrain.stdout[-3000:]}\n{retrain.stderr[-3000:]}"

        http = httpx.Client(base_url=api, timeout=30)
        [run] = http.post("/flow_runs/filter", json={"flows": {"name": {"any_": ["retrain"]}}}).json()
        assert run["state"]["type"] == "COMPLETED" and run["parameters"]["reason"] == "postgres"
        tasks = http.post("/task_runs/filter", json={"flow_runs": {"id": {"any_": [run["id"]]}}}).json()
        assert {t["state"]["type"] for t in tasks} == {"COMPLETED"} and len(tasks) >= 5  # a task per stage and more
        logs = http.post("/logs/filter", json={"logs": {"flow_run_id": {"any_": [run["id"]]}}, "limit": 200,
                                               "sort": "TIMESTAMP_DESC"}).json()  # fmt: skip
        assert any(entry["message"].startswith("gate passed") for entry in logs), [e["message"] for e in logs][:20]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
