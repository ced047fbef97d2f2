"""Tests for bot.core.study: the study loop over in-memory fakes, with a fixed clock.

Buttons are pressed the way every adapter presses them, through
``Inputs.press``; commands are the service's methods. Both return an Outcome.
"""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card, Rating, Scheduler

from bot.core import srs
from bot.core.actions import Action, decode
from bot.core.calibration import Calibration
from bot.core.decks import Deck
from bot.core.learners import Who
from bot.core.messages import Reply, StatsChart
from bot.core.model import (
    RATING_NAMES,
    CardState,
    CardStateKind,
    Learner,
    ReviewEntry,
    ReviewSource,
)
from bot.core.outcomes import Outcome
from bot.core.ports import Tx
from bot.core.stats import StudyStats
from bot.core.study import EXPORT_FILE, NO_DECKS_TEXT, RETENTION_COSTS, StudyService
from bot.core.workload import RETENTIONS, RetentionCosts
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_card, make_deck
from tests.fakes.tokens import SequentialTokens
from tests.services import SETTINGS, Services, action_of, build_services, button, is_expired, only

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 2 March 2026, 14:00 UTC
ALICE = Who("telegram", "100", "Alice")
BOB = Who("telegram", "200", "Bob")


def default_decks() -> list[Deck]:
    return [
        make_deck(
            "attention",
            [make_card("a1"), make_card("a2", tags=["softmax"]), make_card("a3")],
            title="Attention",
        ),
        make_deck(
            "transformers",
            [make_card("t1"), make_card("t2", tags=["softmax", "layers"])],
            title="Transformers",
        ),
    ]


@dataclass
class Env:
    services: Services[FakeDatabase]

    @property
    def db(self) -> FakeDatabase:
        return self.services.db

    @property
    def clock(self) -> FixedClock:
        return self.services.clock

    @property
    def tokens(self) -> SequentialTokens:
        return self.services.tokens

    @property
    def service(self) -> StudyService:
        return self.services.study

    async def press(self, who: Who, payload: str, typed_answer: str | None = None) -> Outcome:
        return await self.services.press(who, payload, typed_answer)

    async def next(self, who: Who = ALICE, source: str = ReviewSource.DM) -> Reply:
        return only(await self.service.next(who, source))

    async def learner(self, who: Who = ALICE) -> Learner:
        return await self.service.learner(who)

    async def learner_id(self, who: Who = ALICE) -> int:
        return (await self.learner(who)).id

    async def stats(self, who: Who = ALICE) -> StatsChart:
        reply = (await self.service.stats(who)).replies[0]
        assert reply.kind == "stats" and isinstance(reply.figure, StatsChart)
        return reply.figure

    def seed(self, state: CardState) -> None:
        self.db.run_sync(lambda tx: tx.schedule.save(state))


def make_env(
    decks: list[Deck] | None = None,
    *,
    start: datetime = START,
    topics: tuple[str, ...] = (),
    **settings: object,
) -> Env:
    clock = FixedClock(start)
    db = FakeDatabase(default_decks() if decks is None else decks, now=start - timedelta(days=1))
    defaults = replace(SETTINGS, **settings)  # type: ignore[arg-type]
    return Env(build_services(db, clock, settings=defaults, topics=topics))


@pytest.fixture
def env() -> Env:
    return make_env()


def one_card_env(**settings: object) -> Env:
    return make_env([make_deck("solo", [make_card("c1")], title="Solo")], **settings)  # type: ignore[arg-type]


def token_of(reply: Reply) -> str:
    return action_of(button(reply, "Show answer").payload).token


async def reveal(env: Env, front: Reply, who: Who = ALICE) -> Reply:
    """Press "Show answer": the front becomes the back, in place."""
    assert front.kind == "front", front
    outcome = await env.press(who, button(front, "Show answer").payload)
    assert outcome.edit is not None and outcome.edit.kind == "back", outcome
    assert outcome.replies == () and outcome.close is None
    return outcome.edit


def rate_payload(back: Reply, rating: int) -> str:
    buttons = back.all_buttons()
    assert len(buttons) == 4
    return buttons[rating - 1].payload


async def rate(env: Env, front: Reply, rating: int, who: Who = ALICE) -> Outcome:
    """Reveal the card on ``front`` and rate it; returns the rating's outcome."""
    back = await reveal(env, front, who)
    return await env.press(who, rate_payload(back, rating))


async def study(env: Env, front: Reply, rating: int, who: Who = ALICE) -> Reply:
    """Reveal and rate the card on ``front``; returns what follows (the next card, or the
    day's summary) after checking the tapped card is closed with the rating's note."""
    outcome = await rate(env, front, rating, who)
    note = outcome.close
    assert note is not None and RATING_NOTE.match(note), outcome
    return only(outcome)


#: "Good: see it again in 8d." or, for a card that comes straight back, "Good: due again in 10m."
RATING_NOTE = re.compile(r"(Again|Hard|Good|Easy): (see it|due) again in \d")


