"""The real ``studybot run`` process reviews with rich messages (Bot API 10.1
``sendRichMessage``) over HTTP, and, against an older Bot API server that answers
404 "Not Found: method not found", asks once and goes on with today's text."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.platforms.telegram.rich import SEND_RICH
from tests.e2e.process.harness import (
    SECRET,
    Chat,
    Studybot,
    clean_env,
    labels,
    query,
    shown,
    studybot,
    write_config,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.process.test_telegram_process import ANA, review_one, sqlite_file, walk_through


@pytest.mark.parametrize("rich", [True, False], ids=["rich", "older-server"])
async def test_a_review_with_rich_messages_or_without(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path, rich: bool
) -> None:
    server.api.rich = rich
    env = clean_env()
    config = write_config(tmp_path / "config.toml", server, "bot", tmp_path / "data")
    code, _, err = await studybot(tmp_path, "db", "upgrade", "--config", str(config), env=env)
    assert code == 0, err
    bot = Studybot(server, "bot", tmp_path, config, env)
    bots.append(bot)
    await bot.start()

    ana = Chat(server, ANA)
    await walk_through(bot, ana, "UTC", "09:00", "All decks")
    await ana.say(bot, "/review", lambda: "Show answer" in labels(ana.last()))
    first = ana.last()
    assert ("rich_message" in first) is rich
    following = await review_one(bot, ana)
    assert following["message_id"] == first["message_id"], "one message per card"
    again = await review_one(bot, ana)
    assert "Show answer" in labels(again)
    assert shown(again).startswith("Good: see it again in")

    tried = server.api.sent(SEND_RICH, ANA.id)
    if rich:
        rich_edits = [
            c for c in server.api.sent("editMessageText", ANA.id) if "rich_message" in c.params
        ]
        assert len(tried) == 1 and len(rich_edits) == 4, "the front, then edits in place"
        assert "<p><b>Answer</b></p>" in rich_edits[0].html
    else:
        assert len(tried) == 1, "asked once for the process"
        assert server.api.sent("editMessageText", ANA.id), "today's text, edited in place"
    assert not server.api.violations

    assert await bot.stop() == 0
    output = bot.output()
    assert SECRET not in output
    assert "Traceback" not in output and " ERROR " not in output, output[-3000:]
    assert ("has no sendRichMessage" in output) is not rich
    assert "InvalidToken" not in output and "rejected" not in output
    assert query(sqlite_file(tmp_path), "SELECT rating FROM review_logs") == [(3,), (3,)]
