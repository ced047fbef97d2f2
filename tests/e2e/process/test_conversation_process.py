"""A question the bot asked is answered after a restart, or to another process.

The real ``studybot run`` against the Bot API stand-in: ``/start`` asks for the time
zone, the process stops and a new one starts (or, on PostgreSQL, a second process
takes the answer), and the typed answer is understood rather than getting the hint.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from tests.e2e.process.harness import (
    SECRET,
    Chat,
    Studybot,
    free_port,
    new_bot,
    query,
    shown,
    webhook_lines,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TgUser

ANA = TgUser(101, "Ana", "ana")


def said(ana: Chat, text: str) -> bool:
    return any(shown(m) == text for m in ana.api.messages_in(ANA.id))


def clean(bot: Studybot) -> None:
    output = bot.output()
    assert SECRET not in output
    assert "Traceback" not in output and " ERROR " not in output, output[-3000:]


async def test_the_time_zone_typed_after_a_restart_is_understood(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    bot = new_bot(server, bots, tmp_path)
    await bot.start()
    ana = Chat(server, ANA)
    await ana.say(bot, "/start", lambda: "Your time zone" in shown(ana.last()))
    assert await bot.stop() == 0

    await bot.start()
    await ana.say(bot, "Paris", partial(said, ana, "✓ Time zone: Europe/Paris"))
    await ana.say(bot, "7:30", partial(said, ana, "✓ Daily reminder: 07:30"))
    assert await bot.stop() == 0
    db = tmp_path / "data" / "studybot.sqlite3"
    assert query(db, "SELECT timezone, push_time FROM learner_settings") == [
        ("Europe/Paris", "07:30")
    ]
    assert not any("Send /review to study" in shown(m) for m in ana.api.messages_in(ANA.id))
    clean(bot)


@pytest.mark.postgres
async def test_the_time_zone_typed_to_another_process_is_understood(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path, postgres_url: str
) -> None:
    """Two webhook processes on one PostgreSQL database: /start reaches one, the answer
    the other."""
    ports = {"one": free_port(), "two": free_port()}
    one, two = (
        new_bot(
            server,
            bots,
            tmp_path,
            name,
            telegram=webhook_lines(port),
            STUDYBOT_DATABASE_URL=postgres_url,
        )
        for name, port in ports.items()
    )
    await one.start()
    await two.start()
    ana = Chat(server, ANA)
    start = server.updates.message(ANA, "/start")
    assert await one.webhook(ports["one"], start) == 200
    await one.until(lambda: "Your time zone" in shown(ana.last()), "the time zone question")
    answer = server.updates.message(ANA, "Paris")
    assert await two.webhook(ports["two"], answer) == 200
    await two.until(partial(said, ana, "✓ Time zone: Europe/Paris"), "the answer understood")
    assert any(
        call.client == "two" and call.plain == "✓ Time zone: Europe/Paris"
        for call in server.api.sent("sendMessage", ANA.id)
    )
    assert await one.stop() == 0
    assert await two.stop() == 0
    clean(one)
    clean(two)
