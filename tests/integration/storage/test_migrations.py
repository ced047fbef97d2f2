"""Schema migrations on a real database: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Column,
    Connection,
    Float,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
)

from bot.core.choices import Choices
from bot.core.imagespec import parse_image_spec
from bot.core.model import CardImage
from bot.core.ports import CannotStart
from bot.storage.catalogue import SqlCatalogue
from bot.storage.database import (
    SchemaOutOfDate,
    SqlDatabase,
    alembic_config,
    newest_revision,
)
from bot.storage.tables import (
    cards,
    challenge_runs,
    challenge_submissions,
    learners,
    metadata,
    outbox,
)
from tests.fakes.decks import make_card, make_deck

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


async def test_migration_from_empty_and_schema_check(database_url: str) -> None:
    db = SqlDatabase(database_url)
    try:
        current, head = await db.schema_status()
        assert current is None and head is not None
        with pytest.raises(SchemaOutOfDate, match="studybot db upgrade"):
            await db.check_schema(auto_upgrade=False)
        assert await db.check_schema(auto_upgrade=True) == head
        assert await db.schema_status() == (head, head)
        assert await db.check_schema(auto_upgrade=False) == head  # up to date: no error
        await db.upgrade()  # idempotent
    finally:
        await db.dispose()


async def test_a_database_that_cannot_be_reached_is_one_line_without_its_password(
    tmp_path: Path,
) -> None:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there
    db = SqlDatabase(f"postgresql+asyncpg://bot:pw-SECRET@127.0.0.1:{port}/studybot")
    try:
        with pytest.raises(CannotStart) as info:
            await db.check_schema(auto_upgrade=True)
    finally:
        await db.dispose()
    message = str(info.value)
    assert message.startswith(
        f"cannot reach the database postgresql+asyncpg://bot:***@127.0.0.1:{port}/studybot ("
    )
    assert message.endswith(
        "check [database] url or STUDYBOT_DATABASE_URL, and that the database is running"
    )
    assert "pw-SECRET" not in message and "\n" not in message

    blocked = tmp_path / "file"
    blocked.write_text("")  # a file where the database's folder would be
    with pytest.raises(CannotStart, match=r"\(\[bot\] data_dir\)$"):
        SqlDatabase(f"sqlite+aiosqlite:///{blocked / 'studybot.sqlite3'}")


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


async def test_outbox_key_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0005 drops the outbox's learner key; going back first removes orphaned rows."""

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


