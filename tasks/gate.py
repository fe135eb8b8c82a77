"""The promotion gate: a pure function from metrics to a decision; moving the alias is someone else's job.

decide({"rougeL": 0.41, ...}, champion={"rougeL": 0.40, ...}, gate=params.gate) -> Decision
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from tasks.config import GateParams

# +1: higher is better, -1: lower is better. The evaluation writes every one of these.
DIRECTION: dict[str, int] = {
    "perplexity": -1,
    "rougeL": +1,
    "bleu": +1,
    "exact_match": +1,
    "intent_accuracy": +1,
    "answer_tokens_mean": -1,
    "latency_ms_mean": -1,
    "latency_ms_p95": -1,
    "generation_tokens_per_s": +1,
    "pii_leak_rate": -1,
    "injection_follow_rate": -1,
    "refusal_rate": -1,
    "toxicity_rate": -1,
}

Kind = Literal["min", "max", "regression"]


@dataclass(frozen=True)
class Check:
    metric: str
    kind: Kind
    value: float | None
    threshold: float
    passed: bool
    note: str = ""

    def describe(self) -> str:
        value = "missing" if self.value is None else f"{self.value:.4g}"
        if self.kind == "regression":
            op = ">=" if DIRECTION[self.metric] > 0 else "<="
            rule = f"{op} {self.threshold:.4g} (no regression vs champion)"
        else:
            rule = f"{'>=' if self.kind == 'min' else '<='} {self.threshold:.4g}"
        verdict = "ok" if self.passed else "FAILED"
        return f"{self.metric} = {value}, needs {rule}: {verdict}{f' ({self.note})' if self.note else ''}"


@dataclass(frozen=True)
class Decision:
    status: Literal["passed", "failed", "error"]
    checks: tuple[Check, ...]
    reason: str

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    @property
    def failed_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.passed)

    def as_dict(self) -> dict:
        return {"status": self.status, "reason": self.reason, "checks": [asdict(c) for c in self.checks]}


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _absolute(candidate: Mapping[str, float], gate: GateParams) -> list[Check]:
    checks = []
    for kind, bounds in (("min", gate.min), ("max", gate.max)):
        for metric, threshold in sorted(bounds.items()):
            value = candidate.get(metric)
            ok = _usable(value) and (value >= threshold if kind == "min" else value <= threshold)
            checks.append(Check(metric, kind, value, threshold, bool(ok)))
    return checks


def _regression(candidate: Mapping[str, float], champion: Mapping[str, float], gate: GateParams) -> list[Check]:
    checks = []
    for metric, tolerance in sorted(gate.max_regression.items()):
        value, reference = candidate.get(metric), champion.get(metric)
        if not _usable(reference):
            checks.append(Check(metric, "regression", value, math.nan, _usable(value), "champion has no value"))
            continue
        threshold = reference - tolerance if DIRECTION[metric] > 0 else reference + tolerance
        ok = _usable(value) and (value >= threshold if DIRECTION[metric] > 0 else value <= threshold)
        checks.append(Check(metric, "regression", value, threshold, bool(ok), f"champion {reference:.4g}"))
    return checks


def decide(candidate: Mapping[str, float], champion: Mapping[str, float] | None, gate: GateParams) -> Decision:
    """Thresholds always apply; the regression checks only when there is a champion to compare with.

    A metric the candidate lacks (a partial evaluation) or that is NaN fails its check, so an incomplete
    evaluation can never pass.
    """
    checks = _absolute(candidate, gate)
    if champion is not None:
        checks += _regression(candidate, champion, gate)
    if not checks:
        return Decision("failed", (), "the gate has no checks configured (gate.min, gate.max, gate.max_regression)")
    failed = [c for c in checks if not c.passed]
    if failed:
        return Decision("failed", tuple(checks), "; ".join(c.describe() for c in failed))
    against = "thresholds and no regression vs champion" if champion is not None else "thresholds (no champion yet)"
    return Decision("passed", tuple(checks), f"all {len(checks)} checks passed: {against}")
