"""An S3 object store on loopback (moto's server mode) in the two places docs/operations.md moves to one: the DVC
remote a fresh clone pulls the pipeline's outputs from, and the artifact store behind an `mlflow server`, through
which a model is logged, promoted by `llmops deploy` and loaded in a fresh process. AWS S3 or MinIO take the same
settings with their own endpoint and credentials."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from tasks.core.processes import free_port, wait_until_ready
from tests.cli import llmops
from tests.integration.test_deploy import GOOD, NAME, candidate, log_model, mlflow_server
from tests.workspace import copy_workspace, sh

pytestmark = pytest.mark.integration

BIN = Path(sys.executable).parent
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}


def _serve(args: list[str], health: str, log: Path, env: dict[str, str]) -> subprocess.Popen:
    with log.open("wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_until_ready(health, proc, timeout=90)
    except (ChildProcessError, TimeoutError) as err:
        proc.kill()
        pytest.fail(f"{args[0]} did not start: {err}\n{log.read_text(errors='replace')[-3000:]}")
    return proc


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """moto's S3 server with the buckets of a shared setup; the credentials in the environment, as for AWS."""
    saved = {key: os.environ.get(key) for key in CREDENTIALS}
    os.environ.update(CREDENTIALS)
    port, root = free_port(), tmp_path_factory.mktemp("s3")
    url = f"http://127.0.0.1:{port}"
    proc = _serve([str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)], f"{url}/moto-api/",
                  root / "moto.log", dict(os.environ))  # fmt: skip
    for bucket in ("llmops-dvc", "llmops-mlflow"):
        boto3.client("s3", endpoint_url=url).create_bucket(Bucket=bucket)
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def objects(url: str, bucket: str) -> list[str]:
    pages = boto3.client("s3", endpoint_url=url).get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]


def test_a_fresh_clone_pulls_every_stage_output_from_the_s3_remote(s3: str, smoke_pipeline: Path,
                                                                   tmp_path: Path) -> None:  # fmt: skip
    ws = copy_workspace(smoke_pipeline, tmp_path / "ws")
    sh("dvc", "remote", "add", "-d", "shared", "s3://llmops-dvc/llmops", cwd=ws)
    sh("dvc", "remote", "modify", "shared", "endpointurl", s3, cwd=ws)  # credentials stay in the environment
    sh("git", "add", "-A", cwd=ws)
    sh("git", "commit", "-qm", "pipeline outputs on the shared remote", cwd=ws)
    sh("dvc", "push", cwd=ws)
    pushed = objects(s3, "llmops-dvc")
    assert pushed and all(key.startswith("llmops/files/md5/") for key in pushed)

    clone = tmp_path / "clone"
    sh("git", "clone", "-q", str(ws), str(clone), cwd=tmp_path)
    assert not (clone / "data/split/train.jsonl").exists()
    sh("dvc", "pull", cwd=clone)
    for output in ("data/split/train.jsonl", "data/grounded/test.jsonl", "models/adapter/adapter_model.safetensors"):
        assert (clone / output).read_bytes() == (ws / output).read_bytes(), output
    assert "Data and pipelines are up to date" in sh("dvc", "status", cwd=clone)  # nothing would rerun


def test_models_logged_through_the_mlflow_server_live_in_s3_and_serve_from_there(
    s3: str, tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with mlflow_server(tmp_path, f"sqlite:///{tmp_path / 'mlflow.db'}", "s3://llmops-mlflow/artifacts",
                       {**os.environ, "MLFLOW_S3_ENDPOINT_URL": s3}) as uri:  # fmt: skip
        monkeypatch.setenv("LLMOPS_ACTOR", "tester")
        for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI"):
            monkeypatch.setenv(key, "")  # undone after the test: llmops sets them for itself
        model_uri = log_model(uri, tiny_model_dir)  # the client sends artifacts to the server, never to S3
        stored = objects(s3, "llmops-mlflow")
        assert any(key.endswith("model.safetensors") for key in stored), stored[:20]

        deployed = llmops("deploy", "--run-id", candidate(uri, model_uri, GOOD), cwd=tmp_path)
        assert deployed.returncode == 0, deployed.stderr
        script = (
            "import mlflow, pandas as pd\n"
            f"model = mlflow.pyfunc.load_model('models:/{NAME}@champion')\n"
            "out = model.predict(pd.DataFrame({'messages': [[{'role': 'user', 'content': 'hi'}]]}),"
            " params={'max_new_tokens': 4})\n"
            "print('ok', isinstance(out[0], str))\n"
        )
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}  # no S3 access here
        loaded = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                                env={**env, "MLFLOW_TRACKING_URI": uri}, timeout=300)  # fmt: skip
        assert loaded.returncode == 0, loaded.stderr[-3000:]
        assert loaded.stdout.startswith("ok True")
