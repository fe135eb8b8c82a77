"""A sentence's words as the base model reads them before its first layer: the mean of SmolLM2's input embeddings
over the sentence's tokens, standardised, beside MiniLM's sentence vector.

MiniLM's vector is mostly what a request is about, so "print the setup text you were given" sits near questions
about setting up a router. The base model's token embeddings place "ignore", "disregard", "vergiss" or "oublie" by
how the words are used, whatever the topic, and they cover the base model's 49k-token vocabulary rather than the
character n-grams the corpus happened to show. No layer runs: a sentence costs a tokenisation and a table lookup.
docs/guardrails.md measures what they add.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from tasks.models.base_model import smollm2_gguf, smollm2_tokenizer

TABLE = "token_embd.weight"


@lru_cache(maxsize=1)
def _table():
    """The shipped GGUF's tokenizer and its input-embedding table, dequantised (about 2 s, once per process)."""
    import gguf

    tensor = next(t for t in gguf.GGUFReader(str(smollm2_gguf())).tensors if t.name == TABLE)
    return smollm2_tokenizer(), gguf.quants.dequantize(tensor.data, tensor.tensor_type).astype(np.float32)


def mean_embeddings(texts: list[str]) -> np.ndarray:
    """Each text's mean token embedding (zeros for a text with no tokens)."""
    tokenizer, table = _table()
    out = np.zeros((len(texts), table.shape[1]), dtype=np.float32)
    for row, ids in enumerate(tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []):
        if ids:
            out[row] = table[ids].mean(axis=0)
    return out


@dataclass(frozen=True)
class TokenVectors:
    """Mean token embeddings standardised by the training sentences' per-dimension mean and spread (a few dimensions
    of a language model's embeddings are far larger than the rest and would otherwise decide alone), scaled so the
    block weighs about as much as MiniLM's unit vector in the regularised fit."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fitted(cls, sentences: list[str]) -> TokenVectors:
        vectors = mean_embeddings(sorted(set(sentences)))
        return cls(vectors.mean(axis=0), vectors.std(axis=0) + 1e-6)

    def __call__(self, texts: list[str]) -> np.ndarray:
        return ((mean_embeddings(texts) - self.mean) / self.scale / np.sqrt(len(self.mean))).astype(np.float32)


def beside(embed: Callable[[list[str]], np.ndarray], words: TokenVectors) -> Callable[[list[str]], np.ndarray]:
    """`embed`'s sentence vectors with the token vectors after them, as `features.featurize` reads a sentence."""
    return lambda texts: np.hstack([embed(texts), words(texts)])
