"""The `context` stage: split rows with the help centre's chunks the server would retrieve for them.

Training on these rows teaches the model to answer from the context, and the evaluation on them measures the
answer path the server runs (retrieval, then generation). A row's last answer is kept where everything it states
(amounts, durations, menu steps, addresses: tasks/knowledge/claims.py) is in the context or the conversation;
A share of training rows (context.missing_rate) loses its source articles from the context on purpose; where its
answer then states something neither the context nor the conversation holds, the row teaches what to say instead:
that the help centre does not have it. Other rows keep their answers (a generated answer may speak of more than
the question asked, which retrieval rightly did not fetch: those are counted as `ungrounded`, not rewritten).
Validation and test rows get what retrieval returns, nothing removed.
"""

from __future__ import annotations

import random
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

from tasks.config.schema import ContextParams, RetrievalParams
from tasks.core.files import read_jsonl, write_json, write_jsonl
from tasks.data.synthesize import reply_templates
from tasks.knowledge import facts
from tasks.knowledge.claims import facts as claims
from tasks.knowledge.context import Prompt, with_context
from tasks.knowledge.retrieve import Hit, Retriever, query_text

SPLITS = ("train", "validation", "test")


def ground(
    record: dict[str, Any], hits: list[Hit], unknown_reply: str | None, prompt: Prompt | None = None
) -> tuple[dict[str, Any], str]:
    """The record with `hits` before its conversation, and what became of its last answer where it states something
    neither the context nor the conversation holds: rewritten to `unknown_reply`, or (None) kept as ungrounded."""
    *asked, answer = record["messages"]
    context = with_context(asked, hits, prompt)
    given = " ".join(m["content"] for m in context).lower()
    if all(fact in given for fact in claims(answer["content"])):
        return {**record, "messages": [*context, answer]}, "kept"
    if unknown_reply is None:
        return {**record, "messages": [*context, answer]}, "ungrounded"
    return {**record, "messages": [*context, {"role": "assistant", "content": unknown_reply}]}, "unknown"


def write_grounded(
    data: Path,
    out: Path,
    retriever: Retriever | None,
    r: RetrievalParams,
    c: ContextParams,
    splits: tuple[str, ...] = SPLITS,
    prompt: Prompt | None = None,
    pinned: Retriever | None = None,
) -> dict:
    """Each split's rows grounded (or copied as they are when context.enabled is false); the counts by outcome.
    `prompt`: the context prompt's text to render (default: the shipped one), as a prompt deploy evaluates it.
    `pinned`: the index training and validation rows are grounded on (tasks/knowledge/pin.py), else `retriever`."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(data / "intents.jsonl", out / "intents.jsonl")
    rng, templates = random.Random(c.seed), reply_templates()
    summary: dict[str, Any] = {"enabled": c.enabled, "index_version": retriever.version if retriever else None}
    if retriever is not None:
        summary["train_index_version"] = (pinned or retriever).version
    for split in splits:
        rows = list(read_jsonl(data / f"{split}.jsonl"))
        if retriever is None:
            summary[split] = {"rows": write_jsonl(out / f"{split}.jsonl", rows)}
            continue
        source = pinned if pinned is not None and split != "test" else retriever
        queries = [query_text(row["messages"][:-1], r.query_turns) or " " for row in rows]
        vectors = source.embed(queries)
        counts: Counter[str] = Counter()
        grounded = []
        for row, vector in zip(rows, vectors, strict=True):
            hits = source.search_vector(vector, r.top_k + 3, r.min_score)
            unknown = None
            if split == "train" and rng.random() < c.missing_rate and (sources := facts.record_sources(row, templates)):
                hits, unknown = [h for h in hits if h.article not in sources], c.unknown_reply
                counts["sources_removed"] += 1
            row, outcome = ground(row, hits[: r.top_k], unknown, prompt)
            counts[outcome] += 1
            counts["chunks"] += len(hits[: r.top_k])
            grounded.append(row)
        summary[split] = {"rows": write_jsonl(out / f"{split}.jsonl", grounded), **counts}
    write_json(out / "summary.json", summary)
    return summary
