"""The composition root: the one place that builds services, platforms and timers.

:func:`build_app` opens the database, syncs the decks and constructs every core
service with all it needs, once. :func:`telegram_platform` and
:func:`discord_platform` build the adapters from the services they use (never
the whole app). :func:`run_bot` starts the platforms, the timers and the push
senders, and stops them in reverse; with ``[ops]`` enabled, the operators' HTTP
endpoint serves ``/healthz`` and ``/metrics`` meanwhile (:mod:`bot.ops`), and with
``[web]`` enabled the browser workspace's server (:mod:`bot.platforms.web`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import signal
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, Protocol

from bot.clock import SystemClock
from bot.config import ConfigError, PushSettings, QuizSettings, Settings
from bot.core.actions import new_token
from bot.core.catalogue import sync_decks
from bot.core.challenges import assessment
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.challenges.photos import PhotoLimits
from bot.core.challenges.service import ChallengeService
from bot.core.decks import DeckSet
from bot.core.delivery import Channels, PlatformAnnouncer
from bot.core.fitting import FitPolicy, ModelFitter
from bot.core.housekeeping import Housekeeping
from bot.core.inputs import Inputs
from bot.core.learners import Basics, Enrolment
from bot.core.mediaimages import MediaImages
from bot.core.messages import RESENT_ASSESSMENT
from bot.core.metrics import NULL_METRICS, Metrics
from bot.core.onboarding import Onboarding
from bot.core.ports import Channel, Clock, PlatformUnreachable
from bot.core.pushes import PushPolicy, PushService
from bot.core.quiz import QuizService
from bot.core.rendering import Renderer
from bot.core.study import StudyService
from bot.core.webauth import link_key
from bot.core.workspace import WebPolicy, WorkspaceService
from bot.deckfiles import load_decks
from bot.interop.anki_export import packager as anki_packager
from bot.interop.anki_import import read_file
from bot.jobs.senders import Pacer, sender_loop
from bot.storage.database import SqlDatabase

if TYPE_CHECKING:
    from telegram.request import BaseRequest

    from bot.ops.metrics import PrometheusMetrics
    from bot.ops.server import Probe
    from bot.platforms.discord.platform import DiscordPlatform
    from bot.platforms.telegram.platform import TelegramPlatform
    from bot.platforms.web.server import WebServer

log = logging.getLogger(__name__)


class Platform(Channel, Protocol):
    """A chat platform the app starts and stops (Telegram, Discord)."""

    async def start(self) -> None:
        """Connect and start handling updates (returns once running).

        All or nothing: after a failed start it may be called again.

        Raises:
            CannotStart: starting cannot succeed as configured (a rejected token).
            PlatformUnreachable: the platform's API cannot be reached now.
        """
        ...

    async def stop(self) -> None:
        """Stop taking updates, finish in-flight work, disconnect."""
        ...

    @property
    def connected(self) -> bool:
        """Whether it is connected and taking updates now (for ``/healthz``)."""
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


def photo_limits(quiz: QuizSettings) -> PhotoLimits:
    """How much of challenge photo answers is kept, from ``[quiz]``."""
    mb = 1024 * 1024
    return PhotoLimits(
        max_bytes=quiz.challenge_photo_mb * mb,
        group_bytes=quiz.challenge_photos_per_group_mb * mb,
        keep_days=quiz.challenge_photo_days,
    )


def model_fitter(app: App) -> ModelFitter | None:
    """The fitting timer's fitter from ``[fitting]`` (None when it is off)."""
    fitting = app.settings.fitting
    if not fitting.enabled:
        return None
    policy = FitPolicy(
        recheck=timedelta(hours=fitting.recheck_hours), per_tick=fitting.learners_per_tick
    )
    return ModelFitter(app.db, app.clock, policy)


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
    #: Counts what the services and platforms did (nothing without ``[ops]``).
    metrics: Metrics = NULL_METRICS
    #: The database's schema version when the app was built (None: no migrations).
    schema: str | None = None
    #: What the platforms and exports draw with: :attr:`renderer` with imported cards'
    #: images read from the database (:class:`~bot.core.mediaimages.MediaImages`);
    #: None when there is no renderer.
    pictures: Renderer | None = None
    #: The browser workspace's core (``[web]``); None when ``[web] enabled`` is false.
    workspace: WorkspaceService | None = None

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
    metrics: Metrics = NULL_METRICS,
) -> App:
    """Open the database (checking its schema), sync the decks, build the services.

    ``renderer`` draws images (``bot.render``'s matplotlib renderer); without one the app
    is text-only. The app owns it from here and closes it in :meth:`App.close`. The
    platforms and ``/export anki`` draw through :attr:`App.pictures`: the renderer, with
    imported cards' images read from the database.
    ``metrics`` counts what the services do (see :func:`ops_metrics`).

    Raises:
        SchemaOutOfDate: when the schema is behind and upgrading is not allowed.
        ConfigError: when ``[decks] default`` names a deck or tag that was not loaded.
        CannotStart: when the database cannot be reached.
    """
    try:
        db = SqlDatabase(settings.database.url, echo=settings.database.echo)
    except BaseException:
        if renderer is not None:
            await renderer.close()
        raise
    clock = clock or SystemClock()
    try:
        schema = await db.check_schema(
            auto_upgrade=settings.database.auto_upgrade if auto_upgrade is None else auto_upgrade
        )
        deck_set = await asyncio.to_thread(load_decks, settings.decks.paths)
        _check_default_decks(settings, deck_set)
        await sync_decks(db, deck_set, clock)
    except BaseException:
        await db.dispose()
        if renderer is not None:
            await renderer.close()
        raise
    enrolment = Enrolment(settings.study, settings.decks.default)
    basics = Basics(db, clock, new_token, enrolment, metrics)
    channels = Channels()
    announcer = PlatformAnnouncer(db, channels, clock)
    window = timedelta(minutes=settings.quiz.window_minutes)
    pictures = MediaImages(renderer, db) if renderer is not None else None
    study = StudyService(
        basics, announcer, anki=anki_packager(), pictures=pictures, reader=read_file
    )
    quiz = QuizService(basics, announcer, window)
    catalog = ChallengeCatalog.from_sets(deck_set.challenge_sets)
    pushes = PushService(
        basics,
        push_policy(settings.push, postgres=not db.is_sqlite),
        {RESENT_ASSESSMENT: partial(assessment.resend, catalog=catalog)},
    )
    photos = photo_limits(settings.quiz)
    challenges = ChallengeService(basics, announcer, catalog, photos)
    onboarding = Onboarding(basics)
    inputs = Inputs(study, quiz, pushes, challenges, onboarding)
    workspace = (
        WorkspaceService(
            basics,
            web_policy(settings),
            challenges=challenges,
            study=study,
            inputs=inputs,
            catalog=catalog,
        )
        if settings.web.enabled
        else None
    )
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
        inputs=inputs,
        housekeeping=Housekeeping(db, clock, photos.keep),
        renderer=renderer,
        metrics=metrics,
        schema=schema,
        pictures=pictures,
        workspace=workspace,
    )


