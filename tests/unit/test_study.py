"""Tests for bot.core.study: the study loop over in-memory fakes, with a fixed clock."""

from __future__ import annotations

import inspect
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import get_type_hints
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card, Rating, Scheduler

from bot.core import ports, srs
from bot.core.actions import Action, decode
from bot.core.decks import Deck
from bot.core.messages import Button, Reply
from bot.core.model import (
    CardState,
    CardStateKind,
    Learner,
    LearnerSettings,
    ReviewEntry,
    ReviewSource,
)
from bot.core.study import EXPIRED_TEXT, StudyService, Who, rating_row_text
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_card, make_deck
from tests.fakes.store import FakeStore
from tests.fakes.tokens import SequentialTokens

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 2 March 2026, 14:00 UTC
ALICE = Who("telegram", "100", "Alice")
BOB = Who("telegram", "200", "Bob")
SETTINGS = LearnerSettings(enable_fuzzing=False)


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
    db: FakeDatabase
    clock: FixedClock
    tokens: SequentialTokens
    service: StudyService

    async def learner(self, who: Who = ALICE) -> Learner:
        return await self.service.learner(who)

    async def learner_id(self, who: Who = ALICE) -> int:
        return (await self.learner(who)).id

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
    tokens = SequentialTokens()
    defaults = replace(SETTINGS, **settings)  # type: ignore[arg-type]
    service = StudyService(db, clock, tokens, defaults, topics)
    return Env(db, clock, tokens, service)


@pytest.fixture
def env() -> Env:
    return make_env()


def one_card_env(**settings: object) -> Env:
    return make_env([make_deck("solo", [make_card("c1")], title="Solo")], **settings)  # type: ignore[arg-type]


def button(reply: Reply, prefix: str) -> Button:
    for b in reply.all_buttons():
        if b.label.startswith(prefix):
            return b
    raise AssertionError(f"no {prefix!r} button in {[b.label for b in reply.all_buttons()]}")


def token_of(reply: Reply) -> str:
    return decode(button(reply, "Show answer").payload).token


def all_text(reply: Reply | None) -> str:
    parts: list[str] = []
    while reply is not None:
        parts.append(reply.text)
        reply = reply.follow_up
    return "\n".join(parts)


async def reveal(env: Env, front: Reply, who: Who = ALICE) -> Reply:
    assert front.kind == "front", front
    back = await env.service.press(who, button(front, "Show answer").payload)
    assert back.kind == "back", back
    return back


def rate_payload(back: Reply, rating: int) -> str:
    buttons = back.all_buttons()
    assert len(buttons) == 4
    return buttons[rating - 1].payload


async def study(env: Env, front: Reply, rating: int, who: Who = ALICE) -> Reply:
    """Reveal the card on ``front`` and rate it; returns the reply to the rating."""
    back = await reveal(env, front, who)
    return await env.service.press(who, rate_payload(back, rating))


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


# --------------------------------------------------------------------------- fakes


async def test_fake_database_rolls_back_a_unit_of_work_that_raises(env: Env) -> None:
    before = env.db.snapshot()

    def work(tx: FakeTx) -> None:
        learner = tx.learners.create("telegram", "999", "Eve", SETTINGS, (), START)
        tx.schedule.save(review_state(learner.id, "a1", START))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await env.db.run(work)
    assert env.db.snapshot() == before
    assert env.db.learner("telegram", "999") is None
    assert env.db.rollbacks == 1

    learner = await env.db.run(
        lambda tx: tx.learners.create("telegram", "999", "Eve", SETTINGS, (), START)
    )
    assert env.db.learner("telegram", "999") == learner


def test_fakes_implement_every_port_method() -> None:
    """Every repository method of the ``Tx`` protocol exists on the fakes, with its parameters."""
    fake_tx = FakeTx(FakeStore())
    for name, value in vars(ports.Tx).items():
        if not isinstance(value, property) or value.fget is None:
            continue
        repo_protocol = get_type_hints(value.fget, vars(ports))["return"]
        fake_repo = getattr(fake_tx, name)
        for method_name, method in vars(repo_protocol).items():
            if method_name.startswith("_") or not callable(method):
                continue
            fake_method = getattr(fake_repo, method_name, None)
            assert fake_method is not None, f"{type(fake_repo).__name__}.{method_name} missing"
            wanted = list(inspect.signature(method).parameters)[1:]
            got = list(inspect.signature(fake_method).parameters)
            assert got == wanted, f"{type(fake_repo).__name__}.{method_name}{got} != {wanted}"


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


