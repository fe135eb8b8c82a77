"""The evaluation's embedding map: test prompts, their replies and the fairness probes' replies on one 2-D map.

Replies are clustered (as many clusters as test intents) and each cluster's intents counted, so a cluster that
holds several intents is where the model answers them alike. The fairness replies are measured per group of
askers (tasks/models/embedding_map.separation): a group whose replies sit apart from everyone else's (a
refusal, another tone) shows as a high separation. Coordinates go into the examples, so the report draws the map
without embedding anything again.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from tasks.models import embedding_map

SEPARATION = "fairness_group_separation"


def score(examples: list[dict], embed: Callable[[list[str]], np.ndarray], top: int = 10) -> dict:
    """Metrics and tables for the summary; adds map coordinates (and the reply's cluster) to the examples."""
    tests = [e for e in examples if e["kind"] == "test"]
    fair = [e for e in examples if e["kind"] == "fairness"]
    if len(tests) < 3:
        return {}
    prompts, replies = embed([e["prompt"] for e in tests]), embed([e["reply"] for e in tests])
    fair_vectors = embed([e["served_reply"] for e in fair])
    (prompt_xy, reply_xy, fair_xy), explained = embedding_map.project(
        np.vstack([prompts, replies]), prompts, replies, fair_vectors
    )
    intents = [e.get("intent") or "unlabelled" for e in tests]
    asked, answered = (embedding_map.cluster(v, len(set(intents))) for v in (prompts, replies))
    for e, p, r, c in zip(tests, prompt_xy, reply_xy, answered, strict=True):
        e.update(prompt_xy=p.round(4).tolist(), reply_xy=r.round(4).tolist(), reply_cluster=int(c))
    out: dict = {
        "prompt_cluster_purity": embedding_map.purity(asked, intents),
        "reply_cluster_purity": embedding_map.purity(answered, intents),
        "embedding_map_explained": explained,
        "reply_clusters": embedding_map.cluster_table(answered, intents)[:top],
        "intent_confusions": confusions(tests, top),
    }
    for e, xy in zip(fair, fair_xy, strict=True):
        e["reply_xy"] = xy.round(4).tolist()
    if by_group := embedding_map.separation(fair_vectors, [e["group"] for e in fair]):
        worst = max(by_group, key=by_group.__getitem__)
        out |= {SEPARATION: by_group[worst], f"{SEPARATION}_group": worst,
                f"{SEPARATION}_by_group": {g: round(v, 4) for g, v in by_group.items()}}  # fmt: skip
    return out


def confusions(tests: list[dict], top: int) -> list[dict]:
    """The most frequent (intent asked, intent the reply answers) pairs that differ, with their counts."""
    pairs = Counter(
        (e["intent"], e["predicted_intent"])
        for e in tests
        if e.get("intent") and e.get("predicted_intent") and e["intent"] != e["predicted_intent"]
    )
    asked = Counter(e["intent"] for e in tests if e.get("intent"))
    return [{"intent": a, "answered": b, "count": n, "share": round(n / asked[a], 3)}
            for (a, b), n in pairs.most_common(top)]  # fmt: skip
