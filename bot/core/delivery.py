"""The running platforms, and announcements routed to them.

:class:`Channels` is the registry of running platforms: each one is attached
when it has started and detached when it stops. :class:`PlatformAnnouncer`
posts what services announce (a quiz answer for a group, a self-assessment for
a member's private chat) through them, and records what a delivery to a learner
taught us (:func:`bot.core.learners.record_delivery`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from functools import partial
from typing import Final

from bot.core.learners import record_delivery
from bot.core.messages import Announcement, Reply
from bot.core.model import Learner
from bot.core.ports import AnnounceRefused, Channel, Database, Delivery, Tx

log = logging.getLogger(__name__)

#: Said privately to the member who started a quiz or challenge whose group post failed.
CANNOT_POST: Final = (
    "I could not post in the group where you started this: I am not allowed to send "
    "messages there (an admin can give me the permission to send messages, embed links "
    "and attach files). Here is what I meant to post:"
)


class Channels:
    """The chat platforms running in this process, by name."""

    def __init__(self) -> None:
        self._running: dict[str, Channel] = {}

    def attach(self, channel: Channel) -> None:
        """A platform has started: announcements and pushes may go through it."""
        self._running[channel.name] = channel

    def detach(self, name: str) -> None:
        """A platform is stopping: nothing more goes through it."""
        self._running.pop(name, None)

    def get(self, name: str) -> Channel | None:
        return self._running.get(name)

    def names(self) -> list[str]:
        """The running platforms' names, sorted."""
        return sorted(self._running)


class PlatformAnnouncer:
    """The :class:`~bot.core.ports.Announcer` over the running platforms.

    Args:
        db: to look up the learner an announcement is addressed to, and to record
            a delivery that found them unreachable.
        channels: the running platforms.
    """

    def __init__(self, db: Database, channels: Channels) -> None:
        self.db = db
        self.channels = channels

    async def post(self, items: Sequence[Announcement]) -> None:
        """Post each item through its platform, in order; a failure is logged, never raised."""
        for item in items:
            channel = self.channels.get(item.platform)
            if channel is None:
                log.warning("no running %s platform for an announcement", item.platform)
                continue
            try:
                if item.learner_id is None:
                    try:
                        await channel.announce(item.chat_id, item.reply)
                    except AnnounceRefused as exc:
                        await self._refused(channel, item, exc)
                    continue
                learner = await self.db.run(partial(_learner, learner_id=item.learner_id))
                if learner is None:
                    continue
                delivery = await channel.push(learner, item.reply)
                if delivery != Delivery(reached=True):
                    await self.db.run(
                        partial(record_delivery, learner_id=learner.id, delivery=delivery)
                    )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not post to %s chat %s", item.platform, item.chat_id)

    async def _refused(self, channel: Channel, item: Announcement, exc: AnnounceRefused) -> None:
        """The bot may not post in the group: the member who started what it belongs to
        is told privately and gets the message there, so nothing is lost."""
        log.warning(
            "%s refused a post to chat %s (%s); telling the starter (learner %s)",
            item.platform,
            item.chat_id,
            exc,
            item.starter_id,
        )
        if item.starter_id is None:
            return
        learner = await self.db.run(partial(_learner, learner_id=item.starter_id))
        if learner is None:
            return
        for reply in (Reply("info", CANNOT_POST), item.reply):
            delivery = await channel.push(learner, reply)
            if delivery != Delivery(reached=True):
                await self.db.run(
                    partial(record_delivery, learner_id=learner.id, delivery=delivery)
                )
            if not delivery.reached:
                return
            if delivery.dm_channel is not None:  # the next push goes there in one request
                learner = replace(learner, dm_channel_id=delivery.dm_channel)


def _learner(tx: Tx, learner_id: int) -> Learner | None:
    return tx.learners.get_by_id(learner_id)
