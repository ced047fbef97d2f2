"""Nothing a Telegram user does is left unanswered or lost, and no token reaches a log.

Echoes of long input quote a short excerpt (Telegram would refuse a message over
4096 characters); a group where the bot may not post gets no apology there, the
member is told privately, and a result that cannot be posted reaches the member who
started it; at DEBUG, python-telegram-bot's and httpx's lines never show the token.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import LoggingSettings
from bot.config.logs import configure_logging
from bot.core.delivery import CANNOT_POST
from bot.core.learners import Who
from bot.core.outcomes import Outcome, notice
from bot.platforms.telegram.errors import CANNOT_POST_HERE, SORRY
from tests.e2e.telegram.fake import TOKEN, TgUser, button_data
from tests.e2e.telegram.harness import GROUP, Harness, telegram_bot
from tests.unit.config.support import bare_root_logger

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]


def private_texts(bot: Harness, user: TgUser) -> list[str]:
    return [c.plain for c in bot.api.sent("sendMessage|sendRichMessage|sendPhoto", user.id)]


async def test_long_input_is_quoted_as_a_short_excerpt(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        await bot.send(ANA, "/x" + "y" * 4090)
        answer = bot.api.sent("sendMessage", ANA.id)[-1].plain
        assert answer.startswith("I don't know /xyyy") and "…" in answer
        assert len(answer) < 120

        await bot.send(ANA, "/start")  # the first question: the time zone
        await bot.send(ANA, "Europe/" + "ü" * 5000)
        answer = bot.api.sent("sendMessage", ANA.id)[-1].plain
        assert "is not a time zone I know" in answer and len(answer) < 200
        await bot.send(ANA, "/settings timezone " + "\u200f" * 10 + "x" * 5000)
        assert "is not a time zone I know" in bot.api.sent("sendMessage", ANA.id)[-1].plain
        assert SORRY not in private_texts(bot, ANA)
    assert not tracebacks(caplog)


async def test_a_group_where_the_bot_may_not_post_is_answered_privately(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        for endpoint in ("sendMessage", "sendRichMessage", "sendPhoto"):
            bot.api.fail(endpoint, "no_rights", chat_id=GROUP, times=10)
        await bot.send(ANA, "/quiz attention", GROUP)
        assert private_texts(bot, ANA)[-1] == CANNOT_POST_HERE
        for endpoint in ("sendMessage", "sendRichMessage", "sendPhoto"):
            bot.api.fail(endpoint, "kicked", chat_id=GROUP, times=10)
        await bot.send(BEN, "/help", GROUP)
        assert private_texts(bot, BEN)[-1] == CANNOT_POST_HERE
        assert not [c for c in bot.api.calls if c.chat_id == GROUP and SORRY in c.plain]
    assert not tracebacks(caplog)


async def test_a_quiz_answer_the_group_refuses_reaches_the_member_who_started_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        await bot.send(ANA, "/quiz attention", GROUP)
        quiz = bot.api.message_with_button(GROUP, "Reveal")
        for member in (ANA, BEN):
            await bot.tap_data(member, quiz, button_data(quiz, "Reveal"))
        # The group takes the bot's right to post away while the quiz runs.
        for endpoint in ("sendMessage", "sendRichMessage", "sendPhoto"):
            bot.api.fail(endpoint, "no_rights", chat_id=GROUP, times=10)
        for member, rating in ((ANA, "Good"), (BEN, "Hard")):
            back = bot.api.message_with_button(member.id, rating)
            await bot.tap(member, back, rating)
        texts = private_texts(bot, ANA)
        assert CANNOT_POST in texts
        after = texts[texts.index(CANNOT_POST) + 1 :]
        assert any(t.startswith("Quiz answer. 2 took part") for t in after)
    assert not tracebacks(caplog)
    assert any("refused a post to chat" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("form", "known"), [("text", True), ("json", False)])
async def test_no_token_in_any_log_at_debug(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str, known: bool
) -> None:
    """Through python-telegram-bot's real HTTP layer (httpx; only the transport is fake),
    every logger at DEBUG, logging configured as ``studybot run`` configures it; also
    when the token is not among the secrets logging was told of (masked by its shape)."""
    with bare_root_logger():
        fmt = "json" if form == "json" else LoggingSettings().format
        configure_logging(LoggingSettings(level="DEBUG", format=fmt), [TOKEN] if known else [])
        async with telegram_bot(tmp_path, fake_renderer=True, http=True) as bot:
            await bot.send(ANA, "/start")
            await bot.tap(ANA, bot.api.message_with_button(ANA.id, "UTC"), "UTC")
            await bot.send(ANA, "/help")
    logged = capsys.readouterr().err
    assert "HTTP Request: POST" in logged and "getMe" in logged  # httpx and PTB did log
    assert "Set Bot API URL" in logged
    assert TOKEN not in logged
    assert TOKEN.split(":", 1)[1] not in logged


async def test_a_long_toast_fits_telegrams_200_characters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram counts a callback answer in UTF-16 units: 150 emoji are 300 of them."""

    async def press(who: Who, payload: str, *, typed_answer: str | None = None) -> Outcome:
        return notice("🙂" * 150)

    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        await bot.send(ANA, "/review")
        monkeypatch.setattr(bot.app.inputs, "press", press)
        query = await bot.tap_data(ANA, bot.api.last_message(ANA.id), "r:whatever:3")
        assert query in bot.api.answered
        assert not bot.api.violations
    assert not tracebacks(caplog)
