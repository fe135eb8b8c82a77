"""Evaluation generation speed: static batches (what evaluation did: `generate` of transformers, each batch
running to its longest reply) vs the transformers engine's continuous batching (what it does now: a finished
reply's row goes to the next prompt), by batch size and dtype (model.inference_dtype).

    .venv/bin/python -m bench.eval_speed                                  # SmolLM2-135M from models/base
    .venv/bin/python -m bench.eval_speed --adapter models/adapter          # the fine-tune, merged as evaluated
    .venv/bin/python -m bench.eval_speed --model tiny --rows 64

The prompts are what `llmops evaluate` generates for: the test split's conversations up to their last assistant
turn, then the PII, injection and benign probes (data/split/test.jsonl, data/probes/). Every variant generates
greedy replies for the same prompts, shortest first, with the same max_new_tokens, in this process, one after the
other; replies/s and generated tokens/s are over the generation only. The gain depends on how unequal the replies
are: a fine-tune that answers briefly gains more than a base model that talks to the token budget. "same
replies" is the share identical to the first variant's: padding and batch composition change the arithmetic a
little, so greedy decoding may pick another token on a near tie; bf16 rounds every product, so more replies
differ. Generation alone is not an evaluation: docs/evaluation.md has both.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from bench.hardware import describe

REPO = Path(__file__).resolve().parents[1]


def prompts(rows: int) -> list[list[dict]]:
    from tasks.core.files import read_jsonl
    from tasks.evaluation.probes import load_probes

    test = [row["messages"][:-1] for row in read_jsonl(REPO / "data/split/test.jsonl")]
    sets = load_probes(REPO / "data/probes")
    return (test + [p.messages for p in sets.pii + sets.injection + sets.benign])[:rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(REPO / "models/base"), help="a model directory, or tiny")
    parser.add_argument("--adapter", default=None, help="a LoRA adapter directory, merged into the model")
    parser.add_argument("--rows", type=int, default=256)
    parser.add_argument("--max-new-tokens", type=int, default=64)
    parser.add_argument("--batch-sizes", default="32,64,128", help="continuous batching's rows")
    parser.add_argument("--dtypes", default="bf16", help="dtypes beside fp32, tried with 64 rows")
    args = parser.parse_args()

    import torch

    from tasks.config.schema import EvaluateParams
    from tasks.evaluation.evaluate import generate, load_model
    from tasks.models.inference import DTYPES
    from tasks.pyfunc.generation import generate_replies

    model_dir = Path(args.model)
    if args.model == "tiny":
        from tasks.models.base_model import materialize

        model_dir = Path(tempfile.mkdtemp()) / "tiny"
        materialize("tiny", model_dir)
    model, tokenizer = load_model(model_dir, Path(args.adapter) if args.adapter else None)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = model.to(device)
    convs = sorted(prompts(args.rows), key=lambda c: len(tokenizer.apply_chat_template(c, tokenize=True)))
    print(f"{describe()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"{model_dir.name}{' + ' + args.adapter if args.adapter else ''}: {len(convs)} prompts, "
          f"max_new_tokens {args.max_new_tokens}, greedy\n")  # fmt: skip

    def count(replies: list[str]) -> int:
        return sum(len(ids) for ids in tokenizer(replies, add_special_tokens=False)["input_ids"])

    generate_replies(model, tokenizer, convs[:8], 8, 0.0, 8)  # warm-up: the first variant must not pay for it
    started = time.perf_counter()
    reference = generate_replies(model, tokenizer, convs, args.max_new_tokens, 0.0, 64)
    base_s = time.perf_counter() - started
    results = [("static batches of 64 (before)", base_s, reference)]
    for size in [int(b) for b in args.batch_sizes.split(",")]:
        cfg = EvaluateParams(batch_size=size, max_new_tokens=args.max_new_tokens)
        out = generate(model, tokenizer, convs, cfg, desc=f"continuous, {size} rows")
        results.append((f"continuous, {size} rows", out.seconds, out.replies))
    for name in filter(None, args.dtypes.split(",")):
        cfg = EvaluateParams(batch_size=64, max_new_tokens=args.max_new_tokens)
        model = model.to(DTYPES[name])
        generate_replies(model, tokenizer, convs[:64], 8, 0.0, 64)  # the dtype's kernels warm up too
        out = generate(model, tokenizer, convs, cfg, desc=f"{name}, 64 rows")
        results.append((f"continuous, 64 rows, {name}", out.seconds, out.replies))

    print(f"{'variant':32} {'replies/s':>10} {'tokens/s':>9} {'vs before':>10} {'same replies':>13}")
    for name, seconds, replies in results:
        same = sum(a == b for a, b in zip(replies, reference, strict=True)) / len(reference)
        print(f"{name:32} {len(replies) / seconds:10.2f} {count(replies) / seconds:9.1f} "
              f"{base_s / seconds:9.2f}x {same:12.0%}")  # fmt: skip


if __name__ == "__main__":
    main()
