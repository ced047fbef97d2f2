"""The workspace's HTTP server over a real app (SQLite, and PostgreSQL when configured):
sign-ins, the pages, and every security case of ``docs/web.md`` tried against the
running server.

The app is built by :func:`bot.app.build_app` with the shipped decks and challenges
and a fixed clock; requests go through aiohttp's ``TestServer``/``TestClient`` to
:attr:`WebServer.application`. The rate limits run on an injected clock
(:class:`Ticks`): no test sleeps. Cookies are sent by hand (the server's cookie is
``Secure``; the test client speaks plain http).
"""

from __future__ import annotations

import asyncio
import gzip
import io
import json
import logging
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Connection, select
from sqlalchemy.exc import DBAPIError

from bot.app import App, build_app, photo_limits, web_endpoint
from bot.config import Secret, default_settings
from bot.config.settings import QuizSettings, TelegramSettings, WebSettings
from bot.core.learners import Who
from bot.core.model import WebSession
from bot.core.ports import CannotStart
from bot.core.webauth import digest, sign_init_data
from bot.platforms.web.server import COOKIE, CSP, MAX_JSON_BYTES, WebServer
from bot.storage.database import SqlDatabase
from bot.storage.tables import challenge_submissions, review_logs
from tests.fakes.clock import FixedClock
from tests.fakes.photos import PNG

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
TOKEN = "123456:TEST-TOKEN"
GROUP = "-1001"
CHALLENGE = "refl-scaled-dot-product"
ADA = Who("telegram", "101", "Ada")
BEN = Who("telegram", "102", "Ben")
CAT = Who("telegram", "103", "Cat")
DEE = Who("discord", "555", "Dee")
PER_MINUTE = 30
INDEX = (
    '<!doctype html><html><head><meta charset="utf-8">'
    '<meta name="csrf" content=""><meta name="learner" content="">'
    '<script src="/static/app.js"></script></head>'
    '<body><p id="status"></p></body></html>'
)


class Ticks:
    """The rate limits' clock: seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def static_files(folder: Path) -> Path:
    """A stand-in for the page's files: index.html, app.js and a vendor font."""
    (folder / "vendor" / "katex").mkdir(parents=True)
    (folder / "index.html").write_text(INDEX, encoding="utf-8")
    (folder / "app.js").write_text("console.log('hi');\n", encoding="utf-8")
    (folder / "vendor" / "katex" / "KaTeX_Main-Regular.woff2").write_bytes(b"wOF2font")
    return folder


@dataclass
class Web:
    """A real app, its workspace server and a client of it."""

    app: App
    server: WebServer
    client: TestClient[Any, Any]
    clock: FixedClock
    ticks: Ticks

    @property
    def db(self) -> SqlDatabase:
        return self.app.db

    def init_data(self, who: Who, query_id: str = "q") -> str:
        user = {"id": int(who.user_id), "first_name": who.display_name}
        fields = {
            "auth_date": str(int(self.clock.now().timestamp())),
            "query_id": query_id,
            "user": json.dumps(user),
        }
        return sign_init_data(TOKEN, fields)

    async def login(self, who: Who) -> tuple[str, str]:
        """Sign ``who`` in from Telegram: (cookie value, csrf)."""
        response = await self.client.post(
            "/api/session/telegram", json={"init_data": self.init_data(who, f"q{who.user_id}")}
        )
        assert response.status == 200, await response.text()
        body = await response.json()
        return cookie_of(response.headers.getall("Set-Cookie")), body["csrf"]

    async def call(
        self,
        method: str,
        path: str,
        auth: tuple[str, str] | None,
        *,
        csrf: str | None = None,
        **kw: Any,
    ) -> tuple[int, Any]:
        headers = dict(kw.pop("headers", {}))
        if auth is not None:
            headers["Cookie"] = f"{COOKIE}={auth[0]}"
            headers["X-CSRF-Token"] = auth[1] if csrf is None else csrf
        response = await self.client.request(method, path, headers=headers, **kw)
        assert response.headers["Content-Security-Policy"] == CSP
        body = await response.json() if response.content_type == "application/json" else None
        return response.status, body

    async def start_run(self, *members: Who, group: str = GROUP) -> str:
        """Ada starts the challenge in a group; ``members`` join. Returns the run token."""
        outcome = await self.app.challenges.start(ADA, group, CHALLENGE, 10, is_admin=True)
        run = await self.db.run(lambda tx: tx.challenges.open_run("telegram", group))
        assert run is not None, outcome
        for who in members:
            await self.app.challenges.join(who, run.token)
        return run.token

    async def learner_id(self, who: Who) -> int:
        return (await self.app.study.learner(who)).id


