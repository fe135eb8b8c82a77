"""Serving throughput: N concurrent clients against `llmops serve`'s app vs one request at a time, per engine.

    .venv/bin/python -m bench.serve                      # SmolLM2-135M from models/base, 16 clients, both engines
    .venv/bin/python -m bench.serve --model tiny --clients 32 --requests 128 --engines llamacpp

Measurements on the same prompts (generated support traffic), greedy, the same max_tokens:
  1. bare `model.generate`, one prompt at a time, in this process (what serving without batching costs);
  2. per engine (serving.engine), the server with one client (sequential requests over HTTP);
  3. per engine, the server with N concurrent clients (the engine batches what arrives together);
and each server's peak resident memory. The server runs in its own process (uvicorn, the app `llmops serve` builds,
guard and request log on), so the clients do not share its interpreter. Throughput counts completion tokens per
second of wall time. The guard and request-log share comes from each response's Server-Timing header (in the request
path) plus the log writer's own cost per entry, measured separately (it runs off the request path, in a background
thread).

With --trace-ratio R (> 0), 2. and 3. of the first engine run twice, on a server without MLflow tracing and on one
tracing a share R of requests into a sqlite store, and it prints the overhead and whether every sampled request
became a trace (counted after the server's shutdown flush).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from bench.hardware import describe
from serving.tracing import sampled

REPO = Path(__file__).resolve().parents[1]

NAME = "bench"


def prompts(n: int) -> list[list[dict[str, str]]]:
    from tasks.data.synthesize import traffic

    return [r["messages"] for r in traffic(n, seed=7, shift_share=0.0)]


def serve(args: argparse.Namespace) -> None:
    """The server process: the app `llmops serve` builds, with the model swapped in instead of the registry's."""
    import uvicorn

    from serving.app import create_app
    from serving.service import assemble, load_dir
    from tasks.config.schema import ServingParams

    params = ServingParams(request_log=f"sqlite:///{args.work / 'requests.db'}", max_batch=args.max_batch,
                           rate_limit_per_minute=0, max_queue=4096, engine=args.engine,
                           tracing={"sample_ratio": args.trace_ratio})  # fmt: skip
    service = assemble(params, NAME, REPO)
    if args.trace_ratio > 0:
        import mlflow

        from serving.tracing import Tracer

        mlflow.set_tracking_uri(f"sqlite:///{args.work / 'mlflow.db'}")
        service.tracer = Tracer(params.tracing, service.metrics.traced)
    loaded = load_dir(Path(args.model), NAME, "1", params)
    service.engine.swap(loaded)
    service.on_model(loaded, None)
    uvicorn.run(create_app(service), host="127.0.0.1", port=args.port, log_level="warning")


