"""A semantic answer cache: an earlier answer reused for a new question that means the same.

Entries live under a key of everything that shapes an answer (model version, prompt version, index version, the
client's system message), so a new champion, prompt or index starts from an empty cache instead of serving
answers it never gave. Only what the caller decides is safe goes in (serving: single-turn, no personal data,
greedy, finished, passed by the output guard). In memory, per server process: replicas each warm their own.
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass(frozen=True, slots=True)
class Cached:
    answer: str
    request_id: str  # the request that generated it
    completion_tokens: int
    generation_s: float  # what generating it took: what a hit saves
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the sources it was grounded in


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Cached
    similarity: float


def numbers(text: str) -> frozenset[str]:
    """The numbers a question names: two questions alike but for an amount or a model number are not the same."""
    return frozenset(re.findall(r"\d+(?:[.,]\d+)*", text))


class _Shelf:
    """One key's entries: their unit vectors in one matrix (grown by doubling), so a lookup is one product."""

    def __init__(self, dimensions: int) -> None:
        self.matrix = np.zeros((16, dimensions), dtype=np.float32)
        self.entries: list[Cached] = []
        self.added: list[float] = []

    @property
    def vectors(self) -> np.ndarray:
        return self.matrix[: len(self.entries)]

    def append(self, vector: np.ndarray, entry: Cached) -> None:
        if len(self.entries) == len(self.matrix):
            self.matrix = np.vstack([self.matrix, np.zeros_like(self.matrix)])
        self.matrix[len(self.entries)] = vector
        self.entries.append(entry)
        self.added.append(time.monotonic())

    def drop_oldest(self) -> None:
        self.matrix[: len(self.entries) - 1] = self.matrix[1 : len(self.entries)]
        del self.entries[0], self.added[0]


class AnswerCache:
    def __init__(self, threshold: float, max_entries: int, ttl_s: float) -> None:
        self.threshold, self.max_entries, self.ttl_s = threshold, max_entries, ttl_s
        self._shelves: OrderedDict[tuple[str, ...], _Shelf] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return sum(len(s.entries) for s in self._shelves.values())

    def lookup(self, key: tuple[str, ...], vector: np.ndarray) -> Hit | None:
        """The most similar live entry under `key`, if it is at least `threshold` similar (cosine)."""
        with self._lock:
            shelf = self._shelves.get(key)
            if shelf is None or not shelf.entries:
                return None
            scores = shelf.vectors @ vector.astype(np.float32)
            alive = np.asarray(shelf.added) >= time.monotonic() - self.ttl_s
            scores = np.where(alive, scores, -np.inf)
            best = int(np.argmax(scores))
            if scores[best] < self.threshold:
                return None
            return Hit(shelf.entries[best], float(scores[best]))

    def add(self, key: tuple[str, ...], vector: np.ndarray, entry: Cached) -> None:
        """Store an answer; the oldest entries go first past `max_entries`, and keys nobody asks under any more
        (an old model version) are dropped whole."""
        with self._lock:
            shelf = self._shelves.setdefault(key, _Shelf(len(vector)))
            self._shelves.move_to_end(key)
            shelf.append(vector.astype(np.float32), entry)
            while len(self) > self.max_entries:
                if len(self._shelves) > 1:
                    self._shelves.popitem(last=False)  # the key least recently added to: an old version's
                else:
                    shelf.drop_oldest()
