"""The composition root: the one place that builds services and starts things."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from bot.clock import SystemClock
from bot.config import Settings
from bot.core.actions import new_token
from bot.core.decks import DeckSet
from bot.core.messages import Announcement
from bot.core.model import LearnerSettings, SyncReport
from bot.core.ports import Clock, Tx
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


def learner_defaults(settings: Settings) -> LearnerSettings:
    """The settings a new learner starts with, from ``[study]``."""
    s = settings.study
    return LearnerSettings(
        timezone=s.timezone,
        push_time=s.push_time,
        desired_retention=s.desired_retention,
        new_cards_per_day=s.new_cards_per_day,
        max_reviews_per_day=s.max_reviews_per_day,
        learning_steps=s.learning_steps,
        relearning_steps=s.relearning_steps,
        maximum_interval_days=s.maximum_interval_days,
        leech_threshold=s.leech_threshold,
        enable_fuzzing=s.enable_fuzzing,
    )


@dataclass
class App:
    """Everything the bot runs on, wired together."""

    settings: Settings
    db: SqlDatabase
    clock: Clock
    study: StudyService
    quiz: QuizService
    decks: DeckSet = field(default_factory=DeckSet)
    platforms: dict[str, Platform] = field(default_factory=dict)
    #: Draws card images and /stats charts; None means text only.
    renderer: Renderer | None = None

    async def deliver(self, announcements: Sequence[Announcement]) -> None:
        """Post announcements through their platforms; a failure is logged, never raised."""
        for item in announcements:
            platform = self.platforms.get(item.platform)
            if platform is None:
                log.warning("no running %s platform for an announcement", item.platform)
                continue
            try:
                await platform.announce(item)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("could not post to %s chat %s", item.platform, item.chat_id)

    async def close(self) -> None:
        if self.renderer is not None:
            await self.renderer.close()
        await self.db.dispose()


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
) -> App:
    """Open the database (checking its schema), sync the decks, build the study service.

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
    defaults = learner_defaults(settings)
    study = StudyService(db, clock, new_token, defaults, default_topics=settings.decks.default)
    quiz = QuizService(db, clock, new_token, defaults, default_topics=settings.decks.default)
    quiz.window = timedelta(minutes=settings.quiz.window_minutes)
    return App(settings, db, clock, study, quiz, deck_set)


def build_platforms(app: App) -> list[Platform]:
    """The chat platforms that have a token and an adapter in this version."""
    platforms: list[Platform] = []
    for name, token in (
        ("telegram", app.settings.telegram.token),
        ("discord", app.settings.discord.token),
    ):
        if token:
            log.warning(
                "a %s token is configured, but this version has no %s adapter yet; skipping it",
                name,
                name,
            )
    return platforms


NO_PLATFORM_MESSAGE = (
    "No chat platform to start: set STUDYBOT_TELEGRAM_TOKEN or STUDYBOT_DISCORD_TOKEN "
    "(or [telegram] token / [discord] token in the config file). "
    "To try the bot without a token, run `studybot console`."
)


async def run_bot(settings: Settings) -> int:
    """Run every configured platform and the scheduler until SIGINT or SIGTERM."""
    from bot.jobs.scheduler import build_scheduler

    if not (settings.telegram.token or settings.discord.token):
        log.error("%s", NO_PLATFORM_MESSAGE)
        return 2
    app = await build_app(settings)
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
        scheduler = build_scheduler(app)
        scheduler.start()
        started: list[Platform] = []
        try:
            for platform in platforms:
                await platform.start()
                started.append(platform)
                app.platforms[platform.name] = platform
                log.info("%s started", platform.name)
            await stop.wait()
            log.info("shutting down")
        finally:
            scheduler.shutdown(wait=False)
            await _stop_all(started)
        return 0
    finally:
        await app.close()


async def _stop_all(platforms: Sequence[Platform]) -> None:
    for platform in reversed(platforms):
        try:
            await platform.stop()
        except Exception:
            log.exception("%s did not stop cleanly", platform.name)
