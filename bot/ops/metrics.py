"""The Prometheus implementation of the core's :class:`~bot.core.metrics.Metrics` port.

Counters move as the services, the platform adapters and the renderer report
facts; the gauges (outbox backlog, event-loop lag) are set by the HTTP endpoint
just before each scrape. Every instance has its own registry, so tests can make
as many as they like.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from bot.core.metrics import PlatformError, PushFailure, RenderCache
from bot.core.model import Backlog, ReviewSource

__all__ = ["CONTENT_TYPE", "PrometheusMetrics"]

#: The media type of :meth:`PrometheusMetrics.exposition` (the text format, 0.0.4).
CONTENT_TYPE: Final = "text/plain; version=0.0.4; charset=utf-8"

#: Cold renders take from a few milliseconds (a formula) to seconds (a chart, cold workers).
_RENDER_BUCKETS: Final = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


_PLATFORM_ERRORS: Final[tuple[PlatformError, ...]] = ("rate_limited", "network", "refused")
_PUSH_FAILURES: Final[tuple[PushFailure, ...]] = ("unreachable", "refused", "gone", "attempts")
_RENDER_CACHES: Final[tuple[RenderCache, ...]] = ("memory", "disk")


class PrometheusMetrics:
    """Counters and gauges in a registry of their own, with the process's own metrics
    (``process_resident_memory_bytes`` and friends) beside them.

    Args:
        platforms: the platforms this process runs; their series start at 0, so a
            dashboard sees them before the first event.
    """

    def __init__(self, platforms: Sequence[str] = ()) -> None:
        self.registry = registry = CollectorRegistry()
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self._reviews = Counter(
            "studybot_reviews", "Reviews recorded, by source.", ["source"], registry=registry
        )
        self._planned = Counter(
            "studybot_pushes_planned",
            "Pushes written to the outbox, by platform.",
            ["platform"],
            registry=registry,
        )
        self._sent = Counter(
            "studybot_pushes_sent",
            "Pushes the platform accepted, by platform.",
            ["platform"],
            registry=registry,
        )
        self._failed = Counter(
            "studybot_pushes_failed",
            "Pushes given up, by platform and reason (unreachable, refused, gone, attempts).",
            ["platform", "reason"],
            registry=registry,
        )
        self._errors = Counter(
            "studybot_platform_errors",
            "Failed requests to a platform's API, by platform and kind "
            "(rate_limited is a 429; network; refused).",
            ["platform", "kind"],
            registry=registry,
        )
        self._render_hits = Counter(
            "studybot_render_cache_hits",
            "Images the renderer found drawn already, by cache (memory, disk).",
            ["cache"],
            registry=registry,
        )
        self._render_misses = Counter(
            "studybot_render_cache_misses",
            "Images the renderer found in no cache (cold renders started).",
            registry=registry,
        )
        self._render_seconds = Histogram(
            "studybot_render_cold_seconds",
            "How long a cold render took.",
            buckets=_RENDER_BUCKETS,
            registry=registry,
        )
        self._render_up = Gauge(
            "studybot_render_worker_up",
            "1 while the render worker runs (it starts with a cold render and stops when idle).",
            registry=registry,
        )
        self._render_starts = Counter(
            "studybot_render_worker_starts",
            "Render worker starts: each adds its start to that cold render's time.",
            registry=registry,
        )
        self._outbox_depth = Gauge(
            "studybot_outbox_depth",
            "Pushes in the outbox neither sent nor given up, by platform.",
            ["platform"],
            registry=registry,
        )
        self._outbox_age = Gauge(
            "studybot_outbox_oldest_age_seconds",
            "Age of the oldest pending push in the outbox, by platform.",
            ["platform"],
            registry=registry,
        )
        self._loop_lag = Gauge(
            "studybot_event_loop_lag_seconds",
            "How late the event loop woke a timer at the last check.",
            registry=registry,
        )
        for source in ReviewSource:
            self._reviews.labels(source.value)
        for platform in platforms:
            self._planned.labels(platform)
            self._sent.labels(platform)
            for reason in _PUSH_FAILURES:
                self._failed.labels(platform, reason)
            for kind in _PLATFORM_ERRORS:
                self._errors.labels(platform, kind)
        for cache in _RENDER_CACHES:
            self._render_hits.labels(cache)

    # ------------------------------------------------------------------ the port

    def reviewed(self, source: str, count: int = 1) -> None:
        """Count ``count`` committed reviews from ``source``."""
        self._reviews.labels(source).inc(count)

    def pushes_planned(self, platform: str, count: int) -> None:
        """Count pushes written to the outbox."""
        self._planned.labels(platform).inc(count)

    def push_sent(self, platform: str) -> None:
        """Count a push the platform accepted."""
        self._sent.labels(platform).inc()

    def push_failed(self, platform: str, reason: PushFailure) -> None:
        """Count a push given up."""
        self._failed.labels(platform, reason).inc()

    def platform_error(self, platform: str, kind: PlatformError) -> None:
        """Count a failed request to a platform's API."""
        self._errors.labels(platform, kind).inc()

    def render_hit(self, cache: RenderCache) -> None:
        """Count an image found in a cache."""
        self._render_hits.labels(cache).inc()

    def render_miss(self) -> None:
        """Count an image found in no cache."""
        self._render_misses.inc()

    def rendered(self, seconds: float) -> None:
        """Observe how long a cold render took."""
        self._render_seconds.observe(seconds)

    def render_pool(self, up: bool) -> None:
        """The render worker started or stopped."""
        self._render_up.set(1 if up else 0)
        if up:
            self._render_starts.inc()

    # ------------------------------------------------------------------ gauges

    def set_backlog(
        self, backlog: Sequence[Backlog], now: datetime, platforms: Sequence[str]
    ) -> None:
        """Set the outbox gauges: every platform in ``platforms`` or ``backlog`` gets a
        value (0 when it has nothing pending)."""
        found = {b.platform: b for b in backlog}
        for platform in sorted(set(platforms) | set(found)):
            entry = found.get(platform)
            depth = entry.pending if entry is not None else 0
            age = max(0.0, (now - entry.oldest).total_seconds()) if entry is not None else 0.0
            self._outbox_depth.labels(platform).set(depth)
            self._outbox_age.labels(platform).set(age)

    def set_loop_lag(self, seconds: float) -> None:
        """Set the event-loop lag gauge."""
        self._loop_lag.set(seconds)

    def exposition(self) -> bytes:
        """Every metric in the Prometheus text format (:data:`CONTENT_TYPE`)."""
        return generate_latest(self.registry)
