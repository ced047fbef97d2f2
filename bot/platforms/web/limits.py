"""Request limits: a token bucket per key (a learner, a client address).

The clock is injected (``monotonic``), so tests move time on instead of sleeping.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final

#: Keys held at most; beyond, the buckets that are full again (idle keys) are dropped.
MAX_KEYS: Final = 10_000


@dataclass(slots=True)
class _Bucket:
    tokens: float
    at: float


class RateLimiter:
    """At most ``per_minute`` requests a minute per key, in bursts of up to
    ``per_minute``: each key's bucket refills at ``per_minute / 60`` a second.

    Args:
        per_minute: the requests allowed a minute (at least 1).
        monotonic: seconds from a clock that never goes back.
    """

    def __init__(self, per_minute: int, *, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(max(1, per_minute))
        self.rate = self.capacity / 60.0
        self.monotonic = monotonic
        self._buckets: dict[Hashable, _Bucket] = {}

    def take(self, key: Hashable) -> int:
        """Spend one request of ``key``'s; returns 0 when allowed, else the whole seconds
        to wait before the next one is (for ``Retry-After``, at least 1)."""
        now = self.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_KEYS:
                self._forget_idle(now)
            bucket = self._buckets[key] = _Bucket(self.capacity, now)
        bucket.tokens = min(self.capacity, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return 0
        return max(1, math.ceil((1.0 - bucket.tokens) / self.rate))

    def _forget_idle(self, now: float) -> None:
        """Drop the buckets that would be full by now (nothing of theirs is remembered)."""
        full = [
            key
            for key, b in self._buckets.items()
            if b.tokens + (now - b.at) * self.rate >= self.capacity
        ]
        for key in full:
            del self._buckets[key]
        if len(self._buckets) >= MAX_KEYS:  # all busy: start over rather than grow
            self._buckets.clear()
