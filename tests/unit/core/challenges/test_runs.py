"""Tests for bot.core.challenges.runs: starting, joining, answering, status, cancel, the reveal."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.actions import Action, decode
from bot.core.challenges.photos import StoredPhoto
from tests.fakes.photos import PNG, photo
from tests.services import only
from tests.unit.core.challenges.support import (
    ADA,
    BEN,
    CAT,
    DAN,
    GROUP,
    QUAD,
    START,
    Env,
    button,
    labels,
)


@pytest.fixture
def env() -> Env:
    return Env()


# --------------------------------------------------------------------------- starting


async def test_start_posts_the_prompt_with_a_deadline_and_a_submit_button(env: Env) -> None:
    post = await env.post()
    assert post.kind == "challenge"
    assert QUAD.title in post.text and QUAD.prompt in post.text
    assert "10 minutes" in post.text and "14:10 (UTC)" in post.text
    assert QUAD.reference not in post.text
    (submit,) = post.all_buttons()
    assert submit.label == "Submit my answer"
    assert (submit.action, submit.style) == ("join", "primary")
    run = env.run()
    assert decode(submit.payload) == Action("join", run.token)
    assert run.challenge_id == "quad" and run.open
    assert run.started_at == START and run.deadline == START + timedelta(minutes=10)
    assert run.started_by == await env.lid(ADA)
    # The deadline is found by the timers: the earliest open deadline is this one.
    assert await env.challenges.next_deadline() == run.deadline
    assert env.posted.take() == []


async def test_start_shows_the_deadline_in_the_groups_timezone(env: Env) -> None:
    reply = only(await env.challenges.configure(ADA, GROUP, "timezone", "America/New_York", True))
    assert reply.kind == "info" and "America/New_York" in reply.text
    post = await env.post(minutes=30)
    assert "30 minutes" in post.text and "09:30 (America/New_York)" in post.text


async def test_one_run_per_chat(env: Env) -> None:
    await env.start()
    again = await env.start(challenge_id="why")
    assert again.to == "ephemeral"
    refusal = only(again)
    assert refusal.kind == "error" and "already running" in refusal.text
    assert "14:10" in refusal.text
    assert env.run().challenge_id == "quad"
    elsewhere = await env.post(chat="-999", challenge_id="why")
    assert elsewhere.kind == "challenge"
    assert await env.challenges.next_deadline() == START + timedelta(minutes=5)


@pytest.mark.parametrize("minutes", [0, -5, 181, 1000])
async def test_minutes_out_of_bounds_are_refused(env: Env, minutes: int) -> None:
    outcome = await env.start(minutes=minutes)
    assert outcome.to == "ephemeral"
    reply = only(outcome)
    assert reply.kind == "error" and "1 to 180 minutes" in reply.text
    assert env.db.run_sync(lambda tx: tx.challenges.latest_run("telegram", GROUP)) is None
    assert await env.challenges.next_deadline() is None


@pytest.mark.parametrize("minutes", [1, 180])
async def test_minutes_at_the_bounds_are_allowed(env: Env, minutes: int) -> None:
    reply = await env.post(minutes=minutes)
    assert reply.kind == "challenge" and f"{minutes} minutes" in reply.text
    assert env.run().deadline == START + timedelta(minutes=minutes)


# --------------------------------------------------------------------------- answering


async def test_members_join_and_submit_and_may_resubmit(env: Env) -> None:
    post = await env.post()
    run = env.run()
    joined = await env.join(BEN, post)
    # Asked privately; a platform with forms opens one for this run, one that can show a
    # message in the group to Ben alone asks there, answered by a reply to it.
    assert joined.to == "private" and joined.form is not None
    assert joined.form.run_token == run.token
    here = joined.form.here
    assert here is not None and "Only you can see this message" in here.text
    assert "reply to this message" in here.text
    rejoined = await env.join(BEN, post)
    assert rejoined.form is not None and rejoined.form.here == here, "asked again there"
    assert joined.notice == "" and joined.edit is None
    assert "You're in" in only(joined).text
    got = await env.submit(BEN, text="first try")
    assert got.kind == "info" and got.text.startswith("Got your answer")
    env.clock.advance(timedelta(minutes=2))
    again = await env.submit(BEN, text="  second try  ")
    assert again.kind == "info" and again.text.startswith("Replaced your earlier answer")

    (sub,) = env.subs(run.id)
    assert sub.learner_id == await env.lid(BEN)
    assert sub.text == "second try" and sub.submitted_at == START + timedelta(minutes=2)
    assert sub.joined_at == START and sub.display_name == "Ben"

    # Joining twice keeps the member's part (and its token).
    await env.join(BEN, post)
    (same,) = env.subs(run.id)
    assert same.token == sub.token and same.text == "second try"

    sent = await env.answer(CAT, post, photo=photo(ref="file-123"))
    assert sent.kind == "info"
    cat = await env.sub(CAT, run.id)
    assert cat is not None and cat.photo_ref == "file-123" and cat.text is None
    assert env.db.run_sync(lambda tx: tx.challenges.photo(run.id, cat.learner_id)) == (
        StoredPhoto(PNG, "image/png")
    )


async def test_a_private_message_answers_the_run_the_member_joined(env: Env) -> None:
    post = await env.post()
    assert await env.challenges.answer(BEN, "hello", None) is None  # not joined: not an answer
    await env.join(BEN, post)
    outcome = await env.challenges.answer(BEN, "my derivation", None)
    assert outcome is not None and outcome.to == "private"
    assert only(outcome).text.startswith("Got your answer")
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.text == "my derivation"


async def test_an_answer_through_a_form_names_its_run(env: Env) -> None:
    """Discord's modal carries the run's token: no joining needed, the member joins by it."""
    await env.post()
    run = env.run()
    outcome = await env.challenges.submit(CAT, text="from the form", run_token=run.token)
    assert only(outcome).text.startswith("Got your answer")
    cat = await env.sub(CAT, run.id)
    assert cat is not None and cat.text == "from the form"


async def test_an_answer_in_the_group_goes_to_its_open_run(env: Env) -> None:
    await env.post()
    outcome = await env.challenges.submit(DAN, text="typed in the group", chat_id=GROUP)
    assert outcome.to == "private"
    dan = await env.sub(DAN, env.run().id)
    assert dan is not None and dan.text == "typed in the group"


async def test_an_empty_answer_or_no_joined_run_is_refused(env: Env) -> None:
    post = await env.post()
    none_joined = await env.submit(BEN, text="hello")
    assert none_joined.kind == "error" and "no open challenge" in none_joined.text
    await env.join(BEN, post)
    empty = await env.submit(BEN, text="   ")
    assert empty.kind == "error"
    ben = await env.sub(BEN, env.run().id)
    assert ben is not None and not ben.submitted


async def test_an_answer_after_the_deadline_is_politely_refused(env: Env) -> None:
    post = await env.post()
    await env.join(DAN, post)
    env.clock.set(env.run().deadline)
    late = await env.submit(DAN, text="too late")
    assert late.kind == "error" and "time is up" in late.text.lower()
    dan = await env.sub(DAN, env.run().id)
    assert dan is not None and not dan.submitted and dan.text is None
    # Joining after the deadline is closed too, and saves nothing.
    closed = await env.join(CAT, post)
    assert closed.notice == "This challenge is closed: its reference is in the group."
    assert closed.form is None and not closed.replies
    assert await env.sub(CAT, env.run().id) is None


async def test_status_names_who_submitted_and_never_the_content(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "SECRET-BEN")
    await env.answer(CAT, post, "SECRET-CAT")
    await env.join(DAN, post)
    env.clock.advance(timedelta(minutes=4))
    outcome = await env.challenges.status(ADA, GROUP)
    assert outcome.to == "ephemeral"
    status = only(outcome)
    assert status.kind == "info"
    assert "2 submitted: Ben, Cat" in status.text
    assert "1 joined and still writing: Dan" in status.text
    assert "14:10" in status.text and "6m" in status.text
    assert "SECRET" not in status.text
    assert env.posted.take() == []
    idle = only(await env.challenges.status(ADA, "-999"))
    assert "No challenge is running" in idle.text


async def test_submissions_stay_hidden_until_the_reveal(env: Env) -> None:
    post = await env.post()
    texts = [post.text]
    for who in (BEN, CAT):
        texts.extend(r.text for r in (await env.join(who, post)).replies)
        texts.append((await env.submit(who, text=f"SECRET-{who.display_name}")).text)
    texts.append(only(await env.challenges.status(ADA, GROUP)).text)
    assert env.posted.take() == []
    assert all("SECRET" not in t for t in texts)
    # The timer fired early, or the sweep before the deadline, reveal nothing.
    env.clock.advance(timedelta(minutes=9, seconds=59))
    assert await env.challenges.reveal_overdue() == 0
    assert await env.sweep() == []
    assert env.run().open


# --------------------------------------------------------------------------- the reveal


async def test_reveal_at_the_deadline_happens_exactly_once(env: Env) -> None:
    post = await env.three_answers()
    await env.join(ADA, post)  # joined, never answered
    run = env.run()
    effects = await env.reveal_at_deadline()

    group, *private = effects
    assert group.platform == "telegram" and group.chat_id == GROUP and group.learner_id is None
    assert group.reply.kind == "challenge_result" and "3 answered" in group.reply.text
    card = group.reply.card
    assert card is not None and card.card_id == "quad" and card.title == QUAD.title
    assert card.back is not None and QUAD.reference in card.back
    assert "Checkpoints" in card.back
    for checkpoint in QUAD.checkpoints:
        assert f"- {checkpoint}" in card.back

    ids = [await env.lid(w) for w in (BEN, CAT, DAN)]
    assert [a.learner_id for a in private] == ids
    for who, a in zip((BEN, CAT, DAN), private, strict=True):
        assert a.reply.kind == "assess"
        assert f"{who.display_name}'s derivation" in a.reply.text
        assert "Apply to my cards" in labels(a.reply)
        assert [lb for lb in labels(a.reply) if lb.startswith("☐")] == [
            f"☐ {c}" for c in QUAD.checkpoints
        ]

    revealed = env.run()
    assert revealed.revealed_at == run.deadline and not revealed.open
    assert await env.challenges.reveal_overdue() == 0
    assert await env.sweep() == []
    env.clock.advance(timedelta(minutes=5))
    assert await env.challenges.reveal_overdue() == 0
    assert await env.challenges.next_deadline() is None
    assert env.posted.take() == []


async def test_the_sweep_reveals_an_overdue_run(env: Env) -> None:
    post = await env.post(challenge_id="sketch")
    await env.answer(BEN, post, "a parabola")
    env.clock.set(env.run().deadline + timedelta(minutes=3))
    group, private = await env.sweep()
    assert group.reply.card is not None and group.reply.card.back is not None
    assert "Checklist" in group.reply.card.back
    assert private.learner_id == await env.lid(BEN)
    assert await env.sweep() == []
    assert await env.challenges.reveal_overdue() == 0


async def test_a_conceptual_reference_lists_its_points(env: Env) -> None:
    post = await env.post(challenge_id="why")
    await env.answer(BEN, post, "degree")
    group, _ = await env.reveal_at_deadline()
    assert group.reply.card is not None and group.reply.card.back is not None
    assert "Degree bounds the number of roots" in group.reply.card.back


async def test_early_reveal_by_the_starter_or_an_admin_only(env: Env) -> None:
    await env.start(ADA, is_admin=True)
    refused = await env.challenges.reveal(BEN, GROUP, is_admin=False)
    assert refused.to == "ephemeral" and only(refused).kind == "error"
    assert env.posted.take() == []
    assert env.run().open

    env.clock.advance(timedelta(minutes=3))
    by_starter = await env.challenges.reveal(ADA, GROUP, is_admin=False)
    assert by_starter.to == "ephemeral" and "early" in only(by_starter).text
    (group,) = env.posted.take()
    assert group.chat_id == GROUP and group.reply.kind == "challenge_result"
    first = env.run()
    assert first.revealed_at == START + timedelta(minutes=3)
    # The alarm still fires at the deadline: nothing more happens.
    env.clock.set(first.deadline)
    assert await env.challenges.reveal_overdue() == 0

    await env.start(ADA)
    by_admin = await env.challenges.reveal(CAT, GROUP, is_admin=True)
    assert "early" in only(by_admin).text and len(env.posted.take()) == 1
    assert env.run().revealed_at is not None

    nothing = await env.challenges.reveal(ADA, GROUP, is_admin=True)
    assert "No challenge is running" in only(nothing).text


async def test_cancel(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "half done")
    refused = await env.challenges.cancel(BEN, GROUP, is_admin=False)
    assert refused.to == "ephemeral" and only(refused).kind == "error" and env.run().open

    cancelled = await env.challenges.cancel(ADA, GROUP, is_admin=True)
    assert cancelled.to == "chat"
    assert only(cancelled).kind == "info" and "cancelled" in only(cancelled).text
    run = env.run()
    assert run.cancelled_at == START and run.revealed_at is None and not run.open
    assert env.db.run_sync(lambda tx: tx.challenges.open_run("telegram", GROUP)) is None
    assert await env.challenges.answer(BEN, "more", None) is None  # no open run joined
    late = await env.submit(BEN, text="more")
    assert late.kind == "error"
    assert await env.challenges.next_deadline() is None

    env.clock.set(run.deadline + timedelta(hours=1))
    assert await env.challenges.reveal_overdue() == 0
    assert await env.sweep() == []
    joined = await env.join(CAT, post)
    assert joined.notice == "This challenge was cancelled." and joined.form is None
    again = await env.challenges.cancel(ADA, GROUP, is_admin=True)
    assert "No challenge is running" in only(again).text
    # A new run may start once the old one is cancelled.
    assert (await env.post()).kind == "challenge"


async def test_a_forged_run_token_has_expired(env: Env) -> None:
    outcome = await env.services.press(BEN, Action("join", "zzzzzzzzzzzz").encode())
    assert outcome.notice == "This button has expired." and outcome.form is None


# --------------------------------------------------------------------------- restarts and forget


async def test_a_restart_between_start_and_deadline_reveals_once(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "before the restart")
    run = env.run()
    old = env.services

    env.services = env.new_services()
    await env.answer(CAT, post, "after the restart")
    assert await env.challenges.next_deadline() == run.deadline  # the new process's alarm
    env.clock.set(run.deadline)
    assert await env.challenges.reveal_overdue() == 1
    assert len(env.posted.take()) == 3  # the group, Ben, Cat
    assert await old.challenges.reveal_overdue() == 0  # the old process's alarm
    assert await env.challenges.sweep() == 0
    assert await old.challenges.sweep() == 0
    assert env.posted.take() == []


async def test_forget_removes_a_members_submissions(env: Env) -> None:
    post = await env.post()
    await env.answer(BEN, post, "Ben's")
    await env.answer(CAT, post, "Cat's")
    run = env.run()
    ben = await env.lid(BEN)

    ask = only(await env.services.study.request_forget(BEN))
    done = await env.services.press(BEN, button(ask, "Yes, delete everything").payload)
    assert done.edit is not None and "deleted" in done.edit.text
    assert [s.learner_id for s in env.subs(run.id)] == [await env.lid(CAT)]
    assert all(s.learner_id != ben for s in env.db.store.submissions.values())

    # The starter forgets too: the run stays, without a starter.
    ask = only(await env.services.study.request_forget(ADA))
    await env.services.press(ADA, button(ask, "Yes, delete everything").payload)
    assert env.run().started_by is None

    group, cat = await env.reveal_at_deadline()
    assert "1 answered" in group.reply.text
    assert cat.learner_id == await env.lid(CAT)
