"""MatplotlibRenderer: caching by content hash, coalescing, the disk cache, workers."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.rendering import RenderedImage, Renderer
from bot.core.stats import StudyStats
from bot.render import cache as cache_module
from bot.render.cache import DiskCache, MemoryCache, cache_dir_for, cache_key, png_size
from bot.render.service import MatplotlibRenderer
from bot.render.style import DEFAULT_STYLE
from tests.fakes.metrics import RecordingMetrics

SPEC = ("shape", "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4")
FORMULA = ("formula", r"z = \sum_j a_j v_j")


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool
    pool.shutdown(wait=True)


def test_the_renderer_implements_the_port(executor: ThreadPoolExecutor) -> None:
    renderer: Renderer = MatplotlibRenderer(executor=executor)
    assert renderer is not None


async def test_cache_hit_returns_the_same_bytes_without_rendering(
    executor: ThreadPoolExecutor,
) -> None:
    metrics = RecordingMetrics()
    r = MatplotlibRenderer(executor=executor, metrics=metrics)
    first = await r.card_image(*SPEC)
    second = await r.card_image(*SPEC)
    assert first is not None and second is not None
    assert second.data == first.data and second.key == first.key
    assert (first.width, first.height) == png_size(first.data)
    assert r.counters.renders == 1 and r.counters.memory_hits == 1
    assert metrics.render_misses == 1 and metrics.render_hits == Counter(memory=1)
    assert len(metrics.render_seconds) == 1 and metrics.render_seconds[0] > 0
    assert r.cached(*SPEC) is first
    await r.close()


async def test_no_image_gives_none(executor: ThreadPoolExecutor) -> None:
    r = MatplotlibRenderer(executor=executor)
    assert await r.card_image(None, None) is None
    assert await r.card_image("formula", "") is None
    assert r.counters.renders == 0
    await r.close()


async def test_disk_cache_survives_a_new_renderer(
    executor: ThreadPoolExecutor, tmp_path: Path
) -> None:
    folder = cache_dir_for(tmp_path)
    assert folder == tmp_path / "render-cache"
    r1 = MatplotlibRenderer(folder, executor=executor)
    image = await r1.card_image(*FORMULA)
    await r1.close()
    assert image is not None
    stored = DiskCache(folder).path(image.key)
    assert stored.read_bytes() == image.data
    metrics = RecordingMetrics()
    r2 = MatplotlibRenderer(folder, executor=executor, metrics=metrics)
    again = await r2.card_image(*FORMULA)
    assert again is not None and again.data == image.data
    assert r2.counters.renders == 0 and r2.counters.disk_hits == 1
    assert metrics.render_hits == Counter(disk=1) and metrics.render_misses == 0
    await r2.close()


async def test_a_corrupt_disk_file_is_rendered_again(
    executor: ThreadPoolExecutor, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    key = cache_key(*FORMULA, DEFAULT_STYLE)
    path = DiskCache(tmp_path).path(key)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a png")
    r = MatplotlibRenderer(tmp_path, executor=executor)
    with caplog.at_level(logging.WARNING):
        image = await r.card_image(*FORMULA)
    assert image is not None and r.counters.renders == 1
    assert "corrupt" in caplog.text
    assert path.read_bytes() == image.data
    await r.close()


async def test_concurrent_requests_for_one_image_render_once(
    executor: ThreadPoolExecutor,
) -> None:
    r = MatplotlibRenderer(executor=executor)
    images = await asyncio.gather(*(r.card_image(*SPEC) for _ in range(10)))
    assert r.counters.renders == 1 and r.counters.coalesced == 9
    assert len({img.data for img in images if img is not None}) == 1
    await r.close()


async def test_a_cancelled_caller_does_not_cancel_the_render(
    executor: ThreadPoolExecutor,
) -> None:
    r = MatplotlibRenderer(executor=executor)
    impatient = asyncio.create_task(r.card_image(*SPEC))
    patient = asyncio.create_task(r.card_image(*SPEC))
    await asyncio.sleep(0)
    impatient.cancel()
    image = await patient
    assert image is not None and r.counters.renders == 1
    with pytest.raises(asyncio.CancelledError):
        await impatient
    await r.close()


async def test_a_bad_spec_is_logged_once_and_gives_none(
    executor: ThreadPoolExecutor, caplog: pytest.LogCaptureFixture
) -> None:
    r = MatplotlibRenderer(executor=executor)
    with caplog.at_level(logging.WARNING):
        assert await r.card_image("formula", r"\notacommand x") is None
        assert await r.card_image("formula", r"\notacommand x") is None
    assert r.counters.renders == 1 and r.counters.failures == 1
    assert r"Unknown symbol: \notacommand" in caplog.text
    await r.close()


async def test_stats_and_text_images(executor: ThreadPoolExecutor, tmp_path: Path) -> None:
    r = MatplotlibRenderer(tmp_path, executor=executor)
    stats = StudyStats(
        due_today=3,
        reviewed_today=5,
        streak_days=2,
        retention_30d=0.91,
        reviews_30d=40,
        desired_retention=0.9,
        per_day_30d=tuple(i % 5 for i in range(30)),
    )
    chart = await r.stats_chart(stats, [i % 7 for i in range(30)])
    assert isinstance(chart, RenderedImage) and chart.width >= 800
    again = await r.stats_chart(stats, [i % 7 for i in range(30)])
    assert again is chart
    other = await r.stats_chart(replace(stats, due_today=4), [i % 7 for i in range(30)])
    assert other.key != chart.key and other.data != chart.data
    assert not DiskCache(tmp_path).path(chart.key).exists()  # charts stay in memory
    table = await r.text_image("| a | b |\n|---|---|\n| 1 | 2 |")
    assert table.width >= 800 and DiskCache(tmp_path).path(table.key).exists()
    await r.close()


def test_cache_key_covers_kind_spec_style_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    base = cache_key(*SPEC, DEFAULT_STYLE)
    assert base == cache_key(*SPEC, DEFAULT_STYLE.digest())
    assert len(base) == 64
    assert cache_key("shape", SPEC[1] + ", highlight=row:1", DEFAULT_STYLE) != base
    assert cache_key("formula", SPEC[1], DEFAULT_STYLE) != base
    assert cache_key(*SPEC, replace(DEFAULT_STYLE, width=1000)) != base
    monkeypatch.setattr(cache_module, "RENDERER_VERSION", "999")
    assert cache_key(*SPEC, DEFAULT_STYLE) != base


def test_memory_cache_is_a_bounded_lru() -> None:
    def img(key: str, size: int = 10) -> RenderedImage:
        return RenderedImage(b"x" * size, 1, 1, key)

    cache = MemoryCache(max_items=2, max_bytes=100)
    cache.put(img("a"))
    cache.put(img("b"))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put(img("c"))
    assert "b" not in cache and "a" in cache and "c" in cache
    cache.put(img("d", 95))
    assert len(cache) == 1 and "d" in cache and cache.size_bytes == 95
    cache.put(img("e", 101))  # larger than the whole cache: not kept
    assert "e" not in cache
    cache.clear()
    assert len(cache) == 0 and cache.size_bytes == 0


async def test_the_default_process_pool_renders_off_the_loop(tmp_path: Path) -> None:
    r = MatplotlibRenderer(tmp_path, workers=1)
    await r.start()
    image = await r.card_image(*FORMULA)
    assert image is not None and png_size(image.data) == (image.width, image.height)
    await r.close()
    with pytest.raises(Exception, match="closed"):
        await r.card_image("formula", "y")
