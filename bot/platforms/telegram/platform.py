"""The Telegram adapter: python-telegram-bot 22 on the app's event loop.

:class:`TelegramPlatform` builds the PTB application from ``[telegram]`` and
the core services it is given, starts and stops it (long polling, a
webhook, or neither in ``send_only`` mode), and is the core's
:class:`~bot.core.ports.Channel` to Telegram:
announcements to groups and pushes to private chats. What happens on an
update is in :mod:`.commands` (commands and private messages) and
:mod:`.callbacks` (button taps); :mod:`.sending` turns core replies into
messages; :mod:`.errors` is the one error handler.
"""

from __future__ import annotations

import logging
import os
from typing import Final
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    PollAnswerHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.config import TelegramSettings
from bot.core.challenges.service import ChallengeService
from bot.core.inputs import Inputs
from bot.core.messages import Reply
from bot.core.metrics import NULL_METRICS, Metrics
from bot.core.model import Learner
from bot.core.onboarding import Onboarding
from bot.core.pacing import ChatBusy, Pacing
from bot.core.ports import (
    AnnounceRefused,
    CannotStart,
    Delivery,
    DeliveryRefused,
    DeliveryRetry,
    PlatformUnreachable,
)
from bot.core.quiz import QuizService
from bot.core.rendering import Renderer
from bot.core.study import StudyService
from bot.platforms.telegram.callbacks import Callbacks
from bot.platforms.telegram.commands import MENU_GROUP, MENU_PRIVATE, PRIVATE_COMMANDS, Commands
from bot.platforms.telegram.errors import ErrorHandler, cannot_post
from bot.platforms.telegram.group_answers import GroupAnswers
from bot.platforms.telegram.one_member import OneMember
from bot.platforms.telegram.polls import QuizPolls
from bot.platforms.telegram.sending import (
    PacedRateLimiter,
    Progress,
    Sender,
    announcing,
    pushing,
    retry_seconds,
    unreachable,
)
from bot.platforms.telegram.transport import AiohttpRequest
from bot.platforms.telegram.updates import PLATFORM

__all__ = ["RATE_LIMIT_RETRIES", "TelegramPlatform"]

log = logging.getLogger(__name__)

#: Retries of a reply's request Telegram answered with 429 (waiting as told, that chat
#: only); a push is not retried in place but from the outbox.
RATE_LIMIT_RETRIES: Final = 3
_ALLOWED_UPDATES: Final = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.POLL_ANSWER]
REJECTED_TOKEN: Final = (
    "Telegram rejected the bot token: set the token @BotFather gave you in "
    "STUDYBOT_TELEGRAM_TOKEN (or [telegram] token)"
)
POLLING_CONFLICT: Final = (
    "telegram: another process takes updates with this token (409 Conflict): run one "
    'poller per token; other processes use mode = "send_only" or "webhook" (see the README)'
)