def web_policy(settings: Settings) -> WebPolicy:
    """The workspace's keys and lifetimes from ``[web]``: links signed with ``[web]
    secret``, else with a key derived from the Discord token, else (no Discord: no link
    is ever made) with a random key of this process; Mini App logins checked with the
    Telegram token."""
    web = settings.web
    secret = web.secret.reveal() if web.secret else None
    discord = settings.discord.token.reveal() if settings.discord.token else None
    key = link_key(secret, discord) if (secret or discord) else secrets.token_bytes(32)
    telegram = settings.telegram.token
    return WebPolicy(
        public_url=web.public_url.rstrip("/"),
        link_key=key,
        telegram_token=telegram.reveal() if telegram else None,
        init_data_max_age=timedelta(seconds=web.init_data_max_age_seconds),
        link_life=timedelta(minutes=web.link_minutes),
        session_life=timedelta(hours=web.session_hours),
    )


def _check_default_decks(settings: Settings, deck_set: DeckSet) -> None:
    """Fail, naming the key, if ``[decks] default`` names a deck or tag no deck has.

    Raises:
        ConfigError: for the first unknown name, with the decks that were loaded.
    """
    topics = set(deck_set.topics())
    unknown = [name for name in settings.decks.default if name not in topics]
    if not unknown:
        return
    label = str(settings.source) if settings.source else "config"
    loaded = ", ".join(deck.id for deck in deck_set.decks) or "none"
    raise ConfigError(
        f"{label}: [decks] default: {json.dumps(unknown[0])} is no deck or tag "
        f"(decks loaded: {loaded})",
        file=label,
        key="default",
    )