def review_state(learner_id: int, card_id: str, due: datetime, **kw: object) -> CardState:
    base = CardState(
        learner_id=learner_id,
        card_id=card_id,
        state=CardStateKind.REVIEW,
        step=None,
        stability=12.5,
        difficulty=5.25,
        due=due,
        last_review=due - timedelta(days=12),
        reps=6,
        lapses=1,
    )
    return replace(base, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- learners and cards


async def test_first_contact_creates_learner_with_defaults() -> None:
    env = make_env(topics=("attention",), timezone="Europe/Paris")
    learner = await env.learner()
    assert learner.platform == "telegram"
    assert learner.platform_user_id == "100"
    assert learner.display_name == "Alice"
    assert learner.created_at == START
    assert learner.settings == replace(SETTINGS, timezone="Europe/Paris")
    assert learner.topics == ("attention",)

    env.clock.advance(timedelta(hours=1))
    again = await env.learner()
    assert again == learner
    assert len(env.db.store.learners) == 1

    anonymous = await env.service.learner(Who("discord", "42"))
    assert anonymous.display_name == "42"
    assert anonymous.id != learner.id


async def test_a_private_chat_named_by_the_platform_is_remembered(env: Env) -> None:
    """``Who.dm_channel`` is stored when it changed (one write), and kept when not given."""
    learner = await env.learner(replace(ALICE, dm_channel="dm-1"))
    assert learner.dm_channel_id == "dm-1"
    commits = env.db.commits
    await env.learner(replace(ALICE, dm_channel="dm-1"))
    assert env.db.store.learners[learner.id].dm_channel_id == "dm-1"
    await env.learner(ALICE)  # from a group: no private chat named
    assert env.db.store.learners[learner.id].dm_channel_id == "dm-1"
    await env.learner(replace(ALICE, dm_channel="dm-2"))
    assert env.db.store.learners[learner.id].dm_channel_id == "dm-2"
    assert env.db.commits - commits == 3


async def test_next_gives_a_front_with_show_answer(env: Env) -> None:
    outcome = await env.service.next(ALICE)
    assert outcome.to == "chat" and outcome.notice == "" and outcome.edit is None
    reply = only(outcome)
    assert reply.kind == "front"
    assert reply.card is not None
    assert reply.card.card_id == "a1"
    assert reply.card.deck_title == "Attention"
    assert reply.card.front == "Front of a1"
    assert reply.card.back is None
    show = button(reply, "Show answer")
    assert decode(show.payload) == Action("reveal", "t0000001")
    assert (show.action, show.style) == ("reveal", "primary")
    assert decode(button(reply, "Bury").payload) == Action("bury", "t0000001")
    assert decode(button(reply, "Suspend").payload) == Action("suspend", "t0000001")
    prompt = env.db.prompt("t0000001")
    assert prompt is not None
    assert prompt.card_id == "a1"
    assert prompt.created_at == START
    assert prompt.source == "dm"
    assert prompt.learner_id == await env.learner_id()


async def test_reveal_shows_back_and_four_ratings_with_intervals(env: Env) -> None:
    front = await env.next()
    back = await reveal(env, front)
    assert back.card is not None
    assert back.card.back == "Back of a1"
    assert back.card.front == "Front of a1"

    sched = Scheduler(enable_fuzzing=False)
    easy, _ = sched.review_card(Card(card_id=1, due=START), Rating.Easy, START)
    easy_label = f"Easy {srs.format_interval(easy.due - START)}"
    labels = [b.label for b in back.all_buttons()]
    assert labels == ["Again 1m", "Hard 6m", "Good 10m", easy_label]
    assert easy_label == "Easy 8d"
    assert [decode(b.payload) for b in back.all_buttons()] == [
        Action("rate", "t0000001", r) for r in (1, 2, 3, 4)
    ]
    assert [b.action for b in back.all_buttons()] == ["rate"] * 4
    assert [b.style for b in back.all_buttons()] == ["danger", "primary", "primary", "primary"]
    row = " · ".join(b.label for b in back.all_buttons())
    assert row == f"Again 1m · Hard 6m · Good 10m · {easy_label}"
    # Revealing changes no schedule.
    assert not env.db.has_state(await env.learner_id(), "a1")


async def test_reveal_twice_keeps_first_reveal_time(env: Env) -> None:
    front = await env.next()
    await reveal(env, front)
    env.clock.advance(timedelta(seconds=30))
    again = await reveal(env, front)
    assert again.kind == "back"
    prompt = env.db.prompt(token_of(front))
    assert prompt is not None
    assert prompt.revealed_at == START


# --------------------------------------------------------------------------- rating


async def test_rating_writes_one_review_entry_and_returns_next_card(env: Env) -> None:
    lid = await env.learner_id()
    front = await env.next()
    env.clock.advance(timedelta(seconds=3))
    back = await reveal(env, front)
    env.clock.advance(timedelta(seconds=4))
    outcome = await env.press(ALICE, rate_payload(back, 3))

    entries = env.db.reviews(lid)
    assert len(entries) == 1
    entry = entries[0]
    assert entry.card_id == "a1"
    assert entry.rating == 3
    assert entry.reviewed_at == START + timedelta(seconds=7)
    assert entry.duration_ms == 7000
    assert entry.source == "dm"
    assert entry.before == CardState(lid, "a1")
    assert entry.after == env.db.state(lid, "a1")
    assert entry.after.state is CardStateKind.LEARNING
    assert entry.after.due == START + timedelta(seconds=7, minutes=10)
    assert entry.undone_at is None

    # The rated card is closed with what the rating did; the next card is a reply of its own.
    # Learn-ahead could show the card before its 10 minutes are up: the note does not promise.
    assert outcome.close == "Good: see it again in 10m, or sooner if nothing else is due."
    assert outcome.edit is None and outcome.notice == "" and outcome.to == "chat"
    reply = only(outcome)
    assert reply.kind == "front"
    assert reply.card is not None and reply.card.card_id == "a2"
    assert reply.text == ""
    assert token_of(reply) != token_of(front)


async def test_a_rating_gives_the_shown_interval_after_the_load_changed() -> None:
    """The reveal balances with the load of that moment and stores what it showed: cards
    falling due on that day meanwhile (another device, a quiz) do not move the rating."""
    deck = make_deck("d", [f"c{n}" for n in range(80)])
    env = make_env([deck], enable_fuzzing=True)
    lid = await env.learner_id()
    settings = (await env.learner()).settings
    env.seed(review_state(lid, "c0", START - timedelta(hours=1), stability=25.0))
    front = await env.next()
    back = await reveal(env, front)
    prompt = env.db.prompt(token_of(front))
    assert prompt is not None and prompt.intervals is not None
    shown = srs.from_seconds(prompt.intervals)
    good_day = START + shown[3]
    for n in range(1, 80):  # the day Good chose fills up
        env.seed(review_state(lid, f"c{n}", good_day + timedelta(minutes=n)))
    fresh = srs.preview(
        env.db.state(lid, "c0"),
        START,
        settings,
        token=prompt.token,
        due_counts=lambda starts: env.db.run_sync(lambda tx: tx.schedule.due_per_day(lid, starts)),
    )
    assert fresh[3] != shown[3]  # balanced now, Good would go elsewhere
    again = await reveal(env, front)
    assert again.all_buttons() == back.all_buttons()  # the stored intervals, not fresh ones
    env.clock.advance(timedelta(minutes=3))
    outcome = await env.press(ALICE, rate_payload(back, 3))
    assert outcome.close is not None and srs.format_interval(shown[3]) in outcome.close
    assert env.db.state(lid, "c0").due == START + timedelta(minutes=3) + shown[3]


async def test_with_fuzzing_each_rating_schedules_what_its_button_showed() -> None:
    """Many ratings, fuzz on: every interval scheduled is the one on the button tapped
    (label and exact value), whatever the delay between reveal and rating."""
    deck = make_deck("d", [f"c{n}" for n in range(24)])
    env = make_env([deck], enable_fuzzing=True, max_reviews_per_day=10_000)
    lid = await env.learner_id()
    settings = (await env.learner()).settings
    for n in range(16):  # cards in Review, from days to months of stability
        due = START - timedelta(hours=n)
        env.seed(review_state(lid, f"c{n}", due, stability=3.0 + 9 * n))
    rng = random.Random(13)
    fuzzed = 0
    for _ in range(300):
        front = await env.next()
        if front.kind == "done":  # on to the next card's due time
            states = [s for (who, _), s in env.db.store.states.items() if who == lid]
            env.clock.set(min(s.due for s in states if s.due is not None and not s.suspended))
            front = await env.next()
        back = await reveal(env, front)
        env.clock.advance(timedelta(seconds=rng.choice([1, 8, 60, 900, 7200])))
        rating = rng.choice([1, 2, 3, 3, 3, 4])
        tapped = back.all_buttons()[rating - 1]
        outcome = await env.press(ALICE, tapped.payload)
        entry = env.db.reviews(lid)[-1]
        assert entry.after.due is not None
        interval = entry.after.due - entry.reviewed_at
        assert tapped.label == f"{RATING_NAMES[rating]} {srs.format_interval(interval)}"
        assert outcome.close is not None
        if env.db.state(lid, entry.card_id).suspended:  # a leech: suspended, not "again in"
            assert "suspended as a leech" in outcome.close
        else:
            assert f"again in {srs.format_interval(interval)}" in outcome.close
        prompt = env.db.prompt(token_of(front))
        assert prompt is not None and prompt.revealed_at is not None
        assert prompt.intervals is not None  # what the reveal showed, stored
        assert interval == srs.from_seconds(prompt.intervals)[rating]
        plain = replace(settings, enable_fuzzing=False)
        fuzzed += interval != srs.preview(entry.before, prompt.revealed_at, plain, token="")[rating]
    assert fuzzed > 50  # the fuzz was on and moved many intervals


@pytest.mark.parametrize(("given", "stored"), [(1234, 1234), (10**9, 600_000), (-5, 0)])
async def test_explicit_duration_is_clamped(env: Env, given: int, stored: int) -> None:
    front = await env.next()
    await env.service.rate(ALICE, token_of(front), 2, duration_ms=given)
    (entry,) = env.db.reviews()
    assert entry.duration_ms == stored


async def test_rate_with_invalid_rating_is_refused(env: Env) -> None:
    front = await env.next()
    before = env.db.snapshot()
    outcome = await env.service.rate(ALICE, token_of(front), 7)
    assert outcome.notice == "A rating is 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy)."
    assert outcome.alert and outcome.close is None and not outcome.replies
    assert env.db.snapshot() == before


async def test_console_source_is_recorded(env: Env) -> None:
    front = await env.next(source=ReviewSource.CONSOLE)
    await study(env, front, 3)
    (entry,) = env.db.reviews()
    assert entry.source == "console"


async def test_due_reviews_come_before_new_cards(env: Env) -> None:
    lid = await env.learner_id()
    env.seed(review_state(lid, "t1", START - timedelta(days=1)))
    env.seed(review_state(lid, "a3", START - timedelta(days=3)))
    env.seed(review_state(lid, "t2", START + timedelta(days=3)))  # not due yet

    first = await env.next()
    assert first.card is not None and first.card.card_id == "a3"  # most overdue first
    second = await study(env, first, 3)
    assert second.card is not None and second.card.card_id == "t1"
    third = await study(env, second, 3)
    assert third.card is not None and third.card.card_id == "a1"  # then new, in deck order
    fourth = await study(env, third, 4)
    assert fourth.card is not None and fourth.card.card_id == "a2"


async def test_suspended_and_retired_cards_are_not_shown(env: Env) -> None:
    lid = await env.learner_id()
    env.seed(review_state(lid, "t1", START - timedelta(days=1), suspended=True))
    env.seed(review_state(lid, "a2", START - timedelta(days=2)))
    # a2 is retired from its deck; its schedule stays but it is no longer shown.
    decks = default_decks()
    decks[0] = replace(decks[0], cards=tuple(c for c in decks[0].cards if c.id != "a2"))
    report = env.db.run_sync(lambda tx: tx.catalogue.sync(decks, START))
    assert report.retired == 1
    reply = await env.next()
    assert reply.card is not None and reply.card.card_id == "a1"
    assert env.db.state(lid, "a2").state is CardStateKind.REVIEW


@pytest.mark.parametrize(
    ("tz", "reset"),
    [
        # 18:00 EST on 2 March is 23:00 UTC; the New York day ends at 05:00 UTC on 3 March.
        ("America/New_York", datetime(2026, 3, 3, 5, 0, tzinfo=UTC)),
        ("UTC", datetime(2026, 3, 3, 0, 0, tzinfo=UTC)),
    ],
)
async def test_new_cards_per_day_resets_at_local_midnight(tz: str, reset: datetime) -> None:
    env = make_env(start=datetime(2026, 3, 2, 23, 0, tzinfo=UTC), timezone=tz, new_cards_per_day=2)
    reply = await env.next()
    reply = await study(env, reply, 4)
    reply = await study(env, reply, 4)
    assert reply.kind == "done"
    assert (await env.next()).kind == "done"

    env.clock.set(reset - timedelta(minutes=1))
    assert (await env.next()).kind == "done"

    env.clock.set(reset)
    reply = await env.next()
    assert reply.kind == "front"
    assert reply.card is not None and reply.card.card_id == "a3"


async def test_new_york_limit_does_not_reset_at_utc_midnight() -> None:
    env = make_env(
        start=datetime(2026, 3, 2, 23, 0, tzinfo=UTC),  # 18:00 in New York
        timezone="America/New_York",
        new_cards_per_day=1,
    )
    await study(env, await env.next(), 4)
    env.clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # a new UTC day; 20:00 in New York
    assert (await env.next()).kind == "done"


async def test_new_card_limit_counts_cards_not_ratings() -> None:
    """A new card rated several times while learning uses one slot of the daily limit."""
    env = make_env(new_cards_per_day=2)
    reply = await env.next()
    reply = await study(env, reply, 1)  # a1 -> learning
    assert reply.card is not None and reply.card.card_id == "a2"
    reply = await study(env, reply, 4)  # a2 graduates
    # a1 is back through learn-ahead (due in 1 minute); it is not a new card any more.
    assert reply.card is not None and reply.card.card_id == "a1"
    reply = await study(env, reply, 4)
    assert reply.kind == "done"


async def test_max_reviews_per_day_is_honoured() -> None:
    deck = make_deck("d", ["r1", "r2", "r3"])
    env = make_env([deck], max_reviews_per_day=2)
    lid = await env.learner_id()
    for i, cid in enumerate(["r1", "r2", "r3"]):
        env.seed(review_state(lid, cid, START - timedelta(days=3 - i)))
    reply = await env.next()
    reply = await study(env, reply, 3)
    reply = await study(env, reply, 3)
    assert reply.kind == "done"
    done = await env.next()
    assert done.kind == "done"
    assert "You reached your limit of 2 reviews a day." in done.text
    assert "Done for today: 2 reviews (0 new)." in done.text

    env.clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))  # next UTC day
    reply = await env.next()
    assert reply.card is not None and reply.card.card_id == "r3"