async def test_next_gives_a_front_with_show_answer(env: Env) -> None:
    reply = await env.service.next(ALICE)
    assert reply.kind == "front"
    assert reply.card is not None
    assert reply.card.card_id == "a1"
    assert reply.card.deck_title == "Attention"
    assert reply.card.front == "Front of a1"
    assert reply.card.back is None
    show = button(reply, "Show answer")
    assert decode(show.payload) == Action("reveal", "t0000001")
    assert decode(button(reply, "Bury").payload) == Action("bury", "t0000001")
    assert decode(button(reply, "Suspend").payload) == Action("suspend", "t0000001")
    prompt = env.db.prompt("t0000001")
    assert prompt is not None
    assert prompt.card_id == "a1"
    assert prompt.created_at == START
    assert prompt.source == "dm"
    assert prompt.learner_id == await env.learner_id()


async def test_reveal_shows_back_and_four_ratings_with_intervals(env: Env) -> None:
    front = await env.service.next(ALICE)
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
    assert rating_row_text(back) == f"Again 1m · Hard 6m · Good 10m · {easy_label}"
    # Revealing changes no schedule.
    assert not env.db.has_state(await env.learner_id(), "a1")


async def test_reveal_twice_keeps_first_reveal_time(env: Env) -> None:
    front = await env.service.next(ALICE)
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
    front = await env.service.next(ALICE)
    env.clock.advance(timedelta(seconds=3))
    back = await reveal(env, front)
    env.clock.advance(timedelta(seconds=4))
    reply = await env.service.press(ALICE, rate_payload(back, 3))

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

    assert reply.kind == "front"
    assert reply.card is not None and reply.card.card_id == "a2"
    assert reply.text == "Good: see it again in 10m."
    assert token_of(reply) != token_of(front)


@pytest.mark.parametrize(("given", "stored"), [(1234, 1234), (10**9, 600_000), (-5, 0)])
async def test_explicit_duration_is_clamped(env: Env, given: int, stored: int) -> None:
    front = await env.service.next(ALICE)
    await env.service.rate(ALICE, token_of(front), 2, duration_ms=given)
    (entry,) = env.db.reviews()
    assert entry.duration_ms == stored


async def test_rate_with_invalid_rating_is_an_error(env: Env) -> None:
    front = await env.service.next(ALICE)
    before = env.db.snapshot()
    reply = await env.service.rate(ALICE, token_of(front), 7)
    assert reply.kind == "error"
    assert env.db.snapshot() == before


async def test_console_source_is_recorded(env: Env) -> None:
    front = await env.service.next(ALICE, source=ReviewSource.CONSOLE)
    await study(env, front, 3)
    (entry,) = env.db.reviews()
    assert entry.source == "console"


async def test_due_reviews_come_before_new_cards(env: Env) -> None:
    lid = await env.learner_id()
    env.seed(review_state(lid, "t1", START - timedelta(days=1)))
    env.seed(review_state(lid, "a3", START - timedelta(days=3)))
    env.seed(review_state(lid, "t2", START + timedelta(days=3)))  # not due yet

    first = await env.service.next(ALICE)
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
    reply = await env.service.next(ALICE)
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
    reply = await env.service.next(ALICE)
    reply = await study(env, reply, 4)
    reply = await study(env, reply, 4)
    assert reply.kind == "done"
    assert (await env.service.next(ALICE)).kind == "done"

    env.clock.set(reset - timedelta(minutes=1))
    assert (await env.service.next(ALICE)).kind == "done"

    env.clock.set(reset)
    reply = await env.service.next(ALICE)
    assert reply.kind == "front"
    assert reply.card is not None and reply.card.card_id == "a3"


async def test_new_york_limit_does_not_reset_at_utc_midnight() -> None:
    env = make_env(
        start=datetime(2026, 3, 2, 23, 0, tzinfo=UTC),  # 18:00 in New York
        timezone="America/New_York",
        new_cards_per_day=1,
    )
    await study(env, await env.service.next(ALICE), 4)
    env.clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # a new UTC day; 20:00 in New York
    assert (await env.service.next(ALICE)).kind == "done"


