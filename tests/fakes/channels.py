"""A recording :class:`~bot.core.ports.Channel`: a chat platform that keeps what it was sent."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.messages import Reply
from bot.core.model import Learner
from bot.core.ports import Delivery


class FakeChannel:
    """A running platform that records announcements and pushes.

    Args:
        name: the platform's name.
        deliver: what a push does: returns the :class:`Delivery` (reached by default),
            or raises.
    """

    def __init__(
        self, name: str = "telegram", deliver: Callable[[Learner, Reply], Delivery] | None = None
    ) -> None:
        self._name = name
        self.deliver = deliver or (lambda learner, reply: Delivery(reached=True))
        self.announced: list[tuple[str, Reply]] = []
        self.pushed: list[tuple[Learner, Reply, int]] = []

    @property
    def name(self) -> str:
        return self._name

    async def announce(self, chat_id: str, reply: Reply) -> None:
        self.announced.append((chat_id, reply))

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        self.pushed.append((learner, reply, skip))
        return self.deliver(learner, reply)
