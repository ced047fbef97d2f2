"""The whole bot on a temp SQLite file with the real PTB Application over a fake Bot API."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import struct
import zlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
from telegram import Update
from telegram.request import BaseRequest, HTTPXRequest

from bot.app import App, build_app, telegram_platform
from bot.config import Secret, default_settings
from bot.core.messages import HeatMap, Plot
from bot.core.metrics import NULL_METRICS, Metrics
from bot.core.rendering import RenderedImage, Renderer
from bot.platforms.telegram import TelegramPlatform
from tests.e2e.telegram.fake import TOKEN, FakeBotAPI, TgUser, Updates, button_data
from tests.fakes.clock import FixedClock

T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
GROUP = -1001234567890
#: The start of a JPEG: what a photo a person sends is served as.
PHOTO_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"


def tiny_png(seed: str) -> bytes:
    """A valid 1x1 PNG whose pixel depends on ``seed``."""
    pixel = hashlib.sha256(seed.encode()).digest()[:3]

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    raw = zlib.compress(b"\x00" + pixel)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + chunk(b"IEND", b"")


class FakeRenderer:
    """The Renderer port, drawing 1x1 PNGs keyed by content (as the real cache keys them)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        #: Every heat map asked for, as the core described it.
        self.heatmaps: list[HeatMap] = []

    def _image(self, what: str) -> RenderedImage:
        key = hashlib.sha256(what.encode()).hexdigest()
        return RenderedImage(tiny_png(what), 1, 1, key)

    async def card_image(self, kind: str | None, spec: str | None) -> RenderedImage | None:
        if not kind or not spec:
            return None
        self.calls.append(("card", f"{kind} {spec}"))
        return self._image(f"{kind} {spec}")

    async def stats_chart(self, stats: Any, forecast: Sequence[int]) -> RenderedImage:
        self.calls.append(("stats", ",".join(map(str, forecast))))
        return self._image(f"stats {list(forecast)}")

    async def text_image(self, markdown: str) -> RenderedImage:
        self.calls.append(("text", markdown))
        return self._image(f"text {markdown}")

    async def heatmap(self, chart: HeatMap) -> RenderedImage:
        self.calls.append(("heatmap", chart.title))
        self.heatmaps.append(chart)
        return self._image(f"heatmap {chart!r}")

    async def plot(self, figure: Plot) -> RenderedImage:
        self.calls.append(("plot", type(figure).__name__))
        return self._image(f"plot {figure!r}")

    async def convert(self, data: bytes) -> RenderedImage:
        digest = hashlib.sha256(data).hexdigest()
        self.calls.append(("convert", digest))
        return self._image(f"convert {digest}")

    async def close(self) -> None:
        return None


def make_renderer() -> Renderer:
    """The real MatplotlibRenderer (one worker process)."""
    from bot.render.service import MatplotlibRenderer

    return MatplotlibRenderer(workers=1)


