"""The browser tests' safety net: :class:`~tests.e2e.web.conftest.Pages` sees a Content
Security Policy violation, a console error and an uncaught error, so a page that shows
one fails its test. Checked on a page of its own, served with the workspace's policy."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from aiohttp import web
from playwright.async_api import Browser

from tests.e2e.web.conftest import Pages

pytestmark = pytest.mark.asyncio(loop_scope="session")

#: The workspace's policy (docs/web.md), which forbids inline scripts.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self'; connect-src 'self'; form-action 'self'; "
    "base-uri 'none'"
)
PAGE = """<!doctype html><html><head><script src="/bad.js"></script></head>
<body><script>window.inline = 1</script><p id="p">x</p></body></html>"""
SCRIPT = "console.error('something broke'); setTimeout(() => { throw new Error('uncaught'); });"


@pytest_asyncio.fixture(loop_scope="session")
async def bad_page() -> AsyncIterator[str]:
    """A page breaking its own policy and logging errors; its address."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(
            text=PAGE, content_type="text/html", headers={"Content-Security-Policy": POLICY}
        )

    async def script(request: web.Request) -> web.Response:
        return web.Response(text=SCRIPT, content_type="text/javascript")

    app = web.Application()
    app.router.add_get("/", page)
    app.router.add_get("/bad.js", script)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}/"
    finally:
        await runner.cleanup()


async def test_the_watch_sees_csp_violations_console_and_page_errors(
    browser: Browser, bad_page: str
) -> None:
    pages = Pages(browser)
    try:
        page = await pages.open(width=360)
        await page.goto(bad_page)
        for _ in range(200):  # each turn waits for the page's next timer turn
            if len(pages.problems) >= 3:
                break
            await page.evaluate("new Promise((done) => setTimeout(done, 5))")
    finally:
        await pages.close()
    seen = "\n".join(pages.problems)
    assert "CSP script-src" in seen and "inline" in seen, seen
    assert "console error: something broke" in seen, seen
    assert "page error: uncaught" in seen, seen
    pages.allow("something broke|uncaught|script-src")
    assert pages.unexpected() == []
