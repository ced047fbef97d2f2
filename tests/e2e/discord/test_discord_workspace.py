"""The browser workspace's "Open workspace" button on Discord, end to end and offline.

A reply that offers the workspace (``Reply.workspace``) gets a button ``w:<purpose>`` in
a row of its own when the platform can make links (``workspace_links``, ``[web]`` on);
pressing it answers, only to the person, with a one-time link as a link button. The
links come from an injected fake (the workspace service is another part's).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from bot.app import App, discord_platform
from bot.config import Secret, default_settings
from bot.core.learners import Who
from bot.core.workspace import WorkspaceService
from bot.platforms.discord import DiscordPlatform
from bot.platforms.discord.components import BUTTON_EXPIRED
from bot.platforms.discord.interactions import SORRY
from bot.platforms.discord.taps import link_words
from tests.e2e.discord.discord_fakes import FakeDiscord, Place, Sent, dm_channel_id
from tests.e2e.discord.test_discord import ALICE, BOB, CHANNEL, GUILD, TOKEN, Env, only, start_app
from tests.fakes.clock import FixedClock

#: Manage Server (and View Channel): a server admin as far as challenges go.
MANAGE_GUILD = 1 << 5 | 1 << 10
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WEB = "https://study.example.org"

DECK = """# Workspace cards
id: ws
tags: ws
description: One card with a long back, one with a short one.

## Softmax in full
id: ws-long

### Front
Write softmax over a vector $z$.

### Back
$$
\\mathrm{softmax}(z)_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}
$$

## A short one
id: ws-short

### Front
What does softmax sum to?

### Back
One.
"""


@dataclass
class Links:
    """A fake of the workspace's link maker: records who asked for what."""

    asked: list[tuple[Who, str]] = field(default_factory=list)
    fail: bool = False

    async def __call__(self, who: Who, purpose: str) -> str:
        if self.fail:
            raise RuntimeError("the database is down")
        self.asked.append((who, purpose))
        return f"{WEB}/app?open={purpose}#link=tok{len(self.asked)}"


def asked(links: Links) -> list[tuple[str, str]]:
    """(Discord user id, purpose) of each link made; every one for a Discord learner."""
    assert all(who.platform == "discord" for who, _ in links.asked)
    return [(who.user_id, purpose) for who, purpose in links.asked]


def with_links(app: App, links: Callable[[Who, str], Awaitable[str]]) -> DiscordPlatform:
    """``discord_platform`` itself with ``[web]`` on: the app's workspace a stand-in whose
    ``link`` is ``links`` (the adapter takes nothing else of it)."""
    workspace = cast(WorkspaceService, SimpleNamespace(link=links))
    return discord_platform(replace(app, workspace=workspace))


@asynccontextmanager
async def running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, links: Links | None
) -> AsyncIterator[Env]:
    """The bot over a fake Discord with the shipped decks and one of long and short backs;
    ``links`` None builds it as the app does today (``[web]`` off)."""
    fake = FakeDiscord()
    fake.install(monkeypatch)
    fake.permissions[ALICE[0]] = MANAGE_GUILD
    folder = tmp_path / "ws-decks"
    folder.mkdir()
    (folder / "ws.md").write_text(DECK, encoding="utf-8")
    base = default_settings(data_dir=tmp_path)
    settings = replace(
        base,
        discord=replace(base.discord, token=Secret(TOKEN)),
        decks=replace(base.decks, paths=(*base.decks.paths, folder)),
        study=replace(base.study, enable_fuzzing=False),
    )
    clock = FixedClock(START)
    app = await start_app(settings, clock)
    bot = discord_platform(app) if links is None else with_links(app, links)
    await bot.login()
    app.channels.attach(bot)
    env = Env(fake, settings, clock, app, bot)
    try:
        yield env
    finally:
        await env.bot.stop()
        await env.app.close()


def workspace_ids(message: Sent) -> list[str]:
    return [c for c in message.custom_ids() if c.startswith("w:")]


def rows_of(message: Sent) -> list[list[str]]:
    """The labels of each action row of a message (nested ones too), in order."""
    return [
        [str(b.get("label")) for b in c.get("components") or []]
        for c in message.components()
        if c.get("type") == 1
    ]


async def open_link(env: Env, message: Sent, user: tuple[int, str], place: Place) -> Sent:
    """Press "Open workspace": the one message only the person sees."""
    current = env.fake.messages[message.id].snapshot()
    return only(await env.press(current, current.button("Open workspace"), user, place))


def link_button(message: Sent) -> dict[str, Any]:
    (button,) = message.buttons()
    assert button["style"] == 5 and "custom_id" not in button
    return button


