"""The browser workspace's repository (``Tx.web``): sessions, one-time keys, drafts."""

from __future__ import annotations

import asyncio
from functools import partial

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.model import Draft, WebSession
from bot.core.ports import Database, Tx
from bot.storage.database import SqlDatabase
from bot.storage.web import SqlWebRepo
from tests.contract.helpers import DAY, HOUR, T0, add_learner

KEY = "a" * 64


def use(key: str, tx: Tx) -> bool:
    return tx.web.use_once(key, T0)


def session(learner_id: int, id_hash: str = "h" * 64, *, hours: int = 12) -> WebSession:
    return WebSession(id_hash, learner_id, "c" * 43, "challenge:r0000001", T0, T0 + hours * HOUR)


async def test_a_key_is_used_once(db: Database) -> None:
    assert await db.run(lambda tx: tx.web.use_once(KEY, T0 + HOUR)) is True
    assert await db.run(lambda tx: tx.web.use_once(KEY, T0 + 2 * HOUR)) is False
    assert await db.run(lambda tx: tx.web.use_once("b" * 64, T0 + HOUR)) is True


async def test_twice_in_one_transaction_is_once(db: Database) -> None:
    def twice(tx: Tx) -> tuple[bool, bool]:
        return tx.web.use_once(KEY, T0 + HOUR), tx.web.use_once(KEY, T0 + HOUR)

    assert await db.run(twice) == (True, False)


async def test_a_key_used_in_a_rolled_back_transaction_is_unused(db: Database) -> None:
    def use_then_fail(tx: Tx) -> None:
        assert tx.web.use_once(KEY, T0 + HOUR)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await db.run(use_then_fail)
    assert await db.run(lambda tx: tx.web.use_once(KEY, T0 + HOUR)) is True


async def test_a_session_is_found_until_it_expires(db: Database) -> None:
    ann = await add_learner(db)
    saved = session(ann.id)
    await db.run(lambda tx: tx.web.add_session(saved))
    assert await db.run(lambda tx: tx.web.session(saved.id_hash, T0)) == saved
    last = saved.expires_at - HOUR / 3600 / 1000
    assert await db.run(lambda tx: tx.web.session(saved.id_hash, last)) == saved
    assert await db.run(lambda tx: tx.web.session(saved.id_hash, saved.expires_at)) is None
    assert await db.run(lambda tx: tx.web.session("x" * 64, T0)) is None


async def test_a_dropped_session_is_gone(db: Database) -> None:
    ann = await add_learner(db)
    await db.run(lambda tx: tx.web.add_session(session(ann.id)))
    await db.run(lambda tx: tx.web.add_session(session(ann.id, "g" * 64)))
    await db.run(lambda tx: tx.web.drop_session("h" * 64))
    await db.run(lambda tx: tx.web.drop_session("never-there"))
    assert await db.run(lambda tx: tx.web.session("h" * 64, T0)) is None
    assert await db.run(lambda tx: tx.web.session("g" * 64, T0)) is not None


async def test_a_session_of_no_learner_is_refused(db: Database) -> None:
    with pytest.raises(Exception):  # noqa: B017 - IntegrityError on SQL, ValueError in the fake
        await db.run(lambda tx: tx.web.add_session(session(999)))


