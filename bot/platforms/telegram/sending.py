"""Sending to Telegram: Bot API requests with retries, and core replies as messages.

A :class:`~bot.core.messages.Reply` becomes parts sent in order: its first photo
or file (a card image, a photo it names, a drawn figure, an attachment) with the
start of the text as its caption, the rest of the text split under Telegram's
limits, then any further photos; the buttons go on the last part. Drawn images
are uploaded once and sent again by their Telegram file id. The tapped message
of a button can be edited into a reply, or closed with a note.

A card shows the image of the side it shows: the question's with the front, the
answer's with the back. Revealing a card whose back has an image turns the tapped
photo into that image (or, under a text front, sends it with the back in place of
the front, which is deleted); a back without one keeps the question's photo and
only its caption changes.

After a rating the next card takes the rated card's place (:meth:`Sender.replace_with`):
one edit when the two are alike (text and text, photo and photo), else the new card
sent and the old one deleted.

A file a person sent is fetched with :meth:`Sender.download` (getFile, then the file
server, both with the network retries of every request); :meth:`Sender.showing` keeps a
chat action ("typing…") on screen while a slow request runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import timedelta
from pathlib import Path
from types import EllipsisType
from typing import Any, Final, NamedTuple, TypeVar

from telegram import (
    Bot,
    CallbackQuery,
    File,
    InlineKeyboardMarkup,
    InputFile,
    InputMediaPhoto,
    LinkPreviewOptions,
    Message,
    PhotoSize,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import BaseRateLimiter

from bot.core.ankifile import MAX_IMPORT_BYTES
from bot.core.challenges.photos import SentPhoto
from bot.core.drawing import draw_card, draw_figure, draw_text
from bot.core.indicator import kept_up
from bot.core.messages import Attachment, CardView, Reply
from bot.core.metrics import Metrics, PlatformError
from bot.core.pacing import Pacing
from bot.core.rendering import RenderedImage, Renderer
from bot.platforms.telegram import ephemeral
from bot.platforms.telegram.formatting import (
    TELEGRAM_CAPTION,
    TELEGRAM_MESSAGE,
    keyboard,
    reply_markdown,
    split_html,
    to_html,
    workspace_url,
)
from bot.platforms.telegram.rich import RichMessages, method_missing
from bot.platforms.telegram.richhtml import carries_media
from bot.text.markdown import needs_image, table_to_monospace
from bot.text.split import split_message, utf16_len

__all__ = [
    "BACKOFF_CAP",
    "BACKOFF_FIRST",
    "CHAT_ACTION_EVERY",
    "DOWNLOAD_READ_TIMEOUT",
    "FILE_ID_CACHE",
    "FILE_UNAVAILABLE",
    "NETWORK_ATTEMPTS",
    "PUSH_MAX_WAIT",
    "FileUnavailable",
    "PacedRateLimiter",
    "Progress",
    "Sender",
    "announcing",
    "not_modified",
    "pushing",
    "replying",
    "retry_seconds",
    "unreachable",
]

log = logging.getLogger(__name__)
T = TypeVar("T")
R = TypeVar("R", Message, Message | bool)

#: Attempts of a request that failed on the network, with capped exponential backoff.
NETWORK_ATTEMPTS: Final = 4
BACKOFF_FIRST: Final = 0.5
BACKOFF_CAP: Final = 8.0
#: Drawn images already uploaded: content key -> Telegram file_id (reused, not re-uploaded).
FILE_ID_CACHE: Final = 512
#: Callback queries remembered as answered (a tap's outcome is shown within seconds).
ANSWERED_KEPT: Final = 4096
PHOTO_GONE: Final = "(The photo is no longer available.)"
#: Seconds between chat actions while a slow request runs (Telegram shows one for 5 s).
CHAT_ACTION_EVERY: Final = 4.0
#: Seconds a file download may go without receiving a byte before it counts as failed
#: (each of the :data:`NETWORK_ATTEMPTS`).
DOWNLOAD_READ_TIMEOUT: Final = 30.0
#: The learner's reply when a file they sent cannot be fetched from Telegram.
FILE_UNAVAILABLE: Final = (
    "I couldn't download your file from Telegram (the connection failed or took too "
    "long), so nothing changed. Please send it again in a minute."
)
NO_PREVIEW: Final = LinkPreviewOptions(is_disabled=True)

#: What goes with a part's text: a drawn image, a photo Telegram holds (its file id),
#: a file, or nothing (a text message).
Media = RenderedImage | str | Attachment
Part = tuple[str, Media | None]


def not_modified(exc: BaseException) -> bool:
    """Telegram's answer to an edit that changes nothing (harmless)."""
    return isinstance(exc, BadRequest) and "not modified" in str(exc).lower()


