"""Tests for bot.core.pushes: the daily push fan-out, the outbox, snooze and skip.

Everything runs over in-memory fakes with a fixed clock; nothing sleeps. A
snooze is the learner's next push instant, so the same tick that sends daily
pushes sends it; buttons are pressed through ``Inputs.press``.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from functools import partial

import pytest

from bot.core.actions import Action, decode
from bot.core.decks import Deck
from bot.core.learners import Basics, Who
from bot.core.localtime import next_push_after
from bot.core.messages import Reply
from bot.core.model import (
    CardInfo,
    CardState,
    CardStateKind,
    Learner,
    OutboxMessage,
    ReviewEntry,
    ReviewSource,
)
from bot.core.outcomes import Outcome
from bot.core.ports import Delivery, DeliveryRefused, DeliveryRetry, Tx
from bot.core.pushes import (
    PARKED,
    Plan,
    PushPolicy,
    PushService,
    deliveries,
    delivery_for,
    plan_pushes,
)
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_card, make_deck
from tests.fakes.store import OutboxRow
from tests.fakes.tokens import SequentialTokens
from tests.fakes.virtual_time import run_virtual
from tests.services import SETTINGS, Services, action_of, build_services, button, is_expired, only

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 2 March 2026, 14:00 UTC
PUSH = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # Tuesday 09:00 UTC: the first push
DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
ALICE = Who("telegram", "100", "Alice")
BOB = Who("telegram", "200", "Bob")
CAROL = Who("telegram", "300", "Carol")
PLATFORMS = ("telegram",)
CARD_IDS = [f"c{i:02d}" for i in range(1, 41)]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def default_decks() -> list[Deck]:
    return [make_deck("deck", [make_card(c) for c in CARD_IDS], title="Deck")]


@dataclass
class Env:
    services: Services[FakeDatabase]

    def __post_init__(self) -> None:
        self.db = self.services.db
        self.clock = self.services.clock
        self.pushes = self.services.pushes
        self.study = self.services.study

    async def press(self, who: Who, reply: Reply, label: str) -> Outcome:
        return await self.services.press(who, button(reply, label).payload)

    async def learner(self, who: Who = ALICE) -> Learner:
        return await self.study.learner(who)

    def stored(self, learner_id: int) -> Learner:
        learner = self.db.run_sync(lambda tx: tx.learners.get_by_id(learner_id))
        assert learner is not None
        return learner

    async def tick_at(self, when: datetime) -> int:
        self.clock.set(when)
        return await self.pushes.tick(PLATFORMS)

    def seed_due(self, learner_id: int, card_ids: Sequence[str], due: datetime) -> None:
        def work(tx: FakeTx) -> None:
            for card_id in card_ids:
                tx.schedule.save(review_state(learner_id, card_id, due))

        self.db.run_sync(work)

    def outbox(self) -> list[OutboxRow]:
        return self.db.outbox()


def make_env(start: datetime = START, policy: PushPolicy | None = None, **settings: object) -> Env:
    db = FakeDatabase(default_decks(), now=start - timedelta(days=30))
    defaults = replace(SETTINGS, **settings)  # type: ignore[arg-type]
    return Env(build_services(db, FixedClock(start), settings=defaults, policy=policy))


def review_state(learner_id: int, card_id: str, due: datetime) -> CardState:
    return CardState(
        learner_id=learner_id,
        card_id=card_id,
        state=CardStateKind.REVIEW,
        stability=12.5,
        difficulty=5.25,
        due=due,
        last_review=due - timedelta(days=12),
        reps=6,
        lapses=1,
    )


def add_review(env: Env, learner_id: int, at: datetime, duration_ms: int | None) -> None:
    state = review_state(learner_id, "c40", at)
    entry = ReviewEntry(
        learner_id=learner_id,
        card_id="c40",
        rating=3,
        reviewed_at=at,
        source=ReviewSource.DM,
        before=state,
        after=replace(state, due=at + timedelta(days=30)),
        duration_ms=duration_ms,
    )
    env.db.run_sync(lambda tx: tx.reviews.add(entry))


REACHED = Delivery(reached=True)


class Sender:
    """A platform's push: records each call; what it does (a Delivery or an exception) in
    turn, the last one repeating."""

    def __init__(self, *outcomes: Delivery | BaseException, log: list[str] | None = None) -> None:
        self.outcomes = outcomes or (REACHED,)
        self.calls: list[tuple[Learner, Reply]] = []
        self.skips: list[int] = []
        self.log = log

    async def __call__(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        outcome = self.outcomes[min(len(self.calls), len(self.outcomes) - 1)]
        self.calls.append((learner, reply))
        self.skips.append(skip)
        if self.log is not None:
            self.log.append(f"send {learner.platform_user_id}")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class Crash(BaseException):
    """The process dies mid-send (not an Exception: nothing in the core catches it)."""


async def queued_push(env: Env, who: Who = ALICE, cards: Sequence[str] = ("c01", "c02")) -> int:
    """Enrol ``who`` at START with due cards and tick at their push time; returns their id."""
    learner = await env.learner(who)
    env.seed_due(learner.id, cards, START - DAY)
    assert await env.tick_at(PUSH) >= 1
    return learner.id


# --------------------------------------------------------------------------- the fan-out


async def test_due_learner_gets_exactly_one_push_at_their_push_time() -> None:
    env = make_env()
    learner = await env.learner()
    assert learner.next_push_at == PUSH
    assert env.stored(learner.id).next_push_at == PUSH
    env.seed_due(learner.id, ["c01"], START - DAY)
    env.seed_due(learner.id, ["c02"], START - 2 * DAY)  # the most overdue
    env.seed_due(learner.id, ["c03"], PUSH - timedelta(minutes=1))
    env.seed_due(learner.id, ["c04"], PUSH + timedelta(minutes=1))  # not yet due

    assert await env.tick_at(PUSH - timedelta(seconds=1)) == 0
    assert env.outbox() == []
    assert env.services.metrics.planned == Counter()

    assert await env.tick_at(PUSH) == 1
    assert env.services.metrics.planned == Counter({"telegram": 1})
    [row] = env.outbox()
    m = row.message
    assert (m.platform, m.learner_id, m.kind) == ("telegram", learner.id, "push")
    assert m.due_count == 3
    assert m.card_id == "c02"
    assert m.text == "3 cards are due: about 1 minute."  # 3 x 20 s
    assert m.created_at == m.not_before == PUSH
    assert row.pending and row.lease_until is None
    assert m.prompt_token is not None
    # The prompt behind the push's buttons is made when the push is delivered.
    assert env.db.prompt(m.prompt_token) is None
    assert await env.pushes.drain("telegram", Sender()) == 1
    prompt = env.db.prompt(m.prompt_token)
    assert prompt is not None
    assert (prompt.learner_id, prompt.card_id, prompt.source) == (learner.id, "c02", "push")
    assert prompt.created_at == env.clock.now()

    assert env.stored(learner.id).next_push_at == PUSH + DAY
    assert await env.tick_at(PUSH) == 0
    assert await env.tick_at(PUSH + timedelta(hours=3)) == 0
    assert len(env.outbox()) == 1
    assert env.services.metrics.planned == Counter({"telegram": 1})
    assert env.db.run_sync(lambda tx: tx.pushes.pending_count()) == 0  # delivered above
    assert env.db.run_sync(lambda tx: tx.pushes.pending_count("discord")) == 0


async def test_push_time_is_local_and_next_push_is_the_next_local_day() -> None:
    env = make_env(timezone="America/New_York", push_time=time(8, 30))
    learner = await env.learner()
    first = utc(2026, 3, 3, 13, 30)  # 08:30 EST
    assert learner.next_push_at == first
    env.seed_due(learner.id, ["c01"], START)
    assert await env.tick_at(first) == 1
    assert [r.message.text for r in env.outbox()] == ["1 card is due: about 1 minute."]
    assert env.stored(learner.id).next_push_at == utc(2026, 3, 4, 13, 30)


async def test_estimate_uses_the_learners_own_mean_duration() -> None:
    env = make_env()
    learner = await env.learner()
    env.seed_due(learner.id, ["c01", "c02", "c03", "c04"], START - DAY)
    add_review(env, learner.id, PUSH - 2 * DAY, 45_000)
    add_review(env, learner.id, PUSH - 3 * DAY, 75_000)  # mean 60 s a card
    add_review(env, learner.id, PUSH - 5 * DAY, None)  # no duration: not counted
    add_review(env, learner.id, PUSH - 31 * DAY, 600_000)  # older than 30 days: not counted
    bob = await env.learner(BOB)
    env.seed_due(bob.id, ["c01", "c02", "c03", "c04"], START - DAY)

    assert await env.tick_at(PUSH) == 2
    texts = {r.message.learner_id: r.message.text for r in env.outbox()}
    assert texts == {
        learner.id: "4 cards are due: about 4 minutes.",  # 4 x 60 s
        bob.id: "4 cards are due: about 2 minutes.",  # no reviews: 4 x 20 s, rounded up
    }


async def test_nothing_due_sends_nothing_but_the_next_push_advances() -> None:
    env = make_env()
    learner = await env.learner()
    env.seed_due(learner.id, ["c01"], PUSH + timedelta(hours=2))  # due later today
    assert await env.tick_at(PUSH) == 1  # claimed ...
    assert env.outbox() == []  # ... but nothing to say
    assert env.db.prompt("t0000001") is None
    assert env.stored(learner.id).next_push_at == PUSH + DAY


async def test_suspended_buried_and_retired_cards_do_not_count() -> None:
    env = make_env()
    learner = await env.learner()
    lid = learner.id
    env.seed_due(lid, ["c01", "c02", "c03", "c04"], START - DAY)

    def hide_two(tx: FakeTx) -> None:
        tx.schedule.save(replace(review_state(lid, "c01", START - DAY), suspended=True))
        tx.schedule.save(replace(review_state(lid, "c02", START - DAY), buried_until=PUSH + DAY))

    env.db.run_sync(hide_two)
    keep = [c for c in CARD_IDS if c != "c03"]
    env.db.run_sync(lambda tx: tx.catalogue.sync([make_deck("deck", keep, title="Deck")], START))
    assert await env.tick_at(PUSH) == 1
    [row] = env.outbox()
    assert (row.message.due_count, row.message.card_id) == (1, "c04")


async def test_paused_and_unreachable_learners_are_not_claimed() -> None:
    env = make_env()
    alice = await queued_push_setup(env, ALICE)
    bob = await queued_push_setup(env, BOB)
    carol = await queued_push_setup(env, CAROL)
    await env.study.pause(BOB)
    await env.study.mark_unreachable(CAROL)

    assert await env.tick_at(PUSH) == 1
    assert [r.message.learner_id for r in env.outbox()] == [alice]
    assert env.stored(bob).next_push_at == PUSH  # untouched: never claimed
    assert env.stored(carol).next_push_at == PUSH
    assert await env.tick_at(PUSH + timedelta(hours=1)) == 0


async def queued_push_setup(env: Env, who: Who) -> int:
    learner = await env.learner(who)
    env.seed_due(learner.id, ["c01"], START - DAY)
    return learner.id


async def test_other_platforms_are_not_claimed() -> None:
    env = make_env()
    await queued_push_setup(env, Who("discord", "9"))
    assert await env.tick_at(PUSH) == 0
    assert env.outbox() == []


async def test_two_ticks_at_the_same_instant_never_queue_a_learner_twice() -> None:
    env = make_env()
    ids = [await queued_push_setup(env, Who("telegram", str(n))) for n in range(5)]
    other = build_services(env.db, env.clock, tokens=SequentialTokens("u")).pushes
    env.clock.set(PUSH)
    claimed = await asyncio.gather(env.pushes.tick(PLATFORMS), other.tick(PLATFORMS))
    assert sum(claimed) == 5
    assert await env.pushes.tick(PLATFORMS) == 0
    assert sorted(r.message.learner_id for r in env.outbox()) == sorted(ids)


async def test_tick_claims_batch_after_batch() -> None:
    env = make_env(policy=PushPolicy(batch=2))
    ids = [await queued_push_setup(env, Who("telegram", str(n))) for n in range(5)]
    commits = env.db.commits
    assert await env.tick_at(PUSH) == 5
    assert env.db.commits - commits == 3  # 2 + 2 + 1
    assert sorted(r.message.learner_id for r in env.outbox()) == sorted(ids)
    tokens = [r.message.prompt_token for r in env.outbox()]
    assert len(set(tokens)) == 5


def test_plan_pushes_with_nobody_due_claims_and_plans_nothing() -> None:
    db = FakeDatabase(default_decks(), now=START)
    assert db.run_sync(
        lambda tx: plan_pushes(tx, PUSH, PLATFORMS, SequentialTokens(), PushPolicy())
    ) == Plan(0, {})


# --------------------------------------------------------------------------- silence


async def test_silent_learner_gets_one_reminder_then_pushes_stop_until_they_write() -> None:
    env = make_env()
    learner = await env.learner()  # last seen at START (Monday 14:00)
    env.seed_due(learner.id, ["c01", "c02", "c03", "c04"], START - DAY)
    kinds: dict[int, list[str]] = {}
    for day in range(15):  # Tuesday 3 March ... Tuesday 17 March, 09:00
        n = len(env.outbox())
        assert await env.tick_at(PUSH + day * DAY) == 1
        kinds[3 + day] = [r.message.kind for r in env.outbox()[n:]]
    assert kinds[3] == kinds[4] == kinds[5] == ["push"]  # under 3 days of silence
    assert kinds[6] == ["reminder"]  # 3 days 19 hours: the one reminder
    assert all(kinds[d] == [] for d in range(7, 18))  # not one a day
    reminder = env.outbox()[3].message
    assert reminder.text.startswith(
        "It has been 3 days since you studied, and 4 cards would like a look."
    )
    assert reminder.prompt_token is not None
    assert env.db.last_reminder(learner.id) == utc(2026, 3, 6, 9, 0)

    # 17 March 09:00 is 14 days 19 hours of silence: no more pushes at all.
    assert env.stored(learner.id).next_push_at is None
    assert await env.tick_at(utc(2026, 3, 18, 9, 0)) == 0
    assert await env.tick_at(utc(2026, 4, 18, 9, 0)) == 0
    assert len(env.outbox()) == 4

    # They write again: pushes restart from their next push time.
    env.clock.set(utc(2026, 4, 18, 10, 0))
    assert only(await env.study.next(ALICE)).kind == "front"
    assert env.stored(learner.id).next_push_at == utc(2026, 4, 19, 9, 0)
    assert await env.tick_at(utc(2026, 4, 19, 9, 0)) == 1
    assert env.outbox()[-1].message.kind == "push"

    # Silent again: a new reminder, since they were active after the last one.
    for d in (20, 21, 22):
        await env.tick_at(utc(2026, 4, d, 9, 0))
    assert [r.message.kind for r in env.outbox()[4:]] == ["push", "push", "push", "reminder"]
    assert env.db.last_reminder(learner.id) == utc(2026, 4, 22, 9, 0)


async def test_no_reminder_when_nothing_is_due() -> None:
    env = make_env()
    learner = await env.learner()
    assert await env.tick_at(utc(2026, 3, 6, 9, 0)) == 1
    assert env.outbox() == []
    assert env.db.last_reminder(learner.id) is None
    env.seed_due(learner.id, ["c01"], START)
    assert await env.tick_at(utc(2026, 3, 7, 9, 0)) == 1
    assert [r.message.kind for r in env.outbox()] == ["reminder"]


async def test_backfill_gives_active_learners_a_next_push() -> None:
    env = make_env(policy=PushPolicy(batch=1))
    now = utc(2026, 3, 20, 12, 0)
    env.clock.set(now)

    def enrol(tx: FakeTx) -> list[int]:
        repo = tx.learners
        fresh = repo.create("telegram", "1", "Fresh", SETTINGS, (), now - DAY)
        silent = repo.create("telegram", "2", "Silent", SETTINGS, (), now - 20 * DAY)
        edge = repo.create("telegram", "3", "Edge", SETTINGS, (), now - 14 * DAY)
        kolkata = replace(SETTINGS, timezone="Asia/Kolkata")
        other = repo.create("discord", "4", "Other", kolkata, (), now - 2 * DAY)
        has = repo.create("telegram", "5", "Has", SETTINGS, (), now - DAY)
        repo.set_next_push(has.id, now + timedelta(hours=5))
        return [fresh.id, silent.id, edge.id, other.id, has.id]

    fresh, silent, edge, other, has = env.db.run_sync(enrol)
    assert await env.pushes.backfill() == 3
    assert env.stored(fresh).next_push_at == utc(2026, 3, 21, 9, 0)
    assert env.stored(silent).next_push_at is None
    assert env.stored(edge).next_push_at == utc(2026, 3, 21, 9, 0)
    assert env.stored(other).next_push_at == utc(2026, 3, 21, 3, 30)  # 09:00 IST
    assert env.stored(has).next_push_at == now + timedelta(hours=5)
    assert await env.pushes.backfill() == 0


# --------------------------------------------------------------------------- late ticks


async def test_late_tick_after_downtime_sends_once_late() -> None:
    env = make_env()
    learner = await env.learner()
    env.seed_due(learner.id, ["c01", "c02"], START - DAY)
    env.clock.set(utc(2026, 3, 4, 14, 0))
    await env.learner()  # they wrote on Wednesday, so this is no reminder
    late = utc(2026, 3, 5, 15, 0)  # down from Tuesday 09:00 until Thursday 15:00
    assert await env.tick_at(late) == 1
    [row] = env.outbox()
    assert row.message.kind == "push"
    assert row.message.created_at == late
    assert env.stored(learner.id).next_push_at == utc(2026, 3, 6, 9, 0)
    assert await env.tick_at(late + timedelta(minutes=1)) == 0
    assert len(env.outbox()) == 1


async def test_late_tick_inside_quiet_hours_skips_the_day() -> None:
    env = make_env(push_time=time(21, 0), quiet_start=time(22, 0), quiet_end=time(7, 0))
    learner = await env.learner()
    assert learner.next_push_at == utc(2026, 3, 2, 21, 0)
    env.seed_due(learner.id, ["c01"], START - DAY)
    assert await env.tick_at(utc(2026, 3, 2, 23, 30)) == 1  # down until inside quiet hours
    assert env.outbox() == []
    assert env.stored(learner.id).next_push_at == utc(2026, 3, 3, 21, 0)
    assert await env.tick_at(utc(2026, 3, 3, 21, 0)) == 1
    assert [r.message.kind for r in env.outbox()] == ["push"]


async def test_push_time_inside_quiet_hours_is_sent_when_they_end() -> None:
    env = make_env(push_time=time(23, 0), quiet_start=time(22, 0), quiet_end=time(7, 0))
    learner = await env.learner()
    assert learner.next_push_at == utc(2026, 3, 3, 7, 0)
    env.seed_due(learner.id, ["c01"], START - DAY)
    assert await env.tick_at(utc(2026, 3, 3, 7, 0)) == 1
    assert len(env.outbox()) == 1


# --------------------------------------------------------------------------- days off


async def test_days_off_get_no_push() -> None:
    thursday = utc(2026, 3, 5, 14, 0)
    env = make_env(start=thursday, days_off=(5, 6))
    learner = await env.learner()
    env.seed_due(learner.id, ["c01"], thursday)
    friday = utc(2026, 3, 6, 9, 0)
    assert learner.next_push_at == friday
    assert await env.tick_at(friday) == 1
    assert env.stored(learner.id).next_push_at == utc(2026, 3, 9, 9, 0)  # Monday
    assert await env.tick_at(utc(2026, 3, 7, 9, 0)) == 0  # Saturday
    assert await env.tick_at(utc(2026, 3, 8, 9, 0)) == 0  # Sunday
    assert len(env.outbox()) == 1


# --------------------------------------------------------------------------- session size


async def test_a_push_session_ends_after_its_size_and_the_next_card_is_not_sent() -> None:
    env = make_env(max_cards_per_push=5)
    learner = await env.learner()
    env.seed_due(learner.id, CARD_IDS[:12], START - DAY)
    assert await env.tick_at(PUSH) == 1
    [row] = env.outbox()
    assert row.message.text == "12 cards due. Today's session: 5, about 2 minutes."
    sender = Sender()
    assert await env.pushes.drain("telegram", sender) == 1
    [(_, front)] = sender.calls

    for n in range(1, 6):
        assert front.kind == "front", front
        back = (await env.press(ALICE, front, "Show answer")).edit
        assert back is not None and back.kind == "back"
        prompts = len(env.db.store.prompts)
        outcome = await env.press(ALICE, back, "Good")
        assert outcome.close is not None and outcome.close.startswith("Good: see it again in")
        (reply,) = outcome.replies
        if n < 5:
            assert reply.kind == "front" and reply.card is not None
            token = action_of(button(reply, "Show answer").payload).token
            prompt = env.db.prompt(token)
            assert prompt is not None and prompt.source == "push"
        front = reply
    # The fifth rating: its note, then the session's end, and no sixth card (no prompt made).
    assert front.kind == "done"
    assert front.text == (
        "That was today's session of 5 cards. Well done! Send /review if you want to keep going."
    )
    assert front.card is None and front.buttons == ()
    assert len(env.db.store.prompts) == prompts
    reviews = env.db.reviews(learner.id)
    assert [e.source for e in reviews] == ["push"] * 5

    more = only(await env.study.next(ALICE))  # /review still works after the session
    assert more.kind == "front"


async def test_due_count_within_the_cap_has_no_session_line() -> None:
    env = make_env(max_cards_per_push=5)
    learner = await env.learner()
    env.seed_due(learner.id, CARD_IDS[:5], START - DAY)
    await env.tick_at(PUSH)
    assert [r.message.text for r in env.outbox()] == ["5 cards are due: about 2 minutes."]


# --------------------------------------------------------------------------- delivery


async def test_delivery_builds_a_front_with_show_snooze_and_skip() -> None:
    env = make_env()
    lid = await queued_push(env)
    [row] = env.outbox()
    found = env.db.run_sync(lambda tx: deliveries(tx, [row.message], env.clock.now())[0][1])
    assert found is not None
    learner, reply = found
    assert learner.id == lid
    assert isinstance(reply, Reply), "a push is one reply"
    token = row.message.prompt_token
    assert token is not None
    assert reply.kind == "front"
    assert reply.text == row.message.text
    assert reply.card is not None
    assert (reply.card.card_id, reply.card.front, reply.card.back) == ("c01", "Front of c01", None)
    assert [[b.label for b in r] for r in reply.buttons] == [
        ["Show answer"],
        ["Snooze 1 hour", "Skip today"],
    ]
    assert [decode(b.payload) for b in reply.all_buttons()] == [
        Action("reveal", token),
        Action("snooze", token),
        Action("skip", token),
    ]
    assert [b.action for b in reply.all_buttons()] == ["reveal", "snooze", "skip"]


async def test_drain_sends_once_and_marks_sent() -> None:
    env = make_env()
    lid = await queued_push(env)
    sender = Sender()
    env.clock.set(PUSH + timedelta(seconds=3))
    assert await env.pushes.drain("telegram", sender) == 1
    assert [lr.id for lr, _ in sender.calls] == [lid]
    [row] = env.outbox()
    assert row.sent_at == PUSH + timedelta(seconds=3)
    assert (row.failed_at, row.lease_until, row.message.attempts) == (None, None, 1)
    assert env.db.run_sync(lambda tx: tx.pushes.pending_count("telegram")) == 0
    learner = env.stored(lid)
    assert (learner.unreachable, learner.dm_channel_id) == (False, None)

    assert await env.pushes.drain("telegram", sender) == 0
    env.clock.advance(HOUR)
    assert await env.pushes.drain("telegram", sender) == 0
    assert len(sender.calls) == 1
    assert env.services.metrics.sent == Counter({"telegram": 1})
    assert env.services.metrics.failed == Counter()


async def test_drain_only_takes_its_platform() -> None:
    env = make_env()
    await queued_push(env)
    sender = Sender()
    assert await env.pushes.drain("discord", sender) == 0
    assert sender.calls == []


async def test_an_unreachable_learner_is_marked_and_the_message_fails() -> None:
    env = make_env()
    lid = await queued_push(env)
    sender = Sender(Delivery(reached=False))
    assert await env.pushes.drain("telegram", sender) == 1
    [row] = env.outbox()
    assert row.failed_at == PUSH and row.sent_at is None
    assert row.last_error == "unreachable"
    assert env.stored(lid).unreachable
    assert env.services.metrics.failed == Counter({("telegram", "unreachable"): 1})
    assert env.services.metrics.sent == Counter()
    env.clock.advance(HOUR)
    assert await env.pushes.drain("telegram", sender) == 0
    assert len(sender.calls) == 1
    # No more pushes until they write again.
    assert await env.tick_at(PUSH + DAY) == 0


async def test_a_private_channel_the_push_opened_is_stored() -> None:
    env = make_env()
    lid = await queued_push(env)
    assert await env.pushes.drain("telegram", Sender(Delivery(True, dm_channel="dm-77"))) == 1
    [row] = env.outbox()
    assert row.sent_at == PUSH
    learner = env.stored(lid)
    assert (learner.dm_channel_id, learner.unreachable) == ("dm-77", False)


async def test_a_message_whose_learner_is_gone_is_given_up_without_a_send() -> None:
    env = make_env()
    message = OutboxMessage("telegram", 999, "push", "hi", PUSH, PUSH, "c01", "tok00009", 1)
    env.db.run_sync(lambda tx: tx.pushes.add_outbox([message]))
    env.clock.set(PUSH)
    sender = Sender()
    assert await env.pushes.drain("telegram", sender) == 1
    assert sender.calls == []
    [row] = env.outbox()
    assert row.failed_at == PUSH and row.last_error == "learner or card gone"
    assert env.services.metrics.failed == Counter({("telegram", "gone"): 1})
    assert env.db.prompt("tok00009") is None


async def test_a_refused_push_is_given_up_and_the_learner_stays_reachable() -> None:
    env = make_env()
    lid = await queued_push(env)
    sender = Sender(DeliveryRefused("message too long"))
    assert await env.pushes.drain("telegram", sender) == 1
    [row] = env.outbox()
    assert row.failed_at == PUSH and row.last_error == "refused: message too long"
    assert not env.stored(lid).unreachable
    assert env.services.metrics.failed == Counter({("telegram", "refused"): 1})


async def test_delivery_retry_waits_as_long_as_the_platform_asks() -> None:
    env = make_env()
    await queued_push(env)
    sender = Sender(DeliveryRetry("429 Too Many Requests", retry_after=7), REACHED)
    assert await env.pushes.drain("telegram", sender) == 1
    [row] = env.outbox()
    assert row.pending
    assert row.message.not_before == PUSH + timedelta(seconds=7)
    assert row.message.attempts == 1
    assert row.lease_until is None
    assert row.last_error == "429 Too Many Requests"

    env.clock.advance(timedelta(seconds=6))
    assert await env.pushes.drain("telegram", sender) == 0
    env.clock.advance(timedelta(seconds=1))
    assert await env.pushes.drain("telegram", sender) == 1
    [row] = env.outbox()
    assert row.sent_at == PUSH + timedelta(seconds=7)
    assert row.message.attempts == 2
    assert len(sender.calls) == 2
    assert await env.pushes.drain("telegram", sender) == 0


async def test_a_retry_resumes_after_the_messages_already_delivered() -> None:
    """A push of several messages that breaks off is not sent again from the start."""
    env = make_env()
    await queued_push(env)
    sender = Sender(
        DeliveryRetry("429", retry_after=1, delivered=1),  # the photo went out
        ConnectionError("reset"),  # nothing more went out, and no count either
        DeliveryRetry("network", delivered=1),  # the next message went out
        REACHED,
    )
    for _ in range(4):
        assert await env.pushes.drain("telegram", sender) == 1
        [row] = env.outbox()
        if not row.pending:
            break
        env.clock.advance(row.message.not_before - env.clock.now())
    assert sender.skips == [0, 1, 1, 2]
    assert row.sent_at is not None and row.message.parts_sent == 2


async def test_other_errors_back_off_exponentially_then_fail() -> None:
    env = make_env()
    await queued_push(env)
    sender = Sender(ConnectionError("network down"))
    delays: list[float] = []
    while True:
        assert await env.pushes.drain("telegram", sender) == 1
        [row] = env.outbox()
        if not row.pending:
            break
        delay = row.message.not_before - env.clock.now()
        delays.append(delay.total_seconds())
        env.clock.advance(delay - timedelta(seconds=1))
        assert await env.pushes.drain("telegram", sender) == 0  # not before its time
        env.clock.advance(timedelta(seconds=1))
    assert delays == [2, 4, 8, 16, 32, 64, 128]
    assert len(sender.calls) == PushPolicy().max_attempts == 8
    assert row.failed_at == env.clock.now()
    assert row.message.attempts == 8
    assert row.last_error == "ConnectionError: network down"
    # Retries are not failures: the push failed once, when it was given up.
    assert env.services.metrics.failed == Counter({("telegram", "attempts"): 1})
    env.clock.advance(DAY)
    assert await env.pushes.drain("telegram", sender) == 0


async def test_backoff_is_capped() -> None:
    env = make_env(policy=PushPolicy(max_attempts=20, max_backoff=timedelta(minutes=30)))
    await queued_push(env)
    sender = Sender(RuntimeError("boom"))
    delays: list[float] = []
    for _ in range(13):
        assert await env.pushes.drain("telegram", sender) == 1
        [row] = env.outbox()
        delay = row.message.not_before - env.clock.now()
        delays.append(delay.total_seconds())
        env.clock.advance(delay)
    assert delays[:10] == [2**n for n in range(1, 11)]
    assert delays[10:] == [1800, 1800, 1800]


async def test_expired_lease_after_a_crash_mid_send_is_retried() -> None:
    env = make_env()
    await queued_push(env)
    with pytest.raises(Crash):
        await env.pushes.drain("telegram", Sender(Crash()))
    [row] = env.outbox()
    assert row.pending and row.lease_until == PUSH + PushPolicy().lease

    sender = Sender()
    assert await env.pushes.drain("telegram", sender) == 0  # still leased
    env.clock.advance(PushPolicy().lease - timedelta(seconds=1))
    assert await env.pushes.drain("telegram", sender) == 0
    env.clock.advance(timedelta(seconds=1))
    assert await env.pushes.drain("telegram", sender) == 1
    assert len(sender.calls) == 1
    assert env.outbox()[0].sent_at == env.clock.now()


async def test_restart_between_claim_and_send_delivers_each_message_once() -> None:
    env = make_env()
    ids = [await queued_push_setup(env, Who("telegram", str(n))) for n in range(3)]
    assert await env.tick_at(PUSH) == 3
    # The process stops here; a new one starts over the same database.
    clock = FixedClock(PUSH + timedelta(minutes=5))
    restarted = build_services(env.db, clock, tokens=SequentialTokens("r")).pushes
    sender = Sender()
    assert await restarted.drain("telegram", sender) == 3
    assert sorted(lr.id for lr, _ in sender.calls) == sorted(ids)
    assert await restarted.tick(PLATFORMS) == 0
    assert await restarted.drain("telegram", sender) == 0
    env.clock.set(clock.now())
    assert await env.pushes.drain("telegram", sender) == 0
    assert len(sender.calls) == 3
    assert all(r.sent_at is not None for r in env.outbox())


async def test_drain_takes_at_most_limit_messages() -> None:
    env = make_env()
    for n in range(3):
        await queued_push_setup(env, Who("telegram", str(n)))
    await env.tick_at(PUSH)
    sender = Sender()
    assert await env.pushes.drain("telegram", sender, limit=2) == 2
    assert await env.pushes.drain("telegram", sender, limit=2) == 1
    assert len({lr.id for lr, _ in sender.calls}) == 3


async def test_before_send_is_awaited_once_before_each_message() -> None:
    env = make_env()
    for n in range(3):
        await queued_push_setup(env, Who("telegram", str(n)))
    await env.tick_at(PUSH)
    log: list[str] = []

    async def pace() -> None:
        log.append("pace")

    sender = Sender(log=log)
    assert await env.pushes.drain("telegram", sender, before_send=pace) == 3
    assert log == ["pace", "send 0", "pace", "send 1", "pace", "send 2"]


async def test_learner_who_deletes_their_data_gets_no_queued_push() -> None:
    env = make_env()
    first = await queued_push_setup(env, ALICE)
    second = await queued_push_setup(env, BOB)
    await env.tick_at(PUSH)
    assert len(env.outbox()) == 2
    env.db.run_sync(lambda tx: tx.learners.delete(second))  # /forget before the sender runs
    assert [r.message.learner_id for r in env.outbox()] == [first]
    sender = Sender()
    assert await env.pushes.drain("telegram", sender) == 1
    assert [lr.id for lr, _ in sender.calls] == [first]


# --------------------------------------------------------------------------- snooze and skip


async def push_front(env: Env) -> Reply:
    """Deliver the pending push; returns the front the learner got."""
    sender = Sender()
    await env.pushes.drain("telegram", sender)
    (_, front), *_ = sender.calls
    return front


async def test_snooze_makes_the_next_push_an_hour_later_and_the_tick_sends_it_once() -> None:
    env = make_env()
    lid = await queued_push(env)
    front = await push_front(env)
    env.clock.set(PUSH + timedelta(minutes=10))
    outcome = await env.press(ALICE, front, "Snooze")
    assert outcome == Outcome(close="Snoozed: I'll come back at 10:10.")
    assert env.stored(lid).next_push_at == PUSH + timedelta(minutes=70)
    assert lid in env.db.store.snoozed_pushes
    assert is_expired(await env.press(ALICE, front, "Snooze"))
    assert is_expired(await env.press(ALICE, front, "Show answer"))
    assert env.stored(lid).next_push_at == PUSH + timedelta(minutes=70)

    assert await env.tick_at(PUSH + timedelta(minutes=69)) == 0
    assert await env.tick_at(PUSH + timedelta(minutes=70)) == 1
    rows = env.outbox()
    assert len(rows) == 2
    m = rows[1].message
    assert (m.kind, m.learner_id, m.card_id, m.due_count) == ("push", lid, "c01", 2)
    assert m.created_at == m.not_before == PUSH + timedelta(minutes=70)
    assert m.prompt_token not in (None, rows[0].message.prompt_token)
    assert m.text == "2 cards are due: about 1 minute."
    # The daily push is back at its time; the snooze is sent once.
    assert env.stored(lid).next_push_at == PUSH + DAY
    assert lid not in env.db.store.snoozed_pushes
    assert await env.tick_at(PUSH + timedelta(minutes=71)) == 0
    assert len(env.outbox()) == 2
    second = await push_front(env)
    assert button(second, "Show answer").payload == Action("reveal", m.prompt_token).encode()


async def test_a_snooze_survives_a_restart() -> None:
    """The snooze is a row in the database: another process's tick sends it."""
    env = make_env()
    lid = await queued_push(env)
    await env.press(ALICE, await push_front(env), "Snooze")
    restarted = build_services(env.db, FixedClock(PUSH + HOUR), tokens=SequentialTokens("r"))
    assert await restarted.pushes.tick(PLATFORMS) == 1
    sender = Sender()
    assert await restarted.pushes.drain("telegram", sender) == 1
    assert [lr.id for lr, _ in sender.calls] == [lid]


