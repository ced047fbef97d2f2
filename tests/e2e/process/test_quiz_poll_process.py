"""A quiz poll in a running ``studybot run`` process, over the fake Bot API served by HTTP.

The bot asks for ``poll_answer`` updates when it polls, posts a /quiz on a shipped card
with choices as a quiz poll (PTB's form-encoded sendPoll, as Telegram would get it), and
reviews each member's answer in their own schedule.
"""

from __future__ import annotations

from pathlib import Path

from tests.e2e.process.harness import Studybot, new_bot, query
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TgUser

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
CAT = TgUser(103, "Cat")
GROUP = -100777


async def test_a_quiz_poll_in_a_running_bot(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    bot = new_bot(server, bots, tmp_path)
    await bot.start()
    assert "poll_answer" in server.polls()[-1].params["allowed_updates"]

    # The first card on cross-attention (deck order; nobody has seen any) has choices.
    await server.send(server.updates.message(ANA, "/quiz cross-attention", GROUP))
    await bot.until(lambda: server.api.polls, "the quiz poll")
    (call,) = server.api.sent("sendPoll", GROUP)
    (poll_id,) = server.api.polls
    poll = server.api.poll_message(poll_id)["poll"]
    assert poll["type"] == "quiz" and poll["is_anonymous"] is False
    assert "where do Q, K and V come from" in str(call.params["question"])
    (right,) = poll["correct_option_ids"]
    assert poll["options"][right]["text"].startswith("Q from the decoder")

    db = tmp_path / "data" / "studybot.sqlite3"
    await bot.until(lambda: query(db, "SELECT poll_id FROM quiz_rounds") == [(poll_id,)], "stored")
    await server.send(server.updates.poll_answer(BEN, poll_id, [right]))
    await server.send(server.updates.poll_answer(CAT, poll_id, [(right + 1) % 4]))
    sql = (
        "SELECT platform_user_id, rating, source FROM review_logs"
        " JOIN learners ON learners.id = learner_id ORDER BY platform_user_id"
    )
    await bot.until(lambda: len(query(db, sql)) == 2, "two reviews")
    assert query(db, sql) == [(str(BEN.id), 3, "quiz"), (str(CAT.id), 1, "quiz")]
    assert server.api.violations == []
    assert await bot.stop() == 0
