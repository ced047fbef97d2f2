"""Importing Anki files on Telegram end to end: a learner sends a file in the private chat.

The real PTB application over the fake Bot API, whose getFile and file server serve
the files the test sends. The size Telegram declares is checked before any
download; a file in a group is left alone; a download that fails is told to the
learner once, and the file server's URL (it holds the token) reaches no log.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import LoggingSettings
from bot.config.logs import configure_logging
from bot.core.ankifile import MAX_IMPORT_BYTES
from bot.platforms.telegram.commands import IMPORT_HOW
from bot.platforms.telegram.errors import SORRY
from bot.platforms.telegram.sending import FILE_UNAVAILABLE, NETWORK_ATTEMPTS
from tests.e2e.telegram.fake import DOWNLOAD, TOKEN, TgUser
from tests.e2e.telegram.harness import GROUP, Harness, telegram_bot
from tests.unit.config.support import bare_root_logger

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")

#: An Anki text export ("Notes in Plain Text", tab-separated) with two notes.
TEXT_EXPORT = (
    b"#separator:tab\n"
    b"#html:false\n"
    b"What is the capital of Portugal?\tLisbon\n"
    b"What is the capital of Peru?\tLima\n"
)


def replies(bot: Harness, user: TgUser) -> list[str]:
    """What the user was sent in their private chat, as they read it."""
    return [c.plain for c in bot.api.sent("sendMessage|sendPhoto|sendDocument", user.id)]


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]


async def test_a_text_export_sent_as_a_file_is_imported_and_then_reviewed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, shipped=False, fake_renderer=True, rich=False) as bot:
        await bot.send_document(ANA, "capitals.txt", TEXT_EXPORT)
        # The size was declared, so getFile and the download come only when the core asks.
        assert [c.endpoint for c in bot.api.downloads()] == ["getFile", DOWNLOAD]
        (action,) = bot.api.sent("sendChatAction", ANA.id)
        assert action.params["action"] == "typing"
        (answer,) = replies(bot, ANA)
        assert "Imported" in answer and "2 cards" in answer, answer
        assert "capitals" in answer.lower()

        await bot.send(ANA, "/review")
        assert "What is the capital of" in replies(bot, ANA)[-1]
        assert not bot.api.violations
    assert not tracebacks(caplog)
    assert SORRY not in replies(bot, ANA)


async def test_a_file_over_the_limit_is_refused_without_being_downloaded(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, shipped=False, fake_renderer=True) as bot:
        await bot.send_document(ANA, "everything.apkg", b"PK\x03\x04", size=MAX_IMPORT_BYTES + 1)
        (answer,) = replies(bot, ANA)
        assert "20 MB" in answer, answer
        assert bot.api.downloads() == []
        # Nor when the message leaves the size out: getFile (no download) says too big.
        await bot.send_document(
            ANA, "everything.apkg", b"PK\x03\x04", size=MAX_IMPORT_BYTES + 1, declared=False
        )
        assert replies(bot, ANA)[-1] == answer
        assert [c.endpoint for c in bot.api.downloads()] == ["getFile"]
    assert not tracebacks(caplog)


async def test_a_file_without_a_declared_size_is_asked_about_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, shipped=False, fake_renderer=True) as bot:
        await bot.send_document(ANA, "capitals.txt", TEXT_EXPORT, declared=False)
        assert [c.endpoint for c in bot.api.downloads()] == ["getFile", DOWNLOAD]
        assert "Imported" in replies(bot, ANA)[-1]
    assert not tracebacks(caplog)


async def test_a_file_that_is_no_anki_file_gets_a_friendly_refusal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, shipped=False, fake_renderer=True) as bot:
        await bot.send_document(ANA, "holiday.pdf", b"%PDF-1.7\n" + bytes(range(256)) * 8)
        (answer,) = replies(bot, ANA)
        assert answer != SORRY
        assert ".apkg" in answer, answer
        await bot.send_document(ANA, None, b"\x00\x01 not a zip, not text \xff\xfe")
        assert replies(bot, ANA)[-1] != SORRY
        assert bot.learner_id(ANA) is not None
        decks = bot.query("SELECT COUNT(*) FROM decks WHERE owner_id IS NOT NULL")
        assert decks == [(0,)]
    assert not tracebacks(caplog)


async def test_a_file_sent_in_a_group_is_left_alone(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path, shipped=False, fake_renderer=True) as bot:
        bot.api.clear()
        await bot.send_document(ANA, "capitals.txt", TEXT_EXPORT, chat_id=GROUP)
        assert bot.api.calls == []  # not a word in the group, no download, no chat action
        assert bot.learner_id(ANA) is None


async def test_a_download_that_fails_is_told_and_nothing_is_imported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with telegram_bot(tmp_path, shipped=False, fake_renderer=True) as bot:
        bot.api.fail(DOWNLOAD, "network", times=NETWORK_ATTEMPTS)
        await bot.send_document(ANA, "capitals.txt", TEXT_EXPORT)
        assert len(bot.api.sent(DOWNLOAD)) == NETWORK_ATTEMPTS
        assert replies(bot, ANA) == [FILE_UNAVAILABLE]
        assert bot.query("SELECT COUNT(*) FROM decks WHERE owner_id IS NOT NULL") == [(0,)]
        (line,) = [r for r in caplog.records if "could not download" in r.getMessage()]
        assert line.levelno == logging.WARNING and not line.exc_info
        assert str(ANA.id) in line.getMessage()

        # One failed try of three is retried in place: the learner sees only the import.
        bot.api.fail(DOWNLOAD, "network", times=1)
        await bot.send_document(ANA, "capitals.txt", TEXT_EXPORT)
        assert "Imported" in replies(bot, ANA)[-1]

        # getFile refusing the file (an expired id) is told the same way.
        bot.api.fail("getFile", "bad_request")
        await bot.send_document(BEN, "capitals.txt", TEXT_EXPORT)
        assert replies(bot, BEN) == [FILE_UNAVAILABLE]
    assert not tracebacks(caplog)
    assert TOKEN.split(":", 1)[1] not in caplog.text


async def test_import_says_how_in_private_and_points_there_from_a_group(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path, shipped=False, fake_renderer=True) as bot:
        menus = {
            c.params["scope"]["type"]: c.params["commands"] for c in bot.api.sent("setMyCommands")
        }
        assert "import" in {c["command"] for c in menus["all_private_chats"]}
        await bot.send(ANA, "/import")
        assert replies(bot, ANA)[-1].startswith("Send me an Anki package (.apkg or .colpkg)")
        assert replies(bot, ANA)[-1] == IMPORT_HOW
        await bot.send(ANA, "/help")
        assert "/import" in replies(bot, ANA)[-1]
        await bot.send(BEN, "/import", chat_id=GROUP)
        (pointer,) = bot.api.sent("sendMessage", GROUP)
        assert pointer.plain.startswith("/import is personal")


@pytest.mark.parametrize("known", [True, False])
async def test_the_file_servers_url_reaches_no_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], known: bool
) -> None:
    """Through python-telegram-bot's real HTTP layer (httpx; only the transport is fake),
    every logger at DEBUG: the download's URL holds the token, and is never shown, also
    when the token is not among the secrets logging was told of."""
    with bare_root_logger():
        configure_logging(LoggingSettings(level="DEBUG"), [TOKEN] if known else [])
        async with telegram_bot(tmp_path, shipped=False, fake_renderer=True, http=True) as bot:
            await bot.send_document(ANA, "capitals.txt", TEXT_EXPORT)
            bot.api.fail(DOWNLOAD, "network", times=NETWORK_ATTEMPTS)
            await bot.send_document(ANA, "capitals.txt", TEXT_EXPORT)
            assert replies(bot, ANA)[-1] == FILE_UNAVAILABLE
    logged = capsys.readouterr().err
    assert "HTTP Request: GET" in logged and "/file/bot" in logged  # httpx did log it
    assert TOKEN not in logged
    assert TOKEN.split(":", 1)[1] not in logged


#: File names a learner's phone may send: markup, Telegram's HTML, right-to-left marks,
#: emoji, a name far past any message limit.
HOSTILE_NAMES = (
    "<b>deck</b> & co.txt",
    "my_*deck*_[x](y).csv",
    "\u202eevil\u202c 🙂.tsv",
    "a" * 300 + ".txt",
)


@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=["html", "markdown", "rtl", "long"])
async def test_a_file_name_is_shown_as_it_is_within_telegrams_limits(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    async with telegram_bot(tmp_path, shipped=False, fake_renderer=True) as bot:
        await bot.send_document(ANA, name, TEXT_EXPORT)
        (answer,) = replies(bot, ANA)
        assert "Imported" in answer, answer
        assert not bot.api.violations
    assert not tracebacks(caplog)
