"""Signing in to the workspace in Chromium: a Mini App's ``initData``, and Discord's
one-time links.

A valid ``initData`` signs the learner in, and the page drops it from its address;
a forged one (another learner's id under the same hash), an expired one and one used
before (opened again on another device) are refused in ``#status``, and the browser
that tried has no session the API takes. A Discord link works once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.async_api import Page, expect

from tests.e2e.web.conftest import Pages
from tests.e2e.web.site import (
    ANA,
    BEN,
    CHANNEL,
    DEE,
    GROUP,
    Site,
    forged,
    init_data,
    who,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

#: What Chromium logs for the refused login request.
REFUSED = r"status of 401"
#: What ``#status`` says for each refusal.
REFUSALS = {
    "forged": "This sign-in could not be verified.",
    "expired": "This sign-in has expired.",
    "replayed": "This link was already used.",
}


async def api_status(page: Page, site: Site, run: str) -> int:
    """The status of ``GET /api/challenge/<run>`` with the page's cookies (no CSRF
    token: a browser without a session has none)."""
    response = await page.request.get(f"{site.base}/api/challenge/{run}")
    return response.status


async def refused(page: Page, site: Site, run: str, why: str) -> None:
    """The page says why it refused, once, and the browser has no session."""
    status = page.locator("#status")
    await expect(status).to_have_class("error")
    await expect(status).to_contain_text(REFUSALS[why])
    text = await status.inner_text()
    assert text.count("Open the workspace again") == 1, text
    await expect(page.locator("#prompt")).to_be_empty()
    assert await page.context.cookies() == []
    assert await api_status(page, site, run) == 401


async def signed_in(page: Page, name: str) -> None:
    """The page says it is signed in as ``name`` (after a reload too, by the cookie) and
    shows the challenge, typeset."""
    await expect(page.locator("#status")).to_have_text(f"Signed in as {name}")
    await expect(page.locator("#prompt .katex").first).to_be_visible()


async def test_a_mini_app_login_signs_in_and_a_reload_keeps_the_session(
    site: Site, pages: Pages
) -> None:
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await pages.open(width=360)
    await page.goto(site.mini_app(f"challenge:{run}", init_data(ANA)))
    await signed_in(page, "Ana")
    # The fragment holding initData is gone from the address (and from history).
    assert "#" not in page.url and "tgWebAppData" not in page.url
    [cookie] = await page.context.cookies()
    assert cookie["name"] == "__Host-sb" and cookie["httpOnly"] and cookie["secure"]
    assert cookie["sameSite"] == "None"

    await page.reload()
    await signed_in(page, "Ana")
    csrf = await page.locator('meta[name="csrf"]').get_attribute("content")
    assert csrf
    response = await page.request.get(
        f"{site.base}/api/challenge/{run}", headers={"X-CSRF-Token": csrf}
    )
    assert response.status == 200
    assert (await response.json())["run"]["token"] == run


@pytest.mark.parametrize("how", ["forged", "expired"])
async def test_a_forged_or_expired_mini_app_login_is_refused(
    site: Site, pages: Pages, how: str
) -> None:
    pages.allow(REFUSED)
    run = await site.start_run(who(ANA), GROUP, [who(ANA), who(BEN)])
    raw = (
        forged(init_data(BEN), ANA)  # Ben's login made to say Ana
        if how == "forged"
        else init_data(ANA, age=timedelta(hours=2))  # [web] allows 10 minutes
    )
    page = await pages.open(width=360)
    await page.goto(site.mini_app(f"challenge:{run}", raw))
    await refused(page, site, run, how)


async def test_a_mini_app_login_replayed_on_another_device_is_refused(
    site: Site, pages: Pages
) -> None:
    pages.allow(REFUSED)
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    address = site.mini_app(f"challenge:{run}", init_data(ANA))
    first = await pages.open()
    await first.goto(address)
    await signed_in(first, "Ana")

    second = await pages.open()  # someone who copied the address, initData and all
    await second.goto(address)
    await refused(second, site, run, "replayed")
    # The first device is still signed in.
    await first.reload()
    await signed_in(first, "Ana")


async def test_the_first_address_opened_again_on_the_same_device_keeps_the_session(
    site: Site, pages: Pages
) -> None:
    """Telegram Web's "Reload Page" opens the Mini App's first address again, the same
    initData in it: the device that signed in with it stays signed in."""
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    address = site.mini_app(f"challenge:{run}", init_data(ANA))
    page = await pages.open()
    await page.goto(address)
    await signed_in(page, "Ana")
    await page.goto(address)
    await signed_in(page, "Ana")
    assert len(await page.context.cookies()) == 1


async def test_a_discord_link_works_once(site: Site, pages: Pages) -> None:
    pages.allow(REFUSED)
    run = await site.start_run(DEE, CHANNEL, [DEE])
    link = await site.workspace.link(DEE, f"challenge:{run}")
    assert link.startswith(f"{site.base}/app?open=challenge:{run}#link=")

    first = await pages.open()
    await first.goto(link)
    await signed_in(first, "Dee")
    assert "#" not in first.url

    second = await pages.open()
    await second.goto(link)
    await refused(second, site, run, "replayed")
