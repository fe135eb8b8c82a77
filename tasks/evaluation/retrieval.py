"""Retrieval measured on the test split: does the index return the article a question's answer comes from?

A question's source articles are its intent's topic article and the articles of the plan, country, router or
phone it names whose facts the intent's answers quote (tasks/knowledge/facts.py). hit@k: one of them is among the
top k chunks; MRR: the mean of 1/rank of the first such chunk (0 when none is in the top max_k).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from tasks.core.files import read_jsonl
from tasks.data.synthesize import reply_templates
from tasks.knowledge import facts
from tasks.knowledge.retrieve import Retriever, query_text

KS = (1, 3, 5)


def _first_question(messages: list[dict[str, str]]) -> str:
    return query_text(messages[: next((i for i, m in enumerate(messages) if m["role"] == "assistant"), None)], 1)


def questions(test: Path) -> list[dict[str, Any]]:
    """The test split's support questions with their source articles (safety and unlabelled rows have none)."""
    templates = reply_templates()
    rows = []
    for record in read_jsonl(test):
        if found := facts.record_sources(record, templates):
            rows.append({"id": record["id"], "intent": record["intent"], "query": _first_question(record["messages"]),
                         "sources": found})  # fmt: skip
    return rows


def retrieval_quality(retriever: Retriever, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """hit@1/3/5 and MRR overall and per intent, with the queries' retrieval latency."""
    vectors = retriever.embed([r["query"] for r in rows])
    ranks: list[int] = []  # 0: not in the top max(KS)
    for row, vector in zip(rows, vectors, strict=True):
        hits = retriever.search_vector(vector, max(KS))
        wanted = set(row["sources"])
        ranks.append(next((i + 1 for i, h in enumerate(hits) if h.article in wanted), 0))
    by_intent: dict[str, list[int]] = defaultdict(list)
    for row, rank in zip(rows, ranks, strict=True):
        by_intent[row["intent"]].append(rank)
    return {"questions": len(rows), "index_version": retriever.version, **_figures(ranks),
            "per_intent": {k: _figures(v) for k, v in sorted(by_intent.items())}}  # fmt: skip


def _figures(ranks: list[int]) -> dict[str, float]:
    r = np.asarray(ranks)
    if not len(r):
        return {}
    hits = {f"hit@{k}": round(float(((r > 0) & (r <= k)).mean()), 4) for k in KS}
    return {**hits, "mrr": round(float(np.where(r > 0, 1.0 / np.maximum(r, 1), 0.0).mean()), 4)}
