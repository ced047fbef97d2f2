"""The browser workspace's "Open workspace" Mini App button on Telegram, end to end and
offline: the real PTB Application over the fake Bot API (which refuses a ``web_app`` button
outside a private chat, or one opening a plain http address, as Telegram does).

With ``[web]`` enabled a reply that offers the workspace (``Reply.workspace``) gets one more
keyboard row in a private chat, a ``web_app`` button opening
``{public_url}/app?open=<purpose>``; never in a group, and never with ``[web]`` off.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from bot.core.learners import Who
from bot.core.messages import Reply
from bot.platforms.telegram.one_member import EphemeralSender
from tests.e2e.telegram.fake import TgUser, rich_text
from tests.e2e.telegram.harness import GROUP, Harness, telegram_bot
from tests.e2e.telegram.test_bot import add_push, onboard
from tests.e2e.telegram.test_ephemeral import never_started

pytestmark = pytest.mark.asyncio

WEB = "https://study.example.org"
ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
CAT = TgUser(103, "Cat", "cat")

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


def bot_who(user: TgUser) -> Who:
    return Who("telegram", str(user.id), user.first_name)


def write_deck(tmp_path: Path) -> Path:
    folder = tmp_path / "ws-decks"
    folder.mkdir()
    (folder / "ws.md").write_text(DECK, encoding="utf-8")
    return folder


def web_apps(message: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, address) of the message's Mini App buttons."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b["web_app"]["url"]) for row in rows for b in row if "web_app" in b]


def no_errors(bot: Harness, caplog: pytest.LogCaptureFixture) -> None:
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    assert not bot.api.violations, bot.api.violations


@pytest.mark.parametrize("rich", [True, False])
async def test_a_long_backed_front_offers_the_review_page_in_a_private_chat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, rich: bool
) -> None:
    deck = write_deck(tmp_path)
    async with telegram_bot(
        tmp_path, extra_decks=[deck], shipped=False, fake_renderer=True, rich=rich, web_url=WEB
    ) as bot:
        await onboard(bot, ANA)
        await bot.send(ANA, "/review")
        front = bot.api.last_message(ANA.id)
        assert "Write softmax" in str(front.get("text") or front.get("rich_message") or "")
        assert web_apps(front) == [("Open workspace", f"{WEB}/app?open=review")]
        # The last row, under the card's own buttons.
        rows = front["reply_markup"]["inline_keyboard"]
        assert [b["text"] for b in rows[-1]] == ["Open workspace"]
        assert [b["text"] for b in rows[0]] == ["Show answer"]

        # The back in chat offers nothing more; the next card's back is short: no offer.
        await bot.tap(ANA, front, "Show answer")
        back = bot.api.message_with_button(ANA.id, "Good")
        assert web_apps(back) == []
        await bot.tap(ANA, back, "Good")
        nxt = bot.api.message_with_button(ANA.id, "Show answer")
        assert "sum to" in str(nxt.get("text") or nxt.get("rich_message") or "")
        assert web_apps(nxt) == []
    no_errors(bot, caplog)


async def test_stats_offers_its_page_and_nothing_without_web(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path / "on", fake_renderer=True, web_url=WEB + "/") as bot:
        await onboard(bot, ANA)
        await bot.send(ANA, "/stats")
        offered = [m for m in bot.api.messages_in(ANA.id) if web_apps(m)]
        assert [web_apps(m) for m in offered] == [[("Open workspace", f"{WEB}/app?open=stats")]]
        assert "photo" in offered[0], "on the chart, under its caption"
    no_errors(bot, caplog)

    async with telegram_bot(tmp_path / "off", fake_renderer=True) as bot:
        await onboard(bot, ANA)
        await bot.send(ANA, "/stats")
        await bot.send(ANA, "/review")
        assert all(web_apps(m) == [] for m in bot.api.messages_in(ANA.id))
        assert bot.platform.sender.workspace_url is None
    no_errors(bot, caplog)


async def test_a_challenge_offers_its_page_privately_and_never_in_the_group(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path / "on", fake_renderer=True, rich=False, web_url=WEB) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        await onboard(bot, BEN)
        await bot.send(ANA, "/challenge start refl-scaled-dot-product 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        assert web_apps(start) == []
        await bot.tap(BEN, start, "Submit my answer")
        ask = bot.api.last_message(BEN.id)
        assert "You're in" in ask["text"]
        run = bot.query("SELECT token FROM challenge_runs")[0][0]
        url = f"{WEB}/app?open={quote(f'challenge:{run}', safe='')}"
        assert url.endswith(f"open=challenge%3A{run}")
        assert web_apps(ask) == [("Open workspace", url)]
        await bot.send(BEN, "softmax(QK^T / sqrt(d_k)) V")

        await bot.app.challenges.reveal_overdue()  # not yet: nothing happens
        bot.clock.advance(timedelta(minutes=10))
        assert await bot.app.challenges.reveal_overdue() == 1
        assert all(web_apps(m) == [] for m in bot.api.messages_in(GROUP)), "none in the group"
        form = bot.api.message_with_button(BEN.id, "Apply to my cards")
        assert web_apps(form) == [("Open workspace", url)]
        # A tap edits the self-assessment: the edited keyboard keeps the button.
        await bot.tap(BEN, form, "☐")
        edited = bot.api.messages[(BEN.id, form["message_id"])]
        assert any(b["text"].startswith("☑") for row in edited["reply_markup"]["inline_keyboard"]
                   for b in row)  # fmt: skip
        assert web_apps(edited) == [("Open workspace", url)]
    no_errors(bot, caplog)


async def test_a_reply_offering_the_workspace_gets_no_button_in_a_group(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True, web_url=WEB, ephemeral=True) as bot:
        offer = Reply("info", "Here is your page.", workspace="stats")
        sender = bot.platform.sender
        [sent] = await sender.send_reply(GROUP, offer)
        assert sent.reply_markup is None
        assert web_apps(bot.api.messages[(GROUP, sent.message_id)]) == []
        # A message in the group for one member alone: a group message all the same.
        only_ben = EphemeralSender(sender, BEN.id)
        await only_ben.send_reply(GROUP, offer)
        # In the private chat the same reply has it.
        [mine] = await sender.send_reply(BEN.id, offer)
        assert web_apps(bot.api.messages[(BEN.id, mine.message_id)]) == [
            ("Open workspace", f"{WEB}/app?open=stats")
        ]
    no_errors(bot, caplog)


async def test_a_pushed_long_backed_card_offers_the_review_page(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deck = write_deck(tmp_path)
    async with telegram_bot(
        tmp_path, extra_decks=[deck], shipped=False, fake_renderer=True, web_url=WEB
    ) as bot:
        await onboard(bot, ANA)
        learner = await bot.app.study.learner(bot_who(ANA))
        await add_push(bot, learner.id, "ws-long")
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        pushed = bot.api.message_with_button(ANA.id, "Snooze")
        assert web_apps(pushed) == [("Open workspace", f"{WEB}/app?open=review")]
    no_errors(bot, caplog)


async def test_with_ephemeral_messages_a_challenge_still_offers_its_page_privately(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``ephemeral_messages`` on (the default): a member who has a private chat with the
    bot is asked there, where the "Open workspace" button can go (a group message, even
    one for them alone, cannot carry it); one who never started the bot is still asked in
    the group, to them alone."""
    async with telegram_bot(
        tmp_path, fake_renderer=True, rich=False, web_url=WEB, ephemeral=True
    ) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        await onboard(bot, BEN)
        never_started(bot, CAT)
        await bot.send(ANA, "/challenge start refl-scaled-dot-product 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        run = bot.query("SELECT token FROM challenge_runs")[0][0]
        url = f"{WEB}/app?open={quote(f'challenge:{run}', safe='')}"

        await bot.tap(BEN, start, "Submit my answer")
        ask = bot.api.last_message(BEN.id)
        assert "You're in" in ask["text"]
        assert web_apps(ask) == [("Open workspace", url)]
        assert bot.api.ephemeral_in(GROUP, BEN.id) == []

        await bot.tap(CAT, start, "Submit my answer")
        [asked] = bot.api.ephemeral_in(GROUP, CAT.id)
        assert "reply to this message" in rich_text(asked)
        assert web_apps(asked) == []
    no_errors(bot, caplog)
