"""Tests for bot.core.quizpolls: a /quiz round on a card with choices as a quiz poll, over
in-memory fakes with a fixed clock. The adapter's part (posting the poll, reporting its
id) is played by calling ``QuizService.poll_posted`` as the Telegram adapter does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.core.choices import EXPLANATION_LIMIT, SEE_ABOVE, Choices, QuizPoll
from bot.core.imagespec import parse_image_spec
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import CardStateKind, ReviewSource
from bot.core.outcomes import EXPIRED
from bot.core.quizpolls import LINK_ROOM, back_start, back_token
from bot.text.split import utf16_len
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_card, make_deck
from tests.services import Services, build_services, only

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ANN = Who("telegram", "1", "Ann")
BEN = Who("telegram", "2", "Ben")
CAT = Who("telegram", "3", "Cat")
GROUP = "-100500"
SCALE = Choices(("by $d_k$", "by $\\sqrt{d_k}$", "by $d_{model}$", "by $n$"), 1)


class Env:
    def __init__(self, *, front: str = "Divide $QK^T$ by what?", front_image: bool = False) -> None:
        card = make_card(
            "scale",
            tags=["attention"],
            front=front,
            back="By $\\sqrt{d_k}$: the variance of $q \\cdot k$ is $d_k$.",
            choices=SCALE,
            front_image=parse_image_spec("formula \\frac{QK^T}{?}") if front_image else None,
        )
        decks = [
            make_deck("attention", [card], tags=["attention"]),
            make_deck("plain", [make_card("p1", tags=["plain"])]),
        ]
        self.services: Services[FakeDatabase] = build_services(
            FakeDatabase(decks, START), FixedClock(START)
        )
        self.db = self.services.db
        self.clock = self.services.clock
        self.quiz = self.services.quiz
        self.study = self.services.study
        self.posted = self.services.announcer
        self.polls = 0

    async def post(self, who: Who = ANN, topic: str = "attention") -> tuple[Reply, QuizPoll]:
        """Start a round as Telegram does and report its poll posted (poll ids p1, p2...)."""
        outcome = await self.quiz.start(who, GROUP, topic, polls=True)
        reply = only(outcome)
        assert outcome.to == "chat" and reply.poll is not None
        self.polls += 1
        kept = await self.quiz.poll_posted(
            reply.poll.round_token, f"p{self.polls}", str(100 + self.polls), reply.poll.correct
        )
        assert kept
        return reply, reply.poll

    async def answer(self, who: Who, option: int | None, poll_id: str = "p1") -> None:
        await self.quiz.poll_answer(who, poll_id, [] if option is None else [option])

    async def reviews(self, who: Who) -> list[tuple[int, str]]:
        learner = await self.study.learner(who)
        return [(e.rating, e.source) for e in self.db.reviews(learner.id)]


def wrong(poll: QuizPoll) -> int:
    return (poll.correct + 1) % len(poll.options)


@pytest.fixture
def env() -> Env:
    return Env()


async def test_a_card_with_choices_comes_with_its_poll(env: Env) -> None:
    reply, poll = await env.post()
    assert reply.kind == "quiz" and reply.all_buttons()  # the Reveal card is the fallback
    assert poll.question == "Divide QKᵀ by what?" and not poll.front_above
    assert sorted(poll.options) == ["by d_k", "by d_model", "by n", "by √d_k"]
    assert poll.options[poll.correct] == "by √d_k"
    assert poll.explanation.startswith("Answer: by √d_k")
    assert utf16_len(poll.explanation) <= EXPLANATION_LIMIT - LINK_ROOM
    assert back_token(poll.back_start) == poll.round_token
    assert "your first answer counts" in poll.intro and "10 minutes" in poll.intro


async def test_without_polls_or_choices_the_round_is_a_reveal_round(env: Env) -> None:
    assert only(await env.quiz.start(ANN, GROUP, "attention")).poll is None  # Discord
    env.clock.advance(timedelta(minutes=11))
    assert only(await env.quiz.start(ANN, GROUP, "plain", polls=True)).poll is None


async def test_a_front_that_does_not_fit_goes_above_the_poll() -> None:
    env = Env(front="What do we divide by? " + "Think of the variance. " * 15)
    _, poll = await env.post()
    assert poll.front_above and poll.question == SEE_ABOVE
    pictured = Env(front="Divide by what?", front_image=True)
    _, poll = await pictured.post()
    assert poll.front_above


async def test_right_is_good_and_wrong_is_again_in_each_members_own_schedule(env: Env) -> None:
    _, poll = await env.post()
    await env.answer(BEN, poll.correct)
    await env.answer(CAT, wrong(poll))
    assert await env.reviews(BEN) == [(3, ReviewSource.QUIZ)]
    assert await env.reviews(CAT) == [(1, ReviewSource.QUIZ)]
    ben = await env.study.learner(BEN)
    state = env.db.store.states[(ben.id, "scale")]
    assert state.reps == 1 and state.state is not CardStateKind.NEW
    assert await env.reviews(ANN) == []  # the starter did not answer


async def test_each_member_is_reviewed_once_whatever_they_do_to_their_vote(env: Env) -> None:
    _, poll = await env.post()
    await env.answer(BEN, wrong(poll))
    await env.answer(BEN, None)  # retracted
    await env.answer(BEN, poll.correct)  # and answered again, right this time
    await env.answer(CAT, None)  # a retraction alone counts as nothing
    assert await env.reviews(BEN) == [(1, ReviewSource.QUIZ)]
    assert await env.reviews(CAT) == []


async def test_unknown_polls_and_late_answers_change_nothing(env: Env) -> None:
    _, poll = await env.post()
    await env.answer(BEN, poll.correct, poll_id="someone-elses-poll")
    env.clock.advance(timedelta(minutes=10))
    await env.answer(CAT, poll.correct)
    assert await env.reviews(BEN) == [] and await env.reviews(CAT) == []


async def test_the_close_stops_the_poll_and_posts_the_tally_once(env: Env) -> None:
    _, poll = await env.post()
    await env.answer(BEN, poll.correct)
    await env.answer(CAT, wrong(poll))
    assert env.posted.take() == []  # Ann (the starter) is expected too
    env.clock.advance(timedelta(minutes=10))
    assert await env.quiz.sweep() == 1
    (closing,) = env.posted.take()
    assert closing.chat_id == GROUP and closing.reply.kind == "quiz_result"
    assert closing.reply.stops_poll == "101"
    assert closing.reply.text == "Quiz answer: by √d_k. 2 answered · 1 right · 1 wrong"
    assert closing.reply.card is not None and closing.reply.card.back
    assert await env.quiz.sweep() == 0 and env.posted.take() == []


async def test_nobody_answered(env: Env) -> None:
    await env.post()
    env.clock.advance(timedelta(minutes=10))
    await env.quiz.sweep()
    (closing,) = env.posted.take()
    assert closing.reply.text == "Quiz answer: by √d_k. Nobody answered this one."


async def test_the_round_closes_early_once_every_expected_member_answered(env: Env) -> None:
    _, poll = await env.post()
    await env.answer(BEN, poll.correct)
    env.clock.advance(timedelta(minutes=10))
    await env.quiz.sweep()
    env.posted.take()
    env.clock.advance(timedelta(days=2))
    _, poll = await env.post()  # Ann and Ben are expected now
    await env.answer(BEN, poll.correct, "p2")
    assert env.posted.take() == []
    await env.answer(ANN, wrong(poll), "p2")
    (closing,) = env.posted.take()
    assert "2 answered · 1 right · 1 wrong" in closing.reply.text
    assert closing.reply.stops_poll == "102"


async def test_a_reveal_round_keeps_its_tally(env: Env) -> None:
    """A round whose poll Telegram refused goes on as a Reveal round (no poll recorded)."""
    reply = only(await env.quiz.start(ANN, GROUP, "attention", polls=True))
    back = only(await env.services.press(BEN, reply.buttons[0][0].payload))
    await env.services.press(BEN, back.buttons[0][2].payload)
    env.clock.advance(timedelta(minutes=10))
    await env.quiz.sweep()
    (closing,) = env.posted.take()
    assert closing.reply.stops_poll is None and "1 took part" in closing.reply.text


async def test_a_poll_posted_after_its_round_closed_is_to_be_stopped(env: Env) -> None:
    reply = only(await env.quiz.start(ANN, GROUP, "attention", polls=True))
    assert reply.poll is not None
    env.clock.advance(timedelta(minutes=10))
    await env.quiz.sweep()
    assert not await env.quiz.poll_posted(reply.poll.round_token, "p9", "109", 0)
    assert not await env.quiz.poll_posted("unknown-token", "p9", "109", 0)


async def test_the_full_back_is_for_those_who_answered_or_after_the_round(env: Env) -> None:
    _, poll = await env.post()
    early = await env.quiz.poll_back(CAT, poll.round_token)
    assert "Answer the poll in the group first" in early.notice and not early.replies
    await env.answer(BEN, poll.correct)
    back = only(await env.quiz.poll_back(BEN, poll.round_token))
    assert back.kind == "back" and back.card is not None
    assert back.card.back is not None and "variance" in back.card.back
    assert back.all_buttons() == []  # the answer is already in the schedule
    env.clock.advance(timedelta(minutes=10))
    await env.quiz.sweep()
    assert only(await env.quiz.poll_back(CAT, poll.round_token)).card is not None
    assert await env.quiz.poll_back(CAT, "nope") == EXPIRED


def test_start_arguments() -> None:
    assert back_start("abc") == "qa_abc" and back_token("qa_abc") == "abc"
    assert back_token("qa_") is None and back_token("ch_abc") is None and back_token("") is None
