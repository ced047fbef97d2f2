"""A challenge in the workspace, in Chromium: write with typeset math, keep the draft,
submit, and after the reveal grade the rubric beside the reference.

What the page does reaches the same places a chat does: the submission is the run's
(``challenge_submissions``), the self-assessment becomes reviews in the learner's log
(``review_logs``). Another member's answer with markup in it is shown as text.
Screenshots of both views at 360 and 1280 px wide are saved (see ``shots``).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.async_api import Page, expect
from sqlalchemy import select

from bot.storage.tables import web_drafts
from tests.e2e.web.conftest import Pages
from tests.e2e.web.site import ANA, BEN, CHALLENGE, GROUP, Site, init_data, who
from tests.fakes.photos import PNG

pytestmark = pytest.mark.asyncio(loop_scope="session")

#: What Ana writes: display math with a fraction, a root and a transpose.
ANSWER = (
    "Row by row:\n\n"
    "$$\\mathrm{softmax}\\left(\\frac{QK^\\top}{\\sqrt{d_k}}\\right)V$$\n\n"
    "and $\\mathrm{Var}(q \\cdot k) = d_k$."
)
#: Ben's answer: markup that must reach the others as text, never run.
INJECTED = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
WIDTHS = (360, 1280)


async def open_challenge(site: Site, pages: Pages, run: str, *, width: int = 1280) -> Page:
    """Ana's Mini App on the run, signed in."""
    page = await pages.open(width=width)
    await page.goto(site.mini_app(f"challenge:{run}", init_data(ANA)))
    await expect(page.locator("#status")).to_contain_text("Ana")
    return page


async def screenshots(page: Page, folder: Path, view: str) -> None:
    """Full-page screenshots of the view at each of :data:`WIDTHS`; at each the page fits
    the width (a wide formula scrolls in its own box, the page does not)."""
    for width in WIDTHS:
        await page.set_viewport_size({"width": width, "height": 900})
        await expect(page.locator(".katex").first).to_be_visible()
        wide = await page.evaluate("() => document.documentElement.scrollWidth")
        assert wide <= width, f"the {view} view is {wide} px wide in a {width} px window"
        await page.screenshot(path=folder / f"{view}-{width}.png", full_page=True)


async def test_write_with_typeset_math_keep_the_draft_and_submit(
    site: Site, pages: Pages, shots: Path
) -> None:
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await open_challenge(site, pages, run, width=360)
    await expect(page.locator("#prompt .katex").first).to_be_visible()
    await expect(page.locator("#timer")).to_have_text(re.compile(r"^\d\d:\d\d$"))

    editor = page.locator("#editor")
    await editor.fill(ANSWER)
    preview = page.locator("#preview")
    await expect(preview.locator(".katex-display .katex")).to_be_visible()
    await expect(preview.locator(".katex").nth(1)).to_be_visible()  # the inline math
    assert "\\frac" not in await preview.inner_text()
    await expect(page.locator("#draft-state")).to_have_text("Draft saved")
    await screenshots(page, shots, "challenge")

    await page.reload()  # the fragment is gone: the cookie signs in again
    await expect(page.locator("#editor")).to_have_value(ANSWER)
    await expect(page.locator("#preview .katex-display")).to_be_visible()

    await page.locator("#submit").click()
    await expect(page.locator("#submitted")).to_be_visible()
    assert await site.submitted(who(ANA), run) == [(ANSWER, True)]


#: Markdown and TeX that would run script or load from elsewhere, if anything let them.
HOSTILE = (
    "[a](javascript:window.__xss=3) "
    "$\\href{javascript:window.__xss=4}{b}$ $\\url{javascript:window.__xss=5}$ "
    "$\\includegraphics{https://evil.example/c.png}$ "
    "![d](https://evil.example/d.png) <img src=x onerror=window.__xss=6>\n\n"
    '[e](/static/app.css "$f$ onmouseover=window.__xss=7 $g$") '
    "![$h$](/static/app.css)"
)