async def test_new_card_limit_counts_cards_not_ratings() -> None:
    """A new card rated several times while learning uses one slot of the daily limit."""
    env = make_env(new_cards_per_day=2)
    reply = await env.service.next(ALICE)
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
    reply = await env.service.next(ALICE)
    reply = await study(env, reply, 3)
    reply = await study(env, reply, 3)
    assert reply.kind == "done"
    done = await env.service.next(ALICE)
    assert done.kind == "done"
    assert "You reached your limit of 2 reviews a day." in done.text
    assert "Done for today: 2 reviews (0 new)." in done.text

    env.clock.set(datetime(2026, 3, 3, 0, 0, tzinfo=UTC))  # next UTC day
    reply = await env.service.next(ALICE)
    assert reply.card is not None and reply.card.card_id == "r3"


async def test_done_at_review_limit_does_not_promise_an_overdue_card_now() -> None:
    """With the daily review limit reached, the next card comes tomorrow, not 'in 0s'."""
    deck = make_deck("d", ["r1", "r2", "r3"])
    env = make_env([deck], max_reviews_per_day=2)
    lid = await env.learner_id()
    for i, cid in enumerate(["r1", "r2", "r3"]):
        env.seed(review_state(lid, cid, START - timedelta(days=3 - i)))
    reply = await env.service.next(ALICE)
    reply = await study(env, reply, 3)
    await study(env, reply, 3)
    done = await env.service.next(ALICE)
    assert done.kind == "done"
    assert "due in 0s" not in done.text
    assert "Sun 01 Mar" not in done.text  # r3's (past) due time is not "the next card"


async def test_learn_ahead_shows_a_learning_card_due_soon_when_nothing_else_remains() -> None:
    env = one_card_env()
    reply = await study(env, await env.service.next(ALICE), 3)  # due in 10 minutes
    assert reply.kind == "front"
    assert reply.card is not None and reply.card.card_id == "c1"
    assert reply.text == "Good: see it again in 10m."


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
    done = await env.service.next(ALICE)
    assert done.kind == "done"
    assert "Next card due in 30m" in done.text
    env.clock.advance(timedelta(minutes=10))
    shown = await env.service.next(ALICE)
    assert shown.card is not None and shown.card.card_id == "c1"


async def test_learn_ahead_waits_until_new_cards_are_done(env: Env) -> None:
    reply = await study(env, await env.service.next(ALICE), 3)  # a1 due in 10 minutes
    assert reply.card is not None and reply.card.card_id == "a2"


async def test_done_summary_has_counts_and_next_due_time() -> None:
    env = make_env([make_deck("d", ["c1", "c2"])], timezone="Europe/Paris")
    reply = await env.service.next(ALICE)
    reply = await study(env, reply, 4)
    await study(env, reply, 4)
    done = await env.service.next(ALICE)
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
    done = await env.service.next(ALICE)
    assert done.kind == "done"
    assert "Done for today: 0 reviews (0 new)." in done.text
    assert "Nothing is scheduled" in done.text


async def test_reply_to_the_last_rating_keeps_the_done_summary() -> None:
    """Rating the last card of the day says what the rating did AND that the day is done."""
    env = one_card_env()
    reply = await study(env, await env.service.next(ALICE), 4)
    assert reply.kind == "done"
    text = all_text(reply)
    assert "Easy: see it again in 8d." in text
    assert "Done for today: 1 review (1 new)." in text


# --------------------------------------------------------------------------- expired buttons


async def test_double_tap_records_one_review(env: Env) -> None:
    back = await reveal(env, await env.service.next(ALICE))
    payload = rate_payload(back, 3)
    first = await env.service.press(ALICE, payload)
    assert first.kind == "front"
    before = env.db.snapshot()
    second = await env.service.press(ALICE, payload)
    assert second.kind == "expired"
    assert second.text == EXPIRED_TEXT
    assert len(env.db.reviews()) == 1
    assert env.db.snapshot() == before
    # A different rating on the same prompt is a double tap too.
    assert (await env.service.press(ALICE, rate_payload(back, 1))).kind == "expired"
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
    await env.service.next(ALICE)
    before = env.db.snapshot()
    reply = await env.service.press(ALICE, payload)
    assert reply.kind == "expired"
    assert env.db.snapshot() == before


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "garbage",
        "r:t0000001",  # a rating without its argument
        "r:t0000001:9",
        "r:t0000001:0",
        "r:t0000001:03x",
        "s:t0000001:3",  # reveal takes no argument
        "r:short:3",
        "z:t0000001",
        "r:t0000001:3:4",
        "r:t00 0001:3",
        "r:" + "A" * 70 + ":3",
        "u:t0000001",  # well-formed but not a button the study loop answers
        "n:t0000001",
        "r:t0000001:³",
    ],
)
async def test_malformed_payload_is_expired(env: Env, payload: str) -> None:
    await env.service.next(ALICE)
    before = env.db.snapshot()
    reply = await env.service.press(ALICE, payload)
    assert reply.kind == "expired"
    assert reply.text == EXPIRED_TEXT
    assert env.db.snapshot() == before


