"""An offline Discord for end-to-end tests of the real discord.py client.

Only discord.py's HTTP layer is replaced (``HTTPClient.request`` and
``AsyncWebhookAdapter.request``); interactions are fed to the client as raw
gateway payloads (``ConnectionState.parse_interaction_create``), shaped as
Discord sends them. Every request is recorded; messages are kept with their
components and uploaded files, so a test can press a button of a message
the bot sent, as a user would.

Discord's limits are enforced as Discord does, with a 400 (code 50035, "Invalid
Form Body"): 2000 characters of content; at most 10 embeds, each within its own
limits and 6000 characters in all; 5 rows of 5 buttons (or one select of at most
25 options), custom ids of 1-100 characters, labels of 80; a modal's title of 45
characters and at most 5 text inputs. An interaction is answered once (a second
response is 400, code 40060), and :meth:`FakeDiscord.unanswered` lists those that
were never answered.

:meth:`FakeDiscord.install_sessions` fakes one layer lower (aiohttp's
``ClientSession.request``), so discord.py's own request code runs, debug lines
included; :meth:`FakeDiscord.dispatch` can feed the payload through a gateway
websocket's message handler (``via_gateway``), as the gateway would.

Files people send (a command's attachment option, or attachments of a message in
the DMs, :meth:`FakeDiscord.dm_message`) are served by :class:`FakeCDN`, a real
HTTP server on 127.0.0.1 standing in for ``cdn.discordapp.com`` once started
(discord.py downloads an attachment with its own aiohttp session, not through the
faked request paths); it records each download and can answer with an error.
"""

from __future__ import annotations

import bot.platforms.discord  # noqa: F401  (first: it imports discord.py without the audioop warning)

# isort: split
import asyncio
import copy
import hashlib
import itertools
import json
import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import discord.webhook.async_
import pytest
from aiohttp import web

from bot.core.messages import HeatMap, Plot
from bot.core.rendering import RenderedImage
from bot.core.stats import StudyStats

APP_ID = 900_000_000_000_000_001
BOT_ID = APP_ID
TIMESTAMP = "2026-03-02T09:00:00.000000+00:00"
BOT_USER: dict[str, Any] = {
    "id": str(BOT_ID),
    "username": "studybot",
    "discriminator": "0",
    "global_name": "Study Bot",
    "avatar": None,
    "bot": True,
}


def user_payload(user_id: int, name: str) -> dict[str, Any]:
    """A user object."""
    return {
        "id": str(user_id),
        "username": name.lower(),
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
    }


def dm_channel_id(user_id: int) -> int:
    """The id of the bot's DM channel with a user (stable per user)."""
    return user_id + 7


@dataclass
class Call:
    """One request the bot made."""

    method: str
    path: str
    json: Any
    files: list[tuple[str, bytes]]
    params: dict[str, Any] | None = None


@dataclass
class Sent:
    """A message as Discord holds it, with the uploaded files."""

    payload: dict[str, Any]
    files: list[tuple[str, bytes]] = field(default_factory=list)
    #: The Discord user who can see it when ephemeral.
    ephemeral: bool = False

    def snapshot(self) -> Sent:
        """A copy as it is now (as a user's client still shows an old message)."""
        return Sent(copy.deepcopy(self.payload), list(self.files), self.ephemeral)

    @property
    def id(self) -> int:
        return int(self.payload["id"])

    @property
    def channel_id(self) -> int:
        return int(self.payload["channel_id"])

    @property
    def content(self) -> str:
        """The message's content; a composed message's is its text displays above the
        first container (where a note or a reply's text stands, as content stands above
        embeds)."""
        if self.composed:
            lead: list[str] = []
            for component in self.payload.get("components") or []:
                if component.get("type") != 10:
                    break
                lead.append(str(component.get("content") or ""))
            return "\n".join(lead)
        return str(self.payload.get("content") or "")

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self.payload.get("embeds") or [])

    @property
    def composed(self) -> bool:
        """Whether the message carries the Components V2 flag."""
        return bool(int(self.payload.get("flags") or 0) & IS_COMPONENTS_V2)

    def components(self) -> list[dict[str, Any]]:
        """Every component of the message, nested ones included, in order."""
        return list(walk_components(self.payload.get("components") or []))

    def media(self) -> list[str]:
        """The URLs a composed message's media galleries, thumbnails and files show."""
        return media_urls(self.payload.get("components") or [])

    def shown_images(self) -> list[str]:
        """The file names of the attachments the message shows as images: its embeds'
        ``attachment://`` images, or a composed message's media."""
        names: list[str] = []
        for embed in self.embeds:
            url = str((embed.get("image") or {}).get("url") or "")
            if url.startswith("attachment://"):
                names.append(url.removeprefix("attachment://"))
        by_url = {a["url"]: a["filename"] for a in self.payload.get("attachments") or []}
        names += [by_url[url] for url in self.media() if url in by_url]
        return names

    def text(self) -> str:
        """Content plus every embed's title, description and fields (a composed message:
        its text displays)."""
        if self.composed:
            return "\n".join(c["content"] for c in self.components() if c.get("type") == 10)
        parts = [self.content]
        for embed in self.embeds:
            parts += [embed.get("title", ""), embed.get("description", "")]
            parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields", [])]
        return "\n".join(p for p in parts if p)

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in self.components() if c.get("type") == 2]

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in self.components() if "custom_id" in c]

    def button(self, label_start: str) -> str:
        """The custom id of the button whose label starts with ``label_start``."""
        for b in self.buttons():
            if str(b.get("label", "")).startswith(label_start):
                return str(b["custom_id"])
        raise AssertionError(
            f"no button {label_start!r} in {[b.get('label') for b in self.buttons()]}"
        )


