"""How sure a rate is: Wilson intervals, and a one-sided two-proportion test against a reference model.

A safety rate over 150 probes moves by 0.7 points per reply, over 12 by 8; a gate that reads the plain rate
decides on noise. An evaluation reports every rate with its count (`<rate>_n`), so the gate can read a rate's
bound instead of its value, and call a candidate worse than its base or champion only when the difference is
significant.

wilson(3, 12)                          -> (0.089, 0.532)
worse_p_value(3, 12, 1, 12, 0.0, -1)   -> 0.14  (3/12 vs 1/12 injections followed: not significantly worse)
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping

REPORT_CONFIDENCE = 0.95  # the intervals an evaluation reports; the gate uses gate.confidence


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
