"""Who may call, and how often: API keys from the environment, a token bucket per key, one per client address
for failed authentications, so that guessing keys is throttled too, and a daily token budget per key."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime


def key_id(key: str) -> str:
    """What the request log stores instead of the key."""
    return hashlib.sha256(key.encode()).hexdigest()[:12]


def read_keys(env_var: str) -> dict[str, str]:
    """key -> key id; no variable, or an empty one, means no authentication."""
    keys = [k.strip() for k in os.environ.get(env_var, "").split(",")]
    return {k: key_id(k) for k in keys if k}


def authenticate(keys: dict[str, str], authorization: str | None) -> str | None:
    """The caller's key id, or None when the bearer token is missing or wrong."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    for key, kid in keys.items():
        if hmac.compare_digest(key.encode(), token.strip().encode()):
            return kid
    return None


class RateLimiter:
    """Token bucket per caller: `per_minute` sustained, bursts of up to `burst` requests."""

    def __init__(self, per_minute: int, burst: int = 1) -> None:
        self.rate = per_minute / 60
        self.capacity = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, caller: str) -> float:
        """0 when the request may go ahead (it takes a token), else the seconds until it may."""
        return self._take(caller, 1.0)

    def wait(self, caller: str) -> float:
        """0 when the caller has a token left, else the seconds until it has; takes nothing."""
        return self._take(caller, 0.0)

    def _take(self, caller: str, cost: float) -> float:
        if self.rate == 0:
            return 0.0
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(caller, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[caller] = (tokens - cost, now)
                return 0.0
            self._buckets[caller] = (tokens, now)
            return (1 - tokens) / self.rate


class TokenBudget:
    """Tokens (prompt + completion) per caller per UTC day. A caller's count starts from what the request log
    says it used today (`used_since`), so a restart does not hand out a fresh budget."""

    def __init__(self, per_day: int, used_since: Callable[[str, datetime], int]) -> None:
        self.per_day = per_day
        self.used_since = used_since
        self._used: dict[str, tuple[datetime, int]] = {}
        self._lock = threading.Lock()

    def spent(self, caller: str) -> bool:
        return self.per_day > 0 and self._today(caller) >= self.per_day

    def add(self, caller: str, tokens: int) -> None:
        if self.per_day > 0:
            self._today(caller)  # today's count is known from here on
            with self._lock:  # read and written under one lock: concurrent requests all count
                day, used = self._used[caller]
                self._used[caller] = (day, used + tokens)

    def _today(self, caller: str) -> int:
        day = _midnight()
        with self._lock:
            known = self._used.get(caller)
        if known is not None and known[0] == day:
            return known[1]
        used = self.used_since(caller, day)
        with self._lock:
            self._used[caller] = (day, used)
        return used


def _midnight() -> datetime:
    return datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
