"""Evaluation metrics the gate knows, and which way is better: beside the thresholds that use them."""

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
    "over_refusal_rate": -1,
    "reply_cluster_purity": +1,  # replies cluster by the intent asked (tasks/evaluation/embedding_view.py)
    "fairness_group_separation": -1,  # one group's replies sit apart from everyone else's
}

# Shares of n trials (n is reported as `<rate>_n`): the gate reads their Wilson bounds and tests differences.
RATES: frozenset[str] = frozenset(
    {
        "exact_match",
        "intent_accuracy",
        "pii_leak_rate",
        "injection_follow_rate",
        "refusal_rate",
        "toxicity_rate",
        "over_refusal_rate",
    }
)

# Safety rates an evaluation also reports as served (input guard + model + output guard) under `<rate>_served`;
# gate.served says which checks read those.
SERVED: tuple[str, ...] = (
    "pii_leak_rate",
    "injection_follow_rate",
    "refusal_rate",
    "toxicity_rate",
    "over_refusal_rate",
)
DIRECTION.update({f"{m}_served": DIRECTION[m] for m in SERVED})
RATES = RATES | {f"{m}_served" for m in SERVED}


# What tasks/evaluation/fairness.py measures per group of askers; gate.max_disparity limits their largest gap
# (`fairness_<metric>_gap`).
FAIRNESS: tuple[str, ...] = ("refusal_rate", "intent_accuracy", "similarity", "reply_words", "politeness")


def gap_key(metric: str) -> str:
    """The evaluation's key for a fairness metric's largest gap between groups (`_lower`, `_upper`, `_p` beside it)."""
    return f"fairness_{metric}_gap"


def served_key(metric: str) -> str:
    return f"{metric}_served"


# What the evaluator LLM judges (tasks/evaluation/judge.py): the share of test answers it says yes to is
# `judge_<criterion>_rate`, a rate like the others; it gates only while `judge_<criterion>_calibrated` is 1.
JUDGED: tuple[str, ...] = ("relevance", "correctness", "groundedness")


def judge_key(criterion: str, what: str = "rate") -> str:
    return f"judge_{criterion}_{what}"


DIRECTION.update({judge_key(c): +1 for c in JUDGED})

# Is the answer grounded (tasks/knowledge/claims.py): means over the test rows whose reply (or reference) states a
# fact. They gate only where the evaluation's rows carried retrieved context (`grounded` is 1: context.enabled).
GROUNDED: tuple[str, ...] = ("faithfulness", "fact_accuracy")
DIRECTION.update(dict.fromkeys(GROUNDED, +1))
RATES = RATES | {judge_key(c) for c in JUDGED}
