"""MinHash LSH near-duplicate search (datasketch), shared by prepare (drop) and split (group)."""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence

from datasketch import LeanMinHash, MinHash, MinHashLSH

from tasks.core.text import words

_BATCH = 2048


def _hash32(data: bytes) -> int:
    """CRC-32 as the shingle hash: deterministic across runs and ~5x cheaper than datasketch's SHA-1."""
    return zlib.crc32(data)


def shingles(text: str, n: int) -> set[bytes]:
    toks = words(text)
    if len(toks) < n:
        return {" ".join(toks).encode()}
    return {" ".join(toks[i : i + n]).encode() for i in range(len(toks) - n + 1)}


def signatures(texts: Iterable[str], num_perm: int, shingle_words: int) -> Iterator[LeanMinHash]:
    """MinHash signatures in batches (MinHash.bulk shares the permutations across a batch)."""
    batch: list[set[bytes]] = []
    for text in texts:
        batch.append(shingles(text, shingle_words))
        if len(batch) == _BATCH:
            yield from MinHash.bulk(batch, num_perm=num_perm, hashfunc=_hash32)
            batch = []
    if batch:
        yield from MinHash.bulk(batch, num_perm=num_perm, hashfunc=_hash32)


class NearDuplicateIndex:
    """Keeps the first of each near-duplicate family; later members report who they duplicate."""

    def __init__(self, threshold: float, num_perm: int) -> None:
        self.threshold = threshold
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        self._sigs: dict[str, LeanMinHash] = {}
        self._order: dict[str, int] = {}

    def find(self, sig: LeanMinHash) -> str | None:
        """The earliest indexed near-duplicate of `sig` (estimated Jaccard >= threshold), if any.

        LSH candidates come back as a set whose order changes with Python's per-process string hashing;
        taking them in insertion order keeps the answer, and so the stage's output, the same on every run.
        """
        for key in sorted(self._lsh.query(sig), key=self._order.__getitem__):
            if self._sigs[key].jaccard(sig) >= self.threshold:
                return key
        return None

    def add(self, key: str, sig: LeanMinHash) -> None:
        self._lsh.insert(key, sig, check_duplication=False)
        self._sigs[key] = sig
        self._order[key] = len(self._order)


def near_duplicate_groups(texts: Sequence[str], threshold: float, num_perm: int, shingle_words: int) -> list[int]:
    """Group id per text such that near-duplicates (directly or through a chain) share a group."""
    parent = list(range(len(texts)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    sigs: list[LeanMinHash] = []
    for i, sig in enumerate(signatures(texts, num_perm, shingle_words)):
        for j in lsh.query(sig):
            if sigs[j].jaccard(sig) >= threshold:
                parent[root(i)] = root(j)
        lsh.insert(i, sig, check_duplication=False)
        sigs.append(sig)
    return [root(i) for i in range(len(texts))]
