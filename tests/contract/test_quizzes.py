"""Group quiz rounds: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

import pytest

from bot.core.model import QuizParticipant, QuizPollRef, QuizRound
from bot.core.ports import Database, Tx
from tests.contract.helpers import DAY, HOUR, T0, add_learner, one_deck

MINUTE = timedelta(minutes=1)


def quiz(token: str, started: datetime, *, chat: str = "-1", card: str = "c1") -> QuizRound:
    """A ten-minute round in a chat, not yet stored (id 0)."""
    return QuizRound(0, token, "tg", chat, card, "d", started, started + 10 * MINUTE)


async def test_a_round_is_stored_and_found(db: Database) -> None:
    await one_deck(db, "c1")
    ann = await add_learner(db)
    draft = QuizRound(0, "q0000001", "tg", "-1", "c1", "d", T0, T0 + HOUR, ann.id, None, (3, 1))
    stored = await db.run(lambda tx: tx.quizzes.add(draft))
    assert stored.id > 0 and stored == QuizRound(
        stored.id, "q0000001", "tg", "-1", "c1", "d", T0, T0 + HOUR, ann.id, None, (3, 1)
    )
    assert await db.run(lambda tx: tx.quizzes.by_token("q0000001")) == stored
    assert await db.run(lambda tx: tx.quizzes.by_id(stored.id)) == stored
    assert await db.run(lambda tx: tx.quizzes.by_token("q0000002")) is None
    assert await db.run(lambda tx: tx.quizzes.by_id(stored.id + 1)) is None
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await db.run(lambda tx: tx.quizzes.add(draft))


async def test_the_open_round_of_a_chat_is_its_newest_unclosed_one(db: Database) -> None:
    await one_deck(db, "c1")

    def start(tx: Tx) -> tuple[QuizRound, QuizRound]:
        old = tx.quizzes.add(quiz("q0000001", T0))
        new = tx.quizzes.add(quiz("q0000002", T0 + HOUR))
        tx.quizzes.add(quiz("q0000003", T0 + 2 * HOUR, chat="-2"))
        return old, new

    old, new = await db.run(start)
    assert await db.run(lambda tx: tx.quizzes.open_round("tg", "-1")) == new
    assert await db.run(lambda tx: tx.quizzes.close(new.id, T0 + 2 * HOUR)) is True
    assert await db.run(lambda tx: tx.quizzes.close(new.id, T0 + 3 * HOUR)) is False
    assert await db.run(lambda tx: tx.quizzes.open_round("tg", "-1")) == old
    closed = await db.run(lambda tx: tx.quizzes.by_id(new.id))
    assert closed is not None and closed.closed_at == T0 + 2 * HOUR
    assert await db.run(lambda tx: tx.quizzes.open_round("discord", "-1")) is None


async def test_participants_reveal_and_rate_once_each(db: Database) -> None:
    await one_deck(db, "c1")
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    round_id = (await db.run(lambda tx: tx.quizzes.add(quiz("q0000001", T0)))).id

    def reveal(tx: Tx) -> None:
        tx.quizzes.add_participant(QuizParticipant(round_id, ben.id, "p2", "B" * 200, T0 + MINUTE))
        tx.quizzes.add_participant(QuizParticipant(round_id, ann.id, "p1", "Ann", T0, 4, T0))

    await db.run(reveal)
    assert await db.run(lambda tx: tx.quizzes.participants(round_id)) == [
        QuizParticipant(round_id, ann.id, "p1", "Ann", T0),
        QuizParticipant(round_id, ben.id, "p2", "B" * 128, T0 + MINUTE),
    ]
    await db.run(lambda tx: tx.quizzes.record(round_id, ben.id, 3, T0 + 2 * MINUTE))
    assert await db.run(lambda tx: tx.quizzes.by_prompt("p2")) == QuizParticipant(
        round_id, ben.id, "p2", "B" * 128, T0 + MINUTE, 3, T0 + 2 * MINUTE
    )
    assert await db.run(lambda tx: tx.quizzes.by_prompt("p3")) is None
    with pytest.raises(Exception, match=r"(?i)unique|duplicate|primary key"):
        await db.run(
            lambda tx: tx.quizzes.add_participant(
                QuizParticipant(round_id, ann.id, "p9", "Ann", T0 + HOUR)
            )
        )


async def test_rounds_due_to_close(db: Database) -> None:
    await one_deck(db, "c1")

    def start(tx: Tx) -> list[QuizRound]:
        return [
            tx.quizzes.add(quiz("q0000001", T0 + 5 * MINUTE, chat="-1")),
            tx.quizzes.add(quiz("q0000002", T0, chat="-2")),
            tx.quizzes.add(quiz("q0000003", T0 + HOUR, chat="-3")),
        ]

    first, second, _ = await db.run(start)
    now = T0 + 20 * MINUTE
    assert await db.run(lambda tx: tx.quizzes.due(now)) == [second, first]
    assert await db.run(lambda tx: tx.quizzes.due(now, limit=1)) == [second]
    await db.run(lambda tx: tx.quizzes.close(second.id, now))
    assert await db.run(lambda tx: tx.quizzes.due(now)) == [first]
    assert await db.run(lambda tx: tx.quizzes.due(T0)) == []


async def test_recent_participants_and_cards_of_a_chat(db: Database) -> None:
    await one_deck(db, "c1", "c2", "c3")
    ann, ben, cy = [await add_learner(db, str(i)) for i in range(3)]

    def play(tx: Tx) -> None:
        rounds = [
            tx.quizzes.add(quiz("q0000001", T0 - 2 * DAY, card="c1")),
            tx.quizzes.add(quiz("q0000002", T0, card="c2")),
            tx.quizzes.add(quiz("q0000003", T0 + HOUR, card="c3")),
            tx.quizzes.add(quiz("q0000004", T0 + HOUR, chat="-2", card="c1")),
        ]
        joins = [(0, ann), (1, cy), (2, ann), (2, cy), (3, ben)]
        for i, (r, who) in enumerate(joins):
            tx.quizzes.add_participant(QuizParticipant(rounds[r].id, who.id, f"p{i}", "x", T0))

    await db.run(play)
    since = T0 - DAY
    assert await db.run(lambda tx: tx.quizzes.recent_participants("tg", "-1", since)) == sorted(
        [ann.id, cy.id]
    )
    assert await db.run(lambda tx: tx.quizzes.recent_cards("tg", "-1", since)) == {"c2", "c3"}
    assert await db.run(lambda tx: tx.quizzes.recent_cards("tg", "-1", T0 + DAY)) == set()
    assert await db.run(lambda tx: tx.quizzes.recent_participants("tg", "-3", since)) == []


async def test_a_round_posted_as_a_poll_is_found_by_its_poll(db: Database) -> None:
    await one_deck(db, "c1")
    poll = QuizPollRef("5012345678901234567", "77", 2)
    first, second = await db.run(
        lambda tx: (tx.quizzes.add(quiz("q0000001", T0)), tx.quizzes.add(quiz("q0000002", T0)))
    )
    assert first.poll is None
    assert await db.run(lambda tx: tx.quizzes.by_poll(poll.poll_id)) is None
    assert await db.run(lambda tx: tx.quizzes.set_poll(first.id, poll)) is True
    found = await db.run(lambda tx: tx.quizzes.by_poll(poll.poll_id))
    assert found == replace(first, poll=poll)
    assert await db.run(lambda tx: tx.quizzes.by_token("q0000001")) == found
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await db.run(lambda tx: tx.quizzes.set_poll(second.id, poll))
    assert await db.run(lambda tx: tx.quizzes.by_id(second.id)) == second
    # A closed or unknown round takes no poll.
    await db.run(lambda tx: tx.quizzes.close(second.id, T0 + MINUTE))
    other = QuizPollRef("6", "78", 0)
    assert await db.run(lambda tx: tx.quizzes.set_poll(second.id, other)) is False
    assert await db.run(lambda tx: tx.quizzes.set_poll(second.id + 99, other)) is False
    assert await db.run(lambda tx: tx.quizzes.by_poll("6")) is None


async def test_a_round_stored_with_its_poll(db: Database) -> None:
    await one_deck(db, "c1")
    poll = QuizPollRef("p-1", "9", 0)
    stored = await db.run(lambda tx: tx.quizzes.add(replace(quiz("q0000001", T0), poll=poll)))
    assert stored.poll == poll
    assert await db.run(lambda tx: tx.quizzes.by_poll("p-1")) == stored