async def test_hostile_markdown_and_tex_in_the_preview_stay_inert(site: Site, pages: Pages) -> None:
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await open_challenge(site, pages, run)
    await page.locator("#editor").fill(HOSTILE)
    preview = page.locator("#preview")
    await expect(preview.locator("a")).to_have_count(1)  # only the same-origin link
    await expect(preview.locator('a[href^="javascript"], script')).to_have_count(0)
    link = preview.locator("a")
    # A formula in a link's title or an image's alt stays its source there: KaTeX's
    # markup would break out of the attribute's quotes.
    assert await link.get_attribute("title") == "f onmouseover=window.__xss=7 g"
    names = await link.evaluate("a => a.getAttributeNames()")
    assert sorted(names) == ["href", "rel", "target", "title"], names
    image = preview.locator("img")
    await expect(image).to_have_count(1)  # the same-origin one; the other is its alt text
    assert await image.get_attribute("alt") == "h"
    assert "[d]" in await preview.inner_text()
    assert await page.evaluate("() => typeof window.__xss") == "undefined"


async def test_grade_after_the_reveal_beside_the_others_answers(
    site: Site, pages: Pages, shots: Path
) -> None:
    run = await site.start_run(who(ANA), GROUP, [who(ANA), who(BEN)])
    await site.app.challenges.submit(who(ANA), text=ANSWER, run_token=run)
    await site.app.challenges.submit(who(BEN), text=INJECTED, run_token=run)
    await site.reveal(who(ANA), GROUP)
    assert await site.reviews(who(ANA)) == []
    # Ben shares his answer with the group from his own page.
    bens = await pages.open(width=360)
    await bens.goto(site.mini_app(f"challenge:{run}", init_data(BEN)))
    await bens.locator("#share").click()
    await expect(bens.locator("#share")).to_be_hidden()

    page = await open_challenge(site, pages, run)
    await expect(page.locator("#reference .katex").first).to_be_visible()
    await expect(page.locator("#answer .katex-display")).to_be_visible()
    # Ben's answer is text: the markup shows, nothing of it ran or loaded.
    others = page.locator("#others")
    await expect(others).to_contain_text(INJECTED)
    await expect(others.locator("script, img")).to_have_count(0)
    assert await page.evaluate("() => typeof window.__xss") == "undefined"

    rubric = page.locator("#rubric")
    rows = await rubric.locator("fieldset").count()
    assert rows == 4  # the challenge's rubric rows
    grades = [3, 2, 1, 3]
    for row, grade in enumerate(grades):
        await rubric.locator(f'input[name="row-{row}"][value="{grade}"]').check()
    checks = rubric.locator('input[name="check"]')
    assert await checks.count() == 5
    await checks.nth(0).check()
    await checks.nth(2).check()
    await screenshots(page, shots, "grading")

    await page.locator("#assess").click()
    await expect(page.locator("#assessed")).to_be_visible()
    # The same FSRS reviews as in chat: each card of a rated row, at its worst grade.
    challenge = site.app.challenges.catalog.get(CHALLENGE)
    assert challenge is not None
    worst: dict[str, int] = {}
    for rubric_row, grade in zip(challenge.rubric, grades, strict=True):
        for card in rubric_row.card_ids:
            if site.app.decks.card(card) is not None:
                worst[card] = min(worst.get(card, 3), grade)
    reviews = await site.reviews(who(ANA))
    assert {card: rating for card, rating, _ in reviews} == worst
    assert len(reviews) == len(worst) and {source for _, _, source in reviews} == {"challenge"}


async def test_a_photo_from_the_page_and_one_too_large(site: Site, pages: Pages) -> None:
    """The page's photo input: a file over ``[quiz] challenge_photo_mb`` is refused with
    the reason (413) and nothing is kept; a picture reaches the challenge."""
    pages.allow(r"status of 413")
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await open_challenge(site, pages, run, width=360)
    too_big = site.app.settings.quiz.challenge_photo_mb * 1024 * 1024 + 1
    await page.locator("#photo").set_input_files(
        {"name": "page.png", "mimeType": "image/png", "buffer": PNG + bytes(too_big)}
    )
    status = page.locator("#status")
    await expect(status).to_have_class("error")
    await expect(status).to_contain_text("Please send a smaller one")
    assert await site.photos(who(ANA), run) == [(None, False)]

    await page.locator("#photo").set_input_files(
        {"name": "page.png", "mimeType": "image/png", "buffer": PNG}
    )
    await expect(page.locator("#submitted")).to_be_visible()
    [(ref, submitted)] = await site.photos(who(ANA), run)
    assert ref is not None and submitted