async def test_done_at_review_limit_does_not_promise_an_overdue_card_now() -> None:
    """With the daily review limit reached, the next card comes tomorrow, not 'in 0s'."""
    deck = make_deck("d", ["r1", "r2", "r3"])
    env = make_env([deck], max_reviews_per_day=2)
    lid = await env.learner_id()
    for i, cid in enumerate(["r1", "r2", "r3"]):
        env.seed(review_state(lid, cid, START - timedelta(days=3 - i)))
    reply = await env.next()
    reply = await study(env, reply, 3)
    await study(env, reply, 3)
    done = await env.next()
    assert done.kind == "done"
    assert "due in 0s" not in done.text
    assert "Sun 01 Mar" not in done.text  # r3's (past) due time is not "the next card"


async def test_learn_ahead_shows_a_learning_card_due_soon_when_nothing_else_remains() -> None:
    """The card comes straight back: the note says when it is due, the front that it is early."""
    env = one_card_env()
    outcome = await rate(env, await env.next(), 3)  # due in 10 minutes
    assert outcome.close == "Good: due again in 10m."
    reply = only(outcome)
    assert reply.kind == "front"
    assert reply.card is not None and reply.card.card_id == "c1"
    assert reply.text == "Early: nothing else is due."
    # Asked for again, it is still early; once due, it is not.
    env.clock.advance(timedelta(minutes=4))
    assert (await env.next()).text == "Early: nothing else is due."
    env.clock.advance(timedelta(minutes=6))
    due = await env.next()
    assert due.card is not None and due.card.card_id == "c1" and due.text == ""


async def test_after_the_new_card_limit_learn_ahead_says_the_card_is_early() -> None:
    """The issue's case: past the new-card limit, "Good: see it again in 10m" came back 90 s
    later with nothing said. Now the note leaves room for it and the front says why."""
    env = make_env(new_cards_per_day=2)
    first = await env.next()
    outcome = await rate(env, first, 3)
    assert outcome.close == "Good: see it again in 10m, or sooner if nothing else is due."
    second = only(outcome)
    assert second.card is not None and second.card.card_id == "a2" and second.text == ""
    env.clock.advance(timedelta(seconds=90))
    outcome = await rate(env, second, 3)  # the limit is reached: a1 comes back, early
    assert outcome.close == "Good: see it again in 10m, or sooner if nothing else is due."
    back = only(outcome)
    assert back.card is not None and back.card.card_id == "a1"
    assert back.text == "Early: nothing else is due."


async def test_a_long_learning_step_is_promised_with_room_for_learn_ahead() -> None:
    """A 30-minute step can be shown from 10 minutes on: the note does not promise 30m."""
    env = one_card_env(learning_steps=(timedelta(minutes=30), timedelta(hours=5)))
    outcome = await rate(env, await env.next(), 1)
    assert outcome.close == "Again: see it again in 30m, or sooner if nothing else is due."
    assert only(outcome).kind == "done"
    env.clock.advance(timedelta(minutes=10))
    early = await env.next()
    assert early.card is not None and early.text == "Early: nothing else is due."
    outcome = await rate(env, early, 3)
    assert outcome.close == "Good: see it again in 5h."  # 20 minutes early is still 5h


async def test_learn_ahead_does_not_reach_past_twenty_minutes() -> None:
    env = one_card_env()
    lid = await env.learner_id()
    env.seed(
        CardState(
            lid,
            "c1",
            CardStateKind.LEARNING,
            step=1,
            stability=2.3,
            difficulty=5.0,
            due=START + timedelta(minutes=30),
            last_review=START - timedelta(minutes=1),
            reps=1,
        )
    )
    done = await env.next()
    assert done.kind == "done"
    assert "Next card due in 30m" in done.text
    env.clock.advance(timedelta(minutes=10))
    shown = await env.next()
    assert shown.card is not None and shown.card.card_id == "c1"