def telegram_platform(app: App, *, request: BaseRequest | None = None) -> TelegramPlatform:
    """The Telegram adapter, from ``[telegram]`` and the services it uses (needs a token).

    ``request`` replaces the HTTP layer (tests pass a fake Bot API).
    """
    from bot.platforms.telegram.platform import TelegramPlatform

    web = app.settings.web
    # Telegram opens a Mini App over https only: with a loopback http address (trying the
    # workspace out) its chats offer no button, and the page is opened by hand.
    workspace_url = (
        web.public_url if web.enabled and web.public_url.startswith("https://") else None
    )
    return TelegramPlatform(
        app.settings.telegram,
        study=app.study,
        quiz=app.quiz,
        challenges=app.challenges,
        onboarding=app.onboarding,
        inputs=app.inputs,
        renderer=app.pictures,
        request=request,
        metrics=app.metrics,
        workspace_url=workspace_url,
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
        renderer=app.pictures,
        metrics=app.metrics,
        workspace_links=app.workspace.link if app.workspace is not None else None,
        link_minutes=app.settings.web.link_minutes,
    )


def build_platforms(app: App) -> list[Platform]:
    """The chat platforms that have a token."""
    platforms: list[Platform] = []
    if app.settings.telegram.token:
        platforms.append(telegram_platform(app))
    if app.settings.discord.token:
        platforms.append(discord_platform(app))
    return platforms


def ops_metrics(settings: Settings) -> PrometheusMetrics | None:
    """The Prometheus metrics when ``[ops] enabled`` is true; None counts nothing."""
    if not settings.ops.enabled:
        return None
    from bot.ops.metrics import PrometheusMetrics

    tokens = (("telegram", settings.telegram.token), ("discord", settings.discord.token))
    return PrometheusMetrics([name for name, token in tokens if token])


def ops_endpoint(
    app: App, metrics: PrometheusMetrics | None, platforms: Sequence[Probe]
) -> AbstractAsyncContextManager[object]:
    """The ``/healthz`` and ``/metrics`` server of ``[ops]`` (nothing without ``metrics``)."""
    if metrics is None:
        return contextlib.nullcontext()
    from bot.ops.server import OpsServer

    return OpsServer(
        host=app.settings.ops.host,
        port=app.settings.ops.port,
        metrics=metrics,
        ping=app.db.ping,
        backlog=app.pushes.backlog,
        platforms=platforms,
        clock=app.clock,
    )


def web_endpoint(app: App) -> AbstractAsyncContextManager[object]:
    """The browser workspace's server of ``[web]`` (nothing when it is off)."""
    if app.workspace is None:
        return contextlib.nullcontext()

    return web_server(app, app.workspace)


def web_server(app: App, workspace: WorkspaceService) -> WebServer:
    """The workspace's HTTP server over ``workspace``, from ``[web]`` and ``[quiz]``."""
    from bot.platforms.web.server import WebServer

    return WebServer(
        app.settings.web,
        workspace,
        pictures=app.pictures,
        photos=photo_limits(app.settings.quiz),
    )


NO_PLATFORM_MESSAGE = (
    "No chat platform to start: set STUDYBOT_TELEGRAM_TOKEN or STUDYBOT_DISCORD_TOKEN "
    "(or [telegram] token / [discord] token in the config file). "
    "To try the bot without a token, run `studybot console`."
)


def startup_summary(settings: Settings, decks: DeckSet, schema: str | None) -> str:
    """The one start-up line: platforms, decks and cards, the database (its password
    hidden) and its schema version, the push tick, the web workspace's address."""
    platforms = ", ".join(_platforms_summary(settings)) or "no platform"
    cards = sum(1 for _ in decks.cards())
    challenges = sum(len(found.challenges) for found in decks.challenge_sets)
    return (
        f"studybot: {platforms}; {len(decks.decks)} decks, {cards} cards, "
        f"{challenges} challenges; database {settings.database.safe_url()} "
        f"at schema {schema or 'empty'}; push tick every {settings.push.tick_seconds} s"
        + _web_summary(settings)
    )