def unreachable(exc: BaseException) -> bool:
    """Telegram refuses to deliver to this user: blocked, deactivated, never started."""
    if isinstance(exc, Forbidden):
        return True
    return isinstance(exc, BadRequest) and "chat not found" in str(exc).lower()


def error_kind(exc: TelegramError) -> PlatformError | None:
    """What a failed Bot API request counts as; None for an edit that changed nothing, or
    a method the server does not have (:func:`~.rich.method_missing`)."""
    if isinstance(exc, RetryAfter):
        return "rate_limited"
    if isinstance(exc, NetworkError) and not isinstance(exc, BadRequest):
        return "network"  # no answer, a timeout, a 5xx
    if method_missing(exc):
        return None  # an older server without a newer method: the caller falls back
    return None if not_modified(exc) else "refused"


def _toast(text: str | None) -> str | None:
    """A callback answer's text within Telegram's 200 characters (UTF-16 units)."""
    if not text:
        return None
    text = text[:200]
    while utf16_len(text) > 200:
        text = text[:-1]
    return text


#: Bot API methods that post a new message: each takes a place in its chat's schedule.
_POSTS: Final = ("send", "copyMessage", "forwardMessage")
#: Methods named like posts that post nothing (a chat action): they only wait for holds.
_NOT_POSTS: Final = frozenset({"sendChatAction"})
#: Methods never paced: a tap's spinner is answered at once (Telegram does not count it).
_UNPACED: Final = frozenset({"answerCallbackQuery", "answerInlineQuery"})
#: Longest a push waits for its chat to be free; beyond it the push is tried again
#: later from the outbox, and the sender goes on with other chats.
PUSH_MAX_WAIT: Final = 5.0


class _Mode(NamedTuple):
    retries: int
    max_wait: float | None


_MODE: ContextVar[_Mode | None] = ContextVar("telegram_request_mode", default=None)
#: Requests answer the person who just acted (a tap, a command): no overall place.
_INTERACTIVE: ContextVar[bool] = ContextVar("telegram_interactive", default=False)


@contextmanager
def pushing() -> Iterator[None]:
    """Requests made inside go once: a 429 (or a chat busy for longer than
    :data:`PUSH_MAX_WAIT`) is raised at once, for the outbox to try again later.
    They take their place in the overall schedule (see :func:`replying`)."""
    token = _MODE.set(_Mode(0, PUSH_MAX_WAIT))
    interactive = _INTERACTIVE.set(False)
    try:
        yield
    finally:
        _INTERACTIVE.reset(interactive)
        _MODE.reset(token)


@contextmanager
def announcing() -> Iterator[None]:
    """Requests made inside post to a group for the core (a quiz's answer, a challenge's
    summary), even from a tap's handler: they take their place in the overall schedule."""
    token = _INTERACTIVE.set(False)
    try:
        yield
    finally:
        _INTERACTIVE.reset(token)


@contextmanager
def replying() -> Iterator[None]:
    """Requests made inside (and in tasks started inside) answer the person who just
    acted: they keep their chat's pace and its 429 holds, but take no place in the
    overall schedule, which is for messages to many chats (pushes, announcements)."""
    token = _INTERACTIVE.set(True)
    try:
        yield
    finally:
        _INTERACTIVE.reset(token)


