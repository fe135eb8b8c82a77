"""Training throughput: our DeepSpeed loop vs a bare PEFT + torch loop, and 2 CPU ranks vs 1 process.

    .venv/bin/python -m bench.train_throughput                    # SmolLM2-135M from models/base, 10 steps
    .venv/bin/python -m bench.train_throughput --model tiny --steps 30
    .venv/bin/python -m bench.train_throughput --random-1b        # GPU: a random ~1B model of the same shape

Every variant runs in its own process on the same rows (data/split/train.jsonl, via the same batch schedule)
and the same global batch; tokens/s counts non-padding tokens over the optimizer steps only (no start-up, no
evaluation). Peak RSS is the largest process of the variant. On a GPU the loops run in bf16 and the script
also prints model FLOPs utilisation (6 x parameters x tokens/s against the GPU's bf16 peak).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.hardware import describe

REPO = Path(__file__).resolve().parents[1]

BF16_PEAK_TFLOPS = {"H100": 989.0, "H200": 989.0, "A100": 312.0}  # dense, per GPU, from vendor datasheets


def bare_loop(args: argparse.Namespace) -> None:
    """The reference: peft + torch.optim with nothing around it, on the batches our schedule produces."""
    import torch
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, get_scheduler

    from tasks.config.schema import Params
    from tasks.models.base_model import load_tokenizer
    from tasks.training.model_setup import lora_targets
    from tasks.training.sft_data import Schedule, collate, encode, load_conversations

    params = Params.model_validate_json(args.config.read_text(encoding="utf-8"))
    cfg = params.train
    cuda = torch.cuda.is_available()
    device = torch.device("cuda" if cuda else "cpu")
    tokenizer = load_tokenizer(args.base)
    data = encode(tokenizer, load_conversations(args.data / "train.jsonl"), cfg.max_seq_len)
    schedule = Schedule(
        data.lengths, data.targets, cfg.micro_batch_size, 1, cfg.grad_accum_steps, cfg.seed, cfg.group_by_length
    )
    torch.manual_seed(cfg.seed)
    dtype = torch.bfloat16 if cuda else torch.float32
    model = AutoModelForCausalLM.from_pretrained(args.base, dtype=dtype).to(device)
    lora = params.lora
    targets = lora_targets(model, lora.target_modules, args.base)
    model = get_peft_model(
        model, LoraConfig(r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets)
    )
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    scheduler = get_scheduler(cfg.scheduler, optimizer, cfg.warmup_steps, cfg.max_steps)
    model.train()
    pad = tokenizer.pad_token_id
    tokens = seconds = 0.0
    for step in range(cfg.max_steps):
        started = time.perf_counter()
        for micro in range(step * cfg.grad_accum_steps, (step + 1) * cfg.grad_accum_steps):
            batch = {
                k: v.to(device) for k, v in collate(data, schedule.rank_rows(micro, 0), pad, 8 if cuda else 1).items()
            }
            loss = model(**batch).loss / cfg.grad_accum_steps
            loss.backward()
            tokens += float(batch["attention_mask"].sum())
        torch.nn.utils.clip_grad_norm_(trainable, cfg.max_grad_norm)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        if cuda:
            torch.cuda.synchronize()
        seconds += time.perf_counter() - started
    args.metrics.write_text(json.dumps({"tokens_per_s": tokens / seconds, "tokens": tokens, "train_seconds": seconds}))


def run_variant(cmd: list[str], env: dict[str, str]) -> float:
    """Run one variant to completion; returns its peak RSS in MB (largest process, ranks included)."""
    proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd[:6])} failed:\n{proc.stderr.read()[-4000:]}")
    return usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/base", help="a materialised model dir, or 'tiny'")
    parser.add_argument("--random-1b", action="store_true", help="also a randomly initialised ~1B Llama (GPU)")
    parser.add_argument("--data", type=Path, default=REPO / "data" / "split")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--micro-batch", type=int, default=8)
    parser.add_argument("--seq-len", type=int, default=512)
    parser.add_argument("--bare", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--config", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--base", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--metrics", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare:
        bare_loop(args)
        return
    if not (args.data / "train.jsonl").is_file():
        sys.exit(f"{args.data / 'train.jsonl'} not found: run `dvc repro split` first")

    import torch

    from tasks.models.base_model import materialize

    gpus = torch.cuda.device_count()
    print(f"hardware: {describe()}")
    with tempfile.TemporaryDirectory(prefix="bench-train-") as tmp:
        work = Path(tmp)
        models = {"tiny" if args.model == "tiny" else Path(args.model).name: Path(args.model)}
        if args.model == "tiny":
            models["tiny"] = work / "tiny"
            materialize("tiny", models["tiny"])
        if args.random_1b:
            models["random-1b"] = random_1b(Path(args.model if args.model != "tiny" else "models/base"), work / "r1b")
        for name, base in models.items():
            bench_model(name, base, args, work, gpus)


def random_1b(like: Path, out: Path) -> Path:
    """A ~1.1B-parameter model of the base's architecture (Llama), random weights, the base's tokenizer."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    config = AutoConfig.from_pretrained(like)
    config.update(
        {
            "hidden_size": 2048,
            "intermediate_size": 5632,
            "num_hidden_layers": 22,
            "num_attention_heads": 32,
            "num_key_value_heads": 4,
        }
    )
    torch.manual_seed(0)
    AutoModelForCausalLM.from_config(config).save_pretrained(out)
    AutoTokenizer.from_pretrained(like).save_pretrained(out)
    return out