def bare(model_dir: Path, chats: list[list[dict[str, str]]], max_tokens: int) -> tuple[float, int]:
    """(seconds, completion tokens) for plain `generate`, one prompt at a time."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from serving.engine import encode_chat
    from tasks.models.batching import pad_id

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    pad = pad_id(tokenizer)

    def generate(chat: list[dict[str, str]]) -> int:
        ids = torch.tensor([encode_chat(tokenizer, chat)])
        with torch.inference_mode():
            out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=max_tokens,
                                 do_sample=False, pad_token_id=pad, top_p=None, top_k=None)  # fmt: skip
        return out.shape[1] - ids.shape[1]

    generate(chats[0])  # warm-up, as the server gets one
    started = time.perf_counter()
    tokens = sum(generate(chat) for chat in chats)
    return time.perf_counter() - started, tokens


def timings(header: str) -> dict[str, float]:
    """Server-Timing `name;dur=ms, ...` as seconds."""
    out = {}
    for part in header.split(","):
        name, _, dur = part.strip().partition(";dur=")
        if dur:
            out[name] = float(dur) / 1000
    return out


async def drive(port: int, chats: list[list[dict[str, str]]], clients: int, max_tokens: int) -> dict:
    import httpx

    pending = list(reversed(chats))
    ids: list[str] = []
    latencies: list[float] = []
    shares: list[float] = []
    tokens = 0
    errors: Counter[str] = Counter()

    async def client(http: httpx.AsyncClient) -> None:
        nonlocal tokens
        while pending:
            chat = pending.pop()
            t0 = time.perf_counter()
            r = await http.post("/v1/chat/completions", json={"model": NAME, "messages": chat,
                                                               "max_tokens": max_tokens, "temperature": 0})  # fmt: skip
            elapsed = time.perf_counter() - t0
            ids.append(r.headers.get("x-request-id", ""))
            if r.status_code != 200:
                errors[f"{r.status_code} {r.json()['error']['code']}"] += 1
                continue
            latencies.append(elapsed)
            tokens += r.json()["usage"]["completion_tokens"]
            t = timings(r.headers.get("server-timing", ""))
            shares.append((t.get("guard", 0) + t.get("log", 0)) / elapsed)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=600, limits=limits) as http:
        started = time.perf_counter()
        await asyncio.gather(*(client(http) for _ in range(clients)))
        wall = time.perf_counter() - started
    latencies.sort()
    return {
        "wall": wall,
        "tokens": tokens,
        "errors": errors,
        "p50": statistics.median(latencies),
        "p95": latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        "share": statistics.mean(shares),
        "ids": ids,
    }


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def run_server(
    args: argparse.Namespace, model: Path, work: Path, chats: list[list[dict[str, str]]], trace_ratio: float,
    engine: str,
) -> tuple[dict, dict]:  # fmt: skip
    """One server process: a warm-up, then one client and N clients; stopped (and its traces flushed) after."""
    from tasks.core.processes import free_port, wait_until_ready

    work.mkdir()
    port = free_port()
    cmd = [sys.executable, "-m", "bench.serve", "--serve", "--model", str(model), "--port", str(port),
           "--work", str(work), "--max-batch", str(args.max_batch), "--trace-ratio", str(trace_ratio),
           "--engine", engine]  # fmt: skip
    server = subprocess.Popen(cmd, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"})
    try:
        wait_until_ready(f"http://127.0.0.1:{port}/ready", server, timeout=300)
        warm = asyncio.run(drive(port, chats[:2], 1, args.max_tokens))  # first guard embedding, first batch
        one = asyncio.run(drive(port, chats[: args.sequential], 1, args.max_tokens))
        many = asyncio.run(drive(port, chats[: args.requests], args.clients, args.max_tokens))
        many["rss_mb"] = peak_rss_mb(server.pid)
    except (ChildProcessError, TimeoutError) as e:
        sys.exit(f"the server did not start: {e}")
    finally:
        server.terminate()
        server.wait(timeout=120)
    one["warm_up"] = warm["ids"]
    return one, many


def count_traces(work: Path) -> int:
    import mlflow

    from tasks.config.schema import TracingParams

    mlflow.set_tracking_uri(f"sqlite:///{work / 'mlflow.db'}")
    experiment = mlflow.get_experiment_by_name(TracingParams().experiment)
    if experiment is None:
        return 0
    return len(mlflow.search_traces(locations=[experiment.experiment_id], return_type="list", include_spans=False,
                                    max_results=100_000))  # fmt: skip


def tracer_cost(work: Path, n: int = 100) -> tuple[float, float]:
    """Seconds per trace (the writer's redaction and spans; MLflow's export into a sqlite store), the work tracing
    adds per request in the tracer's own process, measured one after the other on the same records."""
    import mlflow

    from serving.tracing import _Writer
    from tasks.config.schema import TracingParams

    mlflow.set_tracking_uri(f"sqlite:///{work / 'cost.db'}")
    writer = _Writer(TracingParams(experiment="cost"))
    chats = prompts(n)
    writer.write(_record("warm-up", chats[0]))  # the experiment and the store's tables
    mlflow.flush_trace_async_logging()
    started = time.perf_counter()
    for i, chat in enumerate(chats):
        writer.write(_record(f"chatcmpl-{i}", chat))
    built = time.perf_counter()
    mlflow.flush_trace_async_logging()
    return (built - started) / n, (time.perf_counter() - built) / n


def _record(rid: str, chat: list[dict[str, str]]):
    from serving.tracing import Record, Step

    t0 = time.perf_counter()
    steps = [Step(name, "UNKNOWN", t0 + i * 0.01, t0 + i * 0.01 + 0.005, {"k": i}) for i, name in
             enumerate(("input_guard", "prompt", "queue", "generate", "output_guard", "request_log"))]  # fmt: skip
    metadata = {"model_version": "1", "endpoint": "chat", "status": "200"}
    return Record(rid, "chat.completions", time.time_ns(), t0, t0 + 0.1, 200, chat, chat[-1]["content"], "c", "k",
                  metadata, {"prompt_tokens": 40}, steps)  # fmt: skip