async def test_another_learners_token_is_expired(env: Env) -> None:
    await env.learner(BOB)
    front = await env.service.next(ALICE)
    back = await reveal(env, front)
    before = env.db.snapshot()
    for payload in (
        button(front, "Show answer").payload,
        rate_payload(back, 3),
        button(front, "Bury").payload,
        button(front, "Suspend").payload,
    ):
        reply = await env.service.press(BOB, payload)
        assert reply.kind == "expired", payload
    assert env.db.snapshot() == before
    # Alice can still use her own buttons.
    assert (await env.service.press(ALICE, rate_payload(back, 3))).kind == "front"


async def test_stale_token_is_expired(env: Env) -> None:
    """A card reviewed through a newer prompt makes older prompts for it stale."""
    old = await env.service.next(ALICE)
    old_back = await reveal(env, old)
    env.clock.advance(timedelta(seconds=5))
    new = await env.service.next(ALICE)
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
        reply = await env.service.press(ALICE, payload)
        assert reply.kind == "expired", payload
    assert env.db.snapshot() == before
    assert len(env.db.reviews()) == 1


# --------------------------------------------------------------------------- undo


async def test_undo_of_a_new_card_deletes_its_state(env: Env) -> None:
    lid = await env.learner_id()
    front = await env.service.next(ALICE)
    assert not env.db.has_state(lid, "a1")
    before = env.db.state(lid, "a1")
    await study(env, front, 3)
    assert env.db.has_state(lid, "a1")

    env.clock.advance(timedelta(seconds=10))
    reply = await env.service.undo(ALICE)
    assert not env.db.has_state(lid, "a1")
    assert env.db.state(lid, "a1") == before
    (entry,) = env.db.reviews(lid)
    assert entry.undone_at == START + timedelta(seconds=10)
    counts = env.db.run_sync(lambda tx: tx.reviews.counts_since(lid, START - timedelta(days=1)))
    assert counts == (0, 0)
    assert (await env.service.stats(ALICE)).reviewed_today == 0

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
    front = await env.service.next(ALICE)
    reply = await study(env, front, 1)
    changed = env.db.state(lid, "t1")
    assert changed != seeded
    assert changed.lapses == 4
    assert changed.state is CardStateKind.RELEARNING

    reply = await env.service.undo(ALICE)
    assert env.db.state(lid, "t1") == seeded
    assert reply.text == "Undid Again on “Title of t1”."
    assert reply.card is not None and reply.card.card_id == "t1"


async def test_undo_twice_goes_back_two_ratings(env: Env) -> None:
    lid = await env.learner_id()
    reply = await study(env, await env.service.next(ALICE), 4)  # a1
    env.clock.advance(timedelta(seconds=1))
    await study(env, reply, 4)  # a2
    first = await env.service.undo(ALICE)
    assert first.card is not None and first.card.card_id == "a2"
    second = await env.service.undo(ALICE)
    assert second.card is not None and second.card.card_id == "a1"
    assert not env.db.has_state(lid, "a1") and not env.db.has_state(lid, "a2")
    nothing = await env.service.undo(ALICE)
    assert nothing.kind == "info"
    assert nothing.text == "There is nothing to undo."


async def test_undo_with_nothing_is_friendly(env: Env) -> None:
    reply = await env.service.undo(ALICE)
    assert reply.kind == "info"
    assert reply.text == "There is nothing to undo."


async def test_undo_only_touches_the_learners_own_reviews(env: Env) -> None:
    await study(env, await env.service.next(ALICE), 3)
    reply = await env.service.undo(BOB)
    assert reply.text == "There is nothing to undo."
    assert len([e for e in env.db.reviews() if e.undone_at is None]) == 1


# --------------------------------------------------------------------------- bury and suspend


