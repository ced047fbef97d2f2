"""The real ``studybot run`` in a storm of 429s: one chat's wait stays with that chat.

Five learners' chats answer every message with 429 and ``retry_after``; a sixth
learner is due the same minute. Its push must arrive while the five are still
being retried, and the log must hold no ERROR and no traceback for those handled
429s. The test waits for calls on the fake Bot API, never for time to pass.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.process.harness import (
    SECRET,
    Studybot,
    clean_env,
    new_bot,
    seed_due_learners,
    studybot,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import Call

STORMY = [301, 302, 303, 304, 305]
CALM = 306
SENDS = "sendMessage|sendRichMessage|sendPhoto|sendDocument"


def sends(server: TelegramServer, chat: int) -> list[Call]:
    return server.api.sent(SENDS, chat)


async def test_a_push_arrives_while_five_other_chats_are_retried_after_429s(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'studybot.sqlite3'}"
    code, _, err = await studybot(
        tmp_path, "db", "upgrade", env=clean_env(STUDYBOT_DATABASE_URL=url)
    )
    assert code == 0, err
    await seed_due_learners(url, [*STORMY, CALM])
    for chat in STORMY:
        server.too_many_requests(chat, retry_after=2)

    bot = new_bot(server, bots, tmp_path)
    await bot.start(wait=False)
    # The calm learner's push is delivered...
    await bot.until(lambda: server.api.messages_in(CALM), "the calm learner's push")
    [calm] = [i for i, c in enumerate(server.api.calls) if c.chat_id == CALM]
    # ...while every stormy chat is still being tried: each is tried again after it.
    await bot.until(
        lambda: all(len(sends(server, chat)) >= 3 for chat in STORMY), "the 429 chats retried"
    )
    for chat in STORMY:
        tries = [i for i, c in enumerate(server.api.calls) if c in sends(server, chat)]
        assert calm < tries[1], (chat, tries, calm)
        assert not server.api.messages_in(chat)
    assert await bot.stop() == 0

    output = bot.output()
    assert SECRET not in output
    assert "Traceback" not in output and " ERROR " not in output, output[-3000:]
    assert "Rate limit hit" not in output
