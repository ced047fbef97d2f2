"""Who is talking to the bot: platform accounts, learners, and the service base."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

from bot.core.localtime import next_push_after
from bot.core.messages import Announcement
from bot.core.metrics import NULL_METRICS, Metrics
from bot.core.model import Learner, LearnerSettings, ReviewEntry
from bot.core.ports import AccountTaken, Announcer, Clock, Database, Delivery, TokenSource, Tx

log = logging.getLogger(__name__)
T = TypeVar("T")

SEEN_EVERY = timedelta(hours=12)

#: Announcements a unit of work makes; the service posts them once it has committed.
Posts = list[Announcement]


@dataclass(slots=True)
class AfterCommit:
    """What a unit of work leaves for its service to do once the transaction has committed.

    Attributes:
        posts: announcements to post (a quiz answer for a group, a self-assessment).
        reviews: the source of each review it recorded, to count.
    """

    posts: Posts = field(default_factory=list)
    reviews: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Who:
    """The person behind a platform event.

    Attributes:
        platform: the platform's name.
        user_id: the account id on that platform.
        display_name: how to name them to others (a quiz tally, a challenge summary).
        dm_channel: the id of their private chat with the bot, when the event came
            from there and the platform needs it to write first (stored if it changed).
    """

    platform: str
    user_id: str
    display_name: str = ""
    dm_channel: str | None = None


@dataclass(frozen=True, slots=True)
class Enrolment:
    """What a new learner starts with: settings (from ``[study]``) and the decks or
    tags they study (from ``[decks] default``; empty means every deck)."""

    settings: LearnerSettings = field(default_factory=LearnerSettings)
    topics: tuple[str, ...] = ()


def get_or_create_learner(tx: Tx, who: Who, enrolment: Enrolment, now: datetime) -> Learner:
    """Find the learner for a platform account, enrolling a new one.

    Contact from an unreachable learner makes them reachable again, and a private
    chat named by ``who`` is remembered. Two first contacts of one new account handled
    side by side enrol it once: the second finds the first's row (:class:`AccountTaken`).
    """
    learner = tx.learners.get(who.platform, who.user_id)
    if learner is None:
        try:
            learner = tx.learners.create(
                who.platform,
                who.user_id,
                who.display_name or who.user_id,
                enrolment.settings,
                enrolment.topics,
                now,
            )
        except AccountTaken:
            learner = tx.learners.get(who.platform, who.user_id)
            if learner is None:  # pragma: no cover - the constraint said it exists
                raise
            learner = _welcome_back(tx, learner, now)
        else:
            nxt = next_push_after(learner.settings, now)
            tx.learners.set_next_push(learner.id, nxt)
            log.info("new learner %s on %s", learner.id, who.platform)
            learner = replace(learner, next_push_at=nxt)
    else:
        learner = _welcome_back(tx, learner, now)
    if who.dm_channel is not None and learner.dm_channel_id != who.dm_channel:
        tx.learners.set_dm_channel(learner.id, who.dm_channel)
        learner = replace(learner, dm_channel_id=who.dm_channel)
    return learner


def _welcome_back(tx: Tx, learner: Learner, now: datetime) -> Learner:
    """A known learner wrote: seen now, reachable again, and their pushes resumed."""
    was_unreachable = learner.unreachable
    if (
        learner.unreachable
        or learner.last_seen_at is None
        or (now - learner.last_seen_at >= SEEN_EVERY)
    ):
        tx.learners.seen(learner.id, now)
        learner = replace(learner, unreachable=False, last_seen_at=now)
    if was_unreachable:  # what waited for them (a self-assessment) goes now
        tx.pushes.wake(learner.id, now)
    if was_unreachable and learner.next_push_at is not None and learner.next_push_at <= now:
        # Pushes missed while unreachable are not owed: the next one is the next from now.
        learner = replace(learner, next_push_at=None)
    if learner.next_push_at is None:  # pushes stopped (long silence, or as above): resume
        nxt = next_push_after(learner.settings, now)
        if nxt is not None:
            tx.learners.set_next_push(learner.id, nxt)
            learner = replace(learner, next_push_at=nxt)
    return learner


def record_delivery(tx: Tx, learner_id: int, delivery: Delivery) -> None:
    """Keep what a platform's delivery to a learner taught us: a private channel it
    opened, or that the learner cannot be reached (pushes stop until they write)."""
    if delivery.dm_channel is not None:
        tx.learners.set_dm_channel(learner_id, delivery.dm_channel)
    if not delivery.reached:
        tx.learners.set_unreachable(learner_id)
        log.info("learner %s is unreachable", learner_id)


def due_counter(tx: Tx, learner_id: int) -> Callable[[Sequence[datetime]], list[int]]:
    """The load balancer's count of a learner's cards due per day, in this unit of work
    (``srs.DueCounter``)."""
    return partial(tx.schedule.due_per_day, learner_id)


def record_review(tx: Tx, entry: ReviewEntry, after_commit: AfterCommit) -> None:
    """Write one review, and leave it to be counted once the transaction has committed."""
    tx.reviews.add(entry)
    after_commit.reviews.append(entry.source)


@dataclass(frozen=True, slots=True)
class Basics:
    """What every service runs on.

    Attributes:
        db: runs units of work.
        clock: gives "now".
        tokens: makes prompt tokens.
        enrolment: what a new learner starts with.
        metrics: counts what the services did, once it has committed.
    """

    db: Database
    clock: Clock
    tokens: TokenSource
    enrolment: Enrolment
    metrics: Metrics = NULL_METRICS


class ServiceBase:
    """Runs one unit of work per user action, with the learner looked up (or enrolled) first.

    Args:
        basics: the database, the clock, the token source and the enrolment.
    """

    def __init__(self, basics: Basics) -> None:
        self.db = basics.db
        self.clock = basics.clock
        self.tokens = basics.tokens
        self.enrolment = basics.enrolment
        self.metrics = basics.metrics

    async def _run(self, who: Who, fn: Callable[[Tx, Learner, datetime], T]) -> T:
        """One unit of work for ``who``: ``fn(tx, learner, now)``."""
        now = self.clock.now()

        def work(tx: Tx) -> T:
            return fn(tx, get_or_create_learner(tx, who, self.enrolment, now), now)

        return await self.db.run(work)

    async def learner(self, who: Who) -> Learner:
        """The learner behind an account (created on first contact)."""
        return await self._run(who, lambda tx, learner, now: learner)

    async def mark_unreachable(self, who: Who) -> None:
        """The platform refused a message to this account: stop pushing until they write."""

        def work(tx: Tx) -> None:
            learner = tx.learners.get(who.platform, who.user_id)
            if learner is not None and not learner.unreachable:
                record_delivery(tx, learner.id, Delivery(reached=False))

        await self.db.run(work)


class AnnouncingService(ServiceBase):
    """A service whose units of work also make announcements for other chats.

    Args:
        announcer: posts them, once the transaction that made them has committed.
    """

    def __init__(self, basics: Basics, announcer: Announcer) -> None:
        super().__init__(basics)
        self.announcer = announcer

    async def _posting(self, who: Who, fn: Callable[[Tx, Learner, datetime, AfterCommit], T]) -> T:
        """Like :meth:`_run`, for work that announces or reviews: ``fn(tx, learner, now,
        after)`` fills ``after``, which is done once the transaction has committed."""
        now = self.clock.now()
        after = AfterCommit()

        def work(tx: Tx) -> T:
            return fn(tx, get_or_create_learner(tx, who, self.enrolment, now), now, after)

        result = await self.db.run(work)
        await self._committed(after)
        return result

    async def _sweep(self, fn: Callable[[Tx, datetime, AfterCommit], T]) -> T:
        """A timer's unit of work (no learner): ``fn(tx, now, after)``; ``after`` is done
        once the transaction has committed."""
        now = self.clock.now()
        after = AfterCommit()
        result = await self.db.run(lambda tx: fn(tx, now, after))
        await self._committed(after)
        return result

    async def _committed(self, after: AfterCommit) -> None:
        """Count the reviews a committed unit of work recorded; post its announcements."""
        for source in after.reviews:
            self.metrics.reviewed(source)
        if after.posts:
            await self.announcer.post(after.posts)
