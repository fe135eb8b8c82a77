"""Rates with their uncertainty: Wilson intervals, the one-sided test against a reference, and the gate reading
them, so that one reply cannot flip a decision and a rate over few probes cannot pass on luck; means over test
rows compared row by row."""

import numpy as np
import pytest

from tasks.evaluation.gate import Rows, decide
from tasks.evaluation.statistics import MIN_PAIRED_ROWS, paired, wilson, with_intervals, worse_p_value
from tests.unit.evaluation.gates import only


def rate(k: int, n: int, name: str) -> dict[str, float]:
    return {name: k / n, f"{name}_n": n}


def test_wilson_interval_matches_the_textbook_values() -> None:
    low, high = wilson(0, 150)
    assert low == 0 and high == pytest.approx(0.02497, abs=1e-5)  # 3.84 / (150 + 3.84)
    low, high = wilson(3, 12)
    assert (low, high) == pytest.approx((0.0889, 0.5323), abs=1e-4)
    assert wilson(3, 12, confidence=0.99)[1] > high


@pytest.mark.parametrize(
    ("k", "n", "ref_k", "ref_n", "allowed", "direction", "significant"),
    [
        (3, 12, 1, 12, 0.0, -1, False),  # 3/12 vs 1/12 injections followed: two replies are not evidence
        (30, 150, 10, 150, 0.0, -1, True),  # 20% vs 7% over 150 probes is
        (0, 150, 0, 150, 0.0, -1, False),  # nothing seen on either side
        (12, 12, 0, 12, 0.0, -1, True),  # every probe followed vs none: no variance, and still worse
        (10, 150, 10, 150, 1.0, -1, False),  # an allowance no rate can exceed
        (50, 64, 55, 64, 0.05, +1, False),  # intent accuracy 0.78 vs 0.86, 5 points allowed: not significant
        (30, 64, 55, 64, 0.05, +1, True),
    ],
)
def test_worse_only_when_significant(k, n, ref_k, ref_n, allowed, direction, significant) -> None:
    assert (worse_p_value(k, n, ref_k, ref_n, allowed, direction) < 0.05) is significant


def test_an_evaluation_reports_intervals_for_rates_with_counts() -> None:
    out = with_intervals({**rate(3, 12, "injection_follow_rate"), "rougeL": 0.3})
    assert set(out) == {"injection_follow_rate_lower", "injection_follow_rate_upper"}
    assert out["injection_follow_rate_upper"] == pytest.approx(0.5323, abs=1e-4)


def test_a_ceiling_reads_the_upper_bound_so_few_probes_cannot_pass_on_luck() -> None:
    gate = only(max={"injection_follow_rate": 0.10})
    lucky = decide(rate(1, 12, "injection_follow_rate"), None, gate)  # 0.083 <= 0.10, but [0.015, 0.35]
    assert not lucky.passed
    assert "injection_follow_rate = 0.08333 [0.0149, 0.354], upper bound 0.3539, needs <= 0.1" in lucky.reason
    assert decide(rate(6, 150, "injection_follow_rate"), None, gate).passed  # 0.04, upper bound 0.085


def test_a_floor_reads_the_lower_bound() -> None:
    gate = only(min={"intent_accuracy": 0.30})
    assert not decide(rate(6, 16, "intent_accuracy"), None, gate).passed  # 0.375 [0.18, 0.61]
    check = decide(rate(60, 150, "intent_accuracy"), None, gate).checks[0]
    assert check.passed and check.read == "lower bound" and check.value == pytest.approx(0.3250, abs=1e-4)


def test_point_checks_read_the_observed_rate() -> None:
    gate = only(max={"pii_leak_rate": 0.0})  # the shipped policy reads PII at its point: none seen
    assert decide(rate(0, 150, "pii_leak_rate"), None, gate).passed
    failed = decide(rate(1, 150, "pii_leak_rate"), None, gate)
    assert not failed.passed and failed.checks[0].read == "point"


def test_one_reply_cannot_flip_a_comparison_with_the_base() -> None:
    gate = only(min_gain_over_base={"injection_follow_rate": 0.0})
    base = rate(1, 12, "injection_follow_rate")
    noisy = decide(rate(3, 12, "injection_follow_rate"), None, gate, base)
    assert noisy.passed, noisy.reason
    assert "worse with p = 0.14" in noisy.checks[0].note
    worse = decide(rate(30, 150, "injection_follow_rate"), None, gate, rate(10, 150, "injection_follow_rate"))
    assert not worse.passed and worse.checks[0].read == "test" and worse.checks[0].p_value < 0.05


def test_a_regression_against_the_champion_is_tested_too() -> None:
    gate = only(max_regression={"intent_accuracy": 0.05})
    champion = rate(55, 64, "intent_accuracy")
    assert decide(rate(50, 64, "intent_accuracy"), champion, gate).passed
    assert not decide(rate(30, 64, "intent_accuracy"), champion, gate).passed