async def test_drafts_are_saved_replaced_and_dropped(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    key = "challenge:r0000001"
    assert await db.run(lambda tx: tx.web.draft(ann.id, key)) is None
    first = Draft(ann.id, key, "$x^2$ and ünïcode", T0)
    await db.run(lambda tx: tx.web.save_draft(first))
    await db.run(lambda tx: tx.web.save_draft(Draft(ben.id, key, "Ben's", T0)))
    assert await db.run(lambda tx: tx.web.draft(ann.id, key)) == first
    second = Draft(ann.id, key, "x" * 20_000, T0 + HOUR)
    await db.run(lambda tx: tx.web.save_draft(second))
    assert await db.run(lambda tx: tx.web.draft(ann.id, key)) == second
    assert await db.run(lambda tx: tx.web.draft(ann.id, "challenge:other")) is None
    await db.run(lambda tx: tx.web.drop_draft(ann.id, key))
    await db.run(lambda tx: tx.web.drop_draft(ann.id, "never-there"))
    assert await db.run(lambda tx: tx.web.draft(ann.id, key)) is None
    assert await db.run(lambda tx: tx.web.draft(ben.id, key)) == Draft(ben.id, key, "Ben's", T0)


async def test_prune_drops_expired_sessions_and_keys_only(db: Database) -> None:
    ann = await add_learner(db)

    def fill(tx: Tx) -> None:
        tx.web.add_session(session(ann.id, "1" * 64, hours=1))
        tx.web.add_session(session(ann.id, "2" * 64, hours=2))
        tx.web.add_session(session(ann.id, "3" * 64, hours=3))
        tx.web.use_once("k1", T0 + HOUR)
        tx.web.use_once("k3", T0 + 3 * HOUR)
        tx.web.save_draft(Draft(ann.id, "challenge:r0000001", "kept", T0 - 30 * DAY))

    await db.run(fill)
    assert await db.run(lambda tx: tx.web.prune(T0 + 2 * HOUR)) == 3
    assert await db.run(lambda tx: tx.web.prune(T0 + 2 * HOUR)) == 0
    assert await db.run(lambda tx: tx.web.session("3" * 64, T0)) is not None
    assert await db.run(lambda tx: tx.web.session("2" * 64, T0)) is None
    # A pruned key may be used again (its login or link has long expired); a kept one not.
    assert await db.run(lambda tx: tx.web.use_once("k1", T0 + 9 * HOUR)) is True
    assert await db.run(lambda tx: tx.web.use_once("k3", T0 + 9 * HOUR)) is False
    assert await db.run(lambda tx: tx.web.draft(ann.id, "challenge:r0000001")) is not None


async def test_deleting_a_learner_drops_their_sessions_and_drafts(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")

    def fill(tx: Tx) -> None:
        for who, h in ((ann, "a"), (ben, "b")):
            tx.web.add_session(session(who.id, h * 64))
            tx.web.save_draft(Draft(who.id, "review", h, T0))

    await db.run(fill)
    await db.run(lambda tx: tx.learners.delete(ann.id))

    def look(tx: Tx, h: str, learner_id: int) -> tuple[bool, bool]:
        return (
            tx.web.session(h * 64, T0) is not None,
            tx.web.draft(learner_id, "review") is not None,
        )

    assert await db.run(lambda tx: look(tx, "a", ann.id)) == (False, False)
    assert await db.run(lambda tx: look(tx, "b", ben.id)) == (True, True)


async def test_two_processes_taking_the_same_keys_get_each_once(backend_url: str | None) -> None:
    """Two database objects (two processes' pools) use the same 40 keys, interleaved."""
    if backend_url is None:
        pytest.skip("the fake has one process")
    first, second = SqlDatabase(backend_url), SqlDatabase(backend_url)
    await first.upgrade()
    keys = [f"k{i:03d}" for i in range(40)]

    async def take(db: SqlDatabase) -> list[str]:
        taken = []
        for key in keys:
            if await db.run(partial(use, key)):
                taken.append(key)
        return taken

    try:
        a, b = await asyncio.gather(take(first), take(second))
        assert sorted(a + b) == keys
    finally:
        await first.dispose()
        await second.dispose()


async def test_on_postgresql_the_second_insert_waits_for_the_first_then_loses(
    backend_url: str | None,
) -> None:
    """The race made deterministic: one transaction holds the key uncommitted, the other
    process's use_once blocks on it (seen in pg_locks), and returns False once the first
    commits."""
    if backend_url is None or not backend_url.startswith("postgresql"):
        pytest.skip("row locks of uncommitted inserts: PostgreSQL")
    other = SqlDatabase(backend_url)
    await other.upgrade()
    engine = create_async_engine(backend_url)
    try:
        async with engine.connect() as holder, engine.connect() as watcher:
            await holder.begin()
            assert await holder.run_sync(lambda c: SqlWebRepo(c).use_once(KEY, T0 + HOUR))
            racer = asyncio.create_task(other.run(lambda tx: tx.web.use_once(KEY, T0 + HOUR)))
            waiting = 0
            for _ in range(100_000):  # until the racer waits on the holder's row
                waiting = (
                    await watcher.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted"))
                ).scalar_one()
                await watcher.commit()
                if waiting or racer.done():
                    break
            assert waiting == 1 and not racer.done()
            await holder.commit()
            assert await racer is False
    finally:
        await engine.dispose()
        await other.dispose()
