"""The promotion gate as a pure function: thresholds, regression against the champion, partial evaluations."""

import math

import pytest

from tasks.config.schema import parse_params
from tasks.core.errors import ConfigError
from tasks.evaluation.gate import decide
from tasks.registry.deploy import Candidate, gate_decision
from tests.unit.evaluation.gates import only

GATE = only(
    min={"rougeL": 0.3},
    max={"perplexity": 8.0, "pii_leak_rate": 0.0},
    max_regression={"rougeL": 0.02, "perplexity": 0.25},
)
GOOD = {"rougeL": 0.40, "perplexity": 5.0, "pii_leak_rate": 0.0}


def test_thresholds_alone_decide_without_a_champion() -> None:
    decision = decide(GOOD, None, GATE)
    assert decision.passed
    assert [c.kind for c in decision.checks] == ["min", "max", "max"]
    assert "no champion" in decision.reason


def test_each_failed_threshold_is_named_with_its_value() -> None:
    decision = decide({**GOOD, "rougeL": 0.2, "pii_leak_rate": 0.05}, None, GATE)
    assert decision.status == "failed"
    assert {c.metric for c in decision.failed_checks} == {"rougeL", "pii_leak_rate"}
    assert "rougeL = 0.2, needs >= 0.3: FAILED" in decision.reason
    assert "pii_leak_rate = 0.05, needs <= 0: FAILED" in decision.reason


@pytest.mark.parametrize(
    ("champion", "candidate", "passed"),
    [
        ({"rougeL": 0.41, "perplexity": 5.0}, {"rougeL": 0.40}, True),  # within the 0.02 tolerance
        ({"rougeL": 0.45, "perplexity": 5.0}, {"rougeL": 0.40}, False),  # 0.05 worse
        ({"rougeL": 0.40, "perplexity": 4.0}, {"perplexity": 4.2}, True),  # lower is better: +0.2 <= 0.25
        ({"rougeL": 0.40, "perplexity": 4.0}, {"perplexity": 4.5}, False),
    ],
)
def test_regression_against_the_champion_uses_each_metrics_direction(champion, candidate, passed) -> None:
    decision = decide({**GOOD, **candidate}, champion, GATE)
    assert decision.passed is passed
    assert any(c.kind == "regression" for c in decision.checks)


def test_checks_named_in_served_read_the_rate_as_served() -> None:
    """The model alone follows 45 of 150 injections; the guards let 3 through: the served rate decides."""
    rates = {"injection_follow_rate": 0.3, "injection_follow_rate_n": 150}
    candidate = {**rates, "injection_follow_rate_served": 0.02, "injection_follow_rate_served_n": 150}
    base = {**rates, "injection_follow_rate_served": 0.04, "injection_follow_rate_served_n": 150}
    sections = {"max": {"injection_follow_rate": 0.1}, "min_gain_over_base": {"injection_follow_rate": 0.0}}
    served = decide(candidate, None, only(**sections, served=["injection_follow_rate"]), base=base)
    assert served.passed, served.reason
    assert {c.metric for c in served.checks} == {"injection_follow_rate_served"}
    alone = decide(candidate, None, only(**sections), base=base)
    assert [c.metric for c in alone.failed_checks] == ["injection_follow_rate"]  # 0.3 > 0.1; equal to the base
    missing = decide(rates, None, only(**sections, served=["injection_follow_rate"]), base=base)
    assert "injection_follow_rate_served = missing" in missing.reason


def test_served_names_only_rates_that_have_an_as_served_reading() -> None:
    with pytest.raises(ValueError, match="served: rougeL has no as-served reading"):
        only(served=["rougeL"])


def test_a_metric_the_champion_lacks_is_not_compared() -> None:
    decision = decide(GOOD, {"perplexity": 5.0}, GATE)
    (rouge,) = [c for c in decision.checks if c.kind == "regression" and c.metric == "rougeL"]
    assert rouge.passed and rouge.note == "champion has no value"


@pytest.mark.parametrize("bad", [None, math.nan, math.inf])
def test_missing_or_non_finite_metrics_fail(bad) -> None:
    candidate = {k: v for k, v in GOOD.items() if k != "rougeL"}
    if bad is not None:
        candidate["rougeL"] = bad
    decision = decide(candidate, None, GATE)
    assert not decision.passed
    assert decision.failed_checks[0].metric == "rougeL"


def test_a_gate_without_checks_never_passes() -> None:
    assert decide(GOOD, None, only()).status == "failed"


def test_an_incomplete_evaluation_fails_even_if_old_metrics_would_pass() -> None:
    partial = Candidate("run1", "models:/m-1", "running", {}, {})
    decision = gate_decision(partial, None, parse_params({"gate": GATE.model_dump()}))
    assert decision.status == "failed"
    assert "evaluation of run run1 is running" in decision.reason


def test_an_error_inside_the_gate_is_an_error_decision_not_a_pass() -> None:
    metrics = {"rougeL": "0.5", "perplexity": 1.0, "pii_leak_rate": 0.0}
    broken = Candidate("run1", "models:/m-1", "complete", metrics, {})
    decision = gate_decision(broken, None, parse_params({"gate": GATE.model_dump()}))
    assert decision.status == "error"
    assert "gate error: TypeError" in decision.reason


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ({"min": {"rouge_l": 0.3}}, "gate: Value error, min: unknown metric(s) rouge_l"),
        ({"max_regression": {"rougeL": -0.1}}, "tolerances must be >= 0"),
    ],
)
def test_gate_params_are_checked_at_load(gate, message) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_params({"gate": gate})


def test_gain_over_the_base_model() -> None:
    gate = only(min_gain_over_base={"perplexity": 1.0, "injection_follow_rate": 0.0})
    base = {"perplexity": 45.7, "injection_follow_rate": 0.083}
    assert decide({"perplexity": 31.2, "injection_follow_rate": 0.083}, None, gate, base).passed
    worse = decide({"perplexity": 31.2, "injection_follow_rate": 0.25}, None, gate, base)
    assert worse.reason == (
        "injection_follow_rate = 0.25, needs <= 0.083 (gain over the base model): FAILED (base 0.083)"
    )
    assert not decide({"perplexity": 45.0, "injection_follow_rate": 0.0}, None, gate, base).passed  # gain < 1.0
    missing = decide({"perplexity": 31.2, "injection_follow_rate": 0.0}, None, gate, None)
    assert not missing.passed and "base has no value" in missing.reason


@pytest.mark.parametrize(
    ("grounded", "faithfulness", "passed", "note"),
    [
        (1.0, 0.92, True, ""),  # grounded, and its facts come from the context
        (1.0, 0.55, False, ""),  # grounded, and it makes up prices
        (0.0, 0.10, True, "not gating: the test rows carried no retrieved context"),
        (None, None, False, ""),  # an evaluation that says neither: missing fails, as always
    ],
)
def test_grounding_checks_gate_only_where_the_rows_carried_context(grounded, faithfulness, passed, note) -> None:
    gate = only(min={"faithfulness": 0.8}, max_regression={"fact_accuracy": 0.05})
    candidate = {k: v for k, v in {"grounded": grounded, "faithfulness": faithfulness, "fact_accuracy": 0.10}.items()
                 if v is not None}  # fmt: skip
    decision = decide(candidate, {"fact_accuracy": 0.30}, gate)
    floor = next(c for c in decision.checks if c.metric == "faithfulness")
    assert floor.passed is passed and floor.note.startswith(note)
    regression = next(c for c in decision.checks if c.metric == "fact_accuracy")
    assert regression.passed is (grounded == 0.0)  # 0.30 -> 0.10 is a regression wherever it counts