async def test_learn_ahead_waits_until_new_cards_are_done(env: Env) -> None:
    reply = await study(env, await env.next(), 3)  # a1 due in 10 minutes
    assert reply.card is not None and reply.card.card_id == "a2"


async def test_done_summary_has_counts_and_next_due_time() -> None:
    env = make_env([make_deck("d", ["c1", "c2"])], timezone="Europe/Paris")
    reply = await env.next()
    reply = await study(env, reply, 4)
    await study(env, reply, 4)
    done = await env.next()
    assert done.kind == "done"
    assert done.card is None
    assert "Done for today: 2 reviews (2 new)." in done.text
    due = env.db.state(await env.learner_id(), "c1").due
    assert due is not None
    local = due.astimezone(ZoneInfo("Europe/Paris")).strftime("%a %d %b %H:%M")
    assert f"Next card due in {srs.format_interval(due - START)} ({local})." in done.text
    assert local == "Tue 10 Mar 15:00"


async def test_done_summary_with_nothing_scheduled() -> None:
    env = make_env([make_deck("d", [])])
    done = await env.next()
    assert done.kind == "done"
    assert "Done for today: 0 reviews (0 new)." in done.text
    assert "Nothing is scheduled" in done.text


async def test_review_with_no_deck_loaded_says_so_and_claims_nothing_learned() -> None:
    env = make_env([])
    answer = await env.next()
    assert answer.kind == "done"
    assert answer.text == NO_DECKS_TEXT
    assert "learned" not in answer.text


async def test_the_last_rating_closes_its_card_and_the_day_is_summed_up() -> None:
    """Rating the last card of the day says what the rating did AND that the day is done."""
    env = one_card_env()
    outcome = await rate(env, await env.next(), 4)
    assert outcome.close == "Easy: see it again in 8d."
    summary = only(outcome)
    assert summary.kind == "done"
    assert "Done for today: 1 review (1 new)." in summary.text


# --------------------------------------------------------------------------- expired buttons


async def test_double_tap_records_one_review(env: Env) -> None:
    back = await reveal(env, await env.next())
    payload = rate_payload(back, 3)
    first = await env.press(ALICE, payload)
    assert only(first).kind == "front"
    before = env.db.snapshot()
    second = await env.press(ALICE, payload)
    assert is_expired(second)
    assert second.notice == "This button has expired. Send /review to get your current card."
    assert len(env.db.reviews()) == 1
    assert env.db.snapshot() == before
    # A different rating on the same prompt is a double tap too.
    assert is_expired(await env.press(ALICE, rate_payload(back, 1)))
    assert len(env.db.reviews()) == 1


@pytest.mark.parametrize(
    "payload",
    [
        "r:AAAAAAAAAAAA:3",
        "s:t9999999",
        "b:t9999999",
        "x:t9999999",
        "r:t9999999:1",
    ],
)
async def test_forged_token_is_expired(env: Env, payload: str) -> None:
    await env.next()
    before = env.db.snapshot()
    assert is_expired(await env.press(ALICE, payload))
    assert env.db.snapshot() == before


async def test_another_learners_token_is_expired(env: Env) -> None:
    await env.learner(BOB)
    front = await env.next()
    back = await reveal(env, front)
    before = env.db.snapshot()
    for payload in (
        button(front, "Show answer").payload,
        rate_payload(back, 3),
        button(front, "Bury").payload,
        button(front, "Suspend").payload,
    ):
        assert is_expired(await env.press(BOB, payload)), payload
    assert env.db.snapshot() == before
    # Alice can still use her own buttons.
    assert only(await env.press(ALICE, rate_payload(back, 3))).kind == "front"


async def test_stale_token_is_expired(env: Env) -> None:
    """A card reviewed through a newer prompt makes older prompts for it stale."""
    old = await env.next()
    old_back = await reveal(env, old)
    env.clock.advance(timedelta(seconds=5))
    new = await env.next()
    assert new.card is not None and old.card is not None
    assert new.card.card_id == old.card.card_id
    await study(env, new, 3)
    env.clock.advance(timedelta(seconds=5))
    before = env.db.snapshot()
    for payload in (
        button(old, "Show answer").payload,
        rate_payload(old_back, 1),
        button(old, "Bury").payload,
        button(old, "Suspend").payload,
    ):
        assert is_expired(await env.press(ALICE, payload)), payload
    assert env.db.snapshot() == before
    assert len(env.db.reviews()) == 1


# --------------------------------------------------------------------------- undo


async def test_undo_of_a_new_card_deletes_its_state(env: Env) -> None:
    lid = await env.learner_id()
    front = await env.next()
    assert not env.db.has_state(lid, "a1")
    before = env.db.state(lid, "a1")
    await study(env, front, 3)
    assert env.db.has_state(lid, "a1")

    env.clock.advance(timedelta(seconds=10))
    reply = only(await env.service.undo(ALICE))
    assert not env.db.has_state(lid, "a1")
    assert env.db.state(lid, "a1") == before
    (entry,) = env.db.reviews(lid)
    assert entry.undone_at == START + timedelta(seconds=10)
    counts = env.db.run_sync(lambda tx: tx.reviews.counts_since(lid, START - timedelta(days=1)))
    assert counts == (0, 0)
    assert (await env.stats()).stats.reviewed_today == 0

    assert reply.kind == "front"
    assert reply.text == "Undid Good on “Title of a1”."
    assert reply.card is not None and reply.card.card_id == "a1"
    # The card shown again can be rated through its new prompt.
    await study(env, reply, 4)
    active = [e for e in env.db.reviews(lid) if e.undone_at is None]
    assert [(e.card_id, e.rating) for e in active] == [("a1", 4)]


async def test_undo_restores_a_review_card_exactly(env: Env) -> None:
    lid = await env.learner_id()
    seeded = review_state(
        lid, "t1", START - timedelta(hours=5), lapses=3, reps=17, stability=7.75, difficulty=8.5
    )
    env.seed(seeded)
    front = await env.next()
    await study(env, front, 1)
    changed = env.db.state(lid, "t1")
    assert changed != seeded
    assert changed.lapses == 4
    assert changed.state is CardStateKind.RELEARNING

    reply = only(await env.service.undo(ALICE))
    assert env.db.state(lid, "t1") == seeded
    assert reply.text == "Undid Again on “Title of t1”."
    assert reply.card is not None and reply.card.card_id == "t1"


async def test_undo_twice_goes_back_two_ratings(env: Env) -> None:
    lid = await env.learner_id()
    reply = await study(env, await env.next(), 4)  # a1
    env.clock.advance(timedelta(seconds=1))
    await study(env, reply, 4)  # a2
    first = only(await env.service.undo(ALICE))
    assert first.card is not None and first.card.card_id == "a2"
    second = only(await env.service.undo(ALICE))
    assert second.card is not None and second.card.card_id == "a1"
    assert not env.db.has_state(lid, "a1") and not env.db.has_state(lid, "a2")
    nothing = only(await env.service.undo(ALICE))
    assert nothing.kind == "info"
    assert nothing.text == "There is nothing to undo."


async def test_undo_with_nothing_is_friendly(env: Env) -> None:
    reply = only(await env.service.undo(ALICE))
    assert reply.kind == "info"
    assert reply.text == "There is nothing to undo."


async def test_undo_only_touches_the_learners_own_reviews(env: Env) -> None:
    await study(env, await env.next(), 3)
    reply = only(await env.service.undo(BOB))
    assert reply.text == "There is nothing to undo."
    assert len([e for e in env.db.reviews() if e.undone_at is None]) == 1


# --------------------------------------------------------------------------- bury and suspend


