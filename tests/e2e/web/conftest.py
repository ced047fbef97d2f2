"""Fixtures of the browser tests: one headless Chromium for the session, a new context
(cookies, storage) for every page a test opens, the app and its web server.

The browser is ``STUDYBOT_BROWSER`` (Debian's ``/usr/bin/chromium`` by default) driven
by Playwright's async API; Playwright never downloads a browser of its own. Without the
executable the tests skip, naming it, unless ``STUDYBOT_REQUIRE_BROWSER=1`` (CI), when
they fail. Every console error, uncaught page error and Content-Security-Policy
violation a page shows fails the test that opened it (:class:`Pages`). Screenshots go
to ``STUDYBOT_SCREENSHOTS`` when it is set (CI keeps them), else to pytest's tmp.

The browser lives in the session's event loop, so the tests here run in it too
(``pytestmark`` in each module) and so do the async fixtures below.
"""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import pytest_asyncio

from bot.app import build_app, web_server
from bot.config import default_settings
from tests.e2e.process.harness import free_port
from tests.e2e.web.site import Site, web_settings

if TYPE_CHECKING:
    from playwright.async_api import Browser, BrowserContext, ConsoleMessage, Page

BROWSER_ENV = "STUDYBOT_BROWSER"
REQUIRE_ENV = "STUDYBOT_REQUIRE_BROWSER"
SHOTS_ENV = "STUDYBOT_SCREENSHOTS"
DEFAULT_BROWSER = "/usr/bin/chromium"
#: What Chromium needs to run headless here (no sandbox in a container, no GPU) and to
#: stay off the network (no updates, sync or first-run pages).
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
#: Passes each CSP violation the page sees to the test (``__sbCsp``); an init script
#: runs before the page's own and is not subject to its policy.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__sbCsp(`${e.violatedDirective} blocked ${e.blockedURI || "inline"}`
    + ` at ${e.sourceFile || "?"}:${e.lineNumber}`);
});
"""


def no_browser(reason: str) -> None:
    """Skip (fail with ``STUDYBOT_REQUIRE_BROWSER=1``): the browser tests cannot run."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(reason)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium, launched once for the session."""
    executable = Path(os.environ.get(BROWSER_ENV) or DEFAULT_BROWSER)
    if not os.access(executable, os.X_OK):
        no_browser(
            f"no Chromium at {executable}: install Debian's chromium, or name one in {BROWSER_ENV}"
        )
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        no_browser("Playwright's Python package is not installed (pip install -e '.[test]')")
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=str(executable), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            await launched.close()


@dataclass
class Pages:
    """Opens pages, each in a new browser context (its own cookies: another device),
    and records the problems they show.

    Args:
        browser: the session's browser.
    """

    browser: Browser
    #: Console errors, page errors and CSP violations, as seen.
    problems: list[str] = field(default_factory=list)
    _allowed: list[re.Pattern[str]] = field(default_factory=list)
    _contexts: list[BrowserContext] = field(default_factory=list)

    async def open(self, *, width: int = 1280, height: int = 900) -> Page:
        """A blank page in a new context, ``width`` × ``height`` CSS pixels."""
        context = await self.browser.new_context(viewport={"width": width, "height": height})
        self._contexts.append(context)
        await context.expose_function("__sbCsp", lambda text: self.problems.append(f"CSP {text}"))
        await context.add_init_script(CSP_LISTENER)
        page = await context.new_page()
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))
        return page

    def _console(self, message: ConsoleMessage) -> None:
        where = str(message.location.get("url", ""))
        # Chromium asks for /favicon.ico by itself; the page never names one.
        if message.type == "error" and not where.endswith("/favicon.ico"):
            self.problems.append(f"console error: {message.text} ({where})")

    def allow(self, pattern: str) -> None:
        """Take console errors matching ``pattern`` (a regex) as expected: Chromium logs a
        refused request ("status of 401") as one."""
        self._allowed.append(re.compile(pattern))

    def unexpected(self) -> list[str]:
        """The problems seen that were not allowed."""
        return [p for p in self.problems if not any(a.search(p) for a in self._allowed)]

    async def close(self) -> None:
        for context in self._contexts:
            await context.close()


@pytest_asyncio.fixture(loop_scope="session")
async def pages(browser: Browser) -> AsyncIterator[Pages]:
    """Pages for one test; it fails if any showed a console error, page error or CSP
    violation it did not expect."""
    opened = Pages(browser)
    try:
        yield opened
    finally:
        await opened.close()
    if problems := opened.unexpected():
        pytest.fail("the page showed problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    """Where screenshots go: ``STUDYBOT_SCREENSHOTS`` (made) or the test's tmp folder."""
    folder = Path(os.environ[SHOTS_ENV]) if os.environ.get(SHOTS_ENV) else tmp_path / "shots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest_asyncio.fixture(loop_scope="session")
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    """The app on a new SQLite file with the shipped decks, its web server on
    127.0.0.1 (``[web]`` enabled, public at ``http://127.0.0.1:<port>``)."""
    # A port picked here, not 0: the public address (in links) must name it up front.
    port = free_port()
    settings = web_settings(default_settings(data_dir=tmp_path / "data"), port)
    app = await build_app(settings, auto_upgrade=True)
    try:
        assert app.workspace is not None
        async with web_server(app, app.workspace) as server:
            assert server.port == port
            yield Site(app, app.workspace, f"http://127.0.0.1:{port}")
    finally:
        await app.close()
