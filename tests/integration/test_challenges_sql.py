"""Group challenges on a real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import Connection, func, select

from bot.core.challenges import ChallengeCatalog, ChallengeService, next_weekly
from bot.core.learners import Who
from bot.core.model import LearnerSettings
from bot.core.study import StudyService
from bot.deckfiles import load_decks
from bot.storage.database import SqlDatabase
from bot.storage.tables import challenge_submissions, review_logs

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
GROUP = "-1001"


class Clock:
    def __init__(self) -> None:
        self.value = NOW

    def now(self) -> datetime:
        return self.value


class Tokens:
    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"c{self.n:09d}"


async def make(db: SqlDatabase) -> tuple[StudyService, ChallengeService, Clock]:
    shipped = load_decks([REPO / "decks"])
    clock = Clock()
    await db.run(lambda tx: tx.catalogue.sync(shipped.decks, NOW))
    tokens = Tokens()
    settings = LearnerSettings(enable_fuzzing=False)
    study = StudyService(db, clock, tokens, settings)
    challenges = ChallengeService(db, clock, tokens, settings)
    challenges.catalog = ChallengeCatalog.from_sets(shipped.challenge_sets)
    study.challenges = challenges
    return study, challenges, clock


async def test_a_run_from_start_to_summary(db: SqlDatabase) -> None:
    study, challenges, clock = await make(db)
    ann, ben, cat = (Who("tg", str(i), name) for i, name in ((1, "Ann"), (2, "Ben"), (3, "Cat")))
    post = await challenges.start(ann, GROUP, "refl-scaled-dot-product", 15, is_admin=True)
    assert post.kind == "challenge"
    join = post.buttons[0][0].payload
    for who in (ann, ben, cat):
        assert (await study.press(who, join)).kind == "info"
    await challenges.submit(ann, text="softmax(QK^T / sqrt(d_k)) V")
    await challenges.submit(ben, text="first try")
    again = await challenges.submit(ben, photo_ref="photo-file-id")
    assert "Replaced" in again.text
    status = await challenges.status(cat, GROUP)
    assert "2 submitted: Ann, Ben" in status.text and "softmax" not in status.text

    clock.value += timedelta(minutes=15)
    late = await challenges.submit(cat, text="too late")
    assert "time is up" in late.text
    first, second = await asyncio.gather(challenges.sweep(), challenges.sweep())
    effects = [*first, *second]
    group = [a for a in effects if a.learner_id is None]
    private = [a for a in effects if a.learner_id is not None]
    assert len(group) == 1 and group[0].reply.card is not None
    assert len(private) == 2  # Ann and Ben answered; Cat did not

    ratings: dict[str, int] = {}
    for who, level in ((ann, 3), (ben, 1)):
        learner = await study.learner(who)
        (assess,) = [a.reply for a in private if a.learner_id == learner.id]
        grades = [b for row in assess.buttons for b in row if b.payload.startswith("g:")]
        # Rate every row at this level, then apply.
        reply = assess
        for button in grades:
            if button.payload.endswith(str(level)):
                reply = await study.press(who, button.payload)
        apply = next(b for b in reply.all_buttons() if b.payload.startswith("f:"))
        done = await study.press(who, apply.payload)
        assert done.kind == "info" and "moved" in done.text
        ratings[who.display_name] = level
    # The second apply produced the summary, once.
    summary_effects = done.announcements
    assert len(summary_effects) == 1 and summary_effects[0].reply.heatmap is not None
    clock.value += timedelta(hours=1)
    assert await challenges.sweep() == []

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


async def test_weekly_schedule_fires_once_at_local_time(db: SqlDatabase) -> None:
    _, challenges, clock = await make(db)
    admin = Who("tg", "9", "Admin")
    await challenges.configure(admin, GROUP, "timezone", "America/New_York", is_admin=True)
    reply = await challenges.schedule(
        admin, GROUP, "refl-causal-mask", "monday", "19:00", is_admin=True
    )
    assert "Every Monday at 19:00" in reply.text
    # Monday 2 March 2026, 19:00 EST = 00:00 UTC on the 3rd.
    assert next_weekly(0, time(19, 0), "America/New_York", NOW) == datetime(
        2026, 3, 3, 0, 0, tzinfo=UTC
    )
    assert await challenges.sweep() == []
    clock.value = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    first, second = await asyncio.gather(challenges.sweep(), challenges.sweep())
    started = [a for a in [*first, *second] if a.reply.kind == "challenge"]
    assert len(started) == 1
    # After the DST change (8 March), Monday 19:00 EDT is 23:00 UTC.
    clock.value = datetime(2026, 3, 9, 22, 59, tzinfo=UTC)
    starts = [a for a in await challenges.sweep() if a.reply.kind == "challenge"]
    assert starts == []
    clock.value = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)
    starts = [a for a in await challenges.sweep() if a.reply.kind == "challenge"]
    assert len(starts) == 1
