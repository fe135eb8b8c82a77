"""Shared fixtures: a tiny model built once per session, never downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import mlflow
import orjson
import pytest

from tasks.config.schema import PrepareParams
from tasks.models.base_model import materialize

REPO = Path(__file__).resolve().parents[1]

# Prefect servers started by the tests (the harness, `prefect server`) send no telemetry: its writes race the
# flow runs' own on sqlite ("database is locked" noise in the logs).
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2-layer, 64-wide Llama with the real SmolLM2 tokenizer and chat template."""
    out = tmp_path_factory.mktemp("models") / "tiny"
    materialize("tiny", out)
    return out


@pytest.fixture(scope="session")
def logged_tiny_model(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path) -> str:
    """The tiny chat model logged once per session (MLflow loads and generates with it while logging it).

    Returns the logged model's artifact folder: any sqlite registry of a test registers a version from it
    (`mlflow.register_model(path, name)`), so modules share one logging instead of repeating it.
    """
    from tasks.models.logged_model import log_chat_model

    root = tmp_path_factory.mktemp("logged-model")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    client = mlflow.MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("tiny", artifact_location=str(root / "artifacts"))
    mlflow.set_tracking_uri(uri)
    try:
        with mlflow.start_run(experiment_id=experiment):
            model_id = log_chat_model(tiny_model_dir).rsplit("/", 1)[-1]
        return mlflow.get_logged_model(model_id).artifact_location
    finally:
        mlflow.set_tracking_uri(None)


@pytest.fixture(scope="session")
def smoke_pipeline(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`dvc repro` of the smoke profile, once per session, in a committed git + DVC workspace.

    Modules copy it (`tests.workspace.copy_workspace`) and change only their copy.
    """
    from tests.workspace import make_workspace, sh

    ws = make_workspace(tmp_path_factory.mktemp("smoke") / "ws")
    sh("git", "add", "-A", cwd=ws)
    sh("git", "commit", "-qm", "workspace", cwd=ws)
    sh("dvc", "repro", cwd=ws)
    return ws


@pytest.fixture(scope="module", autouse=True)
def isolated_tracking_uri():
    """`mlflow.set_tracking_uri` and `set_registry_uri` also set MLFLOW_*_URI in os.environ and a module global;
    keep one module's store (say, a test server that is gone by then) out of the next module and its subprocesses."""
    before = {key: os.environ.get(key) for key in ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")}
    yield
    mlflow.set_registry_uri(None)
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def prepare_params() -> PrepareParams:
    return PrepareParams(min_tokens=4, max_tokens=512, workers=1)


def write_lines(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def chat(user: str, assistant: str, **extra) -> bytes:
    return orjson.dumps(
        {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}], **extra}
    )
