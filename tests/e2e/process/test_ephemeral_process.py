"""A challenge answered inside the group across a ``kill -9``: the real ``studybot run``.

Cat never opened a private chat with the bot. She joins a challenge in the group and is
asked for her answer there, in a message she alone sees (``[telegram]
ephemeral_messages`` is on by default). The process is killed and started again; her
reply to that message is still taken as her answer: the database, not the process,
knows she was asked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.e2e.process.harness import Studybot, new_bot, query, shown
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TgUser, button_data

ANA = TgUser(101, "Ana", "ana")
CAT = TgUser(103, "Cat", "cat")
GROUP = -1001234567890


async def test_an_ephemeral_request_answered_after_a_kill_9(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    api = server.api
    api.set_member(GROUP, ANA.id, "administrator")
    api.fail("sendMessage", "never_started", chat_id=CAT.id, times=999)
    bot = new_bot(server, bots, tmp_path)
    await bot.start()

    def start_post() -> dict[str, Any]:
        found = [m for m in api.messages_in(GROUP) if "Submit my answer" in str(m)]
        return found[-1] if found else {}

    await server.send(
        server.updates.message(ANA, "/challenge start refl-scaled-dot-product 10", GROUP)
    )
    start = await bot.until(start_post, "the challenge's post")
    await server.send(server.updates.callback(CAT, start, button_data(start, "Submit my answer")))
    [ask] = await bot.until(lambda: api.ephemeral_in(GROUP, CAT.id), "Cat's request")
    assert "reply to this message" in shown(ask)
    assert not [m for m in api.messages_in(GROUP) if "Only you can see" in shown(m)]

    await bot.kill()
    await bot.start()
    await server.send(server.updates.reply(CAT, "softmax(QK^T / sqrt(d_k)) V", ask))
    await bot.until(
        lambda: any("Got your answer" in shown(m) for m in api.ephemeral_in(GROUP, CAT.id)),
        "Cat's confirmation",
    )
    assert await bot.stop() == 0
    db = tmp_path / "data" / "studybot.sqlite3"
    assert query(db, "SELECT text FROM challenge_submissions") == [("softmax(QK^T / sqrt(d_k)) V",)]
    assert "Traceback" not in bot.output()
