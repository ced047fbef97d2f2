"""An exam date: which cards it covers, and the latest a card of it may come back.

Pure functions. A learner's exam (``LearnerSettings.exam_date``, ``exam_topic``,
``exam_target``) is on a local date and taken at the start of that local day.
Until then, a card the exam covers whose predicted recall at the exam would be
below the target is brought back early enough that a successful review then
gives recall at least the target at the exam (:func:`exam_due`);
:func:`bot.core.srs._scheduled` takes the earlier of that and the normal due,
after fuzz, so it only ever shortens an interval.

Which day: recall at the exam after a Good review at ``d``,
``R(exam - d; S'(d))``, only grows with ``d`` (a later review leaves less time
to forget and, its recall being lower, raises stability more), so the days on
which a Good review holds until the exam are one run ending at the exam. A
learner reviews in daily sessions, so the last day it can be due is the start of
the day before the exam. Sending every such card to that one day piles them up
(12 cards of a topic, target 0.95: 8 of them on that day); so the card is due at
the start of one of the last :data:`SPREAD_DAYS` days before the exam on which a
Good still holds, picked by the review's fuzz factor, which spreads a topic's
cards over that week (the same 12 cards: at most 3 on any day) and keeps the
preview on the buttons what the rating gives. A card so weak that even a review
on the last day would not hold until the exam (or one rated on that last day)
comes back when its recall falls to the target, again and again until it holds.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from fsrs import Card, Rating, Scheduler, State

from bot.core.model import CardInfo, CardState, LearnerSettings
from bot.text.excerpt import excerpt

__all__ = [
    "DEFAULT_TARGET",
    "MAX_TARGET",
    "MIN_TARGET",
    "ExamInputError",
    "ahead",
    "check_future",
    "covers",
    "exam_due",
    "exam_instant",
    "in_topic",
    "parse_date",
    "parse_target",
    "recall",
    "recall_at",
    "review_days",
    "split_date",
]

DEFAULT_TARGET = 0.9
#: The days before the exam over which the last review of its cards is spread.
SPREAD_DAYS = 7
MIN_TARGET = 0.7
MAX_TARGET = 0.99

_DAY = 86400.0


def exam_instant(day: date, tz: str) -> datetime:
    """The UTC instant the exam's local day begins: when the exam is taken."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def review_days(day: date, tz: str) -> list[datetime]:
    """The UTC instants the last :data:`SPREAD_DAYS` local days before the exam begin,
    the latest first (each a local midnight, whatever clock change lies between)."""
    return [exam_instant(day - timedelta(days=1 + back), tz) for back in range(SPREAD_DAYS)]


def ahead(settings: LearnerSettings, now: datetime) -> bool:
    """Whether the learner has an exam still to come at ``now``."""
    day = settings.exam_date
    return day is not None and now < exam_instant(day, settings.timezone)


def in_topic(card: CardInfo, topic: str) -> bool:
    """Whether a card is in a topic: its deck's id, or one of its tags (as /decks topics)."""
    return card.deck_id == topic or topic in card.tags


def covers(settings: LearnerSettings, topics: Sequence[str], card: CardInfo) -> bool:
    """Whether the learner's exam covers this card.

    Its topic when it has one; else every card the learner studies (their
    /decks topics, or every card when they chose none). No exam covers nothing.
    """
    if settings.exam_date is None:
        return False
    if settings.exam_topic is not None:
        return in_topic(card, settings.exam_topic)
    return not topics or any(in_topic(card, t) for t in topics)


def recall(elapsed: timedelta, stability: float, scheduler: Scheduler) -> float:
    """FSRS's forgetting curve: recall after ``elapsed`` for a memory of ``stability`` days.

    Elapsed time counts in fractions of a day (fsrs rounds it down to whole
    days), so a prediction here is never kinder than fsrs's own.
    """
    days = max(0.0, elapsed.total_seconds() / _DAY)
    decay: float = scheduler._DECAY
    factor: float = scheduler._FACTOR
    return float((1 + factor * days / max(stability, 1e-6)) ** decay)


def recall_at(state: CardState, when: datetime, scheduler: Scheduler) -> float:
    """A card's predicted recall at ``when`` if it is not reviewed before (0: never studied)."""
    if state.is_new or state.stability is None or state.last_review is None:
        return 0.0
    return recall(when - state.last_review, state.stability, scheduler)


def _stability_after_good(
    stability: float, difficulty: float, reviewed_at: datetime, at: datetime, scheduler: Scheduler
) -> float:
    """The stability a Good review at ``at`` gives a memory last reviewed at ``reviewed_at``."""
    card = Card(
        card_id=1,
        state=State.Review,
        stability=stability,
        difficulty=difficulty,
        due=at,
        last_review=reviewed_at,
    )
    after, _ = scheduler.review_card(card, Rating.Good, at)
    return float(after.stability if after.stability is not None else stability)


