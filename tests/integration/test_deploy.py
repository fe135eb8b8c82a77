"""Gated deploy, rollback and status against real MLflow registries: a sqlite store and a real `mlflow server`.

Candidate runs carry an evaluation (eval.* metrics, llmops.eval.status) and the tiny chat model, logged once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import mlflow
import numpy as np
import pytest
import yaml
from mlflow.tracking import MlflowClient

from tasks.core.processes import free_port, wait_until_ready
from tasks.models.logged_model import log_chat_model
from tasks.registry import store
from tasks.registry.store import APPROVED_ON
from tests.cli import llmops as run_cli

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
NAME = "support-test"
GATE = {
    "min": {"rougeL": 0.3},
    "max": {"perplexity": 10.0, "pii_leak_rate": 0.0},
    "max_regression": {"rougeL": 0.02, "perplexity": 0.5},
    "min_gain_over_base": {},  # candidates here have no base-model evaluation
    "served": [],  # nor as-served rates: their metrics are written by the tests
    "max_disparity": {},  # nor fairness probes
}
HTTP_SETTINGS = ("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "MLFLOW_HTTP_REQUEST_TIMEOUT")
GOOD = {"rougeL": 0.40, "perplexity": 5.0, "pii_leak_rate": 0.0}


def write_params(root: Path, uri: str, **registry) -> None:
    params = {
        "mlflow": {"tracking_uri": uri, "experiment": "deploy", "http_retries": 1, "http_backoff_factor": 0},
        "gate": GATE,
        "registry": {"model_name": NAME, "lock_wait_s": 120, **registry},
    }
    (root / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture(autouse=True)
def deployer(monkeypatch: pytest.MonkeyPatch):
    """`llmops` runs in this process (tests.cli): the workspace's params.yaml picks the store, the actor is fixed,
    and what a command sets for itself (MLflow's URIs, its HTTP retry settings) is undone after each test."""
    monkeypatch.setenv("LLMOPS_ACTOR", "tester")
    for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI", *HTTP_SETTINGS):
        monkeypatch.setenv(key, "")  # recorded, so that teardown restores it (or its absence)
        monkeypatch.delenv(key)
    yield
    mlflow.set_tracking_uri(None)
    mlflow.set_registry_uri(None)


def llmops(root: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli(*args, cwd=root)


def candidate(
    uri: str, model_uri: str, metrics: dict[str, float], status: str | None = "complete", rows: dict | None = None
) -> str:
    """A run as the evaluate stage leaves it: eval.* metrics, optionally its per-row test values, its status."""
    client = MlflowClient(tracking_uri=uri)
    experiment = client.get_experiment_by_name("deploy")
    experiment_id = experiment.experiment_id if experiment else client.create_experiment("deploy")
    run = client.create_run(experiment_id, tags={"llmops.model_uri": model_uri})
    for key, value in metrics.items():
        client.log_metric(run.info.run_id, f"eval.{key}", value)
    if rows is not None:
        client.log_dict(run.info.run_id, {"model": rows, "base": {}}, "evaluation/rows.json")
    if status:
        client.set_tag(run.info.run_id, "llmops.eval.status", status)
    client.set_terminated(run.info.run_id)
    return run.info.run_id


def log_model(uri: str, model_dir: Path) -> str:
    mlflow.set_tracking_uri(uri)
    mlflow.set_experiment("deploy")
    with mlflow.start_run():
        return log_chat_model(model_dir)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory, logged_tiny_model: str) -> tuple[Path, str, str]:
    root = tmp_path_factory.mktemp("registry")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    write_params(root, uri)
    return root, uri, logged_tiny_model


def champion(uri: str) -> str | None:
    version = MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model(NAME).aliases.get("champion")
    return None if version is None else str(version)


def history(uri: str) -> list[str]:
    tags = MlflowClient(tracking_uri=uri, registry_uri=uri).get_registered_model(NAME).tags
    return [tags[k] for k in sorted(tags) if k.startswith("llmops.history.")]


def test_gated_deploy_rollback_and_status(sqlite_store: tuple[Path, str, str]) -> None:
    root, uri, model_uri = sqlite_store
    first = llmops(root, "deploy", "--run-id", candidate(uri, model_uri, GOOD))
    assert first.returncode == 0, first.stderr
    assert "promoted: @champion none -> v1" in first.stdout
    assert champion(uri) == "1"

    worse = candidate(uri, model_uri, {**GOOD, "rougeL": 0.35})  # passes the floor, regresses 0.05 vs v1
    dry = llmops(root, "deploy", "--run-id", worse, "--dry-run")
    assert dry.returncode == 3 and "nothing was changed" in dry.stdout
    rejected = llmops(root, "deploy", "--run-id", worse)
    assert rejected.returncode == 3
    assert "error: gate failed: rougeL = 0.35, needs >= 0.38 (no regression vs champion): FAILED" in rejected.stderr
    assert "Traceback" not in rejected.stderr
    assert champion(uri) == "1"
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    v2 = client.get_model_version(NAME, "2")
    assert v2.tags["llmops.gate.status"] == "failed"
    assert "FAILED" in v2.tags["llmops.gate.check.regression.rougeL"]
    assert "ok" in v2.tags["llmops.gate.check.min.rougeL"]

    better_run = candidate(uri, model_uri, {**GOOD, "rougeL": 0.5})
    better = llmops(root, "deploy", "--run-id", better_run)
    assert better.returncode == 0 and champion(uri) == "3"

    back = llmops(root, "rollback", "--reason", "complaints about v3")
    assert back.returncode == 0, back.stderr
    assert champion(uri) == "1"
    refused = llmops(root, "rollback", "--to", "2")
    assert refused.returncode == 1 and "did not pass the gate" in refused.stderr and champion(uri) == "1"
    assert llmops(root, "rollback", "--to", "2", "--force").returncode == 0 and champion(uri) == "2"

    events = history(uri)
    assert [yaml.safe_load(e)["action"] for e in events] == ["promote", "reject", "promote", "rollback", "rollback"]
    assert '"reason": "complaints about v3"' in events[3] and '"by": "tester"' in events[3]
    shown = llmops(root, "status")
    assert shown.returncode == 0
    assert f"{NAME} @champion: v2" in shown.stdout and "complaints about v3" in shown.stdout

    # A run is registered once: deploying v3's run again decides on v3 and promotes it over the forced v2.
    again = llmops(root, "deploy", "--run-id", better_run)
    assert again.returncode == 0 and "promoted: @champion v2 -> v3" in again.stdout, again.stdout + again.stderr
    assert champion(uri) == "3" and len(client.search_model_versions(f"name='{NAME}'")) == 3


def test_missing_evaluation_or_gate_error_leaves_the_champion(sqlite_store: tuple[Path, str, str]) -> None:
    root, uri, model_uri = sqlite_store
    before = champion(uri)
    partial = llmops(root, "deploy", "--run-id", candidate(uri, model_uri, GOOD, status="running"))
    assert partial.returncode == 3
    assert "is running; run `dvc repro evaluate` first" in partial.stdout + partial.stderr
    none = llmops(root, "deploy", "--run-id", candidate(uri, model_uri, {}, status=None))
    assert none.returncode == 3 and "is missing" in none.stdout + none.stderr
    assert champion(uri) == before

    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    client.set_model_version_tag(NAME, before, "llmops.gate.run_id", "0" * 32)  # the champion's run is gone
    broken = llmops(root, "deploy", "--run-id", candidate(uri, model_uri, {**GOOD, "rougeL": 0.9}))
    assert broken.returncode == 3 and "gate error" in broken.stderr
    assert champion(uri) == before
    newest = max(int(v.version) for v in client.search_model_versions(f"name='{NAME}'"))
    assert client.get_model_version(NAME, str(newest)).tags["llmops.gate.status"] == "error"


def evaluated_on(uri: str, run_id: str, metrics: dict[str, float], test_md5: str, index: str) -> None:
    """The evaluate stage run again on the same run (a help-centre edit moved the test rows' context)."""
    client = MlflowClient(tracking_uri=uri)
    later = int(time.time() * 1000) + 1000  # after the earlier values, so these are the run's latest
    for key, value in metrics.items():
        client.log_metric(run_id, f"eval.{key}", value, timestamp=later)
    client.set_tag(run_id, "llmops.eval.test_md5", test_md5)
    client.set_tag(run_id, "llmops.eval.index_version", index)


def test_a_champion_evaluated_again_is_decided_on_again_and_a_failed_recheck_keeps_it(
    tmp_path: Path, logged_tiny_model: str
) -> None:
    """The champion's own run, evaluated on other test rows, is not "nothing to do": the gate decides on it again
    against what it passed with; a failed recheck leaves @champion (no other model was judged on those rows),
    marks it failed, and keeps the index version the server follows."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    write_params(tmp_path, uri)
    run_id = candidate(uri, logged_tiny_model, GOOD)
    evaluated_on(uri, run_id, GOOD, "md5-a", "index-1")
    assert llmops(tmp_path, "deploy", "--run-id", run_id).returncode == 0 and champion(uri) == "1"
    assert "nothing to do" in llmops(tmp_path, "deploy", "--run-id", run_id).stdout
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert client.get_model_version(NAME, "1").tags[APPROVED_ON] == "md5-a|index-1"

    evaluated_on(uri, run_id, {**GOOD, "rougeL": 0.39}, "md5-b", "index-2")  # within 0.02 of what v1 passed with
    passed = llmops(tmp_path, "deploy", "--run-id", run_id)
    assert passed.returncode == 0 and "v1 evaluated again on index index-2: stays @champion" in passed.stdout
    assert client.get_model_version(NAME, "1").tags[APPROVED_ON] == "md5-b|index-2"
    assert store.approved_index(client, NAME, "1") == "index-2"

    evaluated_on(uri, run_id, {**GOOD, "rougeL": 0.31}, "md5-c", "index-3")  # 0.08 below what it passed with
    assert llmops(tmp_path, "deploy", "--run-id", run_id, "--dry-run").returncode == 3
    failed = llmops(tmp_path, "deploy", "--run-id", run_id)
    assert failed.returncode == 3 and "rougeL = 0.31, needs >= 0.37" in failed.stderr, failed.stdout + failed.stderr
    tags = client.get_model_version(NAME, "1").tags
    assert champion(uri) == "1" and tags["llmops.gate.status"] == "failed"
    assert tags[APPROVED_ON] == "md5-b|index-2" and store.approved_index(client, NAME, "1") == "index-2"
    assert [yaml.safe_load(e)["action"] for e in history(uri)] == ["promote", "recheck", "recheck-failed"]
    assert "index-3" in llmops(tmp_path, "deploy", "--run-id", run_id).stdout  # decided on again, not "nothing"


def per_row(perplexities: np.ndarray) -> dict:
    """Metrics and per-row values of a model with these per-row perplexities (10 target tokens a row)."""
    rows = {f"sup-{i}": {"nll": float(np.log(p) * 10), "targets": 10, "rougeL": 0.4}
            for i, p in enumerate(perplexities)}  # fmt: skip
    return {"metrics": {**GOOD, "perplexity": float(np.exp(np.log(perplexities).mean()))}, "rows": rows}


def test_perplexity_against_the_champion_is_a_paired_test(tmp_path: Path, logged_tiny_model: str) -> None:
    """0.6 worse than the champion on the mean (0.5 allowed) but better on a third of the rows: not a regression;
    worse on every row: one. Per-row values travel with each run (evaluation/rows.json)."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    write_params(tmp_path, uri)
    rng = np.random.default_rng(3)
    first_ppl = rng.lognormal(np.log(4.0), 0.3, 120)
    first = llmops(tmp_path, "deploy", "--run-id", candidate(uri, logged_tiny_model, **per_row(first_ppl)))
    assert first.returncode == 0 and champion(uri) == "1", first.stderr
    noisy_ppl = first_ppl * np.exp(rng.normal(0.14, 0.5, 120))
    noisy = per_row(noisy_ppl)
    assert noisy["metrics"]["perplexity"] - np.exp(np.log(first_ppl).mean()) > 0.5
    promoted = llmops(tmp_path, "deploy", "--run-id", candidate(uri, logged_tiny_model, **noisy))
    assert promoted.returncode == 0 and champion(uri) == "2", promoted.stdout + promoted.stderr
    tags = MlflowClient(tracking_uri=uri, registry_uri=uri).get_model_version(NAME, "2").tags
    assert "paired over 120 rows" in tags["llmops.gate.check.regression.perplexity"]
    worse = per_row(noisy_ppl * 1.15)  # every row 15 % worse than the new champion
    rejected = llmops(tmp_path, "deploy", "--run-id", candidate(uri, logged_tiny_model, **worse))
    assert rejected.returncode == 3 and champion(uri) == "2"
    assert "perplexity" in rejected.stderr and "paired over 120 rows" in rejected.stderr


def test_no_evaluation_file_is_a_clear_error(tmp_path: Path) -> None:
    write_params(tmp_path, f"sqlite:///{tmp_path / 'mlflow.db'}")
    result = llmops(tmp_path, "deploy")
    assert result.returncode == 1
    assert "data/reports/eval.json: not found; run `dvc repro evaluate` first" in result.stderr


def test_an_unreachable_server_fails_fast_and_clearly(tmp_path: Path) -> None:
    uri = f"http://127.0.0.1:{free_port()}"
    write_params(tmp_path, uri)
    started = time.perf_counter()
    result = llmops(tmp_path, "deploy", "--run-id", "0" * 32)
    assert result.returncode == 1
    assert f"MLflow at {uri} failed while reading the candidate run" in result.stderr
    assert "retried 1 times with backoff" in result.stderr and "Nothing was changed" in result.stderr
    assert "Traceback" not in result.stderr
    assert time.perf_counter() - started < 60


@contextmanager
def mlflow_server(root: Path, store: str, artifacts: str | None = None,
                  env: dict[str, str] | None = None) -> Iterator[str]:  # fmt: skip
    """`mlflow server` on a free loopback port with `store` as its backend store and proxied artifacts (a folder in
    `root` unless `artifacts` names a destination), its URI written to `root`'s params.yaml; stopped on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "mlflow"), "server", "--backend-store-uri", store,
         "--artifacts-destination", artifacts or str(root / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    uri = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(f"{uri}/health", proc, timeout=90)
    except (ChildProcessError, TimeoutError) as e:
        proc.kill()
        pytest.fail(f"mlflow server did not start: {e}")
    write_params(root, uri)
    try:
        yield uri
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path):
    """A real `mlflow server` (sqlite backend, proxied artifacts) on a free loopback port."""
    root = tmp_path_factory.mktemp("server")
    with mlflow_server(root, f"sqlite:///{root / 'mlflow.db'}") as uri:
        yield root, uri, log_model(uri, tiny_model_dir)


@pytest.fixture(scope="module")
def postgres_server(tmp_path_factory: pytest.TempPathFactory, postgres, tiny_model_dir: Path):
    """The same server with a PostgreSQL database as its backend store (runs, registry, aliases, tags)."""
    root = tmp_path_factory.mktemp("pg-server")
    with mlflow_server(root, postgres.create(f"mlflow_{root.name.lower()}"[:60])) as uri:
        yield root, uri, log_model(uri, tiny_model_dir)


@pytest.fixture(params=["sqlite", "postgres"])
def any_server(request: pytest.FixtureRequest):
    """What the registry's concurrency rests on, once per backend store."""
    return request.getfixturevalue("server" if request.param == "sqlite" else "postgres_server")


def test_concurrent_deploys_end_with_one_consistent_champion(any_server) -> None:
    root, uri, model_uri = any_server
    runs = [candidate(uri, model_uri, {**GOOD, "rougeL": score}) for score in (0.41, 0.42)]
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "MLFLOW_TRACKING_URI": uri}
    procs = [
        subprocess.Popen([str(BIN / "llmops"), "deploy", "--run-id", r, "--by", f"deployer-{i}"], cwd=root, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i, r in enumerate(runs)
    ]  # fmt: skip
    outputs = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    events = [yaml.safe_load(e) for e in history(uri)]
    assert len(events) == 2 and {e["action"] for e in events} == {"promote"}
    first, second = events
    assert first["previous"] is None and second["previous"] == first["version"]  # decided one after the other
    assert champion(uri) == second["version"]
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    assert not client.search_registered_models(f"name='{NAME}-deploy-lock'")


def test_champion_loads_in_a_fresh_process(server) -> None:
    root, uri, _ = server
    script = (
        "import mlflow, pandas as pd\n"
        f"model = mlflow.pyfunc.load_model('models:/{NAME}@champion')\n"
        "out = model.predict(pd.DataFrame({'messages': [[{'role': 'user', 'content': 'hi'}]]}),"
        " params={'max_new_tokens': 4})\n"
        "assert isinstance(out[0], str)\n"
        "print('ok', model.metadata.run_id is not None)\n"
    )
    env = {**os.environ, "MLFLOW_TRACKING_URI": uri}
    result = subprocess.run([sys.executable, "-c", script], cwd=root, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ok")


def test_a_crashed_holders_lock_is_broken_and_a_live_one_waited_for(any_server) -> None:
    root, uri, model_uri = any_server
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    held = {"llmops.lock.owner": "crashed", "llmops.lock.token": "x"}
    client.create_registered_model(f"{NAME}-deploy-lock", tags=held)
    write_params(root, uri, lock_wait_s=0)
    busy = llmops(root, "deploy", "--run-id", candidate(uri, model_uri, GOOD))
    assert busy.returncode == 1
    assert "another deploy or rollback (crashed) has held the lock" in busy.stderr
    write_params(root, uri, lock_wait_s=30, lock_stale_s=1)
    time.sleep(1.5)
    broke = llmops(root, "deploy", "--run-id", candidate(uri, model_uri, {**GOOD, "rougeL": 0.6}))
    assert broke.returncode == 0, broke.stderr
    assert not client.search_registered_models(f"name='{NAME}-deploy-lock'")