def no_trouble(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    assert env.fake.unanswered() == []


async def test_stats_offers_its_page_and_the_press_answers_with_a_one_time_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    links = Links()
    async with running(tmp_path, monkeypatch, links) as env:
        dm = env.fake.dm(ALICE[0])
        stats, *_ = await env.command("stats", ALICE, dm)
        assert stats.embeds[0]["title"] == "Your stats"
        assert workspace_ids(stats) == ["w:stats"]
        assert rows_of(stats)[-1] == ["Open workspace"], "a row of its own"

        answer = await open_link(env, stats, ALICE, dm)
        assert answer.ephemeral
        assert answer.content == "Your workspace link works once, for the next 15 minutes."
        assert answer.content == link_words(15) and link_words(1).endswith("next minute.")
        button = link_button(answer)
        assert button["label"] == "Open workspace"
        assert button["url"] == f"{WEB}/app?open=stats#link=tok1"
        assert WEB not in answer.content, "the link only in the button"
        assert asked(links) == [(str(ALICE[0]), "stats")]
        # The stats message is left as it was.
        assert workspace_ids(env.fake.messages[stats.id].snapshot()) == ["w:stats"]

        # In a server the link is Bob's own, shown to him alone.
        room = env.fake.server(GUILD, CHANNEL)
        theirs, *_ = await env.command("stats", BOB, room)
        assert theirs.ephemeral and workspace_ids(theirs) == ["w:stats"]
        bobs = await open_link(env, theirs, BOB, room)
        assert bobs.ephemeral and link_button(bobs)["url"].endswith("#link=tok2")
        assert asked(links)[-1] == (str(BOB[0]), "stats")
        no_trouble(env, caplog)


async def test_a_long_backed_card_offers_the_review_page_inside_its_composed_card(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    links = Links()
    async with running(tmp_path, monkeypatch, links) as env:
        dm = env.fake.dm(ALICE[0])
        only(await env.command("decks", ALICE, dm, topics="ws"))
        card = only(await env.command("review", ALICE, dm))
        assert card.composed and "Write softmax" in card.text()
        assert workspace_ids(card) == ["w:review"]
        assert rows_of(card) == [
            ["Show answer"],
            ["Bury until tomorrow", "Suspend"],
            ["Open workspace"],
        ]
        answer = await open_link(env, card, ALICE, dm)
        assert link_button(answer)["url"] == f"{WEB}/app?open=review#link=tok1"

        # The back offers nothing more; the short card after it offers nothing.
        current = env.fake.messages[card.id].snapshot()
        assert await env.press(current, current.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id].snapshot()
        assert "**Answer**" in back.text() and workspace_ids(back) == []
        assert await env.press(back, back.button("Good"), ALICE, dm) == []
        nxt = env.fake.messages[card.id].snapshot()
        assert "sum to" in nxt.text() and workspace_ids(nxt) == []
        no_trouble(env, caplog)


async def test_without_web_no_reply_offers_it_and_an_old_button_has_expired(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    links = Links()
    async with running(tmp_path, monkeypatch, links) as env:
        dm = env.fake.dm(ALICE[0])
        before, *_ = await env.command("stats", ALICE, dm)
        assert workspace_ids(before) == ["w:stats"]
        # A restart as the app builds the adapter today: no links ([web] off).
        await env.restart()
        assert not env.bot.workspace
        only(await env.command("decks", ALICE, dm, topics="ws"))
        card = only(await env.command("review", ALICE, dm))
        stats, *_ = await env.command("stats", ALICE, dm)
        assert workspace_ids(card) == workspace_ids(stats) == []
        assert ["Open workspace"] not in rows_of(card)

        # The button sent while [web] was on, pressed now: expired, no link made.
        expired = await open_link(env, before, ALICE, dm)
        assert expired.ephemeral and expired.content == BUTTON_EXPIRED
        assert expired.buttons() == [] and links.asked == []
        no_trouble(env, caplog)


async def test_a_link_that_cannot_be_made_gets_the_one_error_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    links = Links(fail=True)
    async with running(tmp_path, monkeypatch, links) as env:
        dm = env.fake.dm(ALICE[0])
        stats, *_ = await env.command("stats", ALICE, dm)
        with caplog.at_level(logging.ERROR):
            sorry = await open_link(env, stats, ALICE, dm)
        assert sorry.ephemeral and sorry.content == SORRY and sorry.buttons() == []
        failed = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert [r.getMessage().startswith("Discord interaction failed") for r in failed] == [True]
        assert "w:stats" in failed[0].getMessage()
        assert env.fake.unanswered() == []


async def test_a_challenge_offers_its_page_after_the_answer_and_with_the_self_assessment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    links = Links()
    async with running(tmp_path, monkeypatch, links) as env:
        room = env.fake.server(GUILD, CHANNEL)
        payload = env.fake.subcommand(
            "challenge", "start", ALICE, room, challenge="refl-scaled-dot-product", minutes=10
        )
        post = only(await env.send(payload))
        assert workspace_ids(post) == [], "the group's post offers no page"
        join = post.button("Submit my answer")
        run = join.split(":", 1)[1]
        purpose = f"challenge:{run}"

        # The answer comes in a form (the private request is never shown on Discord):
        # its acknowledgement offers the run's page.
        assert await env.press(post, join, BOB, room) == []
        form = env.fake.modals[-1]
        got = only(
            await env.send(
                env.fake.modal_submit(form, {"Your answer, from memory": "QK^T V"}, BOB, room)
            )
        )
        assert got.ephemeral and got.content.startswith("Got your answer")
        assert workspace_ids(got) == [f"w:{purpose}"]
        assert len(f"w:{purpose}") <= 100
        answer = await open_link(env, got, BOB, room)
        assert link_button(answer)["url"] == f"{WEB}/app?open={purpose}#link=tok1"
        assert asked(links) == [(str(BOB[0]), purpose)]

        # After the reveal: the self-assessment in Bob's DMs offers it too, beside its
        # form button; the reference in the server does not.
        env.clock.advance(timedelta(minutes=11))
        mark = env.fake.mark()
        assert await env.app.challenges.reveal_overdue() == 1
        revealed = env.fake.created_since(mark)
        assert all(workspace_ids(m) == [] for m in revealed if m.channel_id == CHANNEL)
        (sa,) = [m for m in revealed if m.channel_id == dm_channel_id(BOB[0])]
        assert sa.embeds[0]["title"] == "Self-assessment"
        assert rows_of(sa) == [
            ["Rate every row"],
            ["Name me in the summary", "Share my answer"],
            ["Open workspace"],
        ]
        assert workspace_ids(sa) == [f"w:{purpose}"]
        no_trouble(env, caplog)
