"""A learner with a review history, studied day by day through the core (for exports)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.decks import Deck
from bot.core.learners import Who
from bot.core.model import ReviewSource
from bot.core.ports import Tx
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_card, make_deck
from tests.services import Services, build_services, button, only

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ALICE = Who("telegram", "100", "Alice")
#: The rating given on each review, in turn (mostly Good, some Again and Easy).
RATINGS = (3, 3, 1, 3, 4, 3, 2, 3)


def decks(cards: int = 6) -> list[Deck]:
    half = cards // 2
    return [
        make_deck(
            "attention",
            [
                make_card(
                    f"a{i}",
                    front=f"What is $q_{i} \\cdot k$?",
                    back=f"The score $$\\frac{{q k^T}}{{\\sqrt{{d_k}}}}$$ of **pair** {i} <x>",
                    mnemonic="dot then scale" if i == 0 else None,
                    tags=("maths",),
                )
                for i in range(half)
            ],
            title="Attention",
        ),
        make_deck("transformers", [f"t{i}" for i in range(cards - half)], title="Transformers"),
    ]


async def study(services: Services[Any], days: int, who: Who = ALICE) -> None:
    """Study every due card each day for ``days`` days, then one practice (/cram) review
    and one undone review, which an export leaves out."""
    turn = 0
    for _ in range(days):
        while True:
            front = only(await services.study.next(who))
            if front.kind != "front":
                break
            back = (await services.press(who, button(front, "Show answer").payload)).edit
            assert back is not None
            rating = RATINGS[turn % len(RATINGS)]
            turn += 1
            await services.press(who, back.all_buttons()[rating - 1].payload)
            services.clock.advance(timedelta(minutes=2))
        services.clock.set(services.clock.now().replace(hour=14, minute=0) + timedelta(days=1))
    cram = only(await services.study.cram(who, "attention"))
    back = (await services.press(who, button(cram, "Show answer").payload)).edit
    assert back is not None
    await services.press(who, back.all_buttons()[2].payload)
    front = only(await services.study.next(who))
    if front.kind == "front":
        back = (await services.press(who, button(front, "Show answer").payload)).edit
        assert back is not None
        await services.press(who, back.all_buttons()[2].payload)
        await services.study.undo(who)


def learner_services(cards: int = 6) -> Services[FakeDatabase]:
    clock = FixedClock(START)
    db = FakeDatabase(decks(cards), now=START - timedelta(days=1))
    return build_services(db, clock, topics=("attention", "transformers"))


def counted(tx: Tx, learner_id: int) -> tuple[int, int]:
    """(reviews that count, all reviews) in the log."""
    log = tx.reviews.all_for(learner_id)
    kept = [e for e in log if e.undone_at is None and e.source != ReviewSource.CRAM]
    return len(kept), len(log)
