"""The evaluator LLM: scored through mlflow.genai.evaluate, trusted only as far as it agrees with people.

The judges here are OpenAI-compatible endpoints on loopback that answer by a rule, as a hosted judge would answer
by its own lights: one agrees with the labels, one says the opposite. The MLflow store is a real sqlite file.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import pytest
import uvicorn
from fastapi import FastAPI, Request

from tasks.config.schema import JudgeParams
from tasks.core.errors import ConfigError, DataFormatError, ModelSourceError
from tasks.core.processes import free_port
from tasks.evaluation import judge, report
from tasks.evaluation.gate import decide
from tasks.evaluation.judge_cache import JudgeCache
from tests.unit.evaluation.gates import only

REPO = Path(__file__).resolve().parents[3]


def endpoint(rule: Callable[[str], str]) -> Iterator[str]:
    """/v1/chat/completions answering `rule(user message)`; yields the /v1 URL."""
    app = FastAPI()
    calls: list[dict] = []

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> dict:
        body = await request.json()
        calls.append(body)
        text = rule(body["messages"][-1]["content"])
        return {"id": "x", "object": "chat.completion", "created": 0, "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}  # fmt: skip

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    app.state.calls = calls
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)


def agrees(prompt: str) -> str:
    return "Yes, it does." if "RIGHT" in prompt else "No."


def contradicts(prompt: str) -> str:
    return "No." if "RIGHT" in prompt else "Yes."


@pytest.fixture(autouse=True)
def judge_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own: the loopback judges here differ by rule, not by name, and ports are reused."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "llmops" / "judge" / "replies.db"


@pytest.fixture
def run_id(tmp_path: Path) -> Iterator[str]:
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("judge")
    with mlflow.start_run() as run:
        pass
    yield run.info.run_id
    mlflow.set_tracking_uri(None)


def labelled(n: int = 24) -> list[judge.Item]:
    """Half right (relevant and correct), a quarter on topic but wrong, a quarter off topic."""
    items = []
    for i in range(n):
        kind = ("right", "right", "wrong", "off")[i % 4]
        answer = {"right": "RIGHT: open the app", "wrong": "wrong steps", "off": "about something else"}[kind]
        human = {"relevance": "no" if kind == "off" else "yes", "correctness": "yes" if kind == "right" else "no"}
        items.append(judge.Item(f"hl-{i}", f"How do I do thing {i}?", answer, "open the app", None, human))
    return items


def examples(right: int, wrong: int) -> list[dict]:
    return [{"kind": "test", "id": f"t{i}", "prompt": f"question {i}", "reference": "open the app",
             "reply": "RIGHT: open the app" if i < right else "no idea"} for i in range(right + wrong)]  # fmt: skip


def test_verdicts_are_read_from_the_first_yes_or_no() -> None:
    assert judge.verdict("Yes, the answer addresses it.") == "yes"
    assert judge.verdict("The reply is wrong. No.") == "no"
    assert judge.verdict("Nobody knows; yesterday's answer") is None  # whole words only
    assert judge.verdict("") is None


def test_a_judge_that_agrees_with_people_is_calibrated_and_gates(run_id: str) -> None:
    for url in endpoint(agrees):
        cfg = JudgeParams(base_url=url, min_labels=10, concurrency=2, min_kappa=0.6)
        metrics = judge.evaluate_with_judge(cfg, judge.endpoint(cfg, None), examples(6, 4), labelled(), run_id)
    # it calls on-topic wrong answers irrelevant: half agreement beyond chance on relevance, full on correctness
    assert metrics["judge_relevance_kappa"] == pytest.approx(0.5) and metrics["judge_correctness_kappa"] == 1.0
    assert metrics["judge_correctness_calibrated"] == 1 and metrics["judge_relevance_calibrated"] == 0
    assert metrics["judge_correctness_rate"] == 0.6 and metrics["judge_correctness_rate_n"] == 10
    assert metrics["judge_correctness_labels"] == 24 and metrics["judge_correctness_accuracy"] == 1.0
    decision = decide(metrics, None, only(min={"judge_correctness_rate": 0.7}))
    assert not decision.passed and "judge_correctness_rate = 0.6 [" in decision.reason  # read as its lower bound
    client = mlflow.MlflowClient()
    [child] = client.search_runs([client.get_run(run_id).info.experiment_id],
                                 f"tags.mlflow.parentRunId = '{run_id}'")  # fmt: skip
    assert child.info.run_name == "judge-calibration" and child.data.metrics["correctness_kappa"] == 1.0
    page = report.html(run_id, {"rows": 10, "probes": 0, "test_md5": "x", **metrics}, [], None, None, {})
    assert "Evaluator LLM" in page and page.count("no: cannot gate") == 1  # relevance, under min_kappa 0.6
    # Under load a few more traces can land in the run (two CI runs found 12 and 13): the judged ones are these ten.
    traces = mlflow.search_traces(run_id=run_id, return_type="list")
    judged = [t for t in traces if {a.name for a in t.info.assessments} >= {"relevance", "correctness"}]
    assert len(judged) == 10


def test_a_judge_that_disagrees_with_people_is_reported_and_cannot_gate(run_id: str) -> None:
    for url in endpoint(contradicts):
        cfg = JudgeParams(base_url=url, min_labels=10, concurrency=2)
        metrics = judge.evaluate_with_judge(cfg, judge.endpoint(cfg, None), examples(6, 4), labelled(), run_id)
    assert metrics["judge_correctness_kappa"] == -1.0 and metrics["judge_correctness_calibrated"] == 0
    assert metrics["judge_correctness_rate"] == 0.4  # reported all the same
    decision = decide(metrics, None, only(min={"judge_correctness_rate": 0.7}))
    assert decision.passed
    [check] = decision.checks
    assert check.note == "not gating: judge uncalibrated (kappa -1.00 on 24 human labels, needs 0.4)"
    missing = decide({}, None, only(min={"judge_correctness_rate": 0.7}))
    assert not missing.passed  # a judge that left no rate is not a judge that abstains...
    off = decide({"judge_enabled": 0}, None, only(min={"judge_correctness_rate": 0.7}))
    assert off.passed and "no judge ran" in off.checks[0].note  # ...unless the evaluation says none was asked for


def test_mlflows_make_judge_style_needs_json_and_reads_it(run_id: str) -> None:
    def json_judge(prompt: str) -> str:
        return json.dumps({"result": "yes" if "RIGHT" in prompt else "no", "rationale": "compared"})

    for url in endpoint(json_judge):
        cfg = JudgeParams(base_url=url, style="make_judge", min_labels=10, concurrency=2, max_tokens=64)
        metrics = judge.evaluate_with_judge(cfg, judge.endpoint(cfg, None), examples(3, 1), labelled(12), run_id)
    assert metrics["judge_correctness_rate"] == 0.75 and metrics["judge_correctness_kappa"] == 1.0
    assert metrics["judge_correctness_unparsed"] == 0


def test_a_judge_that_never_says_yes_or_no_is_uncalibrated(run_id: str) -> None:
    for url in endpoint(lambda prompt: "The evaluation rating is 1.5"):
        cfg = JudgeParams(base_url=url, min_labels=10, concurrency=2)
        metrics = judge.evaluate_with_judge(cfg, judge.endpoint(cfg, None), examples(2, 2), labelled(12), run_id)
    assert metrics["judge_correctness_unparsed"] == 1.0 and metrics["judge_correctness_rate_n"] == 0
    assert metrics["judge_correctness_calibrated"] == 0 and metrics["judge_correctness_accuracy"] == 0


def test_the_shipped_labels_and_feedback_labels_are_read(tmp_path: Path) -> None:
    cfg = JudgeParams(labels=str(REPO / "data/judge/labels.jsonl"), max_labels=45)
    snapshot = tmp_path / "snapshot"
    snapshot.mkdir()
    (snapshot / "judge_labels.jsonl").write_text("\n".join(json.dumps(
        {"id": f"fb-{i}", "question": "q", "answer": "a", "correctness": "no"}) for i in range(10)))  # fmt: skip
    items = judge.labelled_items(cfg, snapshot)
    hand = [it for it in items if it.id.startswith("hl-")]
    assert len(hand) >= 40 and len(items) == 45 and items[: len(hand)] == hand  # people's own set first
    assert {it.human["correctness"] for it in hand} == {"yes", "no"} and all(it.reference for it in hand)
    (snapshot / "judge_labels.jsonl").write_text(json.dumps({"question": "q", "answer": "a"}))
    with pytest.raises(DataFormatError, match=r"judge_labels.jsonl:1: a label needs"):
        judge.labelled_items(cfg, snapshot)


def test_a_judge_that_is_down_fails_the_evaluation_rather_than_abstaining(run_id: str) -> None:
    closed = f"http://127.0.0.1:{free_port()}/v1"
    cfg = JudgeParams(base_url=closed, timeout_s=5)
    with pytest.raises(ModelSourceError, match=r"the judge at http://127\.0\.0\.1:\d+/v1 \(model judge\) did not"):
        judge.evaluate_with_judge(cfg, judge.endpoint(cfg, None), examples(2, 2), labelled(12), run_id)
    with pytest.raises(ConfigError, match=r"evaluate\.judge: no endpoint"):
        judge.endpoint(JudgeParams(), None)


def test_groundedness_is_judged_only_where_there_is_context(run_id: str) -> None:
    items = [judge.Item("a", "Price of roaming?", "RIGHT: 2 EUR a day", "2 EUR a day", "Roaming costs 2 EUR a day."),
             judge.Item("b", "Price of roaming?", "5 EUR a day", "2 EUR a day")]  # fmt: skip
    for url in endpoint(agrees):
        cfg = JudgeParams(base_url=url, concurrency=2)
        with mlflow.start_run(run_id=run_id):
            verdicts = judge.judge(cfg, judge.endpoint(cfg, None), items)
    assert verdicts["groundedness"] == {"a": "yes"} and verdicts["relevance"] == {"a": "yes", "b": "no"}


def test_a_judge_is_asked_a_prompt_once_and_its_cached_replies_decide_alike(run_id: str, judge_cache: Path) -> None:
    asked: list[str] = []

    def counting(prompt: str) -> str:
        asked.append(prompt)
        return agrees(prompt)

    for url in endpoint(counting):
        cfg = JudgeParams(base_url=url, min_labels=10, concurrency=4)
        first = judge.evaluate_with_judge(cfg, judge.endpoint(cfg, None), examples(3, 2), labelled(12), run_id)
        assert len(asked) == 1 + 12 * 2 + 5 * 2 and first["judge_cached"] == 0  # the reachability call, then all
        # the same labels, and answers of which one changed (t3, now right) and one is new (t5)
        again = judge.evaluate_with_judge(cfg, judge.endpoint(cfg, None), examples(4, 2), labelled(12), run_id)
        assert len(asked) == 35 + 1 + 2 * 2
        assert again["judge_cached"] == 12 * 2 + 4 * 2 and again["judge_replies"] == 12 * 2 + 6 * 2
        for key in ("kappa", "accuracy", "calibrated"):
            assert again[f"judge_correctness_{key}"] == first[f"judge_correctness_{key}"]
        assert again["judge_correctness_rate"] == 4 / 6
    assert judge_cache.is_file()


def test_the_own_server_is_cached_under_the_weights_it_serves_unless_caching_is_off() -> None:
    own = judge.Endpoint("http://127.0.0.1:1234/v1", "judge", identity="local 0123abcd transformers fp32")
    assert judge.endpoint(JudgeParams(), own) == own
    assert judge.endpoint(JudgeParams(cache=False), own).identity is None
    hosted = judge.endpoint(JudgeParams(base_url="https://api.example.com/v1/", model="gpt-x-2026"), own)
    assert hosted.url == "https://api.example.com/v1" and hosted.identity == "https://api.example.com/v1 gpt-x-2026"


def test_replies_are_kept_per_judge_and_budget_and_a_broken_cache_is_only_a_miss(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kept = JudgeCache("local abc transformers fp32", tmp_path / "replies.db")
    kept.put("Is it relevant?", 16, "Yes.")
    assert kept.get("Is it relevant?", 16) == "Yes." and kept.get("Is it relevant?", 8) is None
    assert JudgeCache("local def transformers fp32", tmp_path / "replies.db").get("Is it relevant?", 16) is None
    assert (kept.hits, kept.misses) == (1, 1)
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not a database " * 100)
    cache = JudgeCache("local abc transformers fp32", broken)
    cache.put("Is it relevant?", 16, "Yes.")
    assert cache.get("Is it relevant?", 16) is None and not cache.usable
    assert caplog.text.count("asking the judge every time") == 1