async def test_a_snooze_missed_by_more_than_the_grace_is_dropped() -> None:
    env = make_env(policy=PushPolicy(snooze_grace=timedelta(hours=6)))
    lid = await queued_push(env)
    await env.press(ALICE, await push_front(env), "Snooze")  # due at 10:00
    # The bot was down from 10:00 until 16:00 and a second.
    assert await env.tick_at(PUSH + HOUR + timedelta(hours=6, seconds=1)) == 1
    assert len(env.outbox()) == 1  # claimed, not sent
    assert env.stored(lid).next_push_at == PUSH + DAY  # tomorrow's push stands


async def test_a_snooze_missed_within_the_grace_is_sent_once_late() -> None:
    env = make_env(policy=PushPolicy(snooze_grace=timedelta(hours=6)))
    lid = await queued_push(env)
    await env.press(ALICE, await push_front(env), "Snooze")  # due at 10:00
    late = PUSH + HOUR + timedelta(hours=6)  # down until 16:00 exactly
    assert await env.tick_at(late) == 1
    [_, row] = env.outbox()
    assert (row.message.learner_id, row.message.created_at) == (lid, late)
    assert await env.tick_at(late + timedelta(minutes=1)) == 0
    assert len(env.outbox()) == 2
    assert env.stored(lid).next_push_at == PUSH + DAY


