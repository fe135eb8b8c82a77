"""Reference-based text metrics through Hugging Face `evaluate`, offline.

The metric modules live in tasks/evaluation/hf_metrics/ (the Hub copies need the network); HF_EVALUATE_OFFLINE keeps
`evaluate` from trying the Hub at all.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

MODULES = Path(__file__).resolve().parent / "hf_metrics"


@cache
def _module(name: str):
    os.environ.setdefault("HF_EVALUATE_OFFLINE", "1")
    import evaluate

    return evaluate.load(str(MODULES / f"{name}.py"))


def rouge_l(predictions: list[str], references: list[str]) -> list[float]:
    return _module("rouge").compute(
        predictions=predictions, references=references, rouge_types=["rougeL"], use_aggregator=False
    )["rougeL"]


def bleu(predictions: list[str], references: list[str]) -> float:
    """Corpus BLEU (0-1); a per-row BLEU would be dominated by its smoothing on short replies."""
    return _module("bleu").compute(predictions=predictions, references=references)["bleu"]


def sentence_bleu(predictions: list[str], references: list[str]) -> list[float]:
    return _module("bleu").compute(predictions=predictions, references=references, use_aggregator=False)["bleu"]


def normalise(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


def exact_match(predictions: list[str], references: list[str]) -> list[bool]:
    return [normalise(p) == normalise(r) for p, r in zip(predictions, references, strict=True)]
