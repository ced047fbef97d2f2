"""Tests for bot.core.challenges.schedules: weekly challenges at a group's local time."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.challenges.schedules import next_weekly, parse_weekday
from bot.core.messages import Announcement
from tests.services import only
from tests.unit.core.challenges.support import ADA, BEN, GROUP, NY, QUAD, START, Env


@pytest.fixture
def env() -> Env:
    return Env()


def local(when: datetime) -> datetime:
    return when.astimezone(ZoneInfo(NY))


async def schedule_in_new_york(env: Env, weekday: str, at: str) -> int:
    await env.challenges.configure(ADA, GROUP, "timezone", NY, is_admin=True)
    outcome = await env.challenges.schedule(ADA, GROUP, "quad", weekday, at, is_admin=True)
    assert outcome.to == "chat" and only(outcome).kind == "info", outcome
    (s,) = env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", GROUP))
    assert s.timezone == NY
    return s.id


def next_run_at(env: Env, schedule_id: int) -> datetime | None:
    (s,) = [
        s
        for s in env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", GROUP))
        if s.id == schedule_id
    ]
    return s.next_run_at


def starts(effects: list[Announcement]) -> list[Announcement]:
    return [a for a in effects if a.reply.kind == "challenge"]


async def test_a_monday_evening_schedule_keeps_local_time_across_spring_forward(
    env: Env,
) -> None:
    # Monday 2 March 2026 09:00 in New York (EST, UTC-5); clocks go forward on Sunday 8 March.
    sid = await schedule_in_new_york(env, "mon", "19:00")
    first = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # Mon 2 March 19:00 EST
    assert next_run_at(env, sid) == first

    env.clock.set(first - timedelta(minutes=1))
    assert starts(await env.sweep()) == []

    env.clock.set(first)
    (started,) = starts(await env.sweep())
    assert started.chat_id == GROUP and QUAD.prompt in started.reply.text
    assert "19:10 (America/New_York)" in started.reply.text
    run = env.run()
    assert run.started_at == first and run.started_by is None
    assert await env.challenges.next_deadline() == first + timedelta(minutes=10)
    second = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # Mon 9 March 19:00 EDT (UTC-4)
    assert next_run_at(env, sid) == second
    assert local(second).hour == 19 and local(second).weekday() == 0
    assert starts(await env.sweep()) == []  # fired once only
    env.clock.set(run.deadline)
    assert await env.challenges.reveal_overdue() == 1  # the alarm reveals it
    assert len(env.posted.take()) == 1

    env.clock.set(second - timedelta(minutes=1))
    assert starts(await env.sweep()) == []
    env.clock.set(second)
    effects = await env.sweep()
    assert len(starts(effects)) == 1
    assert next_run_at(env, sid) == datetime(2026, 3, 16, 23, 0, tzinfo=UTC)
    assert env.run().started_at == second
    assert len(env.db.store.runs) == 2
    assert starts(await env.sweep()) == []


@pytest.mark.parametrize(
    ("at", "first", "then"),
    [
        # Sunday 1 March would be in the past; Sunday 8 March 01:30 is still EST (UTC-5).
        (
            "01:30",
            datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
            datetime(2026, 3, 15, 5, 30, tzinfo=UTC),
        ),
        # 02:30 does not exist on 8 March (02:00 -> 03:00): the next valid minute, 03:00 EDT.
        ("02:30", datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 3, 15, 6, 30, tzinfo=UTC)),
    ],
)
async def test_a_sunday_night_schedule_on_the_spring_forward_day(
    env: Env, at: str, first: datetime, then: datetime
) -> None:
    sid = await schedule_in_new_york(env, "sunday", at)
    assert next_run_at(env, sid) == first
    env.clock.set(first - timedelta(seconds=1))
    assert starts(await env.sweep()) == []
    env.clock.set(first)
    assert len(starts(await env.sweep())) == 1
    assert next_run_at(env, sid) == then
    assert local(then).strftime("%a %H:%M") == f"Sun {at}"
    assert starts(await env.sweep()) == []


async def test_a_due_schedule_skips_a_week_while_a_run_is_open(env: Env) -> None:
    sid = await schedule_in_new_york(env, "mon", "19:00")
    first = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    env.clock.set(first - timedelta(minutes=5))
    await env.start(minutes=60)
    env.clock.set(first)
    assert starts(await env.sweep()) == []
    assert len(env.db.store.runs) == 1
    assert next_run_at(env, sid) == datetime(2026, 3, 9, 23, 0, tzinfo=UTC)


async def test_an_overdue_unrevealed_run_does_not_block_the_weekly_start(env: Env) -> None:
    """The bot was down for a week: the sweep reveals last week's run and starts this week's."""
    sid = await schedule_in_new_york(env, "mon", "19:00")
    first = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    env.clock.set(first)
    assert len(starts(await env.sweep())) == 1
    old = env.run()

    second = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)
    env.clock.set(second)  # no sweep and no alarm in between
    effects = await env.sweep()
    revealed = [a for a in effects if a.reply.kind == "challenge_result" and a.reply.card]
    assert len(revealed) == 1
    assert len(starts(effects)) == 1, "this week's challenge was skipped"
    was = env.db.run_sync(lambda tx: tx.challenges.run_by_id(old.id))
    assert was is not None and was.revealed_at == second
    new = env.run()
    assert new.id != old.id and new.started_at == second and new.open
    assert next_run_at(env, sid) == datetime(2026, 3, 16, 23, 0, tzinfo=UTC)


async def test_schedule_input_errors_and_permissions(env: Env) -> None:
    bad_day = await env.challenges.schedule(ADA, GROUP, "quad", "someday", "19:00", True)
    assert bad_day.to == "ephemeral" and only(bad_day).kind == "error"
    bad_time = await env.challenges.schedule(ADA, GROUP, "quad", "monday", "7pm", True)
    assert only(bad_time).kind == "error"
    unknown = await env.challenges.schedule(ADA, GROUP, "nope", "monday", "19:00", True)
    assert unknown.to == "ephemeral" and only(unknown).kind == "error"
    refused = await env.challenges.schedule(BEN, GROUP, "quad", "monday", "19:00", False)
    assert only(refused).kind == "error"
    assert env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", GROUP)) == []


async def test_unschedule(env: Env) -> None:
    await env.challenges.schedule(ADA, GROUP, "quad", "monday", "19:00", True)
    await env.challenges.schedule(ADA, GROUP, "why", "friday", "18:00", True)
    await env.challenges.schedule(ADA, "-999", "quad", "monday", "19:00", True)

    refused = await env.challenges.unschedule(BEN, GROUP, None, is_admin=False)
    assert only(refused).kind == "error"
    one = await env.challenges.unschedule(ADA, GROUP, "why", is_admin=True)
    assert "Removed 1 weekly challenge." in only(one).text
    (left,) = env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", GROUP))
    assert left.challenge_id == "quad"
    rest = await env.challenges.unschedule(ADA, GROUP, None, is_admin=True)
    assert "Removed 1 weekly challenge" in only(rest).text
    nothing = await env.challenges.unschedule(ADA, GROUP, None, is_admin=True)
    assert "Nothing was scheduled here." in only(nothing).text
    assert len(env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", "-999"))) == 1

    # Nothing fires in the group any more.
    env.clock.set(START + timedelta(days=8))
    effects = await env.sweep()
    assert [a.chat_id for a in starts(effects)] == ["-999"]


def test_next_weekly_and_weekday_names() -> None:
    after = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)  # Monday 13:00 in New York
    assert next_weekly(0, time(19, 0), NY, after) == datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    assert next_weekly(0, time(13, 0), NY, after) == datetime(2026, 3, 9, 17, 0, tzinfo=UTC)
    assert [parse_weekday(t) for t in ("mon", "Sunday", " fri ", "mo", "x")] == [
        0,
        6,
        4,
        None,
        None,
    ]
