"""Importing Anki files on Discord end to end: ``/import file:`` and a file sent in the DMs.

The real discord.py client over the fake Discord; the files come from its CDN on
127.0.0.1, downloaded by discord.py itself. The size Discord declares is checked
before any download; in a server the command only points to the DMs; a download
that fails is told to the learner once, without a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.core.ankifile import MAX_IMPORT_BYTES
from bot.platforms.discord.commands import HELP, IMPORT_IN_DMS
from bot.platforms.discord.interactions import DOWNLOAD_FAILED, SORRY
from bot.platforms.discord.platform import StudyClient
from tests.e2e.discord.discord_fakes import BOT_USER, Sent, dm_channel_id
from tests.e2e.discord.test_discord import ALICE, BOB, CHANNEL, GUILD, TOKEN, Env, only, running

#: An Anki text export ("Notes in Plain Text", tab-separated) with two notes.
TEXT_EXPORT = (
    b"#separator:tab\n"
    b"#html:false\n"
    b"What is the capital of Portugal?\tLisbon\n"
    b"What is the capital of Peru?\tLima\n"
)
TEXT = "text/plain; charset=utf-8"
CAPITALS = {"file": ("capitals.txt", TEXT, TEXT_EXPORT)}


@pytest.fixture
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    async with running(tmp_path, monkeypatch, shipped=False) as environment:
        yield environment


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]


def texts(messages: list[Sent]) -> list[str]:
    return [m.text() for m in messages]


async def test_import_in_the_dms_imports_the_attachment_then_it_is_reviewed(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    dm = env.fake.dm(ALICE[0])
    answer = only(
        await env.command(
            "import", ALICE, dm, attachments={"file": ("capitals.txt", TEXT, TEXT_EXPORT)}
        )
    )
    assert "Imported" in answer.text() and "2 cards" in answer.text(), answer.text()
    assert "capitals" in answer.text().lower()
    assert not answer.ephemeral
    assert len(env.fake.cdn.downloads) == 1
    # Deferred first ("thinking…"), so Discord's 3 seconds never run out while it imports.
    (callback,) = [c for c in env.fake.calls if c.path.endswith("/callback")]
    assert callback.json["type"] == 5

    card = only(await env.command("review", ALICE, dm))
    assert "What is the capital of" in card.text()
    assert not env.fake.unanswered() and not env.fake.violations
    assert not tracebacks(caplog)


async def test_import_in_a_server_points_to_the_dms_and_downloads_nothing(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    pointer = only(
        await env.command(
            "import", BOB, room, attachments={"file": ("capitals.txt", TEXT, TEXT_EXPORT)}
        )
    )
    assert pointer.ephemeral
    assert pointer.content == IMPORT_IN_DMS
    assert env.fake.cdn.downloads == []
    assert env.rows("SELECT COUNT(*) FROM decks WHERE owner_id IS NOT NULL") == [(0,)]
    assert not env.fake.unanswered()


async def test_a_file_sent_in_the_dms_is_imported_in_a_reply(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    dm = env.fake.dm(ALICE[0])
    sent = env.fake.attachment(dm, "capitals.txt", TEXT, TEXT_EXPORT)
    message = env.fake.dm_message(ALICE, "my Anki deck", [sent])
    answer = only(await env.message(message))
    assert "Imported" in answer.text() and "2 cards" in answer.text(), answer.text()
    assert answer.channel_id == dm_channel_id(ALICE[0])
    reply = next(c for c in env.fake.calls if c.path.endswith("/messages"))
    assert str(reply.json["message_reference"]["message_id"]) == message["id"]
    assert env.fake.typing == {dm_channel_id(ALICE[0]): 1}  # "typing…" while it ran
    assert len(env.fake.cdn.downloads) == 1

    card = only(await env.command("review", ALICE, dm))
    assert "What is the capital of" in card.text()
    assert not tracebacks(caplog)


async def test_only_the_first_of_several_files_is_imported_and_the_learner_is_told(
    env: Env,
) -> None:
    dm = env.fake.dm(ALICE[0])
    files = [
        env.fake.attachment(dm, name, TEXT, TEXT_EXPORT) for name in ("a.txt", "b.txt", "c.txt")
    ]
    answer, note = await env.message(env.fake.dm_message(ALICE, "", files))
    assert "Imported" in answer.text()
    assert note.content == (
        "I import one file per message, so I looked only at a.txt: send the other 2 files "
        "in messages of their own."
    )
    assert len(env.fake.cdn.downloads) == 1


async def test_messages_without_a_file_and_the_bots_own_are_left_alone(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    assert await env.message(env.fake.dm_message(ALICE, "hello")) == []
    own = env.fake.attachment(dm, "studybot.apkg", "application/zip", b"PK\x03\x04")
    mine = env.fake.dm_message(ALICE, "", [own], author=BOT_USER)
    assert await env.message(mine) == []
    assert env.fake.cdn.downloads == [] and env.fake.typing == {}
    # The DMs' messages come in without the privileged message content intent.
    client = env.bot.client
    assert isinstance(client, StudyClient)
    assert client.intents.dm_messages and not client.intents.message_content
    assert not client.intents.guild_messages


async def test_a_file_over_the_limit_is_refused_without_being_downloaded(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    big = env.fake.attachment(
        dm, "everything.apkg", "application/zip", b"PK", size=MAX_IMPORT_BYTES + 1
    )
    answer = only(await env.message(env.fake.dm_message(ALICE, "", [big])))
    assert "20 MB" in answer.text(), answer.text()
    assert env.fake.cdn.downloads == []
    # The same through /import.
    payload = env.fake.command("import", ALICE, dm)
    payload["data"]["options"] = [{"name": "file", "type": 11, "value": big["id"]}]
    payload["data"]["resolved"] = {"attachments": {big["id"]: big}}
    assert "20 MB" in only(await env.send(payload)).text()
    assert env.fake.cdn.downloads == []
    assert not env.fake.unanswered()


async def test_a_file_that_is_no_anki_file_gets_a_friendly_refusal(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    dm = env.fake.dm(ALICE[0])
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 8
    answer = only(
        await env.command(
            "import", ALICE, dm, attachments={"file": ("holiday.pdf", "application/pdf", pdf)}
        )
    )
    assert SORRY not in answer.text()
    assert ".apkg" in answer.text(), answer.text()
    assert env.rows("SELECT COUNT(*) FROM decks WHERE owner_id IS NOT NULL") == [(0,)]
    assert not tracebacks(caplog)


async def test_a_download_that_fails_is_told_once_without_a_traceback(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    dm = env.fake.dm(ALICE[0])
    gone = env.fake.attachment(dm, "capitals.txt", TEXT, TEXT_EXPORT)
    env.fake.cdn.refuse[gone["url"].removeprefix(env.fake.cdn.base)] = 404
    answer = only(await env.message(env.fake.dm_message(ALICE, "", [gone])))
    assert answer.content == DOWNLOAD_FAILED
    broken = env.fake.attachment(dm, "capitals.txt", TEXT, TEXT_EXPORT)
    env.fake.cdn.refuse[broken["url"].removeprefix(env.fake.cdn.base)] = 500
    payload = env.fake.command("import", ALICE, dm)
    payload["data"]["options"] = [{"name": "file", "type": 11, "value": broken["id"]}]
    payload["data"]["resolved"] = {"attachments": {broken["id"]: broken}}
    (told,) = [m for m in await env.send(payload) if m.content]
    assert told.content == DOWNLOAD_FAILED
    assert env.rows("SELECT COUNT(*) FROM decks WHERE owner_id IS NOT NULL") == [(0,)]
    lines = [r for r in caplog.records if "could not download" in r.getMessage()]
    assert [r.getMessage().rsplit(": ", 1)[1] for r in lines] == ["HTTP 404", "HTTP 500"]
    assert all(r.levelno == logging.WARNING and not r.exc_info for r in lines)
    assert not tracebacks(caplog)
    assert TOKEN not in caplog.text and env.fake.cdn.base not in caplog.text
    assert not env.fake.unanswered()


async def test_help_and_the_published_command_say_how_to_import(env: Env) -> None:
    assert "/import file:" in HELP
    dm = env.fake.dm(ALICE[0])
    assert "/import file:" in only(await env.command("help", ALICE, dm)).content.replace("\\", "")
    from bot.platforms.discord import sync_commands

    await sync_commands(env.settings.discord, guild_id=GUILD)
    (put,) = [c for c in env.fake.calls if c.method == "PUT"]
    command = next(c for c in put.json if c["name"] == "import")
    assert [(o["name"], o["type"], o["required"]) for o in command["options"]] == [
        ("file", 11, True)
    ]


async def test_a_file_name_with_mentions_and_markdown_is_shown_inert(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    name = "@everyone **loud** <@123> " + "x" * 300 + ".txt"
    sent = env.fake.attachment(dm, name, TEXT, TEXT_EXPORT)
    answer = only(await env.message(env.fake.dm_message(ALICE, "", [sent])))
    assert "Imported" in answer.text(), answer.text()
    assert "@everyone" not in answer.content.replace("@\u200beveryone", "")
    assert not env.fake.violations