async def test_push_snoozed_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0007 adds learners.push_snoozed; rows that were there read false after going back up."""

    def down_and_up(conn: Connection) -> tuple[bool, bool]:
        conn.execute(
            insert(learners).values(
                id=1,
                platform="tg",
                platform_user_id="1",
                display_name="A",
                created_at=T0,
                next_push_at=T0,
                push_snoozed=True,
            )
        )
        command.downgrade(alembic_config(conn), "0006")
        gone = "push_snoozed" not in {c["name"] for c in conn.dialect.get_columns(conn, "learners")}
        command.upgrade(alembic_config(conn), "head")
        return gone, bool(conn.execute(select(learners.c.push_snoozed)).scalar_one())

    assert await db.run_connection(down_and_up) == (True, False)


async def test_snoozes_pending_in_the_old_job_store_become_next_push_instants(
    db: SqlDatabase,
) -> None:
    """0008: each ``snooze-<learner id>`` job of APScheduler's table becomes that learner's
    snoozed next push; reveal jobs are dropped (the sweep reveals overdue runs); the table goes."""
    due = datetime(2026, 3, 1, 13, 5, tzinfo=UTC)

    def migrate(conn: Connection) -> tuple[list[tuple[Any, ...]], bool]:
        command.downgrade(alembic_config(conn), "0007")
        for learner_id in (1, 2):
            conn.execute(
                insert(learners).values(
                    id=learner_id,
                    platform="tg",
                    platform_user_id=str(learner_id),
                    display_name="A",
                    created_at=T0,
                    next_push_at=T0 + timedelta(days=1),
                )
            )
        jobs = Table(
            "apscheduler_jobs",
            MetaData(),
            Column("id", String(191), primary_key=True),
            Column("next_run_time", Float(25), index=True),
            Column("job_state", LargeBinary, nullable=False),
        )
        jobs.create(conn)
        conn.execute(
            insert(jobs),
            [
                {"id": "snooze-1", "next_run_time": due.timestamp(), "job_state": b"x"},
                {"id": "reveal-7", "next_run_time": due.timestamp(), "job_state": b"x"},
            ],
        )
        command.upgrade(alembic_config(conn), "head")
        rows = conn.execute(
            select(learners.c.id, learners.c.next_push_at, learners.c.push_snoozed).order_by(
                learners.c.id
            )
        ).all()
        return [tuple(r) for r in rows], inspect(conn).has_table("apscheduler_jobs")

    rows, table_left = await db.run_connection(migrate)
    assert rows == [(1, due, True), (2, T0 + timedelta(days=1), False)]
    assert not table_left


async def test_front_image_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0009 adds the cards' front image. Going back blanks the hash of a card that had
    one, so the first sync after upgrading again writes its front image back; a card
    without one keeps the hash it had before 0009 (no card is rewritten for nothing)."""
    asked = parse_image_spec("formula \\mathrm{Attention}(Q,K,V) = ?")
    shown = parse_image_spec("formula QK^T")
    deck = make_deck(
        "d", [make_card("a", front_image=asked, back_image=shown), make_card("b")], title="D"
    )
    # The hash 0008's code gave card b: its content, without any front image.
    b = deck.cards[1]
    parts = ["d", "1", "0", b.title, b.front, b.back, "", "", "medium", "", "", "", ""]
    before_0009 = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()

    def down_and_up(conn: Connection) -> tuple[bool, str, tuple[int, int], CardImage | None]:
        SqlCatalogue(conn).sync([deck], T0)
        command.downgrade(alembic_config(conn), "0008")
        names = {c["name"] for c in conn.dialect.get_columns(conn, "cards")}
        gone = not names & {"front_image_kind", "front_image_spec"}
        command.upgrade(alembic_config(conn), "head")
        b_hash = conn.execute(select(cards.c.content_hash).where(cards.c.id == "b")).scalar_one()
        report = SqlCatalogue(conn).sync([deck], T0)
        a = SqlCatalogue(conn).card("a")
        assert a is not None
        return gone, b_hash, (report.updated, report.unchanged), a.front_image

    assert await db.run_connection(down_and_up) == (
        True,
        before_0009,
        (1, 1),
        CardImage("formula", "\\mathrm{Attention}(Q,K,V) = ?"),
    )


async def test_open_questions_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0010 adds ``open_questions``; going back drops it (open questions are short-lived)."""

    def down_and_up(conn: Connection) -> tuple[bool, list[tuple[Any, ...]]]:
        conn.execute(
            insert(learners).values(
                id=1, platform="fake", platform_user_id="1", display_name="A", created_at=T0
            )
        )
        command.downgrade(alembic_config(conn), "0009")
        gone = "open_questions" not in inspect(conn).get_table_names()
        command.upgrade(alembic_config(conn), "head")
        table = Table("open_questions", MetaData(), autoload_with=conn)
        conn.execute(insert(table).values(learner_id=1, step="tz", chain=True, expires_at=T0))
        return gone, [tuple(r) for r in conn.execute(select(table.c.learner_id, table.c.step))]

    assert await db.run_connection(down_and_up) == (True, [(1, "tz")])


def test_the_newest_revision_is_read_as_alembic_reads_it(tmp_path: Path) -> None:
    """From the scripts' lines, without alembic; a branch or a script it cannot read is
    left to alembic (which finds the heads itself)."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert newest_revision() == head
    versions = tmp_path / "versions"
    versions.mkdir()
    (versions / "a.py").write_text('revision: str = "0001"\ndown_revision: str | None = None\n')
    (versions / "b.py").write_text("revision = '0002'\ndown_revision = '0001'\n")
    assert newest_revision(tmp_path) == "0002"
    (versions / "c.py").write_text("revision = '0003'\ndown_revision = ('0001', '0002')\n")
    assert newest_revision(tmp_path) == head  # a merge: alembic's answer (of the real scripts)


