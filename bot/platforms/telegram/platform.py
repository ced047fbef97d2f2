"""The Telegram adapter: python-telegram-bot 22 on the app's event loop.

Thin by design: each update becomes one core call (``app.study``, ``app.quiz``,
``app.challenges``) and each core :class:`~bot.core.messages.Reply` becomes Telegram messages
(HTML, escaped; photos for card images; split under Telegram's limits). Button
callback data is the core's payload, except the adapter's own onboarding
buttons (``ob:`` / ``os:``, see :mod:`.onboarding`). Group challenges (``/challenge``,
private answers, the self-assessment) are described in :mod:`.challenges`.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Final, TypeVar
from urllib.parse import urlsplit

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    Chat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    LinkPreviewOptions,
    Message,
    Update,
    User,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.core.learners import Who
from bot.core.messages import Announcement, CardView, HeatMap, Reply
from bot.core.model import Learner
from bot.core.pushes import DeliveryRetry
from bot.core.rendering import RenderedImage
from bot.core.stats import format_stats
from bot.platforms.telegram.challenges import (
    ASSESSMENT_KINDS,
    CHALLENGE_PRIVATE,
    CHALLENGE_USAGE,
    JOIN_PREFIX,
    NEEDS_ADMIN,
    ChallengeCommand,
    action_of,
    is_admin_status,
    join_start,
    parse_challenge,
)
from bot.platforms.telegram.formatting import (
    TELEGRAM_CAPTION,
    TELEGRAM_MESSAGE,
    keyboard,
    reply_markdown,
    split_html,
    to_html,
)
from bot.platforms.telegram.onboarding import (
    Choice,
    Onboarding,
    decks_keyboard,
    parse_choice,
    parse_push_time,
    push_keyboard,
    resolve_zone,
    timezone_keyboard,
)
from bot.text.markdown import needs_image, table_to_monospace
from bot.text.split import utf16_len

if TYPE_CHECKING:
    from bot.app import App

__all__ = ["PLATFORM", "TelegramPlatform", "build_telegram"]

log = logging.getLogger(__name__)
T = TypeVar("T")

PLATFORM: Final = "telegram"

#: Retries of a request Telegram answered with 429 (the rate limiter waits as told).
RATE_LIMIT_RETRIES: Final = 3
#: Attempts of a request that failed on the network, with capped exponential backoff.
NETWORK_ATTEMPTS: Final = 4
BACKOFF_FIRST: Final = 0.5
BACKOFF_CAP: Final = 8.0
#: Card images already uploaded: content key -> Telegram file_id (reused, not re-uploaded).
FILE_ID_CACHE: Final = 512

PRIVATE_COMMANDS: Final = (
    ("review", "Study your next card"),
    ("stats", "Your progress and what is due"),
    ("settings", "Time zone, reminder time, daily limits"),
    ("decks", "Decks, and which ones you study"),
    ("undo", "Undo your last rating"),
    ("unsuspend", "Bring suspended cards back"),
    ("pause", "Pause the daily reminders"),
    ("resume", "Resume the daily reminders"),
    ("export", "Your review history as CSV"),
    ("forget", "Delete everything I hold about you"),
)
MENU_PRIVATE: Final = (
    ("start", "Set up: time zone, reminder, decks"),
    ("review", "Study your next card"),
    ("stats", "Your progress and what is due"),
    ("settings", "Time zone, reminder time, daily limits"),
    ("decks", "Decks, and which ones you study"),
    ("undo", "Undo your last rating"),
    ("pause", "Pause the daily reminders"),
    ("resume", "Resume the daily reminders"),
    ("export", "Your review history as CSV"),
    ("forget", "Delete everything I hold about you"),
    ("help", "What I can do"),
)
MENU_GROUP: Final = (
    ("quiz", "Quiz the group on a topic, e.g. /quiz attention"),
    ("challenge", "Derive it from memory together: /challenge list"),
    ("help", "What I can do here"),
)

WELCOME: Final = (
    "Hi! I help you remember how attention and transformers work, a few minutes a day.\n"
    "I show you a card, you recall the answer, then rate how well you knew it; "
    "I schedule each card just before you would forget it (spaced repetition). "
    "Once a day I remind you when cards are due. In groups, /quiz quizzes everyone at once.\n\n"
    "Three quick questions and we start."
)
STEP_TZ: Final = (
    "**Your time zone** (so reminders come at your local time)\n"
    "Tap one, or type a city (Paris, Mumbai) or a zone name (America/Chicago)."
)
STEP_PUSH: Final = "**Daily reminder**\nWhen should I remind you? Tap a time, or type one (7:30)."
STEP_DECKS: Final = "**What to study**\nPick a deck, or all of them."
DONE_ONBOARDING: Final = (
    "All set! Send /review any time to study. /settings changes any of this; /help lists "
    "everything."
)
QUIZ_RETURN: Final = "Now go back to the group and tap Reveal again: the answer comes here."
HELP_PRIVATE: Final = (
    "**Study**\n"
    "/review your next card: tap Show answer, then rate Again, Hard, Good or Easy\n"
    "/undo undo your last rating · /unsuspend bring suspended cards back\n"
    "/stats your progress · /decks what you study (/decks attention)\n\n"
    "**Settings**\n"
    "/settings show or change (/settings timezone Europe/Paris, /settings new 15)\n"
    "/pause /resume the daily reminder\n\n"
    "**Your data**\n"
    "/export your review history as CSV · /forget delete everything\n\n"
    "In a group, /quiz attention quizzes everyone; you rate yourself here, privately. "
    "Group challenges (/challenge) are answered here too."
)
HELP_GROUP: Final = (
    "/quiz <topic> posts a card (try /quiz attention). Tap Reveal: I send you the answer "
    "privately, you rate yourself, and it counts in your own schedule. "
    "The answer and a tally come here when everyone has rated or time is up.\n\n"
    "/challenge list: derive-it-from-memory challenges. Everyone answers me privately, "
    "then the reference comes here and each of you grades yourself."
)
TEXT_HINT: Final = "Send /review to study, or /help for the commands."
SORRY: Final = "Sorry, something went wrong there. Your progress is safe; please try again."
SENT_PRIVATELY: Final = "I sent you the answer in our private chat."
START_FIRST: Final = (
    "I can't message you yet. Tap OK to open a chat with me, press Start, then tap Reveal again."
)

JOINED_PRIVATELY: Final = "You're in: I sent you a private message. Write your answer there."
JOIN_START_FIRST: Final = (
    "I can't message you yet. Tap OK to open a chat with me and press Start: "
    "that signs you up for the challenge."
)
PHOTO_HINT: Final = (
    "I only take photos as answers to a group challenge you have joined. "
    "Send /review to study, or /help for the commands."
)
APPLIED: Final = "Applied to your cards."
PHOTO_GONE: Final = "(The photo is no longer available.)"

_ALLOWED_UPDATES: Final = [Update.MESSAGE, Update.CALLBACK_QUERY]
NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)


def _not_modified(exc: BaseException) -> bool:
    return isinstance(exc, BadRequest) and "not modified" in str(exc).lower()


def _unreachable(exc: BaseException) -> bool:
    """Telegram refuses to deliver to this user: blocked, deactivated, never started."""
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and "chat not found" in str(exc).lower()


def _who(user: User) -> Who:
    return Who(PLATFORM, str(user.id), user.full_name or user.username or str(user.id))


def _command_name(message: Message) -> str:
    text = message.text or ""
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    return head.lstrip("/").split("@", 1)[0].lower()


class Progress:
    """How far one push got: the first ``skip`` messages went out on an earlier try."""

    def __init__(self, skip: int = 0) -> None:
        self.skip = skip
        self.seen = 0  # messages of the reply reached so far
        self.delivered = 0  # messages Telegram accepted in this try

    def passed(self) -> bool:
        """Count the next message; True if an earlier try already delivered it."""
        self.seen += 1
        return self.seen <= self.skip


class TelegramPlatform:
    """The Telegram bot as the app's :class:`~bot.app.Platform`.

    Args:
        app: the running app (core services, settings, renderer).
        request: the HTTP layer; tests pass a fake Bot API (a ``BaseRequest``).
    """

    name = PLATFORM

    def __init__(self, app: App, *, request: BaseRequest | None = None) -> None:
        settings = app.settings.telegram
        if not settings.token:
            raise ValueError("Telegram needs a token: [telegram] token or STUDYBOT_TELEGRAM_TOKEN")
        # Opt in to PTB's timedelta periods: otherwise every 429 warns about a deprecation.
        os.environ.setdefault("PTB_TIMEDELTA", "true")
        self.app = app
        self.onboarding = Onboarding()
        #: Awaited between network retries (tests replace it so no time passes).
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._file_ids: OrderedDict[str, str] = OrderedDict()
        builder = (
            ApplicationBuilder()
            .token(settings.token.reveal())
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
            .job_queue(None)
            .rate_limiter(AIORateLimiter(max_retries=RATE_LIMIT_RETRIES))
            .concurrent_updates(16)
        )
        if request is not None:
            builder = builder.request(request).get_updates_request(request)
        self.application = builder.build()
        self._add_handlers()

    # ------------------------------------------------------------------ lifecycle

    async def initialize(self) -> None:
        """Check the token (getMe) and prepare the bot, without taking updates yet."""
        await self.application.initialize()

    async def start(self) -> None:
        """Initialize, register the command menus, and take updates (polling or webhook)."""
        application = self.application
        await application.initialize()
        try:
            await application.start()
            await self._set_commands()
            updater = application.updater
            assert updater is not None
            settings = self.app.settings.telegram
            if settings.mode == "webhook":
                secret = settings.webhook_secret.reveal() if settings.webhook_secret else None
                try:
                    await updater.start_webhook(
                        listen=settings.webhook_listen,
                        port=settings.webhook_port,
                        url_path=urlsplit(settings.webhook_url).path.lstrip("/"),
                        secret_token=secret,
                        webhook_url=settings.webhook_url,
                        allowed_updates=_ALLOWED_UPDATES,
                    )
                except RuntimeError as exc:
                    raise RuntimeError(
                        "Telegram webhook mode needs python-telegram-bot[webhooks] (tornado)"
                    ) from exc
                log.info(
                    "telegram webhook listening on %s:%s",
                    settings.webhook_listen,
                    settings.webhook_port,
                )
            else:
                await updater.start_polling(allowed_updates=_ALLOWED_UPDATES)
                log.info("telegram long polling started as @%s", application.bot.username)
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        """Stop taking updates, let handlers finish, and close the HTTP layer."""
        application = self.application
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()

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
                await self._call(register)
            except TelegramError as exc:
                log.warning("could not register the telegram command menu: %s", exc)

    def _add_handlers(self) -> None:
        a = self.application
        only_new = filters.UpdateType.MESSAGE
        a.add_handler(CommandHandler("start", self._on_start, filters=only_new))
        a.add_handler(CommandHandler("help", self._on_help, filters=only_new))
        a.add_handler(CommandHandler("quiz", self._on_quiz, filters=only_new))
        a.add_handler(CommandHandler("challenge", self._on_challenge, filters=only_new))
        a.add_handler(
            CommandHandler(
                [name for name, _ in PRIVATE_COMMANDS], self._on_private_command, filters=only_new
            )
        )
        a.add_handler(CallbackQueryHandler(self._on_callback))
        a.add_handler(MessageHandler(only_new & filters.COMMAND, self._on_unknown_command))
        a.add_handler(
            MessageHandler(
                only_new & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND,
                self._on_text,
            )
        )
        a.add_handler(
            MessageHandler(only_new & filters.ChatType.PRIVATE & filters.PHOTO, self._on_photo)
        )
        a.add_error_handler(self._on_error)

    # ------------------------------------------------------------------ Platform protocol

    async def announce(self, announcement: Announcement) -> None:
        """Post a core message to a group: a quiz answer and tally, a challenge's start,
        its reference (with the card image), its summary heat map, a shared answer.
        """
        reply = announcement.reply
        await self.send_reply(
            int(announcement.chat_id), reply, images=reply.kind == "challenge_result"
        )

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> bool:
        """Send a core reply to a learner's private chat, without the first ``skip``
        messages (Telegram accepted them on an earlier try).

        Returns True when Telegram accepted it. When Telegram refuses (the
        learner blocked the bot, or never started it) the learner is marked
        unreachable, so pushes stop until they write again, and False is returned.
        A 429 or a network error raises ``DeliveryRetry`` with how many more
        messages went out first, so the retry starts after them.
        """
        chat_id = int(learner.dm_channel_id or learner.platform_user_id)
        progress = Progress(skip)
        try:
            await self.send_reply(chat_id, reply, progress=progress)
        except TelegramError as exc:
            if _unreachable(exc):
                log.info("telegram learner %s is unreachable: %s", learner.id, exc)
                await self.app.study.mark_unreachable(PLATFORM, learner.platform_user_id)
                return False
            if isinstance(exc, RetryAfter):
                wait = exc.retry_after
                seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
                raise DeliveryRetry(
                    "telegram 429", retry_after=seconds, delivered=progress.delivered
                ) from exc
            if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
                raise DeliveryRetry(
                    f"telegram network error: {exc}", delivered=progress.delivered
                ) from exc
            log.warning("could not push to telegram learner %s: %s", learner.id, exc)
            return False
        except Exception as exc:  # e.g. a follow-up's image failed: resume where it stopped
            if not progress.delivered:
                raise
            log.warning("push to telegram learner %s broke off: %s", learner.id, exc)
            raise DeliveryRetry(
                f"{type(exc).__name__}: {exc}", delivered=progress.delivered
            ) from exc
        return True

    # ------------------------------------------------------------------ sending

    async def _call(self, request: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API request, retrying network failures with capped backoff.

        Telegram's own refusals (400, 403) are not retried; 429 is retried inside
        the rate limiter after the time Telegram gives.
        """
        delay = BACKOFF_FIRST
        for attempt in range(1, NETWORK_ATTEMPTS + 1):
            try:
                return await request()
            except BadRequest:
                raise
            except NetworkError as exc:
                if attempt == NETWORK_ATTEMPTS:
                    raise
                log.warning(
                    "telegram network error (attempt %d of %d), retrying in %.1fs: %s",
                    attempt,
                    NETWORK_ATTEMPTS,
                    delay,
                    exc,
                )
                await self.sleep(delay)
                delay = min(delay * 2, BACKOFF_CAP)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _card_image(self, card: CardView | None) -> RenderedImage | None:
        renderer = self.app.renderer
        if renderer is None or card is None or not (card.image_kind and card.image_spec):
            return None
        try:
            return await renderer.card_image(card.image_kind, card.image_spec)
        except Exception:
            log.warning("could not draw the image of card %s", card.card_id, exc_info=True)
            return None

    async def _table_image(self, card: CardView | None) -> RenderedImage | None:
        """A drawing of the back's tables or wide code, when monospace would not fit a phone."""
        renderer = self.app.renderer
        if renderer is None or card is None or card.back is None:
            return None
        if not needs_image(table_to_monospace(card.back)):
            return None
        try:
            return await renderer.text_image(card.back)
        except Exception:
            log.warning("could not draw the back of card %s", card.card_id, exc_info=True)
            return None

    async def _heatmap(self, chart: HeatMap) -> RenderedImage | None:
        """The heat map drawn as an image, or None (no renderer, or it failed: text only)."""
        renderer = self.app.renderer
        if renderer is None:
            return None
        try:
            return await renderer.heatmap(chart)
        except Exception:
            log.warning("could not draw the heat map %r", chart.title, exc_info=True)
            return None

    async def _send_text(
        self, chat_id: int, html_text: str, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        bot = self.application.bot
        return await self._call(
            lambda: bot.send_message(
                chat_id,
                html_text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            )
        )

    async def _send_photo(
        self,
        chat_id: int,
        image: RenderedImage | str,
        caption: str,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        """Send a drawn image (uploaded once, then by file_id) or a Telegram file_id."""
        bot = self.application.bot
        if isinstance(image, str):
            file_id = image
            return await self._call(
                lambda: bot.send_photo(
                    chat_id,
                    file_id,
                    caption=caption or None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            )
        cached = self._file_ids.get(image.key)
        if cached is not None:
            try:
                return await self._call(
                    lambda: bot.send_photo(
                        chat_id,
                        cached,
                        caption=caption or None,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                    )
                )
            except BadRequest as exc:
                if _not_modified(exc):
                    raise
                log.info("cached telegram photo refused (%s); uploading it again", exc)
                self._file_ids.pop(image.key, None)
        message = await self._call(
            lambda: bot.send_photo(
                chat_id,
                InputFile(image.data, filename=image.filename),
                caption=caption or None,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        )
        if message.photo:
            self._file_ids[image.key] = message.photo[-1].file_id
            while len(self._file_ids) > FILE_ID_CACHE:
                self._file_ids.popitem(last=False)
        return message

    async def _send_parts(
        self,
        chat_id: int,
        parts: Sequence[tuple[str, RenderedImage | str | None]],
        markup: InlineKeyboardMarkup | None,
        progress: Progress | None = None,
    ) -> list[Message]:
        """Send text and photo parts in order; the buttons go on the last one.

        A photo given by file_id that Telegram refuses is replaced by its caption alone.
        With ``progress``, parts it says went out before are skipped and each part
        Telegram accepts is counted.
        """
        sent: list[Message] = []
        for i, (text, image) in enumerate(parts):
            if progress is not None and progress.passed():
                continue
            last = markup if i == len(parts) - 1 else None
            if image is None:
                sent.append(await self._send_text(chat_id, text, last))
            else:
                try:
                    sent.append(await self._send_photo(chat_id, image, text, last))
                except BadRequest as exc:
                    if not isinstance(image, str) or _not_modified(exc):
                        raise
                    log.warning("telegram refused the photo %s: %s", image, exc)
                    if text or last is not None:
                        sent.append(await self._send_text(chat_id, text or PHOTO_GONE, last))
            if progress is not None:
                progress.delivered += 1
        return sent

    async def send_reply(
        self,
        chat_id: int,
        reply: Reply,
        *,
        images: bool = True,
        progress: Progress | None = None,
    ) -> list[Message]:
        """Send a core reply (and its follow-up) to a chat: photo for a card image,
        HTML text split under Telegram's limits, buttons on the last message.

        A photo the reply names (``photo_ref``) or its heat map goes first too, with
        the text as its caption; ``images`` only decides whether card images are drawn.
        ``progress`` resumes a push after the messages an earlier try delivered.
        """
        image = await self._card_image(reply.card) if images else None
        extra = await self._table_image(reply.card) if images else None
        photos: list[RenderedImage | str] = [image] if image is not None else []
        if reply.photo_ref:
            photos.append(reply.photo_ref)
        if reply.heatmap is not None:
            chart = await self._heatmap(reply.heatmap)
            if chart is not None:
                photos.append(chart)
        markdown = reply_markdown(reply, image_shown=image is not None)
        chunks = split_html(markdown, TELEGRAM_CAPTION if photos else TELEGRAM_MESSAGE)
        parts: list[tuple[str, RenderedImage | str | None]] = []
        if photos:
            parts.append((chunks.pop(0) if chunks else "", photos[0]))
        parts.extend((chunk, None) for chunk in chunks)
        parts.extend(("", photo) for photo in photos[1:])
        if extra is not None:
            parts.append(("", extra))
        sent = await self._send_parts(chat_id, parts, keyboard(reply), progress) if parts else []
        if reply.follow_up is not None:
            sent += await self.send_reply(
                chat_id, reply.follow_up, images=images, progress=progress
            )
        return sent

    async def _edit(
        self, message: Message, html_text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        """Replace a message's text (or a photo's caption) and keyboard; "not modified" is fine."""
        bot = self.application.bot
        try:
            if message.photo:
                await self._call(
                    lambda: bot.edit_message_caption(
                        chat_id=message.chat_id,
                        message_id=message.message_id,
                        caption=html_text,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                    )
                )
            else:
                await self._call(
                    lambda: bot.edit_message_text(
                        html_text,
                        chat_id=message.chat_id,
                        message_id=message.message_id,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                        link_preview_options=NO_PREVIEW,
                    )
                )
        except BadRequest as exc:
            if not _not_modified(exc):
                raise

    async def _show_in_place(self, message: Message | None, chat_id: int, reply: Reply) -> None:
        """Edit the tapped message into ``reply`` (the back), continuing in new messages."""
        if message is None or not (message.text or message.photo):
            await self.send_reply(chat_id, reply)
            return
        is_photo = bool(message.photo)
        markdown = reply_markdown(reply, image_shown=is_photo)
        chunks = split_html(markdown, TELEGRAM_CAPTION if is_photo else TELEGRAM_MESSAGE)
        if not chunks:
            return
        rest: list[tuple[str, RenderedImage | None]] = [(c, None) for c in chunks[1:]]
        extra = await self._table_image(reply.card)
        if extra is not None:
            rest.append(("", extra))
        markup = keyboard(reply)
        await self._edit(message, chunks[0], None if rest else markup)
        if rest:
            await self._send_parts(chat_id, rest, markup)

    async def _close(self, message: Message | None, chat_id: int, text: str) -> None:
        """Add the outcome (e.g. "Good: see it again in 10m.") to the tapped message and
        remove its buttons; when it does not fit there, send it as a new message.
        """
        addition = to_html(text) if text.strip() else ""
        if message is not None and (message.text or message.photo):
            is_photo = bool(message.photo)
            shown = (message.caption or "") if is_photo else (message.text or "")
            current = (
                (message.caption_html if message.caption else "")
                if is_photo
                else (message.text_html)
            )
            limit = TELEGRAM_CAPTION if is_photo else TELEGRAM_MESSAGE
            if addition and utf16_len(shown) + 2 + utf16_len(text) <= limit:
                joined = f"{current}\n\n<i>{addition}</i>" if current else addition
                await self._edit(message, joined, None)
                return
            await self._remove_keyboard(message)
        if addition:
            for chunk in split_html(text, TELEGRAM_MESSAGE):
                await self._send_text(chat_id, chunk)

    async def _remove_keyboard(self, message: Message) -> None:
        bot = self.application.bot
        try:
            await self._call(
                lambda: bot.edit_message_reply_markup(
                    chat_id=message.chat_id, message_id=message.message_id, reply_markup=None
                )
            )
        except BadRequest as exc:
            if not _not_modified(exc):
                raise

    async def _answer(
        self,
        query: CallbackQuery,
        text: str | None = None,
        *,
        alert: bool = False,
        url: str | None = None,
    ) -> None:
        """Answer a callback query (Telegram shows a spinner until we do)."""
        try:
            await self._call(
                lambda: query.answer(text=text[:200] if text else None, show_alert=alert, url=url)
            )
        except BadRequest as exc:  # too old or already answered: nothing to show any more
            log.info("could not answer a telegram callback: %s", exc)

    def _link(self, start: str = "") -> str:
        username = self.application.bot.username
        return f"https://t.me/{username}" + (f"?start={start}" if start else "")

    # ------------------------------------------------------------------ commands

    async def _on_start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if chat.type != ChatType.PRIVATE:
            await self._send_text(
                chat.id,
                to_html(HELP_GROUP)
                + f'\n\nFor your own daily reviews, <a href="{self._link("hi")}">'
                "open a private chat with me</a>.",
            )
            return
        who = _who(user)
        # Enrols the learner, makes them reachable again, and keeps their chat id for pushes.
        await self.app.study.remember_dm_channel(who, str(chat.id))
        run_token = join_start(context.args[0]) if context.args else None
        if run_token is not None:
            # From a challenge's "Submit my answer" when the bot could not write first.
            reply = await self.app.challenges.join(who, run_token)
            await self.send_reply(chat.id, reply)
            await self.app.deliver(reply.announcements)
            return
        intro = WELCOME
        if context.args and context.args[0] == "quiz":
            intro = f"{QUIZ_RETURN}\n\n{WELCOME}"
        await self._send_text(chat.id, to_html(intro))
        await self._ask(chat.id, user.id, "tz", chain=True)

    async def _ask(self, chat_id: int, user_id: int, step: str, *, chain: bool) -> None:
        """Send one onboarding question with its buttons."""
        if step == "tz":
            self.onboarding.expect(user_id, "tz", chain)
            await self._send_text(chat_id, to_html(STEP_TZ), timezone_keyboard(chain))
        elif step == "push":
            self.onboarding.expect(user_id, "push", chain)
            await self._send_text(chat_id, to_html(STEP_PUSH), push_keyboard(chain))
        else:
            self.onboarding.clear(user_id)
            await self._send_text(
                chat_id, to_html(STEP_DECKS), decks_keyboard(self.app.decks.decks, chain)
            )

    async def _on_help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        text = HELP_PRIVATE if chat.type == ChatType.PRIVATE else HELP_GROUP
        await self._send_text(chat.id, to_html(text))

    async def _on_quiz(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user, chat = update.effective_user, update.effective_chat
        if user is None or chat is None:
            return
        if chat.type == ChatType.PRIVATE:
            await self._send_text(
                chat.id,
                to_html(
                    "Quizzes are for groups: add me to a group and send /quiz attention there. "
                    "Here, /review gives you your own cards."
                ),
            )
            return
        topic = " ".join(context.args or ())
        reply = await self.app.quiz.start(_who(user), str(chat.id), topic)
        await self.app.deliver(reply.announcements)
        await self.send_reply(chat.id, reply)

    async def _on_challenge(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/challenge <subcommand>`` in a group (in a private chat: where to use it)."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        if chat.type == ChatType.PRIVATE:
            await self._send_text(chat.id, to_html(CHALLENGE_PRIVATE))
            return
        command = parse_challenge(context.args or ())
        if command.action == "usage":
            text = CHALLENGE_USAGE if command.problem is None else command.problem
            await self._send_text(chat.id, to_html(text))
            return
        admin = False
        if command.action in NEEDS_ADMIN:
            admin = await self._is_admin(chat.id, user.id, message)
        reply = await self._challenge_reply(_who(user), str(chat.id), command, admin)
        await self.send_reply(chat.id, reply)
        await self.app.deliver(reply.announcements)

    async def _challenge_reply(
        self, who: Who, chat_id: str, command: ChallengeCommand, admin: bool
    ) -> Reply:
        """Run one parsed /challenge subcommand against the core."""
        challenges = self.app.challenges
        action = command.action
        if action == "list":
            return challenges.list_all()
        if action == "start":
            return await challenges.start(
                who, chat_id, command.challenge_id or "", command.minutes, admin
            )
        if action == "status":
            return await challenges.status(who, chat_id)
        if action == "cancel":
            return await challenges.cancel(who, chat_id, admin)
        if action == "reveal":
            return await challenges.reveal(who, chat_id, admin)
        if action == "schedule":
            return await challenges.schedule(
                who, chat_id, command.challenge_id or "", command.weekday, command.at, admin
            )
        if action == "unschedule":
            return await challenges.unschedule(who, chat_id, command.challenge_id, admin)
        return await challenges.configure(who, chat_id, command.key, command.value, admin)

    async def _is_admin(self, chat_id: int, user_id: int, message: Message) -> bool:
        """Whether the sender is the group's owner or an admin (Telegram's getChatMember).

        A message sent anonymously on behalf of the group comes from one of its admins.
        When Telegram cannot tell, the answer is no.
        """
        if message.sender_chat is not None and message.sender_chat.id == chat_id:
            return True
        bot = self.application.bot
        try:
            member = await self._call(lambda: bot.get_chat_member(chat_id, user_id))
        except TelegramError as exc:
            log.info("could not look up member %s of chat %s: %s", user_id, chat_id, exc)
            return False
        return is_admin_status(member.status)

    async def _on_private_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        command = _command_name(message)
        self.onboarding.clear(user.id)  # a command ends any question left open
        if chat.type != ChatType.PRIVATE:
            await self._send_text(
                chat.id,
                f'/{command} is personal, so let\'s do it in <a href="{self._link("hi")}">our '
                "private chat</a>. Here, try /quiz attention.",
            )
            return
        who = _who(user)
        args = list(context.args or ())
        study = self.app.study
        if command == "review":
            reply = await study.next(who, "dm")
        elif command == "undo":
            reply = await study.undo(who, "dm")
        elif command == "unsuspend":
            reply = await study.unsuspend(who, args or None)
        elif command == "stats":
            await self._stats(chat.id, who)
            return
        elif command == "settings":
            await self._settings(chat.id, user.id, who, args)
            return
        elif command == "decks":
            if args:
                reply = await study.study_topics(who, args)
            else:
                reply = await study.decks(who)
                chunks = split_html(reply.text, TELEGRAM_MESSAGE)
                markup = decks_keyboard(self.app.decks.decks, chain=False)
                await self._send_parts(chat.id, [(c, None) for c in chunks], markup)
                return
        elif command in ("pause", "resume"):
            reply = await study.pause(who, command == "pause")
        elif command == "export":
            await self._export(chat.id, who)
            return
        elif command == "forget":
            reply = await study.request_forget(who)
        else:  # pragma: no cover - every registered command is handled above
            reply = Reply("info", TEXT_HINT)
        await self.app.deliver(reply.announcements)
        await self.send_reply(chat.id, reply)

    async def _stats(self, chat_id: int, who: Who) -> None:
        stats = await self.app.study.stats(who)
        text = format_stats(stats)
        renderer = self.app.renderer
        chart: RenderedImage | None = None
        if renderer is not None:
            try:
                chart = await renderer.stats_chart(stats, await self.app.study.forecast(who))
            except Exception:
                log.warning("could not draw the stats chart", exc_info=True)
        if chart is None:
            await self.send_reply(chat_id, Reply("info", text))
            return
        chunks = split_html(text, TELEGRAM_CAPTION)
        parts: list[tuple[str, RenderedImage | None]] = [(chunks[0] if chunks else "", chart)]
        parts.extend((c, None) for c in chunks[1:])
        await self._send_parts(chat_id, parts, None)

    async def _settings(self, chat_id: int, user_id: int, who: Who, args: list[str]) -> None:
        study = self.app.study
        if len(args) >= 2:
            key, value = args[0], " ".join(args[1:])
            if key.lower() in ("timezone", "tz"):
                value = resolve_zone(value)
            elif key.lower() in ("push", "push_time"):
                value = parse_push_time(value)
            await self.send_reply(chat_id, await study.change_setting(who, key, value))
            return
        if args:
            await self._send_text(
                chat_id,
                to_html("Usage: /settings KEY VALUE, for example /settings timezone Europe/Paris"),
            )
            return
        reply = await study.settings(who)
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton("Time zone", callback_data="os:go:tz"),
                    InlineKeyboardButton("Reminder", callback_data="os:go:push"),
                    InlineKeyboardButton("Decks", callback_data="os:go:deck"),
                ]
            ]
        )
        text = reply.text + "\n\nChange one with the buttons, or /settings KEY VALUE."
        await self._send_text(chat_id, to_html(text), markup)

    async def _export(self, chat_id: int, who: Who) -> None:
        data = (await self.app.study.export_csv(who)).encode("utf-8")
        bot = self.application.bot
        await self._call(
            lambda: bot.send_document(
                chat_id,
                InputFile(data, filename="studybot-reviews.csv"),
                caption="Your review history (CSV, times in UTC).",
            )
        )

    async def _on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, chat = update.effective_message, update.effective_chat
        if message is None or chat is None:
            return
        head = (message.text or "").split(maxsplit=1)[0] if (message.text or "").strip() else ""
        if chat.type != ChatType.PRIVATE:
            # In groups, only answer commands addressed to this bot by name.
            username = (self.application.bot.username or "").lower()
            if not username or not head.lower().endswith(f"@{username}"):
                return
        command = head.split("@", 1)[0]
        await self._send_text(
            chat.id, to_html(f"I don't know {command}. Send /help for the commands.")
        )

    async def _on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or not message.text:
            return
        who = _who(user)
        if await self.app.challenges.has_open_run(who):
            # The answer to a group challenge this learner joined.
            await self._submit(chat.id, who, text=message.text)
            return
        waiting = self.onboarding.waiting(user.id)
        if waiting is None:
            await self._send_text(chat.id, to_html(TEXT_HINT))
            return
        step, chain = waiting
        if step == "tz":
            await self._choose(chat.id, user, Choice(chain, "tz", resolve_zone(message.text)))
        else:
            await self._choose(chat.id, user, Choice(chain, "push", parse_push_time(message.text)))

    async def _on_photo(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A photo in a private chat: a page answering a challenge (its caption as text)."""
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None or not message.photo:
            return
        who = _who(user)
        if not await self.app.challenges.has_open_run(who):
            await self._send_text(chat.id, to_html(PHOTO_HINT))
            return
        largest = max(message.photo, key=lambda p: (p.width * p.height, p.file_size or 0))
        await self._submit(chat.id, who, text=message.caption, photo_ref=largest.file_id)

    async def _submit(
        self, chat_id: int, who: Who, *, text: str | None, photo_ref: str | None = None
    ) -> None:
        """Hand a private answer to the member's open challenge and confirm (or refuse)."""
        reply = await self.app.challenges.submit(who, text=text, photo_ref=photo_ref)
        await self.send_reply(chat_id, reply)
        await self.app.deliver(reply.announcements)

    async def _choose(
        self, chat_id: int, user: User, choice: Choice, message: Message | None = None
    ) -> None:
        """Apply one onboarding answer; then ask the next question or confirm.

        ``message`` is the tapped question, edited to show the choice.
        """
        study = self.app.study
        who = _who(user)
        if choice.step == "go":  # "Change ..." from /settings
            await self._ask(chat_id, user.id, choice.value, chain=False)
            return
        if choice.step == "tz":
            reply = await study.change_setting(who, "timezone", choice.value)
            done = f"Time zone: {choice.value}"
            following = "push"
        elif choice.step == "push":
            if choice.value == "off":
                reply = await study.pause(who, True)
                done = "Daily reminders: off (/resume turns them on)"
            else:
                value = choice.value
                if len(value) == 4 and value.isdigit():
                    value = f"{value[:2]}:{value[2:]}"
                reply = await study.change_setting(who, "push", value)
                if reply.kind != "error":
                    await study.pause(who, False)
                done = f"Daily reminder: {value}"
            following = "deck"
        else:
            topics = ["all"] if choice.value == "*" else [choice.value]
            reply = await study.study_topics(who, topics)
            done = reply.text
            following = ""
        if reply.kind == "error":
            await self._send_text(chat_id, to_html(reply.text))
            return
        if message is not None:
            await self._edit(message, to_html(f"✓ {done}"), None)
        elif choice.step != "deck":
            await self._send_text(chat_id, to_html(f"✓ {done}"))
        if choice.chain and following:
            await self._ask(chat_id, user.id, following, chain=True)
            return
        self.onboarding.clear(user.id)
        if choice.chain:
            go = InlineKeyboardMarkup(
                [[InlineKeyboardButton("Start reviewing", callback_data="ob:go:review")]]
            )
            await self._send_text(chat_id, to_html(DONE_ONBOARDING), go)
        else:
            await self.send_reply(chat_id, await study.settings(who))

    # ------------------------------------------------------------------ buttons

    async def _on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        if query is None:
            return
        user = query.from_user
        data = query.data or ""
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat.id if message is not None else user.id
        choice = parse_choice(data)
        if choice is not None:
            await self._answer(query)
            if choice.step == "go" and choice.value == "review":
                await self._remove_keyboard_quietly(message)
                await self.send_reply(chat_id, await self.app.study.next(_who(user), "dm"))
            else:
                await self._choose(chat_id, user, choice, message)
            return
        who = _who(user)
        if data.startswith("q:"):
            await self._quiz_reveal(query, who, chat_id)
            return
        action = action_of(data)
        if action is not None and action.kind == "join":
            await self._challenge_join(query, who, message, action.token)
            return
        reply = await self.app.study.press(who, data)
        if action is not None and action.kind in ASSESSMENT_KINDS:
            await self._assessment_button(query, message, chat_id, action.kind, reply)
            return
        await self.app.deliver(reply.announcements)
        if reply.kind in ("expired", "error"):
            await self._answer(query, reply.text, alert=reply.kind == "error")
            return
        await self._answer(query)
        if reply.kind == "back":
            await self._show_in_place(message, chat_id, reply)
        elif reply.kind in ("front", "done"):
            await self._close(message, chat_id, reply.text)
            if reply.kind == "front":
                await self.send_reply(chat_id, replace(reply, text=""))
            else:
                # The core puts the rating's outcome in the text; ask again for the summary.
                await self.send_reply(chat_id, await self.app.study.next(who, "dm"))
        elif data.startswith("c:"):
            # A confirmation (/forget): the question is replaced by its outcome.
            self.onboarding.clear(user.id)
            if message is not None and message.text:
                await self._edit(message, to_html(reply.text), None)
            else:
                await self.send_reply(chat_id, reply)
        else:  # "info": the outcome of a quiz rating
            await self._close(message, chat_id, reply.text)

    async def _remove_keyboard_quietly(self, message: Message | None) -> None:
        if message is None:
            return
        try:
            await self._remove_keyboard(message)
        except TelegramError as exc:
            log.info("could not remove a telegram keyboard: %s", exc)

    async def _quiz_reveal(self, query: CallbackQuery, who: Who, chat_id: int) -> None:
        """A member tapped Reveal under a group quiz: the back goes to their private chat."""
        reply = await self.app.study.press(who, query.data or "")
        await self.app.deliver(reply.announcements)
        if reply.kind != "back":
            await self._answer(query, reply.text, alert=reply.kind != "expired")
            return
        user_id = int(who.user_id)
        try:
            await self.send_reply(user_id, reply)
        except TelegramError as exc:
            if not _unreachable(exc):
                raise
            log.info("telegram user %s has not started the bot; sending a start link", user_id)
            await self.app.study.mark_unreachable(PLATFORM, who.user_id)
            await self._answer(query, START_FIRST, alert=True, url=self._link("quiz"))
            return
        await self._answer(query, SENT_PRIVATELY)

    async def _challenge_join(
        self, query: CallbackQuery, who: Who, message: Message | None, run_token: str
    ) -> None:
        """A member tapped "Submit my answer": they join, and I write to them privately."""
        reply = await self.app.study.press(who, query.data or "")
        await self.app.deliver(reply.announcements)
        if reply.kind in ("expired", "error"):
            await self._answer(query, reply.text, alert=reply.kind == "error")
            return
        user_id = int(who.user_id)
        if message is not None and message.chat.type == ChatType.PRIVATE:
            await self._answer(query)
            await self.send_reply(message.chat.id, reply)
            return
        try:
            await self.send_reply(user_id, reply)
        except TelegramError as exc:
            if not _unreachable(exc):
                raise
            log.info("telegram user %s has not started the bot; sending a join link", user_id)
            await self.app.study.mark_unreachable(PLATFORM, who.user_id)
            link = self._link(f"{JOIN_PREFIX}{run_token}")
            await self._answer(query, JOIN_START_FIRST, alert=True, url=link)
            return
        await self._answer(query, JOINED_PRIVATELY)

    async def _assessment_button(
        self,
        query: CallbackQuery,
        message: Message | None,
        chat_id: int,
        kind: str,
        reply: Reply,
    ) -> None:
        """A tap on the private self-assessment: it is updated in place, or applied."""
        if reply.kind in ("expired", "error"):
            await self._answer(query, reply.text, alert=reply.kind == "error")
        elif reply.kind == "assess":
            await self._answer(query)
            await self._edit_assessment(message, chat_id, reply)
        elif kind == "assessed":
            await self._answer(query, APPLIED)
            # The outcome replaces the form; sharing one's answer stays possible.
            await self._replace(message, chat_id, reply.text, _share_keyboard(message))
        else:  # shared, or already applied: a short notice, the form stays
            await self._answer(query, reply.text)
        await self.app.deliver(reply.announcements)

    async def _edit_assessment(self, message: Message | None, chat_id: int, reply: Reply) -> None:
        """Show the updated self-assessment in the tapped message (its end when it is long)."""
        if message is None or not (message.text or message.photo):
            await self.send_reply(chat_id, reply)
            return
        limit = TELEGRAM_CAPTION if message.photo else TELEGRAM_MESSAGE
        chunks = split_html(reply_markdown(reply), limit)
        if chunks:
            await self._edit(message, chunks[-1], keyboard(reply))

    async def _replace(
        self,
        message: Message | None,
        chat_id: int,
        markdown: str,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        """Replace the tapped message's text, continuing in new messages when it is long."""
        if message is None or not (message.text or message.photo):
            chunks = split_html(markdown, TELEGRAM_MESSAGE)
            await self._send_parts(chat_id, [(c, None) for c in chunks], markup)
            return
        is_photo = bool(message.photo)
        chunks = split_html(markdown, TELEGRAM_CAPTION if is_photo else TELEGRAM_MESSAGE)
        if not chunks:
            return
        rest: list[tuple[str, RenderedImage | str | None]] = [(c, None) for c in chunks[1:]]
        await self._edit(message, chunks[0], None if rest else markup)
        if rest:
            await self._send_parts(chat_id, rest, markup)

    # ------------------------------------------------------------------ errors

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The one error handler: log with chat and user ids, tell the user briefly, go on."""
        error = context.error
        if error is None or _not_modified(error):
            return
        chat: Chat | None = None
        user: User | None = None
        query: CallbackQuery | None = None
        if isinstance(update, Update):
            chat, user, query = update.effective_chat, update.effective_user, update.callback_query
        chat_id = chat.id if chat is not None else None
        user_id = user.id if user is not None else None
        if isinstance(error, TelegramError) and _unreachable(error):
            log.info("telegram refused a message (chat %s, user %s): %s", chat_id, user_id, error)
            if user_id is not None and (chat is None or chat.type == ChatType.PRIVATE):
                await self.app.study.mark_unreachable(PLATFORM, str(user_id))
            if query is not None:
                await self._answer(query)
            return
        log.error(
            "error handling a telegram update (chat %s, user %s)",
            chat_id,
            user_id,
            exc_info=error,
        )
        try:
            if query is not None:
                await self._answer(query, SORRY, alert=True)
            elif chat_id is not None:
                await self._send_text(chat_id, to_html(SORRY))
        except Exception:
            log.warning("could not tell chat %s about the error", chat_id, exc_info=True)


def _share_keyboard(message: Message | None) -> InlineKeyboardMarkup | None:
    """The "Share my answer" button of a self-assessment message, alone (None if absent)."""
    markup = message.reply_markup if message is not None else None
    if markup is None:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            action = action_of(str(button.callback_data or ""))
            if action is not None and action.kind == "share":
                return InlineKeyboardMarkup([[button]])
    return None


def build_telegram(app: App) -> TelegramPlatform:
    """The Telegram platform for ``app``, from ``[telegram]`` settings (needs a token)."""
    return TelegramPlatform(app)
