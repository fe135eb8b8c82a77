"""The judge's replies, kept per judge and prompt in the user's cache (evaluate.judge.cache).

Every evaluation calibrates the judge on the same human-labelled set before it judges anything: on a scheduled
retrain those calls repeat what the same judge already answered, and with the offline judge they were half its
time (a hosted judge bills them). A judge is named by what its replies depend on (the weights it serves, or the
endpoint and a model name that pins them: `Endpoint.identity`); a prompt by its text and the reply budget.
Replies are greedy (temperature 0), so a kept reply is one this judge gave to this very prompt.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from tasks.core.files import user_cache

log = logging.getLogger("llmops.judge")

UNUSED_FOR_S = 90 * 86400  # replies nobody asked for in this long are dropped when a cache opens


class JudgeCache:
    """Thread-safe (MLflow runs scorers on a pool) and safe across processes (sqlite's own locking). A cache that
    fails (a read-only home, a locked or broken file) is a miss, never a failed evaluation."""

    def __init__(self, judge: str, path: Path | None = None) -> None:
        self.judge = judge
        self.path = path or user_cache("judge") / "replies.db"
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self.usable = True
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._db() as db:
                db.execute("CREATE TABLE IF NOT EXISTS replies (judge TEXT, prompt TEXT, reply TEXT, used REAL, "
                           "PRIMARY KEY (judge, prompt))")  # fmt: skip
                db.execute("DELETE FROM replies WHERE used < ?", (time.time() - UNUSED_FOR_S,))
        except (OSError, sqlite3.Error) as err:
            self._unusable(err)

    def _unusable(self, err: Exception) -> None:
        if self.usable:
            log.warning("judge cache %s: %s; asking the judge every time", self.path, err)
        self.usable = False

    @contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        with closing(sqlite3.connect(self.path, timeout=60)) as db, db:
            yield db

    @staticmethod
    def key(prompt: str, max_tokens: int) -> str:
        return hashlib.sha256(f"{max_tokens}\0{prompt}".encode()).hexdigest()

    def get(self, prompt: str, max_tokens: int) -> str | None:
        key, row = self.key(prompt, max_tokens), None
        try:
            if self.usable:
                with self._db() as db:
                    row = db.execute("SELECT reply FROM replies WHERE judge = ? AND prompt = ?",
                                     (self.judge, key)).fetchone()  # fmt: skip
                    if row:
                        db.execute("UPDATE replies SET used = ? WHERE judge = ? AND prompt = ?",
                                   (time.time(), self.judge, key))  # fmt: skip
        except (OSError, sqlite3.Error) as err:
            self._unusable(err)
        with self._lock:
            if row:
                self.hits += 1
            else:
                self.misses += 1
        return row[0] if row else None

    def put(self, prompt: str, max_tokens: int, reply: str) -> None:
        try:
            if self.usable:
                with self._db() as db:
                    db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?)",
                               (self.judge, self.key(prompt, max_tokens), reply, time.time()))  # fmt: skip
        except (OSError, sqlite3.Error) as err:
            self._unusable(err)
