"""The browser workspace's HTTP server (``[web]``): the page, its files, the JSON API.

A thin adapter: each API request is one call to
:class:`~bot.core.workspace.WorkspaceService`, whose value becomes JSON
(:mod:`.jsonview`). What this module adds is HTTP's part of the security of
``docs/web.md``:

- the session cookie ``__Host-sb`` (``Secure; HttpOnly; SameSite=None; Partitioned;
  Path=/``), set by the two session endpoints;
- the CSRF check on every other ``/api`` request (header ``X-CSRF-Token``, or the
  multipart field ``csrf``), compared in constant time;
- rate limits: ``[web] requests_per_minute`` per learner, and as many per client
  address on the session endpoints, ``/app`` and API requests without a live session
  (behind a reverse proxy on the same machine the address is the last one it appended
  to ``X-Forwarded-For``);
- body limits: 64 KB of JSON, a photo of at most ``[quiz] challenge_photo_mb``
  (checked from ``Content-Length`` before reading, and again while streaming); a
  photo form of at most :data:`MAX_PARTS` parts, each other field at most
  :data:`MAX_CSRF_FIELD` bytes;
- the Content-Security-Policy and the other headers on every response;
- one error handler: an ``/api`` error is always ``{"error": "..."}``; an unexpected
  exception is logged (method and route only: no cookie, token or body) and answers 500.

No access log is written (a URL may carry a run token; cookies never are logged).
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import hmac
import ipaddress
import json
import logging
import os
import re
import time
import traceback
from collections.abc import Awaitable, Callable
from html import escape
from importlib.resources import files
from importlib.resources.abc import Traversable
from types import TracebackType
from typing import Any, Final

from aiohttp import BodyPartReader, web

from bot.config.settings import WebSettings
from bot.core.challenges.photos import PhotoLimits, megabytes, too_large
from bot.core.model import WebSession
from bot.core.outcomes import Outcome
from bot.core.ports import CannotStart
from bot.core.rendering import Renderer
from bot.core.webauth import LoginRefused
from bot.core.workspace import (
    MAX_DRAFT,
    BadRequest,
    Login,
    OutOfScope,
    WorkspaceError,
    WorkspaceService,
)
from bot.platforms.web import jsonview
from bot.platforms.web.limits import RateLimiter
from bot.text.excerpt import excerpt

__all__ = ["COOKIE", "CSP", "MAX_JSON_BYTES", "WebServer"]

log = logging.getLogger(__name__)

#: The session cookie's name (``__Host-``: Secure, Path=/, no Domain, by the browser's rule).
COOKIE: Final = "__Host-sb"
#: The header carrying the session's CSRF token.
CSRF_HEADER: Final = "X-CSRF-Token"
#: The largest JSON body taken: a draft of :data:`~bot.core.workspace.MAX_DRAFT`
#: characters fits however it is escaped (``\\ud83d\\ude00`` is 12 bytes for one
#: character), so a long draft gets the friendly "at most 20,000 characters", never 413.
MAX_JSON_BYTES: Final = 12 * MAX_DRAFT + 16 * 1024
#: What a multipart upload may carry besides the photo (boundaries, the csrf field).
MULTIPART_SLACK: Final = 64 * 1024
#: The longest ``csrf`` form field read; any other field but ``photo`` is read (and
#: dropped) up to this much too, so a form's size stays bounded without a Content-Length.
MAX_CSRF_FIELD: Final = 256
#: The most parts a photo form may have (the page sends two: ``csrf`` and ``photo``).
MAX_PARTS: Final = 8

CSP: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; "
    "style-src-attr 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; "
    "frame-ancestors 'self' https://web.telegram.org https://*.telegram.org"
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
#: Content types of the page's files, by extension.
CONTENT_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".ttf": "font/ttf",
    ".txt": "text/plain; charset=utf-8",
}
#: Vendor files are named by their pinned version: cached for good.
#: How long a browser keeps a vendored file before asking again (with its ETag: a 304 when
#: it is unchanged). Not "immutable": the paths carry no version, so after an upgrade of
#: the pinned packages a browser has the new files within a day.
VENDOR_CACHE: Final = "public, max-age=86400"
#: The file types served gzipped to a browser that accepts it (fonts and images are
#: compressed already).
COMPRESSIBLE: Final = frozenset({".html", ".js", ".mjs", ".css", ".json", ".map", ".svg"})
_STATIC_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*")
_CSRF_META = re.compile(r'<meta\s+name="csrf"\s+content="[^"]*"\s*/?>')
_LEARNER_META = re.compile(r'<meta\s+name="learner"\s+content="[^"]*"\s*/?>')

NO_SESSION = (
    "You are not signed in (or your session has ended): open the workspace again from the chat."
)
BAD_CSRF = "This request did not come from the workspace page: reload the page and try again."
TOO_MANY = "Too many requests: wait a moment and try again."
NOT_FOUND = "There is nothing here, or it is not yours."
TOO_LARGE = "That is too large to send."
BAD_JSON = "The request could not be read."
BAD_FORM = "The form could not be read: send one photo (and the page's csrf field)."
NOT_JSON = "The request must be sent as JSON (Content-Type: application/json)."
UNEXPECTED = "Something went wrong on our side; please try again."
NO_PAGE = "The workspace page is not installed with this bot."
#: What an ``/api`` request gets for an HTTP error raised by aiohttp itself.
STATUS_TEXT: Final = {
    400: BAD_JSON,
    401: NO_SESSION,
    403: BAD_CSRF,
    404: NOT_FOUND,
    405: "That request is not allowed here.",
    413: TOO_LARGE,
    415: NOT_JSON,
    429: TOO_MANY,
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ApiError(Exception):
    """An ``/api`` answer other than success: the status and a sentence for the learner."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    """``{"error": message}`` with ``status``, never cached."""
    return web.json_response(
        {"error": message}, status=status, headers={"Cache-Control": "no-store", **(headers or {})}
    )


def ok(body: dict[str, Any]) -> web.Response:
    """A JSON answer, never cached."""
    return web.json_response(body, headers={"Cache-Control": "no-store"})


def default_static() -> Traversable:
    """The page's files as installed with the package (``bot/platforms/web/static``)."""
    return files("bot.platforms.web") / "static"


