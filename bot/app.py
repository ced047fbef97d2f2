"""The composition root: the one place that builds services and starts things."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Protocol

from bot.clock import SystemClock
from bot.config import PushSettings, Settings
from bot.core.actions import new_token
from bot.core.challenges import ChallengeCatalog, ChallengeService
from bot.core.decks import DeckSet
from bot.core.messages import Announcement, Reply
from bot.core.model import Learner, SyncReport
from bot.core.ports import Clock, Tx
from bot.core.pushes import PushPolicy, PushService
from bot.core.quiz import QuizService
from bot.core.rendering import Renderer
from bot.core.study import StudyService
from bot.deckfiles import load_decks
from bot.storage.database import SqlDatabase

log = logging.getLogger(__name__)


class Platform(Protocol):
    """A running chat platform (Telegram, Discord) as the app sees it."""

    name: str

    async def start(self) -> None:
        """Connect and start handling updates (returns once running)."""
        ...

    async def stop(self) -> None:
        """Stop taking updates, finish in-flight work, disconnect."""
        ...

    async def announce(self, announcement: Announcement) -> None:
        """Post a core message to a chat of this platform (a quiz result in a group)."""
        ...

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> bool:
        """Send a reply to a learner's private chat, leaving out its first ``skip``
        messages (accepted on an earlier try).

        Returns True once the platform accepted it, False when the learner cannot
        be reached (the platform marks them); raises to have it tried again later
        (``DeliveryRetry`` saying how many more messages were accepted first).
        """
        ...


@dataclass
class App:
    """Everything the bot runs on, wired together."""

    settings: Settings
    db: SqlDatabase
    clock: Clock
    study: StudyService
    quiz: QuizService
    pushes: PushService
    challenges: ChallengeService
    decks: DeckSet = field(default_factory=DeckSet)
    platforms: dict[str, Platform] = field(default_factory=dict)
    #: Draws card images and /stats charts; None means text only.
    renderer: Renderer | None = None

    async def deliver(self, announcements: Sequence[Announcement]) -> None:
        """Post announcements through their platforms; a failure is logged, never raised.

        One addressed to a learner goes to their private chat through the platform's push.
        """
        for item in announcements:
            platform = self.platforms.get(item.platform)
            if platform is None:
                log.warning("no running %s platform for an announcement", item.platform)
                continue
            try:
                if item.learner_id is not None:
                    learner = await self.db.run(partial(_learner_by_id, learner_id=item.learner_id))
                    if learner is not None:
                        await platform.push(learner, item.reply)
                    continue
                await platform.announce(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not post to %s chat %s", item.platform, item.chat_id)

    async def close(self) -> None:
        if self.renderer is not None:
            await self.renderer.close()
        await self.db.dispose()


def _learner_by_id(tx: Tx, learner_id: int) -> Learner | None:
    return tx.learners.get_by_id(learner_id)


async def sync_decks(db: SqlDatabase, deck_set: DeckSet, clock: Clock) -> SyncReport:
    """Write the deck catalogue to the database.

    When some deck files have problems, the good decks are still synced but
    nothing is retired, so a typo never takes cards away from learners.
    """
    for error in deck_set.errors:
        log.warning("deck problem: %s", error)
    now = clock.now()
    retire = deck_set.ok

    def work(tx: Tx) -> SyncReport:
        return tx.catalogue.sync(deck_set.decks, now, retire=retire)

    report = await db.run(work)
    log.info(
        "decks synced: %d added, %d updated, %d retired, %d unchanged",
        report.added,
        report.updated,
        report.retired,
        report.unchanged,
    )
    return report


async def build_app(
    settings: Settings,
    *,
    auto_upgrade: bool | None = None,
    clock: Clock | None = None,
    renderer: bool = False,
) -> App:
    """Open the database (checking its schema), sync the decks, build the services.

    With ``renderer=True`` images are drawn by a matplotlib process pool (cached on
    disk in the data directory); without it the app is text-only (the console).

    Raises:
        SchemaOutOfDate: when the schema is behind and upgrading is not allowed.
    """
    db = SqlDatabase(settings.database.url, echo=settings.database.echo)
    try:
        await db.check_schema(
            auto_upgrade=settings.database.auto_upgrade if auto_upgrade is None else auto_upgrade
        )
        clock = clock or SystemClock()
        deck_set = await asyncio.to_thread(load_decks, settings.decks.paths)
        await sync_decks(db, deck_set, clock)
    except BaseException:
        await db.dispose()
        raise
    defaults = settings.study
    study = StudyService(db, clock, new_token, defaults, default_topics=settings.decks.default)
    quiz = QuizService(db, clock, new_token, defaults, default_topics=settings.decks.default)
    quiz.window = timedelta(minutes=settings.quiz.window_minutes)
    pushes = PushService(db, clock, new_token, defaults, default_topics=settings.decks.default)
    pushes.policy = push_policy(settings.push, postgres=not db.is_sqlite)
    study.pushes = pushes
    challenges = ChallengeService(db, clock, new_token, defaults, settings.decks.default)
    challenges.catalog = ChallengeCatalog.from_sets(deck_set.challenge_sets)
    study.challenges = challenges
    app = App(settings, db, clock, study, quiz, pushes, challenges, deck_set)
    if renderer:
        from bot.render.cache import cache_dir_for
        from bot.render.service import MatplotlibRenderer

        drawing = MatplotlibRenderer(cache_dir_for(settings.data_dir))
        await drawing.start()  # warm the worker so the first card is not slow
        app.renderer = drawing
    return app


def push_policy(push: PushSettings, *, postgres: bool) -> PushPolicy:
    """The fan-out's tunables from ``[push]``.

    On PostgreSQL two transactions plan batches side by side: while one batch's
    statements run in the server, the next is built here.
    """
    return PushPolicy(
        remind_after=timedelta(days=push.remind_after_days),
        stop_after=timedelta(days=push.stop_after_days),
        planners=2 if postgres else 1,
    )


def build_platforms(app: App) -> list[Platform]:
    """The chat platforms that have a token."""
    platforms: list[Platform] = []
    if app.settings.telegram.token:
        from bot.platforms.telegram import build_telegram

        platforms.append(build_telegram(app))
    if app.settings.discord.token:
        from bot.platforms.discord import build_discord

        platforms.append(build_discord(app))
    return platforms


NO_PLATFORM_MESSAGE = (
    "No chat platform to start: set STUDYBOT_TELEGRAM_TOKEN or STUDYBOT_DISCORD_TOKEN "
    "(or [telegram] token / [discord] token in the config file). "
    "To try the bot without a token, run `studybot console`."
)


async def run_bot(settings: Settings) -> int:
    """Run every configured platform, the scheduler and the push senders until SIGINT/SIGTERM."""
    if not (settings.telegram.token or settings.discord.token):
        log.error("%s", NO_PLATFORM_MESSAGE)
        return 2
    app = await build_app(settings, renderer=True)
    try:
        platforms = build_platforms(app)
        if not platforms:
            log.error("%s", NO_PLATFORM_MESSAGE)
            return 2
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await _serve(app, platforms, stop)
        return 0
    finally:
        await app.close()


async def _serve(app: App, platforms: Sequence[Platform], stop: asyncio.Event) -> None:
    """Start platforms, scheduler and senders; wait for ``stop``; then stop them in reverse."""
    from bot.jobs import runtime
    from bot.jobs.pushes import Pacer, SchedulerTimers, sender_loop
    from bot.jobs.scheduler import build_scheduler

    started: list[Platform] = []
    senders: list[asyncio.Task[None]] = []
    scheduler = build_scheduler(app)
    stop_senders = asyncio.Event()
    try:
        for platform in platforms:
            # Registered first: announcements made as soon as it starts must find it.
            app.platforms[platform.name] = platform
            await platform.start()
            started.append(platform)
            log.info("%s started", platform.name)
        backfilled = await app.pushes.backfill()
        if backfilled:
            log.info("gave %d learners their next push time", backfilled)
        runtime.set_app(app)
        grace = timedelta(minutes=app.settings.push.misfire_grace_minutes)
        timers = SchedulerTimers(scheduler, grace)
        app.pushes.timers = timers
        app.challenges.timers = timers
        scheduler.start()
        rates = {
            "telegram": app.settings.push.telegram_per_second,
            "discord": app.settings.push.discord_per_second,
        }
        for name in app.platforms:
            pacer = Pacer(rates.get(name, 10.0))
            senders.append(asyncio.create_task(sender_loop(app, name, pacer, stop_senders)))
        await stop.wait()
        log.info("shutting down")
    finally:
        stop_senders.set()
        for task in senders:
            task.cancel()
        await asyncio.gather(*senders, return_exceptions=True)
        if scheduler.running:
            scheduler.shutdown(wait=False)
        runtime.set_app(None)
        await _stop_all(started)


async def _stop_all(platforms: Sequence[Platform]) -> None:
    for platform in reversed(platforms):
        try:
            await platform.stop()
        except Exception:
            log.exception("%s did not stop cleanly", platform.name)