def exam_due(
    stability: float,
    difficulty: float,
    reviewed_at: datetime,
    exam_at: datetime,
    days: Sequence[datetime],
    target: float,
    scheduler: Scheduler,
    factor: float = 0.0,
) -> datetime | None:
    """The latest a card just reviewed may fall due for the exam, or None if it needs nothing.

    Args:
        stability: the card's stability after this rating (days).
        difficulty: its difficulty after this rating.
        reviewed_at: the review's instant.
        exam_at: when the exam is taken (:func:`exam_instant`).
        days: the starts of the last days before it, the latest first (:func:`review_days`).
        target: the recall wanted at the exam.
        scheduler: the learner's FSRS scheduler (parameters).
        factor: in [0, 1), the review's fuzz factor: which of the days that work it
            picks (0 the last one).

    Returns:
        None when the exam is not ahead or the card's recall at the exam, left
        alone, is already at least ``target``. Otherwise the start of one of
        ``days`` after ``reviewed_at`` on which a Good review gives recall at
        least ``target`` at the exam; or, when none does (a very weak memory) or
        the last day has begun, the instant its recall falls to ``target``, so
        that the card comes back, as often as needed, until a review holds.
        Always before ``exam_at`` and after ``reviewed_at``.
    """
    if reviewed_at >= exam_at:
        return None
    if recall(exam_at - reviewed_at, stability, scheduler) >= target:
        return None

    def holds(day: datetime) -> bool:
        s_after = _stability_after_good(stability, difficulty, reviewed_at, day, scheduler)
        return recall(exam_at - day, s_after, scheduler) >= target

    working: list[datetime] = []
    for day in days:
        if day <= reviewed_at or not holds(day):
            break  # the days that hold are one run ending at the last day
        working.append(day)
    if working:
        return working[min(int(factor * len(working)), len(working) - 1)]
    return reviewed_at + _until_recall(stability, target, scheduler)


def _until_recall(stability: float, target: float, scheduler: Scheduler) -> timedelta:
    """How long until a memory of ``stability`` days falls to recall ``target``."""
    decay: float = scheduler._DECAY
    factor: float = scheduler._FACTOR
    days = stability / factor * (target ** (1 / decay) - 1)
    return max(timedelta(minutes=1), timedelta(days=days))


# --------------------------------------------------------------------------- input


class ExamInputError(ValueError):
    """A date or target the learner typed that cannot be used; the message says why."""


DATE_EXAMPLES = "2027-01-15, 15 Jan 2027, Jan 15, tomorrow or in 3 weeks"
_MONTHS = {
    name: i + 1
    for i, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        )
    )
    for name in names
}
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DAY_MONTH = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\s+([a-z]+)\.?(?:,?\s+(\d{4}))?")
_MONTH_DAY = re.compile(r"([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(\d{4}))?")
_IN = re.compile(r"in\s+(\d{1,3})\s+(day|days|week|weeks)")


def _calendar(year: int, month: int, day: int) -> date:
    """The date, or why there is none ("There is no 30 Feb 2027")."""
    try:
        return date(year, month, day)
    except ValueError:
        month_name = date(2000, month, 1).strftime("%b") if 1 <= month <= 12 else None
        if month_name is None:
            raise ExamInputError(
                f"There is no month {month}: give a date such as 2027-01-15."
            ) from None
        raise ExamInputError(
            f"There is no {day} {month_name} {year}: give a date that exists."
        ) from None


def _read_date(text: str, today: date) -> date | None:
    """A date from ``text`` (lower case, one space between words), or None."""
    if text == "tomorrow":
        return today + timedelta(days=1)
    if m := _IN.fullmatch(text):
        n = int(m.group(1))
        return today + timedelta(days=n * (7 if m.group(2).startswith("week") else 1))
    if m := _ISO.fullmatch(text):
        return _calendar(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    for pattern, day_at, month_at in ((_DAY_MONTH, 1, 2), (_MONTH_DAY, 2, 1)):
        if (m := pattern.fullmatch(text)) is None:
            continue
        month = _MONTHS.get(m.group(month_at))
        if month is None:
            return None
        day = int(m.group(day_at))
        if m.group(3) is not None:
            return _calendar(int(m.group(3)), month, day)
        # No year: the next such day (a 29 February, in the next leap year).
        for year in range(today.year, today.year + 9):
            with contextlib.suppress(ExamInputError):
                if (found := _calendar(year, month, day)) > today:
                    return found
        raise ExamInputError(
            f"There is no {day} {date(2000, month, 1):%b}: give a date that exists."
        )
    return None


def split_date(words: Sequence[str], today: date) -> tuple[date, list[str]] | None:
    """The longest start of ``words`` that reads as a date, and the words after it."""
    for n in range(min(len(words), 3), 0, -1):
        found = _read_date(" ".join(words[:n]).lower(), today)
        if found is not None:
            return found, list(words[n:])
    return None


def parse_date(text: str, today: date) -> date:
    """A future local date from what the learner typed (the whole text is the date).

    Raises:
        ExamInputError: not a date, a date that does not exist, or not after ``today``.
    """
    found = split_date(text.split(), today)
    if found is None or found[1]:
        raise ExamInputError(f"I couldn't read “{excerpt(text)}” as a date. Try {DATE_EXAMPLES}.")
    return check_future(found[0], today)


def check_future(day: date, today: date) -> date:
    """``day`` if it is after ``today``; else why it cannot be an exam date."""
    if day < today:
        raise ExamInputError(
            f"{day:%a %d %b %Y} has passed. Give a date after today ({today:%a %d %b})."
        )
    if day == today:
        raise ExamInputError(
            "That's today: the exam counts from the start of its day, so there is no "
            "time left to schedule for it. Give a date after today."
        )
    return day


def parse_target(text: str) -> float:
    """The recall wanted at the exam: ``0.85``, ``85`` or ``85%``.

    Raises:
        ExamInputError: not a number, or outside :data:`MIN_TARGET`..:data:`MAX_TARGET`.
    """
    value = text.strip()
    try:
        number = float(value.rstrip("%").strip())
    except ValueError:
        number = -1.0
    if value.endswith("%") or number > 1:
        number /= 100
    if not MIN_TARGET <= number <= MAX_TARGET:
        raise ExamInputError(
            f"A target is the recall you want on the day, from {MIN_TARGET:.0%} to "
            f"{MAX_TARGET:.0%}: for example /exam target 0.85 (or 85%)."
        )
    return round(number, 4)