async def test_bury_hides_a_card_until_the_next_local_day() -> None:
    paris = "Europe/Paris"
    env = make_env([make_deck("d", ["c1", "c2"])], timezone=paris)  # 15:00 in Paris
    lid = await env.learner_id()
    front = await env.service.next(ALICE)
    reply = await env.service.press(ALICE, button(front, "Bury").payload)
    assert reply.text == "Buried until tomorrow."
    assert reply.card is not None and reply.card.card_id == "c2"
    midnight = datetime(2026, 3, 2, 23, 0, tzinfo=UTC)  # 00:00 on 3 March in Paris
    assert env.db.state(lid, "c1").buried_until == midnight
    assert env.db.state(lid, "c1").buried_until == srs.next_day_start(START, paris)

    await study(env, reply, 4)  # c2 done for days
    env.clock.set(midnight - timedelta(minutes=30))
    done = await env.service.next(ALICE)
    assert done.kind == "done"
    env.clock.set(midnight)
    shown = await env.service.next(ALICE)
    assert shown.card is not None and shown.card.card_id == "c1"
    # Rating it counts it as a new card, and clears the bury.
    await study(env, shown, 3)
    (_, entry) = env.db.reviews(lid)
    assert entry.before.state is CardStateKind.NEW
    assert env.db.state(lid, "c1").buried_until is None


async def test_buried_card_stays_hidden_in_the_last_minutes_of_the_day() -> None:
    """Learn-ahead (20 minutes) must not bring back a card buried until midnight."""
    env = make_env([make_deck("d", ["c1"])], timezone="Europe/Paris")
    front = await env.service.next(ALICE)
    await env.service.press(ALICE, button(front, "Bury").payload)
    env.clock.set(datetime(2026, 3, 2, 22, 50, tzinfo=UTC))  # 23:50 in Paris
    reply = await env.service.next(ALICE)
    assert reply.kind == "done"


