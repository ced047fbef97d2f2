"""Reviewing and the charts in the workspace, in Chromium: a card is revealed and rated
with the page's buttons (the review reaches the learner's log), then ``/stats`` is drawn
as charts from the learner's own data. Screenshots at 360 and 1280 px wide."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import expect

from tests.e2e.web.conftest import Pages
from tests.e2e.web.site import ANA, Site, init_data, who

pytestmark = pytest.mark.asyncio(loop_scope="session")

#: Each chart label's font size in screen pixels: its size in the chart's units times the
#: scale of the chart (drawn 320 units wide).
TICK_PIXELS = """() => [...document.querySelectorAll('#stats .tick')].map((t) =>
    parseFloat(getComputedStyle(t).fontSize) * t.ownerSVGElement.getBoundingClientRect().width
    / t.ownerSVGElement.viewBox.baseVal.width)"""
#: Whether, in every chart, no two labels' boxes overlap and each lies inside the chart.
TICKS_APART = """() => [...document.querySelectorAll('#stats svg')].every((svg) => {
    const frame = svg.getBoundingClientRect();
    const boxes = [...svg.querySelectorAll('.tick')].map((t) => t.getBoundingClientRect());
    const inside = boxes.every((b) => b.left >= frame.left - 0.5 && b.right <= frame.right + 0.5);
    const apart = boxes.every((a, i) => boxes.slice(i + 1).every((b) =>
        a.right <= b.left || b.right <= a.left || a.bottom <= b.top || b.bottom <= a.top));
    return inside && apart;
})"""


async def test_a_card_rated_on_the_page_then_the_charts(
    site: Site, pages: Pages, shots: Path
) -> None:
    page = await pages.open(width=360)
    await page.goto(site.mini_app("review", init_data(ANA)))
    await expect(page.locator("#status")).to_have_text("Signed in as Ana")
    card, buttons = page.locator("#card"), page.locator("#card-buttons")
    await expect(card).not_to_be_empty()
    await buttons.get_by_role("button", name="Show answer").click()
    good = buttons.get_by_role("button", name=re.compile(r"^Good"))
    await expect(good).to_be_visible()
    for rating in ("Again", "Hard", "Easy"):
        await expect(buttons.get_by_role("button", name=re.compile(f"^{rating}"))).to_be_visible()
    assert await page.evaluate("() => document.documentElement.scrollWidth") <= 360
    await page.screenshot(path=shots / "review-360.png", full_page=True)
    await good.click()
    await expect(good).to_have_count(0)
    reviews = await site.reviews(who(ANA))
    assert [rating for _card, rating, _source in reviews] == [3]  # Good

    # The same session (scope "*") opens the charts.
    await page.goto(site.page("stats"))
    charts = page.locator("#stats figure svg")
    await expect(charts).to_have_count(4)
    # One new card rated: nothing for retention (cards in Review) or calibration yet.
    notes = page.locator("#stats .note")
    await expect(notes).to_have_text(["No reviews of learned cards yet", "Not enough reviews yet"])
    for width in (360, 1280):
        await page.set_viewport_size({"width": width, "height": 900})
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= width, f"the charts are {wide} px wide in a {width} px window"
        # The axis labels, as large as they show on screen (the chart is scaled to its box).
        shown = await page.evaluate(TICK_PIXELS)
        assert min(shown) >= 11.5, f"axis labels of {min(shown):.1f} px at {width} px"
        # No two labels overlap, and none reaches past its chart.
        assert await page.evaluate(TICKS_APART), f"axis labels overlap at {width} px"
        await page.screenshot(path=shots / f"stats-{width}.png", full_page=True)