def test_a_current_schema_is_checked_without_importing_alembic(tmp_path: Path) -> None:
    """``studybot run`` on a database that is up to date never loads alembic."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    probe = (
        "import asyncio, sys\n"
        "from bot.storage.database import SqlDatabase\n"
        "async def main():\n"
        f"    db = SqlDatabase({url!r})\n"
        "    try:\n"
        "        if sys.argv[1] == 'upgrade':\n"
        "            await db.upgrade()\n"
        "        print(await db.check_schema(auto_upgrade=False))\n"
        "    finally:\n"
        "        await db.dispose()\n"
        "asyncio.run(main())\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic')[:1])\n"
    )
    for step in ("upgrade", "check"):
        done = subprocess.run(
            [sys.executable, "-c", probe, step], capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
    version, loaded = done.stdout.split()
    assert version == newest_revision() and loaded == "[]", done.stdout


async def test_memory_model_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0011 adds the fit schedule, ``model_fits``, easy days, an exam and a reveal's
    intervals; going back drops them, and the settings a learner had are kept."""

    def down_and_up(conn: Connection) -> tuple[bool, list[tuple[Any, ...]]]:
        conn.execute(
            insert(learners).values(
                id=1, platform="fake", platform_user_id="1", display_name="A", created_at=T0
            )
        )
        command.downgrade(alembic_config(conn), "0010")
        gone = "model_fits" not in inspect(conn).get_table_names() and "next_fit_at" not in {
            c["name"] for c in inspect(conn).get_columns("learners")
        }
        command.upgrade(alembic_config(conn), "head")
        table = Table("model_fits", MetaData(), autoload_with=conn)
        conn.execute(
            insert(table).values(
                learner_id=1,
                fitted_at=T0,
                reviews=400,
                held_out=100,
                logloss_current=0.35,
                logloss_fitted=0.31,
                logloss_default=0.35,
                kept=True,
                parameters="[0.2, 1.3]",
            )
        )
        return gone, [tuple(r) for r in conn.execute(select(table.c.learner_id, table.c.kept))]

    assert await db.run_connection(down_and_up) == (True, [(1, True)])


async def test_personal_decks_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0012 adds a deck's owner, source and pause, ``media`` and a confirmation's subject;
    going back drops them, and the shipped decks are kept."""

    def down_and_up(conn: Connection) -> tuple[bool, list[tuple[Any, ...]]]:
        conn.execute(
            insert(learners).values(
                id=1, platform="fake", platform_user_id="1", display_name="A", created_at=T0
            )
        )
        command.downgrade(alembic_config(conn), "0011")
        gone = "media" not in inspect(conn).get_table_names() and "owner_id" not in {
            c["name"] for c in inspect(conn).get_columns("decks")
        }
        command.upgrade(alembic_config(conn), "head")
        table = Table("decks", MetaData(), autoload_with=conn)
        conn.execute(
            insert(table).values(
                id="u1-spanish",
                title="Spanish",
                description="",
                path="",
                tags="",
                position=0,
                synced_at=T0,
                owner_id=1,
                source="anki",
                source_ref="1700000000000",
            )
        )
        return gone, [
            tuple(r) for r in conn.execute(select(table.c.id, table.c.owner_id, table.c.paused))
        ]

    assert await db.run_connection(down_and_up) == (True, [("u1-spanish", 1, False)])


async def test_quiz_polls_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0013 adds a card's choices and a round's poll (its id unique); going back drops them
    and blanks the hash of each card that had choices, so the next sync writes them again."""
    choices = Choices(("a", "b"), 1)

    def down_and_up(conn: Connection) -> tuple[bool, dict[str, str], list[tuple[Any, ...]]]:
        catalogue = SqlCatalogue(conn)
        catalogue.sync(
            [make_deck("d", [make_card("with", choices=choices), make_card("without")])], T0
        )
        command.downgrade(alembic_config(conn), "0012")
        gone = "choices" not in {c["name"] for c in inspect(conn).get_columns("cards")} and (
            "poll_id" not in {c["name"] for c in inspect(conn).get_columns("quiz_rounds")}
        )
        hashes = {
            r.id: r.content_hash for r in conn.execute(select(cards.c.id, cards.c.content_hash))
        }
        command.upgrade(alembic_config(conn), "head")
        rounds = Table("quiz_rounds", MetaData(), autoload_with=conn)
        row = {
            "platform": "telegram",
            "chat_id": "-1",
            "card_id": "with",
            "topic": "d",
            "started_at": T0,
            "ends_at": T0,
            "expected": "",
            "poll_id": "p1",
            "poll_message_id": "5",
            "poll_correct": 1,
        }
        conn.execute(insert(rounds).values(token="t1", **row))
        try:
            with conn.begin_nested():
                conn.execute(insert(rounds).values(token="t2", **row))
            unique = False
        except Exception:  # either driver's IntegrityError
            unique = True
        report = SqlCatalogue(conn).sync(
            [make_deck("d", [make_card("with", choices=choices), make_card("without")])], T0
        )
        read = SqlCatalogue(conn).card("with")
        return (
            gone
            and unique
            and report.updated == 1
            and read is not None
            and read.choices == choices,
            {k: "blank" if not v else "kept" for k, v in hashes.items()},
            [tuple(r) for r in conn.execute(select(rounds.c.token, rounds.c.poll_id))],
        )

    assert await db.run_connection(down_and_up) == (
        True,
        {"with": "blank", "without": "kept"},
        [("t1", "p1")],
    )


