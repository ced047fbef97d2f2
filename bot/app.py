"""The composition root: the one place that builds services, platforms and timers.

:func:`build_app` opens the database, syncs the decks and constructs every core
service with all it needs, once. :func:`telegram_platform` and
:func:`discord_platform` build the adapters from the services they use (never
the whole app). :func:`run_bot` starts the platforms, the timers and the push
senders, and stops them in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Protocol

from bot.clock import SystemClock
from bot.config import PushSettings, Settings
from bot.core.actions import new_token
from bot.core.catalogue import sync_decks
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.challenges.service import ChallengeService
from bot.core.decks import DeckSet
from bot.core.delivery import Channels, PlatformAnnouncer
from bot.core.housekeeping import Housekeeping
from bot.core.inputs import Inputs
from bot.core.learners import Basics, Enrolment
from bot.core.onboarding import MemoryQuestions, Onboarding
from bot.core.ports import Channel, Clock
from bot.core.pushes import PushPolicy, PushService
from bot.core.quiz import QuizService
from bot.core.rendering import Renderer
from bot.core.study import StudyService
from bot.deckfiles import load_decks
from bot.storage.database import SqlDatabase

if TYPE_CHECKING:
    from telegram.request import BaseRequest

    from bot.platforms.discord.platform import DiscordPlatform
    from bot.platforms.telegram.platform import TelegramPlatform

log = logging.getLogger(__name__)


class Platform(Channel, Protocol):
    """A chat platform the app starts and stops (Telegram, Discord)."""

    async def start(self) -> None:
        """Connect and start handling updates (returns once running)."""
        ...

    async def stop(self) -> None:
        """Stop taking updates, finish in-flight work, disconnect."""
        ...


def push_policy(push: PushSettings, *, postgres: bool) -> PushPolicy:
    """The fan-out's tunables from ``[push]``.

    On PostgreSQL two transactions plan batches side by side: while one batch's
    statements run in the server, the next is built here.
    """
    return PushPolicy(
        remind_after=timedelta(days=push.remind_after_days),
        stop_after=timedelta(days=push.stop_after_days),
        planners=2 if postgres else 1,
        snooze_grace=timedelta(minutes=push.misfire_grace_minutes),
    )


@dataclass(frozen=True, slots=True)
class App:
    """Everything the bot runs on, built once by :func:`build_app`."""

    settings: Settings
    db: SqlDatabase
    clock: Clock
    decks: DeckSet
    channels: Channels
    study: StudyService
    quiz: QuizService
    pushes: PushService
    challenges: ChallengeService
    onboarding: Onboarding
    inputs: Inputs
    housekeeping: Housekeeping
    #: Draws card images and charts; None means text only (the console).
    renderer: Renderer | None

    async def close(self) -> None:
        if self.renderer is not None:
            await self.renderer.close()
        await self.db.dispose()


async def build_app(
    settings: Settings,
    *,
    auto_upgrade: bool | None = None,
    clock: Clock | None = None,
    renderer: Renderer | None = None,
) -> App:
    """Open the database (checking its schema), sync the decks, build the services.

    ``renderer`` draws images (see :func:`matplotlib_renderer`); without one the app
    is text-only. The app owns it from here and closes it in :meth:`App.close`.

    Raises:
        SchemaOutOfDate: when the schema is behind and upgrading is not allowed.
    """
    db = SqlDatabase(settings.database.url, echo=settings.database.echo)
    clock = clock or SystemClock()
    try:
        await db.check_schema(
            auto_upgrade=settings.database.auto_upgrade if auto_upgrade is None else auto_upgrade
        )
        deck_set = await asyncio.to_thread(load_decks, settings.decks.paths)
        await sync_decks(db, deck_set, clock)
    except BaseException:
        await db.dispose()
        if renderer is not None:
            await renderer.close()
        raise
    basics = Basics(db, clock, new_token, Enrolment(settings.study, settings.decks.default))
    channels = Channels()
    announcer = PlatformAnnouncer(db, channels)
    window = timedelta(minutes=settings.quiz.window_minutes)
    study = StudyService(basics, announcer)
    quiz = QuizService(basics, announcer, window)
    pushes = PushService(basics, push_policy(settings.push, postgres=not db.is_sqlite))
    catalog = ChallengeCatalog.from_sets(deck_set.challenge_sets)
    challenges = ChallengeService(basics, announcer, catalog)
    onboarding = Onboarding(basics, MemoryQuestions())
    return App(
        settings=settings,
        db=db,
        clock=clock,
        decks=deck_set,
        channels=channels,
        study=study,
        quiz=quiz,
        pushes=pushes,
        challenges=challenges,
        onboarding=onboarding,
        inputs=Inputs(study, quiz, pushes, challenges, onboarding),
        housekeeping=Housekeeping(db, clock),
        renderer=renderer,
    )


async def matplotlib_renderer(settings: Settings) -> Renderer:
    """The matplotlib renderer, its worker warmed so the first card is not slow; images
    are cached on disk in the data directory."""
    from bot.render.cache import cache_dir_for
    from bot.render.service import MatplotlibRenderer

    drawing = MatplotlibRenderer(cache_dir_for(settings.data_dir))
    await drawing.start()
    return drawing


def telegram_platform(app: App, *, request: BaseRequest | None = None) -> TelegramPlatform:
    """The Telegram adapter, from ``[telegram]`` and the services it uses (needs a token).

    ``request`` replaces the HTTP layer (tests pass a fake Bot API).
    """
    from bot.platforms.telegram.platform import TelegramPlatform

    return TelegramPlatform(
        app.settings.telegram,
        study=app.study,
        quiz=app.quiz,
        challenges=app.challenges,
        onboarding=app.onboarding,
        inputs=app.inputs,
        renderer=app.renderer,
        request=request,
    )


def discord_platform(app: App) -> DiscordPlatform:
    """The Discord adapter, from ``[discord]`` and the services it uses (needs a token)."""
    from bot.platforms.discord.platform import DiscordPlatform

    return DiscordPlatform(
        app.settings.discord,
        study=app.study,
        quiz=app.quiz,
        challenges=app.challenges,
        inputs=app.inputs,
        topics=tuple(app.decks.topics()),
        renderer=app.renderer,
    )


def build_platforms(app: App) -> list[Platform]:
    """The chat platforms that have a token."""
    platforms: list[Platform] = []
    if app.settings.telegram.token:
        platforms.append(telegram_platform(app))
    if app.settings.discord.token:
        platforms.append(discord_platform(app))
    return platforms


NO_PLATFORM_MESSAGE = (
    "No chat platform to start: set STUDYBOT_TELEGRAM_TOKEN or STUDYBOT_DISCORD_TOKEN "
    "(or [telegram] token / [discord] token in the config file). "
    "To try the bot without a token, run `studybot console`."
)


async def run_bot(settings: Settings) -> int:
    """Run every configured platform, the timers and the push senders until SIGINT/SIGTERM."""
    if not (settings.telegram.token or settings.discord.token):
        log.error("%s", NO_PLATFORM_MESSAGE)
        return 2
    app = await build_app(settings, renderer=await matplotlib_renderer(settings))
    try:
        platforms = build_platforms(app)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(app, platforms, stop)
        return 0
    finally:
        await app.close()


async def serve(app: App, platforms: Sequence[Platform], stop: asyncio.Event) -> None:
    """Start platforms, timers and senders; wait for ``stop``; then stop them in reverse."""
    from bot.jobs.scheduler import Jobs
    from bot.jobs.senders import Pacer, sender_loop

    started: list[Platform] = []
    senders: list[asyncio.Task[None]] = []
    jobs = Jobs(
        pushes=app.pushes,
        quiz=app.quiz,
        challenges=app.challenges,
        housekeeping=app.housekeeping,
        channels=app.channels,
        tick_seconds=app.settings.push.tick_seconds,
    )
    stop_senders = asyncio.Event()
    try:
        for platform in platforms:
            # Attached first: announcements made as soon as it starts must find it.
            app.channels.attach(platform)
            try:
                await platform.start()
            except BaseException:
                app.channels.detach(platform.name)
                raise
            started.append(platform)
            log.info("%s started", platform.name)
        backfilled = await app.pushes.backfill()
        if backfilled:
            log.info("gave %d learners their next push time", backfilled)
        jobs.start()
        rates = {
            "telegram": app.settings.push.telegram_per_second,
            "discord": app.settings.push.discord_per_second,
        }
        for platform in started:
            pacer = Pacer(rates.get(platform.name, 10.0))
            senders.append(
                asyncio.create_task(sender_loop(app.pushes, platform, pacer, stop_senders))
            )
        await stop.wait()
        log.info("shutting down")
    finally:
        stop_senders.set()
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        await jobs.stop()
        await _stop_all(started, app.channels)


async def _stop_all(platforms: Sequence[Platform], channels: Channels) -> None:
    for platform in reversed(platforms):
        channels.detach(platform.name)
        try:
            await platform.stop()
        except Exception:
            log.exception("%s did not stop cleanly", platform.name)