async def test_bury_a_review_card() -> None:
    env = make_env([make_deck("d", ["c1"])], timezone="America/New_York")
    lid = await env.learner_id()
    seeded = review_state(lid, "c1", START - timedelta(days=1))
    env.seed(seeded)
    front = await env.service.next(ALICE)
    reply = await env.service.press(ALICE, button(front, "Bury").payload)
    assert reply.kind == "done"
    state = env.db.state(lid, "c1")
    assert state == replace(seeded, buried_until=datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    assert not env.db.reviews()
    env.clock.set(datetime(2026, 3, 3, 5, 0, tzinfo=UTC))
    shown = await env.service.next(ALICE)
    assert shown.card is not None and shown.card.card_id == "c1"


async def test_bury_twice_is_expired(env: Env) -> None:
    front = await env.service.next(ALICE)
    payload = button(front, "Bury").payload
    await env.service.press(ALICE, payload)
    before = env.db.snapshot()
    assert (await env.service.press(ALICE, payload)).kind == "expired"
    assert env.db.snapshot() == before


async def test_suspend_and_unsuspend(env: Env) -> None:
    lid = await env.learner_id()
    front = await env.service.next(ALICE)
    reply = await env.service.press(ALICE, button(front, "Suspend").payload)
    assert reply.text == "Suspended. Send /unsuspend to bring suspended cards back."
    assert reply.card is not None and reply.card.card_id == "a2"
    assert env.db.state(lid, "a1").suspended
    assert not env.db.reviews()

    again = await env.service.next(ALICE)
    assert again.card is not None and again.card.card_id == "a2"

    back = await env.service.unsuspend(ALICE)
    assert back.kind == "info"
    assert back.text == "Brought back 1 suspended card."
    assert not env.db.state(lid, "a1").suspended
    shown = await env.service.next(ALICE)
    assert shown.card is not None and shown.card.card_id == "a1"

    none = await env.service.unsuspend(ALICE)
    assert none.text == "No suspended cards to bring back."


async def test_unsuspend_chosen_cards(env: Env) -> None:
    lid = await env.learner_id()
    for cid in ("a1", "a2", "t1"):
        env.seed(review_state(lid, cid, START + timedelta(days=2), suspended=True))
    reply = await env.service.unsuspend(ALICE, ["a1", "t1"])
    assert reply.text == "Brought back 2 suspended cards."
    assert [env.db.state(lid, c).suspended for c in ("a1", "a2", "t1")] == [False, True, False]


async def test_only_a_suspended_card_left_says_nothing_is_scheduled() -> None:
    env = one_card_env()
    front = await env.service.next(ALICE)
    reply = await env.service.press(ALICE, button(front, "Suspend").payload)
    assert reply.kind == "done"
    done = await env.service.next(ALICE)
    assert done.kind == "done"
    assert "Nothing is scheduled" in done.text


async def test_leech_is_suspended_after_eight_lapses() -> None:
    env = one_card_env()
    lid = await env.learner_id()
    reply = await study(env, await env.service.next(ALICE), 4)  # straight to Review
    for lapse in range(1, 9):
        due = env.db.state(lid, "c1").due
        assert due is not None
        env.clock.set(due)
        front = await env.service.next(ALICE)
        assert front.card is not None and front.card.card_id == "c1"
        reply = await study(env, front, 1)
        state = env.db.state(lid, "c1")
        assert state.lapses == lapse
        if lapse < 8:
            assert not state.suspended
            assert "leech" not in reply.text
            # Relearning: shown again through learn-ahead; Good takes it back to Review.
            assert reply.card is not None and reply.card.card_id == "c1"
            await study(env, reply, 3)
            assert env.db.state(lid, "c1").state is CardStateKind.REVIEW
    state = env.db.state(lid, "c1")
    assert state.suspended and state.leech
    assert "lapsed 8 times" in reply.text
    assert "suspended as a leech" in reply.text
    assert "/unsuspend" in reply.text
    assert reply.card is None
    env.clock.advance(timedelta(days=30))
    assert (await env.service.next(ALICE)).kind == "done"


# --------------------------------------------------------------------------- typed answers


async def test_typed_answer_is_shown_beside_the_back_and_stored(env: Env) -> None:
    front = await env.service.next(ALICE)
    back = await env.service.reveal(ALICE, token_of(front), "  softmax(QK^T / sqrt(d)) V  ")
    assert back.kind == "back"
    assert back.card is not None
    assert back.card.typed_answer == "softmax(QK^T / sqrt(d)) V"
    assert back.card.back == "Back of a1"
    # Revealing again without a typed answer keeps it.
    again = await env.service.reveal(ALICE, token_of(front))
    assert again.card is not None and again.card.typed_answer == "softmax(QK^T / sqrt(d)) V"
    await env.service.press(ALICE, rate_payload(back, 3))
    (entry,) = env.db.reviews()
    assert entry.typed_answer == "softmax(QK^T / sqrt(d)) V"


async def test_blank_typed_answer_is_none_and_long_one_is_cut(env: Env) -> None:
    front = await env.service.next(ALICE)
    blank = await env.service.reveal(ALICE, token_of(front), "   ")
    assert blank.card is not None and blank.card.typed_answer is None
    long = await env.service.reveal(ALICE, token_of(front), "x" * 5000)
    assert long.card is not None and long.card.typed_answer == "x" * 2000


async def test_no_typed_answer_is_stored_as_none(env: Env) -> None:
    await study(env, await env.service.next(ALICE), 3)
    (entry,) = env.db.reviews()
    assert entry.typed_answer is None


# --------------------------------------------------------------------------- settings


async def test_settings_describe(env: Env) -> None:
    reply = await env.service.settings(ALICE)
    assert reply.kind == "info"
    assert "timezone: UTC" in reply.text
    assert "new: 10 new cards a day" in reply.text
    assert "decks: all decks" in reply.text


async def test_timezone_is_validated(env: Env) -> None:
    ok = await env.service.change_setting(ALICE, "timezone", "Europe/Paris")
    assert ok.kind == "info"
    assert ok.text.startswith("Saved.")
    assert "timezone: Europe/Paris" in ok.text
    assert (await env.learner()).settings.timezone == "Europe/Paris"

    before = env.db.snapshot()
    for bad in ("Nowhere/Bad", "", "../etc/passwd", "europe/paris"):
        reply = await env.service.change_setting(ALICE, "timezone", bad)
        assert reply.kind == "error", bad
        assert "time zone" in reply.text
    assert env.db.snapshot() == before
    assert (await env.learner()).settings.timezone == "Europe/Paris"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.7", 0.7), ("0.99", 0.99), ("0.85", 0.85), ("90%", 0.9), (" 0.8 ", 0.8)],
)
async def test_retention_accepts_0_7_to_0_99(env: Env, value: str, expected: float) -> None:
    reply = await env.service.change_setting(ALICE, "retention", value)
    assert reply.kind == "info"
    assert (await env.learner()).settings.desired_retention == pytest.approx(expected)