async def test_challenge_photos_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0014 adds ``challenge_photos``; going back drops it (the photos go, the answers
    keep their platform references), and up again it takes a photo, which goes with its
    submission."""

    def down_and_up(conn: Connection) -> tuple[bool, list[tuple[Any, ...]], list[Any]]:
        conn.execute(
            insert(learners).values(
                id=1, platform="fake", platform_user_id="1", display_name="A", created_at=T0
            )
        )
        conn.execute(
            insert(challenge_runs).values(
                id=1,
                token="r0000001",
                platform="fake",
                chat_id="-1",
                challenge_id="c",
                started_at=T0,
                deadline=T0 + timedelta(minutes=15),
            )
        )
        conn.execute(
            insert(challenge_submissions).values(
                run_id=1,
                learner_id=1,
                token="s0000001",
                display_name="A",
                joined_at=T0,
                photo_ref="file-1",
                submitted_at=T0,
            )
        )
        command.downgrade(alembic_config(conn), "0013")
        gone = "challenge_photos" not in inspect(conn).get_table_names()
        command.upgrade(alembic_config(conn), "head")
        table = Table("challenge_photos", MetaData(), autoload_with=conn)
        data = bytes(range(256))
        conn.execute(
            insert(table).values(
                run_id=1, learner_id=1, mime="image/png", size=256, data=data, stored_at=T0
            )
        )
        rows = [tuple(r) for r in conn.execute(select(table.c.run_id, table.c.size, table.c.data))]
        conn.execute(challenge_submissions.delete())
        refs = list(conn.execute(select(table.c.run_id)).scalars())
        return gone, rows, refs

    assert await db.run_connection(down_and_up) == (True, [(1, 256, bytes(range(256)))], [])


async def test_web_workspace_migration_goes_down_and_up(db: SqlDatabase) -> None:
    """0015 adds ``web_sessions``, ``web_once`` and ``web_drafts``; going back drops them
    (everyone is signed out, drafts go), and up again they take rows, which go with
    their learner."""
    names = ("web_sessions", "web_once", "web_drafts")

    def down_and_up(conn: Connection) -> tuple[bool, list[int], list[int]]:
        conn.execute(
            insert(learners).values(
                id=1, platform="fake", platform_user_id="1", display_name="A", created_at=T0
            )
        )
        command.downgrade(alembic_config(conn), "0014")
        gone = not set(names) & set(inspect(conn).get_table_names())
        command.upgrade(alembic_config(conn), "head")
        meta = MetaData()
        sessions, once, drafts = (Table(n, meta, autoload_with=conn) for n in names)
        conn.execute(
            insert(sessions).values(
                id_hash="h" * 64,
                learner_id=1,
                csrf="c",
                scope="*",
                created_at=T0,
                expires_at=T0 + timedelta(hours=1),
            )
        )
        conn.execute(insert(once).values(key="k" * 64, expires_at=T0))
        conn.execute(insert(drafts).values(learner_id=1, key="review", text="x", updated_at=T0))
        counts = [conn.execute(select(func.count()).select_from(t)).scalar_one() for t in
                  (sessions, once, drafts)]  # fmt: skip
        conn.execute(learners.delete())
        after = [conn.execute(select(func.count()).select_from(t)).scalar_one() for t in
                 (sessions, once, drafts)]  # fmt: skip
        return gone, counts, after

    assert await db.run_connection(down_and_up) == (True, [1, 1, 1], [0, 1, 0])
