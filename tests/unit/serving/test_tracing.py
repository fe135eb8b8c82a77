"""Requests as MLflow traces (serving/tracing.py), written to a real sqlite tracking store."""

from __future__ import annotations

import time
from pathlib import Path

import mlflow
import pytest

from serving.tracing import Feedback, Record, Step, Tracer, sampled
from tasks.config.schema import TracingParams


def test_sampling_is_decided_by_request_id() -> None:
    ids = [f"chatcmpl-{i:032x}" for i in range(20_000)]
    share = sum(sampled(i, 0.1) for i in ids) / len(ids)
    assert share == pytest.approx(0.1, abs=0.01)
    assert [sampled(i, 0.1) for i in ids[:500]] == [sampled(i, 0.1) for i in ids[:500]]
    assert not any(sampled(i, 0.0) for i in ids[:500]) and all(sampled(i, 1.0) for i in ids[:500])


def record(request_id: str, conversation: str, days_ago: float = 0) -> Record:
    t0 = time.perf_counter()
    steps = [Step("input_guard", "GUARDRAIL", t0, t0 + 0.002, {"pii": "pass"}),
             Step("generate", "LLM", t0 + 0.003, t0 + 0.090, {"completion_tokens": 7})]  # fmt: skip
    return Record(request_id, "chat.completions", time.time_ns() - int(days_ago * 86400e9), t0, t0 + 0.1, 200,
                  [{"role": "user", "content": "Is roaming included? Mail me at anna.kovacs@example.org"}],
                  "Yes, in every EU plan.",
                  conversation, "key-1", {"model_version": "3", "endpoint": "chat", "status": "200"},
                  {"model_version": "3", "prompt_tokens": 12}, steps)  # fmt: skip


def test_a_record_becomes_a_trace_and_a_rating_its_assessment(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    outcomes: list[str] = []
    tracer = Tracer(TracingParams(experiment="traces"), outcomes.append)
    tracer.start()
    try:
        tracer.submit(record("chatcmpl-abc", "conv-9"))
        tracer.feedback(Feedback("chatcmpl-abc", "key-2", -1, "Roaming costs 2 EUR a day in Spain.", "wrong"))
        tracer.feedback(Feedback("chatcmpl-unknown", "key-2", 1, None, None))
        tracer.submit(record("chatcmpl-old", "conv-0", days_ago=31))
        tracer.purge(retention_days=30)  # the request log's retention applies to traces too
        tracer.close()
        experiment = mlflow.get_experiment_by_name("traces").experiment_id
        session = "metadata.`mlflow.trace.session` = 'conv-9'"
        [trace] = mlflow.search_traces(locations=[experiment], filter_string=session, return_type="list")
        assert trace.info.client_request_id == "chatcmpl-abc" and trace.info.state.value == "OK"
        assert trace.info.trace_metadata["mlflow.trace.user"] == "key-1"
        assert trace.info.trace_metadata["model_version"] == "3"
        spans = {s.name: s for s in trace.data.spans}
        assert "anna.kovacs" not in str(spans["chat.completions"].inputs) and "<EMAIL>" in trace.info.request_preview
        assert set(spans) == {"chat.completions", "input_guard", "generate"}
        assert round((spans["generate"].end_time_ns - spans["generate"].start_time_ns) / 1e6) == 87
        assert spans["chat.completions"].attributes["prompt_tokens"] == 12
        rated = {a.name: a for a in trace.info.assessments}
        assert rated["rating"].value == -1 and rated["rating"].source.source_type == "HUMAN"
        assert rated["rating"].source.source_id == "key-2" and rated["rating"].rationale == "wrong"
        assert rated["correction"].value == "Roaming costs 2 EUR a day in Spain."
        low = mlflow.search_traces(locations=[experiment], filter_string="feedback.rating < 0",
                                   return_type="list")  # fmt: skip
        assert [t.info.client_request_id for t in low] == ["chatcmpl-abc"]
        assert outcomes == ["trace_logged", "feedback_logged", "feedback_failed", "trace_logged"]
        everything = mlflow.search_traces(locations=[experiment], return_type="list", include_spans=False)
        assert [t.info.client_request_id for t in everything] == ["chatcmpl-abc"]
    finally:
        mlflow.set_tracking_uri(None)


def test_a_full_queue_drops_and_counts_instead_of_blocking_the_request() -> None:
    outcomes: list[str] = []
    tracer = Tracer(TracingParams(queue=1), outcomes.append)  # not started: nothing drains the queue
    started = time.perf_counter()
    for i in range(3):
        tracer.submit(record(f"chatcmpl-{i}", "c"))
    assert outcomes == ["dropped", "dropped"] and time.perf_counter() - started < 0.5
