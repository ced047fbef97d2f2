"""Tests for the browser workspace a challenge's private messages offer (``Reply.workspace``,
bot.core.challenges.runs and bot.core.challenges.assessment): the request for an answer and
the self-assessment open the run's page; nothing posted in the group offers it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.challenges.assessment import resend
from bot.core.messages import RESENT_ASSESSMENT, Reply, challenge_workspace
from bot.core.model import OutboxMessage
from tests.services import only
from tests.unit.core.challenges.support import (
    BEN,
    CAT,
    CATALOG,
    Env,
    private_for,
)


@pytest.fixture
def env() -> Env:
    return Env()


def test_a_runs_purpose_names_its_token() -> None:
    assert challenge_workspace("AbC-12_x") == "challenge:AbC-12_x"
    # The longest token (22 characters) keeps a Discord custom id "w:<purpose>" short.
    assert len("w:" + challenge_workspace("x" * 22)) <= 100


async def test_the_private_request_for_an_answer_offers_the_runs_workspace(env: Env) -> None:
    post = await env.post()
    assert post.workspace is None, "the group's post offers no page"
    run = env.run()
    joined = await env.join(BEN, post)
    ask = only(joined)
    assert joined.to == "private" and "You're in" in ask.text
    assert ask.workspace == f"challenge:{run.token}"
    # The request worded for the group itself (a message there for Ben alone) offers none.
    assert joined.form is not None and joined.form.here is not None
    assert joined.form.here.workspace is None
    # The answer's acknowledgement offers it again (where the answer came in a form, as
    # on Discord, the request was not shown); a refusal offers nothing.
    got = await env.submit(BEN, text="mine")
    assert got.kind == "info" and got.workspace == f"challenge:{run.token}"
    env.clock.advance(timedelta(minutes=11))
    late = await env.submit(BEN, text="too late")
    assert late.kind == "error" and late.workspace is None


async def test_the_self_assessment_offers_the_runs_workspace_and_keeps_it(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "mine")
    run = env.run()
    purpose = f"challenge:{run.token}"
    effects = await env.reveal_at_deadline()
    ben = await env.lid(BEN)
    assess = private_for(effects, ben)
    assert assess.kind == "assess" and assess.workspace == purpose
    group = [a.reply for a in effects if a.learner_id is None]
    assert group and all(r.workspace is None for r in group), "the reference offers none"

    # Each tap edits the self-assessment: the edit keeps the offer (a Telegram edit
    # replaces the whole keyboard).
    ticked = (await env.press(BEN, assess, "☐ Complete the square")).edit
    assert ticked is not None and ticked.workspace == purpose
    graded = (await env.press(BEN, ticked, "1. Shaky")).edit
    assert graded is not None and graded.workspace == purpose
    # A form sent in part edits it too, with the offer.
    sub = await env.sub(BEN, run.id)
    assert sub is not None
    partial = await env.challenges.assess(BEN, sub.token, [(0, 2)])
    assert partial.edit is not None and partial.edit.workspace == purpose

    # Once applied, the message lists the cards that moved: nothing left to grade there.
    applied = await env.challenges.assess(BEN, sub.token, [(0, 2), (1, 3)])
    assert applied.edit is not None and applied.edit.workspace is None


async def test_a_resent_self_assessment_offers_the_workspace_too(env: Env) -> None:
    post = await env.post()
    await env.answer(CAT, post, "Cat's derivation")
    run = env.run()
    effects = await env.reveal_at_deadline()
    cat = await env.lid(CAT)
    token = next(a.resend_token for a in effects if a.learner_id == cat and a.resend_token)
    assert token is not None
    env.clock.advance(timedelta(minutes=1))
    now = env.clock.now()
    row = OutboxMessage("telegram", cat, RESENT_ASSESSMENT, "", now, now, prompt_token=token)
    learner = env.db.run_sync(lambda tx: tx.learners.get_by_id(cat))
    assert learner is not None
    again = env.db.run_sync(lambda tx: resend(tx, row, learner, CATALOG))
    assert isinstance(again, Reply)
    assert again.kind == "assess" and again.workspace == f"challenge:{run.token}"
