"""Importing into personal decks on a real database (SQLite, and PostgreSQL when set).

The mapping (:func:`bot.core.importing.plan_import`) is monkeypatched to return a
hand-made plan, so what the use case does with a plan is pinned exactly (whole files run
through the real mapping in ``tests/unit/core/test_personal_anki.py``). The reader is a
fake. What runs for real is the use case's one unit of work over SQL, and the study loop
reading what it wrote.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, func, select

from bot.core import importing
from bot.core.ankifile import AnkiCollection, MediaFile
from bot.core.importing import ImportPlan
from bot.core.learners import Who
from bot.core.model import CardState, Learner
from bot.storage.database import SqlDatabase
from bot.storage.media import SqlMedia
from bot.storage.tables import card_states, cards, decks, media, review_logs
from tests.fakes.clock import FixedClock
from tests.fakes.decks import make_deck
from tests.fakes.imports import (
    PNG,
    FakeFetch,
    FakeReader,
    history,
    plan,
    planned_card,
    planned_deck,
)
from tests.services import Services, build_services, only

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
ANN = Who("test", "1", "Ann")
BEN = Who("test", "2", "Ben")


def french(learner: Learner, front: str = "Front of f2") -> ImportPlan:
    """Two cards: f1 reviewed twice in Anki and due yesterday, f2 new with an image."""
    log, state = history(learner.id, "f1", [T0 - 5 * DAY, T0 - 4 * DAY])
    return plan(
        planned_deck(
            "French",
            [
                planned_card("f1", state=state, reviews=log),
                planned_card("f2", front=front, front_image="chat.png"),
            ],
            source_ref="42",
        ),
        media=[MediaFile("chat.png", PNG)],
    )


@pytest.fixture
async def services(db: SqlDatabase, monkeypatch: pytest.MonkeyPatch) -> Services[SqlDatabase]:
    await db.run(lambda tx: tx.catalogue.sync([make_deck("shipped", ["s1"])], T0 - DAY))
    services = build_services(db, FixedClock(T0))
    services.study.reader = FakeReader()
    fronts = iter(["Front of f2", "Front of f2", "Edited"])

    def plan_import(collection: AnkiCollection, learner: Learner, now: datetime) -> ImportPlan:
        return french(learner, next(fronts))  # monkeypatched: a hand-made plan

    monkeypatch.setattr(importing, "plan_import", plan_import)
    return services


async def send(s: Services[SqlDatabase], who: Who = ANN) -> str:
    return only(await s.study.import_file(who, "french.apkg", 100, FakeFetch())).text


def counts(conn: Connection) -> tuple[int, ...]:
    return tuple(
        int(conn.execute(select(func.count()).select_from(t)).scalar_one())
        for t in (decks, cards, review_logs, card_states, media)
    )


async def test_import_reimport_and_study_over_sql(services: Services[SqlDatabase]) -> None:
    s, db = services, services.db
    first = await send(s)
    assert first.startswith(
        "Imported 'French' (u1-french): 2 cards (1 new, 1 with history), 2 reviews; 1 due today."
    )
    assert await db.run_connection(counts) == (2, 3, 2, 1, 1)
    assert (await send(s)).startswith("Already imported: 'French' has no changes")
    card = await db.run(lambda tx: tx.catalogue.card("f2"))
    assert card is not None and card.front == "Front of f2"
    assert (await send(s)).startswith("Updated 'French' (u1-french): 1 card changed")
    card = await db.run(lambda tx: tx.catalogue.card("f2"))  # never a stale cached copy
    assert card is not None and card.front == "Edited"
    assert await db.run_connection(counts) == (2, 3, 2, 1, 1)
    # Ann studies her due card first; Ben, with a due row on it, never gets it.
    due = only(await s.study.next(ANN)).card
    assert due is not None and due.card_id == "f1"
    ben = await s.study.learner(BEN)
    await db.run(lambda tx: tx.schedule.save(CardState(ben.id, "f1", due=T0 - DAY, last_review=T0)))
    offered = only(await s.study.next(BEN)).card
    assert offered is not None and offered.card_id == "s1"
    new_for_ben = await db.run(
        lambda tx: (tx.schedule.next_new(ben.id, (), T0), tx.schedule.next_due(ben.id, T0))
    )
    assert new_for_ben == ("s1", None)


async def test_a_failed_write_leaves_nothing_on_sql(
    services: Services[SqlDatabase], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(SqlMedia, "put", broken)
    await services.study.learner(ANN)
    with pytest.raises(RuntimeError, match="disk full"):
        await send(services)
    assert await services.db.run_connection(counts) == (1, 1, 0, 0, 0)  # the shipped deck


async def test_removing_over_sql_deletes_every_row(services: Services[SqlDatabase]) -> None:
    s = services
    await send(s)
    question = only(await s.study.decks(ANN, ["remove", "u1-french"]))
    assert question.text.startswith("This removes 'French' with its 2 cards and your 2 reviews")
    done = await s.press(ANN, question.buttons[0][0].payload)
    assert done.edit is not None and done.edit.text.startswith("Removed 'French'")
    assert await s.db.run_connection(counts) == (1, 1, 0, 0, 0)


async def test_two_imports_at_once_write_one_after_the_other(
    services: Services[SqlDatabase],
) -> None:
    """The same file sent twice (Telegram runs updates side by side; two processes share
    the database): the second import waits for the first and finds its rows, so no deck,
    card or review-log row is written twice and neither fails."""
    await services.study.learner(ANN)  # known already: this is about the imports' race
    first, second = await asyncio.gather(send(services), send(services))
    replies = sorted([first, second])
    assert replies[0].startswith("Already imported: 'French'"), replies
    assert replies[1].startswith("Imported 'French' (u1-french): 2 cards"), replies
    assert await services.db.run_connection(counts) == (2, 3, 2, 1, 1)
