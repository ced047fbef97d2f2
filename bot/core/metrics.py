"""The metrics port: what the bot counts, told once where each fact is known.

The services count reviews and pushes once their transaction has committed;
the platform adapters count the errors their API answers with; the renderer
counts its cache and its cold renders. Each is given a :class:`Metrics` when it
is built. :class:`NullMetrics` counts nothing (tests, the console, a bot without
``[ops]``); the Prometheus implementation lives outside the core, in
:mod:`bot.ops.metrics`.
"""

from __future__ import annotations

from typing import Final, Literal, Protocol

__all__ = [
    "NULL_METRICS",
    "Metrics",
    "NullMetrics",
    "PlatformError",
    "PushFailure",
    "RenderCache",
]

#: What a platform's API answered a request with, when it was not a success:
#: ``rate_limited`` (429), ``network`` (no answer, a timeout, a 5xx) or ``refused``
#: (any other 4xx: a blocked bot, a closed DM, a malformed request).
PlatformError = Literal["rate_limited", "network", "refused"]

#: Why a push was given up: the learner cannot be reached, the platform refused the
#: message, the learner or card is gone, or every attempt failed.
PushFailure = Literal["unreachable", "refused", "gone", "attempts"]

#: Where the renderer found an image it had drawn before.
RenderCache = Literal["memory", "disk"]


class Metrics(Protocol):
    """Counters the bot keeps; every method is cheap and never raises."""

    def reviewed(self, source: str, count: int = 1) -> None:
        """``count`` reviews from ``source`` (dm, push, console, quiz, challenge) committed."""
        ...

    def pushes_planned(self, platform: str, count: int) -> None:
        """``count`` pushes for ``platform`` written to the outbox (committed)."""
        ...

    def push_sent(self, platform: str) -> None:
        """A push was accepted by its platform and marked sent."""
        ...

    def push_failed(self, platform: str, reason: PushFailure) -> None:
        """A push was given up for good."""
        ...

    def platform_error(self, platform: str, kind: PlatformError) -> None:
        """A request to a platform's API failed (one count per failed attempt)."""
        ...

    def render_hit(self, cache: RenderCache) -> None:
        """The renderer found an image in its ``cache``."""
        ...

    def render_miss(self) -> None:
        """The renderer found an image in no cache: it draws it (a cold render)."""
        ...

    def rendered(self, seconds: float) -> None:
        """A cold render finished after ``seconds``."""
        ...

    def render_pool(self, up: bool) -> None:
        """The renderer's worker processes started (``up``: with a cold render) or
        stopped (idle, or the renderer closed)."""
        ...


class NullMetrics:
    """A :class:`Metrics` that counts nothing."""

    __slots__ = ()

    def reviewed(self, source: str, count: int = 1) -> None:
        """Count nothing."""

    def pushes_planned(self, platform: str, count: int) -> None:
        """Count nothing."""

    def push_sent(self, platform: str) -> None:
        """Count nothing."""

    def push_failed(self, platform: str, reason: PushFailure) -> None:
        """Count nothing."""

    def platform_error(self, platform: str, kind: PlatformError) -> None:
        """Count nothing."""

    def render_hit(self, cache: RenderCache) -> None:
        """Count nothing."""

    def render_miss(self) -> None:
        """Count nothing."""

    def rendered(self, seconds: float) -> None:
        """Count nothing."""

    def render_pool(self, up: bool) -> None:
        """Count nothing."""


#: The one shared :class:`NullMetrics` (it holds no state).
NULL_METRICS: Final = NullMetrics()
