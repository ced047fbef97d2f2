"""The operators' endpoint over a real app on SQLite, scraped on loopback.

``bot.app`` builds the app with Prometheus metrics (``[ops]`` enabled) and
serves ``/healthz`` and ``/metrics`` on 127.0.0.1, port 0. A review and a push
go through the services as the platforms send them; the scrape shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp

from bot.app import build_app, ops_endpoint, ops_metrics
from bot.config import OpsSettings, Secret, default_settings
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import Learner
from bot.core.ports import Delivery
from bot.ops.server import OpsServer
from tests.fakes.clock import FixedClock
from tests.scraping import health, scrape
from tests.services import button, only

REPO = Path(__file__).resolve().parents[3]
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday, 14:00 UTC
ANA = Who("telegram", "100", "Ana")


@dataclass
class StandInTelegram:
    """A connected platform, as the health check and a push sender see it."""

    name: str = "telegram"
    connected: bool = True

    def __post_init__(self) -> None:
        self.pushed: list[Reply] = []

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        self.pushed.append(reply)
        return Delivery(reached=True)


async def test_a_review_and_a_push_move_the_metrics(tmp_path: Path) -> None:
    settings = default_settings(data_dir=tmp_path)
    settings = replace(
        settings,
        telegram=replace(settings.telegram, token=Secret("123:abc")),
        decks=replace(settings.decks, paths=(REPO / "tests" / "data" / "good_decks",)),
        study=replace(settings.study, enable_fuzzing=False),
        ops=OpsSettings(enabled=True, host="127.0.0.1", port=0),
    )
    metrics = ops_metrics(settings)
    assert metrics is not None
    clock = FixedClock(START)
    app = await build_app(settings, auto_upgrade=True, clock=clock, metrics=metrics)
    telegram = StandInTelegram()
    try:
        endpoint = ops_endpoint(app, metrics, [telegram])
        assert isinstance(endpoint, OpsServer)
        async with endpoint, aiohttp.ClientSession() as session:
            base = f"http://127.0.0.1:{endpoint.port}"
            status, body = await health(session, base)
            assert (status, body["ready"], body["database"]) == (200, True, "ok")

            before = await scrape(session, base)
            assert before.value("studybot_reviews_total", source="dm") == 0
            assert before.value("studybot_outbox_depth", platform="telegram") == 0

            # A review in the private chat: "Again", so the card is due again tomorrow.
            front = only(await app.study.next(ANA))
            back = await app.inputs.press(ANA, button(front, "Show answer").payload)
            assert back.edit is not None
            await app.inputs.press(ANA, button(back.edit, "Again").payload)
            after_review = await scrape(session, base)
            assert after_review.value("studybot_reviews_total", source="dm") == 1

            # The next morning's push: planned, waiting in the outbox, then sent.
            learner = await app.study.learner(ANA)
            assert learner.next_push_at is not None
            clock.set(learner.next_push_at)
            assert await app.pushes.tick(["telegram"]) == 1
            clock.advance(timedelta(seconds=30))
            planned = await scrape(session, base)
            assert planned.value("studybot_pushes_planned_total", platform="telegram") == 1
            assert planned.value("studybot_outbox_depth", platform="telegram") == 1
            age = planned.value("studybot_outbox_oldest_age_seconds", platform="telegram")
            assert age == 30
            assert await app.pushes.drain("telegram", telegram.push) == 1
            sent = await scrape(session, base)
            assert sent.value("studybot_pushes_sent_total", platform="telegram") == 1
            assert sent.value("studybot_outbox_depth", platform="telegram") == 0

            # Rating the pushed card counts as a review from a push.
            (push,) = telegram.pushed
            shown = await app.inputs.press(ANA, button(push, "Show answer").payload)
            assert shown.edit is not None
            await app.inputs.press(ANA, button(shown.edit, "Good").payload)
            last = await scrape(session, base)
            assert last.value("studybot_reviews_total", source="push") == 1
            assert last.value("studybot_reviews_total", source="dm") == 1
            assert last.value("process_resident_memory_bytes") > 0
            assert "studybot_event_loop_lag_seconds" in last.names()

            telegram.connected = False
            status, body = await health(session, base)
            assert (status, body["not_ready"]) == (503, ["telegram: not connected"])
    finally:
        await app.close()


async def test_without_ops_nothing_is_served_or_counted(tmp_path: Path) -> None:
    settings = default_settings(data_dir=tmp_path)
    assert ops_metrics(settings) is None
    app = await build_app(settings, auto_upgrade=True)
    try:
        async with ops_endpoint(app, None, []) as served:
            assert served is None
    finally:
        await app.close()
