"""Small builders shared by the contract tests (everything goes through the ports)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.core.decks import Deck
from bot.core.model import CardState, CardStateKind, Learner, LearnerSettings
from bot.core.ports import Database, Tx
from tests.fakes.decks import make_deck

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


async def add_learner(
    db: Database,
    user: str = "1",
    *,
    platform: str = "tg",
    name: str = "Ann",
    settings: LearnerSettings | None = None,
    topics: Sequence[str] = (),
    now: datetime = T0,
) -> Learner:
    """Enrol a learner (default settings) and return them as created."""
    chosen = settings or LearnerSettings()
    return await db.run(lambda tx: tx.learners.create(platform, user, name, chosen, topics, now))


async def sync(db: Database, *decks: Deck, now: datetime = T0) -> None:
    """Sync these decks into the catalogue."""
    await db.run(lambda tx: tx.catalogue.sync(decks, now))


async def one_deck(db: Database, *card_ids: str, deck_id: str = "d") -> None:
    """Sync one deck of plain cards with these ids (in this order)."""
    await sync(db, make_deck(deck_id, card_ids))


def review_state(
    learner_id: int,
    card_id: str,
    due: datetime,
    *,
    suspended: bool = False,
    buried_until: datetime | None = None,
    leech: bool = False,
) -> CardState:
    """A card in review, last reviewed five days before ``T0``."""
    return CardState(
        learner_id,
        card_id,
        CardStateKind.REVIEW,
        None,
        5.0,
        5.0,
        due,
        T0 - 5 * DAY,
        3,
        0,
        suspended,
        leech,
        buried_until,
    )


async def save_states(db: Database, *states: CardState) -> None:
    """Store these card states in one unit of work."""

    def work(tx: Tx) -> None:
        for state in states:
            tx.schedule.save(state)

    await db.run(work)