async def test_an_answer_or_photo_the_challenge_refuses_is_not_shown_as_sent(
    site: Site, pages: Pages
) -> None:
    """The core refuses an answer with an error reply (the run closed while the page was
    open; a file that is no picture): the page shows why, and never claims it reached the
    challenge."""
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await open_challenge(site, pages, run, width=360)
    status = page.locator("#status")

    await page.locator("#photo").set_input_files(
        {"name": "page.png", "mimeType": "image/png", "buffer": b"not a picture at all"}
    )
    await expect(status).to_have_class("error")
    await expect(status).to_contain_text("couldn't read that as a picture")
    await expect(page.locator("#submitted")).to_be_hidden()
    await status.click()  # the error is a toast over the page: a tap puts it away

    await site.reveal(who(ANA), GROUP)  # closed while the page still shows the editor
    await page.locator("#editor").fill("Too late")
    await page.locator("#submit").click()
    await expect(status).to_contain_text("time is up")
    await expect(status).to_have_class("error")
    await expect(page.locator("#submitted")).to_be_hidden()
    assert await site.submitted(who(ANA), run) == [(None, False)]


async def test_a_submitted_answer_says_what_the_challenge_said(site: Site, pages: Pages) -> None:
    """After "Submit answer" the status line gives the challenge's own answer (when the
    answers are revealed), as the chat does."""
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await open_challenge(site, pages, run)
    await page.locator("#editor").fill(ANSWER)
    await page.locator("#submit").click()
    await expect(page.locator("#submitted")).to_be_visible()
    await expect(page.locator("#status")).to_contain_text("Got your answer")
    await expect(page.locator("#status")).to_contain_text("hidden until the reveal")


async def test_a_draft_not_saved_is_tried_again_by_itself(site: Site, pages: Pages) -> None:
    """The server cannot be reached while the learner types: the draft is tried again
    without another key press, and once saved the error leaves the status line."""
    pages.allow(r"net::ERR_FAILED")
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await pages.open(width=360)
    await page.clock.install()  # the retry's timer is moved on, not waited for
    await page.goto(site.mini_app(f"challenge:{run}", init_data(ANA)))
    await expect(page.locator("#status")).to_have_text("Signed in as Ana")
    await page.route("**/draft", lambda route: route.abort())
    await page.locator("#editor").fill(ANSWER)
    await page.clock.fast_forward(1000)  # past the typing pause
    draft_state = page.locator("#draft-state")
    await expect(draft_state).to_have_text("Draft not saved yet: trying again…")
    await expect(page.locator("#status")).to_have_class("error")

    await page.unroute("**/draft")  # the server is back
    await page.clock.fast_forward(6000)
    await expect(draft_state).to_have_text("Draft saved")
    await expect(page.locator("#status")).to_have_text("Signed in as Ana")
    assert await site.rows(select(web_drafts.c.text)) == [(ANSWER,)]


async def test_a_new_tab_says_who_is_signed_in(site: Site, pages: Pages) -> None:
    """A second tab opened with the session's cookie (no sign-in fragment) names the
    learner from the page the server filled in."""
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await open_challenge(site, pages, run)
    tab = await page.context.new_page()
    await tab.goto(site.page(f"challenge:{run}"))
    await expect(tab.locator("#status")).to_have_text("Signed in as Ana")


#: A display formula a little wider than a phone (it is shrunk to fit), and one far wider
#: (it scrolls in its box, marked "wide").
WIDE = (
    "$$\\mathrm{Var}(q\\cdot k)=\\sum_{i=1}^{d_k}\\mathrm{Var}(q_i k_i)"
    "=\\sum_{i=1}^{d_k}\\mathbb{E}[q_i^2]\\,\\mathbb{E}[k_i^2]=d_k$$"
)
WIDER = "$$" + "+".join(f"q_{{{i}}}k_{{{i}}}" for i in range(1, 40)) + "$$"


async def test_wide_formulas_shrink_or_scroll_visibly_on_a_phone(site: Site, pages: Pages) -> None:
    run = await site.start_run(who(ANA), GROUP, [who(ANA)])
    page = await open_challenge(site, pages, run, width=360)
    await page.locator("#editor").fill(f"{WIDE}\n\n{WIDER}")
    shown = page.locator("#preview .katex-display")
    await expect(shown).to_have_count(2)
    await page.wait_for_function("() => document.fonts.status === 'loaded'")  # KaTeX's
    fits = "(e) => [e.scrollWidth <= e.clientWidth, e.classList.contains('wide')]"
    assert await shown.nth(0).evaluate(fits) == [True, False]
    assert await shown.nth(1).evaluate(fits) == [False, True]
    # In a wider window the first formula is back at its own size.
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.wait_for_function(
        "() => document.querySelector('#preview .katex-display .katex').style.fontSize === ''"
    )
