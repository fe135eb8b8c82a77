"""Prompt-injection detector quality on text it was never trained on, and what a screen costs.

    .venv/bin/python -m bench.guard                     # the classifier in models/guard (`dvc repro guard`)
    .venv/bin/python -m bench.guard --holdout-each      # also: each attack family held out of training in turn
    .venv/bin/python -m bench.guard --seeds 5,11,23     # also: refit on the corpus dealt with each seed, and the mean
    .venv/bin/python -m bench.guard --seeds 5,11,23 --versus encoder_epochs=2  # and another guard_model beside it

Two sets, neither used to fit the classifier:
- the corpus's test split (tasks/guard/corpus.py): templates, goals and support intents the classifier never saw,
  by family, at the threshold chosen on the validation split;
- the fixed set the guard was measured on before the classifier (`tasks.evaluation.guard_set`): hand-written
  held-out attacks and the evaluation's injection probes against hard negatives and generated support traffic,
  with the rules alone beside it (what a rule list catches), and again after 3 and 10 generated support messages
  (padding that would dilute an attack in a whole-text score).
`--holdout-each` refits with one attack family left out of training and validation, and reports that family's
recall: how the guard does on a kind of attack nobody showed it. `--seeds` refits on the corpus dealt to the splits
with other seeds (other templates, goals and intents in the test split): one split's figure moves by several
points with which templates it happened to hold, so the mean over seeds is the figure to compare. Each refitted
classifier is also measured on the fixed set and the text written apart, at its own threshold. `--versus` refits a
second classifier on each deal, with one guard_model setting changed, and prints both side by side.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.hardware import describe

REPO = Path(__file__).resolve().parents[1]


def rates(hits: list[bool], labels: list[bool]) -> tuple[float, float]:
    attacks = [h for h, a in zip(hits, labels, strict=True) if a]
    benign = [h for h, a in zip(hits, labels, strict=True) if not a]
    return sum(attacks) / len(attacks), sum(benign) / len(benign)


def hundred_tokens(texts: list[str], n: int) -> list[str]:
    """`n` messages of 95-120 word pieces, each a few of `texts` joined: what the goal's "100-token message" costs.
    The fixed set's texts average 24 word pieces, and a screen's cost grows with the sentences it embeds."""
    from tasks.models.embeddings import token_counts

    rng = np.random.default_rng(0)
    out: list[str] = []
    while len(out) < n:
        message = ""
        while token_counts([message])[0] < 95:
            message = f"{message} {texts[rng.integers(len(texts))]}".strip()
        if token_counts([message])[0] <= 120:
            out.append(message)
    return out


def screen_ms(guard: Any, texts: list[str]) -> float:
    """Milliseconds per `Guard.screen` of each text as a user turn, best of three passes (the first warms up)."""
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            guard.screen([{"role": "user", "content": text}])
        best = min(best, (time.perf_counter() - started) / len(texts) * 1000)
    return best


def conversations(turns: list[str], turns_each: int, n: int) -> list[list[dict[str, str]]]:
    """`n` chats of `turns_each` user turns from `turns`, each with a short reply after it."""
    chats = []
    for c in range(n):
        messages: list[dict[str, str]] = [{"role": "system", "content": "You are a support agent."}]
        for turn in turns[c * turns_each : (c + 1) * turns_each]:
            messages += [{"role": "user", "content": turn}, {"role": "assistant", "content": "Let me check that."}]
        chats.append(messages)
    return chats


def conversation_ms(guard: Any, chats: list[list[dict[str, str]]]) -> float:
    """Milliseconds per `Guard.screen` of each request of each chat, a request carrying every message before its
    user turn (as an OpenAI client sends them), one pass: a second would find every turn remembered."""
    started, requests = time.perf_counter(), 0
    for messages in chats:
        for end in range(2, len(messages), 2):
            guard.screen(messages[:end])
            requests += 1
    return (time.perf_counter() - started) / requests * 1000


def cleared(classifier: Any, texts: list[str], embed: Any) -> float:
    """Share of the texts the classifier's first stage clears (guard_model.gate_margin): no encoder reads them."""
    from tasks.data.pii import scrub
    from tasks.guard.classifier import CLEARED

    return float(np.mean([f == CLEARED for f in classifier.explain([scrub(t) for t in texts], embed)[1]]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--benign", type=int, default=1000, help="generated traffic prompts in the fixed set")
    parser.add_argument("--holdout-each", action="store_true")
    parser.add_argument("--seeds", default="", help="comma-separated corpus seeds to refit and measure on")
    parser.add_argument("--versus", default="", help="with --seeds: KEY=VALUE, a guard_model setting to compare")
    args = parser.parse_args()

    import torch

    from tasks.config.schema import load_params
    from tasks.data.pii import scrub
    from tasks.evaluation.guard_set import labelled_set, written_apart
    from tasks.guard.build import build, measure
    from tasks.guard.classifier import load
    from tasks.guard.corpus import families, read_corpus, write_corpus
    from tasks.guard.features import RULES
    from tasks.guard.input_guard import REMEMBERED_TEXTS, Guard
    from tasks.models.embeddings import embed, remembering, token_counts

    torch.set_num_threads(1)  # the goal is per core
    print(f"hardware: {describe()}; torch threads 1")
    params = load_params(args.params)
    classifier = load(REPO / params.serving.guard.classifier)
    threshold = params.serving.guard.injection_threshold or classifier.threshold
    cached = remembering(embed)  # heads on the caller's encoder (guard_model.int8: false) embed each sentence once

    corpus = REPO / "data" / "guard" / "generated" / "corpus.jsonl"
    test = [r for r in read_corpus(corpus) if r["split"] == "test"]
    scores = classifier.scores([scrub(r["text"]) for r in test], cached)
    m = measure(test, scores, threshold)
    print(f"\ncorpus test split (unseen templates), threshold {threshold:.3f}: recall {m['recall']}, FPR {m['fpr']}")
    for family, f in m["families"].items():
        figure = f"recall {f['recall']}" if "recall" in f else f"FPR {f['fpr']}"
        print(f"  {family:<22} {f['label']:<7} n={f['n']:<4} {figure}")

    labelled = labelled_set(REPO / "data" / "guard", REPO / "data" / "probes" / "injection.jsonl", args.benign)
    texts = [scrub(t) for t, _ in labelled]
    labels = [a for _, a in labelled]
    print(f"\nfixed set: {sum(labels)} attacks, {len(labels) - sum(labels)} benign")
    recall, fpr = rates([RULES.search(t) is not None for t in texts], labels)
    print(f"  {'rules alone':<28} recall {recall:.3f}  FPR {fpr:.3f}")
    fixed = classifier.scores(texts, cached)
    for t in sorted({0.3, 0.5, 0.7, 0.9, round(threshold, 3)}):
        recall, fpr = rates([s >= t for s in fixed], labels)
        mark = "  <- serving" if t == round(threshold, 3) else ""
        print(f"  {f'classifier >= {t}':<28} recall {recall:.3f}  FPR {fpr:.3f}{mark}")

    from tasks.data.synthesize import traffic

    filler = [r["messages"][-1]["content"] for r in traffic(400, seed=99, shift_share=0.0)]
    rng = np.random.default_rng(0)
    for n in (3, 10):  # a long message of support text with the attack (or the look-alike) at its end
        padded = [" ".join([*rng.choice(filler, n), t]) for t in texts]
        recall, fpr = rates([s >= threshold for s in classifier.scores(padded, cached)], labels)
        print(f"  {f'after {n} support messages':<28} recall {recall:.3f}  FPR {fpr:.3f}")

    for sitting, pairs in written_apart(REPO / "data" / "guard").items():
        flagged = classifier.scores([scrub(t) for t, _ in pairs], cached) >= threshold
        caught = sum(f for f, (_, attack) in zip(flagged, pairs, strict=True) if attack)
        wrong = sum(f for f, (_, attack) in zip(flagged, pairs, strict=True) if not attack)
        attacks = sum(attack for _, attack in pairs)
        print(
            f"  {f'written apart ({sitting})':<28} attacks caught {caught}/{attacks}, "
            f"look-alikes flagged {wrong}/{len(pairs) - attacks}"
        )

    guard = Guard(params.serving.guard, classifier, embed, remember=0)  # each pass reads every text anew
    sample = [t for t, _ in labelled][:200]
    long = hundred_tokens([t for t, _ in labelled], 50)
    support = hundred_tokens(filler, 50)
    for name, batch in (("request", sample), ("100-token message", long), ("100-token support message", support)):
        share = cleared(classifier, batch, cached)
        print(f"  Guard.screen: {screen_ms(guard, batch):.1f} ms per {name}, {np.mean(token_counts(batch)):.0f} word "
              f"pieces on average, {share:.0%} cleared by the first stage (one core)")  # fmt: skip
    chats = conversations(list(dict.fromkeys(filler))[200:], turns_each=6, n=20)  # no turn in two chats
    forgets, remembers = (conversation_ms(Guard(params.serving.guard, classifier, embed, remember=r), chats)
                          for r in (0, REMEMBERED_TEXTS))  # fmt: skip
    print(
        f"  Guard.screen: {remembers:.1f} ms per chat request, against {forgets:.1f} reading every turn anew "
        f"(requests of 20 conversations of 6 support turns, each carrying the turns before it)"
    )

    apart = [pair for pairs in written_apart(REPO / "data" / "guard").values() for pair in pairs]

    def refit(update: dict[str, object]) -> dict[str, Any]:
        """Test-split figures of a classifier refitted with `update`, and its fixed-set and written-apart rates."""
        p = params.model_copy(update={"guard_model": params.guard_model.model_copy(update=update)})
        with tempfile.TemporaryDirectory() as tmp:
            write_corpus(p.guard_model, Path(tmp) / "corpus.jsonl")
            figures = build(p, Path(tmp) / "corpus.jsonl", Path(tmp) / "model", cached)
            refitted = load(Path(tmp) / "model")
            fixed_hits = list(refitted.scores(texts, cached) >= refitted.threshold)
            apart_hits = refitted.scores([scrub(t) for t, _ in apart], cached) >= refitted.threshold
        figures["test"]["fixed_recall"], figures["test"]["fixed_fpr"] = rates(fixed_hits, labels)
        figures["test"]["apart_caught"] = int(sum(h for h, (_, a) in zip(apart_hits, apart, strict=True) if a))
        figures["test"]["apart_flagged"] = int(sum(h for h, (_, a) in zip(apart_hits, apart, strict=True) if not a))
        return figures

    if args.holdout_each:
        print("\neach attack family held out of training and validation (its recall on its test rows):")
        present = {r["family"] for r in read_corpus(corpus)}  # the public families only with public_max
        for family in sorted(f for f, label in families().items() if label and f in present):
            figures = refit({"holdout_families": [family]})
            held = figures["heldout_families"]
            print(f"  {family:<22} recall {held['recall']} (n={held['attacks']}); "
                  f"others: recall {figures['test']['recall']}, FPR {figures['test']['fpr']}")  # fmt: skip

    if args.seeds:
        seeds = [int(s) for s in args.seeds.split(",")]
        variants: dict[str, dict[str, object]] = {"as configured": {}}
        if args.versus:
            key, value = args.versus.split("=", 1)
            variants[args.versus] = {key: yaml.safe_load(value)}
        tests = {name: [] for name in variants}
        for seed in seeds:
            for name, update in variants.items():
                tests[name].append(refit({**update, "seed": seed})["test"])
        print(f"\ntest split of the corpus dealt with seeds {seeds} (refitted each time), and the mean; the fixed set")
        print(f"and the {len(apart)} texts written apart at each refit's own threshold:")
        keys = ["recall", "fpr", "fpr_look_alikes", "fixed_recall", "fixed_fpr", "apart_caught", "apart_flagged"]
        attack_families = [family for family, f in tests["as configured"][0]["families"].items() if "recall" in f]
        for key in keys + attack_families:
            for name, runs in tests.items():
                values = [t[key] if key in keys else t["families"][key]["recall"] for t in runs]
                label = f"{key} ({name})" if args.versus else key
                print(f"  {label:<44} {' '.join(f'{v:.3f}' for v in values)}  mean {np.mean(values):.3f}")


if __name__ == "__main__":
    main()
