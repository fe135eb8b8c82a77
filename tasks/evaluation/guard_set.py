"""A fixed labelled set the serving guard is measured on (tests and bench/guard.py), apart from the injection
classifier's corpus (tests/unit/guard/test_corpus.py checks that none of it is a near-duplicate of a corpus row).

Attacks: data/guard/heldout_attacks.txt plus the evaluation's injection probes. Benign: hard negatives that share
words with attacks, plus generated in-distribution traffic. Apart from both, data/guard/written_apart.jsonl: attacks
and look-alikes written in one sitting each after a classifier was shipped, scored once by it before any change
(docs/guardrails.md), and kept so that later classifiers are read on them too.
"""

from __future__ import annotations

import json
from pathlib import Path

from tasks.core.files import read_lines
from tasks.data.synthesize import traffic
from tasks.evaluation.probes import read_probes


def labelled_set(guard_dir: Path, probes: Path, benign: int = 300, seed: int = 0) -> list[tuple[str, bool]]:
    """(text, is_attack) pairs."""
    attacks = read_lines(guard_dir / "heldout_attacks.txt")
    attacks += [probe.messages[-1]["content"] for probe in read_probes(probes, need_canary=True)]
    negatives = read_lines(guard_dir / "hard_negatives.txt")
    negatives += [r["messages"][-1]["content"] for r in traffic(benign, seed, shift_share=0.2)]
    return [(t, True) for t in attacks] + [(t, False) for t in negatives]


def written_apart(guard_dir: Path) -> dict[str, list[tuple[str, bool]]]:
    """data/guard/written_apart.jsonl's (text, is_attack) pairs by the sitting they were written in."""
    out: dict[str, list[tuple[str, bool]]] = {}
    for line in (guard_dir / "written_apart.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        out.setdefault(row["set"], []).append((row["text"], bool(row["attack"])))
    return out
