"""API keys and the per-caller token bucket."""

from __future__ import annotations

import time

import pytest

from serving.access import RateLimiter, authenticate, key_id, read_keys


def test_keys_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KEYS", " alpha , ,beta")
    keys = read_keys("KEYS")
    assert keys == {"alpha": key_id("alpha"), "beta": key_id("beta")}
    assert "alpha" not in key_id("alpha") and len(key_id("alpha")) == 12
    monkeypatch.setenv("KEYS", "")
    assert read_keys("KEYS") == {}
    assert read_keys("UNSET_LLMOPS_KEYS") == {}


@pytest.mark.parametrize(
    ("header", "ok"),
    [("Bearer alpha", True), ("bearer alpha", True), ("Bearer wrong", False), ("alpha", False), (None, False),
     ("Bearer ", False), ("Basic alpha", False)],
)  # fmt: skip
def test_authenticate_wants_a_known_bearer_token(header: str | None, ok: bool) -> None:
    keys = {"alpha": key_id("alpha")}
    assert authenticate(keys, header) == (key_id("alpha") if ok else None)


def test_bucket_allows_a_burst_then_says_how_long_to_wait() -> None:
    limiter = RateLimiter(per_minute=60, burst=6)  # one a second, bursts of 6
    assert [limiter.allow("a") for _ in range(6)] == [0.0] * 6
    wait = limiter.allow("a")
    assert 0 < wait <= 1.0
    assert limiter.allow("b") == 0.0  # callers do not share a bucket


def test_bucket_refills_with_time() -> None:
    limiter = RateLimiter(per_minute=600, burst=60)  # ten a second, bursts of 60
    while limiter.allow("a") == 0.0:
        pass
    time.sleep(0.25)
    assert limiter.allow("a") == 0.0


def test_zero_means_no_limit() -> None:
    limiter = RateLimiter(per_minute=0)
    assert all(limiter.allow("a") == 0.0 for _ in range(10_000))


def test_a_slow_rate_still_allows_its_burst_and_waiting_takes_nothing() -> None:
    limiter = RateLimiter(per_minute=5, burst=3)  # "5 per minute" is not one request every 12 s
    assert [limiter.allow("a") for _ in range(3)] == [0.0] * 3
    assert 0 < limiter.wait("a") <= 12 and 0 < limiter.allow("a") <= 12
    assert [limiter.wait("b") for _ in range(5)] == [0.0] * 5 and limiter.allow("b") == 0.0
