"""Tests for bot.platforms.web.jsonview: outcomes and pages as the JSON of docs/web.md."""

from __future__ import annotations

import base64
from datetime import UTC, date, datetime

from bot.core.calibration import CalibrationBin
from bot.core.messages import Button, CardView, Reply
from bot.core.model import CardImage
from bot.core.outcomes import Outcome
from bot.core.rendering import RenderedImage
from bot.core.stats import DayWorkload, WeekRetention
from bot.core.workspace import StatsPage
from bot.platforms.web.jsonview import data_url, iso, outcome_json, stats_json
from tests.unit.core.test_drawing import Renderer

CARD = CardView(
    "c1", "Deck", "Title", "Front $x$", back="Back", back_image=CardImage("formula", "x^2")
)


def test_instants_are_utc_with_a_z() -> None:
    assert iso(datetime(2026, 12, 7, 9, 0, 5, tzinfo=UTC)) == "2026-12-07T09:00:05Z"


async def test_an_outcome_with_a_card_and_its_image_drawn() -> None:
    renderer = Renderer()
    reply = Reply(
        "back",
        "",
        card=CARD,
        buttons=((Button("Good · 3d", "r:t0000001:3", "rate", "primary"),),),
    )
    body = await outcome_json(Outcome(notice="ok", edit=reply, close=None), renderer)
    assert body["notice"] == "ok" and body["alert"] is False and body["replies"] == []
    edit = body["edit"]
    assert edit["kind"] == "back"
    assert edit["buttons"] == [
        [{"label": "Good · 3d", "payload": "r:t0000001:3", "style": "primary"}]
    ]
    card = edit["card"]
    assert (card["id"], card["title"], card["deck"], card["front"], card["back"]) == (
        "c1",
        "Title",
        "Deck",
        "Front $x$",
        "Back",
    )
    assert card["image"] == "data:image/png;base64," + base64.b64encode(b"png").decode()
    assert renderer.calls == [("card", "formula", "x^2")]


async def test_without_a_renderer_or_when_drawing_fails_the_image_is_null() -> None:
    body = await outcome_json(Outcome(replies=(Reply("back", card=CARD),)), None)
    assert body["replies"][0]["card"]["image"] is None
    failing = Renderer(fail=RuntimeError("no"))
    body = await outcome_json(Outcome(replies=(Reply("back", card=CARD),)), failing)
    assert body["replies"][0]["card"]["image"] is None


def test_a_data_url_keeps_the_type() -> None:
    image = RenderedImage(b"\xff\xd8", 1, 1, "k", "image/jpeg")
    assert data_url(image.data, image.media_type) == "data:image/jpeg;base64,/9g="


def test_stats_as_json() -> None:
    page = StatsPage(
        target=0.85,
        forecast=((date(2026, 12, 7), 3),),
        retention=(WeekRetention(date(2026, 11, 30), 40, 36),),
        calibration=(CalibrationBin(0.8, 0.85, 30, 0.8234567, 0.8),),
        workload=(DayWorkload(date(2026, 12, 6), 25, 410),),
    )
    assert stats_json(page) == {
        "target": 0.85,
        "forecast": [{"day": "2026-12-07", "due": 3}],
        "retention": [{"week": "2026-11-30", "reviews": 40, "recalled": 36}],
        "calibration": [{"predicted": 0.8235, "actual": 0.8, "reviews": 30}],
        "workload": [{"day": "2026-12-06", "reviews": 25, "seconds": 410}],
    }
