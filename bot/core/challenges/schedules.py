"""Weekly challenges: a group's challenge at a local weekday and time, each week once."""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.challenges.definitions import ChallengeDef
from bot.core.challenges.groups import ChallengeCatalog, group_settings, may_run, refused
from bot.core.challenges.runs import announce_start
from bot.core.localtime import local_instant
from bot.core.messages import Announcement, Reply
from bot.core.model import ChallengeRun, ChallengeSchedule, Learner
from bot.core.ports import TokenSource, Tx

log = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def next_weekly(weekday: int, at: time, tz: str, after: datetime) -> datetime:
    """The first local ``weekday`` at ``at`` strictly after ``after`` (DST-safe)."""
    zone = ZoneInfo(tz)
    day = after.astimezone(zone).date()
    for offset in range(15):
        d = day + timedelta(days=offset)
        if d.weekday() != weekday:
            continue
        instant = local_instant(d, at, zone)
        if instant > after:
            return instant
    raise AssertionError("unreachable: a weekday comes every 7 days")  # pragma: no cover


def parse_weekday(text: str) -> int | None:
    """A weekday from its name or the first three letters or more (0 = Monday)."""
    t = text.strip().lower()
    for i, name in enumerate(WEEKDAYS):
        if len(t) >= 3 and name.startswith(t):
            return i
    return None


def set_schedule(
    tx: Tx,
    learner: Learner,
    chat_id: str,
    challenge: ChallengeDef,
    weekday_text: str,
    at_text: str,
    is_admin: bool,
    now: datetime,
    default_tz: str,
) -> Reply:
    """Run ``challenge`` in this group every week at a local weekday and time."""
    group = group_settings(tx, learner.platform, chat_id, default_tz)
    if not may_run(group, is_admin, learner.id, None):
        return refused("schedule")
    weekday = parse_weekday(weekday_text)
    if weekday is None:
        return Reply("error", "Give a weekday, for example: /challenge schedule <id> monday 19:00")
    try:
        hh, mm = at_text.split(":")
        at = time(int(hh), int(mm))
    except ValueError:
        return Reply("error", "Give the time as HH:MM, for example 19:00.")
    nxt = next_weekly(weekday, at, group.timezone, now)
    tx.challenges.add_schedule(
        ChallengeSchedule(
            0, learner.platform, chat_id, challenge.id, weekday, at, group.timezone, nxt
        )
    )
    local = nxt.astimezone(ZoneInfo(group.timezone))
    return Reply(
        "info",
        f"Every {WEEKDAYS[weekday].title()} at {at.strftime('%H:%M')} ({group.timezone}): "
        f"{challenge.title}. First on {local.strftime('%a %d %b %H:%M')}. "
        "/challenge unschedule stops it.",
    )


def unschedule(
    tx: Tx,
    learner: Learner,
    chat_id: str,
    challenge_id: str | None,
    is_admin: bool,
    default_tz: str,
) -> Reply:
    """Stop one weekly challenge in this group, or all of them (``challenge_id`` None)."""
    group = group_settings(tx, learner.platform, chat_id, default_tz)
    if not may_run(group, is_admin, learner.id, None):
        return refused("unschedule")
    wanted = challenge_id.strip().lower() if challenge_id else None
    count = tx.challenges.delete_schedules(learner.platform, chat_id, wanted)
    if count == 0:
        return Reply("info", "Nothing was scheduled here.")
    return Reply("info", f"Removed {count} weekly challenge{'s' if count != 1 else ''}.")


def fire_schedules(
    tx: Tx, now: datetime, catalog: ChallengeCatalog, tokens: TokenSource
) -> list[Announcement]:
    """Start every weekly challenge that is due (each once), and move it to next week."""
    started: list[Announcement] = []
    for s in tx.challenges.claim_schedules(now, 100):
        tx.challenges.set_schedule_next(s.id, next_weekly(s.weekday, s.at, s.timezone, now))
        challenge = catalog.get(s.challenge_id)
        if challenge is None:
            log.warning("schedule %s names an unknown challenge %s", s.id, s.challenge_id)
            continue
        if tx.challenges.open_run(s.platform, s.chat_id) is not None:
            continue  # one at a time; this week's is skipped
        length = s.minutes or challenge.minutes
        run = tx.challenges.add_run(
            ChallengeRun(
                0,
                tokens(),
                s.platform,
                s.chat_id,
                challenge.id,
                now,
                now + timedelta(minutes=length),
            )
        )
        started.append(
            Announcement(s.platform, s.chat_id, announce_start(run, challenge, s.timezone))
        )
    return started
