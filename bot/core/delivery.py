"""The running platforms, and announcements routed to them.

:class:`Channels` is the registry of running platforms: each one is attached
when it has started and detached when it stops. :class:`PlatformAnnouncer`
posts what services announce (a quiz answer for a group, a self-assessment for
a member's private chat) through them, and records what a delivery to a learner
taught us (:func:`bot.core.learners.record_delivery`). A self-assessment that
cannot reach its member privately is shown to them alone in their group where the
platform can (:class:`~bot.core.ports.ShowsToOneMember`); otherwise, or when it cannot
be delivered now, it goes to the outbox, which tries it again (and, for a member who
cannot be reached, when they write again); their group is told.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Final

from bot.core.learners import record_delivery
from bot.core.messages import RESENT_ASSESSMENT, Announcement, Reply
from bot.core.model import Learner, OutboxMessage
from bot.core.ports import (
    AnnounceRefused,
    Channel,
    Clock,
    Database,
    Delivery,
    DeliveryRefused,
    ShowsToOneMember,
    Tx,
)

log = logging.getLogger(__name__)

#: Told to the group when a member's self-assessment cannot reach them.
NOT_REACHED: Final = (
    "I could not reach {name} privately, so their self-assessment waits for them: "
    "{name}, it comes as soon as you talk to me privately again. "
    "The summary does not wait."
)
#: A self-assessment whose delivery failed for now is tried again this much later.
RETRY_SOON: Final = timedelta(seconds=30)
#: One to a member who cannot be reached waits this long for them to write (then it
#: is tried once more).
WAIT_FOR_MEMBER: Final = timedelta(days=7)
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


class _SystemTime:
    def now(self) -> datetime:
        return datetime.now(UTC)


class PlatformAnnouncer:
    """The :class:`~bot.core.ports.Announcer` over the running platforms.

    Args:
        db: to look up the learner an announcement is addressed to, to record a
            delivery that found them unreachable, and to queue a self-assessment again.
        channels: the running platforms.
        clock: gives "now" (the system's time by default).
    """

    def __init__(self, db: Database, channels: Channels, clock: Clock | None = None) -> None:
        self.db = db
        self.channels = channels
        self.clock: Clock = clock or _SystemTime()

    async def post(self, items: Sequence[Announcement]) -> None:
        """Post each item through its platform, in order; a failure is logged, never raised.

        What a member out of private reach gets in their group (their self-assessment, to
        them alone, or the group told) comes after every private message of the batch:
        those wait for the group's pace, and the private ones need not wait behind them.
        """
        unreached: list[tuple[Channel, Announcement, Learner]] = []
        for item in items:
            channel = self.channels.get(item.platform)
            if channel is None:
                log.warning("no running %s platform for an announcement", item.platform)
                if item.learner_id is not None and item.resend_token is not None:
                    await self._queue(item, item.learner_id, RETRY_SOON)
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
                await self._push(channel, item, learner, unreached)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not post to %s chat %s", item.platform, item.chat_id)
        for channel, item, learner in unreached:
            try:
                await self._in_group(channel, item, learner)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not post to %s chat %s", item.platform, item.chat_id)

    async def _push(
        self,
        channel: Channel,
        item: Announcement,
        learner: Learner,
        unreached: list[tuple[Channel, Announcement, Learner]],
    ) -> None:
        try:
            delivery = await channel.push(learner, item.reply)
        except asyncio.CancelledError:
            raise
        except DeliveryRefused:
            raise
        except Exception as exc:
            if item.resend_token is None:
                raise
            log.warning("self-assessment for learner %s failed, queued: %s", learner.id, exc)
            await self._queue(item, learner.id, RETRY_SOON)
            return
        if delivery.reached or item.resend_token is None:
            if delivery != Delivery(reached=True):
                await self.db.run(
                    partial(record_delivery, learner_id=learner.id, delivery=delivery)
                )
            return
        # One transaction: a member who writes in between finds the self-assessment
        # waiting (and wakes it), never unreachable with nothing queued yet. Shown in the
        # group later, it waits all the same (such a message may not reach someone
        # offline); once applied, the outbox has nothing left to send.
        waiting = self._waiting(item, learner.id, WAIT_FOR_MEMBER)

        def park(tx: Tx) -> None:
            record_delivery(tx, learner.id, delivery)
            tx.pushes.add_outbox([waiting])

        await self.db.run(park)
        if item.chat_id:
            unreached.append((channel, item, learner))

    async def _in_group(self, channel: Channel, item: Announcement, learner: Learner) -> None:
        """A member the platform could not reach privately: their self-assessment shown
        to them alone in their group where the platform can, else the group is told."""
        if not await self._shown_in_group(channel, item, learner):
            name = learner.display_name or "one of you"
            try:
                await channel.announce(item.chat_id, Reply("info", NOT_REACHED.format(name=name)))
            except AnnounceRefused as exc:  # the group: the assessment itself still waits
                log.warning("%s refused a post to chat %s (%s)", item.platform, item.chat_id, exc)

    @staticmethod
    async def _shown_in_group(channel: Channel, item: Announcement, learner: Learner) -> bool:
        """A member the platform cannot reach privately sees their self-assessment in their
        group, to them alone, where the platform can show it so (Telegram)."""
        if not item.chat_id or not isinstance(channel, ShowsToOneMember):
            return False
        try:
            return await channel.show_to_member(item.chat_id, learner, item.reply)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # it waits in the outbox instead: never lost
            log.warning("could not show learner %s their message in the group: %s", learner.id, exc)
            return False

    async def _queue(self, item: Announcement, learner_id: int, wait: timedelta) -> None:
        """Leave a self-assessment in the outbox, to be sent after ``wait`` (or when the
        member writes again)."""
        message = self._waiting(item, learner_id, wait)
        await self.db.run(lambda tx: tx.pushes.add_outbox([message]))

    def _waiting(self, item: Announcement, learner_id: int, wait: timedelta) -> OutboxMessage:
        """The outbox row of a self-assessment sent again after ``wait``."""
        now = self.clock.now()
        return OutboxMessage(
            platform=item.platform,
            learner_id=learner_id,
            kind=RESENT_ASSESSMENT,
            text="",
            created_at=now,
            not_before=now + wait,
            prompt_token=item.resend_token,
        )

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
