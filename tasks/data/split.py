"""split: deterministic train/validation/test, stratified by intent, leak-free.

Rows whose prompts are equal or near-equal form one group, and a group goes to one split
whole, so no exact or near duplicate prompt crosses splits even where prepare kept both.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tasks.config.schema import PrepareParams, SplitParams
from tasks.core.errors import DataFormatError
from tasks.core.files import read_jsonl, write_json, write_jsonl
from tasks.data.dedup import NearDuplicateIndex, near_duplicate_groups, signatures
from tasks.data.formats import is_feedback_id

SPLITS = ("train", "validation", "test")
HELD_BACK = "held_back"  # feedback that repeats a held-out prompt: in no split (held_back.jsonl)


def prompt_text(record: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in record["messages"] if m["role"] == "user")


def leak_groups(records: list[dict[str, Any]], s: SplitParams, p: PrepareParams) -> list[int]:
    """Group id per record: same group when prompts are near duplicates (transitively).

    Exact duplicates need no separate pass: prompts equal up to case, punctuation and spacing have the
    same word shingles, hence identical signatures, and always land in one group.
    """
    prompts = [prompt_text(r) for r in records]
    return near_duplicate_groups(prompts, s.near_dup_threshold, p.num_perm, p.shingle_words)


def is_feedback(record: dict[str, Any]) -> bool:
    return is_feedback_id(record.get("id"))


def assign(records: list[dict[str, Any]], groups: list[int], s: SplitParams) -> list[str]:
    """Split name per record: groups shuffled within each intent by a generator of its own, cut at the fractions."""
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    out = [""] * len(records)
    by_stratum: dict[str, list[int]] = defaultdict(list)
    for g, idx in members.items():
        by_stratum[records[idx[0]].get("intent") or "_none"].append(g)
    cut_val = 1 - s.validation_fraction - s.test_fraction
    cut_test = 1 - s.test_fraction
    for stratum in sorted(by_stratum):
        gs = sorted(by_stratum[stratum], key=lambda g: members[g][0])
        random.Random(f"{s.seed}/{stratum}").shuffle(gs)
        total = sum(len(members[g]) for g in gs)
        seen = 0
        for g in gs:
            middle = (seen + len(members[g]) / 2) / total
            name = "train" if middle < cut_val else "validation" if middle < cut_test else "test"
            for i in members[g]:
                out[i] = name
            seen += len(members[g])
    return out


def place_feedback(feedback: list[dict[str, Any]], held_out: list[str], s: SplitParams,
                   p: PrepareParams) -> list[str]:  # fmt: skip
    """Split name per feedback record (people's corrections from the request log): train, unless it nearly
    repeats a held-out (validation or test) prompt. Then it is held back from every split: in training it would
    leak that prompt's answer, and in the test set it would change what a champion was measured on (and rerun the
    base model's evaluation for nothing)."""
    index = NearDuplicateIndex(s.near_dup_threshold, p.num_perm)
    for n, sig in enumerate(signatures(held_out, p.num_perm, p.shingle_words)):
        index.add(str(n), sig)
    names = []
    prompts = [prompt_text(r) for r in feedback]
    for n, sig in enumerate(signatures(prompts, p.num_perm, p.shingle_words)):
        names.append(HELD_BACK if index.find(sig) is not None else "train")
        if names[-1] == HELD_BACK:  # a later correction repeating this one is held back too
            index.add(f"fb{n}", sig)
    return names


def split(data: Path, out_dir: Path, s: SplitParams, p: PrepareParams) -> dict[str, Any]:
    if not data.is_file():
        raise DataFormatError(f"{data}: prepared records not found; run `dvc repro prepare` first")
    records = list(read_jsonl(data))
    if not records:
        raise DataFormatError(f"{data}: no records to split; check data/prepared/summary.json for why")
    # Feedback arrives with every retrain: the data rows are grouped and split without it, so that it cannot merge
    # their groups and reshuffle an intent, and the test set a champion was measured on stays as it was.
    data = [i for i, r in enumerate(records) if not is_feedback(r)]
    groups = leak_groups([records[i] for i in data], s, p)
    names = [""] * len(records)
    for i, name in zip(data, assign([records[i] for i in data], groups, s), strict=True):
        names[i] = name
    held_out = [prompt_text(records[i]) for i in data if names[i] != "train"]
    feedback = [i for i, r in enumerate(records) if is_feedback(r)]
    for i, name in zip(feedback, place_feedback([records[i] for i in feedback], held_out, s, p), strict=True):
        names[i] = name
    rows: dict[str, int] = {}
    for name in (*SPLITS, HELD_BACK):
        rows[name] = write_jsonl(
            out_dir / f"{name}.jsonl", (r for r, n in zip(records, names, strict=True) if n == name)
        )
    per_intent: dict[str, Counter[str]] = defaultdict(Counter)
    for r, n in zip(records, names, strict=True):
        per_intent[r.get("intent") or "_none"][n] += 1
    summary = {
        "rows": rows,
        "groups": len(set(groups)),
        "seed": s.seed,
        "intents": {k: dict(v) for k, v in sorted(per_intent.items())},
    }
    summary["intent_reference"] = write_jsonl(out_dir / "intents.jsonl", intent_reference(records, names, s))
    write_json(out_dir / "summary.json", summary)
    return summary


def intent_reference(records: list[dict[str, Any]], names: list[str], s: SplitParams) -> Iterator[dict[str, str]]:
    """The first training replies of each intent, which define it for evaluation's intent_accuracy.

    People's corrections are left out: they arrive with every retrain, and what an intent is should not move
    with them."""
    seen: Counter[str] = Counter()
    for record, name in zip(records, names, strict=True):
        intent = record.get("intent")
        if name != "train" or not intent or is_feedback(record):
            continue
        if seen[intent] < s.intent_reference_rows:
            seen[intent] += 1
            yield {"intent": intent, "reply": record["messages"][-1]["content"]}
