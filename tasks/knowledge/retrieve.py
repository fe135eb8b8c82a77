"""Retrieval over the index: the top-k chunks for a query, by cosine similarity in LanceDB.

The server holds one Retriever; it reopens the table every `refresh_s`, so an index rebuilt by `dvc repro` (or
written to the same object-store URI by another machine) serves without a restart, and its version moves with it.
Where the champion passed the gate on one index version (`approved`), the server serves that one: each build is
a new version of the same LanceDB table, and an older one is read by LanceDB's time travel (`checkout`) until the
gate has decided on the newest.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tasks.core.errors import ModelSourceError
from tasks.knowledge.index import VERSION_KEY, connect

log = logging.getLogger("llmops.retrieval")


@dataclass(frozen=True, slots=True)
class Hit:
    id: str
    article: str
    title: str
    heading: str
    text: str
    score: float  # cosine similarity

    def source(self) -> dict[str, str | float]:
        """What a response and the request log show of it."""
        return {"id": self.id, "title": self.title, "score": round(self.score, 4)}


BUILD_IT = "build it with `dvc repro index` (or `llmops index`)"


def open_table(uri: str, name: str, what_to_do: str = BUILD_IT):
    """The index's LanceDB table, or one clear error saying what to do about it."""
    try:
        return connect(uri).open_table(name)
    except (FileNotFoundError, ValueError) as err:
        raise ModelSourceError(f"index {uri!r} has no table {name!r} ({err}); {what_to_do}") from None


def content_version(table) -> str:
    """What was embedded (tasks/knowledge/index.py), from the table's schema metadata."""
    return (table.schema.metadata or {}).get(VERSION_KEY, b"").decode()


def query_text(messages: list[dict[str, str]], turns: int) -> str:
    """The last `turns` user turns, latest last: a follow-up ("and how much is it?") keeps its topic."""
    users = [m["content"] for m in messages if m.get("role") == "user" and m.get("content")]
    return "\n".join(users[-turns:])


class Retriever:
    def __init__(self, uri: str, table: str, embed: Callable[[list[str]], np.ndarray], refresh_s: float = 30.0,
                 nprobes: int = 20, refine_factor: int = 10,
                 what_to_do: str = f"{BUILD_IT}, or set serving.retrieval.top_k: 0") -> None:  # fmt: skip
        self.uri, self.table_name, self.embed, self.refresh_s = uri, table, embed, refresh_s
        self.what_to_do = what_to_do  # when the table is missing
        self.nprobes, self.refine_factor = nprobes, refine_factor
        self._lock = threading.Lock()
        self._opened_at = 0.0
        self._table = None
        self.version = ""
        self.approved: str | None = None  # the index version the champion passed the gate on; None: the newest
        self._contents: dict[tuple[int, object], str] = {}  # (LanceDB version, its time) -> index version
        self._missing: str | None = None
        self._open()

    def _open(self) -> None:
        table = open_table(self.uri, self.table_name, self.what_to_do)
        version = content_version(table)
        if self.approved and version != self.approved:
            version = self._checkout(table, self.approved) or version
        with self._lock:
            self._table, self.version, self._opened_at = table, version, time.monotonic()

    def _checkout(self, table, wanted: str) -> str | None:
        """The table at its newest LanceDB version holding `wanted`; None (left at the newest) where none does."""
        for entry in sorted(table.list_versions(), key=lambda e: e["version"], reverse=True)[1:]:
            key = (entry["version"], entry["timestamp"])
            if key not in self._contents:
                table.checkout(entry["version"])
                self._contents[key] = content_version(table)
            if self._contents[key] == wanted:
                table.checkout(entry["version"])
                return wanted
        table.checkout_latest()
        if self._missing != wanted:
            self._missing = wanted
            log.warning("index %s has no version %s, the one @champion passed the gate on; serving the newest, %s, "
                        "which the gate has not decided on", self.uri, wanted, content_version(table))  # fmt: skip
        return None

    def follow(self, approved: str | None) -> None:
        """Serve `approved` (None: the newest) from now on: reopened at once when it moved."""
        if approved != self.approved:
            self.approved = approved
            self._open()

    def refresh_if_due(self) -> None:
        if time.monotonic() - self._opened_at >= self.refresh_s:
            self._open()

    def search(self, query: str, k: int, min_score: float = -1.0) -> list[Hit]:
        self.refresh_if_due()
        return self.search_vector(self.embed([query])[0], k, min_score)

    def search_vector(self, vector: np.ndarray, k: int, min_score: float = -1.0) -> list[Hit]:
        with self._lock:
            table = self._table
        rows = (
            table.search(vector.astype(np.float32))
            .distance_type("cosine")
            .nprobes(self.nprobes)
            .refine_factor(self.refine_factor)
            .select(["id", "article", "title", "heading", "text", "_distance"])
            .limit(k)
            .to_list()
        )
        hits = [Hit(r["id"], r["article"], r["title"], r["heading"], r["text"], 1.0 - r["_distance"]) for r in rows]
        return [h for h in hits if h.score >= min_score]
