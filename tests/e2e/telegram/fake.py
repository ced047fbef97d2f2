"""A fake Telegram Bot API behind python-telegram-bot's HTTP layer, and raw update builders.

:class:`FakeBotAPI` subclasses ``telegram.request.BaseRequest``: the real
``Application`` and ``Bot`` run unchanged and only the HTTP round trip is
replaced. It answers like Telegram does where it matters to the adapter:

* ``getMe`` with ``is_bot``; ``getUpdates`` long-polls (waits until cancelled);
* ``getChatMember`` answers with the status a test set (:meth:`FakeBotAPI.set_member`),
  "member" otherwise;
* messages get ids per chat and are kept, so edits apply to them and a callback
  query can quote the message as it is now; ``editMessageMedia`` replaces a photo's
  picture (uploaded, or by a file id it gave) and its caption, and refuses a message
  without media;
* HTML is parsed as Telegram parses it: only its tags, every ``<`` and ``&``
  escaped, tags balanced ("can't parse entities" otherwise); limits are counted
  in UTF-16 units after parsing (4096 text, 1024 caption); callback data must be
  1-64 bytes; an edit that changes nothing is "message is not modified"; a
  callback query can be answered once, with at most 200 characters of text;
* files people send (:meth:`FakeBotAPI.add_file`) are served as Telegram serves them:
  ``getFile`` answers with a ``file_path`` (400 "file is too big" over the 20 MB bots
  may download, 400 "invalid file_id" for an unknown one), and the file server,
  ``GET /file/bot<token>/<file_path>``, with the bytes (404 for a path it never gave
  or another token); each download is recorded as a call to the endpoint
  ``download`` (its ``file_path`` as the parameter), and can be made to fail too;
* ``sendChatAction`` takes the actions Telegram knows (400 for any other);
* ``sendPoll`` checks a poll as Telegram does (question 1-300 characters, 2-10 options
  of 1-100 characters, explanation at most 200 after its HTML, ``correct_option_ids``
  for a quiz) and answers with Bot API 10.0's poll (``allows_revoting``,
  ``members_only``, options' ``persistent_id``); ``stopPoll`` closes it once;
* ``sendRichMessage`` (Bot API 10.1) is answered as :func:`rich_message_call` says:
  its HTML checked against the rich subset and the 32,768-character limit, the
  message kept with a ``rich_message`` (blocks) and no ``text``, editable with
  ``editMessageText`` + ``rich_message``; with ``rich = False`` the fake is an older
  (or self-hosted) server: 404 "Not Found: method not found";
* failures can be injected for chosen calls: 429 with ``retry_after``, 403
  "bot was blocked by the user", 403 "bot can't initiate conversation", 401
  "Unauthorized", 409 "Conflict", or a network error; a group where the bot may not
  post answers 400 "not enough rights to send text messages to the chat" ("no_rights")
  or 403 "bot was kicked from the supergroup chat" ("kicked");
* ephemeral messages (Bot API 10.2, :attr:`FakeBotAPI.ephemeral`): a send with
  ``receiver_user_id`` (or 10.3's ``ephemeral_message_parameters``) to a group is kept
  apart (:meth:`FakeBotAPI.ephemeral_in`), seen by that member alone, with
  ``ephemeral_message_id`` and ``receiver_user`` and ``message_id`` 0; the
  ``editEphemeralMessage…`` methods and ``deleteEphemeralMessage`` act on it for its
  receiver only, and edits keep it theirs. A server that refuses the parameter
  (``"refuse"``: 400, and no such methods) and one that ignores it (``"ignore"``: the
  message goes to the whole group) can be chosen. A member's own message can be put in a
  chat (:meth:`FakeBotAPI.add_member_message`); deleting it needs the right to delete
  messages there (:attr:`FakeBotAPI.can_delete_in`), else 400 "message can't be deleted".

Every call is recorded with its endpoint, parameters and uploaded files.
"""

from __future__ import annotations

import asyncio
import html
import itertools
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote

from telegram.error import NetworkError
from telegram.request import BaseRequest, RequestData

BOT_ID = 5550001
BOT_USERNAME = "studybot_test_bot"
TOKEN = "5550001:TEST-token-must-never-be-logged"
#: What an inline keyboard button does: each button has exactly one of these fields.
BUTTON_KINDS = (
    "callback_data",
    "url",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
START = 1_767_000_000  # a Telegram date: seconds since the epoch
#: The largest file a bot may download (getFile refuses larger ones: "file is too big").
DOWNLOAD_LIMIT = 20 * 1024 * 1024
#: The endpoint a file download is recorded as (it is no Bot API method).
DOWNLOAD = "download"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)

_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
_TAG_RE = re.compile(r"</?([a-zA-Z-]+)(\s[^<>]*)?>")
_ENTITY_RE = re.compile(r"&(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")


