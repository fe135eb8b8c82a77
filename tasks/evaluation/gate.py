"""The promotion gate: a pure function from metrics to a decision; moving the alias is someone else's job.

Rates are read with their statistics (tasks/evaluation/statistics.py): a ceiling at the rate's upper Wilson bound,
a floor at its lower one, and a comparison with the base or the champion as a one-sided test: for a rate, of two
proportions; for a mean over test rows (perplexity, ROUGE-L), a paired bootstrap over the rows both evaluated.
Safety rates in gate.served are read as served (`<rate>_served`: input guard + model + output guard).

decide({"rougeL": 0.41, ...}, champion={"rougeL": 0.40, ...}, gate=params.gate, rows=Rows(...)) -> Decision
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Literal

from tasks.config.metrics import DIRECTION, GROUNDED, JUDGED, RATES, gap_key, judge_key, served_key
from tasks.evaluation import statistics
from tasks.evaluation.statistics import RowTable

if TYPE_CHECKING:
    from tasks.config.schema import GateParams

Kind = Literal["min", "max", "regression", "base", "disparity", "parity"]
AGAINST = {"regression": "champion", "base": "base", "parity": "transformers"}


@dataclass(frozen=True)
class Check:
    """One rule on one metric. For a rate with its count, `interval` is its Wilson interval and `value` what the
    rule read (the rate, or its bound: `read`); a comparison with a reference model carries its test's p-value."""

    metric: str
    kind: Kind
    value: float | None
    threshold: float
    passed: bool
    note: str = ""
    read: Literal["value", "point", "lower bound", "upper bound", "test"] = "value"
    rate: float | None = None
    interval: tuple[float, float] | None = None
    p_value: float | None = None

    def shown(self) -> str:
        """The value as the gate read it: a rate with its interval, and the bound when it read one."""
        if self.interval is None or self.rate is None:
            return "missing" if self.value is None else f"{self.value:.4g}"
        low, high = self.interval
        bound = f", {self.read} {self.value:.4g}" if self.read.endswith("bound") else ""
        return f"{self.rate:.4g} [{low:.3g}, {high:.3g}]{bound}"

    def describe(self) -> str:
        value = self.shown()
        if self.kind in AGAINST:
            op = ">=" if DIRECTION[self.metric] > 0 else "<="
            against = {"regression": "no regression vs champion", "base": "gain over the base model",
                       "parity": "parity with the transformers model"}[self.kind]  # fmt: skip
            rule = f"{op} {self.threshold:.4g} ({against})"
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


@dataclass(frozen=True)
class Rows:
    """Per-row test values (statistics.row_table) of the candidate and its references, for the paired tests;
    a reference without them (an older champion) is compared on its mean."""

    candidate: RowTable
    champion: RowTable | None = None
    base: RowTable | None = None


