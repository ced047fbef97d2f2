"""Tests for bot.core.quiz and the learner's-data use cases, over in-memory fakes."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.actions import decode
from bot.core.messages import Reply
from bot.core.model import CardState, CardStateKind, LearnerSettings, ReviewSource
from bot.core.quiz import QuizService, tally_text
from bot.core.study import StudyService, Who
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_card, make_deck
from tests.fakes.tokens import SequentialTokens

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SETTINGS = LearnerSettings(enable_fuzzing=False)
ANN = Who("telegram", "1", "Ann")
BEN = Who("telegram", "2", "Ben")
CAT = Who("telegram", "3", "Cat")
GROUP = "-100500"


class Env:
    def __init__(self) -> None:
        decks = [
            make_deck("attention", ["q1", "q2", "q3"], tags=["attention"]),
            make_deck("other", [make_card("o1", tags=["misc"])]),
        ]
        self.db = FakeDatabase(decks, START)
        self.clock = FixedClock(START)
        tokens = SequentialTokens()
        self.study = StudyService(self.db, self.clock, tokens, SETTINGS)
        self.quiz = QuizService(self.db, self.clock, tokens, SETTINGS)

    async def start(self, who: Who = ANN, topic: str = "attention") -> Reply:
        return await self.quiz.start(who, GROUP, topic)

    async def reveal(self, who: Who, quiz_reply: Reply) -> Reply:
        return await self.study.press(who, quiz_reply.buttons[0][0].payload)

    async def rate(self, who: Who, back: Reply, rating: int) -> Reply:
        return await self.study.press(who, back.buttons[0][rating - 1].payload)


@pytest.fixture
def env() -> Env:
    return Env()


async def test_start_posts_a_card_with_a_reveal_button(env: Env) -> None:
    reply = await env.start()
    assert reply.kind == "quiz"
    assert reply.card is not None and reply.card.back is None
    assert reply.card.card_id in ("q1", "q2", "q3")
    (button,) = reply.all_buttons()
    assert button.label == "Reveal" and decode(button.payload).kind == "quiz"
    assert "10 minutes" in reply.text


async def test_unknown_or_missing_topic_lists_topics(env: Env) -> None:
    for topic in ("nonsense", ""):
        reply = await env.start(topic=topic)
        assert reply.kind == "error"
        assert "attention" in reply.text and "misc" in reply.text
    assert env.db.run_sync(lambda tx: tx.quizzes.open_round("telegram", GROUP)) is None


async def test_one_round_per_chat_at_a_time(env: Env) -> None:
    await env.start()
    again = await env.start()
    assert again.kind == "error" and "already running" in again.text
    other_chat = await env.quiz.start(ANN, "-999", "attention")
    assert other_chat.kind == "quiz"


async def test_least_remembered_card_comes_first(env: Env) -> None:
    # Ann knows q1 and q2 well (recently reviewed, high stability); q3 is new to her.
    ann = await env.study.learner(ANN)

    def seed(tx: object) -> None:
        for cid in ("q1", "q2"):
            tx.schedule.save(  # type: ignore[attr-defined]
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
    reply = await env.start()
    assert reply.card is not None and reply.card.card_id == "q3"


async def test_reveal_gives_a_private_back_and_rating_counts_in_own_schedule(env: Env) -> None:
    post = await env.start()
    back = await env.reveal(BEN, post)
    assert back.kind == "back" and back.card is not None and back.card.back
    assert len(back.all_buttons()) == 4
    result = await env.rate(BEN, back, 3)
    assert result.kind == "info" and "Good" in result.text
    assert result.card is None  # a quiz rating starts no DM session
    ben = await env.study.learner(BEN)
    (entry,) = env.db.reviews(ben.id)
    assert entry.source == ReviewSource.QUIZ and entry.rating == 3
    assert post.card is not None and entry.card_id == post.card.card_id


async def test_someone_elses_rating_buttons_change_nothing(env: Env) -> None:
    post = await env.start()
    back = await env.reveal(BEN, post)
    stolen = await env.rate(CAT, back, 1)
    assert stolen.kind == "expired"
    assert env.db.reviews() == []


async def test_double_reveal_and_double_rating(env: Env) -> None:
    post = await env.start()
    first = await env.reveal(BEN, post)
    second = await env.reveal(BEN, post)
    assert first.all_buttons() == second.all_buttons()  # same prompt, not a second one
    await env.rate(BEN, first, 2)
    assert (await env.rate(BEN, first, 2)).kind == "expired"
    done = await env.reveal(BEN, post)
    assert done.kind == "info" and "already rated" in done.text
    assert len(env.db.reviews()) == 1


async def test_round_closes_at_the_window_with_a_tally_once(env: Env) -> None:
    post = await env.start()
    back = await env.reveal(BEN, post)
    await env.rate(BEN, back, 4)
    await env.reveal(CAT, post)  # reveals, never rates
    assert await env.quiz.sweep() == []
    env.clock.advance(timedelta(minutes=10))
    late = await env.reveal(ANN, post)
    assert late.kind == "expired" and "over" in late.text
    (announcement,) = await env.quiz.sweep()
    assert announcement.platform == "telegram" and announcement.chat_id == GROUP
    result = announcement.reply
    assert result.kind == "quiz_result" and result.card is not None and result.card.back
    assert (
        "2 took part" in result.text and "Easy 1" in result.text and "1 did not rate" in result.text
    )
    assert await env.quiz.sweep() == []  # exactly once


async def test_round_closes_early_once_every_expected_member_rated(env: Env) -> None:
    # First round: Ann starts, Ben and Cat take part, so all three are expected next time.
    post = await env.start()
    for who in (BEN, CAT):
        await env.rate(who, await env.reveal(who, post), 3)
    env.clock.advance(timedelta(minutes=10))
    await env.quiz.sweep()
    env.clock.advance(timedelta(hours=1))

    post2 = await env.start()
    assert post.card is not None and post2.card is not None
    assert post2.card.card_id != post.card.card_id  # no repeat within a day
    replies = []
    for who in (ANN, BEN, CAT):
        replies.append(await env.rate(who, await env.reveal(who, post2), 3))
    assert replies[0].announcements == () and replies[1].announcements == ()
    (closing,) = replies[2].announcements
    assert "3 took part" in closing.reply.text and "Good 3" in closing.reply.text
    env.clock.advance(timedelta(minutes=10))
    assert await env.quiz.sweep() == []


async def test_starting_after_an_unswept_round_announces_it(env: Env) -> None:
    await env.start()
    env.clock.advance(timedelta(minutes=11))
    reply = await env.start()
    assert reply.kind == "quiz"
    (old,) = reply.announcements
    assert old.reply.kind == "quiz_result"


def test_tally_text_counts_only() -> None:
    assert tally_text([]) == "Nobody revealed this one."


# --------------------------------------------------------------------------- your data


async def test_forget_needs_confirmation_and_deletes_everything(env: Env) -> None:
    front = await env.study.next(ANN)
    back = await env.study.press(ANN, front.buttons[0][0].payload)
    await env.study.press(ANN, back.buttons[0][2].payload)
    ann = await env.study.learner(ANN)
    ask = await env.study.request_forget(ANN)
    yes, no = ask.all_buttons()
    assert "cannot be undone" in ask.text

    # Somebody else's press of Ann's confirmation does nothing.
    assert (await env.study.press(BEN, yes.payload)).kind == "expired"
    assert env.db.learner("telegram", "1") is not None
    kept = await env.study.press(ANN, no.payload)
    assert "Nothing was deleted" in kept.text
    assert (await env.study.press(ANN, yes.payload)).kind == "expired"  # used up

    ask = await env.study.request_forget(ANN)
    done = await env.study.press(ANN, ask.all_buttons()[0].payload)
    assert "1 review" in done.text
    assert env.db.learner("telegram", "1") is None
    assert env.db.reviews(ann.id) == []
    assert not env.db.has_state(ann.id, "q1")


async def test_forget_confirmation_expires_after_a_day(env: Env) -> None:
    ask = await env.study.request_forget(ANN)
    env.clock.advance(timedelta(days=1, seconds=1))
    assert (await env.study.press(ANN, ask.all_buttons()[0].payload)).kind == "expired"
    assert env.db.learner("telegram", "1") is not None


async def test_export_csv_has_every_review(env: Env) -> None:
    front = await env.study.next(ANN, source="dm")
    back = await env.study.reveal(ANN, front.buttons[0][0].payload.split(":")[1], "my, answer")
    await env.study.press(ANN, back.buttons[0][0].payload)
    await env.study.undo(ANN)
    text = await env.study.export_csv(ANN)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1
    row = rows[0]
    assert row["card_id"] == "q1" and row["rating_name"] == "Again" and row["source"] == "dm"
    assert row["typed_answer"] == "my, answer"
    assert row["state_before"] == "new" and row["state_after"] == "learning"
    assert row["reviewed_at"].endswith("+00:00") and row["undone_at"]


async def test_pause_and_resume(env: Env) -> None:
    paused = await env.study.pause(ANN, True)
    assert "Paused" in paused.text
    assert (await env.study.learner(ANN)).settings.paused
    await env.study.pause(ANN, False)
    assert not (await env.study.learner(ANN)).settings.paused


async def test_unreachable_until_the_learner_writes_again(env: Env) -> None:
    await env.study.learner(ANN)
    await env.study.mark_unreachable("telegram", "1")
    stored = env.db.learner("telegram", "1")
    assert stored is not None and stored.unreachable
    await env.study.mark_unreachable("telegram", "nobody")  # unknown: no error, nothing made
    assert env.db.learner("telegram", "nobody") is None
    await env.study.next(ANN)
    stored = env.db.learner("telegram", "1")
    assert stored is not None and not stored.unreachable


async def test_forecast_counts_by_local_day(env: Env) -> None:
    front = await env.study.next(ANN)
    back = await env.study.press(ANN, front.buttons[0][0].payload)
    await env.study.press(ANN, back.buttons[0][3].payload)  # Easy: days away
    forecast = await env.study.forecast(ANN)
    assert len(forecast) == 30 and sum(forecast) == 1 and forecast[0] == 0