def _web_summary(settings: Settings) -> str:
    """The workspace's part of the start-up line: its address, and with a Telegram token
    and an http address (trying it out), that Telegram's chats offer no button."""
    web = settings.web
    if not web.enabled:
        return ""
    said = f"; web workspace at {web.public_url.rstrip('/')}/app"
    if settings.telegram.token and not web.public_url.startswith("https://"):
        said += " (not https: Telegram chats offer no Open workspace button)"
    return said


def _platforms_summary(settings: Settings) -> list[str]:
    found = []
    telegram = settings.telegram
    if telegram.token:
        how = {
            "polling": "polling",
            "webhook": f"webhook on {telegram.webhook_listen}:{telegram.webhook_port}",
        }.get(telegram.mode, "send only")
        found.append(f"telegram ({how})")
    discord = settings.discord
    if discord.token:
        how = "gateway" if discord.mode == "gateway" else "send only"
        if discord.mode == "gateway" and discord.shard_ids:
            ids = ", ".join(map(str, discord.shard_ids))
            how += f", shards {ids} of {discord.shard_count}"
        elif discord.mode == "gateway" and discord.shard_count:
            how += f", {discord.shard_count} shards"
        found.append(f"discord ({how})")
    return found


async def run_bot(settings: Settings) -> int:
    """Run every configured platform, the timers and the push senders until SIGINT/SIGTERM.

    The signals are handled from the first moment: a stop during start-up ends
    what has started (a render worker too) and exits 0.

    Returns:
        The exit code: 0 after a stop, 2 without a platform to run.

    Raises:
        CannotStart: the database cannot be used, or a platform refuses its token
            (one line for the operator; what had started is stopped first).
    """
    if not (settings.telegram.token or settings.discord.token):
        log.error("%s", NO_PLATFORM_MESSAGE)
        return 2
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    metrics = ops_metrics(settings)
    building = asyncio.ensure_future(_build_for_run(settings, metrics or NULL_METRICS))
    if not await _unless_stopped(stop, building):
        return 0
    app = building.result()
    try:
        log.info("%s", startup_summary(app.settings, app.decks, app.schema))
        platforms = build_platforms(app)
        # The operators' endpoint and the workspace's server outlive the platforms: they
        # start before them (a Mini App button a platform sends finds the page) and stop after.
        async with ops_endpoint(app, metrics, platforms), web_endpoint(app):
            await serve(app, platforms, stop)
        return 0
    finally:
        await app.close()


async def _build_for_run(settings: Settings, metrics: Metrics) -> App:
    """The app with a matplotlib renderer (images cached on disk in the data directory).

    No render worker starts here: the renderer starts one with the first image that is
    in no cache, and stops it after ``[render] worker_idle_seconds`` without a job, so
    the bot takes updates sooner and holds no worker at rest.
    """
    from bot.render.cache import cache_dir_for
    from bot.render.service import MatplotlibRenderer

    drawing = MatplotlibRenderer(
        cache_dir_for(settings.data_dir),
        metrics=metrics,
        idle_seconds=settings.render.worker_idle_seconds,
    )
    return await build_app(settings, renderer=drawing, metrics=metrics)


async def _unless_stopped(stop: asyncio.Event, work: asyncio.Future[Any]) -> bool:
    """Wait for ``work``, unless ``stop`` is set first: then cancel it and wait for it to
    clean up. Returns whether ``work`` finished; re-raises what it raised."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({work, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()
    if not work.done():
        work.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await work
        return False
    work.result()
    return True


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits between attempts to start a platform that cannot be reached: ``first``
    seconds, doubling after each failed attempt, at most ``cap``."""

    first: float = 1.0
    cap: float = 60.0

    def after(self, delay: float) -> float:
        """The wait after one of ``delay`` seconds."""
        return min(self.cap, delay * 2)