async def test_a_daily_push_missed_by_more_than_the_snooze_grace_is_still_sent() -> None:
    """The grace is for snoozes only: a late daily push goes out once (see the late tick)."""
    env = make_env(policy=PushPolicy(snooze_grace=timedelta(hours=1)))
    learner = await env.learner()
    env.seed_due(learner.id, ["c01"], START - DAY)
    assert await env.tick_at(PUSH + timedelta(hours=5)) == 1
    assert [r.message.kind for r in env.outbox()] == ["push"]


async def test_snoozed_push_is_dropped_inside_quiet_hours() -> None:
    env = make_env(push_time=time(21, 30), quiet_start=time(22, 0), quiet_end=time(7, 0))
    learner = await env.learner()
    env.seed_due(learner.id, ["c01"], START - DAY)
    at = utc(2026, 3, 2, 21, 30)
    assert await env.tick_at(at) == 1
    outcome = await env.press(ALICE, await push_front(env), "Snooze")
    assert outcome.close == "Snoozed: I'll come back at 22:30."
    assert env.stored(learner.id).next_push_at == at + HOUR
    assert await env.tick_at(at + HOUR) == 1
    assert len(env.outbox()) == 1
    assert env.stored(learner.id).next_push_at == at + DAY


async def test_snoozed_push_with_nothing_due_is_dropped() -> None:
    env = make_env()
    lid = await queued_push(env, cards=["c01"])
    await env.press(ALICE, await push_front(env), "Snooze")
    env.db.run_sync(
        lambda tx: tx.schedule.save(review_state(lid, "c01", PUSH + 10 * DAY))
    )  # studied meanwhile
    assert await env.tick_at(PUSH + HOUR) == 1
    assert len(env.outbox()) == 1