class TelegramHTMLError(ValueError):
    """What Telegram answers with "can't parse entities"."""


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text = ""
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _TAGS:
            raise TelegramHTMLError(f'unsupported start tag "{tag}"')
        self.stack.append((tag, utf16(self.text), dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise TelegramHTMLError(f'unmatched end tag "{tag}"')
        name, start, attrs = self.stack.pop()
        length = utf16(self.text) - start
        if length == 0:
            return
        kind = _TAGS[name]
        if name == "code" and self.stack and self.stack[-1][0] == "pre":
            return
        entity: dict[str, Any] = {"type": kind, "offset": start, "length": length}
        if name == "a":
            entity["url"] = attrs.get("href") or ""
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.text += data


def parse_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML strictly: returns (text, entities) or raises TelegramHTMLError."""
    for m in re.finditer(r"<", markup):
        tag = _TAG_RE.match(markup, m.start())
        if tag is None or tag.group(1).lower() not in _TAGS:
            raise TelegramHTMLError(f"unexpected '<' at byte offset {m.start()}")
    for m in re.finditer(r"&", markup):
        if _ENTITY_RE.match(markup, m.start()) is None:
            raise TelegramHTMLError(f"unexpected '&' at byte offset {m.start()}")
    parser = _Parser()
    parser.feed(markup)
    parser.close()
    if parser.stack:
        raise TelegramHTMLError(f'unclosed tag "{parser.stack[-1][0]}"')
    return parser.text, sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))


@dataclass
class Call:
    """One request the bot made."""

    endpoint: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes, str]] = field(default_factory=dict)
    #: Which client made it, when a test tells them apart (see tests/e2e/process).
    client: str = ""

    @property
    def chat_id(self) -> int | None:
        value = self.params.get("chat_id")
        return int(value) if value is not None else None

    @property
    def html(self) -> str:
        """The text or caption as sent (HTML), or a rich message's HTML."""
        rich = rich_html_of(self.params)
        if rich is not None:
            return rich
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def plain(self) -> str:
        """The text or caption as the user sees it (a rich message's text too)."""
        if rich_html_of(self.params) is not None:
            try:
                return parse_rich_html(self.html)[0]
            except TelegramHTMLError:
                return self.html
        return parse_html(self.html)[0] if self.params.get("parse_mode") == "HTML" else self.html

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """(label, callback_data) of the inline keyboard sent, in order (a link's or a
        Mini App's address in place of the data)."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [
            (b["text"], b.get("callback_data", b.get("url", b.get("web_app", {}).get("url", ""))))
            for row in markup.get("inline_keyboard", [])
            for b in row
        ]


@dataclass
class SentFile:
    """A file a person sent: its bytes, and the size Telegram says it has."""

    file_id: str
    data: bytes
    size: int
    file_path: str


@dataclass
class Failure:
    """An injected failure for the next ``times`` calls matching endpoint (and chat)."""

    endpoint: str
    kind: str
    chat_id: int | None = None
    times: int = 1
    retry_after: float = 0.01

    def matches(self, endpoint: str, params: dict[str, Any]) -> bool:
        if self.times <= 0 or endpoint != self.endpoint:
            return False
        return self.chat_id is None or int(params.get("chat_id", 0)) == self.chat_id


class FakeBotAPI(BaseRequest):
    """A Bot API that lives in memory (see the module docstring)."""

    def __init__(self, *, username: str = BOT_USERNAME, token: str = TOKEN) -> None:
        self.username = username
        #: The one token the file server takes (the Bot API methods are not checked here).
        self.token = token
        #: file_id -> a file people sent (:meth:`add_file`).
        self.files: dict[str, SentFile] = {}
        self.calls: list[Call] = []
        self.failures: list[Failure] = []
        #: (chat_id, message_id) -> the message as Telegram holds it now.
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.answered: set[str] = set()
        self._ids: dict[int, itertools.count[int]] = {}
        self._file_ids = itertools.count(1)
        self.clock: Callable[[], int] = lambda: START
        #: (chat_id, user_id) -> "creator", "administrator", "member" or "left".
        self.members: dict[tuple[int, int], str] = {}
        #: Requests refused for breaking a limit or Telegram's HTML (each its description).
        self.violations: list[str] = []
        #: poll id -> (chat id, message id) of the polls sent (:meth:`_poll`).
        self.polls: dict[str, tuple[int, int]] = {}
        #: Whether this server has Bot API 10.1's ``sendRichMessage`` (False: an older one).
        self.rich = True
        #: How the server treats ``receiver_user_id``: "on" (Bot API 10.2+), "refuse" or
        #: "ignore" (an older server: the message goes to everyone).
        self.ephemeral = "on"
        #: (chat_id, ephemeral_message_id) -> an ephemeral message as its receiver sees it.
        self.ephemerals: dict[tuple[int, int], dict[str, Any]] = {}
        self._ephemeral_ids = itertools.count(7001)
        #: Groups where the bot may delete members' messages.
        self.can_delete_in: set[int] = set()

    # ------------------------------------------------------------------ BaseRequest

    @property
    def read_timeout(self) -> float | None:
        return 5.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:  # the file server: /file/bot<token>/<file_path>
            token, _, file_path = url.split("/file/bot", 1)[1].partition("/")
            return await self.download(token, file_path)
        endpoint = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes, str]] = {}
        if request_data is not None and request_data.contains_files:
            for name, value in request_data.multipart_data.items():
                data = value[1]
                raw = data if isinstance(data, bytes) else data.read()
                files[name] = (value[0] or "", raw, value[2] if len(value) > 2 else "")
        return await self.call(endpoint, params, files)

    async def call(
        self,
        endpoint: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        *,
        client: str = "",
    ) -> tuple[int, bytes]:
        """Answer one Bot API method as Telegram would: (HTTP status, JSON body).

        ``params`` are the decoded parameters (ids as numbers, markup as objects);
        ``files`` maps a field name to (file name, bytes, MIME type); ``client`` names
        the caller in the record. The call is recorded (a long poll aside) and may meet
        an injected failure.
        """
        files = files or {}
        if endpoint != "getUpdates" or not params.get("timeout"):
            self.calls.append(Call(endpoint, params, files, client))
        for failure in self.failures:
            if failure.matches(endpoint, params):
                failure.times -= 1
                return self._failure(failure)
        try:
            result = await self._handle(endpoint, params, files)
        except _ApiError as err:
            if err.violation:
                self.violations.append(f"{endpoint}: {err.description}")
            return err.code, _error(err.code, err.description)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    async def download(self, token: str, file_path: str, *, client: str = "") -> tuple[int, bytes]:
        """Answer a GET of ``/file/bot<token>/<file_path>`` as Telegram's file server does:
        (HTTP status, body). Recorded as a call to :data:`DOWNLOAD`; may meet an injected
        failure ("network" included)."""
        params: dict[str, Any] = {"file_path": file_path}
        self.calls.append(Call(DOWNLOAD, params, client=client))
        for failure in self.failures:
            if failure.matches(DOWNLOAD, params):
                failure.times -= 1
                return self._failure(failure)
        token, file_path = unquote(token), unquote(file_path)  # sent percent-encoded
        found = next((f for f in self.files.values() if f.file_path == file_path), None)
        if token != self.token or found is None:
            return 404, _error(404, "Not Found")
        return 200, found.data

    # ------------------------------------------------------------------ helpers for tests

    def add_file(self, data: bytes, *, size: int | None = None) -> str:
        """A file a person sends: its file id (for :meth:`Updates.document`). ``size`` is
        what Telegram says it has (its length by default)."""
        number = next(self._file_ids)
        file_id = f"file-{number}"
        self.files[file_id] = SentFile(
            file_id, data, len(data) if size is None else size, f"documents/file_{number}"
        )
        return file_id

    def add_photo(self, file_id: str, data: bytes) -> None:
        """A photo a person sends, under the file id its message names (its download is
        what a challenge answer keeps)."""
        self.files[file_id] = SentFile(file_id, data, len(data), f"photos/{file_id}.jpg")

    def downloads(self) -> list[Call]:
        """The getFile calls and file downloads so far, in order."""
        return self.sent(f"getFile|{DOWNLOAD}")

    def fail(
        self,
        endpoint: str,
        kind: str,
        *,
        chat_id: int | None = None,
        times: int = 1,
        retry_after: float = 0.01,
    ) -> Failure:
        """Make the next ``times`` matching calls fail: "429", "blocked", "never_started",
        "network", "bad_request", "unauthorized" (a rejected token), "conflict" (another
        poller), "no_rights" or "kicked" (a group where the bot may not post), "no_polls" (a
        group where it may post but not send polls)."""
        failure = Failure(endpoint, kind, chat_id, times, retry_after)
        self.failures.append(failure)
        return failure

    def sent(self, endpoint: str | None = None, chat_id: int | None = None) -> list[Call]:
        """Recorded calls, optionally for one endpoint (or several, "a|b") and one chat."""
        wanted = set(endpoint.split("|")) if endpoint else None
        return [
            c
            for c in self.calls
            if (wanted is None or c.endpoint in wanted)
            and (chat_id is None or c.chat_id == chat_id)
        ]

    def messages_in(self, chat_id: int) -> list[dict[str, Any]]:
        """The chat's messages as they are now, oldest first."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id]

    def last_message(self, chat_id: int) -> dict[str, Any]:
        found = self.messages_in(chat_id)
        assert found, f"no message in chat {chat_id}"
        return found[-1]

    def message_with_button(self, chat_id: int, label_prefix: str) -> dict[str, Any]:
        """The newest message in the chat with a button whose label starts with the prefix."""
        for message in self.messages_in(chat_id)[::-1]:
            rows = message.get("reply_markup", {}).get("inline_keyboard", [])
            if any(str(b["text"]).startswith(label_prefix) for row in rows for b in row):
                return message
        raise AssertionError(f"no message with a {label_prefix!r} button in chat {chat_id}")

    def clear(self) -> None:
        self.calls.clear()

    def set_member(self, chat_id: int, user_id: int, status: str) -> None:
        """What getChatMember says about a user in a chat: "creator", "administrator",
        "member" (the default) or "left"."""
        assert status in ("creator", "administrator", "member", "left"), status
        self.members[(chat_id, user_id)] = status

    # ------------------------------------------------------------------ the API

    def _failure(self, failure: Failure) -> tuple[int, bytes]:
        if failure.kind == "429":
            body = {
                "ok": False,
                "error_code": 429,
                "description": f"Too Many Requests: retry after {failure.retry_after}",
                "parameters": {"retry_after": failure.retry_after},
            }
            return 429, json.dumps(body).encode()
        if failure.kind == "blocked":
            return 403, _error(403, "Forbidden: bot was blocked by the user")
        if failure.kind == "never_started":
            return 403, _error(403, "Forbidden: bot can't initiate conversation with a user")
        if failure.kind == "network":
            raise NetworkError("connection reset by fake peer")
        if failure.kind == "bad_request":
            return 400, _error(400, "Bad Request: can't parse entities: unexpected end tag")
        if failure.kind == "no_rights":
            return 400, _error(
                400, "Bad Request: not enough rights to send text messages to the chat"
            )
        if failure.kind == "no_polls":
            return 400, _error(400, "Bad Request: not enough rights to send polls to the chat")
        if failure.kind == "kicked":
            return 403, _error(403, "Forbidden: bot was kicked from the supergroup chat")
        if failure.kind == "unauthorized":
            return 401, _error(401, "Unauthorized")
        if failure.kind == "conflict":
            return 409, _error(409, "Conflict: terminated by other getUpdates request")
        raise AssertionError(failure.kind)

    def _next_id(self, chat_id: int) -> int:
        return next(self._ids.setdefault(chat_id, itertools.count(1)))

    async def _handle(
        self, endpoint: str, params: dict[str, Any], files: dict[str, tuple[str, bytes, str]]
    ) -> Any:
        done, result = await self._one_member(endpoint, params, files)
        if done:
            return result
        if endpoint == "getMe":
            return {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Study Bot",
                "username": self.username,
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        if endpoint == "getUpdates":
            if params.get("timeout"):
                await asyncio.Event().wait()  # a long poll: cancelled when polling stops
            return []
        if endpoint in ("deleteWebhook", "setWebhook", "setMyCommands"):
            return True
        if endpoint == "getChatMember":
            return self._chat_member(int(params["chat_id"]), int(params["user_id"]))
        if endpoint == "getFile":
            return self._get_file(str(params.get("file_id", "")))
        if endpoint == "sendChatAction":
            if params.get("action") not in CHAT_ACTIONS:
                raise _ApiError(400, "Bad Request: wrong parameter action in request")
            return True
        if endpoint == "answerCallbackQuery":
            query_id = str(params["callback_query_id"])
            if query_id in self.answered:
                raise _ApiError(
                    400,
                    "Bad Request: query is too old and response timeout expired or "
                    "query ID is invalid",
                )
            if utf16(str(params.get("text") or "")) > 200:
                raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG", violation=True)
            self.answered.add(query_id)
            return True
        if endpoint == "sendRichMessage" or (
            endpoint == "editMessageText" and "rich_message" in params
        ):
            return rich_message_call(self, endpoint, params)
        if endpoint == "sendMessage":
            message = self._new_message(params)
            self._set_text(message, params, "text", 4096)
            return message
        if endpoint == "sendPhoto":
            message = self._new_message(params)
            photo = params.get("photo")
            if "photo" in files:
                file_id = f"photo-{next(self._file_ids)}"
            elif isinstance(photo, str) and photo.startswith("photo-"):
                file_id = photo
            else:
                raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            message["photo"] = [
                {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 320, "height": 240}
            ]
            if params.get("caption"):
                self._set_text(message, params, "caption", 1024)
            return message
        if endpoint == "sendDocument":
            message = self._new_message(params)
            name = files["document"][0] if "document" in files else "file"
            message["document"] = {"file_id": "doc-1", "file_unique_id": "udoc", "file_name": name}
            if params.get("caption"):
                self._set_text(message, params, "caption", 1024)
            return message
        if endpoint == "deleteMessage":
            key = (int(params["chat_id"]), int(params["message_id"]))
            if self.messages.pop(key, None) is None:
                raise _ApiError(400, "Bad Request: message to delete not found")
            return True
        if endpoint in (
            "editMessageText",
            "editMessageCaption",
            "editMessageReplyMarkup",
            "editMessageMedia",
        ):
            return self._edit(endpoint, params, files)
        if endpoint in ("sendPoll", "stopPoll"):
            return self._poll(endpoint, params)
        raise _ApiError(404, "Not Found")

    def _get_file(self, file_id: str) -> dict[str, Any]:
        found = self.files.get(file_id)
        if found is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if found.size > DOWNLOAD_LIMIT:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": f"u{file_id}",
            "file_size": found.size,
            "file_path": found.file_path,
        }

    def _chat_member(self, chat_id: int, user_id: int) -> dict[str, Any]:
        if chat_id > 0:
            raise _ApiError(
                400, "Bad Request: chat member status can't be requested in private chats"
            )
        status = self.members.get((chat_id, user_id), "member")
        member: dict[str, Any] = {
            "status": status,
            "user": {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"},
        }
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                }
            )
        return member

    def _new_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": self._next_id(chat_id),
            "date": self.clock(),
            "chat": {"id": chat_id, "type": "private"}
            if chat_id > 0
            else {"id": chat_id, "type": "supergroup", "title": "Study group"},
            "from": {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Study Bot",
                "username": self.username,
            },
        }
        markup = self._markup(params)
        if markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _markup(self, params: dict[str, Any]) -> dict[str, Any] | None:
        """The message's keyboard, checked as Telegram checks it: callback data of 1-64
        bytes; exactly one kind per button; a Mini App (``web_app``) button only in a
        private chat, opening an https address."""
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if not markup:
            return None
        private = int(params.get("chat_id", 0)) > 0
        for row in markup.get("inline_keyboard", []):
            for button in row:
                kinds = [k for k in BUTTON_KINDS if k in button]
                if len(kinds) != 1:
                    raise _ApiError(400, "Bad Request: BUTTON_TYPE_INVALID", violation=True)
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID", violation=True)
                web_app = button.get("web_app")
                if web_app is not None:
                    if not private:
                        raise _ApiError(400, "Bad Request: BUTTON_TYPE_INVALID", violation=True)
                    if not str(web_app.get("url", "")).startswith("https://"):
                        raise _ApiError(400, "Bad Request: BUTTON_URL_INVALID", violation=True)
        return dict(markup)

    def _set_text(
        self, message: dict[str, Any], params: dict[str, Any], key: str, limit: int
    ) -> None:
        raw = str(params.get(key) or "")
        if params.get("parse_mode") == "HTML":
            try:
                text, entities = parse_html(raw)
            except TelegramHTMLError as exc:
                raise _ApiError(
                    400, f"Bad Request: can't parse entities: {exc}", violation=True
                ) from None
        else:
            text, entities = raw, []
        if key == "text" and not text.strip():
            raise _ApiError(400, "Bad Request: message text is empty", violation=True)
        if utf16(text) > limit:
            what = "message caption is too long" if key == "caption" else "message is too long"
            raise _ApiError(400, f"Bad Request: {what}", violation=True)
        message[key] = text
        entity_key = "entities" if key == "text" else "caption_entities"
        if entities:
            message[entity_key] = entities
        else:
            message.pop(entity_key, None)

    def _photo_file_id(self, media: Any, files: dict[str, tuple[str, bytes, str]]) -> str:
        """The file id of a photo given as ``attach://<field>`` (an upload) or a file id."""
        if isinstance(media, str) and media.startswith("attach://"):
            if media.removeprefix("attach://") not in files:
                raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
            return f"photo-{next(self._file_ids)}"
        if isinstance(media, str) and media.startswith("photo-"):
            return media
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    def _edit(
        self,
        endpoint: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
    ) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise _ApiError(400, "Bad Request: message to edit not found")
        before = json.dumps(self.messages[key], sort_keys=True)
        message: dict[str, Any] = json.loads(before)
        if endpoint == "editMessageMedia":
            if not any(k in message for k in ("photo", "document", "video", "animation")):
                raise _ApiError(400, "Bad Request: there is no media in the message to edit")
            media = params.get("media")
            if isinstance(media, str):
                media = json.loads(media)
            if not isinstance(media, dict) or media.get("type") != "photo":
                raise _ApiError(400, "Bad Request: can't parse InputMedia: unsupported type")
            file_id = self._photo_file_id(media.get("media"), files or {})
            message.pop("document", None)
            message["photo"] = [
                {"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 320, "height": 240}
            ]
            if media.get("caption"):
                self._set_text(message, media, "caption", 1024)
            else:
                message.pop("caption", None)
                message.pop("caption_entities", None)
        elif endpoint == "editMessageText":
            if "text" not in message:
                raise _ApiError(400, "Bad Request: there is no text in the message to edit")
            self._set_text(message, params, "text", 4096)
        elif endpoint == "editMessageCaption":
            if "photo" not in message and "document" not in message:
                raise _ApiError(400, "Bad Request: there is no caption in the message to edit")
            self._set_text(message, params, "caption", 1024)
        markup = self._markup(params)
        if markup:
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        message["edit_date"] = self.clock()
        if json.dumps({**message, "edit_date": None}, sort_keys=True) == json.dumps(
            {**json.loads(before), "edit_date": None}, sort_keys=True
        ):
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same as a current content and reply markup "
                "of the message",
            )
        self.messages[key] = message
        return message

    # ------------------------------------------------------------------ polls

    def poll_message(self, poll_id: str) -> dict[str, Any]:
        """The message of a poll the bot sent, as it is now."""
        return self.messages[self.polls[poll_id]]

    def _poll(self, endpoint: str, params: dict[str, Any]) -> dict[str, Any]:
        """sendPoll and stopPoll, with Telegram's checks and Bot API 10.0's poll."""
        if endpoint == "stopPoll":
            key = (int(params["chat_id"]), int(params["message_id"]))
            message = self.messages.get(key)
            if message is None or "poll" not in message:
                raise _ApiError(400, "Bad Request: message with poll to stop not found")
            poll: dict[str, Any] = message["poll"]
            if poll["is_closed"]:
                raise _ApiError(400, "Bad Request: poll has already been closed")
            poll["is_closed"] = True
            return poll
        question = str(params.get("question") or "")
        if not 1 <= utf16(question) <= 300:
            raise _ApiError(400, "Bad Request: poll question length must be 1-300", violation=True)
        options = [o if isinstance(o, str) else o["text"] for o in _json(params.get("options"))]
        if not 2 <= len(options) <= 10:
            raise _ApiError(400, "Bad Request: poll must have 2-10 options", violation=True)
        if any(not 1 <= utf16(o) <= 100 for o in options):
            raise _ApiError(400, "Bad Request: poll options length must be 1-100", violation=True)
        kind = params.get("type") or "regular"
        correct = _json(params.get("correct_option_ids")) or []
        if kind == "quiz" and (
            len(correct) != 1 or not all(0 <= int(i) < len(options) for i in correct)
        ):
            raise _ApiError(400, "Bad Request: wrong correct option ids", violation=True)
        explanation = str(params.get("explanation") or "")
        entities: list[dict[str, Any]] = []
        if explanation and params.get("explanation_parse_mode") == "HTML":
            try:
                explanation, entities = parse_html(explanation)
            except TelegramHTMLError as exc:
                raise _ApiError(
                    400, f"Bad Request: can't parse explanation entities: {exc}", violation=True
                ) from None
        if utf16(explanation) > 200 or explanation.count("\n") > 2:
            raise _ApiError(400, "Bad Request: poll explanation is too long", violation=True)
        message = self._new_message(params)
        poll_id = f"50{len(self.polls) + 1:017d}"
        message["poll"] = {
            "id": poll_id,
            "question": question,
            "options": [
                {"text": o, "voter_count": 0, "persistent_id": str(i)}
                for i, o in enumerate(options)
            ],
            "total_voter_count": 0,
            "is_closed": False,
            "is_anonymous": _json(params.get("is_anonymous", True)) is not False,
            "type": kind,
            "allows_multiple_answers": False,
            "allows_revoting": bool(_json(params.get("allows_revoting", False))),
            "members_only": bool(_json(params.get("members_only", False))),
            "correct_option_ids": [int(i) for i in correct],
        }
        if explanation:
            message["poll"]["explanation"] = explanation
            if entities:
                message["poll"]["explanation_entities"] = entities
        self.polls[poll_id] = (int(params["chat_id"]), message["message_id"])
        return message

    # ------------------------------------------------------------------ ephemeral messages

    def ephemeral_in(self, chat_id: int, user_id: int | None = None) -> list[dict[str, Any]]:
        """The ephemeral messages in a group (for one receiver), oldest first."""
        return [
            m
            for (c, _), m in sorted(self.ephemerals.items())
            if c == chat_id and (user_id is None or m["receiver_user"]["id"] == user_id)
        ]

    def add_member_message(self, update: dict[str, Any]) -> None:
        """Keep a member's message (an update from :class:`Updates`) as Telegram holds it,
        so that the bot may delete it."""
        message = update["message"]
        self.messages[(int(message["chat"]["id"]), int(message["message_id"]))] = message

    async def _one_member(
        self, endpoint: str, params: dict[str, Any], files: dict[str, tuple[str, bytes, str]]
    ) -> tuple[bool, Any]:
        """Ephemeral sends, edits and deletions, and deleting a member's message; (False,
        None) for every other call."""
        if endpoint == "deleteMessage":
            key = (int(params["chat_id"]), int(params["message_id"]))
            found = self.messages.get(key)
            theirs = found is not None and found.get("from", {}).get("id") != BOT_ID
            if theirs and key[0] not in self.can_delete_in:
                raise _ApiError(400, "Bad Request: message can't be deleted")
            return False, None
        if endpoint.startswith("editEphemeralMessage") or endpoint == "deleteEphemeralMessage":
            if self.ephemeral != "on":
                raise _ApiError(404, "Not Found")
            return True, self._ephemeral_edit(endpoint, params, files)
        receiver = params.get("receiver_user_id")
        wrapped = params.get("ephemeral_message_parameters")
        if isinstance(wrapped, str):
            wrapped = json.loads(wrapped)
        if receiver is None and isinstance(wrapped, dict):
            receiver = wrapped.get("receiver_user_id")
        if receiver is None:
            return False, None
        if self.ephemeral == "refuse":
            raise _ApiError(400, "Bad Request: unknown parameter receiver_user_id")
        if self.ephemeral == "ignore":
            return False, None
        chat_id = int(params["chat_id"])
        if chat_id > 0:
            raise _ApiError(400, "Bad Request: ephemeral messages can be sent only to groups")
        plain = {
            k: v
            for k, v in params.items()
            if k not in ("receiver_user_id", "ephemeral_message_parameters")
        }
        message = await self._handle(endpoint, plain, files)
        del self.messages[(chat_id, message["message_id"])]
        eid = next(self._ephemeral_ids)
        message.update(
            message_id=0,
            ephemeral_message_id=eid,
            receiver_user={"id": int(receiver), "is_bot": False, "first_name": f"User {receiver}"},
        )
        self.ephemerals[(chat_id, eid)] = message
        return True, message

    def _ephemeral_edit(
        self, endpoint: str, params: dict[str, Any], files: dict[str, tuple[str, bytes, str]]
    ) -> bool:
        key = (int(params["chat_id"]), int(params["ephemeral_message_id"]))
        found = self.ephemerals.get(key)
        if found is None or found["receiver_user"]["id"] != int(params["receiver_user_id"]):
            raise _ApiError(400, "Bad Request: message to edit not found")
        if endpoint == "deleteEphemeralMessage":
            del self.ephemerals[key]
            return True
        plain = endpoint.replace("editEphemeralMessage", "editMessage")
        kept = self.messages
        self.messages = {(key[0], 0): found}
        try:
            edited = self._edit(plain, {**params, "message_id": 0}, files)
        finally:
            self.messages = kept
        self.ephemerals[key] = edited
        return True