async def serve(
    app: App, platforms: Sequence[Platform], stop: asyncio.Event, *, backoff: Backoff = Backoff()
) -> None:
    """Start platforms, timers and senders; wait for ``stop``; then stop them in reverse.

    A platform whose API cannot be reached is tried again in the background (one
    log line per attempt, waits as ``backoff`` says) while the rest runs; once it
    starts, its sender starts and a push tick runs for it.

    Raises:
        CannotStart: a platform refuses to start (a rejected token), now or when
            tried again; what had started is stopped first.
    """
    from bot.jobs.scheduler import Jobs

    jobs = Jobs(
        pushes=app.pushes,
        quiz=app.quiz,
        challenges=app.challenges,
        housekeeping=app.housekeeping,
        channels=app.channels,
        tick_seconds=app.settings.push.tick_seconds,
        fitter=model_fitter(app),
        fit_tick_seconds=app.settings.fitting.tick_seconds,
    )
    running = _Platforms(app, backoff, started=jobs.tick_now)
    # What starts here stops in reverse order in the ``finally`` below. A part of the
    # process that must outlive the platforms (an HTTP endpoint for operators) starts
    # before them and stops after them.
    try:
        # Each platform's first attempt comes before the timers, so that what they post
        # at start finds the platforms that could start.
        if await _unless_stopped(stop, asyncio.ensure_future(running.start(platforms))):
            backfilled = await app.pushes.backfill()
            if backfilled:
                log.info("gave %d learners their next push time", backfilled)
            jobs.start()
            await running.wait(stop)
        log.info("shutting down")
    finally:
        await running.stop_starting_and_sending()
        await jobs.stop()
        await running.stop()


class _Platforms:
    """The platforms of one :func:`serve`: started, retried while they cannot be
    reached, each with its push sender once up; stopped in reverse.

    Args:
        app: the services and settings.
        backoff: waits between attempts.
        started: called when a platform starts after its first attempt failed.
    """

    def __init__(self, app: App, backoff: Backoff, *, started: Callable[[], None]) -> None:
        self.app = app
        self.backoff = backoff
        self.started_late = started
        self.running: list[Platform] = []
        self.senders: list[asyncio.Task[None]] = []
        self.retries: list[asyncio.Task[None]] = []
        self.stop_senders = asyncio.Event()

    async def start(self, platforms: Sequence[Platform]) -> None:
        """Try each platform once; one that cannot be reached is tried again in the
        background.

        Raises:
            CannotStart: a platform refuses to start.
        """
        for platform in platforms:
            try:
                await self._attempt(platform)
            except PlatformUnreachable as exc:
                self._unreachable(platform, exc, self.backoff.first)
                self.retries.append(
                    asyncio.create_task(
                        self._retry(platform), name=f"{platform.name}-start-retries"
                    )
                )

    async def _attempt(self, platform: Platform) -> None:
        # Attached first: announcements made as soon as it starts must find it.
        self.app.channels.attach(platform)
        try:
            await platform.start()
        except BaseException:
            self.app.channels.detach(platform.name)
            raise
        self.running.append(platform)
        push = self.app.settings.push
        rates = {"telegram": push.telegram_per_second, "discord": push.discord_per_second}
        pacer = Pacer(rates.get(platform.name, 10.0))
        self.senders.append(
            asyncio.create_task(
                sender_loop(self.app.pushes, platform, pacer, self.stop_senders),
                name=f"{platform.name}-sender",
            )
        )

    async def _retry(self, platform: Platform) -> None:
        delay = self.backoff.first
        while True:
            await asyncio.sleep(delay)
            try:
                await self._attempt(platform)
            except PlatformUnreachable as exc:
                delay = self.backoff.after(delay)
                self._unreachable(platform, exc, delay)
                continue
            self.started_late()
            return

    @staticmethod
    def _unreachable(platform: Platform, exc: PlatformUnreachable, delay: float) -> None:
        log.warning("%s: %s; trying again in %g s", platform.name, exc, delay)

    async def wait(self, stop: asyncio.Event) -> None:
        """Until ``stop`` is set.

        Raises:
            CannotStart: a platform tried again in the background refused to start.
        """
        stopping = asyncio.ensure_future(stop.wait())
        pending: set[asyncio.Future[Any]] = {stopping, *self.retries}
        try:
            while stopping in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done - {stopping}:
                    task.result()
        finally:
            stopping.cancel()

    async def stop_starting_and_sending(self) -> None:
        """Give up the starts still being tried, and stop the senders."""
        self.stop_senders.set()
        tasks = [*self.retries, *self.senders]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def stop(self) -> None:
        """Stop the running platforms, the last started first."""
        for platform in reversed(self.running):
            self.app.channels.detach(platform.name)
            try:
                await platform.stop()
            except Exception:
                log.exception("%s did not stop cleanly", platform.name)