@pytest.mark.parametrize("value", ["0.69", "1", "1.0", "0.995", "abc", "", "nan", "-0.8", "99"])
async def test_retention_rejects_out_of_range(env: Env, value: str) -> None:
    await env.learner()
    before = env.db.snapshot()
    reply = await env.service.change_setting(ALICE, "retention", value)
    assert reply.kind == "error"
    assert "0.70 to 0.99" in reply.text
    assert env.db.snapshot() == before


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("5", 5), ("500", 500)])
async def test_new_per_day_accepts_whole_numbers(env: Env, value: str, expected: int) -> None:
    reply = await env.service.change_setting(ALICE, "new", value)
    assert reply.kind == "info"
    assert (await env.learner()).settings.new_cards_per_day == expected


@pytest.mark.parametrize("value", ["501", "-1", "five", "2.5", "", "²", "1²"])
async def test_new_per_day_rejects_bad_values(env: Env, value: str) -> None:
    await env.learner()
    before = env.db.snapshot()
    reply = await env.service.change_setting(ALICE, "new", value)
    assert reply.kind == "error"
    assert "New cards per day" in reply.text
    assert env.db.snapshot() == before


@pytest.mark.parametrize("value", ["0", "10001", "x", "²"])
async def test_max_reviews_rejects_bad_values(env: Env, value: str) -> None:
    await env.learner()
    before = env.db.snapshot()
    reply = await env.service.change_setting(ALICE, "max_reviews", value)
    assert reply.kind == "error"
    assert env.db.snapshot() == before


async def test_new_per_day_change_takes_effect(env: Env) -> None:
    await env.service.change_setting(ALICE, "new", "1")
    reply = await study(env, await env.service.next(ALICE), 4)
    assert reply.kind == "done"


async def test_unknown_setting_is_an_error(env: Env) -> None:
    await env.learner()
    before = env.db.snapshot()
    reply = await env.service.change_setting(ALICE, "colour", "blue")
    assert reply.kind == "error"
    assert "Unknown setting" in reply.text
    assert env.db.snapshot() == before


async def test_timezone_change_moves_the_day_boundary() -> None:
    """At 01:00 UTC it is still yesterday in New York: the new-card limit holds there."""
    env = make_env(start=datetime(2026, 3, 2, 23, 0, tzinfo=UTC), new_cards_per_day=1)
    await study(env, await env.service.next(ALICE), 4)
    env.clock.set(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))
    assert (await env.service.next(ALICE)).kind == "front"  # a new UTC day
    await env.service.change_setting(ALICE, "timezone", "America/New_York")
    assert (await env.service.next(ALICE)).kind == "done"  # same New York day


# --------------------------------------------------------------------------- topics and decks


async def test_decks_lists_decks_and_what_is_studied(env: Env) -> None:
    reply = await env.service.decks(ALICE)
    assert reply.kind == "info"
    assert "• Attention (attention): 3 cards" in reply.text
    assert "• Transformers (transformers): 2 cards" in reply.text
    assert "You study: all decks." in reply.text


async def test_topics_by_deck_id(env: Env) -> None:
    reply = await env.service.study_topics(ALICE, ["transformers"])
    assert reply.kind == "info"
    assert reply.text == "Studying transformers."
    assert (await env.learner()).topics == ("transformers",)
    first = await env.service.next(ALICE)
    assert first.card is not None and first.card.card_id == "t1"
    second = await study(env, first, 4)
    assert second.card is not None and second.card.card_id == "t2"
    assert (await study(env, second, 4)).kind == "done"
    assert "You study: transformers." in (await env.service.decks(ALICE)).text


async def test_topics_by_tag(env: Env) -> None:
    await env.service.study_topics(ALICE, ["Softmax"])
    first = await env.service.next(ALICE)
    assert first.card is not None and first.card.card_id == "a2"
    second = await study(env, first, 4)
    assert second.card is not None and second.card.card_id == "t2"
    assert (await study(env, second, 4)).kind == "done"


async def test_topics_all_means_every_deck(env: Env) -> None:
    await env.service.study_topics(ALICE, ["transformers"])
    reply = await env.service.study_topics(ALICE, ["all"])
    assert reply.text == "Studying all decks."
    assert (await env.learner()).topics == ()
    first = await env.service.next(ALICE)
    assert first.card is not None and first.card.card_id == "a1"