def retry_seconds(exc: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds."""
    wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class PacedRateLimiter(BaseRateLimiter[int]):
    """Every Bot API request through :class:`~bot.core.pacing.Pacing`, instead of PTB's
    ``AIORateLimiter`` (whose 429 pauses every chat).

    A request that posts a message takes a place in its chat's schedule (one a
    second in a private chat, about twenty a minute in a group) and then in the
    overall one; an edit waits only while its chat is held; a callback answer is
    never paced. Inside :func:`replying` (the answer to a tap or a command) a request
    keeps its chat's pace but takes no overall place. A 429 holds only the chat it
    answered (every chat when it names none) for ``retry_after``; the request is
    then tried again after it, up to ``retries`` times, except inside
    :func:`pushing`. Each 429 is one INFO line, never a traceback; every failed
    attempt is counted in ``metrics``.
    (getUpdates does not pass here.)

    Args:
        pacing: the schedules (one per bot).
        metrics: where failed requests are counted.
        retries: tries after a 429, for replies.
    """

    def __init__(self, pacing: Pacing, metrics: Metrics, *, retries: int) -> None:
        self.pacing = pacing
        self.metrics = metrics
        self.retries = retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        """Wait for the request's place, make it, and keep a 429 to its chat."""
        mode = _MODE.get() or _Mode(self.retries, None)
        retries = mode.retries if rate_limit_args is None else rate_limit_args
        raw = data.get("chat_id")
        chat: int | str | None = None
        if raw is not None:
            try:
                chat = int(raw)
            except (TypeError, ValueError):
                chat = str(raw)  # @channelusername
        group = isinstance(chat, str) or (chat is not None and chat < 0)
        receiver = ephemeral.prepare(endpoint, data)  # a post for one member of a group
        attempt = 0
        while True:
            if endpoint not in _UNPACED:
                await self.pacing.slot(
                    chat,
                    group=group,
                    message=endpoint.startswith(_POSTS) and endpoint not in _NOT_POSTS,
                    max_wait=mode.max_wait,
                    overall=not _INTERACTIVE.get(),
                )
            try:
                result = await callback(*args, **kwargs)
                return ephemeral.checked(result, receiver, chat)
            except RetryAfter as exc:
                self.metrics.platform_error("telegram", "rate_limited")
                seconds = retry_seconds(exc)
                if endpoint in _UNPACED:
                    # A callback answer names no chat: holding "every chat" for it would
                    # stop the whole bot, and an answer that comes late shows nothing.
                    log.info(
                        "telegram 429 on %s (retry after %g s): not retried", endpoint, seconds
                    )
                    raise
                self.pacing.hold(chat, seconds)
                where = "every chat" if chat is None else f"chat {chat}"
                if attempt >= retries:
                    log.info(
                        "telegram 429 on %s for %s (retry after %g s)", endpoint, where, seconds
                    )
                    raise
                attempt += 1
                log.info(
                    "telegram 429 on %s for %s: trying again in %g s (retry %d of %d)",
                    endpoint,
                    where,
                    seconds,
                    attempt,
                    retries,
                )
            except TelegramError as exc:
                kind = error_kind(exc)
                if kind is not None:
                    self.metrics.platform_error("telegram", kind)
                raise


def stored_photo(photo: Attachment) -> Media:
    """A stored photo (a member's challenge answer) to upload: a JPEG or PNG as a photo
    (cached by its content like a drawing, so a second showing goes by file id), another
    image (GIF, WebP) as a file."""
    media_type = {".jpg": "image/jpeg", ".png": "image/png"}.get(Path(photo.filename).suffix)
    if media_type is None:
        return photo
    key = "answer-" + hashlib.sha256(photo.data).hexdigest()
    return RenderedImage(photo.data, 0, 0, key, media_type)


class FileUnavailable(Exception):
    """A file a person sent could not be fetched from Telegram (getFile refused it, or
    the download failed on every try); ``str(error)`` is what they are told
    (:data:`FILE_UNAVAILABLE`) and :attr:`why` says what happened, for the log (never a
    URL: the file server's URLs hold the bot token)."""

    def __init__(self, why: str) -> None:
        super().__init__(FILE_UNAVAILABLE)
        self.why = why