async def test_bury_hides_a_card_until_the_next_local_day() -> None:
    paris = "Europe/Paris"
    env = make_env([make_deck("d", ["c1", "c2"])], timezone=paris)  # 15:00 in Paris
    lid = await env.learner_id()
    front = await env.next()
    outcome = await env.press(ALICE, button(front, "Bury").payload)
    assert outcome.close == "Buried until tomorrow."
    reply = only(outcome)
    assert reply.card is not None and reply.card.card_id == "c2"
    midnight = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 00:00 on 3 March in Paris
    assert env.db.state(lid, "c1").buried_until == midnight
    assert env.db.state(lid, "c1").buried_until == srs.next_day_start(START, paris)

    await study(env, reply, 4)  # c2 done for days
    env.clock.set(midnight - timedelta(minutes=30))
    done = await env.next()
    assert done.kind == "done"
    env.clock.set(midnight)
    shown = await env.next()
    assert shown.card is not None and shown.card.card_id == "c1"
    # Rating it counts it as a new card, and clears the bury.
    await study(env, shown, 3)
    (_, entry) = env.db.reviews(lid)
    assert entry.before.state is CardStateKind.NEW
    assert env.db.state(lid, "c1").buried_until is None


async def test_buried_card_stays_hidden_in_the_last_minutes_of_the_day() -> None:
    """Learn-ahead (20 minutes) must not bring back a card buried until midnight."""
    env = make_env([make_deck("d", ["c1"])], timezone="Europe/Paris")
    front = await env.next()
    await env.press(ALICE, button(front, "Bury").payload)
    env.clock.set(datetime(2026, 3, 2, 22, 50, tzinfo=UTC))  # 23:50 in Paris
    reply = await env.next()
    assert reply.kind == "done"


async def test_bury_a_review_card() -> None:
    env = make_env([make_deck("d", ["c1"])], timezone="America/New_York")
    lid = await env.learner_id()
    seeded = review_state(lid, "c1", START - timedelta(days=1))
    env.seed(seeded)
    front = await env.next()
    outcome = await env.press(ALICE, button(front, "Bury").payload)
    assert outcome.close == "Buried until tomorrow."
    assert only(outcome).kind == "done"
    state = env.db.state(lid, "c1")
    assert state == replace(seeded, buried_until=datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    assert not env.db.reviews()
    env.clock.set(datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    shown = await env.next()
    assert shown.card is not None and shown.card.card_id == "c1"


async def test_bury_twice_is_expired(env: Env) -> None:
    front = await env.next()
    payload = button(front, "Bury").payload
    await env.press(ALICE, payload)
    before = env.db.snapshot()
    assert is_expired(await env.press(ALICE, payload))
    assert env.db.snapshot() == before


async def test_suspend_and_unsuspend(env: Env) -> None:
    lid = await env.learner_id()
    front = await env.next()
    outcome = await env.press(ALICE, button(front, "Suspend").payload)
    assert outcome.close == "Suspended. Send /unsuspend to bring suspended cards back."
    reply = only(outcome)
    assert reply.card is not None and reply.card.card_id == "a2"
    assert env.db.state(lid, "a1").suspended
    assert not env.db.reviews()

    again = await env.next()
    assert again.card is not None and again.card.card_id == "a2"

    back = only(await env.service.unsuspend(ALICE))
    assert back.kind == "info"
    assert back.text == "Brought back 1 suspended card."
    assert not env.db.state(lid, "a1").suspended
    shown = await env.next()
    assert shown.card is not None and shown.card.card_id == "a1"

    none = only(await env.service.unsuspend(ALICE))
    assert none.text == "No suspended cards to bring back."


async def test_unsuspend_chosen_cards(env: Env) -> None:
    lid = await env.learner_id()
    for cid in ("a1", "a2", "t1"):
        env.seed(review_state(lid, cid, START + timedelta(days=2), suspended=True))
    reply = only(await env.service.unsuspend(ALICE, ["a1", "t1"]))
    assert reply.text == "Brought back 2 suspended cards."
    assert [env.db.state(lid, c).suspended for c in ("a1", "a2", "t1")] == [False, True, False]


async def test_only_a_suspended_card_left_says_nothing_is_scheduled() -> None:
    env = one_card_env()
    front = await env.next()
    outcome = await env.press(ALICE, button(front, "Suspend").payload)
    assert only(outcome).kind == "done"
    done = await env.next()
    assert done.kind == "done"
    assert "Nothing is scheduled" in done.text


async def test_leech_is_suspended_after_eight_lapses() -> None:
    env = one_card_env()
    lid = await env.learner_id()
    await study(env, await env.next(), 4)  # straight to Review
    outcome = Outcome()
    for lapse in range(1, 9):
        due = env.db.state(lid, "c1").due
        assert due is not None
        env.clock.set(due)
        front = await env.next()
        assert front.card is not None and front.card.card_id == "c1"
        outcome = await rate(env, front, 1)
        assert outcome.close is not None
        state = env.db.state(lid, "c1")
        assert state.lapses == lapse
        if lapse < 8:
            assert not state.suspended
            assert "leech" not in outcome.close
            # Relearning: shown again through learn-ahead; Good takes it back to Review.
            reply = only(outcome)
            assert reply.card is not None and reply.card.card_id == "c1"
            await study(env, reply, 3)
            assert env.db.state(lid, "c1").state is CardStateKind.REVIEW
    state = env.db.state(lid, "c1")
    assert state.suspended and state.leech
    # One consistent thing: suspended, not "see it again in 10m".
    assert outcome.close == (
        "Again: this card has lapsed 8 times, so it is suspended as a leech. "
        "A card you keep forgetting usually needs rewriting or splitting. "
        "Send /unsuspend to bring it back."
    )
    assert only(outcome).kind == "done"
    env.clock.advance(timedelta(days=30))
    assert (await env.next()).kind == "done"


async def test_a_leech_after_one_lapse_is_one_time_in_english() -> None:
    env = one_card_env(leech_threshold=1)
    lid = await env.learner_id()
    env.seed(review_state(lid, "c1", START - timedelta(hours=1), lapses=0))
    outcome = await rate(env, await env.next(), 1)
    assert outcome.close is not None
    assert outcome.close.startswith("Again: this card has lapsed 1 time, so it is suspended")
    assert "see it again" not in outcome.close


# --------------------------------------------------------------------------- typed answers


async def test_typed_answer_is_shown_beside_the_back_and_stored(env: Env) -> None:
    front = await env.next()
    outcome = await env.press(
        ALICE, button(front, "Show answer").payload, "  softmax(QK^T / sqrt(d)) V  "
    )
    back = outcome.edit
    assert back is not None and back.kind == "back"
    assert back.card is not None
    assert back.card.typed_answer == "softmax(QK^T / sqrt(d)) V"
    assert back.card.back == "Back of a1"
    # Revealing again without a typed answer keeps it.
    again = (await env.service.reveal(ALICE, token_of(front))).edit
    assert again is not None and again.card is not None
    assert again.card.typed_answer == "softmax(QK^T / sqrt(d)) V"
    await env.press(ALICE, rate_payload(back, 3))
    (entry,) = env.db.reviews()
    assert entry.typed_answer == "softmax(QK^T / sqrt(d)) V"


async def test_blank_typed_answer_is_none_and_long_one_is_cut(env: Env) -> None:
    front = await env.next()
    blank = (await env.service.reveal(ALICE, token_of(front), "   ")).edit
    assert blank is not None and blank.card is not None and blank.card.typed_answer is None
    long = (await env.service.reveal(ALICE, token_of(front), "x" * 5000)).edit
    assert long is not None and long.card is not None and long.card.typed_answer == "x" * 2000


async def test_no_typed_answer_is_stored_as_none(env: Env) -> None:
    await study(env, await env.next(), 3)
    (entry,) = env.db.reviews()
    assert entry.typed_answer is None


# --------------------------------------------------------------------------- settings
# The rules of each setting (bounds, typed forms, messages) are tested in test_settings.py;
# here: what the service saves, and that a refused value saves nothing.


async def test_settings_describe(env: Env) -> None:
    reply = only(await env.service.settings(ALICE))
    assert reply.kind == "info"
    assert "timezone: UTC" in reply.text
    assert "new: 10 new cards a day" in reply.text
    assert "decks: all decks" in reply.text
    assert reply.buttons == ()


async def test_settings_menu_has_a_button_per_question(env: Env) -> None:
    reply = only(await env.service.settings(ALICE, menu=True))
    assert "timezone: UTC" in reply.text
    assert "/settings KEY VALUE" in reply.text
    assert [b.label for b in reply.all_buttons()] == [
        "Time zone",
        "Reminder",
        "Decks",
        "Easy days",
        "Retention: what it costs",
    ]
    assert [b.payload for b in reply.all_buttons()] == [
        "os:go:tz",
        "os:go:push",
        "os:go:deck",
        "os:go:easy",
        "os:go:retention",
    ]
    assert {b.action for b in reply.all_buttons()} == {"setup"}


async def test_timezone_is_validated(env: Env) -> None:
    ok = only(await env.service.change_setting(ALICE, "timezone", "Europe/Paris"))
    assert ok.kind == "info"
    assert ok.text.startswith("Saved.")
    assert "timezone: Europe/Paris" in ok.text
    assert (await env.learner()).settings.timezone == "Europe/Paris"

    before = env.db.snapshot()
    for bad in ("Nowhere/Bad", "", "../etc/passwd"):
        reply = only(await env.service.change_setting(ALICE, "timezone", bad))
        assert reply.kind == "error", bad
        assert "time zone" in reply.text
    assert env.db.snapshot() == before
    assert (await env.learner()).settings.timezone == "Europe/Paris"


async def test_a_typed_city_or_lower_case_zone_is_its_iana_name(env: Env) -> None:
    reply = only(await env.service.change_setting(ALICE, "timezone", "europe/berlin"))
    assert "timezone: Europe/Berlin" in reply.text
    only(await env.service.change_setting(ALICE, "timezone", "Tokyo"))
    assert (await env.learner()).settings.timezone == "Asia/Tokyo"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("retention", "0.69", "0.70 to 0.99"),
        ("retention", "nan", "0.70 to 0.99"),
        ("new", "501", "New cards per day"),
        ("new", "²", "New cards per day"),
        ("max_reviews", "0", "Maximum reviews per day"),
        ("colour", "blue", "Unknown setting"),
        ("quiet", "22-07", "Quiet hours are HH:MM-HH:MM"),
        ("quiet", "22:00-22:00", "different start and end"),
        ("days_off", "funday", "Days off are weekday names"),
        ("days_off", "mon,tue,wed,thu,fri,sat,sun", "at least one day"),
        ("per_push", "0", "whole number from 1 to 500"),
        ("push", "noonish", "time"),
    ],
)
async def test_a_refused_setting_saves_nothing_and_says_why(
    env: Env, key: str, value: str, message: str
) -> None:
    await env.learner()
    before = env.db.snapshot()
    reply = only(await env.service.change_setting(ALICE, key, value))
    assert reply.kind == "error"
    assert message in reply.text
    assert env.db.snapshot() == before


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("retention", "90%", ("desired_retention", 0.9)),
        ("new", "500", ("new_cards_per_day", 500)),
        ("max_reviews", "10000", ("max_reviews_per_day", 10000)),
        ("per_push", "5", ("max_cards_per_push", 5)),
    ],
)
async def test_a_setting_is_saved(
    env: Env, key: str, value: str, expected: tuple[str, object]
) -> None:
    reply = only(await env.service.change_setting(ALICE, key, value))
    assert reply.kind == "info" and reply.text.startswith("Saved.")
    name, saved = expected
    assert getattr((await env.learner()).settings, name) == pytest.approx(saved)