def cookie_of(set_cookies: list[str]) -> str:
    """The session cookie's value (read by hand: Python's ``http.cookies`` drops a
    cookie with ``Partitioned`` before 3.14)."""
    (header,) = set_cookies
    name, _, value = header.split(";", 1)[0].partition("=")
    assert name == COOKIE
    return value


@pytest.fixture
async def web(tmp_path: Path, database_url: str) -> AsyncIterator[Web]:
    """The app on an empty database (SQLite, and PostgreSQL when configured)."""
    base = default_settings(tmp_path / "data")
    settings = replace(
        base,
        database=replace(base.database, url=database_url),
        telegram=TelegramSettings(token=Secret(TOKEN)),
        quiz=QuizSettings(challenge_photo_mb=1),
        web=WebSettings(
            enabled=True,
            port=0,
            public_url="https://study.example.org",
            secret=Secret("a web secret for the links"),
            requests_per_minute=PER_MINUTE,
        ),
    )
    clock = FixedClock(NOW)
    app = await build_app(settings, auto_upgrade=True, clock=clock)
    assert app.workspace is not None
    ticks = Ticks()
    server = WebServer(
        settings.web,
        app.workspace,
        pictures=app.pictures,
        photos=photo_limits(settings.quiz),
        monotonic=ticks,
        static=static_files(tmp_path / "static"),
    )
    client: TestClient[Any, Any] = TestClient(TestServer(server.application))
    await client.start_server()
    try:
        yield Web(app, server, client, clock, ticks)
    finally:
        await client.close()
        await app.close()


# --------------------------------------------------------------------------- sign-in


async def test_a_telegram_login_sets_the_session_cookie_with_its_flags(web: Web) -> None:
    response = await web.client.post(
        "/api/session/telegram", json={"init_data": web.init_data(BEN)}
    )
    assert response.status == 200
    body = await response.json()
    assert body["name"] == "Ben" and body["scope"] == "*" and len(body["csrf"]) >= 40
    (header,) = response.headers.getall("Set-Cookie")
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert header.startswith(f"{COOKIE}=")
    assert {"secure", "httponly", "partitioned", "path", "max-age", "samesite"} <= attributes
    assert "SameSite=None" in header and "Path=/" in header and "Max-Age=43200" in header
    assert "domain" not in attributes
    assert response.headers["Cache-Control"] == "no-store"


async def test_forged_expired_and_replayed_init_data_get_401(web: Web) -> None:
    raw = web.init_data(BEN)
    forged = raw.replace("Ben", "Bob")
    status, body = await web.call("POST", "/api/session/telegram", None, json={"init_data": forged})
    assert status == 401 and "could not be verified" in body["error"]
    assert (await web.call("POST", "/api/session/telegram", None, json={"init_data": raw}))[
        0
    ] == 200
    status, body = await web.call("POST", "/api/session/telegram", None, json={"init_data": raw})
    assert status == 401 and "already used" in body["error"]
    old = web.init_data(CAT)
    web.clock.advance(timedelta(seconds=601))
    status, body = await web.call("POST", "/api/session/telegram", None, json={"init_data": old})
    assert status == 401 and "expired" in body["error"]
    status, body = await web.call("POST", "/api/session/telegram", None, json={"nothing": 1})
    assert status == 400 and body["error"]


async def test_a_json_endpoint_takes_only_application_json(web: Web) -> None:
    # A form on another site can post text/plain without a preflight: not taken, so no
    # one is signed in (as someone else) from another site.
    raw = json.dumps({"init_data": web.init_data(BEN)})
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        status, body = await web.call(
            "POST",
            "/api/session/telegram",
            None,
            data=raw,
            headers={"Content-Type": content_type},
        )
        assert status == 415 and "JSON" in body["error"]
    assert (await web.call("POST", "/api/session/telegram", None, json=json.loads(raw)))[0] == 200


