"""The browser workspace served by the real ``studybot run`` (``[web] enabled``).

The process runs as an operator starts it, against the fake Bot API, with the web
server on a port the test picked. A learner signs in with a Mini App's ``initData``
over HTTP (as the page does) and saves a draft; the process is killed with ``kill -9``
and started again: the draft is still there and the old session cookie still works.
On PostgreSQL, two processes share the database: ``initData`` used on one is refused on
the other (a replay across processes), and a session opened on one works on the other.
The start-up log names the web address; the bot token, the session cookie and the CSRF
token appear nowhere in the output.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.process.harness import (
    AUTO_UPGRADE,
    SECRET,
    Chat,
    Studybot,
    free_port,
    new_bot,
    query,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.web.site import ANA, CHALLENGE, init_data

GROUP = -1001234567890
COOKIE = "__Host-sb"
DRAFT = "$$\\mathrm{softmax}\\left(\\frac{QK^\\top}{\\sqrt{d_k}}\\right)V$$"


def web_section(port: int) -> str:
    """``[web]`` on at 127.0.0.1:``port``, public at the same address."""
    return (
        f'[web]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
        f'public_url = "http://127.0.0.1:{port}"\n'
    )


@dataclass(frozen=True)
class Session:
    """A browser's session, as the page holds it: the cookie and the CSRF token."""

    cookie: str
    csrf: str

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.cookie}", "X-CSRF-Token": self.csrf}


async def web_up(bot: Studybot, base: str, seconds: float = 20.0) -> None:
    """Wait until the process's web server answers (``GET /app``, looking every 50 ms);
    fail after ``seconds``, or at once if the process ends."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        while True:
            assert bot.proc is not None
            if bot.proc.returncode is not None:
                raise AssertionError(
                    f"{bot.client} exited with {bot.proc.returncode}:\n{bot.output()[-3000:]}"
                )
            try:
                async with http.get(f"{base}/app"):
                    return
            except aiohttp.ClientConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"no web server at {base} after {seconds}s")
            await asyncio.sleep(0.05)


def cookie_of(response: aiohttp.ClientResponse) -> str:
    """The session cookie's value from ``Set-Cookie`` (read by hand: Python 3.11's cookie
    parser drops a cookie marked ``Partitioned``)."""
    for header in response.headers.getall("Set-Cookie", []):
        name, _, rest = header.partition("=")
        if name.strip() == COOKIE:
            return rest.split(";", 1)[0]
    raise AssertionError(f"no {COOKIE} cookie in {response.headers.getall('Set-Cookie', [])}")


async def login(http: aiohttp.ClientSession, base: str, raw: str) -> tuple[int, Session | None]:
    """Post ``initData`` as the page does: (status, the session when signed in)."""
    async with http.post(f"{base}/api/session/telegram", json={"init_data": raw}) as response:
        if response.status != 200:
            return response.status, None
        body = await response.json()
        return 200, Session(cookie_of(response), body["csrf"])


async def call(
    http: aiohttp.ClientSession, method: str, url: str, session: Session, **json: Any
) -> tuple[int, Any]:
    """An API call with the session's cookie and CSRF token: (status, JSON body)."""
    async with http.request(method, url, headers=session.headers(), json=json or None) as response:
        return response.status, await response.json()


async def join_a_run(server: TelegramServer, bot: Studybot) -> str:
    """Ana starts :data:`CHALLENGE` in the group and joins it; returns the run's token."""
    api = server.api
    api.set_member(GROUP, ANA.id, "administrator")

    def start_post() -> dict[str, Any]:
        found = [m for m in api.messages_in(GROUP) if "Submit my answer" in str(m)]
        return found[-1] if found else {}

    await server.send(server.updates.message(ANA, f"/challenge start {CHALLENGE} 15", GROUP))
    start = await bot.until(start_post, "the challenge's post")
    await Chat(server, ANA).tap(bot, "Submit my answer", start)
    [(token, members)] = query(
        bot.cwd / "data" / "studybot.sqlite3",
        "SELECT token, (SELECT count(*) FROM challenge_submissions) FROM challenge_runs",
    )
    assert members == 1
    return str(token)