async def test_several_settings_in_one_go_stop_at_the_first_bad_one(env: Env) -> None:
    """A settings form: each change confirmed in turn; those before a bad one are kept."""
    changes = [("new", "5"), ("retention", "2"), ("max_reviews", "50")]
    commits = env.db.commits
    reply = only(await env.service.change_settings(ALICE, changes))
    assert env.db.commits - commits == 1  # one unit of work
    assert reply.kind == "error"
    first, second = reply.text.split("\n\n", 1)
    assert first.startswith("Saved.") and "new: 5 new cards a day" in first
    assert "0.70 to 0.99" in second
    settings = (await env.learner()).settings
    assert (settings.new_cards_per_day, settings.max_reviews_per_day) == (5, 200)
    assert only(await env.service.change_settings(ALICE, [])).text == "Nothing changed."


async def test_new_per_day_change_takes_effect(env: Env) -> None:
    await env.service.change_setting(ALICE, "new", "1")
    reply = await study(env, await env.next(), 4)
    assert reply.kind == "done"


async def test_timezone_change_moves_the_day_boundary() -> None:
    """At 01:00 UTC it is still yesterday in New York: the new-card limit holds there."""
    env = make_env(start=datetime(2026, 3, 2, 23, 0, tzinfo=UTC), new_cards_per_day=1)
    await study(env, await env.next(), 4)
    env.clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))
    assert (await env.next()).kind == "front"  # a new UTC day
    await env.service.change_setting(ALICE, "timezone", "America/New_York")
    assert (await env.next()).kind == "done"  # same New York day


# --------------------------------------------------------------------------- topics and decks


async def test_decks_lists_decks_and_what_is_studied(env: Env) -> None:
    reply = only(await env.service.decks(ALICE))
    assert reply.kind == "info"
    assert "• Attention (attention): 3 cards" in reply.text
    assert "• Transformers (transformers): 2 cards" in reply.text
    assert "You study: all decks." in reply.text
    assert reply.buttons == ()


async def test_decks_shows_each_decks_description() -> None:
    """decks/README.md: the description is "one line shown in /decks"."""
    decks = [
        make_deck("attention", ["a1", "a2"], description="Scaled dot-product attention."),
        make_deck("bare", ["b1"]),
    ]
    env = make_env(decks)
    reply = only(await env.service.decks(ALICE))
    assert reply.text.splitlines() == [
        "• Attention (attention): 2 cards",
        "  Scaled dot-product attention.",
        "• Bare (bare): 1 card",
        "You study: all decks.",
    ]


async def test_decks_menu_has_a_button_per_deck_and_all(env: Env) -> None:
    reply = only(await env.service.decks(ALICE, menu=True))
    assert [b.label for b in reply.all_buttons()] == ["Attention", "Transformers", "All decks"]
    assert [b.payload for b in reply.all_buttons()] == [
        "os:deck:attention",
        "os:deck:transformers",
        "os:deck:*",
    ]


async def test_a_deck_whose_id_does_not_fit_a_button_is_left_out_of_the_menu() -> None:
    long_id = "d" * 60
    env = make_env([make_deck("short", ["c1"]), make_deck(long_id, ["c2"])])
    reply = only(await env.service.decks(ALICE, menu=True))
    assert f"({long_id})" in reply.text  # listed ...
    assert [b.payload for b in reply.all_buttons()] == [
        "os:deck:short",
        "os:deck:*",
    ]  # ... no button


async def test_no_decks_loaded() -> None:
    env = make_env([])
    assert only(await env.service.decks(ALICE)).text == (
        "No decks are loaded. You can import your own: send me an Anki package (.apkg) or "
        "an Anki text export in this chat."
    )


async def test_topics_by_deck_id(env: Env) -> None:
    reply = only(await env.service.study_topics(ALICE, ["transformers"]))
    assert reply.kind == "info"
    assert reply.text == "Studying transformers."
    assert (await env.learner()).topics == ("transformers",)
    first = await env.next()
    assert first.card is not None and first.card.card_id == "t1"
    second = await study(env, first, 4)
    assert second.card is not None and second.card.card_id == "t2"
    assert (await study(env, second, 4)).kind == "done"
    assert "You study: transformers." in only(await env.service.decks(ALICE)).text


async def test_topics_by_tag(env: Env) -> None:
    await env.service.study_topics(ALICE, ["Softmax"])
    first = await env.next()
    assert first.card is not None and first.card.card_id == "a2"
    second = await study(env, first, 4)
    assert second.card is not None and second.card.card_id == "t2"
    assert (await study(env, second, 4)).kind == "done"