def _json(value: Any) -> Any:
    """A parameter PTB sent JSON-encoded (lists, booleans) as its value."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


class _ApiError(Exception):
    def __init__(self, code: int, description: str, *, violation: bool = False) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        #: The bot broke a limit or sent malformed HTML (never right, whatever the input).
        self.violation = violation


def _error(code: int, description: str) -> bytes:
    return json.dumps({"ok": False, "error_code": code, "description": description}).encode()


# ---------------------------------------------------------------------- raw updates


@dataclass
class TgUser:
    """A Telegram account; its private chat with the bot has the same id."""

    id: int
    first_name: str
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "is_bot": False,
            "first_name": self.first_name,
            "language_code": "en",
        }
        if self.username:
            data["username"] = self.username
        return data


class Updates:
    """Builds raw update JSON as Telegram sends it (ids increase; dates are seconds)."""

    def __init__(self, clock: Callable[[], int] = lambda: START) -> None:
        self._update_ids = itertools.count(900_000)
        self._message_ids = itertools.count(10_000)
        self._query_ids = itertools.count(1)
        self.clock = clock

    @staticmethod
    def chat(chat_id: int, user: TgUser | None = None) -> dict[str, Any]:
        if chat_id > 0:
            assert user is not None
            return {"id": chat_id, "type": "private", "first_name": user.first_name}
        return {"id": chat_id, "type": "supergroup", "title": "Study group"}

    def message(self, user: TgUser, text: str, chat_id: int | None = None) -> dict[str, Any]:
        """A text message (a command gets its bot_command entity, UTF-16 offsets)."""
        chat_id = user.id if chat_id is None else chat_id
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": self.clock(),
            "chat": self.chat(chat_id, user),
            "from": user.as_json(),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16(command)}]
        return {"update_id": next(self._update_ids), "message": message}

    def photo(
        self,
        user: TgUser,
        file_ids: Sequence[str],
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """A photo message: one size per file id, smallest first (as Telegram lists them)."""
        chat_id = user.id if chat_id is None else chat_id
        sizes = [
            {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "width": 90 * 4**n,
                "height": 60 * 4**n,
                "file_size": 1000 * 16**n,
            }
            for n, file_id in enumerate(file_ids)
        ]
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": self.clock(),
            "chat": self.chat(chat_id, user),
            "from": user.as_json(),
            "photo": sizes,
        }
        if caption:
            message["caption"] = caption
        return {"update_id": next(self._update_ids), "message": message}

    def document(
        self,
        user: TgUser,
        file_id: str,
        file_name: str | None,
        file_size: int | None,
        *,
        mime_type: str | None = None,
        chat_id: int | None = None,
    ) -> dict[str, Any]:
        """A file sent as a document (``file_name`` and ``file_size`` may be left out, as the
        Bot API allows)."""
        chat_id = user.id if chat_id is None else chat_id
        document: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}"}
        if file_name is not None:
            document["file_name"] = file_name
        if file_size is not None:
            document["file_size"] = file_size
        if mime_type is not None:
            document["mime_type"] = mime_type
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "date": self.clock(),
            "chat": self.chat(chat_id, user),
            "from": user.as_json(),
            "document": document,
        }
        return {"update_id": next(self._update_ids), "message": message}

    def poll_answer(self, user: TgUser, poll_id: str, option_ids: Sequence[int]) -> dict[str, Any]:
        """A member's answer to a non-anonymous poll of the fake API (no options: a
        retracted vote), with Bot API 10.0's ``option_persistent_ids`` (the fake gives
        option ``i`` the persistent id ``"i"``)."""
        return {
            "update_id": next(self._update_ids),
            "poll_answer": {
                "poll_id": poll_id,
                "user": user.as_json(),
                "option_ids": list(option_ids),
                "option_persistent_ids": [str(i) for i in option_ids],
            },
        }

    def reply(
        self,
        user: TgUser,
        text: str,
        to: dict[str, Any],
        *,
        ephemeral: bool = True,
        photo: str | None = None,
    ) -> dict[str, Any]:
        """The member replies in the group to the bot's ephemeral message ``to``: with
        ``ephemeral``, as a message the bot and they alone see (else everyone sees it);
        ``photo``: a photo's file id, ``text`` its caption."""
        chat_id = int(to["chat"]["id"])
        if photo is None:
            update = self.message(user, text, chat_id)
        else:
            update = self.photo(user, [photo], text or None, chat_id)
        message = update["message"]
        message["reply_to_message"] = to
        if ephemeral:
            message.update(
                message_id=0,
                ephemeral_message_id=next(self._message_ids),
                receiver_user={"id": BOT_ID, "is_bot": True, "first_name": "Study Bot"},
            )
        return update

    def callback(self, user: TgUser, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A tap on an inline button of ``message`` (as the fake API holds it now)."""
        receiver = message.get("receiver_user")
        assert receiver is None or receiver["id"] == user.id, "only its receiver sees it"
        return {
            "update_id": next(self._update_ids),
            "callback_query": {
                "id": f"cq{next(self._query_ids)}",
                "from": user.as_json(),
                "chat_instance": f"ci{message['chat']['id']}",
                "message": message,
                "data": data,
            },
        }


def button_data(message: dict[str, Any], label_prefix: str) -> str:
    """The callback data of the message's first button whose label starts with the prefix."""
    for row in message.get("reply_markup", {}).get("inline_keyboard", []):
        for b in row:
            if b["text"].startswith(label_prefix):
                return str(b["callback_data"])
    labels = [
        b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row
    ]
    raise AssertionError(f"no {label_prefix!r} button; buttons: {labels}")


def unescape(text: str) -> str:
    return html.unescape(text)


# ---------------------------------------------------------------------- rich messages (10.1)

#: Telegram's characters of text in a rich message, formula sources included.
RICH_LIMIT = 32_768
RICH_TABLE_COLUMNS = 20
#: The rich HTML subset: inline tags (inside text) and block tags (holding blocks or text).
RICH_INLINE = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "a", "tg-spoiler"}
    | {"tg-math", "sub", "sup", "mark"}
)
RICH_BLOCKS = frozenset(
    {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "aside", "footer"}
    | {"ul", "ol", "li", "table", "thead", "tbody", "tr", "th", "td", "details", "summary"}
    | {"tg-math-block"}
)
RICH_VOID = frozenset({"hr", "br"})
#: A tag of the rich subset (its names may hold digits: ``<h3>``).
_RICH_TAG_RE = re.compile(r"</?([a-zA-Z][a-zA-Z0-9-]*)(\s[^<>]*)?>")
#: Where a block must sit (its parent), when it may not go anywhere.
_RICH_PARENTS = {
    "li": {"ul", "ol"},
    "tr": {"table", "thead", "tbody"},
    "thead": {"table"},
    "tbody": {"table"},
    "td": {"tr"},
    "th": {"tr"},
    "summary": {"details"},
}
_RICH_BLOCK_TYPES = {
    "p": "paragraph",
    "pre": "preformatted",
    "blockquote": "block_quotation",
    "aside": "pull_quotation",
    "footer": "footer",
    "ul": "list",
    "ol": "list",
    "table": "table",
    "details": "details",
    "tg-math-block": "mathematical_expression",
    "hr": "divider",
}


