"""Retrieval-augmented generation: what the index costs to build, to search at scale, and per request.

    .venv/bin/python -m bench.rag                          # 10k and 1M chunks, SmolLM2 from models/base
    .venv/bin/python -m bench.rag --sizes 10000 --requests 8

1. Build: the generated help centre (llmops kb) chunked and embedded into LanceDB, as the `index` stage does.
2. Search at N chunks: the real chunks plus generated unit vectors up to N (random 384-d vectors: they stand in for
   a large knowledge base's volume, not for its difficulty). Up to 100k rows LanceDB scans them all (exact); past
   that the table gets an IVF_PQ index, as a large deployment would. Query embedding and search are timed apart,
   and hit@1 says whether the question's source article still comes first among N.
3. Per request: SmolLM2 answering the same questions with and without the retrieved context, with the same number
   of new tokens each way (min = max), so the difference is retrieval plus the longer prompt's prefill. The
   overhead is that difference over the plain request's time.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.hardware import describe

REPO = Path(__file__).resolve().parents[1]


def percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    return f"p50 {statistics.median(ms):.2f} ms, p95 {ms[int(0.95 * (len(ms) - 1))]:.2f} ms"


def asked(n: int) -> list[dict]:
    from tasks.config.schema import GenerateParams
    from tasks.core.files import write_jsonl
    from tasks.data.synthesize import records
    from tasks.evaluation.retrieval import questions

    rows = [r for r in itertools.islice(records(GenerateParams(n_records=4 * n, seed=41)), 4 * n) if r.get("intent")]
    with tempfile.TemporaryDirectory() as tmp:
        write_jsonl(Path(tmp) / "q.jsonl", rows)
        return questions(Path(tmp) / "q.jsonl")[:n]


def build(root: Path) -> dict:
    from tasks.config.schema import IndexParams
    from tasks.data.synthesize import intent_templates
    from tasks.knowledge.articles import write_kb
    from tasks.knowledge.index import build as build_index

    write_kb(intent_templates(), root / "kb")
    figures = build_index(root / "kb", IndexParams(uri=str(root / "index")))
    print(f"build: {figures['articles']} articles -> {figures['chunks']} chunks, {figures['tokens']} tokens in "
          f"{figures['seconds']} s: {figures['chunks_per_s']} chunks/s, "
          f"{figures['tokens_per_s']} tokens/s")  # fmt: skip
    return figures


def at_scale(root: Path, sizes: list[int], queries: list[dict]) -> None:
    from lancedb.index import IvfPq

    from tasks.knowledge.index import DIMENSIONS, connect
    from tasks.knowledge.retrieve import Retriever
    from tasks.models.embeddings import embed

    real = connect(str(root / "index")).open_table("chunks").to_arrow()
    t0 = time.perf_counter()
    vectors = embed([q["query"] for q in queries])
    per_query = (time.perf_counter() - t0) / len(queries)
    print(f"query embedding: {per_query * 1000:.2f} ms per question (batched MiniLM, ONNX)")
    rng = np.random.default_rng(0)
    for n in sizes:
        db = connect(str(root / f"scale-{n}"))
        table = db.create_table("chunks", data=real, mode="overwrite")
        for start in range(real.num_rows, n, 100_000):
            m = min(100_000, n - start)
            filler = rng.standard_normal((m, DIMENSIONS)).astype(np.float32)
            filler /= np.linalg.norm(filler, axis=1, keepdims=True)
            ids = [f"filler-{start + i}" for i in range(m)]
            columns = {"id": ids, "article": ids, "title": ["filler"] * m, "heading": [""] * m, "text": [""] * m,
                       "vector": pa.FixedSizeListArray.from_arrays(pa.array(filler.ravel()), DIMENSIONS)}  # fmt: skip
            table.add(pa.table(columns, schema=real.schema))
        kind = "exact scan"
        if n > 100_000:
            t0 = time.perf_counter()
            table.create_index("vector", config=IvfPq(distance_type="cosine", num_partitions=int(np.sqrt(n)),
                                                      num_sub_vectors=48))  # fmt: skip
            kind = f"IVF_PQ ({time.perf_counter() - t0:.0f} s to build)"
        retriever = Retriever(str(root / f"scale-{n}"), "chunks", embed, refresh_s=1e9)
        seconds, first = [], 0
        for q, v in zip(queries, vectors, strict=True):
            t0 = time.perf_counter()
            hits = retriever.search_vector(v, 3)
            seconds.append(time.perf_counter() - t0)
            first += bool(hits) and hits[0].article in q["sources"]
        print(
            f"search at {table.count_rows():>9,} chunks, {kind}: {percentiles(seconds)}; "
            f"hit@1 {first / len(queries):.3f}"
        )


def per_request(root: Path, model_dir: Path, queries: list[dict], new_tokens: int) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from tasks.knowledge.context import with_context
    from tasks.knowledge.retrieve import Retriever
    from tasks.models.embeddings import embed

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir).eval()
    retriever = Retriever(str(root / "index"), "chunks", embed, refresh_s=1e9)

    def answer(messages: list[dict[str, str]]) -> tuple[float, int]:
        ids = tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                            return_dict=True)  # fmt: skip
        t0 = time.perf_counter()
        with torch.inference_mode():
            model.generate(**ids, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False)
        return time.perf_counter() - t0, ids["input_ids"].shape[1]

    answer([{"role": "user", "content": "warm up"}])
    plain, rag, lookup, extra = [], [], [], []
    for q in queries:
        messages = [{"role": "user", "content": q["query"]}]
        seconds, tokens = answer(messages)
        plain.append(seconds)
        t0 = time.perf_counter()
        hits = retriever.search(q["query"], 3, 0.35)
        lookup.append(time.perf_counter() - t0)
        seconds_rag, tokens_rag = answer(with_context(messages, hits))
        rag.append(seconds_rag + lookup[-1])
        extra.append(tokens_rag - tokens)
    overhead = (sum(rag) - sum(plain)) / sum(plain)
    print(f"per request ({len(queries)} questions, {new_tokens} new tokens each, {model_dir.name}, "
          f"{torch.get_num_threads()} threads): plain {percentiles(plain)}; with retrieval {percentiles(rag)} "
          f"(retrieval {percentiles(lookup)}, +{statistics.mean(extra):.0f} prompt tokens)")  # fmt: skip
    print(f"RAG overhead: {overhead:+.1%} of the plain request's time (retrieval alone "
          f"{sum(lookup) / sum(plain):.1%})")  # fmt: skip
    cache_hits(queries, embed, plain)


def cache_hits(queries: list[dict], embed, generation: list[float], entries: int = 10_000) -> None:
    """A hit's cost (embed the question, look it up among `entries` answers) next to generating the answer."""
    from tasks.knowledge.answer_cache import AnswerCache, Cached

    cache = AnswerCache(0.95, entries, 3600)
    rng = np.random.default_rng(1)
    filler = rng.standard_normal((entries - len(queries), 384)).astype(np.float32)
    for v in filler / np.linalg.norm(filler, axis=1, keepdims=True):
        cache.add(("v",), v, Cached("", "", 1, 0.0))
    for q, v in zip(queries, embed([q["query"] for q in queries]), strict=True):
        cache.add(("v",), v, Cached(q["query"], "", 64, 0.0))
    seconds = []
    for q in queries:
        t0 = time.perf_counter()
        hit = cache.lookup(("v",), embed([q["query"]])[0])
        seconds.append(time.perf_counter() - t0)
        assert hit is not None and hit.entry.answer == q["query"]
    print(f"cache hit among {entries:,} answers (embed + lookup): {percentiles(seconds)}, "
          f"{statistics.median(generation) / statistics.median(seconds):.0f}x faster than generating")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,1000000", help="comma-separated chunk counts to search")
    parser.add_argument("--queries", type=int, default=200, help="generated questions to search with")
    parser.add_argument("--requests", type=int, default=16, help="questions answered with and without context")
    parser.add_argument("--new-tokens", type=int, default=64)
    parser.add_argument("--model", type=Path, default=REPO / "models" / "base")
    args = parser.parse_args()
    print(describe())
    queries = asked(args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build(root)
        at_scale(root, [int(s) for s in args.sizes.split(",") if s], queries)
        if args.requests and (args.model / "config.json").exists():
            per_request(root, args.model, queries[: args.requests], args.new_tokens)
        elif args.requests:
            print(f"per request: skipped, no model at {args.model} (dvc repro base_model)")


if __name__ == "__main__":
    main()
