"""The labelled set the serving guard is measured on (tests and bench/guard.py): none of it is a known attack.

Attacks: data/guard/heldout_attacks.txt plus the evaluation's injection probes. Benign: hard negatives that share
words with attacks, plus generated in-distribution traffic.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from tasks.data.synthesize import traffic


def _lines(path: Path) -> list[str]:
    stripped = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def labelled_set(guard_dir: Path, probes: Path, benign: int = 300, seed: int = 0) -> list[tuple[str, bool]]:
    """(text, is_attack) pairs."""
    attacks = _lines(guard_dir / "heldout_attacks.txt")
    attacks += [orjson.loads(line)["messages"][-1]["content"] for line in probes.read_bytes().splitlines() if line]
    negatives = _lines(guard_dir / "hard_negatives.txt")
    negatives += [r["messages"][-1]["content"] for r in traffic(benign, seed, shift_share=0.2)]
    return [(t, True) for t in attacks] + [(t, False) for t in negatives]