async def test_json_nested_too_deep_is_refused_not_an_error(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    deep = '{"init_data": ' + "[" * 30_000 + "]" * 30_000 + "}"  # under 64 KB
    status, body = await web.call(
        "POST",
        "/api/session/telegram",
        None,
        data=deep,
        headers={"Content-Type": "application/json"},
    )
    assert status == 400 and body["error"] == "The request could not be read."
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_link_works_once(web: Web) -> None:
    assert web.app.workspace is not None
    url = await web.app.workspace.link(DEE, "stats")
    assert url.startswith("https://study.example.org/app?open=stats#link=")
    token = url.split("#link=")[1]
    status, body = await web.call("POST", "/api/session/link", None, json={"token": token})
    assert status == 200 and body["scope"] == "stats" and body["name"] == "Dee"
    status, body = await web.call("POST", "/api/session/link", None, json={"token": token})
    assert status == 401 and "already used" in body["error"]
    status, body = await web.call("POST", "/api/session/link", None, json={"token": "x.y"})
    assert status == 401


async def test_a_link_of_a_forgotten_learner_never_opens_whoever_gets_their_id(web: Web) -> None:
    # SQLite hands a deleted row's id to the next row when it was the largest: a link
    # minted before /forget must not sign its holder in as the learner enrolled after.
    assert web.app.workspace is not None
    url = await web.app.workspace.link(DEE, "stats")
    dee_id = await web.learner_id(DEE)
    await web.db.run(lambda tx: tx.learners.delete(dee_id))
    eve = Who("discord", "556", "Eve")
    eve_id = await web.learner_id(eve)
    if web.db.is_sqlite:
        assert eve_id == dee_id  # the case this test is about
    status, body = await web.call(
        "POST", "/api/session/link", None, json={"token": url.split("#link=")[1]}
    )
    assert status == 401 and body["error"]


async def test_without_a_session_the_api_answers_401(web: Web) -> None:
    status, body = await web.call("GET", "/api/review", None)
    assert status == 401 and "open the workspace again" in body["error"]
    status, _ = await web.call("GET", "/api/review", ("forged-cookie", "x"))
    assert status == 401


# --------------------------------------------------------------------------- the page


async def test_a_forgotten_learner_s_sessions_end_with_them(web: Web) -> None:
    cookie, csrf = await web.login(BEN)
    assert (await web.call("GET", "/api/review", (cookie, csrf)))[0] == 200
    ben_id = await web.learner_id(BEN)
    await web.db.run(lambda tx: tx.learners.delete(ben_id))  # what /forget does
    status, body = await web.call("GET", "/api/review", (cookie, csrf))
    assert status == 401 and body["error"]
    response = await web.client.get("/app", headers={"Cookie": f"{COOKIE}={cookie}"})
    page = await response.text()
    assert '<meta name="csrf" content="">' in page and csrf not in page


async def raw_status(web: Web, request: bytes) -> int:
    """Send ``request`` as bytes (headers a client library would refuse to encode) and
    return the answer's status."""
    reader, writer = await asyncio.open_connection(web.client.host, web.client.port)
    try:
        writer.write(request)
        await writer.drain()
        return int((await reader.readline()).split()[1])
    finally:
        writer.close()
        await writer.wait_closed()


async def test_bytes_that_are_no_utf_8_are_refused_not_an_error(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    cookie, csrf = await web.login(BEN)
    get = b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    ok_cookie = f"Cookie: {COOKIE}={cookie}\r\n".encode()
    bad_cookie = f"Cookie: {COOKIE}=".encode() + b"\xff\xfe\r\n"
    assert await raw_status(web, get % b"/api/stats" + bad_cookie + b"\r\n") == 401
    assert await raw_status(web, get % b"/app" + bad_cookie + b"\r\n") == 200
    bad_csrf = b"X-CSRF-Token: " + csrf.encode()[:8] + b"\xff\r\n"
    assert await raw_status(web, get % b"/api/stats" + ok_cookie + bad_csrf + b"\r\n") == 403
    # A JSON string holding a lone surrogate (no UTF-8 text can hold one).
    for path, body in (
        ("/api/session/telegram", '{"init_data": "a=\\ud800&hash=' + "0" * 64 + '"}'),
        ("/api/session/link", '{"token": "\\udfff.x"}'),
    ):
        status, answer = await web.call(
            "POST", path, None, data=body, headers={"Content-Type": "application/json"}
        )
        assert status in (400, 401) and answer["error"], (path, status)
    run = await web.start_run(BEN)
    for text in ("x \\ud800", "x \\u0000"):  # a lone surrogate; a NUL (PostgreSQL refuses)
        status, answer = await web.call(
            "PUT",
            f"/api/challenge/{run}/draft",
            (cookie, csrf),
            data='{"text": "' + text + '"}',
            headers={"Content-Type": "application/json"},
        )
        assert status == 400 and answer["error"], text
    for path in ("/api/challenge/%00", "/api/challenge/a%00b/draft"):
        status, answer = await web.call("GET", path, (cookie, csrf))
        assert status in (404, 405) and answer["error"], path
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_app_serves_the_page_with_the_csrf_escaped_and_no_cache(web: Web) -> None:
    response = await web.client.get("/app?open=review")
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Content-Security-Policy"] == CSP
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    served = await response.text()
    assert '<meta name="csrf" content="">' in served
    assert '<meta name="learner" content="">' in served
    # A session whose token holds markup: the meta carries it escaped.
    learner = await web.learner_id(BEN)
    hostile = '"><script>alert(1)</script>'
    session = WebSession(digest("c" * 43), learner, hostile, "*", NOW, NOW + timedelta(hours=1))
    await web.db.run(lambda tx: tx.web.add_session(session))
    page = await (await web.client.get("/app", headers={"Cookie": f"{COOKIE}={'c' * 43}"})).text()
    assert "<script>alert(1)</script>" not in page
    assert '<meta name="csrf" content="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">' in page
    assert '<meta name="learner" content="Ben">' in page
    cookie, csrf = await web.login(Who("telegram", "104", 'Cat "<b>"'))
    page = await (await web.client.get("/app", headers={"Cookie": f"{COOKIE}={cookie}"})).text()
    assert f'<meta name="csrf" content="{csrf}">' in page
    assert '<meta name="learner" content="Cat &quot;&lt;b&gt;&quot;">' in page


async def test_static_files_have_their_types_and_caching(web: Web) -> None:
    js = await web.client.get("/static/app.js")
    assert js.status == 200 and js.headers["Content-Type"].startswith("text/javascript")
    assert js.headers["Cache-Control"] == "no-cache"
    assert js.headers["Content-Security-Policy"] == CSP
    font = await web.client.get("/static/vendor/katex/KaTeX_Main-Regular.woff2")
    assert font.status == 200 and font.headers["Content-Type"] == "font/woff2"
    assert font.headers["Cache-Control"] == "public, max-age=86400"
    assert "Content-Encoding" not in font.headers  # woff2 is compressed already
    again = await web.client.get(
        "/static/vendor/katex/KaTeX_Main-Regular.woff2",
        headers={"If-None-Match": font.headers["ETag"]},
    )
    assert again.status == 304 and not await again.read()
    assert again.headers["Content-Security-Policy"] == CSP
    # Script and style go gzipped to a browser that takes it, the same bytes once unpacked.
    plain = await (
        await web.client.get("/static/app.js", headers={"Accept-Encoding": "identity"})
    ).read()
    packed = await web.client.get(
        "/static/app.js", headers={"Accept-Encoding": "gzip"}, auto_decompress=False
    )
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Vary"] == "Accept-Encoding"
    body = await packed.read()
    assert gzip.decompress(body) == plain
    for path in ("/static/../server.py", "/static/%2e%2e/x", "/static/nope.js", "/static/.x"):
        assert (await web.client.get(path)).status == 404, path


# --------------------------------------------------------------------------- the checks


async def test_a_missing_or_wrong_csrf_token_gets_403(web: Web) -> None:
    auth = await web.login(BEN)
    status, body = await web.call("GET", "/api/review", auth, csrf="")
    assert status == 403 and body["error"]
    status, _ = await web.call("GET", "/api/review", auth, csrf="wrong")
    assert status == 403
    response = await web.client.get("/api/review", headers={"Cookie": f"{COOKIE}={auth[0]}"})
    assert response.status == 403
    assert response.headers["Content-Security-Policy"] == CSP
    status, _ = await web.call("GET", "/api/review", auth)
    assert status == 200


async def test_a_link_session_outside_its_purpose_gets_403(web: Web) -> None:
    assert web.app.workspace is not None
    run = await web.start_run(BEN)
    url = await web.app.workspace.link(BEN, f"challenge:{run}")
    response = await web.client.post("/api/session/link", json={"token": url.split("#link=")[1]})
    auth = (cookie_of(response.headers.getall("Set-Cookie")), (await response.json())["csrf"])
    assert (await web.call("GET", f"/api/challenge/{run}", auth))[0] == 200
    for method, path in (("GET", "/api/review"), ("GET", "/api/stats")):
        status, body = await web.call(method, path, auth)
        assert status == 403 and "opened for something else" in body["error"]
    other = await web.start_run(BEN, group="-1002")  # Ben is a member, but not by this link
    assert (await web.call("GET", f"/api/challenge/{other}", auth))[0] == 403


async def test_a_run_not_joined_or_a_submission_token_gets_404(web: Web) -> None:
    run = await web.start_run(BEN, CAT)
    ben, cat = await web.login(BEN), await web.login(CAT)
    ada = await web.login(ADA)  # started it, never joined
    status, body = await web.call("GET", f"/api/challenge/{run}", ada)
    assert status == 404 and body["error"]
    for method, path, payload in (
        ("PUT", f"/api/challenge/{run}/draft", {"text": "x"}),
        ("POST", f"/api/challenge/{run}/answer", {"text": "x"}),
        ("POST", f"/api/challenge/{run}/assess", {"grades": [3, 3, 3, 3], "checks": []}),
        ("POST", f"/api/challenge/{run}/share", {}),
    ):
        assert (await web.call(method, path, ada, json=payload))[0] == 404, path
    await web.call("POST", f"/api/challenge/{run}/answer", cat, json={"text": "Cat's"})
    web.clock.advance(timedelta(minutes=10))
    await web.app.challenges.reveal_overdue()
    status, page = await web.call("GET", f"/api/challenge/{run}", cat)
    assert status == 200 and page["grading"] is not None
    cat_token = page["grading"]["token"]
    # Cat's submission token, in Ben's hands: no run by that name; no review button.
    assert (await web.call("GET", f"/api/challenge/{cat_token}", ben))[0] == 404
    status, body = await web.call("POST", "/api/press", ben, json={"payload": f"f:{cat_token}"})
    assert status == 400 and body["error"]


async def test_a_learner_named_in_a_request_is_ignored(web: Web) -> None:
    run = await web.start_run(BEN, CAT)
    ben = await web.login(BEN)
    cat_id = await web.learner_id(CAT)
    status, _ = await web.call(
        "PUT",
        f"/api/challenge/{run}/draft?learner_id={cat_id}",
        ben,
        json={"text": "Ben's draft", "learner_id": cat_id, "learner": cat_id},
    )
    assert status == 200
    status, _ = await web.call(
        "POST",
        f"/api/challenge/{run}/answer?learner_id={cat_id}",
        ben,
        json={"text": "Ben's answer", "learner_id": cat_id},
    )
    assert status == 200
    ben_id = await web.learner_id(BEN)

    def answers(conn: Connection) -> dict[int, str | None]:
        rows = conn.execute(
            select(challenge_submissions.c.learner_id, challenge_submissions.c.text)
        )
        return {int(r[0]): r[1] for r in rows}

    assert await web.db.run_connection(answers) == {ben_id: "Ben's answer", cat_id: None}
    cat = await web.login(CAT)
    status, page = await web.call("GET", f"/api/challenge/{run}?learner_id={ben_id}", cat)
    assert status == 200 and page["draft"] is None and page["submission"]["text"] is None


async def test_an_oversized_upload_gets_413(web: Web) -> None:
    run = await web.start_run(BEN)
    auth = await web.login(BEN)
    big = PNG + b"\x00" * (1024 * 1024 + 1)
    form = FormData()
    form.add_field("csrf", auth[1])
    form.add_field("photo", io.BytesIO(big), filename="page.png", content_type="image/png")
    status, body = await web.call("POST", f"/api/challenge/{run}/photo", auth, data=form)
    assert status == 413 and "larger than 1 MB" in body["error"]
    # Far over the limit: refused from its Content-Length, before the body is read.
    huge = FormData()
    huge.add_field("photo", io.BytesIO(b"\x00" * (3 * 1024 * 1024)), filename="p.png")
    status, body = await web.call("POST", f"/api/challenge/{run}/photo", auth, data=huge)
    assert status == 413 and "That photo is 3.1 MB; I keep photos of up to 1 MB" in body["error"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: caught while streaming
        boundary = b"--XyZ\r\n"
        yield boundary + b'Content-Disposition: form-data; name="photo"; filename="p.png"\r\n'
        yield b"Content-Type: image/png\r\n\r\n" + PNG
        for _ in range(20):
            yield b"\x00" * (64 * 1024)
        yield b"\r\n--XyZ--\r\n"

    status, body = await web.call(
        "POST",
        f"/api/challenge/{run}/photo",
        auth,
        data=chunks(),
        headers={"Content-Type": "multipart/form-data; boundary=XyZ"},
    )
    assert status == 413 and body["error"]
    status, body = await web.call(
        "PUT",
        f"/api/challenge/{run}/draft",
        auth,
        data=b"{" + b" " * MAX_JSON_BYTES + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert status == 413 and body["error"]


async def test_a_photo_form_is_bounded_whatever_its_other_parts(web: Web) -> None:
    run = await web.start_run(BEN)
    auth = await web.login(BEN)
    path = f"/api/challenge/{run}/photo"
    multipart = {"Content-Type": "multipart/form-data; boundary=XyZ"}

    async def junk() -> AsyncIterator[bytes]:  # a field that is no photo, never ending
        yield b'--XyZ\r\nContent-Disposition: form-data; name="junk"\r\n\r\n'
        for _ in range(3 * 16):  # 3 MB, three times the photo limit, no Content-Length
            yield b"\x00" * (64 * 1024)
        yield b"\r\n--XyZ--\r\n"

    status, body = await web.call("POST", path, auth, data=junk(), headers=multipart)
    assert status == 413 and body["error"]

    async def many() -> AsyncIterator[bytes]:  # thousands of tiny parts
        for i in range(5000):
            yield b'--XyZ\r\nContent-Disposition: form-data; name="p%d"\r\n\r\nx\r\n' % i
        yield b"--XyZ--\r\n"

    status, body = await web.call("POST", path, auth, data=many(), headers=multipart)
    assert status == 400 and body["error"]


async def test_a_form_that_cannot_be_read_is_refused_not_an_error(
    web: Web, caplog: pytest.LogCaptureFixture
) -> None:
    run = await web.start_run(BEN)
    auth = await web.login(BEN)
    part = b'--b\r\nContent-Disposition: form-data; name="photo"\r\n\r\n'
    for content_type, body in (
        ("multipart/form-data", b"no boundary"),
        ("multipart/form-data; boundary=b", b"no boundary found"),
        ("multipart/form-data; boundary=b", part + b"the body ends inside the part"),
    ):
        status, answer = await web.call(
            "POST",
            f"/api/challenge/{run}/photo",
            auth,
            data=body,
            headers={"Content-Type": content_type},
        )
        assert status == 400 and "form could not be read" in answer["error"], body
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_photo_form_carries_its_csrf_as_a_field(web: Web) -> None:
    run = await web.start_run(BEN)
    cookie, csrf = await web.login(BEN)
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    for token, expected in (("wrong", 403), (csrf, 200)):
        form = FormData()
        form.add_field("csrf", token)
        form.add_field("photo", PNG, filename="page.png", content_type="image/png")
        response = await web.client.post(f"/api/challenge/{run}/photo", data=form, headers=headers)
        assert response.status == expected, await response.text()
    status, page = await web.call("GET", f"/api/challenge/{run}", (cookie, csrf))
    assert status == 200 and page["submission"]["photo"] is True


async def test_the_rate_limit_answers_429_then_recovers(web: Web) -> None:
    auth = await web.login(BEN)
    for _ in range(PER_MINUTE):
        assert (await web.call("GET", "/api/review", auth))[0] == 200
    response = await web.client.get(
        "/api/review", headers={"Cookie": f"{COOKIE}={auth[0]}", "X-CSRF-Token": auth[1]}
    )
    assert response.status == 429 and int(response.headers["Retry-After"]) == 2
    assert "Too many requests" in (await response.json())["error"]
    web.ticks.now += 2
    assert (await web.call("GET", "/api/review", auth))[0] == 200
    # Another learner has a budget of their own.
    assert (await web.call("GET", "/api/review", await web.login(CAT)))[0] == 200


async def test_the_session_endpoints_are_limited_per_address(web: Web) -> None:
    codes = [
        (await web.call("POST", "/api/session/telegram", None, json={"init_data": "x"}))[0]
        for _ in range(PER_MINUTE + 1)
    ]
    assert codes[:PER_MINUTE] == [401] * PER_MINUTE and codes[-1] == 429
    # Behind a proxy on this machine, each forwarded address has a budget of its own.
    status, _ = await web.call(
        "POST",
        "/api/session/telegram",
        None,
        json={"init_data": "x"},
        headers={"X-Forwarded-For": "203.0.113.7"},
    )
    assert status == 401
    web.ticks.now += 60
    assert (await web.call("POST", "/api/session/telegram", None, json={"init_data": "x"}))[
        0
    ] == 401


# --------------------------------------------------------------------------- the pages


async def test_api_requests_without_a_session_are_limited_per_address(web: Web) -> None:
    # Each is a database lookup of the cookie: a client guessing cookies is slowed down.
    codes = [
        (await web.call("GET", "/api/review", (f"guess-{i}", "x")))[0]
        for i in range(PER_MINUTE + 1)
    ]
    assert codes[:PER_MINUTE] == [401] * PER_MINUTE and codes[-1] == 429
    # A learner's own session is limited per learner, not by what others did.
    assert (await web.call("GET", "/api/review", await web.login(BEN)))[0] == 200


async def test_a_draft_is_saved_and_read_back(web: Web) -> None:
    run = await web.start_run(BEN)
    auth = await web.login(BEN)
    status, saved = await web.call(
        "PUT", f"/api/challenge/{run}/draft", auth, json={"text": "$\\sqrt{d_k}$"}
    )
    assert status == 200 and saved["updated_at"] == "2026-12-07T09:00:00Z"
    status, page = await web.call("GET", f"/api/challenge/{run}", auth)
    assert page["draft"] == {"text": "$\\sqrt{d_k}$", "updated_at": "2026-12-07T09:00:00Z"}
    assert page["run"]["state"] == "open" and page["run"]["kind"] == "derivation"
    assert page["run"]["deadline"] == "2026-12-07T09:10:00Z"
    assert page["run"]["now"] == "2026-12-07T09:00:00Z"
    status, body = await web.call(
        "PUT", f"/api/challenge/{run}/draft", auth, json={"text": "x" * 20_001}
    )
    assert status == 400 and "20,000" in body["error"]
    # Characters outside the BMP, escaped as JSON does (12 bytes each): the limit is still
    # the draft's own, in characters.
    smile = "\N{GRINNING FACE}"
    status, saved = await web.call(
        "PUT", f"/api/challenge/{run}/draft", auth, json={"text": smile * 20_000}
    )
    assert status == 200
    status, body = await web.call(
        "PUT", f"/api/challenge/{run}/draft", auth, json={"text": smile * 20_001}
    )
    assert status == 400 and "20,000" in body["error"]


async def test_an_answer_reaches_the_challenge_and_the_assessment_the_log(web: Web) -> None:
    run = await web.start_run(BEN, CAT)
    ben, cat = await web.login(BEN), await web.login(CAT)
    status, body = await web.call(
        "POST", f"/api/challenge/{run}/answer", ben, json={"text": "<script>x()</script> QK^T"}
    )
    assert status == 200 and body["outcome"]["replies"][0]["text"].startswith("Got your answer")
    await web.call("POST", f"/api/challenge/{run}/answer", cat, json={"text": "Cat's"})
    ben_id = await web.learner_id(BEN)

    def submitted(conn: Connection) -> list[tuple[int, str | None]]:
        rows = conn.execute(
            select(challenge_submissions.c.learner_id, challenge_submissions.c.text).where(
                challenge_submissions.c.submitted_at.is_not(None)
            )
        )
        return sorted((int(r[0]), r[1]) for r in rows)

    assert (ben_id, "<script>x()</script> QK^T") in await web.db.run_connection(submitted)
    status, page = await web.call("GET", f"/api/challenge/{run}", ben)
    assert page["grading"] is None and page["others"] == []
    web.clock.advance(timedelta(minutes=10))
    await web.app.challenges.reveal_overdue()
    status, page = await web.call("GET", f"/api/challenge/{run}", cat)
    assert page["run"]["state"] == "revealed"
    grading = page["grading"]
    assert len(grading["rows"]) == 4 and len(grading["checkpoints"]) == 5
    assert grading["grades"] == [None] * 4 and grading["assessed"] is False
    assert grading["answer"] == "Cat's" and grading["reference"]
    # Ben shares his answer: Cat sees it as the group does, markup and all, as text.
    assert (await web.call("POST", f"/api/challenge/{run}/share", ben))[0] == 200
    status, page = await web.call("GET", f"/api/challenge/{run}", cat)
    assert page["others"] == [{"name": "Ben", "text": "<script>x()</script> QK^T", "photo": False}]
    status, body = await web.call(
        "POST", f"/api/challenge/{run}/assess", cat, json={"grades": [3, 2, 1, 3], "checks": [0]}
    )
    assert status == 200 and body["outcome"]["notice"] == "Applied to your cards."
    cat_id = await web.learner_id(CAT)

    def logged(conn: Connection) -> list[tuple[str, int]]:
        rows = conn.execute(
            select(review_logs.c.card_id, review_logs.c.rating).where(
                review_logs.c.learner_id == cat_id, review_logs.c.source == "challenge"
            )
        )
        return [(r[0], int(r[1])) for r in rows]

    reviews = await web.db.run_connection(logged)
    assert len(reviews) >= 4 and {rating for _card, rating in reviews} <= {1, 2, 3}
    status, page = await web.call("GET", f"/api/challenge/{run}", cat)
    assert page["grading"]["assessed"] is True and page["grading"]["grades"] == [3, 2, 1, 3]
    status, body = await web.call(
        "POST", f"/api/challenge/{run}/assess", cat, json={"grades": ["3"], "checks": []}
    )
    assert status == 400


async def test_review_and_its_buttons_through_the_api(web: Web) -> None:
    auth = await web.login(BEN)
    status, body = await web.call("GET", "/api/review", auth)
    front = body["outcome"]["replies"][0]
    assert status == 200 and front["kind"] == "front" and front["card"]["front"]
    show = front["buttons"][0][0]
    assert show["label"] == "Show answer" and show["style"] == "primary"
    status, body = await web.call("POST", "/api/press", auth, json={"payload": show["payload"]})
    back = body["outcome"]["edit"]
    assert status == 200 and back["card"]["back"]
    good = next(b for row in back["buttons"] for b in row if b["label"].startswith("Good"))
    status, body = await web.call("POST", "/api/press", auth, json={"payload": good["payload"]})
    assert status == 200 and body["outcome"]["close"].startswith("Good")
    ben_id = await web.learner_id(BEN)

    def count(conn: Connection) -> int:
        return len(
            conn.execute(select(review_logs.c.id).where(review_logs.c.learner_id == ben_id)).all()
        )

    assert await web.db.run_connection(count) == 1
    status, body = await web.call("POST", "/api/press", auth, json={"payload": "os:go:review"})
    assert status == 400 and body["error"]


async def test_stats_through_the_api(web: Web) -> None:
    auth = await web.login(BEN)
    status, body = await web.call("GET", "/api/stats", auth)
    assert status == 200 and body["target"] == 0.9
    assert len(body["forecast"]) == 30 and body["forecast"][0] == {"day": "2026-12-07", "due": 0}
    assert len(body["retention"]) == 12 and body["retention"][-1]["week"] == "2026-12-07"
    assert len(body["workload"]) == 30 and body["workload"][-1]["day"] == "2026-12-07"
    assert body["calibration"] == []


async def test_errors_are_json_and_an_unexpected_one_is_logged_without_secrets(
    web: Web, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    auth = await web.login(BEN)
    status, body = await web.call("GET", "/api/nothing-here", auth)
    assert status == 404 and body["error"]
    status, body = await web.call("DELETE", "/api/review", auth)
    assert status == 405 and body["error"]

    async def broken(*args: object) -> None:
        raise RuntimeError("boom")

    assert web.app.workspace is not None
    monkeypatch.setattr(web.app.workspace, "stats", broken)
    with caplog.at_level(logging.ERROR):
        status, body = await web.call("GET", "/api/stats?token=sekrit", auth)
    assert status == 500 and body == {
        "error": "Something went wrong on our side; please try again."
    }
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "RuntimeError on GET /api/stats: boom" in logged and "in broken" in logged
    assert auth[0] not in logged and auth[1] not in logged and "sekrit" not in logged

    # A database error's message may quote the statement's values: it is not logged.
    async def failing(*args: object) -> None:
        raise DBAPIError("UPDATE web_drafts SET text=?", {"text": auth[1]}, Exception("x"))

    monkeypatch.setattr(web.app.workspace, "stats", failing)
    caplog.clear()
    with caplog.at_level(logging.ERROR):
        status, _ = await web.call("GET", "/api/stats", auth)
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert status == 500 and "DBAPIError on GET /api/stats" in logged
    first = logged.splitlines()[0]
    # (The frames' source lines are code, never values: the test's own line is there.)
    assert auth[1] not in logged and "UPDATE" not in first and "not logged" in first


async def test_a_taken_port_is_one_line_naming_the_setting(web: Web) -> None:
    assert web.app.workspace is not None
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = WebServer(replace(web.app.settings.web, port=port), web.app.workspace)
        with pytest.raises(CannotStart) as info:
            await server.start()
    assert "[web] port" in str(info.value) and "\n" not in str(info.value)
    async with WebServer(replace(web.app.settings.web, port=0), web.app.workspace) as running:
        assert running.port > 0


async def test_run_serves_the_workspace_only_when_web_is_enabled(web: Web, tmp_path: Path) -> None:
    endpoint = web_endpoint(web.app)
    assert isinstance(endpoint, WebServer)
    assert endpoint.workspace is web.app.workspace and endpoint.pictures is web.app.pictures
    assert endpoint.photos.max_bytes == 1024 * 1024
    base = default_settings(tmp_path / "off")
    off = replace(
        base, database=replace(base.database, url=f"sqlite+aiosqlite:///{tmp_path / 'off.db'}")
    )
    app = await build_app(off, auto_upgrade=True)
    try:
        assert app.workspace is None
        assert not isinstance(web_endpoint(app), WebServer)
    finally:
        await app.close()
