"""Retrieval and the semantic answer cache in the gateway: the help centre's chunks go into the prompt, and the
response, the request log, the trace and /metrics say which; an earlier answer serves a question that means the
same, and says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient

from serving.app import create_app
from tasks.config.schema import IndexParams
from tasks.knowledge.context import shipped
from tasks.monitoring.request_log import rows
from tasks.tracking.prompts import PromptRef
from tests.serving import NAME, load_tiny, make_service


@pytest.fixture
def client(tmp_path: Path, guard_classifier: Path, tiny_model_dir: Path, kb_index: Path):
    index = IndexParams(uri=str(kb_index / "index"))
    service = make_service(tmp_path, load_tiny(tiny_model_dir), guard_classifier, index=index, max_new_tokens=8,
                           default_max_tokens=4, retrieval={"top_k": 2, "min_score": 0.3},
                           cache={"enabled": True})  # fmt: skip
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


def test_a_new_prompt_version_renders_from_the_next_poll_without_a_restart(client: TestClient) -> None:
    """What the context prompt's alias names is what the next request renders with: its version in the header,
    the log and /metrics; a registry that cannot answer keeps the version serving."""
    service = client.service
    question = "How much does roaming cost in Japan?"
    assert ask(client, question).headers["x-prompt-version"] == shipped().version  # no registry: the shipped text
    named = {"ref": PromptRef("support-context", "4", "Sections:\n{{sections}}")}

    def registry() -> PromptRef:
        if named["ref"] is None:
            raise ConnectionError("registry down")
        return named["ref"]

    service.prompt_source = registry
    before = ask(client, question).json()["usage"]["prompt_tokens"]
    service.every_poll()
    after = ask(client, question)
    assert after.headers["x-prompt-version"] == "4"
    assert after.json()["usage"]["prompt_tokens"] < before - 20  # the shipped instruction is gone from the prompt
    named["ref"] = None
    service.every_poll()
    assert ask(client, question).headers["x-prompt-version"] == "4"
    service.log.flush()
    assert [r["prompt_version"] for r in rows(service.log.engine)][-2:] == ["4", "4"]
    assert 'llmops_prompt_version{version="4"} 1.0' in client.get("/metrics").text


class OneWord(torch.nn.Module):
    """An output layer that always picks one token: the tiny model then says " Sure Sure ...", which a stop
    sequence finishes ("stop", not "length"), the only kind of answer the cache keeps."""

    def __init__(self, vocab: int, token: int) -> None:
        super().__init__()
        self.vocab, self.token = vocab, token

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        logits = torch.zeros(*hidden.shape[:-1], self.vocab, dtype=hidden.dtype)
        logits[..., self.token] = 1.0
        return logits


def saying_sure(tiny_model_dir: Path, version: str):
    loaded = load_tiny(tiny_model_dir, version=version)
    [token] = loaded.tokenizer.encode(" Sure", add_special_tokens=False)
    loaded.model.lm_head = OneWord(loaded.model.config.vocab_size, token)
    return loaded


def test_a_question_that_means_the_same_is_answered_from_the_cache(client: TestClient, tiny_model_dir: Path) -> None:
    client.service.engine.swap(saying_sure(tiny_model_dir, "2"))
    stop = {"stop": ["e S"], "max_tokens": 8}
    first = ask(client, "How do I change my Wi-Fi password?", **stop)
    assert first.headers["x-cache"] == "miss" and first.json()["choices"][0]["finish_reason"] == "stop"
    again = ask(client, "How can I change my Wi-Fi password?", **stop)
    assert again.headers["x-cache"] == "hit" and again.json()["cache"]["request_id"] == first.json()["id"]
    assert again.json()["choices"][0]["message"]["content"] == first.json()["choices"][0]["message"]["content"]
    assert again.json()["sources"] == first.json()["sources"]
    assert ask(client, "How can I change my Wi-Fi password?", max_tokens=8).headers["x-cache"] == "miss"  # no stop
    personal = ask(client, "How do I change my Wi-Fi password? I'm jo@example.com", **stop)
    assert "x-cache" not in personal.headers  # personal data: not cacheable
    client.service.engine.swap(saying_sure(tiny_model_dir, "3"))
    assert ask(client, "How can I change my Wi-Fi password?", **stop).headers["x-cache"] == "miss"
    metrics = client.get("/metrics").text
    assert 'llmops_answer_cache_total{outcome="hit"} 1.0' in metrics
    assert 'llmops_answer_cache_total{outcome="skip"} 1.0' in metrics


def test_a_server_that_retrieves_or_caches_opens_the_encoder_as_it_starts(
    tmp_path: Path, guard_classifier: Path, kb_index: Path
) -> None:
    """The float graph that embeds a question was opened by the first request that retrieved or looked up the
    cache; a server that will need it opens it as it starts, and one that will not leaves it closed."""
    from tasks.models import embeddings

    opened = {}
    for name, serving in {"neither": {}, "retrieval": {"retrieval": {"top_k": 2}},
                          "cache": {"cache": {"enabled": True}}}.items():  # fmt: skip
        embeddings._shipped.cache_clear()
        (tmp_path / name).mkdir()
        service = make_service(tmp_path / name, None, guard_classifier, IndexParams(uri=str(kb_index / "index")),
                               **serving)  # fmt: skip
        service.log.close()  # never started: nothing else to stop
        opened[name] = embeddings._shipped.cache_info().currsize
    assert opened == {"neither": 1, "retrieval": 2, "cache": 2}  # the guard's int8 graph, and the float one