def bench_model(name: str, base: Path, args: argparse.Namespace, work: Path, gpus: int) -> None:
    from tasks.config.schema import parse_params
    from tasks.core.processes import free_port
    from tasks.training import cpu_comm
    from tasks.training.launcher import launch_command, threads_per_rank

    cores = os.cpu_count() or 1
    world_multi = max(gpus, 2)
    variants = [("bare PEFT loop, 1 process", "bare", 1), ("ours, DeepSpeed ZeRO-2, 1 rank", "ours", 1)]
    if gpus != 1:
        variants.append((f"ours, DeepSpeed ZeRO-2, {world_multi} ranks", "ours", world_multi))
    print(f"\nmodel {name} ({base}): {args.steps} steps, global batch {args.micro_batch} rows, seq <= {args.seq_len}")
    results = {}
    for label, kind, world in variants:
        run_dir = work / f"{name}-{kind}-{world}"
        run_dir.mkdir()
        micro = args.micro_batch // world
        train = {
            "world_size": world,
            "max_steps": args.steps,
            "micro_batch_size": micro,
            "grad_accum_steps": 1,
            "max_seq_len": args.seq_len,
            "eval_every": 10**6,
            "eval_max_rows": 8,
            "checkpoint_every": 10**6,
            "log_every": 10**6,
            "warmup_steps": 1,
        }
        (run_dir / "params.json").write_text(parse_params({"train": train}).model_dump_json(by_alias=True))
        metrics = run_dir / "metrics.json"
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        if not gpus:
            env.update(cpu_comm.build(), OMP_NUM_THREADS=str(threads_per_rank(world, cores)))
        common = ["--config", str(run_dir / "params.json"), "--base", str(base), "--data", str(args.data)]
        common += ["--metrics", str(metrics)]
        if kind == "bare":
            cmd = [sys.executable, "-m", "bench.train_throughput", "--bare", *common]
        else:
            rank_args = [*common, "--out", str(run_dir / "adapter"), "--history", str(run_dir / "history.csv")]
            rank_args += ["--checkpoints", str(run_dir / "ckpt"), "--fingerprint", "bench"]
            cmd = launch_command(rank_args, world, None, free_port())
        rss = run_variant(cmd, env)
        tps = json.loads(metrics.read_text())["tokens_per_s"]
        results[label] = tps
        print(f"  {label:<36} {tps:9.1f} tokens/s   peak RSS {rss:7.0f} MB")
    bare, ours = results[variants[0][0]], results[variants[1][0]]
    print(f"  ratio ours/bare (1 process):        {ours / bare:.3f}  (goal >= 0.95)")
    if len(variants) > 2:
        print(f"  ratio {world_multi} ranks / 1 rank:               {results[variants[2][0]] / ours:.3f}")
    if gpus:
        mfu(name, base, ours)


def mfu(name: str, base: Path, tokens_per_s: float) -> None:
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    with torch.device("meta"):
        n = sum(p.numel() for p in AutoModelForCausalLM.from_config(AutoConfig.from_pretrained(base)).parameters())
    gpu = torch.cuda.get_device_name(0)
    peak = next((v for k, v in BF16_PEAK_TFLOPS.items() if k in gpu), None)
    achieved = 6 * n * tokens_per_s / 1e12
    share = f"{100 * achieved / peak:.1f}% of {peak:.0f} TFLOPS bf16 peak" if peak else "peak unknown for this GPU"
    print(f"  model FLOPs utilisation ({name}, {n / 1e6:.0f}M params): {achieved:.1f} TFLOPS, {share}")


if __name__ == "__main__":
    main()