class TelegramPlatform:
    """The Telegram bot: started and stopped by the app, and the core's channel to Telegram.

    Args:
        settings: ``[telegram]`` (needs a token).
        study: the study loop.
        quiz: group quizzes.
        challenges: group challenges.
        onboarding: /start's walk-through.
        inputs: where button taps and private messages go.
        renderer: draws card images and charts; None sends text only.
        request: the HTTP layer; tests pass a fake Bot API (a ``BaseRequest``).
        metrics: counts the Bot API's 429s and other errors.
        pacing: paces every request per chat and overall (a new :class:`Pacing` on the
            running loop's clock by default; tests pass one on virtual time).
        workspace_url: the browser workspace's public address (``[web] public_url``
            when ``[web]`` is enabled): a reply offering the workspace gets an "Open
            workspace" Mini App button in a private chat. None offers it nowhere.

    Raises:
        ValueError: without a token.
    """

    name = PLATFORM

    def __init__(
        self,
        settings: TelegramSettings,
        *,
        study: StudyService,
        quiz: QuizService,
        challenges: ChallengeService,
        onboarding: Onboarding,
        inputs: Inputs,
        renderer: Renderer | None,
        request: BaseRequest | None = None,
        metrics: Metrics = NULL_METRICS,
        pacing: Pacing | None = None,
        workspace_url: str | None = None,
    ) -> None:
        if not settings.token:
            raise ValueError("Telegram needs a token: [telegram] token or STUDYBOT_TELEGRAM_TOKEN")
        # Opt in to PTB's timedelta periods: otherwise every 429 warns about a deprecation.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self.settings = settings
        #: Every request's pace, per chat and overall (:mod:`bot.core.pacing`).
        self.pacing = pacing or Pacing()
        #: Whether this start has said that another process polls the token (it says so once).
        self._conflict_said = False
        builder = (
            ApplicationBuilder()
            .token(settings.token.reveal())
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
            .job_queue(None)
            .rate_limiter(PacedRateLimiter(self.pacing, metrics, retries=RATE_LIMIT_RETRIES))
            .concurrent_updates(16)
        )
        if request is not None:
            builder = builder.request(request).get_updates_request(request)
        else:  # aiohttp: a fraction of httpx's CPU per request (see .transport)
            builder = builder.request(AiohttpRequest()).get_updates_request(
                AiohttpRequest(connections=1)
            )
        if settings.mode == "send_only":
            builder = builder.updater(None)
        self.application = builder.build()
        self.sender = Sender(self.application.bot, renderer, workspace_url=workspace_url)
        #: Quiz polls: posted by /quiz, stopped by a round's close, answered by members.
        self.polls = polls = QuizPolls(self.sender, quiz)
        #: Messages in a group for one member alone (Bot API 10.2 ephemeral messages).
        self.members = OneMember(self.sender, self.pacing, enabled=settings.ephemeral_messages)
        commands = Commands(
            self.sender,
            study=study,
            quiz=quiz,
            challenges=challenges,
            onboarding=onboarding,
            inputs=inputs,
            polls=polls,
            answers=GroupAnswers(self.sender, self.members, challenges),
            members=self.members,
        )
        #: Button taps (tests wait on :meth:`Callbacks.settled`).
        self.callbacks = callbacks = Callbacks(self.sender, inputs, study, self.members)
        errors = ErrorHandler(self.sender, study)
        a = self.application
        only_new = filters.UpdateType.MESSAGE
        a.add_handler(CommandHandler("start", commands.on_start, filters=only_new))
        a.add_handler(CommandHandler("help", commands.on_help, filters=only_new))
        a.add_handler(CommandHandler("quiz", commands.on_quiz, filters=only_new))
        a.add_handler(CommandHandler("challenge", commands.on_challenge, filters=only_new))
        a.add_handler(
            CommandHandler(
                [name for name, _ in PRIVATE_COMMANDS],
                commands.on_private_command,
                filters=only_new,
            )
        )
        a.add_handler(CallbackQueryHandler(callbacks.on_callback))
        a.add_handler(PollAnswerHandler(polls.on_poll_answer))
        a.add_handler(MessageHandler(only_new & filters.COMMAND, commands.on_unknown_command))
        private = only_new & filters.ChatType.PRIVATE
        a.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, commands.on_text))
        a.add_handler(MessageHandler(private & filters.PHOTO, commands.on_photo))
        # A file in the private chat is an import; in a group, no handler: left alone.
        a.add_handler(MessageHandler(private & filters.Document.ALL, commands.on_document))
        groups = only_new & filters.ChatType.GROUPS & ~filters.COMMAND
        a.add_handler(
            MessageHandler(groups & (filters.TEXT | filters.PHOTO), commands.on_group_text)
        )
        a.add_error_handler(errors.on_error)

    # ------------------------------------------------------------------ lifecycle

    async def initialize(self) -> None:
        """Check the token (getMe) and prepare the bot, without taking updates yet."""
        await self.application.initialize()

    async def start(self) -> None:
        """Check the token (getMe), register the command menus and take updates (polling
        or webhook); in ``send_only`` mode, only check the token.

        All or nothing: what a failed start began is stopped, and it may be called again.

        Raises:
            CannotStart: Telegram rejects the token or the webhook, or the webhook
                cannot listen.
            PlatformUnreachable: the Bot API cannot be reached now.
        """
        try:
            await self._start()
        except BaseException as exc:
            await self.stop()
            if isinstance(exc, InvalidToken):  # its message holds the token: never shown
                raise CannotStart(REJECTED_TOKEN) from None
            if isinstance(exc, RetryAfter) or (
                isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)
            ):
                raise PlatformUnreachable(
                    f"cannot reach the Telegram Bot API ({_describe(exc)})"
                ) from None
            raise

    async def _start(self) -> None:
        self._conflict_said = False
        application = self.application
        await application.initialize()
        settings = self.settings
        if settings.mode == "send_only":
            log.info("telegram sends as @%s and takes no updates", application.bot.username)
            return
        await application.start()
        await self._set_commands()
        updater = application.updater
        assert updater is not None
        if settings.mode == "polling":
            await updater.start_polling(
                allowed_updates=_ALLOWED_UPDATES, error_callback=self._polling_failed
            )
            log.info("telegram long polling started as @%s", application.bot.username)
            return
        secret = settings.webhook_secret.reveal() if settings.webhook_secret else None
        where = f"{settings.webhook_listen}:{settings.webhook_port}"
        try:
            await updater.start_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                secret_token=secret,
                webhook_url=settings.webhook_url,
                allowed_updates=_ALLOWED_UPDATES,
            )
        except BadRequest as exc:
            raise CannotStart(
                f"Telegram refused the webhook ({exc.message}): check [telegram] webhook_url"
            ) from None
        except OSError as exc:
            raise CannotStart(
                f"the Telegram webhook cannot listen on {where} ({exc.strerror or exc}): "
                "check [telegram] webhook_listen and webhook_port"
            ) from None
        except RuntimeError as exc:
            raise CannotStart(
                "Telegram webhook mode needs python-telegram-bot[webhooks] (tornado)"
            ) from exc
        log.info("telegram webhook listening on %s", where)

    def _polling_failed(self, exc: TelegramError) -> None:
        """PTB's polling loop tries again by itself (after 1 s, growing to 30 s): each
        failed poll is one line here instead of PTB's traceback.

        Another process polling the token is said once, with what to change: it answers
        409 to one of the two polls each time the other asks, for as long as both run.
        """
        if isinstance(exc, Conflict):
            if self._conflict_said:
                log.debug("telegram: polling conflict again: %s", _describe(exc))
            else:
                self._conflict_said = True
                log.warning("%s", POLLING_CONFLICT)
        else:
            log.warning("telegram: polling failed, trying again: %s", _describe(exc))

    async def stop(self) -> None:
        """Stop taking updates, let handlers finish, and close the HTTP layer."""
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        # A start that failed at getMe leaves the HTTP clients open: the application
        # only shuts down what a completed initialize opened.
        await application.bot.shutdown()

    @property
    def connected(self) -> bool:
        """Whether it is taking updates (long polling or the webhook server running)."""
        updater = self.application.updater
        return self.application.running and updater is not None and updater.running

    async def _set_commands(self) -> None:
        """Register the command menus: one for private chats, one for groups."""
        bot = self.application.bot
        menus = (
            (MENU_PRIVATE, BotCommandScopeAllPrivateChats()),
            (MENU_GROUP, BotCommandScopeAllGroupChats()),
        )
        for menu, scope in menus:
            commands = [BotCommand(name, text) for name, text in menu]

            async def register(
                commands: list[BotCommand] = commands,
                scope: BotCommandScopeAllPrivateChats | BotCommandScopeAllGroupChats = scope,
            ) -> bool:
                return await bot.set_my_commands(commands, scope=scope)

            try:
                await self.sender.call(register)
            except TelegramError as exc:
                log.warning("could not register the telegram command menu: %s", exc)

    # ------------------------------------------------------------------ Channel

    async def announce(self, chat_id: str, reply: Reply) -> None:
        """Post a core message to a group: a quiz answer and tally, a challenge's start,
        its reference (with the card image), its summary heat map, a shared answer.
        """
        try:
            with announcing():  # for the overall budget, also when a tap made it
                if reply.stops_poll is not None:  # a quiz poll's round: no answers after this
                    await self.polls.stop(int(chat_id), reply.stops_poll)
                await self.sender.send_reply(
                    int(chat_id), reply, images=reply.kind == "challenge_result"
                )
        except TelegramError as exc:
            if not cannot_post(exc):
                raise
            raise AnnounceRefused(f"Telegram: {exc}") from None

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        """Send a core reply to a learner's private chat, without the first ``skip``
        messages (Telegram accepted them on an earlier try).

        Each request goes once (:func:`~.sending.pushing`): a 429, or a chat still held
        by an earlier one, raises at once so the sender goes on with other chats.
        Returns ``Delivery(reached=False)`` when Telegram refuses the learner (they
        blocked the bot, or never started it): the core records it. A 429, a network
        error or a failure after some messages went out raises :class:`DeliveryRetry`
        saying how many went out first, so the retry starts after them; any other
        refusal raises :class:`DeliveryRefused`.
        """
        chat_id = int(learner.dm_channel_id or learner.platform_user_id)
        progress = Progress(skip)
        try:
            with pushing():
                await self.sender.send_reply(chat_id, reply, progress=progress)
        except ChatBusy as exc:  # held by an earlier 429: not now, and not in the way
            raise DeliveryRetry(
                "telegram chat busy", retry_after=exc.wait, delivered=progress.delivered
            ) from exc
        except TelegramError as exc:
            if unreachable(exc):
                log.info("telegram learner %s is unreachable: %s", learner.id, exc)
                return Delivery(reached=False)
            if isinstance(exc, RetryAfter):
                raise DeliveryRetry(
                    "telegram 429", retry_after=retry_seconds(exc), delivered=progress.delivered
                ) from exc
            if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
                raise DeliveryRetry(
                    f"telegram network error: {exc}", delivered=progress.delivered
                ) from exc
            # Telegram will not take this message (a 400 other than "chat not found"):
            # trying again would not help, and the learner is still reachable.
            raise DeliveryRefused(f"telegram: {exc}") from exc
        except Exception as exc:  # e.g. a later part's image failed: resume where it stopped
            if not progress.delivered:
                raise
            log.warning("push to telegram learner %s broke off: %s", learner.id, exc)
            raise DeliveryRetry(
                f"{type(exc).__name__}: {exc}", delivered=progress.delivered
            ) from exc
        return Delivery(reached=True)

    async def show_to_member(self, chat_id: str, learner: Learner, reply: Reply) -> bool:
        """Show a reply in a group to one member alone (a self-assessment for a member
        their private chat cannot reach), as an ephemeral message: it waits for its place
        in the group's pace like the group's other messages. False when the server will
        not show it so (see :class:`~.one_member.OneMember`)."""
        group = int(chat_id)
        if not self.members.usable(group):
            return False
        with announcing():
            return await self.members.show(group, int(learner.platform_user_id), (reply,)) == 1


def _describe(exc: BaseException) -> str:
    """An error in a few words for a log line: its type and message."""
    message = exc.message if isinstance(exc, TelegramError) else str(exc)
    return f"{type(exc).__name__}: {' '.join(message.split())}"