async def test_snooze_of_someone_elses_push_expires() -> None:
    env = make_env()
    lid = await queued_push(env)
    front = await push_front(env)
    assert is_expired(await env.press(BOB, front, "Snooze"))
    assert env.stored(lid).next_push_at == PUSH + DAY
    assert lid not in env.db.store.snoozed_pushes


async def test_skip_answers_and_closes_the_prompt() -> None:
    env = make_env()
    lid = await queued_push(env)
    front = await push_front(env)
    token = action_of(button(front, "Skip").payload).token
    outcome = await env.press(ALICE, front, "Skip")
    assert outcome == Outcome(close="Skipped for today. See you Wednesday at 09:00.")
    prompt = env.db.prompt(token)
    assert prompt is not None and prompt.answered_at == PUSH
    assert is_expired(await env.press(ALICE, front, "Skip"))
    assert is_expired(await env.press(ALICE, front, "Snooze"))
    assert is_expired(await env.press(ALICE, front, "Show answer"))
    assert env.stored(lid).next_push_at == PUSH + DAY
    assert lid not in env.db.store.snoozed_pushes


async def test_snooze_and_skip_on_a_dm_prompt_expire() -> None:
    env = make_env()
    learner = await env.learner()
    env.seed_due(learner.id, ["c01"], START - DAY)
    front = only(await env.study.next(ALICE))
    token = action_of(button(front, "Show answer").payload).token
    assert is_expired(await env.services.press(ALICE, Action("snooze", token).encode()))
    assert is_expired(await env.services.press(ALICE, Action("skip", token).encode()))
    reveal = await env.press(ALICE, front, "Show answer")
    assert reveal.edit is not None and reveal.edit.kind == "back"