async def test_topics_all_means_every_deck(env: Env) -> None:
    await env.service.study_topics(ALICE, ["transformers"])
    reply = only(await env.service.study_topics(ALICE, ["all"]))
    assert reply.text == "Studying all decks."
    assert (await env.learner()).topics == ()
    first = await env.next()
    assert first.card is not None and first.card.card_id == "a1"


async def test_unknown_topic_is_an_error(env: Env) -> None:
    await env.service.study_topics(ALICE, ["attention"])
    before = env.db.snapshot()
    reply = only(await env.service.study_topics(ALICE, ["attention", "nope"]))
    assert reply.kind == "error"
    assert "nope" in reply.text
    assert "attention, layers, softmax, transformers" in reply.text
    assert env.db.snapshot() == before
    assert (await env.learner()).topics == ("attention",)


async def test_topics_narrow_due_reviews_too(env: Env) -> None:
    """/decks transformers: the next /review is a transformers card, not an attention one
    that happens to be due (issue #13; reviews used to stay global)."""
    lid = await env.learner_id()
    env.seed(review_state(lid, "a3", START - timedelta(hours=2)))
    env.seed(review_state(lid, "t2", START - timedelta(hours=1)))
    env.seed(review_state(lid, "t1", START + timedelta(days=2)))
    await env.service.study_topics(ALICE, ["transformers"])
    reply = await env.next()
    assert reply.card is not None and reply.card.card_id == "t2"
    done = await study(env, reply, 3)
    assert done.kind == "done"  # a3 is due, but not in the learner's topics
    assert "Next card due in 2d" in done.text  # t1, not a3 (overdue) or t2
    assert "You study transformers only: /decks all studies every deck." in done.text
    await env.service.study_topics(ALICE, ["all"])
    again = await env.next()
    assert again.card is not None and again.card.card_id == "a3"
    assert "You study" not in (await study(env, again, 3)).text


async def test_topics_by_tag_narrow_due_reviews_and_learn_ahead(env: Env) -> None:
    lid = await env.learner_id()
    env.seed(review_state(lid, "a1", START - timedelta(hours=1)))  # not tagged softmax
    env.seed(review_state(lid, "a2", START + timedelta(minutes=5)))  # tagged: learn-ahead
    env.seed(review_state(lid, "t2", START + timedelta(days=1)))  # tagged, new done
    await env.service.study_topics(ALICE, ["softmax"])
    reply = await env.next()
    assert reply.card is not None and reply.card.card_id == "a2"
    assert reply.text == "Early: nothing else is due."


# --------------------------------------------------------------------------- stats


async def test_stats_due_today_counts_until_local_midnight() -> None:
    # 14:00 UTC is 09:00 in New York; the local day ends at 05:00 UTC on 3 March.
    env = make_env(timezone="America/New_York")
    lid = await env.learner_id()
    env.seed(review_state(lid, "a1", START - timedelta(days=1)))
    env.seed(review_state(lid, "a2", datetime(2026, 3, 3, 4, 59, tzinfo=UTC)))
    env.seed(review_state(lid, "a3", datetime(2026, 3, 3, 5, 0, tzinfo=UTC)))  # tomorrow
    env.seed(review_state(lid, "t1", START, suspended=True))
    assert (await env.stats()).stats.due_today == 2


async def test_stats_reviewed_today_excludes_undone(env: Env) -> None:
    reply = await study(env, await env.next(), 4)
    env.clock.advance(timedelta(seconds=1))
    await study(env, reply, 4)
    assert (await env.stats()).stats.reviewed_today == 2
    await env.service.undo(ALICE)
    assert (await env.stats()).stats.reviewed_today == 1


async def test_stats_streak_across_local_days() -> None:
    # 23:30 on 2 March in New York (04:30 UTC on 3 March).
    env = make_env(
        [make_deck("d", ["c1", "c2", "c3"])],
        start=datetime(2026, 3, 3, 4, 30, tzinfo=UTC),
        timezone="America/New_York",
    )
    await study(env, await env.next(), 4)
    env.clock.set(datetime(2026, 3, 3, 5, 30, tzinfo=UTC))  # 00:30 on 3 March, same UTC day
    await study(env, await env.next(), 4)
    s: StudyStats = (await env.stats()).stats
    assert s.streak_days == 2
    assert s.reviewed_today == 1

    env.clock.set(datetime(2026, 3, 5, 3, 0, tzinfo=UTC))  # 22:00 on 4 March: yesterday counts
    assert (await env.stats()).stats.streak_days == 2
    env.clock.set(datetime(2026, 3, 5, 5, 0, tzinfo=UTC))  # 00:00 on 5 March: a gap
    assert (await env.stats()).stats.streak_days == 0


async def test_stats_true_retention_of_mature_and_young_cards(env: Env) -> None:
    lid = await env.learner_id()
    mature = review_state(lid, "a1", START, last_review=START - timedelta(days=21))
    young = review_state(lid, "a3", START)  # an interval of 12 days
    learning = CardState(lid, "a2", CardStateKind.LEARNING, due=START, last_review=START)

    def add(days_ago: float, rating: int, before: CardState, source: str = "dm") -> None:
        at = START - timedelta(days=days_ago)
        entry = ReviewEntry(lid, before.card_id, rating, at, source, before, before, 1000)
        env.db.run_sync(lambda tx: tx.reviews.add(entry))

    add(1, 3, mature)
    add(2, 4, mature)
    add(3, 2, mature)
    add(4, 1, mature)
    add(2, 1, young)
    add(5, 1, learning)  # a step: never counted
    add(1, 1, mature, ReviewSource.CRAM)  # practice: never counted
    add(40, 1, mature)  # too old
    add(0.5, 1, mature)
    await env.service.undo(ALICE)  # the last one is undone: not counted
    outcome = await env.service.stats(ALICE)
    reply, calibration = outcome.replies
    assert isinstance(reply.figure, StatsChart)
    s = reply.figure.stats
    assert (s.reviews_30d, s.young_reviews_30d) == (4, 1)
    assert s.retention_30d == pytest.approx(0.75) and s.young_retention_30d == 0.0
    assert s.desired_retention == 0.9
    assert reply.kind == "stats"
    assert "True retention, last 30 days: 75% of 4 reviews of mature cards (target 90%)" in (
        reply.text
    )
    assert "Young cards (interval under 21 days): 0% of 1 review" in reply.text
    # Too few reviews to check the model's predictions: said, and no chart.
    assert calibration.kind == "stats" and calibration.figure is None
    # Replayed: a1's four reviews after its first (cram and undone ones out); a2, a3 once.
    assert "only 4 so far" in calibration.text


async def test_stats_retention_none_without_mature_reviews(env: Env) -> None:
    await study(env, await env.next(), 3)
    chart = await env.stats()
    assert chart.stats.retention_30d is None
    assert "no mature reviews yet" in (await env.service.stats(ALICE)).replies[0].text


async def test_stats_draws_predicted_against_actual_recall_with_enough_reviews(env: Env) -> None:
    """Sixty cards seen again three days after their first review: 45 passed."""
    lid = await env.learner_id()
    ids = [f"c{i}" for i in range(60)]
    first = START - timedelta(days=10)

    def add_all(tx: Tx) -> None:
        for i, card_id in enumerate(ids):
            new = CardState(lid, card_id)
            tx.reviews.add(ReviewEntry(lid, card_id, 3, first, "dm", new, new))
            again = first + timedelta(days=3)
            tx.reviews.add(ReviewEntry(lid, card_id, 1 if i % 4 == 0 else 3, again, "dm", new, new))

    env.db.run_sync(add_all)
    calibration = (await env.service.stats(ALICE)).replies[1]
    assert isinstance(calibration.figure, Calibration)
    assert calibration.figure.reviews == 60 and len(calibration.figure.bins) == 1
    assert calibration.figure.bins[0].observed == 0.75
    assert "Predicted vs actual recall (FSRS's default parameters, 60 reviews)" in (
        calibration.text
    )


