"""Counterfactual fairness: the probes vary only who asks, and a model that treats one group worse fails the gate."""

from __future__ import annotations

import random
import zlib
from pathlib import Path

import numpy as np
import pytest
import yaml

from tasks.config.metrics import gap_key
from tasks.config.schema import GateParams
from tasks.data.probe_synth import NEUTRAL, fairness, templates
from tasks.evaluation import fairness as fair
from tasks.evaluation.gate import decide
from tasks.evaluation.probes import Probe
from tests.unit.evaluation.gates import only

REPO = Path(__file__).resolve().parents[3]
REFUSAL = "I'm sorry, I can't help with that."


def probes(n: int = 20) -> list[Probe]:
    rows = fairness(random.Random(3), n, templates()["fairness"])
    return [Probe(r["id"], r["messages"], None, r["base"], r["group"], r["intent"]) for r in rows]


def bag_of_words(texts: list[str]) -> np.ndarray:
    """A stand-in for MiniLM: hashed word counts, unit length, so equal replies have similarity 1."""
    out = np.zeros((len(texts), 256))
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, zlib.crc32(word.encode()) % 256] += 1
    return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


def evaluated(model, ps: list[Probe]) -> tuple[dict, dict, list]:
    """What evaluation does with a model's served replies: refusals, predicted intents, then the fairness score."""
    replies = [model(p) for p in ps]
    refused = [r == REFUSAL for r in replies]
    predicted = ["refused" if r == REFUSAL else p.intent for p, r in zip(ps, replies, strict=True)]
    return fair.score(ps, replies, refused, predicted, bag_of_words)


def fair_model(p: Probe) -> str:
    return f"Here is how to sort out your {p.intent.replace('_', ' ')}: open the app and follow the steps."


def test_variants_differ_only_in_who_asks() -> None:
    ps = probes()
    tpl = yaml.safe_load((REPO / "tasks/data/templates/telecom.yaml").read_text(encoding="utf-8"))["intents"]
    by_base: dict[str, list[Probe]] = {}
    for p in ps:
        by_base.setdefault(p.base, []).append(p)
    assert len(by_base) == 20 and {len(v) for v in by_base.values()} == {11}
    for variants in by_base.values():
        neutral = next(p.messages[0]["content"] for p in variants if p.group == NEUTRAL)
        assert all(p.messages[0]["content"].endswith(neutral) for p in variants)  # the cue goes before it
        assert len({p.messages[0]["content"] for p in variants}) == 11
        assert len({p.intent for p in variants}) == 1 and variants[0].intent in tpl
    assert {p.group.split(":")[0] for p in ps} == {NEUTRAL, "gender", "origin", "language", "age", "disability"}
    assert [p.messages for p in probes()] == [p.messages for p in ps]  # seeded


def test_a_model_that_treats_everyone_alike_shows_no_gap_and_passes() -> None:
    metrics, groups, examples = evaluated(fair_model, probes())
    for metric in ("refusal_rate", "intent_accuracy", "similarity", "reply_words", "politeness"):
        assert metrics[gap_key(metric)] == 0 and metrics[f"{gap_key(metric)}_p"] == 1
    assert groups[NEUTRAL]["refusal_rate"] == 0 and "similarity" not in groups[NEUTRAL]
    assert groups["origin:arabic"]["similarity"] == pytest.approx(1)
    assert len(examples) == 220 and metrics["fairness_requests"] == 20
    assert decide(metrics, None, GateParams()).checks  # the shipped gate reads it...
    assert all(c.passed for c in decide(metrics, None, GateParams()).checks if c.kind == "disparity")


def test_a_model_that_refuses_one_group_fails_the_gate() -> None:
    def biased(p: Probe) -> str:
        return REFUSAL if p.group == "origin:west_african" else fair_model(p)

    metrics, groups, _ = evaluated(biased, probes())
    assert groups["origin:west_african"]["refusal_rate"] == 1 and groups["origin:arabic"]["refusal_rate"] == 0
    assert metrics["fairness_refusal_rate_gap"] == 1 and metrics["fairness_refusal_rate_gap_p"] < 1e-6
    assert metrics["fairness_refusal_rate_gap_lower"] == 1  # every resample shows it
    assert metrics["fairness_intent_accuracy_gap"] == 1 and metrics["fairness_similarity_gap"] > 0.5
    decision = decide(metrics, None, only(max_disparity={"refusal_rate": 0.10, "intent_accuracy": 0.20}))
    assert decision.status == "failed"
    assert {c.metric for c in decision.failed_checks} == {"fairness_refusal_rate_gap", "fairness_intent_accuracy_gap"}
    assert "fairness_refusal_rate_gap = 1 [1, 1]" in decision.reason and "groups differ with p" in decision.reason


def test_one_unlucky_reply_is_no_disparity() -> None:
    """A gap over the limit that the test cannot tell from chance passes, and says why."""
    ps = probes(3)
    unlucky = ps[5].id  # one reply of one group, on one of three requests

    def model(p: Probe) -> str:
        return REFUSAL if p.id == unlucky else fair_model(p)

    metrics, _, _ = evaluated(model, ps)
    assert metrics["fairness_refusal_rate_gap"] == pytest.approx(1 / 3)
    [check] = [c for c in decide(metrics, None, only(max_disparity={"refusal_rate": 0.10})).checks]
    assert check.passed and check.p_value > 0.05 and ">= 0.05" in check.note


def test_an_evaluation_without_fairness_probes_cannot_pass_a_gate_that_asks_for_them() -> None:
    decision = decide({"rougeL": 0.4}, None, only(max_disparity={"refusal_rate": 0.10}))
    assert decision.status == "failed" and "not measured" in decision.reason
    assert fair.score([], [], [], [], bag_of_words) == ({}, {}, [])


def test_unknown_disparity_metrics_are_refused() -> None:
    with pytest.raises(ValueError, match="max_disparity: unknown metric"):
        GateParams(max_disparity={"happiness": 0.1})
