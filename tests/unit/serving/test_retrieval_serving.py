"""Retrieval in the gateway: the help centre's chunks go into the prompt, and the response, the request log,
the trace and /metrics say which."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from serving.app import create_app
from tasks.config.schema import IndexParams
from tasks.monitoring.request_log import rows
from tests.serving import NAME, load_tiny, make_service


@pytest.fixture
def client(tmp_path: Path, guard_classifier: Path, tiny_model_dir: Path, kb_index: Path):
    index = IndexParams(uri=str(kb_index / "index"))
    service = make_service(tmp_path, load_tiny(tiny_model_dir), guard_classifier, index=index, max_new_tokens=8,
                           default_max_tokens=4, retrieval={"top_k": 2, "min_score": 0.3})  # fmt: skip
    with TestClient(create_app(service)) as c:
        c.service = service
        yield c


def ask(client: TestClient, content: str, **extra) -> dict:
    body = {"model": NAME, "messages": [{"role": "user", "content": content}], "max_tokens": 4, **extra}
    return client.post("/v1/chat/completions", json=body)


def test_a_chat_answer_carries_its_sources_in_body_headers_log_and_metrics(client: TestClient) -> None:
    r = ask(client, "How much does roaming cost in Japan? Mail me at jo@example.com")
    assert r.status_code == 200, r.text
    sources = r.json()["sources"]
    assert sources[0]["id"] == "roaming-japan#prices" and sources[0]["title"] == "Roaming in Japan"
    assert len(sources) <= 2 and all(s["score"] >= 0.3 for s in sources)
    assert r.headers["x-sources"].startswith("roaming-japan#prices;score=")
    version = client.service.retriever.version
    assert r.headers["x-index-version"] == version and "retrieval;dur=" in r.headers["server-timing"]
    client.service.log.flush()
    [row] = rows(client.service.log.engine)
    assert row["sources"] == sources and row["index_version"] == version
    assert "jo@example.com" not in json.dumps(row["messages"])
    metrics = client.get("/metrics").text
    assert "llmops_retrieval_seconds_count 1.0" in metrics and "llmops_retrieved_chunks_sum 2.0" in metrics


def test_the_prompt_carries_the_retrieved_sections(client: TestClient) -> None:
    """The context costs prompt tokens; a question the help centre does not cover gets the instruction only."""
    covered = ask(client, "How much does roaming cost in Japan?").json()
    uncovered = ask(client, "Write me a poem about the sea.").json()
    assert uncovered["sources"] == []
    assert covered["usage"]["prompt_tokens"] > uncovered["usage"]["prompt_tokens"] + 30
