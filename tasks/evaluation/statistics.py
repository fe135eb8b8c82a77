"""How sure a rate is: Wilson intervals, and a one-sided two-proportion test against a reference model.

A safety rate over 150 probes moves by 0.7 points per reply, over 12 by 8; a gate that reads the plain rate
decides on noise. An evaluation reports every rate with its count (`<rate>_n`), so the gate can read a rate's
bound instead of its value, and call a candidate worse than its base or champion only when the difference is
significant.

wilson(3, 12)                          -> (0.089, 0.532)
worse_p_value(3, 12, 1, 12, 0.0, -1)   -> 0.14  (3/12 vs 1/12 injections followed: not significantly worse)

A mean over test rows (perplexity, ROUGE-L) is compared row by row when both models were evaluated on the same
rows: a paired bootstrap, so that rows every model finds hard do not drown the difference between the models.

paired("perplexity", rows, champion_rows, 0.5, -1)  -> Paired(rows=200, worse_by=0.64, bound=0.33, p_value=0.24)
  (0.64 worse than the champion, 0.5 allowed, but rows disagree: not evidence of a regression beyond 0.5)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

REPORT_CONFIDENCE = 0.95  # the intervals an evaluation reports; the gate uses gate.confidence
ROW_COLUMNS = {"perplexity": ("nll", "targets"), "rougeL": ("rougeL",)}  # the per-row values behind a mean metric
MIN_PAIRED_ROWS = 30  # fewer rows in common than this: no paired test
RESAMPLES = 9999

RowTable = Mapping[str, Mapping[str, float]]  # test row id -> that row's values (ROW_COLUMNS)


def count_key(rate: str) -> str:
    return f"{rate}_n"


def counts(metrics: Mapping[str, float], rate: str) -> tuple[int, int] | None:
    """(successes, trials) behind a rate, or None when the evaluation did not report its count."""
    n, value = metrics.get(count_key(rate)), metrics.get(rate)
    if n is None or value is None or not math.isfinite(n) or not math.isfinite(value) or n < 1:
        return None
    return round(value * n), int(n)


def wilson(successes: int, trials: int, confidence: float = REPORT_CONFIDENCE) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    low, high = proportion_confint(successes, trials, alpha=1 - confidence, method="wilson")
    return (0.0 if successes == 0 else float(low)), (1.0 if successes == trials else float(high))


def worse_p_value(k: int, n: int, ref_k: int, ref_n: int, allowed: float, direction: int) -> float:
    """One-sided score test (Miettinen-Nurminen) that the candidate's rate is worse than the reference's by more
    than `allowed` (in the rate's units; negative: it must be better by that much), given which way is better.

    A small p-value is evidence of a real regression; equal rates with no variance (0 of n on both sides) or an
    allowance no rate can exceed are no evidence, p = 1.
    """
    from statsmodels.stats.proportion import test_proportions_2indep

    value = -allowed if direction > 0 else allowed  # H0 on the difference candidate - reference
    if abs(value) >= 1:
        return 1.0
    alternative = "smaller" if direction > 0 else "larger"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # zero variance at the boundary: handled below
        result = test_proportions_2indep(k, n, ref_k, ref_n, value=value, method="score", compare="diff",
                                         alternative=alternative)  # fmt: skip
    p = float(result.pvalue)
    if math.isnan(p):
        observed = k / n - ref_k / ref_n
        beyond = observed < value if direction > 0 else observed > value
        return 0.0 if beyond else 1.0
    return p


def with_intervals(metrics: Mapping[str, float], confidence: float = REPORT_CONFIDENCE) -> dict[str, float]:
    """`<rate>_lower` and `<rate>_upper` for every rate that has its count."""
    out: dict[str, float] = {}
    for key in metrics:
        rate = key.removesuffix("_n")
        if key.endswith("_n") and (kn := counts(metrics, rate)):
            out[f"{rate}_lower"], out[f"{rate}_upper"] = wilson(*kn, confidence)
    return out


def row_table(examples: list[dict]) -> dict[str, dict[str, float]]:
    """The per-row values of an evaluation's test examples, by row id: what a later paired test reads."""
    columns = sorted({c for cols in ROW_COLUMNS.values() for c in cols})
    return {
        str(e["id"]): {c: float(e[c]) for c in columns if e.get(c) is not None}
        for e in examples
        if e.get("kind") == "test" and e.get("id") is not None
    }


@dataclass(frozen=True)
class Paired:
    rows: int
    worse_by: float  # the candidate's metric minus the reference's, positive when worse
    bound: float  # the one-sided lower confidence bound of worse_by
    p_value: float  # that it is worse by no more than the allowance


def _mean_metric(metric: str, columns: list[np.ndarray]) -> np.ndarray:
    if metric == "perplexity":
        nll, targets = columns
        return np.exp(nll.sum(axis=-1) / targets.sum(axis=-1))
    return columns[0].mean(axis=-1)


def paired(
    metric: str, mine: RowTable, theirs: RowTable, allowed: float, direction: int,
    confidence: float = REPORT_CONFIDENCE,
) -> Paired | None:  # fmt: skip
    """Paired percentile bootstrap (seeded) of how much worse the candidate's mean metric is than the reference's
    over the rows both evaluated, against `allowed` (in the metric's units; negative: it must be better by that
    much). None when fewer than MIN_PAIRED_ROWS rows are in common, or the metric has no per-row values."""
    from scipy.stats import bootstrap

    columns = ROW_COLUMNS.get(metric)
    if columns is None:
        return None
    common = sorted(
        i for i in mine.keys() & theirs.keys()
        if all(c in mine[i] and c in theirs[i] for c in columns) and mine[i].get("targets", 1) > 0
    )  # fmt: skip
    if len(common) < MIN_PAIRED_ROWS:
        return None
    data = [np.array([table[i][c] for i in common]) for table in (mine, theirs) for c in columns]
    k = len(columns)

    def worse_by(*arrays: np.ndarray, axis: int = -1) -> np.ndarray:
        return (_mean_metric(metric, list(arrays[:k])) - _mean_metric(metric, list(arrays[k:]))) * -direction

    result = bootstrap(data, worse_by, n_resamples=RESAMPLES, vectorized=True, paired=True, axis=-1,
                       confidence_level=confidence, alternative="greater", method="percentile",
                       rng=np.random.default_rng(0))  # fmt: skip
    at_most = int(np.sum(result.bootstrap_distribution <= allowed))
    return Paired(len(common), float(worse_by(*data)), float(result.confidence_interval.low),
                  (at_most + 1) / (RESAMPLES + 1))  # fmt: skip
