"""The `index` stage: the knowledge base's chunks, embedded with the shipped MiniLM, as a LanceDB table.

The table lives at a folder (a DVC output) or an object-store URI (s3://, gs://, az://: LanceDB writes there the
same way), so a team shares one index by configuration. Its version (a hash of what was embedded) rides in the
table's schema metadata, where every reader, local or remote, finds it.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from tasks.config.schema import IndexParams
from tasks.core.progress import Progress
from tasks.knowledge.chunks import Chunk, article_chunks, kb_files
from tasks.models.embeddings import embed, token_counts

VERSION_KEY = b"llmops.index_version"
DIMENSIONS = 384


def version_of(chunks: list[Chunk]) -> str:
    """Moves when any chunk's id or text does: the cache and the request log key on it."""
    digest = hashlib.sha256()
    for c in chunks:
        digest.update(f"{c.id}\x00{c.embedded()}\x00".encode())
    return digest.hexdigest()[:16]


def table_of(chunks: list[Chunk], vectors: np.ndarray, version: str) -> pa.Table:
    fields = [(name, pa.string()) for name in ("id", "article", "title", "heading", "text")]
    schema = pa.schema([*fields, ("vector", pa.list_(pa.float32(), DIMENSIONS))],
                       metadata={VERSION_KEY: version.encode()})  # fmt: skip
    columns = {name: [getattr(c, name) for c in chunks] for name in ("id", "article", "title", "heading", "text")}
    flat = pa.array(vectors.astype(np.float32).ravel())
    return pa.table({**columns, "vector": pa.FixedSizeListArray.from_arrays(flat, DIMENSIONS)}, schema=schema)


def connect(uri: str):
    import lancedb

    return lancedb.connect(uri)


def build(kb: Path, p: IndexParams, batch: int = 256) -> dict[str, Any]:
    """Chunk every article under `kb`, embed the chunks, (over)write the table; the stage's metrics."""
    started = time.perf_counter()
    files = kb_files(kb)
    chunks = [c for f in files for c in article_chunks(f, kb, p.chunk_words)]
    texts = [c.embedded() for c in chunks]
    vectors = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    bar = Progress(len(texts), desc="index: embedding", unit="chunk", every=batch)
    for start in range(0, len(texts), batch):
        vectors[start : start + batch] = embed(texts[start : start + batch])
        bar.update(min(start + batch, len(texts)))
    bar.close()
    version = version_of(chunks)
    connect(p.uri).create_table(p.table, data=table_of(chunks, vectors, version), mode="overwrite")
    seconds = time.perf_counter() - started
    tokens = sum(token_counts(texts))
    return {"version": version, "articles": len(files), "chunks": len(chunks), "tokens": tokens,
            "seconds": round(seconds, 2), "chunks_per_s": round(len(chunks) / seconds, 1),
            "tokens_per_s": round(tokens / seconds, 1)}  # fmt: skip