# --------------------------------------------------------------------------- settings


async def test_settings_quiet_days_off_and_per_push() -> None:
    friday = utc(2026, 3, 6, 10, 0)
    env = make_env(start=friday)
    learner = await env.learner()
    assert learner.next_push_at == utc(2026, 3, 7, 9, 0)  # Saturday

    reply = only(await env.study.change_setting(ALICE, "days_off", "sat,sun"))
    assert reply.kind == "info" and reply.text.startswith("Saved.")
    assert "days_off: sat, sun" in reply.text
    stored = env.stored(learner.id)
    assert stored.settings.days_off == (5, 6)
    assert stored.next_push_at == utc(2026, 3, 9, 9, 0)  # Monday

    reply = only(await env.study.change_setting(ALICE, "quiet", "22:00-07:00"))
    assert reply.kind == "info" and "quiet: 22:00-07:00" in reply.text
    stored = env.stored(learner.id)
    assert (stored.settings.quiet_start, stored.settings.quiet_end) == (time(22), time(7))

    reply = only(await env.study.change_setting(ALICE, "push", "23:30"))
    assert reply.kind == "info"
    assert env.stored(learner.id).next_push_at == utc(2026, 3, 9, 7, 0)  # end of quiet hours

    reply = only(await env.study.change_setting(ALICE, "per_push", "5"))
    assert reply.kind == "info" and "per_push: 5 cards" in reply.text
    assert env.stored(learner.id).settings.max_cards_per_push == 5

    reply = only(await env.study.change_setting(ALICE, "quiet", "off"))
    assert "quiet: off" in reply.text
    assert env.stored(learner.id).next_push_at == utc(2026, 3, 6, 23, 30)  # Friday, tonight
    await env.study.change_setting(ALICE, "days_off", "fri,sat,sun")
    assert env.stored(learner.id).next_push_at == utc(2026, 3, 9, 23, 30)
    await env.study.change_setting(ALICE, "days_off", "none")
    assert env.stored(learner.id).settings.days_off == ()
    assert env.stored(learner.id).next_push_at == utc(2026, 3, 6, 23, 30)


