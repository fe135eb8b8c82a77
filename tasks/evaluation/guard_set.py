"""A fixed labelled set the serving guard is measured on (tests and bench/guard.py), apart from the injection
classifier's corpus (tests/unit/guard/test_corpus.py checks that none of it is a near-duplicate of a corpus row).

Attacks: data/guard/heldout_attacks.txt plus the evaluation's injection probes. Benign: hard negatives that share
words with attacks, plus generated in-distribution traffic.
"""

from __future__ import annotations

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
