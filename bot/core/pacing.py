"""Pacing sends: each chat at its own pace, every chat together under one overall pace.

Chat platforms limit how fast a bot may post: Telegram takes about one message a
second in a private chat, about twenty a minute in a group and about thirty a
second over all chats, and answers a request over the limit with 429 and
``retry_after``, which holds for the chat it answered. :class:`Pacing` keeps one
schedule per chat and one for the whole bot, so a slow chat or a 429 delays only
that chat's messages, and chats that are free send at once.

Each schedule is a reservation (GCRA, the "virtual scheduling" form of a token
bucket): a caller reserves the next instant its chat may send, in the order the
callers came, then the next overall instant once its chat is free. Messages to
one chat therefore go out in the order they were asked for, and a chat that is
held (:meth:`Pacing.hold`) never blocks the overall schedule while it waits.

An interactive reply (the answer to a tap or a command, to the person who just
acted) keeps its chat's pace but takes no place in the overall schedule
(``overall=False``): the overall budget is for messages to many different
chats (pushes, announcements), so a crowd's taps never queue behind each other.

Time is injected (``monotonic``, ``sleep``; the running loop's clock and
:func:`asyncio.sleep` by default), so tests run on virtual time.

Used by the Telegram adapter for every request (``bot.platforms.telegram.sending``);
the push sender (``bot.core.pushes``) keeps a chat's 429 to that chat's outbox rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Final

__all__ = ["ChatBusy", "Pacing", "Rate", "Schedule"]

Monotonic = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]

#: Forget the schedules of chats idle this long (seconds) once there are many.
_FORGET_AFTER: Final = 60.0
_MANY_CHATS: Final = 4096


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``per_second`` on average, with up to ``burst`` at once after a pause."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        if self.per_second <= 0:
            raise ValueError("a rate must be positive")

    @property
    def interval(self) -> float:
        return 1.0 / self.per_second


class Schedule:
    """One rate's reservations (GCRA): when the next send may go.

    ``tat`` is the theoretical arrival time of the next send; a send may go up to
    ``burst - 1`` intervals before it.
    """

    __slots__ = ("held_until", "interval", "tat", "tolerance")

    def __init__(self, rate: Rate, now: float) -> None:
        self.interval = rate.interval
        self.tolerance = (max(1, rate.burst) - 1) * self.interval
        self.tat = now
        self.held_until = float("-inf")

    def free_at(self, now: float) -> float:
        """The earliest instant a send reserved now would get."""
        return max(now, self.tat - self.tolerance, self.held_until)

    def reserve(self, now: float) -> float:
        """Reserve the next send; returns the instant it may go."""
        at = self.free_at(now)
        self.tat = max(self.tat, at) + self.interval
        return at

    def hold(self, until: float) -> None:
        """Nothing goes before ``until`` (a 429's ``retry_after``); no burst right after."""
        self.held_until = max(self.held_until, until)
        self.tat = max(self.tat, until + self.tolerance)


class ChatBusy(Exception):
    """The chat cannot take a message within the wait the caller accepts.

    Attributes:
        wait: seconds until it can.
    """

    def __init__(self, wait: float) -> None:
        super().__init__(f"the chat is busy for {wait:.1f} s")
        self.wait = wait


class Pacing:
    """Per-chat and overall pacing for one bot (see the module docstring).

    Args:
        private: the pace of a private chat (Telegram: about one message a second; a
            short burst of 3 after a pause, so a learner who taps quickly is not kept
            waiting, while a longer run keeps to one a second).
        group: the pace of a group chat (Telegram: about twenty a minute): a burst of
            two, then 18 a minute, so no 60 seconds hold more than twenty, even when the
            overall pace delays the first of a burst (with a burst of three, the 21st
            message came 59.96 s after the first in a challenge's reveal).
        overall: the pace of every request together (Telegram: about thirty a second;
            we keep to 25).
        monotonic: the clock, in seconds (the running loop's by default).
        sleep: waits (``asyncio.sleep`` by default).
    """

    def __init__(
        self,
        *,
        private: Rate = Rate(1.0, burst=3),
        group: Rate = Rate(18 / 60, burst=2),
        overall: Rate = Rate(25.0),
        monotonic: Monotonic | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.private = private
        self.group = group
        self.monotonic: Monotonic = monotonic or (lambda: asyncio.get_running_loop().time())
        self.sleep = sleep
        self.overall = Schedule(overall, float("-inf"))
        self._chats: dict[str, Schedule] = {}

    def _schedule(self, chat: str, group: bool, now: float) -> Schedule:
        found = self._chats.get(chat)
        if found is None:
            if len(self._chats) >= _MANY_CHATS:
                self._forget(now)
            found = self._chats[chat] = Schedule(self.group if group else self.private, now)
        return found

    def _forget(self, now: float) -> None:
        idle = [
            chat
            for chat, s in self._chats.items()
            if max(s.tat, s.held_until) < now - _FORGET_AFTER
        ]
        for chat in idle:
            del self._chats[chat]

    def wait_for(self, chat: str | int) -> float:
        """Seconds until the chat may take a new message (0 when it may now)."""
        now = self.monotonic()
        found = self._chats.get(str(chat))
        return 0.0 if found is None else found.free_at(now) - now

    async def slot(
        self,
        chat: str | int | None,
        *,
        group: bool = False,
        message: bool = True,
        max_wait: float | None = None,
        overall: bool = True,
    ) -> None:
        """Wait until a request for ``chat`` may go, and take its place.

        Args:
            chat: the chat it goes to; None for a request to no chat (it takes only
                an overall place).
            group: the chat is a group (paced as one the first time it is seen).
            message: it posts a new message (takes a place in the chat's schedule);
                otherwise (an edit) it only waits while the chat is held.
            max_wait: give up at once if the chat is not free within this many seconds.
            overall: it takes a place in the overall schedule too (a message to one of
                many chats: a push, an announcement). An interactive reply to the
                person who just acted passes False: it keeps its chat's pace and
                holds, and waits for a hold of every chat, but takes none of the
                overall budget and never waits behind other chats' messages.

        Raises:
            ChatBusy: the chat is not free within ``max_wait``.
        """
        if chat is not None:
            schedule = self._schedule(str(chat), group, self.monotonic())
            while True:
                now = self.monotonic()
                free = schedule.free_at(now) if message else max(now, schedule.held_until)
                if max_wait is not None and free - now > max_wait:
                    raise ChatBusy(free - now)
                at = schedule.reserve(now) if message else free
                if at > now:
                    await self.sleep(at - now)
                # A 429 while it slept moves the chat's hold: take a place after it.
                if schedule.held_until <= self.monotonic():
                    break
        now = self.monotonic()
        if not overall:
            if self.overall.held_until > now:  # a 429 that named no chat holds every request
                await self.sleep(self.overall.held_until - now)
            return
        at = self.overall.reserve(now)
        if at > now:
            await self.sleep(at - now)

    def hold(self, chat: str | int | None, seconds: float) -> None:
        """The platform asked to wait ``seconds`` before the next request to ``chat``
        (every chat when None): later requests to it wait, the others do not."""
        now = self.monotonic()
        until = now + max(0.0, seconds)
        if chat is None:
            self.overall.hold(until)
        else:
            self._schedule(str(chat), False, now).hold(until)