async def test_a_new_reminder_time_resumes_paused_reminders() -> None:
    env = make_env()
    lid = await queued_push_setup(env, ALICE)
    await env.study.pause(ALICE)
    reply = only(await env.study.change_setting(ALICE, "push", "9pm"))
    assert "push: 21:00" in reply.text
    stored = env.stored(lid)
    assert not stored.settings.paused
    assert stored.next_push_at == utc(2026, 3, 2, 21, 0)


async def test_pause_stops_pushes_and_resume_recomputes_the_next_one() -> None:
    env = make_env()
    lid = await queued_push_setup(env, ALICE)
    reply = only(await env.study.pause(ALICE))
    assert reply.kind == "info"
    assert env.stored(lid).settings.paused
    for day in range(3):
        assert await env.tick_at(PUSH + day * DAY) == 0
    assert env.outbox() == []

    env.clock.set(utc(2026, 3, 5, 12, 0))  # Thursday noon
    await env.study.pause(ALICE, paused=False)
    stored = env.stored(lid)
    assert not stored.settings.paused
    assert stored.next_push_at == utc(2026, 3, 6, 9, 0)  # not the missed ones
    assert await env.pushes.tick(PLATFORMS) == 0
    assert await env.tick_at(utc(2026, 3, 6, 9, 0)) == 1
    assert [r.message.kind for r in env.outbox()] == ["push"]


