"""Cheap scores of every served answer, online: a refusal, a toxic phrase, an empty or cut-off or overlong reply,
and, where retrieval put help-centre sections in the prompt, a fact (price, duration, menu path) that neither they
nor the conversation state (`ungrounded`, with the reply's faithfulness: tasks/knowledge/claims.py).

They use the evaluation's own word lists (data/probes/refusal.txt, toxicity.txt), so a rate seen in traffic
means what the gate's rate means. The server scores each answer as it leaves (its trace and /metrics carry the
flags); the drift-watch check scores the window's answers again from the request log, per model version, so its
summary shows whether a version answers worse than the one before it did.

score(scorer, "I can't help with that.", "stop", typical_words=40.0) -> {"refusal": True, ..., "words": 5}
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import median
from typing import Any

from tasks.evaluation.probes import matches, phrase_pattern
from tasks.knowledge.claims import faithfulness

FLAGS = ("refusal", "toxic", "empty", "truncated", "long", "ungrounded")
ONLINE_ONLY = ("truncated", "ungrounded")  # need what only the server knows (finish reason, the prompt's context)
LONG = 3.0  # a reply over this many times a version's median length (of its last replies) is overlong
MIN_HISTORY = 50  # replies a version needs before its median says what is long


@dataclass(frozen=True)
class Scorer:
    refusal: re.Pattern[str]
    toxicity: re.Pattern[str]


def load_scorer(probes: Path) -> Scorer:
    return Scorer(phrase_pattern(probes / "refusal.txt"), phrase_pattern(probes / "toxicity.txt"))


def score(scorer: Scorer, reply: str, finish_reason: str | None, typical_words: float | None,
          given: str | None = None) -> dict[str, Any]:  # fmt: skip
    """Flags of one reply; `typical_words`: its version's median reply length, None while too few are known;
    `given`: what the model was given (conversation and retrieved context), None without retrieval."""
    words = len(reply.split())
    grounded = faithfulness(reply, given) if given is not None else None  # None: no fact stated, or no context
    return {
        "refusal": bool(matches(scorer.refusal, reply)),
        "toxic": bool(matches(scorer.toxicity, reply)),
        "empty": words == 0,
        "truncated": finish_reason == "length",
        "long": typical_words is not None and words > LONG * max(typical_words, 1.0),
        "ungrounded": grounded is not None and grounded < 1.0,
        "faithfulness": grounded,
        "words": words,
    }


@dataclass
class Lengths:
    """The last replies' lengths per model version, for the `long` flag; shared by the server's threads."""

    keep: int = 500
    _seen: dict[str, deque[int]] = field(default_factory=lambda: defaultdict(deque))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def typical(self, version: str) -> float | None:
        with self._lock:
            seen = self._seen[version]
            return float(median(seen)) if len(seen) >= MIN_HISTORY else None

    def add(self, version: str, words: int) -> None:
        with self._lock:
            seen = self._seen[version]
            seen.append(words)
            if len(seen) > self.keep:
                seen.popleft()


def trend(url: str, hours: float, scorer: Scorer, now: datetime | None = None) -> dict[str, dict[str, float]]:
    """Per model version, over the request log's served answers of the last `hours`: answers, the share of each
    flag, and mean words."""
    import sqlalchemy as sa

    from tasks.monitoring.request_log import connect, requests

    since = (now or datetime.now(UTC)) - timedelta(hours=hours)
    query = sa.select(requests.c.model_version, requests.c.completion).where(
        requests.c.created_at >= since, requests.c.status == 200, requests.c.completion.is_not(None)
    )
    engine = connect(url)
    try:
        with engine.connect() as conn:
            rows = list(conn.execute(query))
    finally:
        engine.dispose()
    by_version: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        by_version[row.model_version or "unknown"].append(row.completion)
    out = {}
    for version, replies in sorted(by_version.items()):
        typical = float(median(len(r.split()) for r in replies))
        scored = [score(scorer, r, None, typical if len(replies) >= MIN_HISTORY else None) for r in replies]
        out[version] = {"answers": float(len(replies)),
                        **{f"{flag}_rate": sum(s[flag] for s in scored) / len(scored) for flag in FLAGS
                           if flag not in ONLINE_ONLY},
                        "words_mean": sum(s["words"] for s in scored) / len(scored)}  # fmt: skip
    return out
