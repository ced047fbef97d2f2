"""Who is talking to the bot: platform accounts, learners, and the service base."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TypeVar

from bot.core.localtime import next_push_after
from bot.core.model import Learner, LearnerSettings
from bot.core.ports import Clock, Database, TokenSource, Tx

log = logging.getLogger(__name__)
T = TypeVar("T")

SEEN_EVERY = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Who:
    """The person behind a platform event."""

    platform: str
    user_id: str
    display_name: str = ""


def get_or_create_learner(
    tx: Tx,
    who: Who,
    defaults: LearnerSettings,
    default_topics: Sequence[str],
    now: datetime,
) -> Learner:
    """Find the learner for a platform account, enrolling a new one with the defaults.

    Contact from an unreachable learner makes them reachable again.
    """
    learner = tx.learners.get(who.platform, who.user_id)
    if learner is None:
        learner = tx.learners.create(
            who.platform,
            who.user_id,
            who.display_name or who.user_id,
            defaults,
            default_topics,
            now,
        )
        nxt = next_push_after(learner.settings, now)
        tx.learners.set_next_push(learner.id, nxt)
        log.info("new learner %s on %s", learner.id, who.platform)
        return replace(learner, next_push_at=nxt)
    was_unreachable = learner.unreachable
    if (
        learner.unreachable
        or learner.last_seen_at is None
        or (now - learner.last_seen_at >= SEEN_EVERY)
    ):
        tx.learners.seen(learner.id, now)
        learner = replace(learner, unreachable=False, last_seen_at=now)
    if was_unreachable and learner.next_push_at is not None and learner.next_push_at <= now:
        # Pushes missed while unreachable are not owed: the next one is the next from now.
        learner = replace(learner, next_push_at=None)
    if learner.next_push_at is None:  # pushes stopped (long silence, or as above): resume
        nxt = next_push_after(learner.settings, now)
        if nxt is not None:
            tx.learners.set_next_push(learner.id, nxt)
            learner = replace(learner, next_push_at=nxt)
    return learner


class ServiceBase:
    """Runs one unit of work per user action, with the learner looked up (or enrolled) first.

    Args:
        db: runs units of work.
        clock: gives "now".
        tokens: makes prompt tokens.
        defaults: settings a new learner starts with.
        default_topics: decks or tags a new learner studies (empty: all).
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        tokens: TokenSource,
        defaults: LearnerSettings,
        default_topics: Sequence[str] = (),
    ) -> None:
        self.db = db
        self.clock = clock
        self.tokens = tokens
        self.defaults = defaults
        self.default_topics = tuple(default_topics)

    async def _run(self, who: Who, fn: Callable[[Tx, Learner, datetime], T]) -> T:
        now = self.clock.now()

        def work(tx: Tx) -> T:
            learner = get_or_create_learner(tx, who, self.defaults, self.default_topics, now)
            return fn(tx, learner, now)

        return await self.db.run(work)

    async def learner(self, who: Who) -> Learner:
        """The learner behind an account (created on first contact)."""
        return await self._run(who, lambda tx, learner, now: learner)

    async def remember_dm_channel(self, who: Who, channel_id: str) -> None:
        """Store the learner's DM channel id so a later push needs one request."""
        await self._run(
            who,
            lambda tx, lr, now: (
                None
                if lr.dm_channel_id == channel_id
                else tx.learners.set_dm_channel(lr.id, channel_id)
            ),
        )

    async def set_dm_channel(self, platform: str, user_id: str, channel_id: str) -> None:
        """Store a known learner's DM channel without counting it as contact (a push opened it)."""

        def work(tx: Tx) -> None:
            learner = tx.learners.get(platform, user_id)
            if learner is not None and learner.dm_channel_id != channel_id:
                tx.learners.set_dm_channel(learner.id, channel_id)

        await self.db.run(work)

    async def mark_unreachable(self, platform: str, user_id: str) -> None:
        """The platform refused a message to this account: stop pushing until they write."""

        def work(tx: Tx) -> None:
            learner = tx.learners.get(platform, user_id)
            if learner is not None and not learner.unreachable:
                tx.learners.set_unreachable(learner.id)
                log.info("learner %s on %s is unreachable", learner.id, platform)

        await self.db.run(work)