def _why(exc: BaseException) -> str:
    """A failed request in a few words, for a log line: its type and message."""
    message = exc.message if isinstance(exc, TelegramError) else str(exc)
    return f"{type(exc).__name__}: {' '.join(message.split())}"


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


class Sender:
    """Sends, edits and answers through one bot.

    Args:
        bot: the application's bot (its :class:`PacedRateLimiter` paces every request
            and keeps a 429 to its chat).
        renderer: draws card images, figures and wide tables; None sends text only.
        workspace_url: the browser workspace's public address (``[web] public_url``):
            a reply that offers the workspace gets its Mini App button in a private
            chat (:meth:`markup`); None (``[web]`` off) offers it nowhere.
    """

    def __init__(
        self, bot: Bot, renderer: Renderer | None, *, workspace_url: str | None = None
    ) -> None:
        self.bot = bot
        self.renderer = renderer
        self.workspace_url = workspace_url
        #: Awaited between network retries (tests replace it so no time passes).
        self.sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
        self._file_ids: OrderedDict[str, str] = OrderedDict()
        #: Callback queries answered lately (a query is answered once).
        self._answered: OrderedDict[str, None] = OrderedDict()
        #: Cards as rich messages (Bot API 10.1), today's text where the server lacks them.
        self.rich = RichMessages(self)

    def markup(self, reply: Reply, chat_id: int) -> InlineKeyboardMarkup | None:
        """The inline keyboard of ``reply`` sent to (or edited in) chat ``chat_id``: its
        buttons, and the workspace's Mini App button where it may go
        (:func:`~bot.platforms.telegram.formatting.workspace_url`)."""
        return keyboard(reply, workspace_url(self.workspace_url, reply, chat_id))

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API request, retrying network failures with capped backoff.

        Telegram's own refusals (400, 403) are not retried; a 429 is retried inside
        the rate limiter after the time Telegram gives (for that chat only).
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

    def link(self, start: str = "") -> str:
        """A link that opens the private chat with the bot (``start``: its /start argument)."""
        return f"https://t.me/{self.bot.username}" + (f"?start={start}" if start else "")

    # ------------------------------------------------------------------ files sent to the bot

    async def file_info(self, file_id: str) -> File:
        """What Telegram holds about a file a person sent (getFile: its size and the path
        to download it from; the path is good for an hour). No byte is downloaded.

        Raises:
            BadRequest: Telegram refuses it ("file is too big": over the 20 MB bots may
                download; or the file id is wrong).
            NetworkError: no answer after :data:`NETWORK_ATTEMPTS` tries.
        """
        bot = self.bot
        return await self.call(lambda: bot.get_file(file_id))

    async def download(self, file_id: str, info: File | None = None) -> bytes:
        """The bytes of a file a person sent: getFile (unless ``info`` is its answer
        already), then the download from Telegram's file server, through the same HTTP
        layer as every request; each tried up to :data:`NETWORK_ATTEMPTS` times, a
        download waiting at most :data:`DOWNLOAD_READ_TIMEOUT` seconds for the next bytes.

        Raises:
            FileUnavailable: Telegram refused the file, or the network failed every try.
        """
        try:
            found = info if info is not None else await self.file_info(file_id)
            data = await self.call(
                lambda: found.download_as_bytearray(read_timeout=DOWNLOAD_READ_TIMEOUT)
            )
        except TelegramError as exc:
            raise FileUnavailable(_why(exc)) from None
        except RuntimeError as exc:  # getFile gave no path: nothing to download
            raise FileUnavailable(_why(exc)) from None
        return bytes(data)

    async def declared_size(self, file_id: str, declared: int | None) -> tuple[int, File | None]:
        """The file's size as Telegram declares it. A message without one (the Bot API
        lets it out) is asked about with getFile, which downloads nothing; a file Telegram
        calls too big there is over its 20 MB download limit, so it counts as one byte
        over :data:`~bot.core.ankifile.MAX_IMPORT_BYTES` (the same 20 MB) and the core
        refuses it. Returns getFile's answer too, when it was asked, so the download does
        not ask again.

        Raises:
            FileUnavailable: Telegram refused the file id, or the network failed.
        """
        if declared is not None:
            return declared, None
        try:
            info = await self.file_info(file_id)
        except BadRequest as exc:
            if "too big" in str(exc).lower():
                return MAX_IMPORT_BYTES + 1, None
            raise FileUnavailable(f"{type(exc).__name__}: {exc.message}") from None
        except TelegramError as exc:
            raise FileUnavailable(f"{type(exc).__name__}: {exc.message}") from None
        return info.file_size or 0, info

    async def photo_answer(self, sizes: Sequence[PhotoSize]) -> SentPhoto:
        """A photo a person sent as a challenge answer: its largest size, with the size
        Telegram declares, downloaded only if the core asks (stored as Discord's are, one
        rule, though Telegram's file ids do not expire)."""
        largest = max(sizes, key=lambda p: (p.width * p.height, p.file_size or 0))
        size, info = await self.declared_size(largest.file_id, largest.file_size)

        async def fetch() -> bytes:
            return await self.download(largest.file_id, info)

        return SentPhoto(size, fetch, largest.file_id)

    @asynccontextmanager
    async def showing(
        self, chat_id: int, action: ChatAction = ChatAction.TYPING
    ) -> AsyncIterator[None]:
        """Keep a chat action ("typing…") on screen in a chat while the block runs: one
        at once, then one every :data:`CHAT_ACTION_EVERY` seconds until it ends. A chat
        action Telegram refuses is left out (it only decorates the wait)."""
        bot = self.bot

        async def act() -> bool:
            try:
                await bot.send_chat_action(chat_id, action)
            except TelegramError as exc:
                log.info("telegram refused a chat action in chat %s: %s", chat_id, _why(exc))
                return False
            return True

        async with kept_up(act, CHAT_ACTION_EVERY):
            yield

    # ------------------------------------------------------------------ new messages

    async def send_text(
        self, chat_id: int, html_text: str, markup: InlineKeyboardMarkup | None = None
    ) -> Message:
        """Send one HTML message (no link previews)."""
        bot = self.bot
        return await self.call(
            lambda: bot.send_message(
                chat_id,
                html_text,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
                link_preview_options=NO_PREVIEW,
            )
        )

    async def send_markdown(self, chat_id: int, markdown: str) -> None:
        """Send core markdown (a notice, a short answer) as HTML, split under Telegram's
        limit, so a long text is never refused as "message is too long"."""
        for chunk in split_message(markdown, TELEGRAM_MESSAGE, length=utf16_len):
            await self.send_text(chat_id, to_html(chunk))

    async def send_photo(
        self,
        chat_id: int,
        image: RenderedImage | str,
        caption: str,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        """Send a drawn image (uploaded once, then by file_id) or a Telegram file_id."""
        bot = self.bot

        async def send(photo: str | InputFile) -> Message:
            return await self.call(
                lambda: bot.send_photo(
                    chat_id,
                    photo,
                    caption=caption or None,
                    parse_mode=ParseMode.HTML,
                    reply_markup=markup,
                )
            )

        if isinstance(image, str):
            return await send(image)
        return await self._upload_once(image, send)

    async def _upload_once(
        self,
        image: RenderedImage,
        request: Callable[[str | InputFile], Awaitable[R]],
        *,
        attach: bool = False,
    ) -> R:
        """Make a request with a drawn image: by its Telegram file id once uploaded, else
        uploading it (and keeping the file id Telegram gives it). ``attach``: the upload
        goes inside an input media object (sent as ``attach://``)."""
        cached = self._file_ids.get(image.key)
        if cached is not None:
            try:
                return await request(cached)
            except BadRequest as exc:
                if not_modified(exc):
                    raise
                log.info("cached telegram photo refused (%s); uploading it again", exc)
                self._file_ids.pop(image.key, None)
        result = await request(InputFile(image.data, filename=image.filename, attach=attach))
        if isinstance(result, Message) and result.photo:
            self._file_ids[image.key] = result.photo[-1].file_id
            while len(self._file_ids) > FILE_ID_CACHE:
                self._file_ids.popitem(last=False)
        return result

    async def send_document(
        self,
        chat_id: int,
        attachment: Attachment,
        caption: str,
        markup: InlineKeyboardMarkup | None,
    ) -> Message:
        """Send a file with an HTML caption."""
        bot = self.bot
        return await self.call(
            lambda: bot.send_document(
                chat_id,
                InputFile(attachment.data, filename=attachment.filename),
                caption=caption or None,
                parse_mode=ParseMode.HTML,
                reply_markup=markup,
            )
        )

    async def send_parts(
        self,
        chat_id: int,
        parts: Sequence[Part],
        markup: InlineKeyboardMarkup | None,
        progress: Progress | None = None,
    ) -> list[Message]:
        """Send text, photo and file parts in order; the buttons go on the last one.

        A photo given by file_id that Telegram refuses is replaced by its caption alone.
        With ``progress``, parts it says went out before are skipped and each part
        Telegram accepts is counted.
        """
        sent: list[Message] = []
        for i, (text, media) in enumerate(parts):
            if progress is not None and progress.passed():
                continue
            last = markup if i == len(parts) - 1 else None
            if media is None:
                sent.append(await self.send_text(chat_id, text, last))
            elif isinstance(media, Attachment):
                sent.append(await self.send_document(chat_id, media, text, last))
            else:
                try:
                    sent.append(await self.send_photo(chat_id, media, text, last))
                except BadRequest as exc:
                    if not isinstance(media, str) or not_modified(exc):
                        raise
                    log.warning("telegram refused the photo %s: %s", media, exc)
                    if text or last is not None:
                        sent.append(await self.send_text(chat_id, text or PHOTO_GONE, last))
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
        picture: RenderedImage | EllipsisType | None = ...,
    ) -> list[Message]:
        """Send a core reply to a chat: its card image, a photo it names, its figure or its
        file first, with the start of the text as the caption; the rest of the HTML text
        split under Telegram's limits; the buttons on the last message.

        ``images`` only decides whether card images (and wide tables) are drawn.
        ``progress`` resumes a push after the messages an earlier try delivered.
        ``picture``: the card's image, drawn already (None: it has none).
        A card goes as one rich message when it can (:mod:`.rich`), its formula picture
        typeset in it rather than sent.
        """
        rich = await self.rich.send_reply(chat_id, reply, progress)
        if rich is not None:
            return rich
        if not images:
            image = None
        elif isinstance(picture, EllipsisType):
            image = await draw_card(self.renderer, reply.card)
        else:
            image = picture
        extra = await self._table_image(reply.card) if images else None
        media: list[Media] = [image] if image is not None else []
        if reply.photo_ref:
            media.append(reply.photo_ref)
        if reply.photo is not None:
            media.append(stored_photo(reply.photo))
        figure = await draw_figure(self.renderer, reply.figure)
        if figure is not None:
            media.append(figure)
        if reply.attachment is not None:
            media.append(reply.attachment)
        markdown = reply_markdown(reply, image_shown=image is not None)
        chunks = split_html(markdown, TELEGRAM_CAPTION if media else TELEGRAM_MESSAGE)
        parts: list[Part] = []
        if media:
            parts.append((chunks.pop(0) if chunks else "", media[0]))
        parts.extend((chunk, None) for chunk in chunks)
        parts.extend(("", item) for item in media[1:])
        if extra is not None:
            parts.append(("", extra))
        if not parts:
            return []
        return await self.send_parts(chat_id, parts, self.markup(reply, chat_id), progress)

    async def send_replies(self, chat_id: int, replies: Sequence[Reply]) -> None:
        """Send replies to a chat, in order."""
        for reply in replies:
            await self.send_reply(chat_id, reply)

    async def _table_image(self, card: CardView | None) -> RenderedImage | None:
        """A drawing of the back's tables or wide code, when monospace would not fit a phone."""
        if self.renderer is None or card is None or card.back is None:
            return None
        if not needs_image(table_to_monospace(card.back)):
            return None
        return await draw_text(self.renderer, card.back)

    # ------------------------------------------------------------------ the tapped message

    async def edit(
        self, message: Message, html_text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        """Replace a message's text (or a photo's caption) and keyboard; "not modified" is fine."""
        bot = self.bot
        try:
            if message.photo:
                await self.call(
                    lambda: bot.edit_message_caption(
                        chat_id=message.chat_id,
                        message_id=message.message_id,
                        caption=html_text,
                        parse_mode=ParseMode.HTML,
                        reply_markup=markup,
                    )
                )
            else:
                await self.call(
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
            if not not_modified(exc):
                raise

    async def edit_photo(
        self,
        message: Message,
        image: RenderedImage,
        caption: str,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        """Replace a photo message's picture, caption and keyboard (``editMessageMedia``);
        "not modified" is fine."""
        bot = self.bot

        async def edit(photo: str | InputFile) -> Message | bool:
            media = InputMediaPhoto(photo, caption=caption or None, parse_mode=ParseMode.HTML)
            return await self.call(
                lambda: bot.edit_message_media(
                    media,
                    chat_id=message.chat_id,
                    message_id=message.message_id,
                    reply_markup=markup,
                )
            )

        try:
            await self._upload_once(image, edit, attach=True)
        except BadRequest as exc:
            if not not_modified(exc):
                raise

    async def show_in_place(
        self,
        message: Message | None,
        chat_id: int,
        reply: Reply,
        picture: RenderedImage | EllipsisType | None = ...,
    ) -> None:
        """Edit the tapped message into ``reply`` (a card's back, a confirmation's outcome),
        continuing in new messages when it is long; the buttons go on the last one.

        A card's image goes with it: a tapped photo becomes that image; a tapped text
        message, which cannot become a photo, is replaced by the photo (sent, and the
        text deleted). Without one, a tapped photo keeps its picture (the question's)
        and only its caption changes. A tapped rich message is edited or replaced by
        :meth:`RichMessages.show_in_place`.
        """
        if await self.rich.show_in_place(message, chat_id, reply):
            return
        if message is None or not (message.text or message.photo):
            await self.send_reply(chat_id, reply)
            return
        is_photo = bool(message.photo)
        if isinstance(picture, EllipsisType):
            picture = await draw_card(self.renderer, reply.card)
        if picture is not None and not is_photo:
            # A text message cannot become a photo: the photo takes its place.
            await self.send_reply(chat_id, reply, picture=picture)
            await self.delete(message)
            return
        markdown = reply_markdown(reply, image_shown=picture is not None)
        chunks = split_html(markdown, TELEGRAM_CAPTION if is_photo else TELEGRAM_MESSAGE)
        if not chunks:
            return
        rest: list[Part] = [(c, None) for c in chunks[1:]]
        extra = await self._table_image(reply.card)
        if extra is not None:
            rest.append(("", extra))
        markup = self.markup(reply, chat_id)
        first_markup = None if rest else markup
        if picture is not None and is_photo:
            await self.edit_photo(message, picture, chunks[0], first_markup)
        else:
            await self.edit(message, chunks[0], first_markup)
        if rest:
            await self.send_parts(chat_id, rest, markup)

    async def replace_with(self, message: Message | None, chat_id: int, reply: Reply) -> bool:
        """Let ``reply`` take the tapped message's place (the next card after a rating):
        the message is edited into it when it can be (text into text, a photo into
        another photo); otherwise (a text message cannot become a photo, nor a photo
        lose its picture) the reply is sent and the tapped message deleted, so the chat
        shows one message either way. False, having done nothing, when the reply is
        not a plain card or text (a figure, a photo, a file) or nothing was tapped.
        A rich message on either side: :meth:`RichMessages.replace_with`.
        """
        if await self.rich.replace_with(message, chat_id, reply):
            return True
        if message is None or not (message.text or message.photo):
            return False
        if carries_media(reply):
            return False
        picture = await draw_card(self.renderer, reply.card)
        if (picture is not None) == bool(message.photo):
            await self.show_in_place(message, chat_id, reply, picture)
            return True
        await self.send_reply(chat_id, reply, picture=picture)
        await self.delete(message)
        return True

    async def delete(self, message: Message) -> None:
        """Delete a message the bot sent (its place taken by a new one); when Telegram
        will not (too old), only its buttons go."""
        bot = self.bot
        try:
            await self.call(
                lambda: bot.delete_message(chat_id=message.chat_id, message_id=message.message_id)
            )
        except BadRequest as exc:
            if "not found" in str(exc).lower():  # gone already: nothing left to tidy
                return
            log.info("could not delete a telegram message (%s); removing its buttons", exc)
            try:
                await self._remove_keyboard(message)
            except BadRequest as again:  # the new card is out: an old one's buttons may stay
                log.info("could not remove a telegram message's buttons either: %s", again)

    async def show_last_part(self, message: Message | None, chat_id: int, reply: Reply) -> None:
        """Edit the tapped message into the end of ``reply``: the tapped message is the last
        part of a long message (a self-assessment), whose earlier parts are still above it."""
        if message is None or not (message.text or message.photo):
            await self.send_reply(chat_id, reply)
            return
        limit = TELEGRAM_CAPTION if message.photo else TELEGRAM_MESSAGE
        chunks = split_html(reply_markdown(reply), limit)
        if chunks:
            await self.edit(message, chunks[-1], self.markup(reply, message.chat_id))

    async def close(self, message: Message | None, chat_id: int, note: str) -> None:
        """Remove the tapped message's buttons and add ``note`` to it in italics ("Good: see
        it again in 10m."); a note that does not fit there is sent as a new message.

        Without a note only the buttons go, quietly (a failure is logged).
        """
        if await self.rich.close(message, chat_id, note):
            return
        if not note.strip():
            if message is not None:
                try:
                    await self._remove_keyboard(message)
                except TelegramError as exc:
                    log.info("could not remove a telegram keyboard: %s", exc)
            return
        if message is not None and (message.text or message.photo):
            is_photo = bool(message.photo)
            shown = (message.caption or "") if is_photo else (message.text or "")
            current = (
                (message.caption_html if message.caption else "")
                if is_photo
                else (message.text_html)
            )
            limit = TELEGRAM_CAPTION if is_photo else TELEGRAM_MESSAGE
            if utf16_len(shown) + 2 + utf16_len(note) <= limit:
                addition = to_html(note)
                joined = f"{current}\n\n<i>{addition}</i>" if current else addition
                await self.edit(message, joined, None)
                return
            await self._remove_keyboard(message)
        for chunk in split_html(note, TELEGRAM_MESSAGE):
            await self.send_text(chat_id, chunk)

    async def _remove_keyboard(self, message: Message) -> None:
        bot = self.bot
        try:
            await self.call(
                lambda: bot.edit_message_reply_markup(
                    chat_id=message.chat_id, message_id=message.message_id, reply_markup=None
                )
            )
        except BadRequest as exc:
            if not not_modified(exc):
                raise

    async def answer(
        self,
        query: CallbackQuery,
        text: str | None = None,
        *,
        alert: bool = False,
        url: str | None = None,
    ) -> bool:
        """Answer a callback query (Telegram shows a spinner until we do); False when it
        was answered already (it is not asked again) or Telegram would not take it."""
        if query.id in self._answered:
            return False
        try:
            await self.call(lambda: query.answer(text=_toast(text), show_alert=alert, url=url))
        except (BadRequest, RetryAfter) as exc:  # too old, answered, or too many: let it go
            log.info("could not answer a telegram callback: %s", exc)
            return False
        self._answered[query.id] = None
        while len(self._answered) > ANSWERED_KEPT:
            self._answered.popitem(last=False)
        return True