async def test_resume_recomputes_with_the_learners_settings() -> None:
    env = make_env(timezone="Asia/Kolkata", days_off=(4,))  # Fridays off
    lid = await queued_push_setup(env, ALICE)
    await env.study.pause(ALICE)
    env.clock.set(utc(2026, 3, 5, 12, 0))  # Thursday 17:30 IST
    await env.study.pause(ALICE, paused=False)
    expected = next_push_after(env.stored(lid).settings, env.clock.now())
    assert expected == utc(2026, 3, 7, 3, 30)  # Saturday 09:00 IST
    assert env.stored(lid).next_push_at == expected


async def test_an_unreachable_learner_who_writes_again_is_not_owed_the_missed_push() -> None:
    env = make_env()
    lid = await queued_push_setup(env, ALICE)
    await env.study.mark_unreachable(ALICE)
    env.clock.set(PUSH + timedelta(hours=3))  # their 09:00 push passed while unreachable
    await env.learner()
    stored = env.stored(lid)
    assert not stored.unreachable
    assert stored.next_push_at == PUSH + DAY
    assert await env.pushes.tick(PLATFORMS) == 0


async def test_a_message_that_waits_for_its_learner_is_kept_until_they_write_again() -> None:
    """A kind with a composer (a self-assessment sent again) to an unreachable learner
    is parked, not failed; their next message makes it due, and it goes."""
    env = make_env()
    lid = (await env.learner()).id
    built: list[int] = []

    def compose(tx: Tx, message: OutboxMessage, learner: Learner) -> Reply | None:
        built.append(message.id)
        return Reply("assess", f"waiting for {learner.display_name}")

    services = env.services
    basics = Basics(services.db, services.clock, services.tokens, services.enrolment)
    pushes = PushService(basics, PushPolicy(), {"waits": compose})
    env.clock.set(PUSH)
    row = OutboxMessage("telegram", lid, "waits", "", PUSH, PUSH, prompt_token="s0000001")
    env.db.run_sync(lambda tx: tx.pushes.add_outbox([row]))

    assert await pushes.drain("telegram", Sender(Delivery(reached=False))) == 1
    [parked] = env.outbox()
    assert parked.pending and parked.message.not_before == PUSH + PARKED
    assert env.stored(lid).unreachable
    assert await pushes.drain("telegram", Sender()) == 0  # it waits

    env.clock.set(PUSH + HOUR)
    await env.learner()  # they write again
    sender = Sender()
    assert await pushes.drain("telegram", sender) == 1
    [(learner, reply)] = sender.calls
    assert learner.id == lid and reply.text == "waiting for Alice"
    [sent] = env.outbox()
    assert sent.sent_at == PUSH + HOUR and len(built) == 2


