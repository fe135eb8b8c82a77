"""Online scores of served answers, and their trend per model version in the request log."""

from __future__ import annotations

from pathlib import Path

import pytest

from tasks.monitoring.request_log import Entry, RequestLog
from tasks.monitoring.response_scores import MIN_HISTORY, Lengths, load_scorer, score, trend
from tests.serving import REPO

SCORER = load_scorer(REPO / "data" / "probes")


def test_each_flag_reads_the_evaluations_word_lists() -> None:
    refused = score(SCORER, "I'm sorry, but I can't help with that.", "stop", None)
    assert refused["refusal"] and not refused["toxic"] and refused["words"] == 8
    assert score(SCORER, "", "stop", None)["empty"]
    assert score(SCORER, "Restart the router", "length", None)["truncated"]
    answer = "Restart the router, wait two minutes, then check the DSL light."
    assert not any(v for k, v in score(SCORER, answer, "stop", 12.0).items() if k != "words")
    assert score(SCORER, " ".join(["word"] * 40), "stop", 12.0)["long"]  # over 3x the version's median


def test_overlong_needs_a_history_per_version() -> None:
    lengths = Lengths(keep=100)
    for _ in range(MIN_HISTORY - 1):
        lengths.add("3", 10)
    assert lengths.typical("3") is None
    lengths.add("3", 12)
    assert lengths.typical("3") == 10 and lengths.typical("4") is None


def test_the_window_trend_compares_versions(tmp_path: Path) -> None:
    log = RequestLog(f"sqlite:///{tmp_path / 'requests.db'}", retention_days=30)
    user = [{"role": "user", "content": "Can I keep my number?"}]
    replies = {"1": ["Yes, porting takes one working day."] * 8, "2": ["I'm sorry, I can't help with that."] * 2
               + ["Yes, porting takes one working day."] * 6}  # fmt: skip
    for version, texts in replies.items():
        for i, text in enumerate(texts):
            log.record(Entry(id=f"{version}-{i}", endpoint="chat", messages=user, status=200, model_version=version,
                             completion=text))  # fmt: skip
    log.record(Entry(id="refused", endpoint="chat", messages=user, status=400, model_version="2", completion=None))
    log.close()
    out = trend(f"sqlite:///{tmp_path / 'requests.db'}", 24, SCORER)
    assert set(out) == {"1", "2"} and out["2"]["answers"] == 8
    assert out["1"]["refusal_rate"] == 0 and out["2"]["refusal_rate"] == pytest.approx(0.25)
    assert out["1"]["words_mean"] == 6


def test_a_fact_the_retrieved_context_does_not_state_is_ungrounded() -> None:
    given = "Roaming in Japan > Prices: a day pass costs 9.99 EUR. How much is roaming in Japan?"
    quoted = score(SCORER, "A day pass in Japan costs 9.99 EUR.", "stop", None, given)
    invented = score(SCORER, "A day pass in Japan costs 4.99 EUR and lasts 7 days.", "stop", None, given)
    assert (quoted["ungrounded"], quoted["faithfulness"]) == (False, 1.0)
    assert (invented["ungrounded"], invented["faithfulness"]) == (True, 0.0)
    assert score(SCORER, "Please restart the router.", "stop", None, given)["faithfulness"] is None  # no fact stated
    assert not score(SCORER, "It costs 4.99 EUR.", "stop", None)["ungrounded"]  # no retrieval: nothing to check
