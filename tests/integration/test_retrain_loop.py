"""The whole loop on the smoke profile: a champion serves; in-distribution traffic retrains nothing; traffic about
new products, with people's corrections, is detected by the drift-watch flow, retrains through the gate, and the
server answers with the new champion without a restart."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import yaml
from mlflow.tracking import MlflowClient
from openai import OpenAI

from tasks.core.processes import free_port, wait_until_ready
from tasks.data.synthesize import traffic
from tests.workspace import copy_workspace, sh

pytestmark = pytest.mark.integration
NAME = "llmops-support"


def champion(ws: Path) -> str | None:
    uri = f"sqlite:///{ws / 'mlflow.db'}"
    version = MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model(NAME).aliases.get("champion")
    return None if version is None else str(version)


@pytest.fixture(scope="module")
def ws(smoke_pipeline: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = copy_workspace(smoke_pipeline, tmp_path_factory.mktemp("loop") / "ws")
    params = yaml.safe_load((ws / "params.yaml").read_text())
    params["serving"].update({"poll_s": 1, "default_max_tokens": 8, "rate_limit_per_minute": 0})
    (ws / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    sh("git", "add", "-A", cwd=ws)
    sh("git", "commit", "-qm", "serving settings for the test", cwd=ws)
    assert "Running stage 'train'" not in sh("dvc", "repro", cwd=ws)  # no stage reads these serving keys
    sh("llmops", "deploy", cwd=ws)
    assert champion(ws) == "1"
    return ws


@pytest.fixture(scope="module")
def api(ws: Path):
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    log = (ws / "serve.log").open("wb")
    proc = subprocess.Popen(["llmops", "serve", "--port", str(port)], cwd=ws, env=env, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{base}/ready", proc, timeout=180)
    except (ChildProcessError, TimeoutError) as e:
        pytest.fail(f"{e}\n{(ws / 'serve.log').read_text()}")
    yield base
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=60)
    log.close()


def send(base: str, n: int, seed: int, shift: float) -> list[tuple[str, str]]:
    """Chats through the official client, 8 at a time as the server batches them; (request id, model version)
    of each answer, in the order of the traffic."""
    client = OpenAI(base_url=f"{base}/v1", api_key="unused", max_retries=0)

    def ask(record: dict) -> tuple[str, str]:
        raw = client.chat.completions.with_raw_response.create(model=NAME, messages=record["messages"])
        return raw.headers["x-request-id"], raw.headers["x-model-version"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(ask, traffic(n, seed, shift)))


def train_runs(ws: Path) -> int:
    client = MlflowClient(tracking_uri=f"sqlite:///{ws / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("llmops")
    return len(client.search_runs([experiment.experiment_id], "tags.`llmops.stage` = 'train'"))


def test_drift_retrains_and_the_server_follows(ws: Path, api: str) -> None:
    assert {version for _, version in send(api, 300, 21, 0.0)} == {"1"}
    runs = train_runs(ws)
    calm = " ".join(sh("llmops", "watch", "--retrain", cwd=ws).split())
    assert "drift-watch: no drift:" in calm, calm
    assert champion(ws) == "1" and train_runs(ws) == runs

    shifted = send(api, 300, 22, 0.6)
    for request_id, _ in shifted[:60]:  # people correct the answers about the new products
        fix = "The new eSIM travel pass is activated in the app under Plans, then Travel, then Activate."
        r = httpx.post(f"{api}/feedback", json={"request_id": request_id, "rating": -1, "correction": fix})
        assert r.status_code == 200, r.text
    out = " ".join(sh("llmops", "watch", "--retrain", cwd=ws).split())
    assert "drift-watch: drift:" in out and "intent mix moved" in out, out
    assert train_runs(ws) == runs + 1
    assert champion(ws) == "2", out

    deadline = time.monotonic() + 60
    while (version := send(api, 1, 23, 0.0)[0][1]) != "2":
        assert time.monotonic() < deadline, f"the server still answers with v{version}"
        time.sleep(1)
