"""Tests for bot.ops.metrics: the core's Metrics port as Prometheus counters and gauges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.metrics import Metrics
from bot.core.model import Backlog
from bot.ops.metrics import PrometheusMetrics
from tests.scraping import parse

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NAMED = {
    "studybot_reviews_total",
    "studybot_pushes_planned_total",
    "studybot_pushes_sent_total",
    "studybot_pushes_failed_total",
    "studybot_outbox_depth",
    "studybot_outbox_oldest_age_seconds",
    "studybot_platform_errors_total",
    "studybot_render_cache_hits_total",
    "studybot_render_cache_misses_total",
    "studybot_render_cold_seconds_count",
    "studybot_render_cold_seconds_sum",
    "studybot_render_worker_up",
    "studybot_render_worker_starts_total",
    "studybot_event_loop_lag_seconds",
    "process_resident_memory_bytes",
}


def test_it_implements_the_port() -> None:
    metrics: Metrics = PrometheusMetrics()
    assert metrics is not None


def test_every_named_metric_is_there_from_the_start_at_zero() -> None:
    metrics = PrometheusMetrics(["telegram"])
    metrics.set_backlog([], NOW, ["telegram"])
    samples = parse(metrics.exposition().decode())
    assert samples.names() >= NAMED
    for source in ("dm", "push", "console", "quiz", "challenge"):
        assert samples.value("studybot_reviews_total", source=source) == 0
    assert samples.value("studybot_pushes_sent_total", platform="telegram") == 0
    for kind in ("rate_limited", "network", "refused"):
        assert samples.value("studybot_platform_errors_total", platform="telegram", kind=kind) == 0
    assert samples.value("studybot_pushes_failed_total", platform="telegram", reason="gone") == 0
    assert samples.value("studybot_outbox_depth", platform="telegram") == 0
    assert samples.value("process_resident_memory_bytes") > 0


def test_counters_move_with_what_they_are_told() -> None:
    metrics = PrometheusMetrics(["telegram"])
    metrics.reviewed("dm")
    metrics.reviewed("challenge", 3)
    metrics.pushes_planned("telegram", 5)
    metrics.push_sent("telegram")
    metrics.push_failed("telegram", "unreachable")
    metrics.platform_error("telegram", "rate_limited")
    metrics.platform_error("discord", "network")
    metrics.render_hit("memory")
    metrics.render_hit("disk")
    metrics.render_miss()
    metrics.rendered(0.2)
    metrics.set_loop_lag(0.125)
    samples = parse(metrics.exposition().decode())
    assert samples.value("studybot_reviews_total", source="dm") == 1
    assert samples.value("studybot_reviews_total", source="challenge") == 3
    assert samples.value("studybot_pushes_planned_total", platform="telegram") == 5
    assert samples.value("studybot_pushes_sent_total", platform="telegram") == 1
    failed = samples.value(
        "studybot_pushes_failed_total", platform="telegram", reason="unreachable"
    )
    assert failed == 1
    errors = "studybot_platform_errors_total"
    assert samples.value(errors, platform="telegram", kind="rate_limited") == 1
    assert samples.value(errors, platform="discord", kind="network") == 1
    assert samples.value("studybot_render_cache_hits_total", cache="memory") == 1
    assert samples.value("studybot_render_cache_hits_total", cache="disk") == 1
    assert samples.value("studybot_render_cache_misses_total") == 1
    assert samples.value("studybot_render_cold_seconds_count") == 1
    assert samples.value("studybot_render_cold_seconds_sum") == 0.2
    assert samples.value("studybot_render_cold_seconds_bucket", le="0.25") == 1
    assert samples.value("studybot_render_cold_seconds_bucket", le="0.1") == 0
    assert samples.value("studybot_event_loop_lag_seconds") == 0.125


def test_the_backlog_sets_depth_and_age_by_platform() -> None:
    metrics = PrometheusMetrics()
    backlog = [Backlog("telegram", 7, NOW - timedelta(minutes=3))]
    metrics.set_backlog(backlog, NOW, ["telegram", "discord"])
    samples = parse(metrics.exposition().decode())
    assert samples.value("studybot_outbox_depth", platform="telegram") == 7
    assert samples.value("studybot_outbox_oldest_age_seconds", platform="telegram") == 180
    assert samples.value("studybot_outbox_depth", platform="discord") == 0
    assert samples.value("studybot_outbox_oldest_age_seconds", platform="discord") == 0
    # Drained: the gauges go back to zero rather than keep the last value.
    metrics.set_backlog([], NOW, ["telegram"])
    samples = parse(metrics.exposition().decode())
    assert samples.value("studybot_outbox_depth", platform="telegram") == 0


def test_the_render_worker_gauge_and_its_starts() -> None:
    metrics = PrometheusMetrics(["telegram"])
    samples = parse(metrics.exposition().decode())
    assert samples.value("studybot_render_worker_up") == 0
    assert samples.value("studybot_render_worker_starts_total") == 0
    metrics.render_pool(True)
    metrics.render_pool(False)
    metrics.render_pool(True)
    samples = parse(metrics.exposition().decode())
    assert samples.value("studybot_render_worker_up") == 1
    assert samples.value("studybot_render_worker_starts_total") == 2