async def test_unknown_topic_is_an_error(env: Env) -> None:
    await env.service.study_topics(ALICE, ["attention"])
    before = env.db.snapshot()
    reply = await env.service.study_topics(ALICE, ["attention", "nope"])
    assert reply.kind == "error"
    assert "nope" in reply.text
    assert "attention, layers, softmax, transformers" in reply.text
    assert env.db.snapshot() == before
    assert (await env.learner()).topics == ("attention",)


async def test_topics_do_not_hide_due_reviews(env: Env) -> None:
    lid = await env.learner_id()
    env.seed(review_state(lid, "a3", START - timedelta(hours=1)))
    await env.service.study_topics(ALICE, ["transformers"])
    reply = await env.service.next(ALICE)
    assert reply.card is not None and reply.card.card_id == "a3"


# --------------------------------------------------------------------------- stats


async def test_stats_due_today_counts_until_local_midnight() -> None:
    # 14:00 UTC is 09:00 in New York; the local day ends at 05:00 UTC on 3 March.
    env = make_env(timezone="America/New_York")
    lid = await env.learner_id()
    env.seed(review_state(lid, "a1", START - timedelta(days=1)))
    env.seed(review_state(lid, "a2", datetime(2026, 3, 3, 4, 59, tzinfo=UTC)))
    env.seed(review_state(lid, "a3", datetime(2026, 3, 3, 5, 0, tzinfo=UTC)))  # tomorrow
    env.seed(review_state(lid, "t1", START, suspended=True))
    s = await env.service.stats(ALICE)
    assert s.due_today == 2


async def test_stats_reviewed_today_excludes_undone(env: Env) -> None:
    reply = await study(env, await env.service.next(ALICE), 4)
    env.clock.advance(timedelta(seconds=1))
    await study(env, reply, 4)
    assert (await env.service.stats(ALICE)).reviewed_today == 2
    await env.service.undo(ALICE)
    assert (await env.service.stats(ALICE)).reviewed_today == 1


async def test_stats_streak_across_local_days() -> None:
    # 23:30 on 2 March in New York (04:30 UTC on 3 March).
    env = make_env(
        [make_deck("d", ["c1", "c2", "c3"])],
        start=datetime(2026, 3, 3, 4, 30, tzinfo=UTC),
        timezone="America/New_York",
    )
    await study(env, await env.service.next(ALICE), 4)
    env.clock.set(datetime(2026, 3, 3, 5, 30, tzinfo=UTC))  # 00:30 on 3 March, same UTC day
    await study(env, await env.service.next(ALICE), 4)
    s = await env.service.stats(ALICE)
    assert s.streak_days == 2
    assert s.reviewed_today == 1

    env.clock.set(datetime(2026, 3, 5, 3, 0, tzinfo=UTC))  # 22:00 on 4 March: yesterday counts
    assert (await env.service.stats(ALICE)).streak_days == 2
    env.clock.set(datetime(2026, 3, 5, 5, 0, tzinfo=UTC))  # 00:00 on 5 March: a gap
    assert (await env.service.stats(ALICE)).streak_days == 0


async def test_stats_retention_over_mature_reviews_of_last_30_days(env: Env) -> None:
    lid = await env.learner_id()
    mature = review_state(lid, "a1", START)
    learning = CardState(lid, "a2", CardStateKind.LEARNING, due=START, last_review=START)

    def add(days_ago: float, rating: int, before: CardState) -> None:
        at = START - timedelta(days=days_ago)
        entry = ReviewEntry(lid, before.card_id, rating, at, "dm", before, before, 1000)
        env.db.run_sync(lambda tx: tx.reviews.add(entry))

    add(1, 3, mature)
    add(2, 4, mature)
    add(3, 2, mature)
    add(4, 1, mature)
    add(5, 1, learning)  # not mature
    add(40, 1, mature)  # too old
    s = await env.service.stats(ALICE)
    assert s.reviews_30d == 4
    assert s.retention_30d == pytest.approx(0.75)
    assert s.desired_retention == 0.9
    text = await env.service.stats_text(ALICE)
    assert text.kind == "info"
    assert "75% of 4 mature reviews (target 90%)" in text.text


async def test_stats_retention_none_without_mature_reviews(env: Env) -> None:
    await study(env, await env.service.next(ALICE), 3)
    s = await env.service.stats(ALICE)
    assert s.retention_30d is None
    assert "no mature reviews yet" in (await env.service.stats_text(ALICE)).text


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
    forecast = await env.service.forecast(ALICE, days=3)
    assert forecast == [2, 2, 0]
