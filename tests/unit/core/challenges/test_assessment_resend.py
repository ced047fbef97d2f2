"""Tests for bot.core.challenges.assessment.resend and its delivery by the outbox
(bot.core.pushes): a self-assessment sent again carries the member's stored photo answer
first, as the reveal does, and a photo dropped meanwhile is not claimed as shown."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.core.challenges.assessment import PHOTO_NOT_KEPT
from bot.core.messages import RESENT_ASSESSMENT, Attachment, Reply
from bot.core.model import Learner, OutboxMessage
from bot.core.ports import Delivery, DeliveryRefused, DeliveryRetry
from tests.fakes.photos import JPEG, photo
from tests.unit.core.challenges.support import BEN, CAT, Env, private_for

SENT_PHOTO = "the photo of your page you sent"


@pytest.fixture
def env() -> Env:
    return Env()


class Platform:
    """A platform's push: records each reply it is given; ``script`` says, call by call,
    what happens (a Delivery, or an exception to raise)."""

    def __init__(self, *script: Delivery | Exception) -> None:
        self.script = list(script)
        self.calls: list[tuple[Reply, int]] = []

    async def __call__(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        self.calls.append((reply, skip))
        outcome = self.script.pop(0) if self.script else Delivery(reached=True)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def waiting(env: Env, who_photo: bool = True) -> tuple[int, str]:
    """Cat answered (with a photo, or in text) and was not reached at the reveal: her
    self-assessment waits in the outbox. Returns her learner id and submission token."""
    post = await env.post()
    await env.answer(BEN, post, "Ben's derivation")
    if who_photo:
        await env.answer(CAT, post, photo=photo(JPEG, "photo-7"))
    else:
        await env.answer(CAT, post, "Cat's derivation")
    effects = await env.reveal_at_deadline()
    cat = await env.lid(CAT)
    token = next(a.resend_token for a in effects if a.learner_id == cat and a.resend_token)
    assert token is not None and private_for(effects, cat).kind == "assess"
    now = env.clock.now()
    row = OutboxMessage("telegram", cat, RESENT_ASSESSMENT, "", now, now, prompt_token=token)
    env.db.run_sync(lambda tx: tx.pushes.add_outbox([row]))
    return cat, token


async def drain(env: Env, send: Platform) -> None:
    env.clock.advance(timedelta(minutes=1))
    for rows in await env.services.pushes.take("telegram", 10):
        await env.services.pushes.deliver(rows, send)


async def test_the_resent_self_assessment_comes_after_the_stored_photo(env: Env) -> None:
    await waiting(env)
    send = Platform()
    await drain(env, send)
    [(own, skip_own), (assess, skip_assess)] = send.calls
    assert own.text == "Your answer, as you sent it:" and not own.buttons
    assert own.photo == Attachment("answer.jpg", JPEG), "the stored bytes, uploaded"
    assert assess.kind == "assess" and SENT_PHOTO in assess.text and assess.buttons
    assert assess.photo is None, "edited as the member taps: no picture on it"
    assert (skip_own, skip_assess) == (0, 0)
    [row] = env.db.outbox()
    assert row.sent_at is not None and not row.pending
    assert env.services.metrics.sent == {"telegram": 1}, "one outbox message, counted once"


async def test_a_typed_answer_is_resent_as_one_reply(env: Env) -> None:
    await waiting(env, who_photo=False)
    send = Platform()
    await drain(env, send)
    [(assess, _)] = send.calls
    assert "Your answer:\nCat's derivation" in assess.text and assess.photo is None


async def test_a_photo_dropped_meanwhile_is_not_claimed_as_shown(env: Env) -> None:
    _, token = await waiting(env)
    run = env.run()
    # Housekeeping drops the run's photos (and clears the answer's reference).
    env.db.run_sync(lambda tx: tx.challenges.prune_photos(env.clock.now() + timedelta(days=1)))
    send = Platform()
    await drain(env, send)
    [(assess, _)] = send.calls
    assert assess.photo is None and SENT_PHOTO not in assess.text
    assert PHOTO_NOT_KEPT in assess.text and assess.buttons
    sub = env.db.run_sync(lambda tx: tx.challenges.submission_by_token(token))
    assert sub is not None and sub.run_id == run.id and sub.photo_ref is None


async def test_a_retry_resumes_after_the_photo_already_sent(env: Env) -> None:
    await waiting(env)
    # The photo goes; the self-assessment hits a 429 after none of its messages went.
    send = Platform(Delivery(reached=True), DeliveryRetry("429", retry_after=5))
    await drain(env, send)
    [row] = env.db.outbox()
    assert row.pending and row.message.parts_sent == 1
    assert row.message.not_before == env.clock.now() + timedelta(seconds=5)
    env.clock.advance(timedelta(seconds=5))
    again = Platform()
    await drain(env, again)
    # The photo is not sent twice: only the self-assessment, whole.
    assert [(r.kind, r.photo, skip) for r, skip in again.calls] == [("assess", None, 0)]
    [row] = env.db.outbox()
    assert row.sent_at is not None


async def test_a_retry_inside_the_self_assessment_counts_the_photo_too(env: Env) -> None:
    await waiting(env)
    send = Platform(Delivery(reached=True), DeliveryRetry("429", delivered=1))
    await drain(env, send)
    [row] = env.db.outbox()
    assert row.message.parts_sent == 2, "the photo and the first message of the rest"
    env.clock.advance(timedelta(minutes=5))
    again = Platform()
    await drain(env, again)
    assert [(r.kind, skip) for r, skip in again.calls] == [("assess", 1)]


async def test_a_member_unreachable_at_the_photo_gets_nothing_more_and_waits(env: Env) -> None:
    await waiting(env)
    send = Platform(Delivery(reached=False))
    await drain(env, send)
    [(own, _)] = send.calls
    assert own.photo is not None, "the self-assessment is not sent after a refused photo"
    [row] = env.db.outbox()
    assert row.pending and row.message.parts_sent == 0, "parked until they write again"


async def test_a_photo_the_platform_refuses_does_not_hold_back_the_self_assessment(
    env: Env,
) -> None:
    await waiting(env)
    send = Platform(DeliveryRefused("photo too large"))
    await drain(env, send)
    assert [r.kind for r, _ in send.calls] == ["info", "assess"]
    [row] = env.db.outbox()
    assert row.sent_at is not None, "the self-assessment went"


async def test_a_network_error_after_a_refused_photo_resumes_after_it(env: Env) -> None:
    await waiting(env)
    send = Platform(DeliveryRefused("photo too large"), OSError("network down"))
    await drain(env, send)
    [row] = env.db.outbox()
    assert row.pending and row.message.parts_sent == 1
    env.clock.advance(timedelta(minutes=5))
    again = Platform()
    await drain(env, again)
    assert [(r.kind, skip) for r, skip in again.calls] == [("assess", 0)]
