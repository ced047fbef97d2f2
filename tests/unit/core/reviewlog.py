"""Review-log entries for the tests of true retention, calibration and the workload inputs."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.model import CardState, CardStateKind, ReviewEntry, ReviewSource


def logged(
    at: datetime,
    rating: int,
    *,
    state: CardStateKind = CardStateKind.REVIEW,
    interval: float = 10.0,
    elapsed: float | None = None,
    stability: float | None = 10.0,
    source: str = ReviewSource.DM,
    undone: bool = False,
    duration_ms: int | None = None,
    card: str = "c",
) -> ReviewEntry:
    """A review at ``at`` of a card in ``state`` whose last review was ``elapsed`` days
    before (``interval`` when None) and whose scheduled interval was ``interval`` days."""
    last = at - timedelta(days=interval if elapsed is None else elapsed)
    if state is CardStateKind.NEW:
        before = CardState(1, card)
    else:
        before = CardState(
            1,
            card,
            state=state,
            stability=stability,
            difficulty=5.0,
            due=last + timedelta(days=interval),
            last_review=last,
            reps=3,
        )
    after = CardState(
        1,
        card,
        state=CardStateKind.REVIEW,
        stability=12.0,
        difficulty=5.0,
        due=at + timedelta(days=12),
        last_review=at,
        reps=4,
    )
    return ReviewEntry(
        learner_id=1,
        card_id=card,
        rating=rating,
        reviewed_at=at,
        source=source,
        before=before,
        after=after,
        duration_ms=duration_ms,
        undone_at=at + timedelta(minutes=1) if undone else None,
    )