def rich_html_of(params: dict[str, Any]) -> str | None:
    """The ``html`` of a call's ``rich_message`` (None without one)."""
    rich = params.get("rich_message")
    if isinstance(rich, str):
        rich = json.loads(rich)
    if not isinstance(rich, dict) or "html" not in rich:
        return None
    return str(rich["html"])


class _RichParser(HTMLParser):
    """Telegram's rich HTML, strictly: known tags, nested as blocks allow, balanced."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.blocks: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self.line = ""
        self.top_text = ""  # the text of the top-level block being read
        self.columns = 0

    def _break(self) -> None:
        if self.line.strip():
            self.lines.append(self.line.strip())
        self.line = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in RICH_VOID:
            self._break()
            if tag == "hr" and not self.stack:
                self.blocks.append({"type": "divider"})
            return
        if tag not in RICH_INLINE and tag not in RICH_BLOCKS:
            raise TelegramHTMLError(f'unsupported start tag "{tag}"')
        parent = self.stack[-1] if self.stack else None
        if tag in RICH_BLOCKS and parent in RICH_INLINE:
            raise TelegramHTMLError(f'block "{tag}" inside "{parent}"')
        if parent in ("tg-math", "tg-math-block", "code", "pre") and tag != "code":
            raise TelegramHTMLError(f'tag "{tag}" inside "{parent}"')
        wanted = _RICH_PARENTS.get(tag)
        if wanted is not None and parent not in wanted:
            raise TelegramHTMLError(f'"{tag}" outside {sorted(wanted)}')
        if parent in ("ul", "ol") and tag != "li":
            raise TelegramHTMLError(f'"{tag}" in a list')
        if parent in ("table", "thead", "tbody") and tag not in ("tr", "thead", "tbody"):
            raise TelegramHTMLError(f'"{tag}" in a table')
        if parent == "tr" and tag not in ("td", "th"):
            raise TelegramHTMLError(f'"{tag}" in a table row')
        if tag == "tr":
            self.columns = 0
        if tag in ("td", "th"):
            self.columns += 1
            if self.columns > RICH_TABLE_COLUMNS:
                raise TelegramHTMLError("too many table columns")
        if tag in RICH_BLOCKS and tag not in ("td", "th"):
            self._break()
        if not self.stack:
            self.top_text = ""
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in RICH_VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHTMLError(f'unmatched end tag "{tag}"')
        self.stack.pop()
        if tag in ("td", "th"):
            self.line += "\t"
        elif tag in RICH_BLOCKS:
            self._break()
        if not self.stack:
            kind = _RICH_BLOCK_TYPES.get(tag)
            if kind is None:
                kind = "section_heading" if tag.startswith("h") else "paragraph"
            if kind == "mathematical_expression":
                self.blocks.append({"type": kind, "expression": self.top_text.strip()})
            else:
                self.blocks.append({"type": kind, "text": self.top_text.strip()})

    def handle_data(self, data: str) -> None:
        if not self.stack and data.strip():
            raise TelegramHTMLError("text outside a block")
        self.line += data
        self.top_text += data


def parse_rich_html(markup: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse rich HTML as Telegram would: (the text a person reads, one line a block, table
    cells tab-separated; the top-level blocks), or raise TelegramHTMLError."""
    for m in re.finditer(r"<", markup):
        tag = _RICH_TAG_RE.match(markup, m.start())
        if tag is None:
            raise TelegramHTMLError(f"unexpected '<' at byte offset {m.start()}")
    for m in re.finditer(r"&", markup):
        if _ENTITY_RE.match(markup, m.start()) is None:
            raise TelegramHTMLError(f"unexpected '&' at byte offset {m.start()}")
    parser = _RichParser()
    parser.feed(markup)
    parser.close()
    if parser.stack:
        raise TelegramHTMLError(f'unclosed tag "{parser.stack[-1]}"')
    parser._break()
    return "\n".join(line.rstrip("\t") for line in parser.lines), parser.blocks


