"""Prompt-injection detector quality on attacks it was never given, and what a screen costs.

    .venv/bin/python -m bench.guard
    .venv/bin/python -m bench.guard --benign 2000 --thresholds 0.5 0.6 0.65 0.7

Labelled set (`tasks.evaluation.guard_set`): attacks = data/guard/heldout_attacks.txt plus the evaluation's
injection probes; benign = data/guard/hard_negatives.txt (support questions that share words with attacks) plus
generated support traffic. None of it is in data/guard/attacks.txt, the set the detector compares against.
Prints recall and false-positive rate for the rules alone, the similarity alone and both (what serving does),
at each threshold, on the PII-redacted text as serving scores it, and the mean time of `Guard.screen` per request.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from bench.hardware import describe

REPO = Path(__file__).resolve().parents[1]


def rates(hits: list[bool], labels: list[bool]) -> tuple[float, float]:
    attacks = [h for h, a in zip(hits, labels, strict=True) if a]
    benign = [h for h, a in zip(hits, labels, strict=True) if not a]
    return sum(attacks) / len(attacks), sum(benign) / len(benign)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--benign", type=int, default=1000, help="generated traffic prompts among the benign")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.5, 0.6, 0.65, 0.7, 0.8])
    args = parser.parse_args()

    from tasks.config.schema import load_params
    from tasks.data.pii import scrub
    from tasks.evaluation.guard_set import labelled_set
    from tasks.guard.input_guard import Guard, matches_rule, read_attacks
    from tasks.models.embeddings import embed

    print(f"hardware: {describe()}")
    params = load_params(args.params).serving.guard
    guard_dir = REPO / Path(params.attacks).parent
    labelled = labelled_set(guard_dir, REPO / "data" / "probes" / "injection.jsonl", args.benign)
    texts = [t for t, _ in labelled]
    labels = [a for _, a in labelled]
    guard = Guard(params, read_attacks(REPO / params.attacks), embed)
    print(f"{sum(labels)} attacks, {len(labels) - sum(labels)} benign; {len(read_attacks(REPO / params.attacks))} "
          f"known attacks; serving threshold {params.injection_similarity}")  # fmt: skip

    redacted = [scrub(t) for t in texts]  # what serving scores: the text after PII redaction
    rule = [matches_rule(t) for t in redacted]
    similarity = [guard.similarity([t]) for t in redacted]
    recall, fpr = rates(rule, labels)
    print(f"  {'rules alone':<30} recall {recall:.3f}  false positives {fpr:.3f}")
    for threshold in args.thresholds:
        mark = "  <- serving" if threshold == params.injection_similarity else ""
        recall, fpr = rates([s >= threshold for s in similarity], labels)
        print(f"  {f'similarity >= {threshold}':<30} recall {recall:.3f}  false positives {fpr:.3f}")
        recall, fpr = rates([r or s >= threshold for r, s in zip(rule, similarity, strict=True)], labels)
        print(f"  {f'rules or similarity >= {threshold}':<30} recall {recall:.3f}  false positives {fpr:.3f}{mark}")

    started = time.perf_counter()
    for text in texts:
        guard.screen([{"role": "user", "content": text}])
    print(f"  Guard.screen: {(time.perf_counter() - started) / len(texts) * 1000:.1f} ms per request (CPU)")


if __name__ == "__main__":
    main()
