"""Quiz polls on a real database (SQLite, and PostgreSQL when configured): poll answers
that arrive side by side, from members the bot has never heard from."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Connection, Table, func, select

from bot.core.learners import Who
from bot.core.quiz import QuizService
from bot.deckfiles import load_decks
from bot.storage.database import SqlDatabase
from bot.storage.tables import learners, review_logs
from tests.fakes.clock import FixedClock
from tests.fakes.tokens import SequentialTokens
from tests.services import Services, build_services, only

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
DECK = """# Polls
tags: polls

## Scale
difficulty: easy
choices:
- [ ] by $d_k$
- [x] by $\\sqrt{d_k}$
- [ ] by $n$

### Front
Divide $QK^T$ by what?

### Back
By $\\sqrt{d_k}$.
"""


async def make(db: SqlDatabase, tmp_path: Path) -> Services[SqlDatabase]:
    (tmp_path / "polls.md").write_text(DECK, encoding="utf-8")
    loaded = load_decks([tmp_path])
    await db.run(lambda tx: tx.catalogue.sync(loaded.decks, NOW))
    return build_services(db, FixedClock(NOW), tokens=SequentialTokens("q"))


async def post(quiz: QuizService, who: Who, chat: str, poll_id: str) -> int:
    """Start a round in ``chat`` as the Telegram adapter does; the right option."""
    reply = only(await quiz.start(who, chat, "polls", polls=True))
    assert reply.poll is not None
    kept = await quiz.poll_posted(reply.poll.round_token, poll_id, "7", reply.poll.correct)
    assert kept
    return reply.poll.correct


def count(table: Table) -> Callable[[Connection], int]:
    def run(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())

    return run


async def warm(s: Services[SqlDatabase]) -> None:
    """One round answered the slow way first: the racing units of work below then find
    their statements compiled and the pool's connections open, so they overlap as in
    a bot that has been running (a cold start lines them up, which hides a race)."""
    ann, ben = Who("telegram", "w1", "Ann"), Who("telegram", "w2", "Ben")
    right = await post(s.quiz, ann, "-99", "poll-warm")
    for who in (ann, ben):
        await s.quiz.poll_answer(who, "poll-warm", [right])
    await asyncio.gather(*(s.db.run(lambda tx: None) for _ in range(16)))
    s.announcer.take()


async def test_answers_side_by_side_from_members_never_seen(
    db: SqlDatabase, tmp_path: Path
) -> None:
    s = await make(db, tmp_path)
    ann = Who("telegram", "1", "Ann")
    right_1 = await post(s.quiz, ann, "-1", "poll-1")
    right_2 = await post(s.quiz, ann, "-2", "poll-2")
    ben, cat = Who("telegram", "2", "Ben"), Who("telegram", "3", "Cat")
    # Ben answers both groups' polls at once (his first contact, twice); Cat answers one
    # poll while Telegram delivers her answer twice.
    await asyncio.gather(
        s.quiz.poll_answer(ben, "poll-1", [right_1]),
        s.quiz.poll_answer(ben, "poll-2", [right_2]),
        s.quiz.poll_answer(cat, "poll-1", [right_1]),
        s.quiz.poll_answer(cat, "poll-1", [right_1]),
    )
    assert await db.run_connection(count(learners)) == 3
    # Ben: one review per round; Cat: one review, not two.
    assert await db.run_connection(count(review_logs)) == 3


async def test_the_last_two_answers_at_once_close_the_round(
    db: SqlDatabase, tmp_path: Path
) -> None:
    """Everyone expected has answered: the round closes early, also when the last two
    answers are committed side by side (PostgreSQL), and its tally counts both. Eight
    groups race at once, four times over, so that a missing lock shows (the race is
    won by timing)."""
    s = await make(db, tmp_path)
    await warm(s)
    for batch in range(4):
        groups = [f"-{batch}{g}" for g in range(8)]
        pairs = [(Who("telegram", f"{g}1", "Ann"), Who("telegram", f"{g}2", "Ben")) for g in groups]
        right = [
            await post(s.quiz, ann, group, f"poll{group}")
            for group, (ann, _) in zip(groups, pairs, strict=True)
        ]
        await asyncio.gather(
            *(
                s.quiz.poll_answer(who, f"poll{group}", [(ok + i) % 3])
                for group, ok, pair in zip(groups, right, pairs, strict=True)
                for i, who in enumerate(pair)
            )
        )
        closed = [a.reply.text for a in s.announcer.take() if a.reply.kind == "quiz_result"]
        assert len(closed) == len(groups), closed
        assert all("2 answered · 1 right · 1 wrong" in text for text in closed), closed