async def test_settings_retention_simulates_the_learners_cards(env: Env) -> None:
    await env.service.change_setting(ALICE, "new", "4")
    reply = only(await env.service.retention_costs(ALICE))
    assert reply.kind == "info" and isinstance(reply.figure, RetentionCosts)
    assert reply.figure.deck_size == 5  # the two decks' cards
    assert reply.figure.current == 0.9
    assert [c.retention for c in reply.figure.costs] == sorted({*RETENTIONS, 0.9})
    assert "simulated for your 5 cards (4 new a day, at most" in reply.text
    assert "90%: " in reply.text and "← yours" in reply.text
    assert f"Suggestion: {reply.figure.suggested:.0%}" in reply.text
    # Studying one topic simulates its cards only; the settings menu's button does the same.
    await env.service.study_topics(ALICE, ["softmax"])
    tapped = only(await env.press(ALICE, RETENTION_COSTS.encode()))
    assert isinstance(tapped.figure, RetentionCosts) and tapped.figure.deck_size == 2


async def test_settings_retention_without_cards_says_so() -> None:
    env = make_env([])
    reply = only(await env.service.retention_costs(ALICE))
    assert reply.figure is None and "You study no cards yet" in reply.text


async def test_settings_retention_without_new_cards_has_no_chart(env: Env) -> None:
    await env.service.change_setting(ALICE, "new", "0")
    reply = only(await env.service.retention_costs(ALICE))
    assert reply.figure is None and "No card is learned in this simulation" in reply.text


async def test_the_settings_menu_offers_what_retention_costs(env: Env) -> None:
    reply = only(await env.service.settings(ALICE, menu=True))
    assert RETENTION_COSTS.encode() in [b.payload for b in reply.all_buttons()]
    assert "/settings retention shows what each retention costs" in reply.text


async def test_forecast_counts_cards_per_local_day() -> None:
    env = make_env(timezone="America/New_York")  # 09:00 on 2 March in New York
    lid = await env.learner_id()
    env.seed(review_state(lid, "a1", START - timedelta(days=2)))  # overdue: today
    env.seed(review_state(lid, "a2", datetime(2026, 3, 3, 4, 0, tzinfo=UTC)))  # 23:00 today
    env.seed(review_state(lid, "a3", datetime(2026, 3, 3, 6, 0, tzinfo=UTC)))  # tomorrow
    env.seed(  # due today but buried until tomorrow
        review_state(lid, "t1", START, buried_until=datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    )
    env.seed(review_state(lid, "t2", START, suspended=True))
    forecast = (await env.stats()).forecast
    assert len(forecast) == 30
    assert forecast[:3] == (2, 2, 0)


async def test_forecast_of_an_easy_new_card(env: Env) -> None:
    await study(env, await env.next(), 4)  # Easy: days away
    forecast = (await env.stats()).forecast
    assert len(forecast) == 30 and sum(forecast) == 1 and forecast[0] == 0


# --------------------------------------------------------------------------- your data


async def test_forget_needs_confirmation_and_deletes_everything(env: Env) -> None:
    await study(env, await env.next(), 3)
    alice = await env.learner()
    ask = only(await env.service.request_forget(ALICE))
    yes, no = ask.all_buttons()
    assert "cannot be undone" in ask.text
    assert (yes.action, yes.style, no.style) == ("confirm", "danger", "secondary")

    # Somebody else's press of Alice's confirmation does nothing.
    assert is_expired(await env.press(BOB, yes.payload))
    assert env.db.learner("telegram", "100") is not None
    kept = await env.press(ALICE, no.payload)
    assert kept.edit is not None and "Nothing was deleted" in kept.edit.text
    assert is_expired(await env.press(ALICE, yes.payload))  # used up

    ask = only(await env.service.request_forget(ALICE))
    done = await env.press(ALICE, ask.all_buttons()[0].payload)
    assert done.edit is not None and "1 review" in done.edit.text
    assert done.replies == () and done.close is None
    assert env.db.learner("telegram", "100") is None
    assert env.db.reviews(alice.id) == []
    assert not env.db.has_state(alice.id, "a1")


async def test_forget_confirmation_expires_after_a_day(env: Env) -> None:
    ask = only(await env.service.request_forget(ALICE))
    env.clock.advance(timedelta(days=1, seconds=1))
    assert is_expired(await env.press(ALICE, ask.all_buttons()[0].payload))
    assert env.db.learner("telegram", "100") is not None


async def test_a_confirmation_closes_an_open_question(env: Env) -> None:
    """Tapping Yes or No is moving on: a typed message no longer answers a setup question."""
    await env.services.onboarding.start(ALICE)
    assert await env.services.onboarding.pending(ALICE) == ("tz", True)
    ask = only(await env.service.request_forget(ALICE))
    await env.press(ALICE, ask.all_buttons()[1].payload)
    assert await env.services.onboarding.pending(ALICE) is None


async def test_export_is_a_csv_of_every_review(env: Env) -> None:
    front = await env.next()
    back = (await env.service.reveal(ALICE, token_of(front), "my, answer")).edit
    assert back is not None
    await env.press(ALICE, rate_payload(back, 1))
    await env.service.undo(ALICE)
    reply = only(await env.service.export(ALICE))
    assert reply.text == "Your review history (CSV, times in UTC)."
    assert reply.attachment is not None and reply.attachment.filename == EXPORT_FILE
    rows = list(csv.DictReader(io.StringIO(reply.attachment.data.decode("utf-8"))))
    assert len(rows) == 1
    row = rows[0]
    assert row["card_id"] == "a1" and row["rating_name"] == "Again" and row["source"] == "dm"
    assert row["typed_answer"] == "my, answer"
    assert row["state_before"] == "new" and row["state_after"] == "learning"
    assert row["reviewed_at"].endswith("+00:00") and row["undone_at"]


async def test_pause_and_resume(env: Env) -> None:
    paused = only(await env.service.pause(ALICE, True))
    assert "Paused" in paused.text
    assert (await env.learner()).settings.paused
    resumed = only(await env.service.pause(ALICE, False))
    assert "Resumed" in resumed.text
    assert not (await env.learner()).settings.paused


async def test_unreachable_until_the_learner_writes_again(env: Env) -> None:
    await env.learner()
    await env.service.mark_unreachable(ALICE)
    stored = env.db.learner("telegram", "100")
    assert stored is not None and stored.unreachable
    await env.service.mark_unreachable(Who("telegram", "nobody"))  # unknown: nothing made
    assert env.db.learner("telegram", "nobody") is None
    await env.next()
    stored = env.db.learner("telegram", "100")
    assert stored is not None and not stored.unreachable


# --------------------------------------------------------------------------- the workspace


async def test_a_front_offers_the_review_page_only_when_its_back_is_long() -> None:
    long = "A long derivation. " * 30
    env = make_env(
        [
            make_deck(
                "mixed",
                [
                    make_card("short", back="Short."),
                    make_card("long", back=long),
                    make_card("math", back="$$\\frac{a}{b}$$"),
                ],
                title="Mixed",
            )
        ]
    )
    seen: dict[str, str | None] = {}
    reply = await env.next()
    for _ in range(3):
        assert reply.kind == "front" and reply.card is not None
        seen[reply.card.card_id] = reply.workspace
        back = await reveal(env, reply)
        assert back.workspace is None, "the back in chat offers nothing more"
        reply = only(await env.press(ALICE, rate_payload(back, 3)))
    assert seen == {"short": None, "long": "review", "math": "review"}


async def test_undo_brings_the_front_back_with_its_offer() -> None:
    env = make_env([make_deck("solo", [make_card("c1", back="x" * 500)], title="Solo")])
    front = await env.next()
    assert front.workspace == "review"
    await study(env, front, 3)
    again = only(await env.service.undo(ALICE))
    assert again.kind == "front" and again.workspace == "review"


async def test_stats_offers_the_stats_page(env: Env) -> None:
    outcome = await env.service.stats(ALICE)
    numbers, *rest = outcome.replies
    assert numbers.kind == "stats" and numbers.workspace == "stats"
    assert all(r.workspace is None for r in rest)
