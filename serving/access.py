"""Who may call, and how often: API keys from the environment, a token bucket per key, and one per client
address for failed authentications, so that guessing keys is throttled too."""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time


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