class FakeCDN:
    """Discord's CDN for the files people send, on 127.0.0.1 once :meth:`start` ed (before,
    its links name ``https://cdn.example`` and nothing can download them).

    Serves ``GET /attachments/<channel>/<id>/<file name>`` from :attr:`files`; records
    each request's path in :attr:`downloads`; a path in :attr:`refuse` is answered with
    that HTTP status instead, and every request waits while :attr:`stalled` is clear.
    """

    def __init__(self) -> None:
        self.base = "https://cdn.example"
        #: path -> the bytes served there.
        self.files: dict[str, bytes] = {}
        #: The paths asked for, in order.
        self.downloads: list[str] = []
        #: path -> the HTTP status to answer with instead of the file.
        self.refuse: dict[str, int] = {}
        #: Requests are answered only while this is set (clear it: a CDN that hangs).
        self.stalled = asyncio.Event()
        self.stalled.set()
        self._runner: web.AppRunner | None = None

    def add(self, channel_id: int, attachment_id: int, filename: str, data: bytes) -> str:
        """Keep a file; its URL."""
        path = f"/attachments/{channel_id}/{attachment_id}/{filename}"
        self.files[path] = data
        return self.base + path

    def expire(self, url: str | None = None) -> None:
        """A link (or, without ``url``, every link given out so far) expires: as Discord's
        signed attachment URLs do after about a day, it answers 404 from now on."""
        paths = [url.removeprefix(self.base)] if url is not None else list(self.files)
        for path in paths:
            self.refuse[path] = 404

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port; links made from now on point here."""
        app = web.Application()
        app.router.add_get("/attachments/{channel}/{id}/{name}", self._serve)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        self.stalled.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve(self, request: web.Request) -> web.Response:
        path = request.path
        self.downloads.append(path)
        await self.stalled.wait()
        if path in self.refuse:
            response = web.Response(status=self.refuse[path])
        elif path not in self.files:
            response = web.Response(status=404)
        else:
            response = web.Response(body=self.files[path], content_type="application/octet-stream")
        # No connection kept open: a test waits for the tasks its input started to end.
        response.force_close()
        return response


@dataclass
class Place:
    """Where an interaction happens: a DM, or a server channel."""

    channel: dict[str, Any]
    guild_id: int | None = None
    #: Discord's interaction context (0 a server, 1 the bot's DM, 2 a group DM or another
    #: DM) and ``authorizing_integration_owners``; None: a server install's (see
    #: :meth:`FakeDiscord.user_installed`).
    context: int | None = None
    owners: dict[str, str] | None = None
    #: In a server: whether members may use external apps there (``USE_EXTERNAL_APPS``);
    #: when not, a user-installed app's answers are shown only to the person.
    external_apps: bool = True


class FakeDiscord:
    """Discord's HTTP API, in memory."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.messages: dict[int, Sent] = {}
        self.created: list[Sent] = []
        self.modals: list[dict[str, Any]] = []
        self.callbacks: list[dict[str, Any]] = []
        #: channel id -> (HTTP status, Discord error code) to refuse sends with.
        self.refuse: dict[int, tuple[int, int]] = {}
        #: channel id -> sends still let through before ``refuse`` applies.
        self.allow: dict[int, int] = {}
        #: channel id -> sends to it wait until the event is set (a slow chat).
        self.slow: dict[int, asyncio.Event] = {}
        #: channel id -> seconds every message created or edited there takes (interaction
        #: responses apart): a channel Discord is slow with.
        self.delay: dict[int, float] = {}
        #: channel id -> an event set when a message is sent there.
        self.arrived: dict[int, asyncio.Event] = {}
        #: user id -> the member's permissions in a server (default: View Channel only).
        self.permissions: dict[int, int] = {}
        #: channel id -> the bot's own permissions there (``app_permissions``; default: all).
        self.app_permissions: dict[int, int] = {}
        #: What the next logins meet instead of an answer, first first: an
        #: ``HTTPException`` (401 is a rejected token) or a network error.
        self.login_failures: list[BaseException] = []
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._interactions: dict[str, dict[str, Any]] = {}
        #: What the bot sent that Discord refused for breaking a limit (each a sentence).
        self.violations: list[str] = []
        #: The files people send (start it for the bot to download them).
        self.cdn = FakeCDN()
        #: channel id -> how often the bot showed "typing…" there.
        self.typing: dict[int, int] = {}
        #: Channels the bot is no member of (a server it was not added to, a group DM):
        #: a message it posts there is refused (403, 50001 Missing Access).
        self.not_a_member: set[int] = set()
        #: The application commands as last registered: None (global) or a server id ->
        #: the commands, as the bulk overwrite sent them.
        self.registered: dict[int | None, list[dict[str, Any]]] = {}
        #: Refuse to switch a message sent without Components V2 to it by an edit.
        self.refuse_v2_upgrade = False
        #: Refuse every new Components V2 message (400), as for a body Discord will not take.
        self.refuse_v2 = False
        #: What Discord refused in Components V2 messages (also in :attr:`violations`).
        self.refused_composed: list[str] = []

    # ------------------------------------------------------------------ install

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Replace discord.py's two HTTP entry points with this fake."""
        fake = self

        async def http_request(
            _self: Any,
            route: discord.http.Route,
            *,
            files: Sequence[discord.File] | None = None,
            form: Sequence[dict[str, Any]] | None = None,
            **kwargs: Any,
        ) -> Any:
            body = kwargs.get("json")
            return await fake._http(
                route.method, _path(route.url), body, form, kwargs.get("params")
            )

        async def webhook_request(
            _self: Any,
            route: Any,
            session: Any,
            *,
            payload: dict[str, Any] | None = None,
            multipart: list[dict[str, Any]] | None = None,
            params: dict[str, Any] | None = None,
            **kwargs: Any,
        ) -> Any:
            return await fake._webhook(route.method, _path(route.url), payload, multipart, params)

        monkeypatch.setattr(discord.http.HTTPClient, "request", http_request)
        monkeypatch.setattr(discord.webhook.async_.AsyncWebhookAdapter, "request", webhook_request)

    def install_sessions(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Fake aiohttp's ``ClientSession.request`` instead: discord.py's own request code
        (its debug lines with the URLs included) runs, and only the round trip is fake."""
        fake = self

        def request(_session: Any, method: str, url: Any, **kwargs: Any) -> _Exchange:
            return _Exchange(fake, method, str(url), kwargs)

        monkeypatch.setattr(aiohttp.ClientSession, "request", request)

    async def exchange(self, method: str, url: str, kwargs: dict[str, Any]) -> tuple[int, Any]:
        """One HTTP round trip at aiohttp's level: (status, JSON body or None)."""
        path = _path(url)
        data = kwargs.get("data")
        body: Any = None
        form: list[dict[str, Any]] | None = None
        if isinstance(data, str):
            body = json.loads(data)
        elif isinstance(data, aiohttp.FormData):
            form = []
            for options, _headers, value in data._fields:
                part = {"name": options["name"], "value": value}
                if "filename" in options:
                    part["filename"] = options["filename"]
                form.append(part)
        webhook = path.startswith(("/interactions/", "/webhooks/"))
        try:
            if webhook:
                result = await self._webhook(method, path, body, form, kwargs.get("params"))
            else:
                result = await self._http(method, path, body, form, kwargs.get("params"))
        except discord.HTTPException as exc:
            return exc.status, {"code": exc.code, "message": exc.text}
        return (204, None) if result is None else (200, result)

    def _next(self) -> int:
        return next(self._ids)

    # ------------------------------------------------------------------ recording

    def _record(
        self,
        method: str,
        path: str,
        body: Any,
        form: Sequence[dict[str, Any]] | None,
        params: dict[str, Any] | None,
    ) -> Call:
        files: list[tuple[str, bytes]] = []
        if form:
            for part in form:
                if part["name"] == "payload_json":
                    body = json.loads(part["value"])
                else:
                    value = part["value"]
                    data = value.read() if hasattr(value, "read") else bytes(value)
                    files.append((part["filename"], data))
        call = Call(method, path, body, files, params)
        self.calls.append(call)
        return call

    def _attachments(self, channel_id: int, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        attachments = []
        for name, data in files:
            aid = self._next()
            attachments.append(
                {
                    "id": str(aid),
                    "filename": name,
                    "size": len(data),
                    "url": f"https://cdn.example/{channel_id}/{aid}/{name}",
                    "proxy_url": f"https://cdn.example/{channel_id}/{aid}/{name}",
                }
            )
        return attachments

    def _check(self, body: dict[str, Any], *, creating: bool = True) -> None:
        """Refuse what Discord refuses (400, 50035 Invalid Form Body)."""
        problems = message_problems(body, creating=creating)
        if problems:
            self.violations.extend(problems)
            raise self.error(400, 50035, "Invalid Form Body: " + "; ".join(problems))

    def _message(
        self, channel_id: int, body: dict[str, Any], files: list[tuple[str, bytes]]
    ) -> Sent:
        self._check({**body, "_files": len(files)})
        self._check_composed(body, [name for name, _ in files], [])
        attachments = self._attachments(channel_id, files)
        flags = int(body.get("flags") or 0)
        payload = {
            "id": str(self._next()),
            "channel_id": str(channel_id),
            "type": 0,
            "content": body.get("content") or "",
            "author": BOT_USER,
            "embeds": body.get("embeds") or [],
            "attachments": attachments,
            "components": resolve_media(body.get("components") or [], attachments),
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "flags": flags,
        }
        sent = Sent(payload, files, ephemeral=bool(flags & 64))
        self.messages[sent.id] = sent
        self.created.append(sent)
        return sent

    def _edit(self, sent: Sent, body: dict[str, Any], files: list[tuple[str, bytes]]) -> Sent:
        self._check(body, creating=False)
        kept_names = [a["filename"] for a in sent.payload["attachments"]]
        if "attachments" in body:
            ids = {str(a.get("id")) for a in body["attachments"] if "id" in a}
            kept_names = [a["filename"] for a in sent.payload["attachments"] if a["id"] in ids]
        self._check_edit_composed(sent, body, [name for name, _ in files], kept_names)
        for key, empty in (("content", ""), ("embeds", []), ("components", [])):
            if key in body:
                sent.payload[key] = body[key] if body[key] is not None else empty
        if "flags" in body:
            sent.payload["flags"] = int(body["flags"] or 0) | (sent.payload["flags"] & 64)
        if "attachments" in body:
            kept = {str(a.get("id")) for a in body["attachments"] if "id" in a}
            old = [a for a in sent.payload["attachments"] if a["id"] in kept]
            new = self._attachments(sent.channel_id, files)
            sent.payload["attachments"] = old + new
            sent.files = [f for f in sent.files if f[0] in {a["filename"] for a in old}] + files
        sent.payload["components"] = resolve_media(
            sent.payload["components"], sent.payload["attachments"]
        )
        sent.payload["edited_timestamp"] = TIMESTAMP
        return sent

    # ------------------------------------------------------------------ Components V2

    def _refuse_composed(self, problems: list[str]) -> None:
        if problems:
            self.violations.extend(problems)
            self.refused_composed.extend(problems)
            raise self.error(400, 50035, "Invalid Form Body: " + "; ".join(problems))

    def _check_composed(self, body: dict[str, Any], uploaded: list[str], kept: list[str]) -> None:
        """Refuse a message body Discord refuses for its Components V2 use."""
        problems = composed_problems(body, uploaded, kept)
        if self.refuse_v2 and int(body.get("flags") or 0) & IS_COMPONENTS_V2:
            problems.append("Components V2 refused here")
        self._refuse_composed(problems)
        self._fail_oversized(body)

    def _fail_oversized(self, body: dict[str, Any]) -> None:
        """Fail as Discord does (500) on text displays over its undocumented processed size."""
        if not int(body.get("flags") or 0) & IS_COMPONENTS_V2:
            return
        size = sum(
            len(str(c.get("content") or "").encode()) + 12
            for c in walk_components(body.get("components") or [])
            if c.get("type") == TEXT_DISPLAY
        )
        if size > V2_PROCESSED_MAX:
            self.violations.append(f"text displays of {size} processed bytes (500)")
            raise self.error(500, 0, "500: Internal Server Error")

    def _check_edit_composed(
        self, sent: Sent, body: dict[str, Any], uploaded: list[str], kept: list[str]
    ) -> None:
        """An edit: the flag cannot be taken off; set, it takes content and embeds away."""
        was = sent.composed
        flags = int(body["flags"] or 0) if "flags" in body else int(sent.payload["flags"])
        will = bool(flags & IS_COMPONENTS_V2)
        problems: list[str] = []
        if was and not will:
            problems.append("the IS_COMPONENTS_V2 flag cannot be removed from a message")
        if will and not was and self.refuse_v2_upgrade:
            problems.append("this message cannot be switched to Components V2")
        if will:
            content = body["content"] if "content" in body else sent.payload["content"]
            embeds = body["embeds"] if "embeds" in body else sent.payload["embeds"]
            components = body.get("components", sent.payload["components"])
            if not was and (content or embeds):
                problems.append("content and embeds must be cleared to switch to Components V2")
            problems += composed_problems(
                {
                    **body,
                    "flags": flags,
                    "content": content,
                    "embeds": embeds,
                    "components": components,
                },
                uploaded,
                kept,
            )
        self._refuse_composed(problems)
        if will:
            self._fail_oversized({**body, "flags": flags})

    def error(
        self, status: int, code: int, text: str = "Cannot send messages to this user"
    ) -> discord.HTTPException:
        class Response:
            reason = "Forbidden" if status == 403 else "Error"

        # Any: discord.py's stubs name aiohttp's or requests' response (when requests is
        # installed, as the anki extra installs it).
        response: Any = Response()
        response.status = status
        if status == 429:
            response.headers = {"Retry-After": "7.5"}
        message = {"code": code, "message": text}
        if status == 403:
            return discord.Forbidden(response, message)
        if status == 404:
            return discord.NotFound(response, message)
        return discord.HTTPException(response, message)

    # ------------------------------------------------------------------ REST

    async def _http(
        self,
        method: str,
        path: str,
        body: Any,
        form: Sequence[dict[str, Any]] | None,
        params: dict[str, Any] | None,
    ) -> Any:
        call = self._record(method, path, body, form, params)
        parts = path.strip("/").split("/")
        if (method, path) == ("GET", "/users/@me"):
            if self.login_failures:
                raise self.login_failures.pop(0)
            return BOT_USER
        if (method, path) == ("GET", "/oauth2/applications/@me"):
            return {
                "id": str(APP_ID),
                "name": "Study Bot",
                "description": "",
                "icon": None,
                "bot_public": True,
                "bot_require_code_grant": False,
                "owner": user_payload(42, "Owner"),
                "verify_key": "0" * 64,
                "flags": 0,
            }
        if (method, path) == ("POST", "/users/@me/channels"):
            recipient = int(call.json["recipient_id"])
            return {
                "id": str(dm_channel_id(recipient)),
                "type": 1,
                "last_message_id": None,
                "recipients": [user_payload(recipient, f"user{recipient}")],
            }
        if method == "POST" and parts[0] == "channels" and parts[2:] == ["typing"]:
            channel_id = int(parts[1])
            self.typing[channel_id] = self.typing.get(channel_id, 0) + 1
            return None
        if method == "POST" and parts[0] == "channels" and parts[2:] == ["messages"]:
            channel_id = int(parts[1])
            if channel_id in self.not_a_member:
                self.violations.append(f"a message posted in channel {channel_id}, not the bot's")
                raise self.error(403, 50001, "Missing Access")
            if channel_id in self.slow:
                await self.slow[channel_id].wait()
            if channel_id in self.delay:
                await asyncio.sleep(self.delay[channel_id])
            if channel_id in self.refuse:
                if self.allow.get(channel_id, 0) <= 0:
                    raise self.error(*self.refuse[channel_id])
                self.allow[channel_id] -= 1
            created = self._message(channel_id, call.json or {}, call.files)
            if channel_id in self.arrived:
                self.arrived[channel_id].set()
            return created.payload
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            self._register(parts, call.json)
            return [
                {
                    **command,
                    "id": str(self._next()),
                    "application_id": str(APP_ID),
                    "version": "1",
                    "default_member_permissions": None,
                }
                for command in call.json
            ]
        raise AssertionError(f"unexpected Discord request {method} {path}")

    # ------------------------------------------------------------------ interactions

    async def _webhook(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        multipart: list[dict[str, Any]] | None,
        params: dict[str, Any] | None,
    ) -> Any:
        call = self._record(method, path, payload, multipart, params)
        body = call.json or {}
        parts = path.strip("/").split("/")
        if parts[0] == "interactions" and parts[-1] == "callback":
            info = self._interactions[parts[2]]
            if info.get("answered"):
                self.violations.append(f"interaction {parts[1]} answered twice")
                raise self.error(400, 40060, "Interaction has already been acknowledged.")
            self.callbacks.append(body)
            kind = int(body["type"])
            data = body.get("data") or {}
            if kind == 9:
                problems = modal_problems(data)
                if problems:
                    self.violations.extend(problems)
                    raise self.error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
            if kind in (6, 7) and info["type"] == 5 and "original" not in info:
                # Only a form opened from a message's button may answer by updating it.
                self.violations.append("a form not opened from a message updated one")
                raise self.error(400, 40004, "Interaction has no message to update.")
            info["answered"] = True
            if info.get("forced_ephemeral") and kind in (4, 5):
                data = {**data, "flags": int(data.get("flags") or 0) | 64}
            if kind == 4:  # a message as the response
                sent = self._message(info["channel_id"], data, call.files)
                info["original"] = sent.id
            elif kind == 5:  # "thinking": the first follow-up fills it in
                info["thinking"] = bool(int(data.get("flags") or 0) & 64)
            elif kind == 9:
                self.modals.append(data)
            return {"interaction": {"id": parts[1], "type": info["type"]}}
        if parts[0] == "webhooks":
            token = parts[2]
            info = self._interactions[token]
            if info["channel_id"] in self.delay and method in ("POST", "PATCH"):
                await asyncio.sleep(self.delay[info["channel_id"]])
            if method == "POST" and len(parts) == 3:  # a follow-up
                if info.get("forced_ephemeral"):
                    body = {**body, "flags": int(body.get("flags") or 0) | 64}
                if "thinking" not in info or "original" in info:
                    self._count_followup(info)
                if "thinking" in info and "original" not in info:
                    v2 = int(body.get("flags") or 0) & IS_COMPONENTS_V2
                    body = {**body, "flags": (64 if info["thinking"] else 0) | v2}
                    sent = self._message(info["channel_id"], body, call.files)
                    info["original"] = sent.id
                    return sent.payload
                try:
                    return self._message(info["channel_id"], body, call.files).payload
                except discord.HTTPException:  # refused: no message made, no follow-up used
                    if info.get("user_install_only"):
                        info["followups"] -= 1
                    raise
            if method == "PATCH" and parts[-1] == "@original":
                return self._edit(self.messages[info["original"]], body, call.files).payload
            if method == "DELETE" and parts[-1] == "@original":  # also a pending "thinking"
                info.pop("thinking", None)
                if "original" in info:
                    del self.messages[info.pop("original")]
                return None
        raise AssertionError(f"unexpected webhook request {method} {path}")

    # ------------------------------------------------------------------ places and people

    def dm(self, user_id: int) -> Place:
        """The bot's DM channel with a user."""
        return Place({"id": str(dm_channel_id(user_id)), "type": 1, "last_message_id": None})

    def server(self, guild_id: int, channel_id: int) -> Place:
        """A text channel of a server the bot is installed in."""
        return Place(
            {
                "id": str(channel_id),
                "type": 0,
                "guild_id": str(guild_id),
                "name": "study-group",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "flags": 0,
                "last_message_id": None,
                "topic": None,
                "rate_limit_per_user": 0,
            },
            guild_id,
        )

    # ------------------------------------------------------------------ user installs

    def user_installed(self, place: Place, installer: int, *, external_apps: bool = True) -> Place:
        """The same place, for an app the ``installer`` added to their own account and
        that no server install is behind: a server channel (context 0) of a server the bot
        was not added to (``external_apps``: whether that server lets members use
        external apps), or the bot's DM (context 1) of someone who shares no server with
        it. ``authorizing_integration_owners`` is ``{"1": installer}``, as Discord sends it."""
        context = 0 if place.guild_id is not None else 1
        if place.guild_id is not None:
            self.not_a_member.add(int(place.channel["id"]))
        owners = {"1": str(installer)}
        return Place(place.channel, place.guild_id, context, owners, external_apps)

    def group_dm(self, channel_id: int, installer: int) -> Place:
        """A group DM (context 2, no server) where the ``installer`` uses the app they
        added to their account; the bot is no member and cannot post there."""
        self.not_a_member.add(channel_id)
        channel = {"id": str(channel_id), "type": 3, "recipients": [], "last_message_id": None}
        return Place(channel, None, 2, {"1": str(installer)})

    def both_installed_dm(self, user_id: int) -> Place:
        """The bot's DM of someone who added the app to their account and also shares a
        server with it: ``{"0": "0", "1": user}``, as Discord sends it there."""
        return Place(self.dm(user_id).channel, None, 1, {"0": "0", "1": str(user_id)})

    def _user_install(self, payload: dict[str, Any], place: Place) -> None:
        """An interaction payload as Discord sends it for a place's own installs."""
        owners = place.owners or {}
        payload["authorizing_integration_owners"] = dict(owners)
        if place.context is not None:
            payload["context"] = place.context
        if place.guild_id is not None and "0" not in owners:
            use_external_apps = 1 << 50
            member = payload["member"]
            permissions = int(member["permissions"]) | use_external_apps
            if not place.external_apps:
                permissions &= ~use_external_apps
            member["permissions"] = str(permissions)
            # The app's permissions there are the member's (it has no role of its own).
            payload["app_permissions"] = member["permissions"]

    def _count_followup(self, info: dict[str, Any]) -> None:
        """A new follow-up message: Discord takes at most 5 for an interaction that only a
        user install is behind (400 after that)."""
        if not info.get("user_install_only"):
            return
        info["followups"] = info.get("followups", 0) + 1
        if info["followups"] > USER_INSTALL_FOLLOWUPS:
            problem = f"follow-up {info['followups']} of a user-installed interaction"
            self.violations.append(problem)
            raise self.error(400, 50035, f"Invalid Form Body: {problem}")

    def _register(self, parts: list[str], commands: list[dict[str, Any]]) -> None:
        """Keep a bulk overwrite of the commands, refused as Discord refuses it (400, 50035)
        when a command's ``integration_types`` or ``contexts`` are not Discord's values."""
        problems = []
        for command in commands:
            for key, allowed in (("integration_types", {0, 1}), ("contexts", {0, 1, 2})):
                values = command.get(key)
                if values is not None and (not values or not set(values) <= allowed):
                    problems.append(f"/{command.get('name')} {key} {values}")
        if problems:
            self.violations.extend(problems)
            raise self.error(400, 50035, "Invalid Form Body: " + "; ".join(problems))
        guild = int(parts[3]) if parts[2:3] == ["guilds"] else None
        self.registered[guild] = list(commands)

    def offered(self, name: str, place: Place) -> bool:
        """Whether Discord offers the registered command ``name`` at ``place``: a server's
        own commands in that server (where it is installed); a global one where its
        ``contexts`` hold the place's context and its ``integration_types`` one of the
        installs behind the place."""
        owners = place.owners if place.owners is not None else {"0": str(place.guild_id or 0)}
        context = place.context if place.context is not None else (0 if place.guild_id else 1)
        if place.guild_id is not None and "0" in owners:
            for command in self.registered.get(place.guild_id, []):
                if command["name"] == name:
                    return True
        for command in self.registered.get(None, []):
            if command["name"] != name:
                continue
            contexts = command.get("contexts") or [0, 1, 2]
            installs = command.get("integration_types") or [0]
            return context in contexts and any(str(i) in owners for i in installs)
        return False

    def _interaction(
        self,
        kind: int,
        data: dict[str, Any],
        user: tuple[int, str],
        place: Place,
        message: Sent | None = None,
    ) -> dict[str, Any]:
        iid = self._next()
        token = f"itoken-{iid}"
        user_id, name = user
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(APP_ID),
            "type": kind,
            "token": token,
            "version": 1,
            "attachment_size_limit": 10 * 1024 * 1024,
            "locale": "en-GB",
            "app_permissions": str(
                self.app_permissions.get(int(place.channel["id"]), discord.Permissions.all().value)
            ),
            "entitlements": [],
            "data": data,
            "channel": place.channel,
            "channel_id": place.channel["id"],
        }
        if place.guild_id is None:
            payload["user"] = user_payload(user_id, name)
            payload["context"] = 1
            payload["authorizing_integration_owners"] = {"0": "0"}  # a server install's DM
        else:
            payload["guild_id"] = str(place.guild_id)
            payload["guild_locale"] = "en-GB"
            payload["guild"] = {"id": str(place.guild_id), "locale": "en-GB", "features": []}
            payload["context"] = 0
            payload["authorizing_integration_owners"] = {"0": str(place.guild_id)}
            payload["member"] = {
                "user": user_payload(user_id, name),
                "roles": [],
                "joined_at": TIMESTAMP,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(self.permissions.get(user_id, 1024)),
            }
        if place.owners is not None:
            self._user_install(payload, place)
        if message is not None:
            payload["message"] = message.payload
        info: dict[str, Any] = {"type": kind, "channel_id": int(place.channel["id"])}
        info.update(_install_info(payload, place))
        if "custom_id" in data or "name" in data:
            info["what"] = data.get("custom_id", data.get("name"))
        if message is not None:  # a component's "original" is the message it is on
            info["original"] = message.id
        self._interactions[token] = info
        return payload

    def command(
        self,
        name: str,
        user: tuple[int, str],
        place: Place,
        /,
        *,
        attachments: dict[str, tuple[str, str, bytes]] | None = None,
        **options: str,
    ) -> dict[str, Any]:
        """A slash command (type 2), with string options, and ``attachments`` mapping an
        option to (file name, content type, bytes)."""
        data: dict[str, Any] = {
            "id": str(APP_ID + 100),
            "name": name,
            "type": 1,
            "options": [{"name": k, "type": 3, "value": v} for k, v in options.items()],
        }
        self._attach(data, data["options"], place, attachments or {})
        return self._interaction(2, data, user, place)

    def attachment(
        self, place: Place, filename: str, content_type: str, content: bytes, *, size: int = -1
    ) -> dict[str, Any]:
        """An attachment object for a file a person sends, kept by the CDN. ``size``: what
        Discord says it has (its length by default)."""
        aid = self._next()
        url = self.cdn.add(int(place.channel["id"]), aid, filename, content)
        return {
            "id": str(aid),
            "filename": filename,
            "size": len(content) if size < 0 else size,
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
        }

    def _attach(
        self,
        data: dict[str, Any],
        options: list[dict[str, Any]],
        place: Place,
        attachments: dict[str, tuple[str, str, bytes]],
    ) -> None:
        """Add attachment options (type 11) and their resolved attachments to a command."""
        for option, (filename, content_type, content) in attachments.items():
            attachment = self.attachment(place, filename, content_type, content)
            options.append({"name": option, "type": 11, "value": attachment["id"]})
            resolved = data.setdefault("resolved", {}).setdefault("attachments", {})
            resolved[attachment["id"]] = attachment

    def dm_message(
        self,
        user: tuple[int, str],
        content: str = "",
        attachments: Sequence[dict[str, Any]] = (),
        *,
        author: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """A message a person sends in their DMs with the bot (a MESSAGE_CREATE payload),
        with attachments made by :meth:`attachment` (``author``: someone else, the bot)."""
        user_id, name = user
        return {
            "id": str(self._next()),
            "channel_id": str(dm_channel_id(user_id)),
            "type": 0,
            "content": content,
            "author": author or user_payload(user_id, name),
            "embeds": [],
            "attachments": list(attachments),
            "components": [],
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "pinned": False,
            "flags": 0,
        }

    def autocomplete(
        self, name: str, option: str, typed: str, user: tuple[int, str], place: Place
    ) -> dict[str, Any]:
        """An autocomplete request (type 4) for one focused string option."""
        data = {
            "id": str(APP_ID + 100),
            "name": name,
            "type": 1,
            "options": [{"name": option, "type": 3, "value": typed, "focused": True}],
        }
        return self._interaction(4, data, user, place)

    def subcommand(
        self,
        group: str,
        name: str,
        user: tuple[int, str],
        place: Place,
        /,
        *,
        attachments: dict[str, tuple[str, str, bytes]] | None = None,
        **options: str | int,
    ) -> dict[str, Any]:
        """A subcommand of a command group (``/group name``): string and integer options, and
        ``attachments`` mapping an option to (file name, content type, bytes)."""
        inner: list[dict[str, Any]] = [
            {"name": k, "type": 4 if isinstance(v, int) else 3, "value": v}
            for k, v in options.items()
        ]
        data: dict[str, Any] = {
            "id": str(APP_ID + 101),
            "name": group,
            "type": 1,
            "options": [{"name": name, "type": 1, "options": inner}],
        }
        self._attach(data, inner, place, attachments or {})
        return self._interaction(2, data, user, place)

    def subcommand_autocomplete(
        self, group: str, name: str, option: str, typed: str, user: tuple[int, str], place: Place
    ) -> dict[str, Any]:
        """An autocomplete request for one focused string option of a subcommand."""
        focused = {"name": option, "type": 3, "value": typed, "focused": True}
        data = {
            "id": str(APP_ID + 101),
            "name": group,
            "type": 1,
            "options": [{"name": name, "type": 1, "options": [focused]}],
        }
        return self._interaction(4, data, user, place)

    def component(
        self,
        message: Sent,
        custom_id: str,
        user: tuple[int, str],
        place: Place,
        values: list[str] | None = None,
    ) -> dict[str, Any]:
        """A press of a message's button (type 3), or a choice in its select menu."""
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": 2}
        if values is not None:
            data = {"custom_id": custom_id, "component_type": 3, "values": values}
        return self._interaction(3, data, user, place, message)

    def modal_submit(
        self, modal: dict[str, Any], values: dict[str, str], user: tuple[int, str], place: Place
    ) -> dict[str, Any]:
        """A submitted modal (type 5): ``values`` maps the text inputs' labels to the text typed."""
        rows = []
        for component in _inputs(modal):
            label = component["label"]
            rows.append(
                {
                    "type": 1,
                    "components": [
                        {
                            "type": 4,
                            "custom_id": component["custom_id"],
                            "value": values.get(label, ""),
                        }
                    ],
                }
            )
        return self._interaction(
            5, {"custom_id": modal["custom_id"], "components": rows}, user, place
        )

    def form_submit(
        self,
        modal: dict[str, Any],
        choices: dict[str, str | list[str] | None],
        user: tuple[int, str],
        place: Place,
        message: Sent | None = None,
        *,
        extra: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A submitted modal of radio and checkbox groups (type 5), as Discord sends it:
        each label's input by custom id, with ``choices`` mapping a radio group's custom id
        to the value chosen (None: none) and a checkbox group's to the values ticked; an
        input left out keeps its defaults. ``message``: the message whose button opened
        the form (Discord sends it; the form's answer may edit it). ``extra``: inputs the
        form never had (a forged submission)."""
        components: list[dict[str, Any]] = []
        for number, label in enumerate(modal.get("components") or [], start=1):
            inner = label.get("component") or {}
            custom_id = str(inner.get("custom_id") or "")
            defaults = [o["value"] for o in inner.get("options") or [] if o.get("default")]
            submitted: dict[str, Any] = {"type": inner.get("type"), "custom_id": custom_id}
            if inner.get("type") == 21:
                submitted["value"] = choices.get(custom_id, defaults[0] if defaults else None)
            elif inner.get("type") == 22:
                submitted["values"] = choices.get(custom_id, defaults)
            elif inner.get("type") == 23:
                submitted["value"] = choices.get(custom_id, bool(inner.get("default")))
            else:
                continue
            components.append({"type": 18, "id": number, "component": submitted})
        components.extend({"type": 18, "component": c} for c in extra or [])
        data = {"custom_id": modal["custom_id"], "components": components}
        return self._interaction(5, data, user, place, message)

    # ------------------------------------------------------------------ driving

    async def dispatch(
        self,
        client: discord.Client,
        payload: dict[str, Any],
        *,
        via_gateway: bool = False,
        event: str = "INTERACTION_CREATE",
    ) -> None:
        """Feed an interaction (or another gateway ``event``: ``MESSAGE_CREATE``) to the
        client and wait until it has finished with it.

        ``via_gateway``: as a gateway message, through the websocket's message handler
        (which logs each event at DEBUG), rather than straight to the parser.
        """
        before = set(asyncio.all_tasks())
        if via_gateway:
            loop = asyncio.get_running_loop()
            ws = discord.gateway.DiscordWebSocket(None, loop=loop)  # type: ignore[arg-type]
            ws._connection = client._connection
            ws._discord_parsers = client._connection.parsers
            ws._dispatch = client.dispatch
            ws.shard_id = None
            message = {"op": 0, "t": event, "s": 1, "d": payload}
            await ws.received_message(json.dumps(message))
        else:
            client._connection.parsers[event](payload)
        for _ in range(100):
            pending = [
                t
                for t in asyncio.all_tasks()
                if t not in before
                and not t.done()
                and "timeout_task_impl" not in getattr(t.get_coro(), "__qualname__", "")
            ]
            if not pending:
                return
            await asyncio.wait(pending, timeout=10)
        raise AssertionError("the client is still busy with the interaction")

    def unanswered(self) -> list[dict[str, Any]]:
        """The interactions (their type and channel) that got no response at all, which
        Discord shows as "This interaction failed" (autocomplete aside)."""
        return [
            info
            for info in self._interactions.values()
            if info["type"] != 4
            and (not info.get("answered") or ("thinking" in info and "original" not in info))
        ]

    def mark(self) -> int:
        """A bookmark for :meth:`created_since`."""
        return len(self.created)

    def created_since(self, mark: int) -> list[Sent]:
        """Messages the bot created after the bookmark, in order."""
        return self.created[mark:]


#: Discord: new follow-up messages an interaction takes when only a user install is behind it.
USER_INSTALL_FOLLOWUPS = 5


def _install_info(payload: dict[str, Any], place: Place) -> dict[str, Any]:
    """What the fake keeps of an interaction's installs: whether only a user install is
    behind it, and whether Discord shows its answers only to the person (a server that
    does not let members use external apps)."""
    owners = payload.get("authorizing_integration_owners") or {}
    user_only = "1" in owners and "0" not in owners
    forced = user_only and place.guild_id is not None and not place.external_apps
    return {"user_install_only": user_only, "forced_ephemeral": forced}


#: Discord's limits on a message (characters).
CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELD_NAME = 256
FIELD_VALUE = 1024
FIELDS_MAX = 25
FOOTER = 2048
AUTHOR = 256
CUSTOM_ID = 100
LABEL = 80
ROWS_MAX = 5
BUTTONS_PER_ROW = 5
SELECT_OPTIONS = 25
FILES_MAX = 10
MODAL_TITLE = 45
MODAL_INPUTS = 5


def _components_problems(rows: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(rows) > ROWS_MAX:
        problems.append(f"{len(rows)} component rows (at most {ROWS_MAX})")
    for row in rows:
        inner = row.get("components") or []
        if len(inner) > BUTTONS_PER_ROW:
            problems.append(f"{len(inner)} components in a row (at most {BUTTONS_PER_ROW})")
        for component in inner:
            custom_id = component.get("custom_id")
            if custom_id is not None and not 1 <= len(custom_id) <= CUSTOM_ID:
                problems.append(f"a custom_id of {len(custom_id)} characters")
            if component.get("type") == BUTTON:
                # A link button (style 5) has a url and no custom id; the others the reverse.
                link = component.get("style") == LINK_STYLE
                url = str(component.get("url") or "")
                if link and (custom_id is not None or not url.startswith(("https://", "http://"))):
                    problems.append("a link button needs an http(s) url and no custom_id")
                if not link and (custom_id is None or url):
                    problems.append("a button needs a custom_id and no url")
            if len(str(component.get("label") or "")) > LABEL:
                problems.append(f"a label of {len(component['label'])} characters")
            if len(component.get("options") or []) > SELECT_OPTIONS:
                problems.append(f"a select with {len(component['options'])} options")
    return problems


def _embed_problems(embeds: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(embeds) > EMBEDS_MAX:
        problems.append(f"{len(embeds)} embeds (at most {EMBEDS_MAX})")
    total = 0
    for embed in embeds:
        for key, limit in EMBED_LIMITS.items():
            size = len(str(embed.get(key) or ""))
            total += size
            if size > limit:
                problems.append(f"an embed {key} of {size} characters (at most {limit})")
        fields = embed.get("fields") or []
        if len(fields) > FIELDS_MAX:
            problems.append(f"{len(fields)} embed fields")
        for f in fields:
            name, value = str(f.get("name") or ""), str(f.get("value") or "")
            total += len(name) + len(value)
            if not name or len(name) > FIELD_NAME or not value or len(value) > FIELD_VALUE:
                problems.append(f"an embed field of {len(name)}/{len(value)} characters")
        footer = str((embed.get("footer") or {}).get("text") or "")
        author = str((embed.get("author") or {}).get("name") or "")
        total += len(footer) + len(author)
        if len(footer) > FOOTER or len(author) > AUTHOR:
            problems.append("an embed footer or author too long")
    if total > EMBED_TOTAL:
        problems.append(f"embeds of {total} characters in all (at most {EMBED_TOTAL})")
    return problems


def message_problems(body: dict[str, Any], *, creating: bool = True) -> list[str]:
    """What Discord would refuse in a message body (empty: nothing)."""
    problems: list[str] = []
    content = body.get("content")
    if content is not None and len(str(content)) > CONTENT_MAX:
        problems.append(f"content of {len(str(content))} characters (at most {CONTENT_MAX})")
    problems += _embed_problems(list(body.get("embeds") or []))
    if not int(body.get("flags") or 0) & IS_COMPONENTS_V2:
        problems += _components_problems(list(body.get("components") or []))
    if int(body.get("_files") or 0) > FILES_MAX:
        problems.append(f"{body['_files']} files (at most {FILES_MAX})")
    if creating and not (
        content or body.get("embeds") or body.get("_files") or body.get("components")
    ):
        problems.append("an empty message (50006 Cannot send an empty message)")
    return problems


# --------------------------------------------------------------------------- Components V2

#: The message flag that makes a message's components its whole body.
IS_COMPONENTS_V2 = 1 << 15
#: Discord's limits on a Components V2 message.
V2_COMPONENTS_MAX = 40
V2_TEXT_MAX = 4000
#: Not documented: text displays' UTF-8 bytes, plus 12 for each, above which Discord
#: answers 500 (measured in discord/discord-api-docs#8554).
V2_PROCESSED_MAX = 10170
GALLERY_ITEMS = (1, 10)
SECTION_TEXTS = (1, 3)
#: Component types: where each may stand.
ACTION_ROW, BUTTON, TEXT_DISPLAY, SECTION, THUMBNAIL = 1, 2, 10, 9, 11
#: A button of this style opens its url (no custom id, no interaction).
LINK_STYLE = 5
MEDIA_GALLERY, FILE, SEPARATOR, CONTAINER = 12, 13, 14, 17
SELECTS = (3, 5, 6, 7, 8)
TOP_LEVEL = {ACTION_ROW, TEXT_DISPLAY, SECTION, MEDIA_GALLERY, FILE, SEPARATOR, CONTAINER}
IN_CONTAINER = TOP_LEVEL - {CONTAINER}


def walk_components(components: Sequence[dict[str, Any]]) -> Any:
    """Every component, nested ones (and a section's accessory) included, in order."""
    for component in components:
        yield component
        yield from walk_components(component.get("components") or [])
        if "accessory" in component:
            yield component["accessory"]


def _media_of(component: dict[str, Any]) -> list[dict[str, Any]]:
    kind = component.get("type")
    if kind == MEDIA_GALLERY:
        return [item.get("media") or {} for item in component.get("items") or []]
    if kind in (THUMBNAIL, FILE):
        return [component.get("media") or component.get("file") or {}]
    return []


def media_urls(components: Sequence[dict[str, Any]]) -> list[str]:
    """The URLs of every media item (gallery, thumbnail, file) of some components."""
    return [
        str(media.get("url") or "")
        for component in walk_components(components)
        for media in _media_of(component)
    ]


def resolve_media(
    components: list[dict[str, Any]], attachments: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The components as Discord keeps them: ``attachment://<name>`` replaced by the
    attachment's URL (and its id)."""
    by_name = {a["filename"]: a for a in attachments}
    out = copy.deepcopy(components)
    for component in walk_components(out):
        for media in _media_of(component):
            url = str(media.get("url") or "")
            if url.startswith("attachment://") and url[13:] in by_name:
                attachment = by_name[url[13:]]
                media["url"] = attachment["url"]
                media["proxy_url"] = attachment["proxy_url"]
                media["attachment_id"] = attachment["id"]
    return out


def _v2_item_problems(component: dict[str, Any], allowed: set[int], where: str) -> list[str]:
    kind = component.get("type")
    if kind not in allowed:
        return [f"a component of type {kind} {where}"]
    problems: list[str] = []
    inner = list(component.get("components") or [])
    if kind == CONTAINER:
        if not inner:
            problems.append("an empty container")
        for child in inner:
            problems += _v2_item_problems(child, IN_CONTAINER, "in a container")
    elif kind == ACTION_ROW:
        buttons = [c for c in inner if c.get("type") == BUTTON]
        selects = [c for c in inner if c.get("type") in SELECTS]
        if len(buttons) + len(selects) != len(inner):
            problems.append("an action row holding what is neither a button nor a select")
        if not 1 <= len(buttons) <= BUTTONS_PER_ROW and not (len(selects) == 1 and not buttons):
            problems.append(f"an action row of {len(inner)} components")
        problems += _components_problems([component])
    elif kind == SECTION:
        texts = [c for c in inner if c.get("type") == TEXT_DISPLAY]
        if len(texts) != len(inner) or not SECTION_TEXTS[0] <= len(texts) <= SECTION_TEXTS[1]:
            problems.append("a section needs 1-3 text displays")
        accessory = component.get("accessory") or {}
        if accessory.get("type") not in (THUMBNAIL, BUTTON):
            problems.append("a section's accessory must be a thumbnail or a button")
    elif kind == TEXT_DISPLAY:
        if not str(component.get("content") or ""):
            problems.append("an empty text display")
    elif kind == MEDIA_GALLERY:
        items = component.get("items") or []
        if not GALLERY_ITEMS[0] <= len(items) <= GALLERY_ITEMS[1]:
            problems.append(f"a media gallery of {len(items)} items (1-10)")
    return problems


def composed_problems(
    body: dict[str, Any], uploaded: Sequence[str] = (), kept: Sequence[str] = ()
) -> list[str]:
    """What Discord refuses in a Components V2 message body (empty: nothing, or not one).

    ``uploaded``: the files of this request; ``kept``: the attachments an edit keeps.
    Without the flag, a layout component is refused.
    """
    components = list(body.get("components") or [])
    if not int(body.get("flags") or 0) & IS_COMPONENTS_V2:
        if any(c.get("type") != ACTION_ROW for c in components):
            return ["layout components without the IS_COMPONENTS_V2 flag"]
        return []
    problems: list[str] = []
    if body.get("content"):
        problems.append("content alongside the IS_COMPONENTS_V2 flag")
    if body.get("embeds"):
        problems.append("embeds alongside the IS_COMPONENTS_V2 flag")
    if body.get("poll") or body.get("sticker_ids"):
        problems.append("a poll or stickers alongside the IS_COMPONENTS_V2 flag")
    if not components:
        problems.append("an empty message (50006 Cannot send an empty message)")
    for component in components:
        problems += _v2_item_problems(component, TOP_LEVEL, "at the top level")
    every = list(walk_components(components))
    if len(every) > V2_COMPONENTS_MAX:
        problems.append(f"{len(every)} components (at most {V2_COMPONENTS_MAX})")
    text = sum(len(str(c.get("content") or "")) for c in every if c.get("type") == TEXT_DISPLAY)
    if text > V2_TEXT_MAX:
        problems.append(f"{text} characters in text displays (at most {V2_TEXT_MAX})")
    names = set(uploaded) | set(kept)
    for url in media_urls(components):
        if url.startswith("attachment://"):
            if url[13:] not in names:
                problems.append(f"media {url} names no attachment of the message")
        elif not url.startswith(("https://", "http://")):
            problems.append(f"media with an unfurlable URL {url!r}")
    return problems


def modal_problems(data: dict[str, Any]) -> list[str]:
    """What Discord would refuse in a modal."""
    problems: list[str] = []
    title = str(data.get("title") or "")
    if not 1 <= len(title) <= MODAL_TITLE:
        problems.append(f"a modal title of {len(title)} characters")
    custom_id = str(data.get("custom_id") or "")
    if not 1 <= len(custom_id) <= CUSTOM_ID:
        problems.append(f"a modal custom_id of {len(custom_id)} characters")
    problems += modal_component_problems(data)
    inputs = _inputs(data)
    if len(inputs) > MODAL_INPUTS:
        problems.append(f"{len(inputs)} text inputs in a modal")
    for component in inputs:
        if len(str(component.get("label") or "")) > MODAL_TITLE:
            problems.append("a text input label over 45 characters")
        if len(str(component.get("custom_id") or "")) > CUSTOM_ID:
            problems.append("a text input custom_id over 100 characters")
    return problems


#: Discord's limits on a modal's components (discord.py 2.7 modals): top-level
#: components, a label's text and description, a radio group's options (2-10), a
#: checkbox group's (1-10) and their min/max values, an option's texts.
MODAL_COMPONENTS = 5
MODAL_LABEL = 45
LABEL_DESCRIPTION = 100
RADIO_OPTIONS = (2, 10)
CHECKBOX_OPTIONS = (1, 10)
OPTION_TEXT = 100
#: What a label may wrap in a modal: selects, a text input, a file upload, a radio
#: group, a checkbox group, a checkbox.
LABEL_CHILDREN = {3, 4, 5, 6, 7, 8, 19, 21, 22, 23}


def _option_problems(kind: str, options: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    values = [str(o.get("value") or "") for o in options]
    if len(set(values)) != len(values):
        problems.append(f"a {kind} with repeated option values")
    for option in options:
        for key in ("label", "value"):
            if not 1 <= len(str(option.get(key) or "")) <= OPTION_TEXT:
                problems.append(f"a {kind} option {key} of {len(str(option.get(key) or ''))}")
        if len(str(option.get("description") or "")) > OPTION_TEXT:
            problems.append(f"a {kind} option description over {OPTION_TEXT} characters")
    return problems


def _label_child_problems(child: dict[str, Any]) -> list[str]:
    """A radio group, checkbox group or checkbox as Discord checks it."""
    kind = child.get("type")
    options = list(child.get("options") or [])
    if kind == 21:
        low, high = RADIO_OPTIONS
        problems = _option_problems("radio group", options)
        if not low <= len(options) <= high:
            problems.append(f"a radio group with {len(options)} options ({low}-{high})")
        if sum(1 for o in options if o.get("default")) > 1:
            problems.append("a radio group with more than one default option")
        return problems
    if kind == 22:
        low, high = CHECKBOX_OPTIONS
        problems = _option_problems("checkbox group", options)
        if not low <= len(options) <= high:
            problems.append(f"a checkbox group with {len(options)} options ({low}-{high})")
        least, most = int(child.get("min_values", 1)), int(child.get("max_values", 1))
        if not 0 <= least <= high or not 1 <= most <= high or least > most:
            problems.append(f"a checkbox group with min/max values {least}/{most}")
        elif most > len(options):
            problems.append(f"a checkbox group's max_values {most} over its options")
        return problems
    return []


def modal_component_problems(data: dict[str, Any]) -> list[str]:
    """What Discord would refuse in a modal's components: at most five top-level ones;
    radio groups, checkbox groups and checkboxes only inside a label; the labels' and
    options' lengths, the groups' option counts and min/max values; custom ids unique."""
    problems: list[str] = []
    top = list(data.get("components") or [])
    if not 1 <= len(top) <= MODAL_COMPONENTS:
        problems.append(f"{len(top)} components in a modal (1-{MODAL_COMPONENTS})")
    seen: list[str] = []
    for component in top:
        kind = component.get("type")
        if kind in (21, 22, 23):
            problems.append(f"a component of type {kind} outside a label")
            continue
        if kind != 18:
            continue
        text = str(component.get("label") or "")
        if not 1 <= len(text) <= MODAL_LABEL:
            problems.append(f"a label of {len(text)} characters (1-{MODAL_LABEL})")
        if len(str(component.get("description") or "")) > LABEL_DESCRIPTION:
            problems.append(f"a label description over {LABEL_DESCRIPTION} characters")
        child = component.get("component")
        if not isinstance(child, dict) or child.get("type") not in LABEL_CHILDREN:
            problems.append("a label without a component it may hold")
            continue
        custom_id = str(child.get("custom_id") or "")
        if not 1 <= len(custom_id) <= CUSTOM_ID:
            problems.append(f"a custom_id of {len(custom_id)} characters in a modal")
        seen.append(custom_id)
        problems += _label_child_problems(child)
    if len(set(seen)) != len(seen):
        problems.append("repeated custom ids in a modal")
    return problems


def _inputs(modal: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for row in modal.get("components", []):
        inner = row.get("components") or ([row["component"]] if "component" in row else [])
        if row.get("type") == 18 and "component" in row:
            inner = [{**row["component"], "label": row.get("label", "")}]
        found.extend(c for c in inner if c.get("type") == 4)
    return found


class _Response:
    """What discord.py reads of an aiohttp response."""

    def __init__(self, status: int, body: Any) -> None:
        self.status = status
        self.reason = "OK" if status < 400 else "Error"
        self.headers: dict[str, str] = {"content-type": "application/json"} if body else {}
        self._text = "" if body is None else json.dumps(body)

    async def text(self, encoding: str = "utf-8") -> str:
        return self._text

    def release(self) -> None:
        return None


class _Exchange:
    """``async with session.request(...) as response`` over :meth:`FakeDiscord.exchange`."""

    def __init__(self, fake: FakeDiscord, method: str, url: str, kwargs: dict[str, Any]) -> None:
        self.fake, self.method, self.url, self.kwargs = fake, method, url, kwargs

    async def __aenter__(self) -> _Response:
        status, body = await self.fake.exchange(self.method, self.url, self.kwargs)
        return _Response(status, body)

    async def __aexit__(self, *exc: object) -> None:
        return None


def _path(url: str) -> str:
    return url.split("/api/v10", 1)[1].split("?", 1)[0]


# --------------------------------------------------------------------------- images


def tiny_png(seed: str) -> bytes:
    """A valid 2x2 PNG whose colour depends on ``seed``."""
    r, g, b = hashlib.sha256(seed.encode()).digest()[:3]
    raw = b"".join(b"\x00" + bytes([r, g, b]) * 2 for _ in range(2))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


class FakeRenderer:
    """A renderer that draws nothing but returns small valid PNGs (and counts calls)."""

    def __init__(self) -> None:
        self.card_images: list[tuple[str | None, str | None]] = []
        self.heatmaps: list[HeatMap] = []

    def _image(self, seed: str) -> RenderedImage:
        data = tiny_png(seed)
        return RenderedImage(data, 2, 2, hashlib.sha256(seed.encode()).hexdigest())

    async def card_image(self, kind: str | None, spec: str | None) -> RenderedImage | None:
        self.card_images.append((kind, spec))
        if not kind or not spec:
            return None
        return self._image(f"{kind}:{spec}")

    async def stats_chart(self, stats: StudyStats, forecast: Sequence[int]) -> RenderedImage:
        return self._image(f"stats:{list(forecast)}")

    async def text_image(self, markdown: str) -> RenderedImage:
        return self._image(f"text:{markdown}")

    async def heatmap(self, chart: HeatMap) -> RenderedImage:
        self.heatmaps.append(chart)
        return self._image(f"heatmap:{chart!r}")

    async def plot(self, figure: Plot) -> RenderedImage:
        return self._image(f"plot:{figure!r}")

    async def convert(self, data: bytes) -> RenderedImage:
        return self._image(f"convert:{hashlib.sha256(data).hexdigest()}")

    async def close(self) -> None:
        return None
