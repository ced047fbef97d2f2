"""Daily pushes: who gets one, when, and what it says; the outbox drained by senders.

The database decides who is due: each learner row carries its next push
instant in UTC. A tick claims due learners in batches (locked rows on
PostgreSQL), moves each one's next push to its next local day in the same
transaction, and writes one outbox row per message. A sender per platform
leases outbox rows, delivers them, and marks each sent only once the platform
accepted it, so a crash between claim and send loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import NamedTuple, Protocol
from zoneinfo import ZoneInfo

from bot.core.actions import Action
from bot.core.learners import Basics, ServiceBase, Who, record_delivery
from bot.core.localtime import in_quiet_hours, next_push_after
from bot.core.messages import Reply
from bot.core.metrics import PushFailure
from bot.core.model import Backlog, CardInfo, Learner, OutboxMessage, Prompt, ReviewSource
from bot.core.outcomes import EXPIRED, Outcome
from bot.core.ports import (
    Delivery,
    DeliveryRefused,
    DeliveryRetry,
    TokenSource,
    Tx,
)
from bot.core.views import button, card_view, front_workspace

log = logging.getLogger(__name__)


# --------------------------------------------------------------------------- planning

#: How long a message waiting for an unreachable learner stays in the outbox before
#: it is tried again anyway (they write sooner, and it goes at once).
PARKED = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class PushPolicy:
    """Tunables of the push fan-out and delivery.

    Attributes:
        remind_after: silence after which a learner gets one gentle reminder instead.
        stop_after: silence after which pushes stop until the learner writes again.
        seconds_per_card: estimate used before a learner has review durations.
        batch: learners claimed per transaction.
        lease: how long a sender holds outbox rows before another may retry them.
        max_attempts: deliveries tried before a message is given up.
        max_backoff: the longest wait between two tries.
        planners: batches planned side by side in one tick. Above 1 only helps a
            database that runs transactions in parallel (PostgreSQL, where each
            claim skips the rows another holds); SQLite has one writer.
        snooze: how long "Snooze" puts a push off.
        snooze_grace: a snoozed push found later than this after its time (the bot
            was down) is dropped; one found within it is sent once, late.
        chats_at_once: chats a sender delivers to side by side, so a slow chat or one
            told to wait (429) holds up only its own messages.
    """

    remind_after: timedelta = timedelta(days=3)
    stop_after: timedelta = timedelta(days=14)
    seconds_per_card: float = 20.0
    batch: int = 5000
    lease: timedelta = timedelta(minutes=2)
    max_attempts: int = 8
    max_backoff: timedelta = timedelta(minutes=30)
    planners: int = 1
    snooze: timedelta = timedelta(hours=1)
    snooze_grace: timedelta = timedelta(hours=6)
    chats_at_once: int = 16


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def push_text(due: int, session: int, seconds_per_card: float) -> str:
    """ "12 cards are due: about 4 minutes." (capped at the learner's session size)."""
    return _push_text(due, session, max(1, math.ceil(session * seconds_per_card / 60)))


@lru_cache(maxsize=4096)
def _push_text(due: int, session: int, minutes: int) -> str:
    """The text for whole minutes: few distinct values, so a fan-out builds each once."""
    if session < due:
        return (
            f"{_plural(due, 'card')} due. Today's session: {session}, "
            f"about {_plural(minutes, 'minute')}."
        )
    verb = "is" if due == 1 else "are"
    return f"{_plural(due, 'card')} {verb} due: about {_plural(minutes, 'minute')}."


def reminder_text(due: int, days: int) -> str:
    """The one gentle reminder after days without study."""
    return (
        f"It has been {days} days since you studied, and {_plural(due, 'card')} "
        "would like a look. Even five minutes keeps them fresh. (This is the only "
        "reminder: no more until you study again.)"
    )


class Plan(NamedTuple):
    """What planning one batch did.

    Attributes:
        claimed: learners claimed (pushed or not); 0 means none was due.
        planned: outbox rows written, by platform.
    """

    claimed: int
    planned: dict[str, int]


def plan_pushes(
    tx: Tx,
    now: datetime,
    platforms: Sequence[str],
    tokens: TokenSource,
    policy: PushPolicy,
) -> Plan:
    """Claim one batch of due learners and write their outbox rows."""
    claimed = tx.pushes.claim_due(now, platforms, policy.batch)
    if not claimed:
        return Plan(0, {})
    ids = [target.learner_id for target in claimed]
    summary = tx.pushes.due_summary(ids, now)
    durations = tx.pushes.mean_durations(ids, now - timedelta(days=30))
    updates: list[tuple[int, datetime | None, bool]] = []
    snoozed: list[int] = []
    messages: list[OutboxMessage] = []
    # Learners who share a zone, push time, quiet hours and days off share the answers
    # (the storage hands out one settings object per distinct timing: keyed by identity).
    timing: dict[int, tuple[datetime | None, bool]] = {}
    for target in claimed:
        learner_id = target.learner_id
        first_card, count = summary.get(learner_id, ("", 0))
        silence = now - target.last_active
        known = timing.get(id(target.timing))
        if known is None:
            s = target.timing
            known = timing[id(s)] = (next_push_after(s, now), in_quiet_hours(s, now))
        nxt, quiet = known
        snoozed_at = target.snoozed_at
        if snoozed_at is not None:
            snoozed.append(learner_id)
        kind: str | None = None
        if silence >= policy.stop_after:
            nxt = None  # stop until they come back (get_or_create_learner restarts them)
        elif count == 0 or quiet:
            pass  # nothing due, or late after downtime and now in quiet hours: skip today
        elif snoozed_at is not None and now - snoozed_at > policy.snooze_grace:
            pass  # a snooze missed while the bot was down long: not owed any more
        elif silence >= policy.remind_after:
            if not target.reminded:
                kind = "reminder"
        else:
            kind = "push"
        updates.append((learner_id, nxt, kind == "reminder"))
        if kind is None or not first_card:
            continue
        token = tokens()
        card_id = first_card
        seconds = durations.get(learner_id, policy.seconds_per_card * 1000) / 1000
        session = min(count, target.max_cards_per_push)
        text = (
            push_text(count, session, seconds)
            if kind == "push"
            else reminder_text(count, silence.days)
        )
        messages.append(
            OutboxMessage(
                platform=target.platform,
                learner_id=learner_id,
                kind=kind,
                text=text,
                created_at=now,
                not_before=now,
                card_id=card_id,
                prompt_token=token,
                due_count=count,
            )
        )
    tx.pushes.reschedule(updates, now, snoozed)
    tx.pushes.add_outbox(messages)
    return Plan(len(claimed), dict(Counter(m.platform for m in messages)))


def _defer(tx: Tx, message_ids: Sequence[int], when: datetime) -> None:
    tx.pushes.defer(message_ids, when)


def _backfill(tx: Tx, now: datetime, policy: PushPolicy) -> int:
    found = tx.pushes.backfill(now, now - policy.stop_after, policy.batch)
    tx.pushes.reschedule([(lr.id, next_push_after(lr.settings, now), False) for lr in found], now)
    return len(found)


#: What an outbox message stands for: one reply, or leads and a last reply (:class:`Compose`).
Composed = Reply | tuple[Reply, ...]


class Compose(Protocol):
    """Builds an outbox message of another kind than a push (a self-assessment sent
    again) as it stands now; None when there is nothing to send any more.

    It may be several replies, sent in order as one outbox message: each reply but the
    last is a *lead*, which every platform sends as one message (a stored photo under a
    short caption, such as the member's own photo answer before their self-assessment),
    so the message's ``parts_sent`` counts the leads first, then the last reply's parts.
    """

    def __call__(
        self, tx: Tx, message: OutboxMessage, learner: Learner
    ) -> Reply | tuple[Reply, ...] | None: ...


def deliveries(
    tx: Tx,
    messages: Sequence[OutboxMessage],
    now: datetime,
    composers: Mapping[str, Compose] | None = None,
) -> list[tuple[OutboxMessage, tuple[Learner, Composed] | None]]:
    """What each leased message stands for, in one transaction.

    The push's prompt (what its buttons name) is made here, when it is about to
    be shown, so a review's duration counts from the delivery, not the claim.
    A message of a kind in ``composers`` is built by it.
    """
    learners: dict[int, Learner | None] = {}
    cards: dict[str, CardInfo | None] = {}
    out: list[tuple[OutboxMessage, tuple[Learner, Composed] | None]] = []
    for m in messages:
        if m.learner_id not in learners:
            learners[m.learner_id] = tx.learners.get_by_id(m.learner_id)
        compose = composers.get(m.kind) if composers else None
        if compose is not None:
            learner = learners[m.learner_id]
            reply = compose(tx, m, learner) if learner is not None else None
            if not reply:  # no replies at all: nothing to send
                reply = None
            out.append((m, None if learner is None or reply is None else (learner, reply)))
            continue
        if m.card_id is not None and m.card_id not in cards:
            cards[m.card_id] = tx.catalogue.card(m.card_id)
        found = delivery_for(m, learners[m.learner_id], cards.get(m.card_id or ""))
        if found is not None:
            _ensure_prompt(tx, m, now)
        out.append((m, found))
    return out


def _ensure_prompt(tx: Tx, m: OutboxMessage, now: datetime) -> None:
    assert m.prompt_token is not None and m.card_id is not None
    if tx.prompts.get(m.prompt_token) is None:
        tx.prompts.add(Prompt(m.prompt_token, m.learner_id, m.card_id, ReviewSource.PUSH, now))


def delivery_for(
    message: OutboxMessage, learner: Learner | None, card: CardInfo | None
) -> tuple[Learner, Reply] | None:
    """Build the push reply from the rows it needs."""
    if learner is None or card is None or message.prompt_token is None:
        return None
    token = message.prompt_token
    buttons = (
        (button("Show answer", Action("reveal", token), "primary"),),
        (
            button("Snooze 1 hour", Action("snooze", token)),
            button("Skip today", Action("skip", token)),
        ),
    )
    front = Reply(
        "front",
        message.text,
        card=card_view(card, back=False),
        buttons=buttons,
        workspace=front_workspace(card),
    )
    return learner, front


# --------------------------------------------------------------------------- buttons


def _push_prompt(tx: Tx, learner: Learner, token: str) -> Prompt | None:
    prompt = tx.prompts.get(token)
    if (
        prompt is None
        or prompt.learner_id != learner.id
        or prompt.answered_at is not None
        or prompt.source != ReviewSource.PUSH
    ):
        return None
    return prompt


def snooze(tx: Tx, learner: Learner, token: str, now: datetime, policy: PushPolicy) -> Outcome:
    """Close a push prompt and make the learner's next push an hour from now.

    The snooze is the learner's next push instant, so the tick that claims every
    due push sends it, exactly once, whichever process claims it.
    """
    if _push_prompt(tx, learner, token) is None or not tx.prompts.claim(token, learner.id, now):
        return EXPIRED
    when = now + policy.snooze
    tx.learners.snooze_push(learner.id, when)
    local = when.astimezone(ZoneInfo(learner.settings.timezone))
    return Outcome(close=f"Snoozed: I'll come back at {local.strftime('%H:%M')}.")


def skip_today(tx: Tx, learner: Learner, token: str, now: datetime) -> Outcome:
    """Close a push prompt; the next push is already set for the next day."""
    if _push_prompt(tx, learner, token) is None or not tx.prompts.claim(token, learner.id, now):
        return EXPIRED
    nxt = learner.next_push_at
    when = ""
    if nxt is not None:
        local = nxt.astimezone(ZoneInfo(learner.settings.timezone))
        when = f" See you {local.strftime('%A at %H:%M')}."
    return Outcome(close=f"Skipped for today.{when}")


# --------------------------------------------------------------------------- service


class Send(Protocol):
    """A platform's delivery of a push (:meth:`bot.core.ports.Channel.push`)."""

    def __call__(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Awaitable[Delivery]: ...


#: One learner's leased outbox rows, in order, each with what it stands for (None: the
#: learner or the card is gone).
ChatRows = list[tuple[OutboxMessage, tuple[Learner, Composed] | None]]


async def send_composed(
    send: Send, learner: Learner, composed: Composed, *, skip: int = 0
) -> Delivery:
    """Send what an outbox message stands for: its leads (one message each, see
    :class:`Compose`), then its last reply, without the first ``skip`` messages.

    A :class:`~bot.core.ports.DeliveryRetry` says how many messages of the whole went
    out in this call, so a retry resumes after them; a learner found unreachable at a
    lead is not sent the rest. A lead the platform refuses for good (a photo it will
    not take) is passed over, never the message it leads: the last reply goes all
    the same.
    """
    if isinstance(composed, Reply):
        return await send(learner, composed, skip=skip)
    *leads, last = composed
    delivered = 0  # messages accepted (or a lead passed over) in this call
    opened: str | None = None
    try:
        for i, lead in enumerate(leads):
            if i < skip:
                continue
            try:
                delivery = await send(learner, lead)
            except DeliveryRefused as exc:
                log.warning("learner %s: a lead refused, sent without it: %s", learner.id, exc)
                delivered += 1  # passed: a retry does not try it again
                continue
            opened = opened or delivery.dm_channel
            if not delivery.reached:
                return Delivery(reached=False, dm_channel=opened)
            if opened is not None and learner.dm_channel_id is None:
                learner = replace(learner, dm_channel_id=opened)  # one DM channel
            delivered += 1
        delivery = await send(learner, last, skip=max(0, skip - len(leads)))
    except DeliveryRetry as exc:
        raise DeliveryRetry(str(exc), exc.retry_after, delivered=delivered + exc.delivered) from exc
    except DeliveryRefused:
        raise
    except Exception as exc:  # a network error after a lead went out: resume after it
        if not delivered:
            raise
        raise DeliveryRetry(f"{type(exc).__name__}: {exc}", delivered=delivered) from exc
    return Delivery(reached=delivery.reached, dm_channel=opened or delivery.dm_channel)


class PushService(ServiceBase):
    """Plans daily pushes and delivers the outbox; one instance per process.

    Args:
        policy: the fan-out's and delivery's tunables.
    """

    def __init__(
        self,
        basics: Basics,
        policy: PushPolicy = PushPolicy(),
        composers: Mapping[str, Compose] | None = None,
    ) -> None:
        super().__init__(basics)
        self.policy = policy
        #: Builders of the outbox messages that are not pushes, by kind. Such a message
        #: to a learner who cannot be reached waits for them to write again.
        self.composers: Mapping[str, Compose] = composers or {}

    async def tick(self, platforms: Sequence[str]) -> int:
        """Claim every due learner, batch by batch; returns how many were claimed.

        With ``policy.planners`` above 1, that many transactions plan batches side
        by side (on PostgreSQL their claims skip each other's locked rows), so
        one batch's statements run in the database while another is built here.
        """
        claimed = await asyncio.gather(
            *(self._plan_until_done(platforms) for _ in range(max(1, self.policy.planners)))
        )
        return sum(claimed)

    async def _plan_until_done(self, platforms: Sequence[str]) -> int:
        total = 0
        while True:
            work = partial(
                plan_pushes,
                now=self.clock.now(),
                platforms=platforms,
                tokens=self.tokens,
                policy=self.policy,
            )
            plan = await self.db.run(work)
            for platform, count in plan.planned.items():
                self.metrics.pushes_planned(platform, count)
            total += plan.claimed
            if plan.claimed < self.policy.batch:
                return total

    async def backlog(self) -> list[Backlog]:
        """Each platform's pending pushes: how many, and when the oldest was written."""
        return await self.db.run(lambda tx: tx.pushes.backlog())

    async def backfill(self) -> int:
        """Give every active learner without a next push one (after an upgrade)."""
        total = 0
        while True:
            count = await self.db.run(partial(_backfill, now=self.clock.now(), policy=self.policy))
            total += count
            if count < self.policy.batch:
                return total

    async def snooze(self, who: Who, token: str) -> Outcome:
        """Push again in an hour (the learner's next push instant, so it survives a restart)."""
        policy = self.policy
        return await self._run(who, lambda tx, lr, now: snooze(tx, lr, token, now, policy))

    async def skip(self, who: Who, token: str) -> Outcome:
        return await self._run(who, lambda tx, lr, now: skip_today(tx, lr, token, now))

    async def drain(
        self,
        platform: str,
        send: Send,
        *,
        limit: int = 25,
        before_send: Callable[[], Awaitable[None]] | None = None,
    ) -> int:
        """Deliver up to ``limit`` pending messages for a platform; returns how many were tried.

        One batch: :meth:`take`, then :meth:`deliver` each learner's messages, up to
        ``policy.chats_at_once`` learners side by side. (The sender loop runs the same
        steps without waiting for a whole batch: ``bot.jobs.senders``.)
        """
        chats = await self.take(platform, limit)
        room = asyncio.Semaphore(max(1, self.policy.chats_at_once))

        async def one_chat(rows: ChatRows) -> None:
            async with room:
                await self.deliver(rows, send, before_send=before_send)

        try:
            async with asyncio.TaskGroup() as group:
                for rows in chats:
                    group.create_task(one_chat(rows))
        except BaseExceptionGroup as failed:  # what no chat handles stops the batch, as itself
            raise failed.exceptions[0] from None
        return sum(len(rows) for rows in chats)

    async def take(self, platform: str, limit: int) -> list[ChatRows]:
        """Lease up to ``limit`` pending messages for a platform, each with what it stands
        for (:func:`deliveries`), grouped by learner in order."""
        now = self.clock.now()
        until = now + self.policy.lease
        batch = await self.db.run(lambda tx: tx.pushes.lease(platform, now, until, limit))
        if not batch:
            return []
        chats: dict[int, ChatRows] = {}
        work = partial(deliveries, messages=batch, now=now, composers=self.composers)
        for item in await self.db.run(work):
            chats.setdefault(item[0].learner_id, []).append(item)
        return list(chats.values())

    async def deliver(
        self,
        rows: ChatRows,
        send: Send,
        *,
        before_send: Callable[[], Awaitable[None]] | None = None,
    ) -> datetime | None:
        """Deliver one learner's messages, in order; returns the instant they wait for
        when one must be tried again (None when none must).

        ``send`` says whether the platform accepted the message or the learner cannot be
        reached; it raises :class:`~bot.core.ports.DeliveryRefused` when the message
        will never go, and :class:`~bot.core.ports.DeliveryRetry` or any other error to
        have it tried again later (after the platform's ``retry_after`` when it said):
        then the learner's later messages wait for the same instant, untried
        (:meth:`defer`), and no other learner waits with them. What happened is recorded
        in one place (:meth:`_record`, :meth:`_retry`). A reply sent as several
        messages resumes after the ones already accepted.
        """
        for i, (message, found) in enumerate(rows):
            wait_until = await self._deliver(message, found, send, before_send)
            if wait_until is not None:
                await self.defer(rows[i + 1 :], wait_until)
                return wait_until
        return None

    async def defer(self, rows: ChatRows, when: datetime) -> None:
        """Put leased messages off until ``when``, untried (their learner must wait)."""
        ids = [message.id for message, _ in rows]
        if ids:
            await self.db.run(partial(_defer, message_ids=ids, when=when))

    async def _deliver(
        self,
        message: OutboxMessage,
        found: tuple[Learner, Composed] | None,
        send: Send,
        before_send: Callable[[], Awaitable[None]] | None,
    ) -> datetime | None:
        """Deliver one message and record what happened; returns when it is tried again,
        if it is."""
        if found is None:
            await self._record(message, None, "gone", "learner or card gone")
            return None
        learner, reply = found
        if before_send is not None:
            await before_send()
        try:
            delivery = await send_composed(send, learner, reply, skip=message.parts_sent)
        except DeliveryRetry as exc:
            return await self._retry(message, exc.retry_after, str(exc), exc.delivered)
        except DeliveryRefused as exc:
            log.warning("push %s to learner %s refused: %s", message.id, learner.id, exc)
            await self._record(message, None, "refused", f"refused: {exc}")
        except Exception as exc:  # a network error, a platform hiccup: try again later
            log.warning("push %s to learner %s failed: %s", message.id, learner.id, exc)
            return await self._retry(message, None, f"{type(exc).__name__}: {exc}", 0)
        else:
            if not delivery.reached and message.kind in self.composers:
                await self._park(message, delivery)
                return None
            await self._record(message, delivery, "unreachable", "unreachable")
        return None

    async def _park(self, message: OutboxMessage, delivery: Delivery) -> None:
        """A message that waits for its learner (a self-assessment) found them unreachable:
        it is kept until they write again (:func:`~bot.core.learners.get_or_create_learner`
        wakes it), or given up after ``max_attempts``."""
        now = self.clock.now()
        if message.attempts + 1 >= self.policy.max_attempts:
            await self._record(message, delivery, "unreachable", "unreachable")
            return

        def work(tx: Tx) -> None:
            record_delivery(tx, message.learner_id, delivery)
            tx.pushes.retry_later(message.id, now + PARKED, "unreachable", message.parts_sent)

        await self.db.run(work)

    async def _record(
        self, message: OutboxMessage, delivery: Delivery | None, reason: PushFailure, error: str
    ) -> None:
        """The outbox row is done: sent, or given up for ``reason`` (and what the delivery
        taught us); counted once it is committed."""
        now = self.clock.now()
        sent = delivery is not None and delivery.reached

        def work(tx: Tx) -> None:
            if delivery is not None:
                record_delivery(tx, message.learner_id, delivery)
            if sent:
                tx.pushes.mark_sent(message.id, now)
            else:
                tx.pushes.mark_failed(message.id, now, error)

        await self.db.run(work)
        if sent:
            self.metrics.push_sent(message.platform)
        else:
            self.metrics.push_failed(message.platform, reason)

    async def _retry(
        self, message: OutboxMessage, retry_after: float | None, error: str, delivered: int
    ) -> datetime | None:
        """Try the message again later (after ``retry_after`` when the platform said, else
        after a growing backoff); returns when, or None when it is given up."""
        now = self.clock.now()
        parts_sent = message.parts_sent + max(0, delivered)
        attempts = message.attempts + 1
        if attempts >= self.policy.max_attempts:
            log.warning("giving up push %s after %d attempts: %s", message.id, attempts, error)
            await self.db.run(lambda tx: tx.pushes.mark_failed(message.id, now, error))
            self.metrics.push_failed(message.platform, "attempts")
            return None
        if retry_after is not None:
            delay = timedelta(seconds=max(0.0, retry_after))
        else:
            delay = min(self.policy.max_backoff, timedelta(seconds=2**attempts))
        when = now + delay
        await self.db.run(lambda tx: tx.pushes.retry_later(message.id, when, error, parts_sent))
        return when