def _usable(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def _reads(bounds: Mapping[str, float], gate: GateParams) -> dict[str, float]:
    """The metrics a section's checks read: `<rate>_served` for the rates gate.served names."""
    return {served_key(m) if m in gate.served else m: v for m, v in bounds.items()}


def _absolute(candidate: Mapping[str, float], gate: GateParams) -> list[Check]:
    checks = []
    for kind, bounds in (("min", _reads(gate.min, gate)), ("max", _reads(gate.max, gate))):
        for metric, threshold in sorted(bounds.items()):
            value = candidate.get(metric)
            extra: dict = {}
            if metric in RATES and (kn := statistics.counts(candidate, metric)):
                interval = statistics.wilson(*kn, gate.confidence)
                point = metric.removesuffix("_served") in gate.point
                read = "point" if point else "lower bound" if kind == "min" else "upper bound"
                extra = {"read": read, "rate": value, "interval": interval}
                if read != "point":
                    value = interval[0] if kind == "min" else interval[1]
            ok = _usable(value) and (value >= threshold if kind == "min" else value <= threshold)
            checks.append(Check(metric, kind, value, threshold, bool(ok), **extra))
    return checks


def _relative(
    candidate: Mapping[str, float], reference: Mapping[str, float], gains: Mapping[str, float], kind: Kind,
    confidence: float, rows: tuple[RowTable | None, RowTable | None] = (None, None),
) -> list[Check]:  # fmt: skip
    """Candidate vs a reference model: better by at least `gain` in the metric's direction (negative: may be worse).

    A rate with counts on both sides, or a mean with per-row values on both sides, fails only when a one-sided
    test finds it worse than that at 1 - confidence.
    """
    who = AGAINST[kind]
    alpha = 1 - confidence
    checks = []
    for metric, gain in sorted(gains.items()):
        value, ref = candidate.get(metric), reference.get(metric)
        if not _usable(ref):  # an older champion may lack a metric; a missing base evaluation is a partial one
            passes = _usable(value) and kind != "base"
            checks.append(Check(metric, kind, value, math.nan, passes, f"{who} has no value"))
            continue
        direction = DIRECTION[metric]
        threshold = ref + gain if direction > 0 else ref - gain
        mine, theirs = statistics.counts(candidate, metric), statistics.counts(reference, metric)
        if metric in RATES and mine and theirs:
            p = statistics.worse_p_value(*mine, *theirs, -gain, direction)
            note = f"{who} {ref:.4g}; worse with p = {p:.3g}, {'<' if p < alpha else '>='} {alpha:.3g}"
            checks.append(Check(metric, kind, value, threshold, p >= alpha, note, "test", value,
                                statistics.wilson(*mine, confidence), p))  # fmt: skip
            continue
        pair = statistics.paired(metric, *rows, -gain, direction, confidence) if all(rows) else None
        if _usable(value) and pair is not None:
            claim = f"worse by more than {-gain:.3g}" if gain <= 0 else f"short of a {gain:.3g} gain"
            at_least = f"{'>=' if direction < 0 else '<='} {-direction * pair.bound:+.3g} at {confidence:.0%}"
            note = (f"{who} {ref:.4g}; paired over {pair.rows} rows, candidate - {who} = "
                    f"{-direction * pair.worse_by:+.3g} ({at_least}): {claim} with p = {pair.p_value:.3g}, "
                    f"{'<' if pair.p_value < alpha else '>='} {alpha:.3g}")  # fmt: skip
            checks.append(Check(metric, kind, value, threshold, pair.p_value >= alpha, note, "test",
                                p_value=pair.p_value))  # fmt: skip
            continue
        ok = _usable(value) and (value >= threshold if direction > 0 else value <= threshold)
        checks.append(Check(metric, kind, value, threshold, bool(ok), f"{who} {ref:.4g}"))
    return checks


def _disparities(candidate: Mapping[str, float], gate: GateParams) -> list[Check]:
    """The largest gap between groups of askers (fairness_<metric>_gap) under its limit, or not significant."""
    alpha, checks = 1 - gate.confidence, []
    for metric, limit in sorted(gate.max_disparity.items()):
        key = gap_key(metric)
        gap, p = candidate.get(key), candidate.get(f"{key}_p")
        if not _usable(gap) or not _usable(p):
            checks.append(Check(key, "disparity", gap, limit, False, "not measured: no fairness probes evaluated"))
            continue
        interval = (candidate.get(f"{key}_lower", gap), candidate.get(f"{key}_upper", gap))
        note = f"groups differ with p = {p:.3g}, {'<' if p < alpha else '>='} {alpha:.3g}"
        checks.append(Check(key, "disparity", gap, limit, gap <= limit or p >= alpha, note, "test", gap, interval, p))
    return checks


def _unless_uncalibrated(check: Check, candidate: Mapping[str, float]) -> Check:
    """A judge's rate decides only while the judge agrees with people (tasks/evaluation/judge.py): otherwise, or
    where the evaluation says no judge was asked for, the check passes, saying why it did not count. A judge rate
    missing from an evaluation that does not say so (an older one, a partial one) still fails."""
    criterion = next((c for c in JUDGED if check.metric == judge_key(c)), None)
    if criterion is not None and candidate.get("judge_enabled") == 0:
        return replace(check, passed=True, note="not gating: no judge ran (evaluate.judge.enabled is false)")
    if criterion is None or check.value is None or candidate.get(judge_key(criterion, "calibrated")) == 1:
        return check
    kappa, labels = candidate.get(judge_key(criterion, "kappa")), candidate.get(judge_key(criterion, "labels"), 0)
    agreement = f"kappa {kappa:.2f}" if kappa is not None else "no agreement measured"
    floor = candidate.get("judge_min_kappa")
    note = f"not gating: judge uncalibrated ({agreement} on {labels:g} human labels" + (
        f", needs {floor:g})" if floor is not None else ")"
    )
    return replace(check, passed=True, note=note)


def _unless_ungrounded(check: Check, candidate: Mapping[str, float]) -> Check:
    """Faithfulness to a context the model was never given says nothing: without retrieved context in the test
    rows (the evaluation says `grounded` 0), a grounding check passes, saying why it did not count."""
    if check.metric in GROUNDED and candidate.get("grounded") == 0:
        return replace(check, passed=True, note="not gating: the test rows carried no retrieved context "
                                                "(context.enabled is false)")  # fmt: skip
    return check


def decide(
    candidate: Mapping[str, float],
    champion: Mapping[str, float] | None,
    gate: GateParams,
    base: Mapping[str, float] | None = None,
    rows: Rows | None = None,
) -> Decision:
    """Thresholds always apply; the gain over the base model and the regression checks when those exist.

    A metric the candidate lacks (a partial evaluation) or that is NaN fails its check, so an incomplete
    evaluation can never pass. A missing base evaluation fails the base checks the same way.
    """
    checks = _absolute(candidate, gate) + _disparities(candidate, gate)
    if gate.min_gain_over_base:
        pair = (rows.candidate, rows.base) if rows else (None, None)
        gains = _reads(gate.min_gain_over_base, gate)
        checks += _relative(candidate, base or {}, gains, "base", gate.confidence, pair)
    if champion is not None:
        pair = (rows.candidate, rows.champion) if rows else (None, None)
        regressions = {m: -t for m, t in _reads(gate.max_regression, gate).items()}
        checks += _relative(candidate, champion, regressions, "regression", gate.confidence, pair)
    if not checks:
        return Decision("failed", (), "the gate has no checks configured (gate.min, gate.max, gate.max_regression)")
    checks = [_unless_ungrounded(_unless_uncalibrated(c, candidate), candidate) for c in checks]
    failed = [c for c in checks if not c.passed]
    if failed:
        return Decision("failed", tuple(checks), "; ".join(c.describe() for c in failed))
    against = "thresholds and no regression vs champion" if champion is not None else "thresholds (no champion yet)"
    return Decision("passed", tuple(checks), f"all {len(checks)} checks passed: {against}")


def parity(
    served: Mapping[str, float], reference: Mapping[str, float], gate: GateParams,
    rows: tuple[RowTable | None, RowTable | None] = (None, None),
) -> Decision:  # fmt: skip
    """The engine that serves (a quantized GGUF in llama.cpp) against the transformers model it was converted from,
    on the same test rows and probes: worse by no more than gate.parity, by the same one-sided tests as the
    champion comparison (paired over rows for ROUGE-L, two proportions for rates)."""
    if not gate.parity:
        return Decision("failed", (), "gate.parity names no metric to compare")
    allowed = {m: -t for m, t in gate.parity.items()}
    checks = _relative(served, reference, allowed, "parity", gate.confidence, rows)
    failed = [c for c in checks if not c.passed]
    if failed:
        return Decision("failed", tuple(checks), "; ".join(c.describe() for c in failed))
    return Decision("passed", tuple(checks), f"all {len(checks)} parity checks passed")


def require_parity(decision: Decision, status: str | None, reason: str | None) -> Decision:
    """A model served as GGUF (serving.engine llamacpp) passes only when its GGUF passed the parity gate."""
    passed = status == "passed"
    note = reason or ("no parity check logged on the run: run `dvc repro parity`" if status is None else status)
    check = Check("gguf_parity", "min", 1.0 if passed else 0.0, 1.0, passed, note)
    checks = (*decision.checks, check)
    if passed or decision.status == "error":
        return replace(decision, checks=checks)
    failed = "; ".join(c.describe() for c in checks if not c.passed)
    return Decision("failed", checks, failed)