def rich_text(message: dict[str, Any]) -> str:
    """What a person reads in a message the fake holds: its text, caption or rich text."""
    if "rich_message" in message:
        return str(message["rich_message"].get("_text", ""))
    return str(message.get("text") or message.get("caption") or "")


def rich_message_call(api: FakeBotAPI, endpoint: str, params: dict[str, Any]) -> Any:
    """``sendRichMessage``, or ``editMessageText`` with a ``rich_message``, as Telegram
    answers them; an older server (``api.rich`` False) knows neither."""
    if not api.rich:
        if endpoint == "sendRichMessage":
            raise _ApiError(404, "Not Found: method not found")
        raise _ApiError(400, "Bad Request: message text is empty")
    rich = params.get("rich_message")
    if isinstance(rich, str):
        rich = json.loads(rich)
    if not isinstance(rich, dict) or sum(k in rich for k in ("html", "markdown", "blocks")) != 1:
        raise _ApiError(400, "Bad Request: can't parse rich message", violation=True)
    if "html" not in rich:
        raise AssertionError("the fake reads rich HTML only")
    try:
        text, blocks = parse_rich_html(str(rich["html"]))
    except TelegramHTMLError as exc:
        raise _ApiError(400, f"Bad Request: can't parse entities: {exc}", violation=True) from None
    if not text.strip():
        raise _ApiError(400, "Bad Request: message text is empty", violation=True)
    if len(text.replace("\n", "").replace("\t", "")) > RICH_LIMIT:
        raise _ApiError(400, "Bad Request: rich message is too long", violation=True)
    # As Telegram holds it: blocks (simplified to their text), no "text"; the "_text" key
    # is the fake's own, for tests to read what a person sees.
    content = {"blocks": blocks, "_text": text}
    if endpoint == "sendRichMessage":
        message = api._new_message(params)
        message["rich_message"] = content
        return message
    key = (int(params["chat_id"]), int(params["message_id"]))
    if key not in api.messages:
        raise _ApiError(400, "Bad Request: message to edit not found")
    message = dict(api.messages[key])
    if "rich_message" not in message:
        # Only a rich message is edited into rich content here (the bot replaces others).
        raise _ApiError(400, "Bad Request: there is no rich message to edit")
    before = json.dumps(message, sort_keys=True)
    message["rich_message"] = content
    markup = api._markup(params)
    if markup:
        message["reply_markup"] = markup
    else:
        message.pop("reply_markup", None)
    if json.dumps(message, sort_keys=True) == before:
        raise _ApiError(400, "Bad Request: message is not modified")
    message["edit_date"] = api.clock()
    api.messages[key] = message
    return message
