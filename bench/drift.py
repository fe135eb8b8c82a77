"""Drift detector quality and speed on generated traffic, against the real training reference.

    .venv/bin/python -m bench.drift                       # 20 seeds, windows of 1000, the 10k vs 10k timing
    .venv/bin/python -m bench.drift --seeds 40 --window 500 --shift 0.2

In-distribution windows (`tasks.data.synthesize.traffic`, shift 0) over several seeds give the false-alarm rate;
windows with `--shift` of their prompts from newly launched products give the detection rate. Prompts are
PII-scrubbed first, as the request log stores them. Each window is judged alone (decide_k = decide_n = 1),
then the k-of-n rule's rates follow from the per-window rates. The timing run checks 10k prompts against a 10k
reference with the sampling in params (drift.reference_rows / embed_rows embedded, lengths over all rows), from
scratch and again with the reference embeddings cached, as the scheduled check runs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from math import comb
from pathlib import Path

from bench.hardware import describe

REPO = Path(__file__).resolve().parents[1]


def window(n: int, seed: int, shift: float) -> list[str]:
    from tasks.data.pii import scrub
    from tasks.data.synthesize import traffic

    return [scrub(r["messages"][-1]["content"]) for r in traffic(n, seed, shift)]


def k_of_n_rate(p: float, k: int, n: int) -> float:
    """Chance that k of n independent windows violate, the latest among them."""
    return p * sum(comb(n - 1, i) * p**i * (1 - p) ** (n - 1 - i) for i in range(k - 1, n))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", type=Path, default=REPO / "params.yaml")
    parser.add_argument("--reference", type=Path, default=REPO / "data" / "split" / "train.jsonl")
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--window", type=int, default=1000)
    parser.add_argument("--shift", type=float, default=0.2)
    parser.add_argument("--timing-rows", type=int, default=10_000)
    args = parser.parse_args()

    from tasks.config.schema import load_params
    from tasks.monitoring.drift import Reference, check, read_reference

    if not args.reference.is_file():
        sys.exit(f"{args.reference} not found: run `dvc repro split` first")
    params = load_params(args.params).drift.model_copy(update={"decide_k": 1, "decide_n": 1})
    reference = read_reference(args.reference)
    print(f"hardware: {describe()}")
    print(f"reference: {len(reference.prompts)} training prompts ({args.reference}); windows of {args.window}; "
          f"p_value {params.p_value}, embed_rows {params.embed_rows}")  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        cache = Path(tmp)
        rates = {}
        for label, shift in (("in-distribution", 0.0), (f"shifted {args.shift:.0%}", args.shift)):
            fired: Counter[str] = Counter()
            violated = 0
            for seed in range(1, args.seeds + 1):
                result = check(reference, window(args.window, seed, shift), params, cache=cache)
                violated += result.violated
                fired.update(c.name for c in result.checks if c.fired)
            rates[shift] = violated / args.seeds
            by_check = ", ".join(f"{name} {count}" for name, count in sorted(fired.items())) or "none"
            share = f"{violated}/{args.seeds} = {rates[shift]:.0%}"
            print(f"  {label:<18} windows flagged {share}  (checks fired: {by_check})")
        print(f"  false alarms {rates[0.0]:.0%} (goal <= 5%), detection {rates[args.shift]:.0%} (goal >= 95%)")
        for k, n in ((2, 3), (3, 5)):
            print(f"  decide {k} of {n} (independent windows): false alarms {k_of_n_rate(rates[0.0], k, n):.2%}, "
                  f"detection {k_of_n_rate(rates[args.shift], k, n):.1%}")  # fmt: skip

        rows = args.timing_rows
        big = Reference(window(rows, 10_001, 0.0), ["unknown"] * rows)
        big_params = params.model_copy(update={"max_window": rows})  # the rest as in params: sampled per side
        prompts = window(rows, 10_002, args.shift)
        timing_cache = Path(tmp) / "timing"
        for label in ("cold (reference embedded)", "warm (reference cached)"):
            started = time.perf_counter()
            result = check(big, prompts, big_params, cache=timing_cache)
            print(f"  {rows} vs {rows}, {label}: {time.perf_counter() - started:.1f} s (goal <= 60 s); "
                  f"{result.status}")  # fmt: skip


if __name__ == "__main__":
    main()
