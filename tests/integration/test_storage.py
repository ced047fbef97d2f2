"""Storage on a real database: SQLite always, PostgreSQL when STUDYBOT_TEST_DATABASE_URL is set."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, func, insert, select

from bot.core.actions import decode
from bot.core.decks import CardDef, Deck
from bot.core.model import CardState, CardStateKind, LearnerSettings, Prompt, ReviewEntry
from bot.core.ports import Tx
from bot.core.study import StudyService, Who
from bot.deckfiles import load_decks
from bot.storage.database import SchemaOutOfDate, SqlDatabase
from bot.storage.tables import cards, decks, metadata, prompts, review_logs

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.value = now

    def now(self) -> datetime:
        return self.value


class Tokens:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"tok{self.n:08d}"


def card(deck: str, cid: str, pos: int, *, tags: tuple[str, ...] = (), back: str = "B") -> CardDef:
    return CardDef(
        id=cid, deck_id=deck, title=cid, front=f"F {cid}", back=back, tags=tags, position=pos
    )


def deck(did: str, *cs: CardDef) -> Deck:
    return Deck(did, did.title(), f"{did}.md", tuple(cs))


async def run(db: SqlDatabase, fn: Any) -> Any:
    return await db.run(fn)


# --------------------------------------------------------------------------- migrations


async def test_migration_from_empty_and_schema_check(database_url: str) -> None:
    db = SqlDatabase(database_url)
    try:
        current, head = await db.schema_status()
        assert current is None and head is not None
        with pytest.raises(SchemaOutOfDate, match="studybot db upgrade"):
            await db.check_schema(auto_upgrade=False)
        await db.check_schema(auto_upgrade=True)
        assert await db.schema_status() == (head, head)
        await db.check_schema(auto_upgrade=False)  # now up to date: no error
        await db.upgrade()  # idempotent
    finally:
        await db.dispose()


async def test_migrations_match_the_tables(db: SqlDatabase) -> None:
    def diff(conn: Connection) -> list[Any]:
        ctx = MigrationContext.configure(
            conn,
            opts={
                "compare_type": False,
                "include_name": lambda name, type_, parents: name != "apscheduler_jobs",
            },
        )
        return list(compare_metadata(ctx, metadata))

    assert await db.run_connection(diff) == []


# --------------------------------------------------------------------------- time


async def test_datetimes_come_back_aware_utc(db: SqlDatabase) -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2026, 6, 1, 14, 30, 15, 123456, tzinfo=paris)

    def write(tx: Tx) -> None:
        tx.catalogue.sync([deck("d", card("d", "c1", 0))], local)

    await db.run(write)

    def read(conn: Connection) -> datetime:
        return conn.execute(select(decks.c.synced_at)).scalar_one()  # type: ignore[no-any-return]

    got = await db.run_connection(read)
    assert got.tzinfo is UTC
    assert got == local
    assert got.hour == 12


async def test_naive_datetimes_are_refused(db: SqlDatabase) -> None:
    def write(tx: Tx) -> None:
        tx.catalogue.sync([deck("d", card("d", "c1", 0))], datetime(2026, 1, 1))

    with pytest.raises(Exception, match="naive datetime"):
        await db.run(write)


# --------------------------------------------------------------------------- catalogue


async def test_deck_sync_upserts_retires_and_keeps_history(db: SqlDatabase) -> None:
    v1 = [deck("d", card("d", "a", 0, tags=("x",)), card("d", "b", 1))]
    r1 = await db.run(lambda tx: tx.catalogue.sync(v1, T0))
    assert (r1.added, r1.updated, r1.retired) == (2, 0, 0)
    again = await db.run(lambda tx: tx.catalogue.sync(v1, T0))
    assert (again.added, again.updated, again.unchanged) == (0, 0, 2)

    learner = await db.run(
        lambda tx: tx.learners.create("t", "1", "Ann", LearnerSettings(), (), T0)
    )
    state = CardState(learner.id, "b", CardStateKind.REVIEW, None, 3.0, 5.0, T0, T0, 2, 0)
    await db.run(lambda tx: tx.schedule.save(state))

    # Edit a's text, drop b: a is updated, b retired, b's schedule kept.
    v2 = [deck("d", card("d", "a", 0, tags=("y",), back="new back"))]
    r2 = await db.run(lambda tx: tx.catalogue.sync(v2, T0))
    assert (r2.added, r2.updated, r2.retired) == (0, 1, 1)
    info = await db.run(lambda tx: tx.catalogue.card("a"))
    assert info is not None and info.back == "new back" and info.tags == ("y",)
    assert await db.run(lambda tx: tx.schedule.get(learner.id, "b")) == state
    assert await db.run(lambda tx: tx.schedule.next_due(learner.id, T0 + timedelta(days=1))) is None
    assert [d.card_count for d in await db.run(lambda tx: tx.catalogue.decks())] == [1]

    # Bring b back: un-retired, its schedule is live again.
    r3 = await db.run(lambda tx: tx.catalogue.sync(v1, T0))
    assert r3.updated == 2
    assert await db.run(lambda tx: tx.schedule.next_due(learner.id, T0 + timedelta(days=1))) == "b"


async def test_sync_without_retire_keeps_missing_cards(db: SqlDatabase) -> None:
    await db.run(lambda tx: tx.catalogue.sync([deck("d", card("d", "a", 0))], T0))
    report = await db.run(lambda tx: tx.catalogue.sync([], T0, retire=False))
    assert report.retired == 0
    assert [d.id for d in await db.run(lambda tx: tx.catalogue.decks())] == ["d"]


async def test_shipped_decks_sync(db: SqlDatabase) -> None:
    shipped = load_decks([REPO / "decks"])
    assert shipped.ok, shipped.errors
    report = await db.run(lambda tx: tx.catalogue.sync(shipped.decks, T0))
    assert report.added == sum(len(d.cards) for d in shipped.decks)
    topics = await db.run(lambda tx: tx.catalogue.topics())
    assert "attention" in topics and "transformers" in topics


# --------------------------------------------------------------------------- schedule


async def test_next_due_and_next_new_ordering(db: SqlDatabase) -> None:
    decks_ = [
        deck("a", card("a", "a1", 0, tags=("x",)), card("a", "a2", 1)),
        deck("b", card("b", "b1", 0, tags=("x",))),
    ]
    await db.run(lambda tx: tx.catalogue.sync(decks_, T0))
    lr = await db.run(lambda tx: tx.learners.create("t", "1", "Ann", LearnerSettings(), (), T0))
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, (), T0)) == "a1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, ("b",), T0)) == "b1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, ("x",), T0)) == "a1"

    def seed(tx: Tx) -> None:
        tx.schedule.save(CardState(lr.id, "a2", CardStateKind.REVIEW, None, 1, 5, T0, T0))
        tx.schedule.save(
            CardState(lr.id, "a1", CardStateKind.REVIEW, None, 1, 5, T0 - timedelta(hours=1), T0)
        )
        tx.schedule.save(
            CardState(
                lr.id,
                "b1",
                CardStateKind.REVIEW,
                None,
                1,
                5,
                T0 - timedelta(hours=2),
                T0,
                suspended=True,
            )
        )

    await db.run(seed)
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0)) == "a1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, (), T0)) is None
    assert await db.run(lambda tx: tx.schedule.count_due(lr.id, T0 + timedelta(seconds=1))) == 2
    assert await db.run(lambda tx: tx.schedule.unsuspend(lr.id, None)) == 1
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0)) == "b1"


async def test_prompt_claim_once_and_review_log(db: SqlDatabase) -> None:
    await db.run(lambda tx: tx.catalogue.sync([deck("d", card("d", "c", 0))], T0))
    lr = await db.run(lambda tx: tx.learners.create("t", "1", "A", LearnerSettings(), (), T0))
    await db.run(lambda tx: tx.prompts.add(Prompt("tok00000001", lr.id, "c", "dm", T0)))
    assert await db.run(lambda tx: tx.prompts.claim("tok00000001", lr.id + 1, T0)) is False
    assert await db.run(lambda tx: tx.prompts.claim("tok00000001", lr.id, T0)) is True
    assert await db.run(lambda tx: tx.prompts.claim("tok00000001", lr.id, T0)) is False

    before = CardState(lr.id, "c")
    after = CardState(
        lr.id, "c", CardStateKind.LEARNING, 1, 2.3, 5.1, T0 + timedelta(minutes=10), T0, 1
    )
    entry = ReviewEntry(lr.id, "c", 3, T0, "dm", before, after, 1500, "typed")
    rid = await db.run(lambda tx: tx.reviews.add(entry))
    last = await db.run(lambda tx: tx.reviews.last_active(lr.id))
    assert last is not None and last.id == rid
    assert last.before == before and last.after == after
    assert last.duration_ms == 1500 and last.typed_answer == "typed"
    assert await db.run(lambda tx: tx.reviews.counts_since(lr.id, T0)) == (1, 1)
    await db.run(lambda tx: tx.reviews.mark_undone(rid, T0))
    assert await db.run(lambda tx: tx.reviews.counts_since(lr.id, T0)) == (0, 0)
    assert await db.run(lambda tx: tx.reviews.last_active(lr.id)) is None


async def test_failed_unit_of_work_rolls_back(db: SqlDatabase) -> None:
    def boom(tx: Tx) -> None:
        tx.catalogue.sync([deck("d", card("d", "c", 0))], T0)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await db.run(boom)
    assert await db.run(lambda tx: tx.catalogue.decks()) == []


# --------------------------------------------------------------------------- study loop


@pytest.fixture
async def study(db: SqlDatabase) -> tuple[StudyService, Clock, SqlDatabase]:
    shipped = load_decks([REPO / "decks"])
    clock = Clock()
    await db.run(lambda tx: tx.catalogue.sync(shipped.decks, clock.now()))
    service = StudyService(db, clock, Tokens(), LearnerSettings(enable_fuzzing=False))
    return service, clock, db


async def test_study_loop_review_undo_and_counts(
    study: tuple[StudyService, Clock, SqlDatabase],
) -> None:
    service, clock, db = study
    who = Who("test", "42", "Ada")
    front = await service.next(who)
    assert front.kind == "front" and front.card is not None
    first_card = front.card.card_id
    seen = []
    reply = front
    for rating in (3, 3, 1, 4):
        assert reply.kind == "front" and reply.card is not None
        seen.append(reply.card.card_id)
        back = await service.press(who, reply.buttons[0][0].payload)
        assert back.kind == "back"
        clock.value += timedelta(seconds=5)
        reply = await service.press(who, back.buttons[0][rating - 1].payload)
    assert seen[0] == first_card and len(set(seen)) == 4

    undo = await service.undo(who)
    assert undo.card is not None and undo.card.card_id == seen[-1]

    def check(conn: Connection) -> tuple[int, int]:
        total = conn.execute(select(func.count()).select_from(review_logs)).scalar_one()
        undone = conn.execute(
            select(func.count())
            .select_from(review_logs)
            .where(review_logs.c.undone_at.is_not(None))
        ).scalar_one()
        return int(total), int(undone)

    assert await db.run_connection(check) == (4, 1)
    learner = await service.learner(who)
    state = await db.run(lambda tx: tx.schedule.get(learner.id, seen[-1]))
    assert state.is_new  # undoing the first rating of a new card forgets it exactly
    stats = await service.stats(who)
    assert stats.reviewed_today == 3


async def test_concurrent_double_tap_records_one_review(
    study: tuple[StudyService, Clock, SqlDatabase],
) -> None:
    service, _, db = study
    who = Who("test", "7", "Bo")
    front = await service.next(who)
    back = await service.press(who, front.buttons[0][0].payload)
    good = back.buttons[0][2].payload
    first, second = await asyncio.gather(service.press(who, good), service.press(who, good))
    assert sorted([first.kind, second.kind]) == ["expired", "front"]

    def count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(review_logs)).scalar_one())

    assert await db.run_connection(count) == 1
    # Another learner pressing the same payload changes nothing.
    other = await service.press(Who("test", "8", "Cy"), good)
    assert other.kind == "expired"
    assert await db.run_connection(count) == 1
    assert decode(good).kind == "rate"


async def test_prompt_rows_reference_cards(db: SqlDatabase) -> None:
    await db.run(lambda tx: tx.catalogue.sync([deck("d", card("d", "c", 0))], T0))
    lr = await db.run(lambda tx: tx.learners.create("t", "1", "A", LearnerSettings(), (), T0))

    def bad(conn: Connection) -> None:
        conn.execute(
            insert(prompts).values(
                token="tok00000009", learner_id=lr.id, card_id="missing", source="dm", created_at=T0
            )
        )

    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await db.run_connection(bad)

    def count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(cards)).scalar_one())

    assert await db.run_connection(count) == 1


# --------------------------------------------------------------------------- quiz and your data


async def test_quiz_round_and_forget_on_sql(
    study: tuple[StudyService, Clock, SqlDatabase],
) -> None:
    from bot.core.quiz import QuizService
    from bot.storage.tables import (
        confirmations,
        learner_settings,
        learners,
        quiz_participants,
        quiz_rounds,
    )

    service, clock, db = study
    quiz = QuizService(db, clock, Tokens(), LearnerSettings(enable_fuzzing=False))
    ann, ben = Who("test", "1", "Ann"), Who("test", "2", "Ben")
    post = await quiz.start(ann, "-42", "attention")
    assert post.kind == "quiz"
    back = await service.press(ben, post.buttons[0][0].payload)
    rated = await service.press(ben, back.buttons[0][2].payload)
    assert rated.kind == "info"
    clock.value += timedelta(minutes=10)
    # Two sweeps racing: the round is announced exactly once.
    first, second = await asyncio.gather(quiz.sweep(), quiz.sweep())
    assert len(first) + len(second) == 1

    # Ben has a review, a state, a prompt, a quiz participation: /forget removes them all.
    ask = await service.request_forget(ben)
    await service.press(ben, ask.all_buttons()[0].payload)
    ben_id_rows = await db.run_connection(
        lambda conn: conn.execute(
            select(learners.c.id).where(learners.c.platform_user_id == "2")
        ).all()
    )
    assert ben_id_rows == []

    def counts(conn: Connection) -> dict[str, int]:
        out = {}
        for table in (
            learner_settings,
            review_logs,
            prompts,
            quiz_participants,
            confirmations,
        ):
            out[table.name] = int(
                conn.execute(select(func.count()).select_from(table)).scalar_one()
            )
        out["quiz_rounds"] = int(
            conn.execute(select(func.count()).select_from(quiz_rounds)).scalar_one()
        )
        return out

    left = await db.run_connection(counts)
    # Only Ann remains: her settings row, and her confirmation-free, review-free history.
    assert left == {
        "learner_settings": 1,
        "review_logs": 0,
        "prompts": 0,
        "quiz_participants": 0,
        "confirmations": 0,
        "quiz_rounds": 1,
    }


async def test_outbox_key_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0005 drops the outbox's learner key; going back first removes orphaned rows."""
    from alembic import command

    from bot.storage.database import alembic_config
    from bot.storage.tables import learners, outbox

    def down_and_up(conn: Connection) -> tuple[int, int]:
        row = {
            "platform": "fake",
            "kind": "push",
            "text": "t",
            "due_count": 1,
            "created_at": T0,
            "not_before": T0,
            "attempts": 0,
        }
        conn.execute(
            insert(learners).values(
                id=1, platform="fake", platform_user_id="1", display_name="A", created_at=T0
            )
        )
        conn.execute(insert(outbox), [{**row, "learner_id": 1}, {**row, "learner_id": 99}])
        command.downgrade(alembic_config(conn), "0004")
        after_down = int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())
        command.upgrade(alembic_config(conn), "head")
        conn.execute(insert(outbox), [{**row, "learner_id": 42}])  # no key: accepted
        return after_down, int(conn.execute(select(func.count()).select_from(outbox)).scalar_one())

    assert await db.run_connection(down_and_up) == (1, 2)


async def test_sqlite_instants_keep_sqlalchemys_text(db: SqlDatabase, database_url: str) -> None:
    """UTCDateTime binds and parses SQLite text itself; the text must stay exactly what
    SQLAlchemy's own SQLite DATETIME writes, or old rows would stop comparing equal."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's text format")
    from sqlalchemy.dialects.sqlite import DATETIME

    from bot.storage.tables import UTCDateTime

    instants = [
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 0, 5, 120, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    ]

    def check(conn: Connection) -> None:
        ours = UTCDateTime().bind_processor(conn.dialect)
        theirs = DATETIME().bind_processor(conn.dialect)
        parse = UTCDateTime().result_processor(conn.dialect, None)
        assert ours is not None and theirs is not None and parse is not None
        for moment in instants:
            text = ours(moment)
            assert text == theirs(moment.replace(tzinfo=None))
            back = parse(text)
            assert back == moment and back.tzinfo is UTC
        assert parse("2026-03-02 09:00:05") == datetime(2026, 3, 2, 9, 0, 5, tzinfo=UTC)
        assert ours(None) is None and parse(None) is None
        with pytest.raises(ValueError, match="naive"):
            ours(datetime(2026, 3, 2, 9, 0))

    await db.run_connection(check)
