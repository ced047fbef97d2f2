"""A recording :class:`~bot.core.metrics.Metrics`: what was counted, by what."""

from __future__ import annotations

from collections import Counter

from bot.core.metrics import PlatformError, PushFailure, RenderCache


class RecordingMetrics:
    """Keeps every count it is told, by its labels."""

    def __init__(self) -> None:
        self.reviews: Counter[str] = Counter()
        self.planned: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()
        self.failed: Counter[tuple[str, str]] = Counter()
        self.errors: Counter[tuple[str, str]] = Counter()
        self.render_hits: Counter[str] = Counter()
        self.render_misses = 0
        self.render_seconds: list[float] = []
        #: Each start (True) and stop (False) of the render pool, in order.
        self.render_pools: list[bool] = []

    def reviewed(self, source: str, count: int = 1) -> None:
        self.reviews[source] += count

    def pushes_planned(self, platform: str, count: int) -> None:
        self.planned[platform] += count

    def push_sent(self, platform: str) -> None:
        self.sent[platform] += 1

    def push_failed(self, platform: str, reason: PushFailure) -> None:
        self.failed[platform, reason] += 1

    def platform_error(self, platform: str, kind: PlatformError) -> None:
        self.errors[platform, kind] += 1

    def render_hit(self, cache: RenderCache) -> None:
        self.render_hits[cache] += 1

    def render_miss(self) -> None:
        self.render_misses += 1

    def rendered(self, seconds: float) -> None:
        self.render_seconds.append(seconds)

    def render_pool(self, up: bool) -> None:
        self.render_pools.append(up)