def test_without_counts_a_rate_is_compared_as_a_value() -> None:
    """A champion evaluated before rates had counts: its plain value is the reference."""
    gate = only(max_regression={"intent_accuracy": 0.05})
    check = decide(rate(50, 64, "intent_accuracy"), {"intent_accuracy": 0.9}, gate).checks[0]
    assert check.read == "value" and not check.passed


@pytest.mark.parametrize(
    ("sections", "message"),
    [
        ({"max": {"refusal_rate": 0.0}}, "max.refusal_rate = 0.0: read at its Wilson bound this can never pass"),
        ({"min": {"intent_accuracy": 1.0}}, "min.intent_accuracy = 1.0"),
        ({"point": ["rougeL"]}, "point: rougeL is not a rate"),
    ],
)
def test_a_bound_that_can_never_pass_is_refused_at_load(sections, message) -> None:
    with pytest.raises(ValueError, match=message.replace(".", r"\.").replace("[", r"\[")):
        only(**sections)


def losses(ppl: np.ndarray, targets: int = 20) -> dict[str, dict[str, float]]:
    """Per-row values of a model with perplexity `ppl[i]` on row i (each row `targets` tokens long)."""
    return {f"r{i}": {"nll": float(np.log(p) * targets), "targets": targets} for i, p in enumerate(ppl)}


ROWS = np.random.default_rng(7).lognormal(np.log(5.0), 0.5, 200)  # easy and hard rows: 2 to 15 per row


def shifted(by: float, spread: float, seed: int = 8) -> np.ndarray:
    """Each row's perplexity times exp(N(by, spread)): worse by `by` in log terms, row by row as noisy as `spread`."""
    return ROWS * np.exp(np.random.default_rng(seed).normal(by, spread, len(ROWS)))


def test_a_consistent_regression_is_found_row_by_row() -> None:
    """Rows differ far more among themselves than the models do on each: unpaired, 0.7 worse would be noise."""
    champion, worse = losses(ROWS), losses(shifted(0.14, 0.05))
    result = paired("perplexity", worse, champion, 0.5, -1)
    assert result.rows == 200 and 0.6 < result.worse_by < 0.8 and result.bound > 0.5 and result.p_value < 0.05


def test_noise_around_the_allowance_is_not_a_regression() -> None:
    """Many rows better, many worse, landing just past the 0.5 allowed: no evidence of a real regression."""
    champion, noisy = losses(ROWS), losses(shifted(0.12, 0.5))
    result = paired("perplexity", noisy, champion, 0.5, -1)
    assert result.worse_by > 0.5 and result.bound < 0.5 and result.p_value >= 0.05
    assert paired("perplexity", noisy, champion, 0.5, -1) == result  # seeded: the gate decides the same twice


def test_a_mean_metric_is_paired_too_and_few_common_rows_are_not() -> None:
    rouge = np.random.default_rng(9).uniform(0.0, 0.6, 200)
    mine = {f"r{i}": {"rougeL": float(r - 0.05)} for i, r in enumerate(rouge)}
    theirs = {f"r{i}": {"rougeL": float(r)} for i, r in enumerate(rouge)}
    assert paired("rougeL", mine, theirs, 0.02, +1).p_value < 0.05  # every row 0.05 worse
    assert paired("rougeL", mine, theirs, 0.10, +1).p_value >= 0.05
    few = {k: v for k, v in list(theirs.items())[: MIN_PAIRED_ROWS - 1]}
    assert paired("rougeL", mine, few, 0.02, +1) is None and paired("bleu", mine, theirs, 0.02, +1) is None


def test_the_gate_reads_the_paired_test_and_falls_back_to_the_means() -> None:
    gate = only(max_regression={"perplexity": 0.5})
    champion_rows, rows = losses(ROWS), losses(shifted(0.12, 0.5))
    mean = lambda table: float(np.exp(sum(r["nll"] for r in table.values()) / 4000))  # noqa: E731
    champion, candidate = {"perplexity": mean(champion_rows)}, {"perplexity": mean(rows)}
    assert candidate["perplexity"] > champion["perplexity"] + 0.5
    decision = decide(candidate, champion, gate, rows=Rows(rows, champion_rows))
    assert decision.passed and decision.checks[0].read == "test"
    assert "paired over 200 rows" in decision.checks[0].note, decision.checks[0].note
    older = decide(candidate, champion, gate, rows=Rows(rows, None))  # a champion evaluated before per-row values
    assert not older.passed and older.checks[0].read == "value"
    worse = losses(shifted(0.14, 0.05))
    assert not decide({"perplexity": mean(worse)}, champion, gate, rows=Rows(worse, champion_rows)).passed
