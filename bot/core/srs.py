"""FSRS scheduling: one learner's scheduler, reviews, interval previews, local days.

Pure functions over :class:`~bot.core.model.CardState`; the ``fsrs`` package
does the maths. Schedulers are cached per settings, since learners share
most settings.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS

from bot.core.model import RATING_NAMES, CardState, CardStateKind, LearnerSettings

_FSRS_CARD_ID = 1  # fsrs wants an int id; ours are strings. Passing one avoids its 1 ms sleep.


@lru_cache(maxsize=256)
def _scheduler(
    parameters: tuple[float, ...] | None,
    desired_retention: float,
    learning_steps: tuple[timedelta, ...],
    relearning_steps: tuple[timedelta, ...],
    maximum_interval: int,
    enable_fuzzing: bool,
) -> Scheduler:
    return Scheduler(
        parameters=parameters if parameters is not None else DEFAULT_PARAMETERS,
        desired_retention=desired_retention,
        learning_steps=learning_steps,
        relearning_steps=relearning_steps,
        maximum_interval=maximum_interval,
        enable_fuzzing=enable_fuzzing,
    )


def scheduler_for(settings: LearnerSettings, *, fuzz: bool | None = None) -> Scheduler:
    """The FSRS scheduler for a learner's settings (cached)."""
    return _scheduler(
        settings.fsrs_parameters,
        settings.desired_retention,
        settings.learning_steps,
        settings.relearning_steps,
        settings.maximum_interval_days,
        settings.enable_fuzzing if fuzz is None else fuzz,
    )


def _to_fsrs(state: CardState, now: datetime) -> Card:
    if state.is_new:
        return Card(card_id=_FSRS_CARD_ID, due=now)
    return Card(
        card_id=_FSRS_CARD_ID,
        state=State(int(state.state)),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due or now,
        last_review=state.last_review,
    )


def review(
    state: CardState,
    rating: int,
    now: datetime,
    settings: LearnerSettings,
) -> CardState:
    """Apply one rating to a card state and return the new state.

    Counts repetitions and lapses (an Again on a card in Review) and marks a
    card a leech, suspending it, when its lapses reach the learner's threshold.
    Fuzz (when the settings enable it) uses the global ``random``, as fsrs does.
    """
    if rating not in RATING_NAMES:
        raise ValueError(f"rating must be 1-4, got {rating}")
    card, _ = scheduler_for(settings).review_card(_to_fsrs(state, now), Rating(rating), now)
    lapsed = rating == 1 and state.state is CardStateKind.REVIEW
    lapses = state.lapses + lapsed
    # A leech at the threshold, and again every half-threshold lapses after it (as Anki does).
    threshold = settings.leech_threshold
    becomes_leech = (
        lapsed and lapses >= threshold and (lapses - threshold) % max(1, threshold // 2) == 0
    )
    return replace(
        state,
        state=CardStateKind(int(card.state)),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=card.due,
        last_review=card.last_review,
        reps=state.reps + 1,
        lapses=lapses,
        leech=state.leech or becomes_leech,
        suspended=state.suspended or becomes_leech,
        buried_until=None,
    )


def preview(state: CardState, now: datetime, settings: LearnerSettings) -> dict[int, timedelta]:
    """The interval each rating would give now (without fuzz, so it is stable)."""
    sched = scheduler_for(settings, fuzz=False)
    card = _to_fsrs(state, now)
    out: dict[int, timedelta] = {}
    for rating in (1, 2, 3, 4):
        nxt, _ = sched.review_card(card, Rating(rating), now)
        out[rating] = nxt.due - now
    return out


def format_interval(delta: timedelta) -> str:
    """Short human interval: 45s, 1m, 10m, 3h, 4d, 2mo, 1.5y."""
    seconds = max(0, round(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    hours = round(seconds / 3600)
    if hours < 24:
        return f"{hours}h"
    days = round(seconds / 86400)
    if days < 31:
        return f"{days}d"
    if days < 365:
        return f"{days / 30.44:.1f}".rstrip("0").rstrip(".") + "mo"
    return f"{days / 365.25:.1f}".rstrip("0").rstrip(".") + "y"


def local_date(now: datetime, tz: str) -> date:
    """The learner's calendar date at ``now``."""
    return now.astimezone(ZoneInfo(tz)).date()


def day_start(now: datetime, tz: str) -> datetime:
    """The UTC instant the learner's local day containing ``now`` began."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    start = datetime.combine(local.date(), time(0), tzinfo=zone)
    return start.astimezone(UTC)


def next_day_start(now: datetime, tz: str) -> datetime:
    """The UTC instant the learner's next local day begins (handles DST)."""
    zone = ZoneInfo(tz)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=zone).astimezone(UTC)


def retrievability(state: CardState, now: datetime, settings: LearnerSettings) -> float:
    """Probability the learner recalls the card now (0 for a card never studied)."""
    if state.is_new or state.stability is None or state.last_review is None:
        return 0.0
    return float(scheduler_for(settings).get_card_retrievability(_to_fsrs(state, now), now))