def log_writer_cost(work: Path, n: int = 2000) -> float:
    """Seconds per entry for the background writer: redaction plus the batched insert."""
    from tasks.monitoring.request_log import Entry, RequestLog

    chats = prompts(n)
    store = RequestLog(f"sqlite:///{work / 'writer.db'}", retention_days=30)
    started = time.perf_counter()
    for i, chat in enumerate(chats):
        store.record(Entry(id=f"w{i}", endpoint="chat", messages=chat, status=200, completion=chat[-1]["content"]))
    store.flush()
    elapsed = time.perf_counter() - started
    store.close()
    return elapsed / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="models/base", help="a materialised model dir, or 'tiny'")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=64, help="requests in the concurrent run")
    parser.add_argument("--sequential", type=int, default=16, help="requests in each one-at-a-time run")
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--max-batch", type=int, default=16, help="serving.max_batch for the server")
    parser.add_argument("--trace-ratio", type=float, default=1.0,
                        help="also run a server tracing this share of requests to MLflow (0: skip)")  # fmt: skip
    parser.add_argument("--engines", default="transformers,llamacpp", help="serving.engine values, in order")
    parser.add_argument("--engine", default="transformers", help=argparse.SUPPRESS)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args)
        return

    print(f"hardware: {describe()}")
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        work = Path(tmp)
        model = Path(args.model)
        if args.model == "tiny":
            from tasks.models.base_model import materialize

            model = work / "tiny"
            materialize("tiny", model)
        elif not (model / "config.json").is_file():
            sys.exit(f"{model} is not a model directory: run `dvc repro base_model` first, or pass --model tiny")
        chats = prompts(max(args.requests, args.sequential))
        print(f"model {model}: {args.max_tokens} max tokens, greedy; server max_batch {args.max_batch}")

        bare_s, bare_tokens = bare(model, chats[: args.sequential], args.max_tokens)
        bare_tps = bare_tokens / bare_s
        print(f"  bare generate, one at a time     {bare_tps:8.1f} tokens/s  {args.sequential / bare_s:6.2f} req/s")

        engines = args.engines.split(",")
        results = {e: run_server(args, model, work / e, chats, 0.0, e) for e in engines}
        one, many = results[engines[0]]
        if args.trace_ratio > 0:
            traced_one, traced_many = run_server(args, model, work / "traced", chats, args.trace_ratio, engines[0])
            sent = [i for r in (traced_one, traced_many) for i in r["ids"]] + traced_one["warm_up"]
            expected = sum(sampled(i, args.trace_ratio) for i in sent)
            written = count_traces(work / "traced")
            build_s, export_s = tracer_cost(work)
        writer = log_writer_cost(work)

    for engine, (e_one, e_many) in results.items():
        print(f"  engine {engine}: peak memory {e_many['rss_mb']:.0f} MB (server process)")
        for label, r, n in [("server, 1 client", e_one, args.sequential),
                            (f"server, {args.clients} clients", e_many, args.requests)]:  # fmt: skip
            tps = r["tokens"] / r["wall"]
            print(f"    {label:<30} {tps:8.1f} tokens/s ({tps / bare_tps:5.2f}x bare)  {n / r['wall']:6.2f} req/s  "
                  f"p50 {r['p50']:.2f} s  p95 {r['p95']:.2f} s  "
                  f"errors {sum(r['errors'].values())} {dict(r['errors']) or ''}")  # fmt: skip
    many_tps = many["tokens"] / many["wall"]
    for engine, (_, e_many) in list(results.items())[1:]:
        ratio = (e_many["tokens"] / e_many["wall"]) / many_tps
        print(f"  {engine} / {engines[0]}, {args.clients} clients: {ratio:.2f}x tokens/s, "
              f"{e_many['p95'] / many['p95']:.2f}x p95, {e_many['rss_mb'] / many['rss_mb']:.2f}x memory")  # fmt: skip
    writer_share = writer / one["p50"]
    print(f"  guard + request log, share of request time (1 client): {one['share']:.1%} in the request path "
          f"+ {writer_share:.1%} writer thread ({writer * 1000:.2f} ms/entry)  (goal < 5%)")  # fmt: skip
    if args.trace_ratio > 0:
        for label, plain, traced in (("1 client", one, traced_one), (f"{args.clients} clients", many, traced_many)):
            cost = (plain["tokens"] / plain["wall"]) / (traced["tokens"] / traced["wall"]) - 1
            print(f"  MLflow tracing ({args.trace_ratio:.0%} sampled), {label}: tokens/s {cost:+.1%}, "
                  f"p50 {traced['p50'] / plain['p50'] - 1:+.1%}  (goal < 5%)")  # fmt: skip
        print(f"  traces written: {written} of {expected} sampled requests ({len(sent)} sent)")
        print(f"  tracing work per request, in the tracer's own process: {build_s * 1000:.1f} ms building the "
              f"trace, {export_s * 1000:.1f} ms MLflow's export into sqlite (mostly the store's commits)")  # fmt: skip


if __name__ == "__main__":
    main()
