"""Tests for bot.core.challenges.assessment: the private self-assessment, applying it to the
cards, sharing one's answer, and the group summary."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from bot.core.actions import Action
from bot.core.messages import Attachment, HeatMap
from bot.core.model import CardState, CardStateKind, ReviewSource
from tests.fakes.photos import JPEG, photo
from tests.services import only
from tests.unit.core.challenges.support import (
    ADA,
    BEN,
    CAT,
    DAN,
    GROUP,
    TITLES,
    Env,
    labels,
    private_for,
)


@pytest.fixture
def env() -> Env:
    return Env()


# --------------------------------------------------------------------------- self-assessment


async def test_checks_toggle_and_grades_are_marked(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "mine")
    ben = await env.lid(BEN)
    assess = private_for(await env.reveal_at_deadline(), ben)

    # Each tap edits the form in place.
    ticked = (await env.press(BEN, assess, "☐ Complete the square")).edit
    assert ticked is not None and ticked.kind == "assess"
    assert "☑ Complete the square" in labels(ticked)
    tick = next(b for b in ticked.all_buttons() if b.label == "☑ Complete the square")
    assert (tick.action, tick.style) == ("check", "success")
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.checks == (1,)
    ticked2 = (await env.press(BEN, ticked, "☐ Divide by a")).edit
    assert ticked2 is not None
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.checks == (0, 1)
    unticked = (await env.press(BEN, ticked2, "☑ Complete the square")).edit
    assert unticked is not None and "☐ Complete the square" in labels(unticked)
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.checks == (0,)

    graded = (await env.press(BEN, unticked, "2. Shaky")).edit
    assert graded is not None
    assert "2. ▶ Shaky" in labels(graded)
    assert "The discriminant: Shaky" in graded.text
    assert "Completing the square: not rated yet" in graded.text
    regraded = (await env.press(BEN, graded, "2. Confident")).edit
    assert regraded is not None
    assert "2. ▶ Confident" in labels(regraded) and "2. Shaky" in labels(regraded)
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.grades == (None, 3)
    assert env.db.reviews(ben) == []  # nothing applied yet
    assert env.posted.take() == []


async def test_apply_reviews_exactly_the_linked_cards(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "Ben's")
    await env.answer(CAT, post, "Cat's")
    effects = await env.reveal_at_deadline()
    ben, cat = await env.lid(BEN), await env.lid(CAT)
    now = env.clock.now()

    # Ben: row 1 Shaky, row 2 Confident -> c1 Hard, c2 Hard (the worse of the two), c3 Good.
    applied = await env.assess(BEN, private_for(effects, ben), {0: 2, 1: 3})
    assert applied.notice == "Applied to your cards."
    assert applied.edit is not None and applied.edit.kind == "info"
    text = applied.edit.text
    assert "Applied" in text
    for cid in ("c1", "c2", "c3"):
        assert TITLES[cid] in text
    assert TITLES["c4"] not in text
    assert "Completing the square: Hard" in text
    assert "Vertex form: Hard" in text
    assert "The discriminant: Good" in text
    assert labels(applied.edit) == ["Share my answer"]  # the form becomes the list
    reviews = env.db.reviews(ben)
    assert {(e.card_id, e.rating) for e in reviews} == {("c1", 2), ("c2", 2), ("c3", 3)}
    assert len(reviews) == 3
    assert all(e.source == ReviewSource.CHALLENGE and e.reviewed_at == now for e in reviews)
    for e in reviews:
        assert env.db.state(ben, e.card_id) == e.after and e.before.is_new
    assert not env.db.has_state(ben, "c4")
    assert env.services.metrics.reviews == Counter({"challenge": 3})

    # Cat: row 1 Need to re-study, row 2 Shaky -> c1 Again, c2 Again, c3 Hard.
    await env.assess(CAT, private_for(effects, cat), {0: 1, 1: 2})
    got = {(e.card_id, e.rating) for e in env.db.reviews(cat)}
    assert got == {("c1", 1), ("c2", 1), ("c3", 2)}
    env.posted.take()  # the summary (everyone applied)

    # Applying twice changes nothing: a notice, and the message stays as it is.
    before = env.db.snapshot()
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.assessed_at == now
    twice = await env.press(BEN, private_for(effects, ben), "Apply to my cards")
    assert twice.notice == "Your self-assessment is already applied to your cards."
    assert twice.edit is None and twice.close is None and not twice.replies
    regrade = await env.press(BEN, private_for(effects, ben), "1. Re-study")
    assert "already applied" in regrade.notice and regrade.edit is None
    assert env.db.snapshot() == before
    assert env.posted.take() == []
    assert env.services.metrics.reviews == Counter({"challenge": 6})  # Ben's 3 and Cat's 3


async def test_apply_needs_at_least_one_grade(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "x")
    ben = await env.lid(BEN)
    assess = private_for(await env.reveal_at_deadline(), ben)
    outcome = await env.press(BEN, assess, "Apply to my cards")
    assert outcome.notice == "Rate at least one row first." and outcome.alert
    assert outcome.edit is None
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.assessed_at is None
    assert env.db.reviews(ben) == []


async def test_someone_elses_assessment_buttons_have_expired(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "Ben's")
    await env.answer(CAT, post, "Cat's")
    effects = await env.reveal_at_deadline()
    bens = private_for(effects, await env.lid(BEN))
    before = env.db.snapshot()
    for label in (
        "☐ Divide by a",
        "1. Confident",
        "Name me in the summary",
        "Share my answer",
        "Apply to my cards",
    ):
        stolen = await env.press(CAT, bens, label)
        assert stolen.notice == "This button has expired." and stolen.edit is None, label
    assert env.posted.take() == []
    assert env.db.snapshot().submissions == before.submissions
    assert env.db.reviews() == []
    # A forged token names nothing.
    forged = await env.services.press(BEN, Action("assessed", "zzzzzzzzzzzz").encode())
    assert forged.notice == "This button has expired."


async def test_assessment_buttons_before_the_reveal_have_expired(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "Ben's")
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None
    early = await env.services.press(BEN, Action("assessed", sub.token).encode())
    assert early.notice == "This button has expired."


async def test_applied_list_promises_only_what_holds(env: Env) -> None:
    """Each moved card says when it comes back, leaving room for learn-ahead on a short
    step; a card the assessment makes a leech says it is suspended instead."""
    post = await env.post()
    await env.answer(BEN, post, "Ben's")
    effects = await env.reveal_at_deadline()
    ben = await env.lid(BEN)
    now = env.clock.now()
    lapsing = CardState(
        ben, "c3", CardStateKind.REVIEW, None, 5.0, 5.0, now, now - timedelta(days=5), 9, 7
    )
    env.db.run_sync(lambda tx: tx.schedule.save(lapsing))
    # Row 1 Re-study, row 2 Re-study: c1, c2 and c3 get Again.
    applied = await env.assess(BEN, private_for(effects, ben), {0: 1, 1: 1})
    assert applied.edit is not None
    lines = applied.edit.text.splitlines()
    assert (
        "• Completing the square: Again, see it again in 1m, or sooner if nothing else is due"
        in lines
    )
    assert (
        "• The discriminant: Again, this card has lapsed 8 times, so it is suspended as a leech"
        " (/unsuspend brings it back)"
    ) in lines
    assert env.db.state(ben, "c3").suspended


# --------------------------------------------------------------------------- the summary


async def test_summary_once_everyone_who_answered_has_applied(env: Env) -> None:
    post = await env.three_answers()
    await env.join(ADA, post)  # joined without answering: not waited for
    effects = await env.reveal_at_deadline()
    ben, cat, dan = [await env.lid(w) for w in (BEN, CAT, DAN)]

    await env.assess(BEN, private_for(effects, ben), {0: 3, 1: 3}, name_me=True)
    assert env.posted.take() == []
    await env.assess(CAT, private_for(effects, cat), {0: 1, 1: 2})
    assert env.posted.take() == []
    env.clock.advance(timedelta(minutes=2))
    await env.assess(DAN, private_for(effects, dan), {0: 2})
    (summary,) = env.posted.take()
    assert summary.chat_id == GROUP and summary.learner_id is None
    assert summary.reply.kind == "challenge_result"
    assert "3 answered, 3 assessed" in summary.reply.text
    assert "Ben could help the 1 who want to re-study this." in summary.reply.text
    heat = summary.reply.figure
    assert isinstance(heat, HeatMap)
    assert heat.rows == ("Completing the square", "The discriminant")
    assert heat.columns == ("Ben", "Member 1", "Member 2")
    assert heat.values == ((3, 1, 2), (3, 2, None))
    assert "Cat" not in heat.columns and "Dan" not in heat.columns
    assert env.run().summary_at == env.clock.now()

    # Not again: neither the sweep half an hour later nor a later press.
    env.clock.advance(timedelta(minutes=31))
    assert await env.sweep() == []
    await env.press(CAT, private_for(effects, cat), "Name me in the summary")
    assert env.posted.take() == []


async def test_name_opt_in_toggles(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "x")
    assess = private_for(await env.reveal_at_deadline(), await env.lid(BEN))
    on = (await env.press(BEN, assess, "Name me in the summary")).edit
    assert on is not None and "Name me in the summary ✓" in labels(on)
    off = (await env.press(BEN, on, "Name me in the summary ✓")).edit
    assert off is not None and "Name me in the summary" in labels(off)
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and not sub.show_name


async def test_the_sweep_posts_the_summary_half_an_hour_after_the_reveal(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "Ben's")
    await env.answer(CAT, post, "Cat's")
    effects = await env.reveal_at_deadline()
    revealed_at = env.clock.now()
    await env.assess(BEN, private_for(effects, await env.lid(BEN)), {0: 1, 1: 3})
    assert env.posted.take() == []  # Cat has not assessed yet

    env.clock.set(revealed_at + timedelta(minutes=29, seconds=59))
    assert await env.sweep() == []
    env.clock.set(revealed_at + timedelta(minutes=30))
    (summary,) = await env.sweep()
    assert summary.chat_id == GROUP
    assert "2 answered, 1 assessed" in summary.reply.text
    heat = summary.reply.figure
    assert isinstance(heat, HeatMap)
    assert heat.columns == ("Member 1",) and heat.values == ((1,), (3,))
    assert await env.sweep() == []

    # Cat applies late: her cards move, but the summary is not posted again.
    late = await env.assess(CAT, private_for(effects, await env.lid(CAT)), {0: 3})
    assert late.edit is not None and late.edit.kind == "info"
    assert env.posted.take() == []
    assert {e.card_id for e in env.db.reviews(await env.lid(CAT))} == {"c1", "c2"}


# --------------------------------------------------------------------------- sharing


async def test_a_member_shares_their_answer_after_the_reveal_once(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "Ben's full derivation")
    await env.answer(CAT, post, photo=photo(JPEG, "photo-42"))
    effects = await env.reveal_at_deadline()
    ben, cat = await env.lid(BEN), await env.lid(CAT)
    # Cat's own photo comes first, as she sent it, then her self-assessment.
    (own, assess) = [a.reply for a in effects if a.learner_id == cat]
    assert own.photo == Attachment("answer.jpg", JPEG) and not own.buttons
    assert assess.kind == "assess" and "the photo of your page" in assess.text
    assert [a.reply.photo for a in effects if a.learner_id == ben] == [None]

    shared = await env.press(BEN, private_for(effects, ben), "Share my answer")
    assert shared.notice == "Shared with the group." and shared.edit is None
    (post_ben,) = env.posted.take()
    assert post_ben.chat_id == GROUP and post_ben.learner_id is None
    assert "Ben" in post_ben.reply.text and "Ben's full derivation" in post_ben.reply.text
    assert post_ben.reply.photo_ref is None and post_ben.reply.photo is None
    again = await env.press(BEN, private_for(effects, ben), "Share my answer")
    assert env.posted.take() == [] and "already shared" in again.notice

    await env.press(CAT, private_for(effects, cat), "Share my answer")
    (post_cat,) = env.posted.take()
    # The stored bytes, not the platform's link (a Discord URL expires in a day).
    assert post_cat.reply.photo == Attachment("answer.jpg", JPEG) and post_cat.chat_id == GROUP
    assert post_cat.reply.photo_ref is None
    sub = await env.sub(CAT, env.run().id)
    assert sub is not None and sub.shared_at == env.clock.now()

    # The share button works after applying too, still once.
    await env.assess(BEN, private_for(effects, ben), {0: 3})
    env.posted.take()
    await env.press(BEN, private_for(effects, ben), "Share my answer")
    assert env.posted.take() == []
    assert only(await env.challenges.status(ADA, GROUP)).text.startswith("No challenge")
