"""Cards as Telegram rich messages (Bot API 10.1), with today's text as the fallback.

Telegram typesets a rich message's formulas itself (``<tg-math>``,
``<tg-math-block>``) and shows its tables as tables, so a card goes as one rich
message whenever it can (:func:`~bot.platforms.telegram.richhtml.reply_rich_html`):
reviews, pushes, quiz cards, a challenge's reference. A formula picture is then not
drawn or sent: the message shows the formula. A card with another picture (a
diagram, a plot) goes as today, a photo with its caption.

python-telegram-bot 22.8 speaks Bot API 10.0, so the method goes through its generic
request (``Bot.do_api_request``), and the edit through ``edit_message_text`` with the
new ``rich_message`` parameter in ``api_kwargs`` (its ``text`` left out).

* A server without the method (an older or self-hosted Bot API server answers 404
  "Not Found: method not found", which PTB raises as ``EndPointNotFound``, or as
  ``InvalidToken`` before the bot is initialised) is remembered for the process: no
  more tries, today's converted text goes instead. A rejected token (401) is not
  that, and goes on to the usual error handling.
* A 400 for one message (Telegram could not parse it) sends that message as today's
  text; the next card tries again.
* Anything else (a 429, a blocked user, the network) is raised as for any message.

A tapped rich message (its ``rich_message`` field; PTB keeps it in ``api_kwargs``)
has no text to edit: revealing edits it into the back with ``editMessageText`` and
``rich_message``, a rating into the next card (or the session's end, a text made
rich); when that is refused, or the reply has a picture, the reply is sent and the
tapped message deleted (as :meth:`Sender.replace_with` does for a text
that cannot become a photo). A rating's note closes a rich card by editing it with the
note added (its HTML is remembered), else its buttons go and the note is sent.

Pacing: ``sendRichMessage`` is a new message for
:class:`~bot.platforms.telegram.sending.PacedRateLimiter` (it starts with ``send``), an
edit an edit.

What this relies on (read 2026-12-07): the Bot API pages for ``sendRichMessage`` and
``InputRichMessage`` (core.telegram.org/bots/api/methods/sendrichmessage.md,
types/inputrichmessage.md: ``chat_id``, ``rich_message`` {exactly one of ``html``,
``markdown``, ``blocks``; ``media``, ``is_rtl``, ``skip_entity_detection``},
``reply_markup``, ``reply_parameters``...; returns the sent Message, whose
``rich_message`` holds ``blocks``); aiogram 3.31 ``SendRichMessage``; teloxide-core's
``EditMessageText`` (``text`` "required if rich_message isn't specified", and
``rich_message``) and go-telegram/bot v1.22.0's notes ("a rich_message parameter on
editMessageText"); the telegram-rich 0.0.1 crate's limits (32,768 characters
including formula sources, 500 blocks, nesting 16, 20 table columns) and its
escaping (only ``&``, ``<``, ``>``); the rich block list of rustigram-types
(``<p>``, ``<h1>``-``<h6>``, ``<pre><code>``, ``<ul>``/``<ol>``, ``<blockquote>``,
``<table>``, ``<details>``, ``<tg-math-block>``); PTB 22.8's ``Bot.do_api_request``
(raises ``EndPointNotFound`` on a 404 once initialised).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Final

from telegram import InlineKeyboardMarkup, Message
from telegram.error import BadRequest, EndPointNotFound, InvalidToken, TelegramError

from bot.core.messages import Reply
from bot.platforms.telegram.richhtml import (
    RICH_LIMIT,
    carries_media,
    reply_rich_html,
    rich_inline,
    rich_length,
)

if TYPE_CHECKING:
    from bot.platforms.telegram.sending import Progress, Sender

__all__ = ["SEND_RICH", "RichMessages", "is_rich", "method_missing"]

log = logging.getLogger(__name__)

SEND_RICH: Final = "sendRichMessage"
#: Rich messages whose HTML is remembered (to add a rating's note to the card).
KEPT: Final = 1024


def is_rich(message: Message | None) -> bool:
    """Whether a message is a rich message (PTB 22.8 keeps the field in ``api_kwargs``)."""
    return message is not None and bool(message.api_kwargs.get("rich_message"))


def method_missing(exc: TelegramError) -> bool:
    """Whether the server says it has no such method (not that the token is wrong).

    PTB 22.8's ``do_api_request`` turns a 404 *and* a 401 into ``EndPointNotFound`` once
    the bot is initialised (before, into an ``InvalidToken`` whose words say the endpoint
    may "not exist"); the server's own words are in the cause: "Not Found" for a missing
    method, "Unauthorized" for a rejected token."""
    if isinstance(exc, EndPointNotFound | InvalidToken):
        cause = exc.__cause__
        said = str(cause if isinstance(cause, TelegramError) else exc).lower()
        if "unauthorized" in said:
            return False
        return isinstance(exc, EndPointNotFound) or "not found" in said
    return isinstance(exc, BadRequest) and "method not found" in str(exc).lower()


class RichMessages:
    """Sending and editing rich messages for one :class:`Sender` (one bot, one process).

    Attributes:
        missing: the server said it has no ``sendRichMessage`` (never tried again).
    """

    def __init__(self, sender: Sender) -> None:
        self.sender = sender
        self.missing = False
        self._html: OrderedDict[tuple[int, int], str] = OrderedDict()

    # ------------------------------------------------------------------ requests

    def _remember(self, message: Message | bool, html: str) -> None:
        if isinstance(message, Message):
            self._html[(message.chat_id, message.message_id)] = html
            while len(self._html) > KEPT:
                self._html.popitem(last=False)

    def _lacking(self, exc: TelegramError) -> bool:
        if not method_missing(exc):
            return False
        if not self.missing:
            log.info(
                "the Telegram Bot API server has no %s (older than Bot API 10.1): "
                "cards go as text, formulas as Unicode",
                SEND_RICH,
            )
        self.missing = True
        return True

    async def send(
        self, chat_id: int, html: str, markup: InlineKeyboardMarkup | None
    ) -> Message | None:
        """Send one rich message; None when it was not sent and the caller should send
        today's text: the server lacks the method (remembered), or refused this message."""
        if self.missing or not 0 < rich_length(html) <= RICH_LIMIT:
            return None
        bot = self.sender.bot
        kwargs: dict[str, Any] = {"chat_id": chat_id, "rich_message": {"html": html}}
        if markup is not None:
            kwargs["reply_markup"] = markup
        try:
            sent = await self.sender.call(
                lambda: bot.do_api_request(SEND_RICH, api_kwargs=kwargs, return_type=Message)
            )
        except (EndPointNotFound, InvalidToken, BadRequest) as exc:
            if self._lacking(exc):
                return None
            if not isinstance(exc, BadRequest):
                raise
            log.info("telegram refused a rich message in chat %s (%s); sending text", chat_id, exc)
            return None
        if not isinstance(sent, Message):  # pragma: no cover - Telegram returns the Message
            raise TypeError(f"{SEND_RICH} returned {type(sent).__name__}")
        self._remember(sent, html)
        return sent

    async def edit(self, message: Message, html: str, markup: InlineKeyboardMarkup | None) -> bool:
        """Edit a rich message into ``html`` (``editMessageText`` with ``rich_message``);
        False when Telegram refused (the caller replaces the message instead)."""
        if self.missing or not 0 < rich_length(html) <= RICH_LIMIT:
            return False
        bot = self.sender.bot
        try:
            edited = await self.sender.call(
                lambda: bot.edit_message_text(
                    "",
                    chat_id=message.chat_id,
                    message_id=message.message_id,
                    reply_markup=markup,
                    api_kwargs={"text": None, "rich_message": {"html": html}},
                )
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            if not self._lacking(exc):
                log.info("telegram refused to edit a rich message (%s); replacing it", exc)
            return False
        self._remember(edited, html)
        return True

    # ------------------------------------------------------------------ Sender's steps

    async def send_reply(
        self, chat_id: int, reply: Reply, progress: Progress | None
    ) -> list[Message] | None:
        """Send a card as one rich message; None when it goes as today's text instead
        (not a rich card, no such method, refused). A push resumed after messages an
        earlier try delivered was text then (a rich card is one message): it stays text."""
        if self.missing or (progress is not None and progress.skip):
            return None
        html = reply_rich_html(reply)
        if html is None:
            return None
        sent = await self.send(chat_id, html, self.sender.markup(reply, chat_id))
        if sent is None:
            return None
        if progress is not None:
            progress.seen += 1
            progress.delivered += 1
        return [sent]

    async def show_in_place(self, message: Message | None, chat_id: int, reply: Reply) -> bool:
        """The reveal of a rich card: the tapped rich message edited into ``reply``, or
        replaced by it. False (nothing done) when the tapped message is not rich."""
        if message is None or not is_rich(message):
            return False
        html = reply_rich_html(reply, text=True)
        markup = self.sender.markup(reply, message.chat_id)
        if html is not None and await self.edit(message, html, markup):
            return True
        await self.sender.send_reply(chat_id, reply)
        await self.sender.delete(message)
        return True

    async def replace_with(self, message: Message | None, chat_id: int, reply: Reply) -> bool:
        """The next card in the rated card's place when either is rich: an edit between
        rich messages, else the new one sent and the old one deleted. False (nothing done)
        when neither is rich, or the reply is no plain card or text."""
        if message is None or carries_media(reply):
            return False
        if not is_rich(message):
            sent = await self.send_reply(chat_id, reply, None)
            if sent is None:
                return False  # not sent rich: today's path edits the tapped message
            await self.sender.delete(message)
            return True
        return await self.show_in_place(message, chat_id, reply)

    async def close(self, message: Message | None, chat_id: int, note: str) -> bool:
        """Close a tapped rich card with a note: the card edited with the note added in
        italics and no buttons; when its HTML is not known here (sent before a restart) or
        the edit is refused, its buttons go and the note is sent. False when not rich."""
        if message is None or not is_rich(message) or not note.strip():
            return False
        known = self._html.get((message.chat_id, message.message_id))
        if known is not None:
            closed = f"{known}<p><i>{rich_inline(' '.join(note.split()))}</i></p>"
            if await self.edit(message, closed, None):
                return True
        try:
            await self.sender._remove_keyboard(message)
        except TelegramError as exc:
            log.info("could not remove a telegram keyboard: %s", exc)
        await self.sender.close(None, chat_id, note)
        return True
