"""bot.platforms.telegram.transport: python-telegram-bot's requests sent with aiohttp, against
the fake Bot API served over HTTP on 127.0.0.1 (as the process tests use it)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import closing
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, NetworkError, TimedOut
from telegram.request import RequestData

from bot.platforms.telegram import transport
from bot.platforms.telegram.transport import AiohttpRequest
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TOKEN

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64


@pytest.fixture
async def server() -> AsyncIterator[TelegramServer]:
    fake = TelegramServer()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def bot(server: TelegramServer) -> AsyncIterator[Bot]:
    bot = Bot(
        TOKEN,
        base_url=server.base_url(),
        base_file_url=server.base_file_url(),
        request=AiohttpRequest(),
        get_updates_request=AiohttpRequest(connections=1),
    )
    async with bot:
        yield bot


async def test_a_message_goes_form_encoded_with_its_markup(
    server: TelegramServer, bot: Bot
) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Good", callback_data="rate:3")]])
    sent = await bot.send_message(
        7, "<b>Front</b> &amp; more", parse_mode="HTML", reply_markup=markup
    )
    [call] = server.api.sent("sendMessage")
    assert call.params["chat_id"] == 7
    assert call.params["text"] == "<b>Front</b> &amp; more"
    assert call.buttons == [("Good", "rate:3")]
    assert sent.text == "Front & more"
    assert sent.reply_markup == markup


async def test_a_photo_goes_as_multipart_with_its_caption(server: TelegramServer, bot: Bot) -> None:
    sent = await bot.send_photo(7, PNG, caption="a card", filename="card.png")
    [call] = server.api.sent("sendPhoto")
    name, content, _ = call.files["photo"]
    assert (name, content) == ("card.png", PNG)
    assert call.params["caption"] == "a card"
    assert sent.photo


async def test_telegrams_refusal_comes_back_as_it_was(bot: Bot) -> None:
    with pytest.raises(BadRequest, match=r"(?i)can.t parse entities"):
        await bot.send_message(7, "<b>unclosed", parse_mode="HTML")


async def test_an_answer_too_slow_is_timed_out(server: TelegramServer) -> None:
    server.hold("sendMessage")
    request = AiohttpRequest(read_timeout=0.05)
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{server.base_url()}{TOKEN}/sendMessage", RequestData())
    finally:
        await request.shutdown()


def said(exc: BaseException) -> str:
    """Everything a traceback of the error would print: its message and its chain's."""
    found = []
    current: BaseException | None = exc
    while current is not None:
        found.append(f"{type(current).__name__}: {current} {current.args}")
        suppressed = current.__suppress_context__
        current = current.__cause__ or (None if suppressed else current.__context__)
    return "\n".join(found)


async def test_nobody_listening_is_a_network_error_without_the_token() -> None:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(NetworkError, match="aiohttp") as caught:
            await request.do_request(f"http://127.0.0.1:{port}/bot{TOKEN}/getMe", "POST")
    finally:
        await request.shutdown()
    assert TOKEN.split(":", 1)[1] not in said(caught.value)


@pytest.mark.parametrize(
    "message",
    [
        "Connection timeout to host http://127.0.0.1:1/bot{token}/getMe",
        "400, message='Bad', url=URL('https://api.telegram.org/bot{token}/sendMessage')",
    ],
)
async def test_aiohttps_messages_lose_the_path_of_their_urls(message: str) -> None:
    from bot.platforms.telegram.transport import _no_path

    cleaned = _no_path(message.format(token=TOKEN))
    assert TOKEN.split(":", 1)[1] not in cleaned
    assert "127.0.0.1:1/..." in cleaned or "api.telegram.org/..." in cleaned


async def test_a_busy_pool_times_out_waiting_for_a_connection() -> None:
    release, arrived = asyncio.Event(), asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        arrived.set()
        await release.wait()
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_post("/{path:.*}", slow)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    request = AiohttpRequest(connections=1, pool_timeout=0.05, connect_timeout=0.05)
    await request.initialize()
    url = f"http://127.0.0.1:{port}/bot{TOKEN}/getMe"
    try:
        first = asyncio.ensure_future(request.do_request(url, "POST"))
        await asyncio.wait_for(arrived.wait(), 5)  # the one connection is taken
        with pytest.raises(TimedOut, match="waiting for a free connection") as caught:
            await request.do_request(url, "POST")
        assert TOKEN.split(":", 1)[1] not in said(caught.value)
        release.set()
        assert (await first)[0] == 200
    finally:
        release.set()
        await request.shutdown()
        await runner.cleanup()


async def test_it_needs_initialising_and_opens_again_after_a_shutdown(
    server: TelegramServer,
) -> None:
    request = AiohttpRequest()
    url = f"{server.base_url()}{TOKEN}/getMe"
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")
    await request.initialize()
    await request.shutdown()
    await request.shutdown()  # twice is harmless
    with pytest.raises(RuntimeError, match="not initialized"):
        await request.do_request(url, "POST")
    await request.initialize()
    try:
        status, body = await request.do_request(url, "POST")
    finally:
        await request.shutdown()
    assert status == 200
    assert b'"is_bot": true' in body


async def test_an_upload_gets_ptbs_twenty_seconds_to_be_written(
    server: TelegramServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a write timeout from the caller, a request that sends a file may take 20 s
    more than one that does not (PTB's ``media_write_timeout``), so a photo on a slow
    link is not timed out, tried again and sent twice."""
    timeouts: list[aiohttp.ClientTimeout] = []
    real = aiohttp.ClientTimeout

    def recording(**kwargs: Any) -> aiohttp.ClientTimeout:
        timeouts.append(real(**kwargs))
        return timeouts[-1]

    monkeypatch.setattr(aiohttp, "ClientTimeout", recording)
    bot = Bot(
        TOKEN,
        base_url=server.base_url(),
        base_file_url=server.base_file_url(),
        request=AiohttpRequest(read_timeout=5.0),
        get_updates_request=AiohttpRequest(connections=1),
    )
    async with bot:
        await bot.send_message(7, "text")
        await bot.send_photo(7, PNG, filename="card.png")
    reads = [t.sock_read for t in timeouts]
    assert reads[-2:] == [5.0, 5.0 + transport.MEDIA_WRITE_TIMEOUT]