def over_limit(photos: PhotoLimits) -> str:
    """What a photo found too large while it streams in is told (its size is unknown)."""
    return (
        f"That photo is larger than {megabytes(photos.max_bytes)}, the most I keep. Please "
        "send a smaller one (a screenshot of the page, or the photo compressed), or type "
        "your answer."
    )


#: Modules whose exception messages may quote a statement's parameters (a session's
#: CSRF token, a draft): their messages are not logged.
_WITHHELD: Final = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg")


def safe_message(exc: BaseException) -> str:
    """An unexpected exception's message for the log, unless it comes from a database
    library (its message may hold the parameters of the statement that failed)."""
    if type(exc).__module__.split(".")[0] in _WITHHELD:
        return "(the database's message is not logged: it may quote the request's values)"
    return excerpt(str(exc), 300)


def session_cookie(value: str, hours: int) -> str:
    """The ``Set-Cookie`` value of a session (written here: Python's ``http.cookies``
    knows ``Partitioned`` only from 3.14). ``value`` is url-safe base64: nothing to quote."""
    return (
        f"{COOKIE}={value}; Max-Age={hours * 3600}; Path=/; Secure; HttpOnly; "
        "SameSite=None; Partitioned"
    )


def session_cookie_of(request: web.Request) -> str:
    """The session cookie's value, or "" without one; a value that is not ASCII (bytes
    that are no UTF-8 arrive as surrogates) names no session either."""
    value = request.cookies.get(COOKIE, "")
    return value if value.isascii() else ""


def client_address(request: web.Request) -> str:
    """Who is asking, for the session endpoints' limit: the peer's address, or, when the
    peer is a reverse proxy on this machine (a loopback address), the last address it
    appended to ``X-Forwarded-For``."""
    remote = request.remote or ""
    forwarded = request.headers.get("X-Forwarded-For", "")
    try:
        loopback = ipaddress.ip_address(remote).is_loopback
    except ValueError:
        loopback = False
    if loopback and forwarded:
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return remote