# --------------------------------------------------------------------------- chats side by side


def test_a_slow_chat_holds_up_only_its_own_push() -> None:
    """Five chats take 30 s each and then ask to wait; the sixth, due the same minute,
    is sent at once (virtual time: the loop's clock moves only when every task waits)."""

    async def main() -> tuple[dict[str, float], Env]:
        env = make_env()
        for n in range(1, 7):
            await queued_push_setup(env, Who("telegram", str(n)))
        assert await env.tick_at(PUSH) == 6
        loop = asyncio.get_running_loop()
        started: dict[str, float] = {}

        async def send(learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
            started[learner.platform_user_id] = loop.time()
            if learner.platform_user_id != "6":
                await asyncio.sleep(30)
                raise DeliveryRetry("telegram 429", retry_after=30)
            return REACHED

        assert await env.pushes.drain("telegram", send) == 6
        return started, env

    started, env = run_virtual(main())
    assert started["6"] == 0.0
    assert sorted(started) == ["1", "2", "3", "4", "5", "6"]
    assert max(started.values()) == 0.0  # all six chats at once
    rows = env.outbox()
    assert sum(r.sent_at is not None for r in rows) == 1
    assert {r.message.not_before for r in rows if r.pending} == {PUSH + timedelta(seconds=30)}


def test_chats_side_by_side_are_bounded() -> None:
    async def main() -> list[float]:
        env = make_env(policy=PushPolicy(chats_at_once=2))
        for n in range(1, 6):
            await queued_push_setup(env, Who("telegram", str(n)))
        await env.tick_at(PUSH)
        loop = asyncio.get_running_loop()
        started: list[float] = []

        async def send(learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
            started.append(loop.time())
            await asyncio.sleep(1)
            return REACHED

        await env.pushes.drain("telegram", send)
        return started

    assert run_virtual(main()) == [0.0, 0.0, 1.0, 1.0, 2.0]


async def test_a_chat_told_to_wait_keeps_its_later_messages_behind_the_one_retried() -> None:
    env = make_env()
    alice = await queued_push_setup(env, ALICE)
    bob = await queued_push_setup(env, Who("telegram", "bob"))
    assert await env.tick_at(PUSH) == 2
    [first] = [r.message for r in env.outbox() if r.message.learner_id == alice]
    later = replace(first, id=0, prompt_token="later", text="second")
    await env.db.run(lambda tx: tx.pushes.add_outbox([later]))
    sent: list[tuple[int, str]] = []

    async def send(learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        if learner.id == alice and not sent:
            sent.append((learner.id, "429"))
            raise DeliveryRetry("telegram 429", retry_after=60)
        sent.append((learner.id, reply.text))
        return REACHED

    assert await env.pushes.drain("telegram", send) == 3
    assert sent[0] == (alice, "429") and [who for who, _ in sent[1:]] == [bob]
    waiting = sorted((r for r in env.outbox() if r.pending), key=lambda r: r.message.id)
    assert [(r.message.not_before, r.message.attempts) for r in waiting] == [
        (env.clock.now() + timedelta(seconds=60), 1),
        (env.clock.now() + timedelta(seconds=60), 0),  # deferred untried
    ]
    env.clock.advance(timedelta(seconds=60))
    assert await env.pushes.drain("telegram", send) == 2
    assert [text for who, text in sent[2:]] == [sent[1][1], "second"]  # in order


# --------------------------------------------------------------------------- the workspace


def card_info(card_id: str, tx: FakeTx) -> CardInfo | None:
    return tx.catalogue.card(card_id)


async def test_a_pushed_front_offers_the_review_page_when_its_back_is_long() -> None:
    short = make_card("short", back="Short.")
    long = make_card("long", back="$$E = mc^2$$")
    db = FakeDatabase([make_deck("deck", [short, long], title="Deck")], START - 30 * DAY)
    env = Env(build_services(db, FixedClock(START), settings=SETTINGS))
    learner = await env.learner()
    offers: dict[str, str | None] = {}
    for card_id in ("short", "long"):
        message = OutboxMessage(
            "telegram", learner.id, "push", "1 card is due.", PUSH, PUSH,
            card_id=card_id, prompt_token=f"t-{card_id}",
        )  # fmt: skip
        card = env.db.run_sync(partial(card_info, card_id))
        built = delivery_for(message, learner, card)
        assert built is not None
        offers[card_id] = built[1].workspace
    assert offers == {"short": None, "long": "review"}