async def page_works(http: aiohttp.ClientSession, base: str, session: Session) -> None:
    """``GET /app`` with the session's cookie: the page, the session's CSRF token in it,
    under the workspace's Content-Security-Policy; the scripts and styles it names are
    served."""
    headers = {"Cookie": f"{COOKIE}={session.cookie}"}
    async with http.get(f"{base}/app", headers=headers) as response:
        assert response.status == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        page = await response.text()
    assert f'content="{session.csrf}"' in page
    assets = re.findall(r'(?:src|href)="(static/[^"]+)"', page)
    assert any(a.endswith("app.js") for a in assets), assets
    for asset in assets:
        async with http.get(f"{base}/{asset}") as response:
            assert response.status == 200, asset


def assert_quiet(bot: Studybot, *secrets: str) -> None:
    """The process said nothing secret, and nothing went wrong."""
    output = bot.output()
    for secret in (SECRET, *secrets):
        assert secret not in output
    assert "Traceback" not in output and " ERROR " not in output, output[-3000:]


async def test_a_draft_and_a_session_outlive_a_kill_9(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bot = new_bot(server, bots, tmp_path, extra=AUTO_UPGRADE + web_section(port))
    await bot.start()
    await web_up(bot, base)
    run = await join_a_run(server, bot)
    raw = init_data(ANA)

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        status, session = await login(http, base, raw)
        assert status == 200 and session is not None
        status, body = await call(
            http, "PUT", f"{base}/api/challenge/{run}/draft", session, text=DRAFT
        )
        assert status == 200, body
        # The page, with the session's CSRF token in it, and what it loads.
        await page_works(http, base, session)

        await bot.kill()
        await bot.start()
        await web_up(bot, base)
        status, body = await call(http, "GET", f"{base}/api/challenge/{run}", session)
        assert status == 200, body
        assert body["draft"]["text"] == DRAFT
        assert body["run"]["state"] == "open"
        # The same initData again, after the restart: still refused.
        assert (await login(http, base, raw))[0] == 401

    assert await bot.stop() == 0
    assert_announced(bot, base)
    assert_quiet(bot, session.cookie, session.csrf, raw.rsplit("hash=", 1)[1])


def assert_announced(bot: Studybot, base: str) -> None:
    """Each start logged the web address at INFO."""
    starts = [line for line in bot.output().splitlines() if base in line and " INFO " in line]
    assert starts, f"no INFO line names {base}:\n{bot.output()[-3000:]}"


@pytest.mark.postgres
async def test_two_processes_on_one_database_share_sessions_and_refuse_replays(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path, postgres_url: str
) -> None:
    """Process A polls, process B only sends (``mode = "send_only"``); each serves the
    workspace on its own port."""
    ports = {"a": free_port(), "b": free_port()}
    bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    a, b = (
        new_bot(
            server,
            bots,
            tmp_path,
            name,
            telegram='mode = "send_only"\n' if name == "b" else "",
            extra=AUTO_UPGRADE + web_section(port),
            STUDYBOT_DATABASE_URL=postgres_url,
        )
        for name, port in ports.items()
    )
    await a.start()
    await web_up(a, bases["a"])
    await b.start(wait=False)
    await web_up(b, bases["b"])
    raw = init_data(ANA)

    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        status, session = await login(http, bases["a"], raw)
        assert status == 200 and session is not None
        # The same initData on the other process: a replay, refused.
        assert (await login(http, bases["b"], raw))[0] == 401
        # A's session works on B: both read it from the database.
        for base in bases.values():
            status, body = await call(http, "GET", f"{base}/api/stats", session)
            assert status == 200, body
            assert body["target"] > 0
        # Without the CSRF token, neither takes it.
        for base in bases.values():
            async with http.get(
                f"{base}/api/stats", headers={"Cookie": f"{COOKIE}={session.cookie}"}
            ) as response:
                assert response.status == 403

    for bot, base in ((a, bases["a"]), (b, bases["b"])):
        assert await bot.stop() == 0
        assert_announced(bot, base)
        assert_quiet(bot, session.cookie, session.csrf, raw.rsplit("hash=", 1)[1])
