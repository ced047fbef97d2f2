"""Group challenges on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta

from sqlalchemy import Connection, func, select

from bot.core.challenges.groups import ChallengeCatalog
from bot.core.challenges.photos import PhotoLimits
from bot.core.challenges.schedules import next_weekly
from bot.core.learners import Who
from bot.core.messages import HeatMap
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.storage.database import SqlDatabase
from bot.storage.tables import challenge_photos, challenge_submissions, review_logs
from tests.fakes.clock import FixedClock
from tests.fakes.photos import PNG, photo
from tests.fakes.tokens import SequentialTokens
from tests.services import Services, build_services, only

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
GROUP = "-1001"


async def make(db: SqlDatabase) -> Services[SqlDatabase]:
    shipped = load_decks([SHIPPED_DECKS])
    await db.run(lambda tx: tx.catalogue.sync(shipped.decks, NOW))
    return build_services(
        db,
        FixedClock(NOW),
        tokens=SequentialTokens("c"),
        catalog=ChallengeCatalog.from_sets(shipped.challenge_sets),
    )


async def test_a_run_from_start_to_summary(db: SqlDatabase) -> None:
    s = await make(db)
    challenges, clock = s.challenges, s.clock
    ann, ben, cat = (Who("tg", str(i), name) for i, name in ((1, "Ann"), (2, "Ben"), (3, "Cat")))
    post = only(await challenges.start(ann, GROUP, "refl-scaled-dot-product", 15, is_admin=True))
    assert post.kind == "challenge"
    join = post.buttons[0][0].payload
    for who in (ann, ben, cat):
        assert (await s.press(who, join)).form is not None
    await challenges.submit(ann, text="softmax(QK^T / sqrt(d_k)) V")
    await challenges.submit(ben, text="first try")
    again = only(await challenges.submit(ben, photo=photo(ref="photo-file-id")))
    assert "Replaced" in again.text
    status = only(await challenges.status(cat, GROUP))
    assert "2 submitted: Ann, Ben" in status.text and "softmax" not in status.text

    clock.advance(timedelta(minutes=15))
    late = only(await challenges.submit(cat, text="too late"))
    assert "time is up" in late.text
    # Two sweeps racing (two processes): the run is revealed once.
    await asyncio.gather(challenges.sweep(), challenges.sweep())
    effects = s.announcer.take()
    group = [a for a in effects if a.learner_id is None]
    private = [a for a in effects if a.learner_id is not None and a.reply.buttons]
    assert len(group) == 1 and group[0].reply.card is not None
    assert len(private) == 2  # Ann and Ben answered; Cat did not
    # Ben's photo, read back from the database, comes to him before his self-assessment.
    (own,) = [a.reply for a in effects if a.learner_id is not None and not a.reply.buttons]
    assert own.photo is not None and own.photo.data == PNG

    for who, level in ((ann, 3), (ben, 1)):
        learner = await s.study.learner(who)
        (assess,) = [a.reply for a in private if a.learner_id == learner.id]
        grades = [b for b in assess.all_buttons() if b.action == "grade"]
        # Rate every row at this level, then apply.
        reply = assess
        for button in grades:
            if button.payload.endswith(str(level)):
                edited = (await s.press(who, button.payload)).edit
                assert edited is not None
                reply = edited
        apply = next(b for b in reply.all_buttons() if b.action == "assessed")
        done = (await s.press(who, apply.payload)).edit
        assert done is not None and done.kind == "info" and "moved" in done.text
    # The second apply produced the summary, once.
    (summary,) = s.announcer.take()
    assert isinstance(summary.reply.figure, HeatMap)
    clock.advance(timedelta(hours=1))
    assert await challenges.sweep() == 0

    def counts(conn: Connection) -> tuple[int, dict[int, int]]:
        rows = conn.execute(
            select(review_logs.c.rating, func.count())
            .where(review_logs.c.source == "challenge")
            .group_by(review_logs.c.rating)
        ).all()
        subs = conn.execute(select(func.count()).select_from(challenge_submissions)).scalar_one()
        return int(subs), {int(r[0]): int(r[1]) for r in rows}

    subs, by_rating = await db.run_connection(counts)
    assert subs == 3
    assert set(by_rating) == {1, 3} and by_rating[1] == by_rating[3] > 0


async def test_the_earliest_open_deadline_is_read_from_the_database(db: SqlDatabase) -> None:
    s = await make(db)
    admin = Who("tg", "9", "Admin")
    assert await s.challenges.next_deadline() is None
    await s.challenges.start(admin, "-1", "refl-causal-mask", 30, is_admin=True)
    await s.challenges.start(admin, "-2", "refl-causal-mask", 20, is_admin=True)
    assert await s.challenges.next_deadline() == NOW + timedelta(minutes=20)
    await s.challenges.cancel(admin, "-2", is_admin=True)
    assert await s.challenges.next_deadline() == NOW + timedelta(minutes=30)
    s.clock.advance(timedelta(minutes=30))
    assert await s.challenges.reveal_overdue() == 1
    assert await s.challenges.next_deadline() is None


async def test_weekly_schedule_fires_once_at_local_time(db: SqlDatabase) -> None:
    s = await make(db)
    challenges, clock = s.challenges, s.clock
    admin = Who("tg", "9", "Admin")
    await challenges.configure(admin, GROUP, "timezone", "America/New_York", is_admin=True)
    reply = only(
        await challenges.schedule(admin, GROUP, "refl-causal-mask", "monday", "19:00", True)
    )
    assert "Every Monday at 19:00" in reply.text
    # Monday 2 March 2026, 19:00 EST = 00:00 UTC on the 3rd.
    assert next_weekly(0, time(19, 0), "America/New_York", NOW) == datetime(
        2026, 3, 3, 0, 0, tzinfo=UTC
    )
    assert await challenges.sweep() == 0
    clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))
    await asyncio.gather(challenges.sweep(), challenges.sweep())
    started = [a for a in s.announcer.take() if a.reply.kind == "challenge"]
    assert len(started) == 1
    # After the DST change (8 March), Monday 19:00 EDT is 23:00 UTC.
    clock.set(datetime(2026, 3, 9, 22, 59, tzinfo=UTC))
    await challenges.sweep()
    assert [a for a in s.announcer.take() if a.reply.kind == "challenge"] == []
    clock.set(datetime(2026, 3, 9, 23, 0, tzinfo=UTC))
    await challenges.sweep()
    assert len([a for a in s.announcer.take() if a.reply.kind == "challenge"]) == 1


async def test_five_quick_taps_on_apply_apply_once(db: SqlDatabase) -> None:
    """Taps racing in parallel transactions (PostgreSQL): one set of reviews, one list of
    the cards that moved; the other taps are answered and change nothing shown."""
    s = await make(db)
    ann = Who("tg", "1", "Ann")
    post = only(await s.challenges.start(ann, GROUP, "refl-scaled-dot-product", 15, True))
    await s.press(ann, post.buttons[0][0].payload)
    await s.challenges.submit(ann, text="softmax(QK^T / sqrt(d_k)) V")
    await s.challenges.reveal(ann, GROUP, True)
    (assess,) = [a.reply for a in s.announcer.take() if a.learner_id is not None]
    grade = next(b for b in assess.all_buttons() if b.action == "grade")
    edited = (await s.press(ann, grade.payload)).edit
    assert edited is not None
    apply = next(b for b in edited.all_buttons() if b.action == "assessed")
    outcomes = await asyncio.gather(*(s.press(ann, apply.payload) for _ in range(5)))
    shown = [o.edit for o in outcomes if o.edit is not None]
    assert len(shown) == 1 and "moved" in shown[0].text
    assert all(o.notice for o in outcomes)  # every tap is answered

    def reviews(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(review_logs)).scalar_one())

    linked = {
        c
        for row in s.challenges.catalog.challenges["refl-scaled-dot-product"].rubric[:1]
        for c in row.card_ids
    }
    assert await db.run_connection(reviews) == len(linked)


async def test_five_quick_taps_on_submit_my_answer_join_once(db: SqlDatabase) -> None:
    """Taps racing in parallel transactions (PostgreSQL): one member, one "You're in"."""
    s = await make(db)
    ann, ben = Who("tg", "1", "Ann"), Who("tg", "2", "Ben")
    await s.study.learner(ben)
    post = only(await s.challenges.start(ann, GROUP, "refl-scaled-dot-product", 15, True))
    outcomes = await asyncio.gather(*(s.press(ben, post.buttons[0][0].payload) for _ in range(5)))
    assert sum(len(o.replies) for o in outcomes) == 1
    assert all(o.form is not None for o in outcomes)

    def members(conn: Connection) -> int:
        count = select(func.count()).select_from(challenge_submissions)
        return int(conn.execute(count).scalar_one())

    assert await db.run_connection(members) == 1


async def test_two_photos_at_once_keep_the_group_within_its_share(db: SqlDatabase) -> None:
    """Two members' photos stored in parallel transactions (PostgreSQL): the group's share
    holds one of them; the other member is told, and nothing of theirs is kept. Eight
    groups race at once, so that a missing lock shows (the race is won by timing)."""
    shipped = load_decks([SHIPPED_DECKS])
    await db.run(lambda tx: tx.catalogue.sync(shipped.decks, NOW))
    s = build_services(
        db,
        FixedClock(NOW),
        tokens=SequentialTokens("c"),
        catalog=ChallengeCatalog.from_sets(shipped.challenge_sets),
        photos=PhotoLimits(max_bytes=2000, group_bytes=2000),
    )
    ann, ben = Who("tg", "1", "Ann"), Who("tg", "2", "Ben")
    groups = [f"-{100 + g}" for g in range(8)]
    for group in groups:
        post = only(await s.challenges.start(ann, group, "refl-scaled-dot-product", 15, True))
        for who in (ann, ben):
            await s.press(who, post.buttons[0][0].payload)
    page = PNG + bytes(1500 - len(PNG))
    outcomes = await asyncio.gather(
        *(
            s.challenges.submit(who, photo=photo(page, ref=who.user_id), chat_id=group)
            for group in groups
            for who in (ann, ben)
        )
    )
    told = [only(o).text for o in outcomes]
    assert sum("fill the" in t for t in told) == len(groups), told

    def stored(conn: Connection) -> int:
        total = conn.execute(select(func.coalesce(func.sum(challenge_photos.c.size), 0)))
        return int(total.scalar_one())

    assert await db.run_connection(stored) == 1500 * len(groups)


async def test_an_album_of_pages_at_once_keeps_one_photo(db: SqlDatabase) -> None:
    """A member sends their pages as an album: Telegram delivers each photo as its own
    update, handled side by side. Each one answers (the last replaces the others); none
    fails on the stored photo's key."""
    s = await make(db)
    ann = Who("tg", "1", "Ann")
    post = only(await s.challenges.start(ann, GROUP, "refl-scaled-dot-product", 15, True))
    await s.press(ann, post.buttons[0][0].payload)
    pages = [PNG + bytes([i]) * 100 for i in range(3)]
    outcomes = await asyncio.gather(
        *(
            s.challenges.submit(ann, photo=photo(page, ref=f"page-{i}"))
            for i, page in enumerate(pages)
        )
    )
    assert all(only(o).kind == "info" for o in outcomes)

    def kept(conn: Connection) -> list[bytes]:
        return [bytes(r.data) for r in conn.execute(select(challenge_photos.c.data))]

    (data,) = await db.run_connection(kept)
    assert data in pages
