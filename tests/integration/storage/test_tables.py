"""The schema's own guarantees on a real database: instants in UTC, foreign keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import Connection, func, insert, select

from bot.core.model import LearnerSettings
from bot.core.ports import Tx
from bot.storage.database import SqlDatabase
from bot.storage.tables import UTCDateTime, cards, decks, prompts
from tests.fakes.decks import make_deck

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_datetimes_come_back_aware_utc(db: SqlDatabase) -> None:
    paris = timezone(timedelta(hours=2))
    local = datetime(2026, 6, 1, 14, 30, 15, 123456, tzinfo=paris)

    def write(tx: Tx) -> None:
        tx.catalogue.sync([make_deck("d", ["c1"])], local)

    await db.run(write)

    def read(conn: Connection) -> datetime:
        return conn.execute(select(decks.c.synced_at)).scalar_one()  # type: ignore[no-any-return]

    got = await db.run_connection(read)
    assert got.tzinfo is UTC
    assert got == local
    assert got.hour == 12


async def test_sqlite_instants_keep_sqlalchemys_text(db: SqlDatabase, database_url: str) -> None:
    """UTCDateTime binds and parses SQLite text itself; the text must stay exactly what
    SQLAlchemy's own SQLite DATETIME writes, or old rows would stop comparing equal."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's text format")
    from sqlalchemy.dialects.sqlite import DATETIME

    instants = [
        datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 0, 5, 120, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, 999999, tzinfo=UTC),
    ]

    def check(conn: Connection) -> None:
        ours = UTCDateTime().bind_processor(conn.dialect)
        theirs = DATETIME().bind_processor(conn.dialect)  # type: ignore[no-untyped-call]
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


async def test_prompt_rows_reference_cards(db: SqlDatabase) -> None:
    await db.run(lambda tx: tx.catalogue.sync([make_deck("d", ["c"])], T0))
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
