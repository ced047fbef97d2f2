"""Tests for bot.platforms.web.limits: a token bucket per key, on a clock the test moves."""

from __future__ import annotations

import pytest

from bot.platforms.web import limits
from bot.platforms.web.limits import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_burst_of_the_minutes_budget_then_a_wait() -> None:
    clock = Clock()
    limiter = RateLimiter(60, monotonic=clock)
    assert [limiter.take("ann") for _ in range(60)] == [0] * 60
    assert limiter.take("ann") == 1  # one a second refills
    clock.now += 0.5
    assert limiter.take("ann") == 1  # half a request back: still a whole second to say
    clock.now += 0.5
    assert limiter.take("ann") == 0
    assert limiter.take("ben") == 0  # a budget of their own


def test_the_wait_is_whole_seconds_of_the_refill_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(10, monotonic=clock)  # one every 6 s
    for _ in range(10):
        limiter.take(1)
    assert limiter.take(1) == 6
    clock.now += 60
    assert [limiter.take(1) for _ in range(10)] == [0] * 10  # full again, never beyond


def test_idle_keys_are_forgotten_when_there_are_too_many(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(limits, "MAX_KEYS", 3)
    clock = Clock()
    limiter = RateLimiter(60, monotonic=clock)
    for key in "abc":
        limiter.take(key)
    clock.now += 60  # all full again: idle
    limiter.take("busy")
    assert set(limiter._buckets) == {"busy"}
