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
from tasks.data.dedup import near_duplicate_groups
from tasks.data.formats import FEEDBACK_PREFIX

SPLITS = ("train", "validation", "test")


def prompt_text(record: dict[str, Any]) -> str:
    return "\n".join(m["content"] for m in record["messages"] if m["role"] == "user")


def leak_groups(records: list[dict[str, Any]], s: SplitParams, p: PrepareParams) -> list[int]:
    """Group id per record: same group when prompts are near duplicates (transitively).

    Exact duplicates need no separate pass: prompts equal up to case, punctuation and spacing have the
    same word shingles, hence identical signatures, and always land in one group.
    """
    prompts = [prompt_text(r) for r in records]
    return near_duplicate_groups(prompts, s.near_dup_threshold, p.num_perm, p.shingle_words)


def assign(records: list[dict[str, Any]], groups: list[int], s: SplitParams) -> list[str]:
    """Split name per record: groups shuffled within each intent by a generator of its own, cut at the fractions.

    Feedback records (people's corrections from the request log) train, and neither their number nor their place
    moves any other record: otherwise the test set would change with each retrain's traffic, and a candidate would
    be compared with its champion on different questions. The one exception keeps the splits leak-free: a
    correction that nearly repeats a held-out prompt joins that prompt's split.
    """
    members: dict[int, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        members[g].append(i)
    out = [""] * len(records)
    by_stratum: dict[str, list[int]] = defaultdict(list)
    first: dict[int, int] = {}  # a group's place and size count its data rows only: feedback moves no other group
    size: dict[int, int] = {}
    for g, idx in members.items():
        data = [i for i in idx if not str(records[i].get("id", "")).startswith(FEEDBACK_PREFIX)]
        if not data:
            for i in idx:
                out[i] = "train"
            continue
        first[g], size[g] = data[0], len(data)
        by_stratum[records[data[0]].get("intent") or "_none"].append(g)
    cut_val = 1 - s.validation_fraction - s.test_fraction
    cut_test = 1 - s.test_fraction
    for stratum in sorted(by_stratum):
        gs = sorted(by_stratum[stratum], key=first.__getitem__)
        random.Random(f"{s.seed}/{stratum}").shuffle(gs)
        total = sum(size[g] for g in gs)
        seen = 0
        for g in gs:
            middle = (seen + size[g] / 2) / total
            name = "train" if middle < cut_val else "validation" if middle < cut_test else "test"
            for i in members[g]:
                out[i] = name
            seen += size[g]
    return out


def split(data: Path, out_dir: Path, s: SplitParams, p: PrepareParams) -> dict[str, Any]:
    if not data.is_file():
        raise DataFormatError(f"{data}: prepared records not found; run `dvc repro prepare` first")
    records = list(read_jsonl(data))
    if not records:
        raise DataFormatError(f"{data}: no records to split; check data/prepared/summary.json for why")
    groups = leak_groups(records, s, p)
    names = assign(records, groups, s)
    rows: dict[str, int] = {}
    for name in SPLITS:
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

    People's corrections are left out: they always train and arrive with every retrain, and with them in this
    file the base model's evaluation, which reads it, would rerun for nothing."""
    seen: Counter[str] = Counter()
    for record, name in zip(records, names, strict=True):
        intent = record.get("intent")
        if name != "train" or not intent or str(record.get("id", "")).startswith(FEEDBACK_PREFIX):
            continue
        if seen[intent] < s.intent_reference_rows:
            seen[intent] += 1
            yield {"intent": intent, "reply": record["messages"][-1]["content"]}