class WebServer:
    """The workspace's HTTP server; use it as an async context manager.

    Args:
        settings: ``[web]`` (``host``, ``port``: 0 picks a free port, :attr:`port`
            says which; ``requests_per_minute``; ``session_hours`` for the cookie).
        workspace: the core service every request calls.
        pictures: draws card and challenge images (``App.pictures``; None: text only).
        photos: the photo answers' limits (``[quiz] challenge_photo_mb``).
        monotonic: the rate limits' clock (tests move it on instead of sleeping).
        static: the page's files (tests pass their own; by default the installed ones).

    :attr:`application` is the aiohttp application, for aiohttp's ``TestServer``.
    """

    def __init__(
        self,
        settings: WebSettings,
        workspace: WorkspaceService,
        *,
        pictures: Renderer | None = None,
        photos: PhotoLimits | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        static: Traversable | None = None,
    ) -> None:
        self.settings = settings
        self.host = settings.host
        self.port = settings.port
        self.workspace = workspace
        self.pictures = pictures
        self.photos = photos or PhotoLimits()
        self.static = static if static is not None else default_static()
        self.learners = RateLimiter(settings.requests_per_minute, monotonic=monotonic)
        self.addresses = RateLimiter(settings.requests_per_minute, monotonic=monotonic)
        self._files: dict[str, bytes] = {}
        self._etags: dict[str, str] = {}
        self._gzip: dict[str, bytes] = {}
        app = web.Application(middlewares=[self._errors], client_max_size=MAX_JSON_BYTES)
        app.on_response_prepare.append(_security_headers)
        r = app.router
        r.add_get("/app", self._app)
        r.add_get("/static/{path:.+}", self._static_file)
        r.add_post("/api/session/telegram", self._login_telegram)
        r.add_post("/api/session/link", self._login_link)
        r.add_get("/api/challenge/{run}", self._challenge)
        r.add_put("/api/challenge/{run}/draft", self._draft)
        r.add_post("/api/challenge/{run}/answer", self._answer)
        r.add_post("/api/challenge/{run}/photo", self._photo)
        r.add_post("/api/challenge/{run}/assess", self._assess)
        r.add_post("/api/challenge/{run}/share", self._share)
        r.add_get("/api/review", self._review)
        r.add_post("/api/press", self._press)
        r.add_get("/api/stats", self._stats)
        self.application = app
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen.

        Raises:
            CannotStart: the address cannot be listened on (the port is taken, say).
        """
        runner = web.AppRunner(self.application, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            raise CannotStart(
                f"[web] cannot listen on {self.host}:{self.port} "
                f"({os.strerror(exc.errno) if exc.errno else exc}): set [web] port to a free "
                "port, or [web] host to an address of this machine"
            ) from None
        self._runner = runner
        address: Any = runner.addresses[0]
        self.port = int(address[1])
        log.info(
            "web workspace on http://%s:%d, opened as %s/app",
            self.host,
            self.port,
            self.settings.public_url,
        )

    async def stop(self) -> None:
        """Stop listening (requests in flight are finished first)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> WebServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ the one error handler

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        api = request.path.startswith("/api/")
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.headers)
        except LoginRefused as exc:
            return error_response(401, str(exc))
        except OutOfScope as exc:
            return error_response(403, exc.message)
        except (BadRequest, WorkspaceError) as exc:
            return error_response(400, exc.message)
        except web.HTTPException as exc:
            if not api or exc.status < 400:
                raise
            headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
            return error_response(exc.status, STATUS_TEXT.get(exc.status, UNEXPECTED), headers)
        except (asyncio.CancelledError, ConnectionResetError):
            raise
        except Exception as exc:
            route = request.match_info.route.resource
            where = route.canonical if route is not None else "?"
            # The route's pattern, never the path, query, headers or body: no token is logged.
            log.error(
                "web: %s on %s %s: %s\n%s",
                type(exc).__name__,
                request.method,
                where,
                safe_message(exc),
                "".join(traceback.format_tb(exc.__traceback__)).rstrip(),
            )
            if api:
                return error_response(500, UNEXPECTED)
            return web.Response(status=500, text=UNEXPECTED, headers={"Cache-Control": "no-store"})

    # ------------------------------------------------------------------ the checks

    def _limit(self, limiter: RateLimiter, key: object) -> None:
        wait = limiter.take(key)
        if wait:
            raise ApiError(429, TOO_MANY, {"Retry-After": str(wait)})

    async def _session(self, request: web.Request) -> WebSession:
        """The session the cookie names, within its learner's rate limit; a request that
        names no live session counts against its client address instead (each is a
        database lookup: it is limited like ``/app``).

        Raises:
            ApiError: 401 without a live session, 429 over the limit.
        """
        session = await self.workspace.session(session_cookie_of(request))
        if session is None:
            self._limit(self.addresses, ("api", client_address(request)))
            raise ApiError(401, NO_SESSION)
        self._limit(self.learners, session.learner_id)
        return session

    @staticmethod
    def _check_csrf(session: WebSession, given: str | None) -> None:
        # A token is ASCII; a header's other bytes come as surrogates no UTF-8 can encode.
        if not given or not given.isascii() or not hmac.compare_digest(given, session.csrf):
            raise ApiError(403, BAD_CSRF)

    async def _enter(self, request: web.Request) -> WebSession:
        """The session, its rate limit, and the CSRF header (every ``/api`` request but
        the session endpoints and a multipart form carrying the token as a field)."""
        session = await self._session(request)
        self._check_csrf(session, request.headers.get(CSRF_HEADER))
        return session

    @staticmethod
    async def _json(request: web.Request) -> dict[str, Any]:
        """The JSON object of the body (at most :data:`MAX_JSON_BYTES`: 413 beyond).

        Raises:
            ApiError: 400 when it is no JSON object; 413 when too large; 415 when it is
                not sent as ``application/json``.
        """
        if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
            raise ApiError(413, TOO_LARGE)
        if request.content_type != "application/json":
            # A form of another site can post text/plain, never application/json (that
            # needs a CORS preflight this server never grants): no login CSRF.
            raise ApiError(415, NOT_JSON)
        raw = await request.read()  # aiohttp stops at client_max_size (413)
        try:
            body = json.loads(raw or b"{}")
        except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested too deep
            raise ApiError(400, BAD_JSON) from None
        if not isinstance(body, dict):
            raise ApiError(400, BAD_JSON)
        if not _storable(body):
            raise ApiError(400, BAD_JSON)
        return body

    @staticmethod
    def _text(body: dict[str, Any], key: str) -> str:
        """The body's ``key`` as text (400 otherwise)."""
        value = body.get(key)
        if not isinstance(value, str):
            raise ApiError(400, f"The request needs “{key}” as text.")
        return value

    @classmethod
    def _optional_text(cls, body: dict[str, Any], key: str) -> str | None:
        """The body's ``key`` as text, or None when absent or null."""
        return None if body.get(key) is None else cls._text(body, key)

    # ------------------------------------------------------------------ the page

    def _file(self, path: str) -> bytes | None:
        """A file of the page (read once, then kept), or None."""
        if path in self._files:
            return self._files[path]
        node = self.static
        for part in path.split("/"):
            node = node / part
        if not node.is_file():
            return None
        data = node.read_bytes()
        self._files[path] = data
        return data

    async def _app(self, request: web.Request) -> web.Response:
        """``index.html`` with the session's CSRF token in its ``<meta name="csrf">`` and
        the learner's name in its ``<meta name="learner">`` (both escaped; empty without
        a live session)."""
        page = self._file("index.html")
        if page is None:
            return web.Response(status=503, text=NO_PAGE, headers={"Cache-Control": "no-store"})
        self._limit(self.addresses, ("app", client_address(request)))
        found = await self.workspace.signed_in(session_cookie_of(request))
        csrf, name = (found[0].csrf, found[1]) if found is not None else ("", "")
        html = _fill_meta(page.decode("utf-8"), _CSRF_META, "csrf", csrf)
        html = _fill_meta(html, _LEARNER_META, "learner", name)
        return web.Response(
            text=html,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "no-store"},
        )

    async def _static_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        if not _STATIC_PATH.fullmatch(path) or ".." in path.split("/"):
            raise web.HTTPNotFound()
        data = self._file(path)
        if data is None or path == "index.html":
            raise web.HTTPNotFound()
        suffix = os.path.splitext(path)[1].lower()
        etag = f'"{self._etag(path, data)}"'
        headers = {
            "Content-Type": CONTENT_TYPES.get(suffix, "application/octet-stream"),
            "Cache-Control": VENDOR_CACHE if path.startswith("vendor/") else "no-cache",
            "ETag": etag,
            "Vary": "Accept-Encoding",
        }
        if etag in request.headers.get("If-None-Match", ""):
            return web.Response(status=304, headers=headers)
        if suffix in COMPRESSIBLE and "gzip" in request.headers.get("Accept-Encoding", ""):
            headers["Content-Encoding"] = "gzip"
            data = await self._gzipped(path, data)
        return web.Response(body=data, headers=headers)

    def _etag(self, path: str, data: bytes) -> str:
        """The file's ETag: a digest of its bytes (computed once)."""
        if path not in self._etags:
            self._etags[path] = hashlib.sha256(data).hexdigest()[:32]
        return self._etags[path]

    async def _gzipped(self, path: str, data: bytes) -> bytes:
        """The file gzipped (once, off the event loop, then kept): a first visit's
        451 KB of script and style is 137 KB so (benchmarks/README.md, web_load)."""
        if path not in self._gzip:
            self._gzip[path] = await asyncio.to_thread(gzip.compress, data, 9, mtime=0)
        return self._gzip[path]

    # ------------------------------------------------------------------ sessions

    def _signed_in(self, login: Login) -> web.Response:
        response = ok({"csrf": login.csrf, "name": login.name, "scope": login.scope})
        response.headers.add(
            "Set-Cookie", session_cookie(login.cookie, self.settings.session_hours)
        )
        return response

    async def _login_telegram(self, request: web.Request) -> web.Response:
        self._limit(self.addresses, ("session", client_address(request)))
        raw = self._text(await self._json(request), "init_data")
        cookie = request.cookies.get(COOKIE, "")
        return self._signed_in(await self.workspace.login_telegram(raw, cookie))

    async def _login_link(self, request: web.Request) -> web.Response:
        self._limit(self.addresses, ("session", client_address(request)))
        token = self._text(await self._json(request), "token")
        return self._signed_in(await self.workspace.login_link(token))

    # ------------------------------------------------------------------ challenge

    async def _outcome(self, outcome: Outcome | None) -> web.Response:
        if outcome is None:
            raise ApiError(404, NOT_FOUND)
        return ok({"outcome": await jsonview.outcome_json(outcome, self.pictures)})

    async def _challenge(self, request: web.Request) -> web.Response:
        session = await self._enter(request)
        page = await self.workspace.challenge(session, request.match_info["run"])
        if page is None:
            raise ApiError(404, NOT_FOUND)
        return ok(await jsonview.challenge_json(page, self.pictures))

    async def _draft(self, request: web.Request) -> web.Response:
        session = await self._enter(request)
        text = self._text(await self._json(request), "text")
        saved = await self.workspace.save_draft(session, request.match_info["run"], text)
        if saved is None:
            raise ApiError(404, NOT_FOUND)
        return ok({"updated_at": jsonview.iso(saved)})

    async def _answer(self, request: web.Request) -> web.Response:
        session = await self._enter(request)
        text = self._text(await self._json(request), "text")
        return await self._outcome(
            await self.workspace.answer(session, request.match_info["run"], text)
        )

    async def _photo(self, request: web.Request) -> web.Response:
        """A multipart form: ``photo`` (the image) and ``csrf`` (or the header)."""
        session = await self._session(request)
        header = request.headers.get(CSRF_HEADER)
        if header is not None:
            self._check_csrf(session, header)
        limit = self.photos.max_bytes
        length = request.content_length
        if length is not None and length > limit + MULTIPART_SLACK:
            raise ApiError(413, too_large(length, self.photos))
        if not request.content_type.startswith("multipart/"):
            raise ApiError(400, "Send the photo as a form (multipart/form-data).")
        csrf: str | None = header
        photo: bytes | None = None
        parts = 0
        try:  # aiohttp's multipart reader says ValueError for a form it cannot read
            reader = await request.multipart()
            while (part := await reader.next()) is not None:
                parts += 1
                if not isinstance(part, BodyPartReader) or parts > MAX_PARTS:
                    raise ApiError(400, BAD_FORM)
                if part.name == "csrf" and csrf is None:
                    csrf = (await _read_part(part, MAX_CSRF_FIELD, TOO_LARGE)).decode(
                        "utf-8", "replace"
                    )
                elif part.name == "photo" and photo is None:
                    photo = await _read_part(part, limit, over_limit(self.photos))
                else:  # read, bounded, and dropped: never streamed through unbounded
                    await _read_part(part, MAX_CSRF_FIELD, TOO_LARGE)
        except ValueError:  # no boundary, none found, the body ends inside a part
            raise ApiError(400, BAD_FORM) from None
        self._check_csrf(session, csrf)
        if not photo:
            raise ApiError(400, "The form carries no photo.")
        return await self._outcome(
            await self.workspace.photo(session, request.match_info["run"], photo)
        )

    async def _assess(self, request: web.Request) -> web.Response:
        session = await self._enter(request)
        body = await self._json(request)
        grades = body.get("grades")
        checks = body.get("checks", [])
        if not isinstance(grades, list) or not all(
            g is None or (isinstance(g, int) and not isinstance(g, bool)) for g in grades
        ):
            raise ApiError(400, "The self-assessment needs one grade (1-3) per rubric row.")
        if not isinstance(checks, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) for c in checks
        ):
            raise ApiError(400, "The ticked checkpoints must be a list of numbers.")
        return await self._outcome(
            await self.workspace.assess(session, request.match_info["run"], grades, checks)
        )

    async def _share(self, request: web.Request) -> web.Response:
        session = await self._enter(request)
        return await self._outcome(await self.workspace.share(session, request.match_info["run"]))

    # ------------------------------------------------------------------ review, stats

    async def _review(self, request: web.Request) -> web.Response:
        session = await self._enter(request)
        return await self._outcome(await self.workspace.review(session))

    async def _press(self, request: web.Request) -> web.Response:
        session = await self._enter(request)
        body = await self._json(request)
        payload = self._text(body, "payload")
        typed = self._optional_text(body, "typed_answer")
        return await self._outcome(await self.workspace.press(session, payload, typed))

    async def _stats(self, request: web.Request) -> web.Response:
        session = await self._enter(request)
        return ok(jsonview.stats_json(await self.workspace.stats(session)))


def _storable(body: object) -> bool:
    """Whether every string of a parsed JSON value (keys too) is text a database keeps:
    no NUL (PostgreSQL refuses it) and no lone surrogate (``"\\ud800"`` is valid JSON,
    but no UTF-8). Walked without recursion: the value may be nested deep."""
    stack = [body]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return False
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(value, dict):
            stack.extend(value)
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return True


def _fill_meta(html: str, pattern: re.Pattern[str], name: str, value: str) -> str:
    """``html`` with its first ``<meta name="{name}">`` holding ``value`` (escaped)."""
    meta = f'<meta name="{name}" content="{escape(value, quote=True)}">'
    return pattern.sub(lambda _m: meta, html, count=1)


async def _read_part(part: BodyPartReader, limit: int, too_large_text: str) -> bytes:
    """A form field's bytes, at most ``limit`` (413 with ``too_large_text`` beyond),
    read chunk by chunk so that an oversized upload is never held whole."""
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise ApiError(413, too_large_text)
    return bytes(data)


async def _security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """The CSP and the other headers of ``docs/web.md``, on every response."""
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value
    if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
        response.headers["Cache-Control"] = "no-store"