@dataclass
class Harness:
    """One running bot: feed it raw updates, then look at what it sent and stored."""

    app: App
    platform: TelegramPlatform
    api: FakeBotAPI
    clock: FixedClock
    db_path: Path
    updates: Updates
    slept: list[float] = field(default_factory=list)
    #: Waits the pacing asked for (on its own clock: none of them passes).
    paced: list[float] = field(default_factory=list)

    async def feed(self, payload: dict[str, Any]) -> None:
        application = self.platform.application
        await application.process_update(Update.de_json(payload, application.bot))
        await self.platform.callbacks.settled()  # a tap's edits and replies, shown after it

    async def send(self, user: TgUser, text: str, chat_id: int | None = None) -> None:
        """The user sends ``text`` (a command or plain text) in a chat (their DM by default)."""
        await self.feed(self.updates.message(user, text, chat_id))

    async def send_photo(
        self,
        user: TgUser,
        file_ids: Sequence[str],
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The user sends a photo (sizes smallest first) in a chat (their DM by default);
        each size a file Telegram serves (a small JPEG naming its file id, unless added)."""
        for file_id in file_ids:
            if file_id not in self.api.files:
                self.api.add_photo(file_id, PHOTO_JPEG + file_id.encode())
        await self.feed(self.updates.photo(user, file_ids, caption, chat_id))

    async def send_document(
        self,
        user: TgUser,
        file_name: str | None,
        data: bytes,
        *,
        size: int | None = None,
        declared: bool = True,
        chat_id: int | None = None,
    ) -> str:
        """The user sends a file (a document) in a chat (their DM by default); returns its
        file id. ``size``: the size Telegram gives it (its length by default); ``declared``
        false leaves the size out of the message, as the Bot API allows."""
        file_id = self.api.add_file(data, size=size)
        known = self.api.files[file_id].size if declared else None
        await self.feed(self.updates.document(user, file_id, file_name, known, chat_id=chat_id))
        return file_id

    async def tap(self, user: TgUser, message: dict[str, Any], label_prefix: str) -> str:
        """The user taps the button whose label starts with ``label_prefix``; returns its data."""
        data = button_data(message, label_prefix)
        await self.feed(self.updates.callback(user, message, data))
        return data

    async def tap_data(self, user: TgUser, message: dict[str, Any], data: str) -> str:
        """The user's client sends a callback with ``data`` (possibly forged) for ``message``."""
        update = self.updates.callback(user, message, data)
        await self.feed(update)
        return str(update["callback_query"]["id"])

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """Read the database directly (SQLite file), e.g. to count review_logs rows."""
        with sqlite3.connect(self.db_path) as conn:
            return list(conn.execute(sql, args))

    def learner_id(self, user: TgUser) -> int | None:
        rows = self.query(
            "SELECT id FROM learners WHERE platform = 'telegram' AND platform_user_id = ?",
            str(user.id),
        )
        return rows[0][0] if rows else None


def _decoded(value: str) -> Any:
    """A form field as PTB encodes it: numbers and objects as JSON, text as it is."""
    if value[:1] in "{[" or value.lstrip("-").isdigit() or value in ("true", "false"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def over_httpx(api: FakeBotAPI) -> BaseRequest:
    """PTB's real ``HTTPXRequest`` whose transport hands each request to ``api``."""

    async def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and "/file/bot" in request.url.path:
            token, _, file_path = request.url.path.split("/file/bot", 1)[1].partition("/")
            status, body = await api.download(token, file_path)
            return httpx.Response(status, content=body)
        endpoint = request.url.path.rsplit("/", 1)[-1]
        params: dict[str, Any] = {
            key: _decoded(value) for key, value in parse_qsl(request.content.decode())
        }
        status, body = await api.call(endpoint, params)
        return httpx.Response(status, content=body)

    transport = httpx.MockTransport(handle)
    return HTTPXRequest(httpx_kwargs={"transport": transport})


@asynccontextmanager
async def telegram_bot(
    tmp_path: Path,
    *,
    extra_decks: Sequence[Path] = (),
    shipped: bool = True,
    renderer: bool = True,
    mode: str = "polling",
    start: bool = True,
    fake_renderer: bool = False,
    restart_of: Harness | None = None,
    metrics: Metrics = NULL_METRICS,
    http: bool = False,
    rich: bool = True,
    ephemeral: bool = False,
    web_url: str | None = None,
) -> AsyncIterator[Harness]:
    """Build the app on ``tmp_path`` and start the Telegram platform over a fake Bot API.

    ``shipped`` false leaves the shipped decks out (only ``extra_decks`` are loaded).
    ``fake_renderer`` draws with :class:`FakeRenderer` even when matplotlib is there.
    ``restart_of`` is a harness that has stopped: the new app and platform use the same
    SQLite file, the same Bot API (Telegram keeps its messages), clock and update ids.
    ``metrics`` counts what the services and the platform do.
    ``http``: python-telegram-bot's own HTTP layer (httpx) runs, and only the transport
    is fake, so its requests (and their log lines) are made as in production.
    ``rich`` false makes the fake an older Bot API server, without ``sendRichMessage``
    (cards then go as today's text: the tests of that text path run there); a restart
    keeps its server's.
    ``ephemeral``: ``[telegram] ephemeral_messages`` (off by default here, so the other
    tests see the private-chat path they were written for).
    ``web_url``: ``[web]`` enabled with this public address (off by default), so replies
    offering the browser workspace get its Mini App button in private chats.
    """
    settings = default_settings(data_dir=tmp_path)
    settings = replace(
        settings,
        telegram=replace(
            settings.telegram,
            token=Secret(TOKEN),
            base_url="http://127.0.0.1:9/bot",
            base_file_url="http://127.0.0.1:9/file/bot",
            mode=mode,
            webhook_url="https://bot.example.org/telegram/hook" if mode == "webhook" else "",
            webhook_secret=Secret("hook-secret") if mode == "webhook" else None,
            ephemeral_messages=ephemeral,
        ),
        decks=replace(
            settings.decks, paths=(*(settings.decks.paths if shipped else ()), *extra_decks)
        ),
        study=replace(settings.study, enable_fuzzing=False),
    )
    if web_url is not None:
        settings = replace(settings, web=replace(settings.web, enabled=True, public_url=web_url))
    clock = restart_of.clock if restart_of is not None else FixedClock(T0)
    drawing: Renderer | None = None
    if renderer:
        drawing = FakeRenderer() if fake_renderer else make_renderer()
    app = await build_app(
        settings, auto_upgrade=True, clock=clock, renderer=drawing, metrics=metrics
    )
    api = restart_of.api if restart_of is not None else FakeBotAPI()
    if restart_of is None:  # a restart talks to the same server
        api.rich = rich
    api.clock = lambda: int(clock.now().timestamp())
    harness: Harness | None = None
    try:
        platform = telegram_platform(app, request=over_httpx(api) if http else api)
        harness = Harness(
            app,
            platform,
            api,
            clock,
            tmp_path / "studybot.sqlite3",
            restart_of.updates
            if restart_of is not None
            else Updates(lambda: int(clock.now().timestamp())),
        )
        slept = harness.slept

        async def no_sleep(seconds: float) -> None:
            slept.append(seconds)

        platform.sender.sleep = no_sleep
        # The pacing keeps its schedules on a clock that moves when it waits: a test's
        # messages to one chat are paced a second apart without a second passing.
        paced = harness.paced

        def pacing_now() -> float:
            return sum(paced)

        async def pacing_sleep(seconds: float) -> None:
            paced.append(seconds)

        platform.pacing.monotonic = pacing_now
        platform.pacing.sleep = pacing_sleep
        app.channels.attach(platform)
        if start:
            await platform.start()
        else:
            await platform.initialize()
        try:
            yield harness
        finally:
            app.channels.detach(platform.name)
            await platform.stop()
    finally:
        await app.close()
