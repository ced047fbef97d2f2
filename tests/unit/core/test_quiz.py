"""Tests for bot.core.quiz: group quizzes over in-memory fakes, with a fixed clock.

Reveal and rating buttons are pressed through ``Inputs.press``; the answer and
tally of a round are announced through the (recording) Announcer once the unit
of work that closed it has committed.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, time, timedelta

import pytest

from bot.core import exam, srs
from bot.core.learners import Who
from bot.core.messages import Announcement, Reply
from bot.core.model import RATING_NAMES, CardState, CardStateKind, LearnerSettings, ReviewSource
from bot.core.outcomes import EXPIRED, Outcome
from bot.core.quiz import tally_text
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_card, make_deck
from tests.services import SETTINGS, Services, action_of, build_services, only

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ANN = Who("telegram", "1", "Ann")
BEN = Who("telegram", "2", "Ben")
CAT = Who("telegram", "3", "Cat")
GROUP = "-100500"


class Env:
    def __init__(self, settings: LearnerSettings = SETTINGS) -> None:
        decks = [
            make_deck("attention", ["q1", "q2", "q3"], tags=["attention"]),
            make_deck("other", [make_card("o1", tags=["misc"])]),
        ]
        self.services: Services[FakeDatabase] = build_services(
            FakeDatabase(decks, START), FixedClock(START), settings=settings
        )
        self.db = self.services.db
        self.clock = self.services.clock
        self.quiz = self.services.quiz
        self.study = self.services.study
        self.posted = self.services.announcer

    async def start(self, who: Who = ANN, topic: str = "attention") -> Outcome:
        return await self.quiz.start(who, GROUP, topic)

    async def post(self, who: Who = ANN) -> Reply:
        """Start a round; returns the card posted to the group."""
        outcome = await self.start(who)
        assert outcome.to == "chat"
        return only(outcome)

    async def reveal(self, who: Who, quiz_reply: Reply) -> Outcome:
        return await self.services.press(who, quiz_reply.buttons[0][0].payload)

    async def back(self, who: Who, quiz_reply: Reply) -> Reply:
        """Reveal: the back comes privately."""
        outcome = await self.reveal(who, quiz_reply)
        assert outcome.to == "private", outcome
        return only(outcome)

    async def rate(self, who: Who, back: Reply, rating: int) -> Outcome:
        return await self.services.press(who, back.buttons[0][rating - 1].payload)


@pytest.fixture
def env() -> Env:
    return Env()


async def test_start_posts_a_card_with_a_reveal_button(env: Env) -> None:
    reply = await env.post()
    assert reply.kind == "quiz"
    assert reply.card is not None and reply.card.back is None
    assert reply.card.card_id in ("q1", "q2", "q3")
    (button,) = reply.all_buttons()
    assert button.label == "Reveal" and action_of(button.payload).kind == "quiz"
    assert (button.action, button.style) == ("quiz", "primary")
    assert "10 minutes" in reply.text


async def test_unknown_or_missing_topic_lists_topics_to_the_member(env: Env) -> None:
    for topic in ("nonsense", ""):
        outcome = await env.start(topic=topic)
        assert outcome.to == "ephemeral"
        reply = only(outcome)
        assert reply.kind == "error"
        assert "attention" in reply.text and "misc" in reply.text
    assert env.db.run_sync(lambda tx: tx.quizzes.open_round("telegram", GROUP)) is None


async def test_one_round_per_chat_at_a_time(env: Env) -> None:
    await env.start()
    again = await env.start()
    assert again.to == "ephemeral"
    assert only(again).kind == "error" and "already running" in only(again).text
    other_chat = await env.quiz.start(ANN, "-999", "attention")
    assert only(other_chat).kind == "quiz"


async def test_least_remembered_card_comes_first(env: Env) -> None:
    # Ann knows q1 and q2 well (recently reviewed, high stability); q3 is new to her.
    ann = await env.study.learner(ANN)

    def seed(tx: FakeTx) -> None:
        for cid in ("q1", "q2"):
            tx.schedule.save(
                CardState(
                    ann.id,
                    cid,
                    CardStateKind.REVIEW,
                    None,
                    30.0,
                    5.0,
                    START + timedelta(days=20),
                    START - timedelta(days=1),
                )
            )

    env.db.run_sync(seed)
    reply = await env.post()
    assert reply.card is not None and reply.card.card_id == "q3"


async def test_reveal_gives_a_private_back_and_rating_counts_in_own_schedule(env: Env) -> None:
    post = await env.post()
    back = await env.back(BEN, post)
    assert back.kind == "back" and back.card is not None and back.card.back
    assert len(back.all_buttons()) == 4
    result = await env.rate(BEN, back, 3)
    # The rated back is closed with the note; a quiz rating starts no private session.
    assert result.close is not None and result.close.startswith("Good: see it again in")
    assert result.close.endswith(" Counted in your own schedule.")
    assert result.replies == () and result.edit is None
    ben = await env.study.learner(BEN)
    (entry,) = env.db.reviews(ben.id)
    assert entry.source == ReviewSource.QUIZ and entry.rating == 3
    assert post.card is not None and entry.card_id == post.card.card_id


@pytest.mark.parametrize("rating", [1, 2, 3, 4])
async def test_with_fuzzing_a_quiz_rating_schedules_what_its_button_showed(rating: int) -> None:
    """A quiz back shows rating buttons too: revealed twice, it shows the same intervals
    (those of the first reveal), and the rating schedules exactly the one tapped."""
    env = Env(replace(SETTINGS, enable_fuzzing=True))
    post = await env.post()
    assert post.card is not None
    ben = await env.study.learner(BEN)

    def seed(tx: FakeTx) -> None:  # well known: Good and Easy give weeks, fuzzed
        for card_id in ("q1", "q2", "q3"):
            tx.schedule.save(
                CardState(
                    ben.id,
                    card_id,
                    CardStateKind.REVIEW,
                    None,
                    30.0,
                    5.0,
                    START,
                    START - timedelta(days=25),
                )
            )

    env.db.run_sync(seed)
    env.clock.advance(timedelta(minutes=1))
    back = await env.back(BEN, post)
    env.clock.advance(timedelta(minutes=5))
    again = await env.back(BEN, post)
    assert [b.label for b in again.all_buttons()] == [b.label for b in back.all_buttons()]
    env.clock.advance(timedelta(minutes=2))
    result = await env.rate(BEN, again, rating)
    (entry,) = env.db.reviews(ben.id)
    assert entry.after.due is not None
    interval = entry.after.due - env.clock.now()
    label = back.all_buttons()[rating - 1].label
    assert label == f"{RATING_NAMES[rating]} {srs.format_interval(interval)}"
    assert result.close is not None and srs.format_interval(interval) in result.close


async def test_someone_elses_rating_buttons_change_nothing(env: Env) -> None:
    post = await env.post()
    back = await env.back(BEN, post)
    stolen = await env.rate(CAT, back, 1)
    assert stolen.notice.startswith("This button has expired") and stolen.close is None
    assert env.db.reviews() == []


async def test_double_reveal_and_double_rating(env: Env) -> None:
    post = await env.post()
    first = await env.back(BEN, post)
    second = await env.back(BEN, post)
    assert first.all_buttons() == second.all_buttons()  # same prompt, not a second one
    await env.rate(BEN, first, 2)
    twice = await env.rate(BEN, first, 2)
    assert twice.notice.startswith("This button has expired") and twice.close is None
    done = await env.reveal(BEN, post)
    assert "already rated" in done.notice and done.alert and not done.replies
    assert len(env.db.reviews()) == 1


async def test_round_closes_at_the_window_with_a_tally_once(env: Env) -> None:
    post = await env.post()
    back = await env.back(BEN, post)
    await env.rate(BEN, back, 4)
    await env.reveal(CAT, post)  # reveals, never rates
    assert await env.quiz.sweep() == 0
    env.clock.advance(timedelta(minutes=10))
    late = await env.reveal(ANN, post)
    assert "over" in late.notice and not late.replies
    assert await env.quiz.sweep() == 1
    (announcement,) = env.posted.take()
    assert announcement.platform == "telegram" and announcement.chat_id == GROUP
    assert announcement.learner_id is None
    result = announcement.reply
    assert result.kind == "quiz_result" and result.card is not None and result.card.back
    assert (
        "2 took part" in result.text and "Easy 1" in result.text and "1 did not rate" in result.text
    )
    assert await env.quiz.sweep() == 0  # exactly once
    assert env.posted.take() == []


async def test_round_closes_early_once_every_expected_member_rated(env: Env) -> None:
    # First round: Ann starts, Ben and Cat take part, so all three are expected next time.
    post = await env.post()
    for who in (BEN, CAT):
        await env.rate(who, await env.back(who, post), 3)
    env.clock.advance(timedelta(minutes=10))
    await env.quiz.sweep()
    env.clock.advance(timedelta(hours=1))
    env.posted.take()

    post2 = await env.post()
    assert post.card is not None and post2.card is not None
    assert post2.card.card_id != post.card.card_id  # no repeat within a day
    posted: list[list[Announcement]] = []
    for who in (ANN, BEN, CAT):
        await env.rate(who, await env.back(who, post2), 3)
        posted.append(env.posted.take())
    assert posted[0] == [] and posted[1] == []
    (closing,) = posted[2]
    assert "3 took part" in closing.reply.text and "Good 3" in closing.reply.text
    env.clock.advance(timedelta(minutes=10))
    assert await env.quiz.sweep() == 0


async def test_starting_after_an_unswept_round_announces_it_first(env: Env) -> None:
    await env.start()
    env.clock.advance(timedelta(minutes=11))
    reply = await env.post()
    assert reply.kind == "quiz"
    (old,) = env.posted.take()
    assert old.reply.kind == "quiz_result" and old.chat_id == GROUP


async def test_a_forged_or_unknown_round_has_expired(env: Env) -> None:
    assert await env.services.press(BEN, "q:zzzzzzzzzzzz") == EXPIRED


def test_tally_text_counts_only() -> None:
    assert tally_text([]) == "Nobody revealed this one."


async def test_a_quiz_card_of_a_members_exam_comes_back_in_time_for_it() -> None:
    """The member's exam covers the quiz's topic: the Good button and the rating both give
    the start of the day before the exam, not the months FSRS alone would."""
    exam_day = (START + timedelta(days=10)).date()
    env = Env(replace(SETTINGS, exam_date=exam_day, exam_target=0.99))
    post = await env.post()
    assert post.card is not None
    ben = await env.study.learner(BEN)

    def seed(tx: FakeTx) -> None:
        for card_id in ("q1", "q2", "q3"):
            tx.schedule.save(
                CardState(
                    ben.id,
                    card_id,
                    CardStateKind.REVIEW,
                    None,
                    30.0,
                    5.0,
                    START,
                    START - timedelta(days=25),
                )
            )

    env.db.run_sync(seed)
    back = await env.back(BEN, post)
    last_day = datetime.combine(exam_day - timedelta(days=1), time(0), tzinfo=UTC)
    good = back.all_buttons()[2].label
    await env.rate(BEN, back, 3)
    (entry,) = env.db.reviews(ben.id)
    due = entry.after.due
    # At the start of one of the last days before the exam, as the button said.
    assert due is not None and last_day - timedelta(days=exam.SPREAD_DAYS) < due <= last_day
    assert due.time() == time(0) and good == f"Good {srs.format_interval(due - START)}"
    # Without the exam, Good gives months.
    assert entry.before.due is not None
    normal = srs.preview(entry.before, START, SETTINGS, token="any")
    assert normal[3] > timedelta(days=60)
