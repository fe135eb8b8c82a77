"""Shared fixtures: a tiny model built once per session, never downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pytest

from tasks.base_model import materialize
from tasks.config import PrepareParams

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


@pytest.fixture(scope="module", autouse=True)
def isolated_tracking_uri():
    """`mlflow.set_tracking_uri` also sets MLFLOW_TRACKING_URI in os.environ; keep one module's store (say, a
    test server that is gone by then) out of the next module's subprocesses."""
    before = os.environ.get("MLFLOW_TRACKING_URI")
    yield
    if before is None:
        os.environ.pop("MLFLOW_TRACKING_URI", None)
    else:
        os.environ["MLFLOW_TRACKING_URI"] = before


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
