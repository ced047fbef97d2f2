"""Nothing a Discord user does is left unanswered or lost, and no token reaches a log.

Buttons and forms no version of the bot handles are answered; a quiz or challenge
is not started where the bot may not post, and a post refused later reaches the
member who started it; at DEBUG, discord.py's own lines (REST, interaction
webhooks, gateway events) never show an interaction token or the bot token.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import discord
import pytest

from bot.config import LoggingSettings
from bot.config.logs import configure_logging
from bot.core.delivery import CANNOT_POST
from bot.platforms.discord.components import BUTTON_EXPIRED, FORM_EXPIRED
from bot.platforms.discord.interactions import UNKNOWN_COMMAND
from tests.e2e.discord.discord_fakes import TIMESTAMP, Place, dm_channel_id
from tests.e2e.discord.test_discord import (
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    TOKEN,
    Env,
    only,
    running,
)
from tests.unit.config.support import bare_root_logger

#: The bot may read the channel but not post in it.
READ_ONLY = discord.Permissions(view_channel=True, read_message_history=True).value
THREAD = 555_555_555_555_555_999


@pytest.fixture
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    async with running(tmp_path, monkeypatch) as environment:
        yield environment


def tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.exc_info and r.levelno >= logging.WARNING]


async def test_buttons_menus_and_forms_no_version_handles_are_answered_as_expired(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    dm = env.fake.dm(ALICE[0])
    old = env.fake._message(
        dm_channel_id(ALICE[0]),
        {
            "content": "A message from an older version",
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 1, "label": "Old", "custom_id": "legacy:quiz:7"}
                    ],
                }
            ],
        },
        [],
    )
    for custom_id, values in (("legacy:quiz:7", None), ("set:colour", ["red"])):
        mark = env.fake.mark()
        await env.fake.dispatch(
            env.bot.client, env.fake.component(old, custom_id, ALICE, dm, values)
        )
        answer = only(env.fake.created_since(mark))
        assert answer.ephemeral and answer.content == BUTTON_EXPIRED
    form = {"custom_id": "oldform:1", "title": "Old", "components": []}
    mark = env.fake.mark()
    await env.fake.dispatch(env.bot.client, env.fake.modal_submit(form, {}, ALICE, dm))
    assert only(env.fake.created_since(mark)).content == FORM_EXPIRED
    # The buttons of this version are still handled by their own items, once.
    card = only(await env.command("review", ALICE, dm))
    assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
    assert env.fake.unanswered() == [] and env.fake.violations == []
    assert not tracebacks(caplog)


async def test_no_quiz_or_challenge_starts_where_the_bot_may_not_post(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    env.fake.app_permissions[CHANNEL] = READ_ONLY
    refused = only(await env.command("quiz", ALICE, room, topic="attention"))
    assert refused.ephemeral
    assert "can't post in this channel" in refused.content
    assert "Send Messages, Embed Links, Attach Files" in refused.content
    assert env.rows("SELECT COUNT(*) FROM quiz_rounds") == [(0,)]

    # In a thread, posting needs Send Messages in Threads.
    thread = Place(
        {
            "id": str(THREAD),
            "type": 11,
            "guild_id": str(GUILD),
            "parent_id": str(CHANNEL),
            "name": "study thread",
            "owner_id": str(ALICE[0]),
            "message_count": 1,
            "member_count": 1,
            "total_message_sent": 1,
            "thread_metadata": {
                "archived": False,
                "auto_archive_duration": 60,
                "archive_timestamp": TIMESTAMP,
                "locked": False,
            },
            "rate_limit_per_user": 0,
            "flags": 0,
        },
        GUILD,
    )
    everything = discord.Permissions.all()
    everything.send_messages_in_threads = False
    env.fake.app_permissions[THREAD] = everything.value
    env.fake.permissions[ALICE[0]] = discord.Permissions(administrator=True).value
    payload = env.fake.subcommand("challenge", "start", ALICE, thread, challenge="refl-bahdanau")
    refused = only(await env.send(payload))
    assert refused.ephemeral and "Send Messages in Threads" in refused.content
    assert env.rows("SELECT COUNT(*) FROM challenge_runs") == [(0,)]
    assert env.fake.unanswered() == [] and not tracebacks(caplog)


async def test_a_quiz_answer_the_channel_refuses_reaches_the_member_who_started_it(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    post = only(await env.command("quiz", ALICE, room, topic="attention"))
    alice = only(await env.press(post, post.button("Reveal"), ALICE, room))
    bob = only(await env.press(post, post.button("Reveal"), BOB, room))
    # The bot loses its permission to post while the quiz runs.
    env.fake.refuse[CHANNEL] = (403, 50013)
    caplog.set_level(logging.INFO)
    await env.press(alice, alice.button("Good"), ALICE, room)
    new = await env.press(bob, bob.button("Hard"), BOB, room)  # the last rating closes it
    dms = [m for m in new if m.channel_id == dm_channel_id(ALICE[0])]
    assert [m.content for m in dms][:1] == [CANNOT_POST]
    assert dms[1].content.startswith("Quiz answer. 2 took part")
    assert dms[1].composed and "**Answer**" in dms[1].text()
    assert not tracebacks(caplog)
    assert any("refused a post to chat" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("form", ["text", "json"])
async def test_no_token_in_any_log_at_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    """A command, a button and a submitted form go through discord.py's real request code
    and gateway handler, with every logger at DEBUG, logging configured as ``studybot
    run`` configures it: neither the bot token nor any interaction token appears."""
    tokens: list[str] = []
    with bare_root_logger():
        fmt = "json" if form == "json" else LoggingSettings().format
        configure_logging(LoggingSettings(level="DEBUG", format=fmt), [TOKEN])
        async with running(tmp_path, monkeypatch, sessions=True) as env:
            dm = env.fake.dm(ALICE[0])
            room = env.fake.server(GUILD, CHANNEL)
            payloads = [
                env.fake.command("review", ALICE, dm),
                env.fake.command("help", ALICE, room),
            ]
            for payload in payloads:
                tokens.append(payload["token"])
                await env.fake.dispatch(env.bot.client, payload, via_gateway=True)
            card = env.fake.created[0]
            press = env.fake.component(card, card.button("Show answer"), ALICE, dm)
            tokens.append(press["token"])
            await env.fake.dispatch(env.bot.client, press, via_gateway=True)
            assert env.fake.unanswered() == []
    logged = capsys.readouterr().err
    # discord.py did log the requests, their URLs and the gateway events.
    assert "/interactions/" in logged and "/webhooks/" in logged
    assert "WebSocket Event" in logged and "INTERACTION_CREATE" in logged
    for secret in (TOKEN, *tokens):
        assert secret not in logged


async def test_a_command_with_the_options_of_an_older_version_is_answered(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord still shows the commands as an older version published them until they
    are synced again: the options do not match, and the member is told, not "failed"."""
    room = env.fake.server(GUILD, CHANNEL)
    old = env.fake.subcommand("challenge", "schedule", ALICE, room, challenge="x", at="19:00")
    answer = only(await env.send(old))
    assert answer.ephemeral and answer.content == UNKNOWN_COMMAND
    assert env.fake.unanswered() == [] and not tracebacks(caplog)
