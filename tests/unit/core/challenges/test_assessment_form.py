"""Tests for the self-assessment as one form (bot.core.challenges.assessment.open_form and
assess): the same reviews as the buttons, the form's contents, and bad submissions."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from bot.core.actions import Action, decode
from bot.core.challenges.assessment import FORM_LABEL, FORM_MISMATCH
from bot.core.challenges.definitions import RubricRow
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.inputs import Inputs
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import ReviewEntry
from bot.core.outcomes import EXPIRED, Outcome
from tests.services import only
from tests.unit.core.challenges.support import (
    BEN,
    CAT,
    QUAD,
    Env,
    labels,
    private_for,
)


@pytest.fixture
def env() -> Env:
    return Env()


async def revealed(env: Env, *who: Who) -> dict[str, Reply]:
    """Start "quad", the members answer, the deadline reveals it: each member's private
    self-assessment by name."""
    post = await env.post()
    members = who or (BEN,)
    for member in members:
        await env.answer(member, post, "mine")
    effects = await env.reveal_at_deadline()
    out: dict[str, Reply] = {}
    for member in members:
        out[member.display_name or member.user_id] = private_for(effects, await env.lid(member))
    return out


def token_of(reply: Reply) -> str:
    assert reply.form_buttons is not None
    action = decode(reply.form_buttons[0][0].payload)
    assert isinstance(action, Action) and action.kind == "assessform"
    return action.token


def reviews_of(env: Env, learner_id: int) -> list[tuple[object, ...]]:
    def key(e: ReviewEntry) -> tuple[object, ...]:
        return (e.card_id, e.rating, e.source, e.reviewed_at, e.before, e.after)

    return sorted(key(e) for e in env.db.reviews(learner_id))


# --------------------------------------------------------------------------- the same reviews


@pytest.mark.parametrize("grades", list(itertools.product((1, 2, 3), repeat=2)))
async def test_the_form_gives_exactly_the_reviews_the_buttons_give(
    grades: tuple[int, int],
) -> None:
    by_buttons, by_form = Env(), Env()
    sa_buttons = (await revealed(by_buttons))["Ben"]
    sa_form = (await revealed(by_form))["Ben"]

    # Buttons: tick the second checkpoint, rate each row, apply.
    ticked = (await by_buttons.press(BEN, sa_buttons, "☐ Complete the square")).edit
    assert ticked is not None
    applied_buttons = await by_buttons.assess(BEN, ticked, dict(enumerate(grades)))
    # The form: the same, in one call.
    applied_form = await by_form.challenges.assess(
        BEN, token_of(sa_form), list(enumerate(grades)), [1]
    )

    assert applied_form == applied_buttons  # the same notice and the same edited message
    ben = await by_buttons.lid(BEN)
    assert ben == await by_form.lid(BEN)
    assert reviews_of(by_form, ben) == reviews_of(by_buttons, ben) != []
    sub_buttons = await by_buttons.sub(BEN, by_buttons.run().id)
    sub_form = await by_form.sub(BEN, by_form.run().id)
    assert sub_form == sub_buttons and sub_form is not None
    assert sub_form.grades == grades and sub_form.checks == (1,)
    assert by_form.db.snapshot() == by_buttons.db.snapshot()


# --------------------------------------------------------------------------- the form


async def test_the_message_offers_one_form_where_there_are_forms(env: Env) -> None:
    sa = (await revealed(env))["Ben"]
    # Without forms (Telegram, the console): the buttons, as before.
    assert labels(sa)[:3] == ["☐ Divide by a", "☐ Complete the square", "☐ Take the square root"]
    assert "Apply to my cards" in labels(sa)
    # With forms: one button, and the buttons the form does not replace.
    assert sa.form_buttons is not None
    assert [[b.label for b in row] for row in sa.form_buttons] == [
        [FORM_LABEL],
        ["Name me in the summary", "Share my answer"],
    ]
    assert Inputs.opens_form(sa.form_buttons[0][0].payload)

    opened = await env.services.press(BEN, sa.form_buttons[0][0].payload)
    form = opened.assessment
    assert form is not None and opened.replies == () and opened.edit is None
    assert form.title == QUAD.title and form.checkpoints == QUAD.checkpoints
    assert form.rows == ("Completing the square", "The discriminant")
    assert form.grades == (None, None) and form.checks == () and form.start == 0

    # Rated in part (a button), the form opens filled in, at the first row not rated.
    graded = (await env.press(BEN, sa, "1. Shaky")).edit
    assert graded is not None
    again = await env.challenges.open_form(BEN, token_of(sa))
    assert again.assessment is not None
    assert again.assessment.grades == (2, None) and again.assessment.start == 1


async def test_someone_elses_or_an_applied_form_does_not_open(env: Env) -> None:
    sas = await revealed(env, BEN, CAT)
    token = token_of(sas["Ben"])
    assert await env.challenges.open_form(CAT, token) == EXPIRED
    assert await env.challenges.assess(CAT, token, [(0, 3), (1, 3)]) == EXPIRED
    assert await env.challenges.open_form(BEN, "nosuchtoken") == EXPIRED
    await env.challenges.assess(BEN, token, [(0, 3), (1, 3)])
    done = await env.challenges.open_form(BEN, token)
    assert done.notice == "Your self-assessment is already applied to your cards."
    assert done.assessment is None
    twice = await env.challenges.assess(BEN, token, [(0, 1), (1, 1)])
    assert twice.notice == done.notice and twice.edit is None
    assert {e.rating for e in env.db.reviews(await env.lid(BEN))} == {3}


# --------------------------------------------------------------------------- bad submissions


@pytest.mark.parametrize(
    ("grades", "checks"),
    [
        ([(0, 3), (2, 3)], None),  # a row the challenge does not have
        ([(-1, 0)], None),  # what the adapter sends for a value it cannot read
        ([(0, 4), (1, 3)], None),  # a grade that is not 1-3
        ([(0, 0), (1, 3)], None),
        ([(0, 3), (1, 3)], [3]),  # a checkpoint the challenge does not have
    ],
)
async def test_a_forged_submission_changes_nothing_and_says_so(
    env: Env, grades: list[tuple[int, int]], checks: list[int] | None
) -> None:
    sa = (await revealed(env))["Ben"]
    before = env.db.snapshot()
    outcome = await env.challenges.assess(BEN, token_of(sa), grades, checks)
    told = only(outcome)
    assert outcome.to == "private" and told.text == FORM_MISMATCH
    assert f"Tap “{FORM_LABEL}”" in told.text and told.buttons == ()
    assert env.db.snapshot() == before


async def test_a_row_given_two_grades_is_asked_again_and_the_rest_kept(env: Env) -> None:
    sa = (await revealed(env))["Ben"]
    ben = await env.lid(BEN)
    outcome = await env.challenges.assess(BEN, token_of(sa), [(0, 3), (0, 2), (1, 3)], [1])
    told = only(outcome)
    assert told.text.startswith("Row 1 (Completing the square) got two ratings")
    assert "Saved. 1 row still to rate (1)" in told.text
    # One mis-tick does not throw away the other rows of a long form: they are kept,
    # the doubled row is left unrated (the form opens there), nothing is applied.
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.grades == (None, 3) and sub.checks == (1,)
    assert sub.assessed_at is None and env.db.reviews(ben) == []
    assert outcome.edit is not None and "The discriminant: Confident" in outcome.edit.text
    reopened = await env.challenges.open_form(BEN, token_of(sa))
    assert reopened.assessment is not None and reopened.assessment.start == 0
    # A row rated before and given two ratings now is asked again too, never applied.
    again = await env.challenges.assess(BEN, token_of(sa), [(0, 1), (1, 3), (1, 1)])
    assert only(again).text.startswith("Row 2 (The discriminant) got two ratings")
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.grades == (1, None) and env.db.reviews(ben) == []
    both = await env.challenges.assess(BEN, token_of(sa), [(0, 3), (0, 2), (1, 3), (1, 1)])
    assert only(both).text.startswith(
        "Rows 1, 2 got two ratings, so they are left unrated: choose one for each. "
        "Saved. 2 rows still to rate (1, 2)"
    )
    # The same grade twice is no conflict.
    await env.challenges.assess(BEN, token_of(sa), [(0, 1)])
    applied = await env.challenges.assess(BEN, token_of(sa), [(1, 2), (1, 2)])
    assert applied.notice == "Applied to your cards."


async def test_a_missing_row_keeps_the_rest_and_says_which(env: Env) -> None:
    sa = (await revealed(env))["Ben"]
    ben = await env.lid(BEN)
    outcome = await env.challenges.assess(BEN, token_of(sa), [(1, 2)], [0, 2, 2])
    more = only(outcome)
    assert more.text.startswith("Saved. 1 row still to rate (1)")
    assert outcome.to == "private" and outcome.edit is not None and more.buttons == ()
    # The self-assessment shows what was rated; its button opens the form where it is left.
    assert "The discriminant: Shaky" in outcome.edit.text
    assert token_of(outcome.edit) == token_of(sa)
    reopened = await env.challenges.open_form(BEN, token_of(sa))
    assert reopened.assessment is not None and reopened.assessment.start == 0
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.grades == (None, 2) and sub.checks == (0, 2)
    assert sub.assessed_at is None and env.db.reviews(ben) == []
    # The rest later (checks left as they were): applied.
    done = await env.challenges.assess(BEN, token_of(sa), [(0, 1)])
    assert done.notice == "Applied to your cards."
    assert {(e.card_id, e.rating) for e in env.db.reviews(ben)} == {
        ("c1", 1),
        ("c2", 1),
        ("c3", 2),
    }
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.checks == (0, 2)


async def test_rows_past_the_buttons_are_listed_and_rated_in_the_form() -> None:
    rows = tuple(RubricRow(f"Step {n + 1}", ("c1",) if n % 2 else ("c3",), n) for n in range(12))
    env = Env()
    catalog = env.challenges.catalog
    assert isinstance(catalog, ChallengeCatalog)
    env.challenges.catalog = ChallengeCatalog(
        {**catalog.challenges, "quad": replace(QUAD, rubric=rows)}
    )
    sa = (await revealed(env))["Ben"]
    assert "12. Step 12: not rated yet" in sa.text
    assert sum(1 for b in sa.all_buttons() if b.action == "grade") == 9 * 3  # buttons: 9 rows
    outcome: Outcome = await env.challenges.assess(
        BEN, token_of(sa), [(r, 3 if r < 11 else 1) for r in range(12)]
    )
    assert outcome.notice == "Applied to your cards."
    ben = await env.lid(BEN)
    assert {(e.card_id, e.rating) for e in env.db.reviews(ben)} == {("c1", 1), ("c3", 3)}


async def test_without_a_form_the_row_buttons_move_on_page_by_page() -> None:
    """Telegram and the console have no form: a 12-row rubric shows buttons for rows 1-9;
    once those are rated, for rows 4-12 (the last page kept full), and every row can be
    rated and applied with buttons alone."""
    rows = tuple(RubricRow(f"Step {n + 1}", ("c1",) if n % 2 else ("c3",), n) for n in range(12))
    env = Env()
    catalog = env.challenges.catalog
    assert isinstance(catalog, ChallengeCatalog)
    env.challenges.catalog = ChallengeCatalog(
        {**catalog.challenges, "quad": replace(QUAD, rubric=rows)}
    )
    sa = (await revealed(env))["Ben"]

    def rated_rows(reply: Reply) -> list[int]:
        return sorted(
            {int(b.label.split(".")[0]) for b in reply.all_buttons() if b.action == "grade"}
        )

    assert rated_rows(sa) == list(range(1, 10))
    for row in range(8):  # the page stays put while it is rated
        sa = only_edit(await env.press(BEN, sa, f"{row + 1}. Confident"))
        assert rated_rows(sa) == list(range(1, 10))
    sa = only_edit(await env.press(BEN, sa, "9. Confident"))
    assert rated_rows(sa) == list(range(4, 13))
    for row in (9, 10, 11):
        sa = only_edit(await env.press(BEN, sa, f"{row + 1}. Shaky"))
    assert rated_rows(sa) == list(range(4, 13))  # all rated: the last page, to correct it
    assert "12. Step 12: Shaky" in sa.text
    outcome = await env.press(BEN, sa, "Apply to my cards")
    assert outcome.notice == "Applied to your cards."
    ben = await env.lid(BEN)
    assert {e.card_id for e in env.db.reviews(ben)} == {"c1", "c3"}


def only_edit(outcome: Outcome) -> Reply:
    assert outcome.edit is not None and outcome.edit.kind == "assess", outcome
    return outcome.edit
