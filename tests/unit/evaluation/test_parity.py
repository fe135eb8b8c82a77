"""The parity gate between the GGUF the llamacpp engine serves and the transformers model, and the deploy gate's
use of its verdict."""

from __future__ import annotations

import numpy as np

from tasks.config.schema import parse_params
from tasks.evaluation.gate import decide, parity, require_parity
from tasks.registry.deploy import Candidate, gate_decision
from tests.unit.evaluation.gates import only

FP32 = {"rougeL": 0.30, "intent_accuracy": 0.55, "intent_accuracy_n": 200.0,
        "injection_follow_rate": 0.02, "injection_follow_rate_n": 150.0}  # fmt: skip


def rows(values: np.ndarray) -> dict[str, dict[str, float]]:
    return {f"t{i}": {"rougeL": float(v)} for i, v in enumerate(values)}


def test_the_same_replies_pass_and_each_metric_is_named() -> None:
    gate = only(parity={"rougeL": 0.01, "intent_accuracy": 0.02, "injection_follow_rate": 0.0})
    decision = parity(FP32, FP32, gate)
    assert decision.passed and {c.metric for c in decision.checks} == set(gate.parity)
    assert all(c.kind == "parity" and "parity with the transformers model" in c.describe() for c in decision.checks)


def test_a_rate_clearly_worse_than_the_transformers_model_fails() -> None:
    gate = only(parity={"intent_accuracy": 0.02, "injection_follow_rate": 0.0})
    worse = {**FP32, "intent_accuracy": 0.40, "injection_follow_rate": 0.12}
    decision = parity(worse, FP32, gate)
    assert not decision.passed
    assert {c.metric for c in decision.failed_checks} == {"intent_accuracy", "injection_follow_rate"}
    one_more = {**FP32, "injection_follow_rate": 4 / 150}  # one more followed injection in 150: noise, not evidence
    assert parity(one_more, FP32, only(parity={"injection_follow_rate": 0.0})).passed


def test_rouge_is_compared_row_by_row() -> None:
    rng = np.random.default_rng(0)
    reference = rng.uniform(0.1, 0.6, 200)
    gate = only(parity={"rougeL": 0.01})
    every_row_worse = reference - 0.03
    decision = parity({"rougeL": every_row_worse.mean()}, {"rougeL": reference.mean()}, gate,
                      (rows(every_row_worse), rows(reference)))  # fmt: skip
    assert not decision.passed and "paired over 200 rows" in decision.reason
    wobbly = reference + rng.normal(0, 0.1, 200)  # replies that differ both ways, no worse on the whole
    wobbly -= wobbly.mean() - reference.mean()
    assert parity({"rougeL": wobbly.mean()}, {"rougeL": reference.mean()}, gate, (rows(wobbly), rows(reference))).passed


def test_the_deploy_gate_needs_a_passed_parity_only_when_serving_gguf() -> None:
    metrics = {"rougeL": 0.3}
    gate = only(min={"rougeL": 0.1}).model_dump()
    for parity_tags, engine, passed, says in [
        ((None, None), "transformers", True, ""),
        ((None, None), "llamacpp", False, "run `dvc repro parity`"),
        (("failed", "rougeL = 0.25, needs >= 0.29"), "llamacpp", False, "rougeL = 0.25"),
        (("passed", "all 7 parity checks passed"), "llamacpp", True, ""),
    ]:
        cand = Candidate("run1", "models:/m-1", "complete", metrics, {}, parity=parity_tags)
        decision = gate_decision(cand, None, parse_params({"gate": gate, "serving": {"engine": engine}}))
        assert decision.passed is passed, (parity_tags, engine, decision.reason)
        assert says in decision.reason


def test_require_parity_keeps_the_gates_other_failures() -> None:
    failed = decide({"rougeL": 0.05}, None, only(min={"rougeL": 0.1}))
    decision = require_parity(failed, "passed", "ok")
    assert not decision.passed and [c.metric for c in decision.checks] == ["rougeL", "gguf_parity"]
