"""A stand-in for the Telegram Bot API over HTTP on 127.0.0.1, for a real ``studybot run``.

:class:`TelegramServer` serves ``POST /bot<token>/<method>`` by handing each call
to a :class:`~tests.e2e.telegram.fake.FakeBotAPI`, which answers as Telegram would
and keeps the chats' messages, and its file server, ``GET /file/bot<token>/<path>``,
with the files people sent (:meth:`~tests.e2e.telegram.fake.FakeBotAPI.add_file`).
Requests come as python-telegram-bot sends them: form-urlencoded, or multipart when
a file is uploaded, every value a string and objects JSON-encoded;
:func:`decode_params` turns them back into the values the fake expects. A process
given ``base_url(client)`` calls ``/<client>/bot<token>/...`` instead, so each call
is recorded with the process that made it.

``getUpdates`` is served here, from a queue the test fills (:meth:`TelegramServer.send`):

* it answers the updates whose id is at least ``offset``; a call with a higher
  ``offset`` confirms (drops) the ones below it, so an update a process took but
  never confirmed (it was killed) comes again, as on Telegram;
* a long poll is held until an update arrives or its ``timeout`` passes, capped at
  :data:`POLL_CAP` seconds so that neither a stopping bot nor this server waits long;
* a second long poll for the bot ends the one held with 409 "Conflict", as Telegram
  does when two processes poll one token.

Telegram can also be made unreachable for a while (:meth:`TelegramServer.refuse`:
the next calls get 502 "Bad Gateway", as from a proxy in front of a Telegram it
cannot reach), or slow to answer one method (:meth:`TelegramServer.hold`), and chosen
chats can answer 429 with ``retry_after`` (:meth:`TelegramServer.too_many_requests`).

Every call is recorded in ``api.calls`` (a poll when it arrives, any other call as
the fake takes it), and every answered call wakes :meth:`TelegramServer.wait_for`:
tests wait for calls, never for time to pass.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from aiohttp import web
from telegram.error import NetworkError

from tests.e2e.telegram.fake import TOKEN, Call, FakeBotAPI, Updates

T = TypeVar("T")

#: Longest a long poll is held, in seconds, whatever its ``timeout``.
POLL_CAP = 1.0
#: Parameters sent JSON-encoded (objects, lists, booleans); texts stay strings.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "link_preview_options",
        "reply_parameters",
        "allowed_updates",
        "commands",
        "scope",
        "entities",
        "caption_entities",
        "disable_notification",
        "protect_content",
        "show_alert",
        "drop_pending_updates",
        "show_caption_above_media",
        "has_spoiler",
        "media",
        "rich_message",
    }
)
#: Parameters sent as decimal strings that are numbers to Telegram.
INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "user_id",
        "offset",
        "limit",
        "timeout",
        "message_thread_id",
        "cache_time",
    }
)
BAD_GATEWAY = b'{"ok": false, "error_code": 502, "description": "Bad Gateway"}'
CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)


def decode_params(form: dict[str, str]) -> dict[str, Any]:
    """The parameters as the Bot API reads python-telegram-bot's strings.

    Known JSON fields are parsed and integer ids become numbers; every other value
    (texts, captions, callback data, parse modes) stays the string it was.
    """
    params: dict[str, Any] = {}
    for name, value in form.items():
        if name in JSON_FIELDS:
            params[name] = json.loads(value)
        elif name in INT_FIELDS and value.lstrip("-").isdigit():
            params[name] = int(value)
        else:
            params[name] = value
    return params


class TelegramServer:
    """The Bot API on 127.0.0.1 for one bot token (see the module docstring).

    Args:
        api: answers every method but ``getUpdates`` (a new :class:`FakeBotAPI` by default).
        token: the one token accepted; any other gets 401 "Unauthorized".
    """

    def __init__(self, api: FakeBotAPI | None = None, *, token: str = TOKEN) -> None:
        self.api = api or FakeBotAPI()
        self.token = token
        #: Builds the updates tests send (ids increase; dates are now).
        self.updates = Updates(lambda: int(time.time()))
        #: Updates not yet confirmed by an offset past them, oldest first.
        self.pending: list[dict[str, Any]] = []
        #: Polls that another poll ended with 409, by client.
        self.conflicts: list[str] = []
        #: Requests refused with 401, by client.
        self.refused: list[str] = []
        #: Requests answered 502 while unreachable (:meth:`refuse`), as (client, method).
        self.bad_gateway: list[tuple[str, str]] = []
        #: Requests held unanswered (:meth:`hold`), as (client, method), as they come.
        self.holding: list[tuple[str, str]] = []
        self._unreachable_for = 0
        self._held_methods: set[str] = set()
        self._release = asyncio.Event()
        self.port = 0
        self._changed = asyncio.Condition()
        self._held: asyncio.Event | None = None
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port (:attr:`port`)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post("/bot{token}/{method}", self._serve)
        app.router.add_post("/{client}/bot{token}/{method}", self._serve)
        app.router.add_get("/file/bot{token}/{path:.+}", self._serve_file)
        app.router.add_get("/{client}/file/bot{token}/{path:.+}", self._serve_file)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=POLL_CAP)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        self.port = int(sock.getsockname()[1])
        await web.SockSite(self._runner, sock).start()

    async def close(self) -> None:
        """Stop listening (a poll still held is answered first, and every held call)."""
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def base_url(self, client: str = "") -> str:
        """``[telegram] base_url`` for a process whose calls are recorded as ``client``'s."""
        return f"http://127.0.0.1:{self.port}/{client + '/' if client else ''}bot"

    def base_file_url(self, client: str = "") -> str:
        """``[telegram] base_file_url`` to go with :meth:`base_url`."""
        return f"http://127.0.0.1:{self.port}/{client + '/' if client else ''}file/bot"

    # ------------------------------------------------------------------ for tests

    def refuse(self, calls: int) -> None:
        """Answer the next ``calls`` requests (any method, any client) with 502."""
        self._unreachable_for = calls

    def too_many_requests(self, chat_id: int, retry_after: int, *, times: int = 1000) -> None:
        """Answer the next ``times`` messages to a chat (text, photo or file) with 429 and
        ``retry_after`` seconds, as Telegram does to a chat sent too much."""
        for method in ("sendMessage", "sendRichMessage", "sendPhoto", "sendDocument"):
            self.api.fail(method, "429", chat_id=chat_id, times=times, retry_after=retry_after)

    def hold(self, method: str) -> None:
        """Leave every call of ``method`` unanswered until the server closes."""
        self._held_methods.add(method)

    async def send(self, update: dict[str, Any]) -> None:
        """Queue an update (built by :class:`~tests.e2e.telegram.fake.Updates`) for getUpdates."""
        async with self._changed:
            self.pending.append(update)
            self._changed.notify_all()

    async def wait_for(
        self, predicate: Callable[[], T], *, seconds: float = 20.0, what: str = ""
    ) -> T:
        """Wait until ``predicate()`` is truthy, looking again after every call; returns it.

        Raises:
            AssertionError: after ``seconds``, naming ``what`` and the last calls.
        """
        async with self._changed:
            try:
                return await asyncio.wait_for(self._changed.wait_for(predicate), seconds)
            except TimeoutError:
                last = [f"{c.client}:{c.endpoint}" for c in self.api.calls[-10:]]
                raise AssertionError(f"no {what or predicate} in {seconds:.0f}s; {last}") from None

    def polls(self, client: str | None = None) -> list[Call]:
        """The getUpdates calls so far (of one client, if given)."""
        return [
            c
            for c in self.api.sent("getUpdates")
            if c.params.get("timeout") and (client is None or c.client == client)
        ]

    def listening(self, client: str) -> int:
        """How often the client began taking updates: long polls and webhooks set."""
        return len(self.polls(client)) + sum(
            c.client == client for c in self.api.sent("setWebhook")
        )

    def confirmed(self, update: dict[str, Any]) -> bool:
        """Whether a getUpdates with an offset past the update has come."""
        return any(
            int(c.params.get("offset", 0)) > update["update_id"]
            for c in self.api.sent("getUpdates")
        )

    # ------------------------------------------------------------------ HTTP

    async def _serve(self, request: web.Request) -> web.Response:
        try:
            status, body = await self._answer(request)
        finally:
            async with self._changed:
                self._changed.notify_all()
        return web.Response(status=status, body=body, content_type="application/json")

    async def _serve_file(self, request: web.Request) -> web.Response:
        """A file download, as Telegram's file server answers it (the bytes, or 404)."""
        client = request.match_info.get("client", "")
        try:
            status, body = await self.api.download(
                request.match_info["token"], request.match_info["path"], client=client
            )
        except NetworkError:  # an injected network failure: a broken gateway
            status, body = 502, BAD_GATEWAY
        finally:
            async with self._changed:
                self._changed.notify_all()
        return web.Response(status=status, body=body)

    async def _answer(self, request: web.Request) -> tuple[int, bytes]:
        client = request.match_info.get("client", "")
        method = request.match_info["method"]
        if self._unreachable_for > 0:
            self._unreachable_for -= 1
            self.bad_gateway.append((client, method))
            return 502, BAD_GATEWAY
        if request.match_info["token"] != self.token:
            self.refused.append(client)
            body = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return 401, json.dumps(body).encode()
        if method in self._held_methods:
            async with self._changed:
                self.holding.append((client, method))
                self._changed.notify_all()
            await self._release.wait()
            return 502, BAD_GATEWAY
        form: dict[str, str] = {}
        files: dict[str, tuple[str, bytes, str]] = {}
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                files[name] = (value.filename, value.file.read(), value.content_type)
            else:
                form[name] = str(value)
        params = decode_params(form)
        if method == "getUpdates":
            return await self._get_updates(params, client)
        try:
            return await self.api.call(method, params, files, client=client)
        except NetworkError:  # an injected network failure: a broken gateway
            return 502, b"Bad Gateway"

    async def _get_updates(self, params: dict[str, Any], client: str) -> tuple[int, bytes]:
        offset = int(params.get("offset", 0))
        wait = min(float(params.get("timeout", 0)), POLL_CAP)
        async with self._changed:
            self.api.calls.append(Call("getUpdates", params, client=client))
            if offset > 0:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
            if self._held is not None:
                self._held.set()  # Telegram ends the poll held with 409
            ended = self._held = asyncio.Event()
            self._changed.notify_all()
            try:
                if wait > 0:
                    await asyncio.wait_for(
                        self._changed.wait_for(lambda: ended.is_set() or bool(self.pending)),
                        wait,
                    )
            except TimeoutError:
                pass
            finally:
                if self._held is ended:
                    self._held = None
            if ended.is_set():
                self.conflicts.append(client)
                body = {"ok": False, "error_code": 409, "description": CONFLICT}
                return 409, json.dumps(body).encode()
            found = self.pending[: int(params.get("limit", 100))]
        return 200, json.dumps({"ok": True, "result": found}).encode()
