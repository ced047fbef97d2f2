"""Tests for bot.core.onboarding: the walk-through and the settings menu's questions.

Choices are tapped through ``Inputs.press``; typed answers go through
``Inputs.text``, as every platform hands them over.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import LearnerSettings
from bot.core.onboarding import (
    DONE,
    QUESTION_TTL,
    QUIZ_RETURN,
    STEP_DECKS,
    STEP_EASY,
    STEP_PUSH,
    STEP_TZ,
    WELCOME,
)
from bot.core.outcomes import Outcome
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck
from tests.services import Services, build_services, button, only

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 14:00 UTC
ANN = Who("telegram", "1", "Ann", dm_channel="1")


class Env:
    def __init__(self) -> None:
        decks = [
            make_deck("attention", ["a1", "a2"], title="Attention"),
            make_deck("transformers", ["t1"], title="Transformers"),
        ]
        self.services: Services[FakeDatabase] = build_services(
            FakeDatabase(decks, START), FixedClock(START)
        )
        self.db = self.services.db

    async def tap(self, reply: Reply, label: str) -> Outcome:
        return await self.services.press(ANN, button(reply, label).payload)

    async def type(self, text: str) -> Outcome:
        return await self.services.inputs.text(ANN, text)

    async def pending(self) -> tuple[str, bool] | None:
        return await self.services.onboarding.pending(ANN)

    async def learner_settings(self) -> LearnerSettings:
        return (await self.services.study.learner(ANN)).settings


@pytest.fixture
def env() -> Env:
    return Env()


async def first_question(env: Env) -> Reply:
    outcome = await env.services.onboarding.start(ANN)
    welcome, question = outcome.replies
    assert welcome == Reply("info", WELCOME)
    return question


# --------------------------------------------------------------------------- the walk-through


async def test_start_welcomes_and_asks_for_the_time_zone(env: Env) -> None:
    outcome = await env.services.onboarding.start(ANN)
    assert (outcome.notice, outcome.edit, outcome.close, outcome.to) == ("", None, None, "chat")
    welcome, question = outcome.replies
    assert welcome == Reply("info", WELCOME)
    assert question.kind == "question" and question.text == STEP_TZ
    labels = [b.label for b in question.all_buttons()]
    assert labels[:3] == ["UTC", "London", "Paris / Berlin"] and len(labels) == 12
    assert [len(row) for row in question.buttons] == [3, 3, 3, 3]
    assert button(question, "Paris / Berlin").payload == "ob:tz:Europe/Berlin"
    assert {b.action for b in question.all_buttons()} == {"setup"}
    assert await env.pending() == ("tz", True)
    learner = env.db.learner("telegram", "1")
    assert learner is not None and learner.dm_channel_id == "1"  # the private chat is known


async def test_start_after_a_quiz_says_where_the_answer_comes(env: Env) -> None:
    outcome = await env.services.onboarding.start(ANN, after_quiz=True)
    assert outcome.replies[0].text == f"{QUIZ_RETURN}\n\n{WELCOME}"


async def test_each_tapped_choice_is_shown_on_its_question_and_the_next_one_follows(
    env: Env,
) -> None:
    tz = await first_question(env)
    chosen = await env.tap(tz, "Paris / Berlin")
    assert chosen.edit == Reply("info", "✓ Time zone: Europe/Berlin")
    push = only(chosen)
    assert push.text == STEP_PUSH
    assert [b.label for b in push.all_buttons()] == [
        "07:00",
        "08:00",
        "09:00",
        "12:00",
        "18:00",
        "20:00",
        "21:00",
        "No daily reminders",
    ]
    assert await env.pending() == ("push", True)
    settings = await env.learner_settings()
    assert settings.timezone == "Europe/Berlin"

    chosen = await env.tap(push, "07:00")
    assert chosen.edit == Reply("info", "✓ Daily reminder: 07:00")
    decks = only(chosen)
    assert decks.text == STEP_DECKS
    assert [b.payload for b in decks.all_buttons()] == [
        "ob:deck:attention",
        "ob:deck:transformers",
        "ob:deck:*",
    ]
    assert await env.pending() is None  # a deck is tapped, never typed
    learner = env.db.learner("telegram", "1")
    assert learner is not None and learner.settings.push_time == time(7, 0)
    assert learner.next_push_at == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 07:00 in Berlin

    chosen = await env.tap(decks, "Attention")
    assert chosen.edit == Reply("info", "✓ Studying attention.")
    done = only(chosen)
    assert done.text == DONE
    start = button(done, "Start reviewing")
    assert (start.payload, start.style) == ("ob:go:review", "primary")
    assert (await env.services.study.learner(ANN)).topics == ("attention",)

    first = await env.tap(done, "Start reviewing")
    assert first.close == "" and first.edit is None  # the button goes, the text stays
    card = only(first)
    assert card.kind == "front" and card.card is not None and card.card.card_id == "a1"


async def test_no_daily_reminders_pauses_them(env: Env) -> None:
    tz = await first_question(env)
    push = only(await env.tap(tz, "UTC"))
    chosen = await env.tap(push, "No daily reminders")
    assert chosen.edit == Reply("info", "✓ Daily reminders: off (/resume turns them on)")
    assert only(chosen).text == STEP_DECKS
    assert (await env.services.study.learner(ANN)).settings.paused


async def test_all_decks(env: Env) -> None:
    tz = await first_question(env)
    push = only(await env.tap(tz, "UTC"))
    decks = only(await env.tap(push, "09:00"))
    chosen = await env.tap(decks, "All decks")
    assert chosen.edit == Reply("info", "✓ Studying all decks.")
    assert (await env.services.study.learner(ANN)).topics == ()


async def test_typed_answers_paris_and_9pm(env: Env) -> None:
    await first_question(env)
    typed = await env.type("Paris")
    assert typed.edit is None  # nothing was tapped: the answer is said, then the next question
    saved, push = typed.replies
    assert saved == Reply("info", "✓ Time zone: Europe/Paris")
    assert push.text == STEP_PUSH
    assert await env.pending() == ("push", True)

    typed = await env.type("9pm")
    saved, decks = typed.replies
    assert saved == Reply("info", "✓ Daily reminder: 21:00")
    assert decks.text == STEP_DECKS
    assert await env.pending() is None
    learner = env.db.learner("telegram", "1")
    assert learner is not None
    assert (learner.settings.timezone, learner.settings.push_time) == ("Europe/Paris", time(21))


async def test_a_bad_typed_answer_leaves_the_question_open(env: Env) -> None:
    await first_question(env)
    before = env.db.snapshot()
    wrong = await env.type("Atlantis")
    (error,) = wrong.replies
    assert error.kind == "error" and "Atlantis" in error.text
    assert wrong.edit is None
    assert env.db.snapshot() == before
    assert await env.pending() == ("tz", True)
    right = await env.type("Tokyo")
    assert right.replies[0].text == "✓ Time zone: Asia/Tokyo"

    wrong = await env.type("noonish")
    assert only(wrong).kind == "error"
    assert await env.pending() == ("push", True)


async def test_a_forged_choice_saves_nothing(env: Env) -> None:
    await first_question(env)
    before = env.db.snapshot()
    outcome = await env.services.press(ANN, "ob:tz:Mars/Olympus")
    assert only(outcome).kind == "error" and outcome.edit is None
    outcome = await env.services.press(ANN, "ob:deck:nope")
    assert only(outcome).kind == "error" and "nope" in only(outcome).text
    assert env.db.snapshot() == before


async def test_choosing_a_time_resumes_paused_reminders(env: Env) -> None:
    await env.services.study.pause(ANN)
    assert (await env.services.study.learner(ANN)).settings.paused
    question = only(await env.services.press(ANN, "os:go:push"))
    await env.tap(question, "08:00")
    learner = env.db.learner("telegram", "1")
    assert learner is not None and not learner.settings.paused
    assert learner.next_push_at == datetime(2026, 3, 3, 8, 0, tzinfo=UTC)

    await env.services.study.pause(ANN)
    await env.services.press(ANN, "os:go:push")
    await env.type("7:30")
    learner = env.db.learner("telegram", "1")
    assert learner is not None and not learner.settings.paused


# --------------------------------------------------------------------------- the settings menu


async def test_settings_menu_choices_end_with_the_settings(env: Env) -> None:
    menu = only(await env.services.study.settings(ANN, menu=True))
    asked = await env.tap(menu, "Time zone")
    assert asked.edit is None
    question = only(asked)
    assert question.text == STEP_TZ
    assert button(question, "Tokyo").payload == "os:tz:Asia/Tokyo"
    assert await env.pending() == ("tz", False)

    chosen = await env.tap(question, "Tokyo")
    assert chosen.edit == Reply("info", "✓ Time zone: Asia/Tokyo")
    settings = only(chosen)
    assert settings.kind == "info" and "timezone: Asia/Tokyo" in settings.text
    assert settings.buttons == ()
    assert await env.pending() is None

    await env.tap(menu, "Reminder")
    typed = await env.type("6:45")
    saved, settings = typed.replies
    assert saved == Reply("info", "✓ Daily reminder: 06:45")
    assert "push: 06:45" in settings.text
    assert await env.pending() is None

    decks = only(await env.tap(menu, "Decks"))
    assert decks.text == STEP_DECKS and await env.pending() is None
    chosen = await env.tap(decks, "Transformers")
    assert chosen.edit == Reply("info", "✓ Studying transformers.")
    assert "decks: transformers" in only(chosen).text


async def test_the_easy_days_question_takes_a_choice_or_typed_days(env: Env) -> None:
    """Easy days from the settings menu: a tapped choice, a typed one (a bad one keeps the
    question open and says why), and "off" clears them."""
    menu = only(await env.services.study.settings(ANN, menu=True))
    question = only(await env.tap(menu, "Easy days"))
    assert question.text == STEP_EASY and await env.pending() == ("easy", False)
    assert button(question, "Weekend at 50%").payload == "os:easy:sat 50% sun 50%"
    chosen = await env.tap(question, "Weekend at 50%")
    assert chosen.edit == Reply("info", "✓ Easy days: sat 50%, sun 50%")
    assert "easy_days: sat 50%, sun 50% (of a normal day's reviews)" in only(chosen).text
    assert (await env.learner_settings()).easy_days == (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5)

    await env.tap(menu, "Easy days")
    wrong = await env.type("sun")
    assert only(wrong) == Reply(
        "error", "How light should sun be? For example sun 50% (0% avoids it)."
    )
    assert await env.pending() == ("easy", False)
    typed = await env.type("Sunday 0%, wed 70%")
    saved, settings = typed.replies
    assert saved == Reply("info", "✓ Easy days: wed 70%, sun 0%")
    assert "easy_days: wed 70%, sun 0%" in settings.text and await env.pending() is None
    assert (await env.learner_settings()).easy_days == (1.0, 1.0, 0.7, 1.0, 1.0, 1.0, 0.0)

    await env.tap(menu, "Easy days")
    await env.type("off")
    assert (await env.learner_settings()).easy_days == ()


async def test_the_decks_menu_changes_what_is_studied(env: Env) -> None:
    menu = only(await env.services.study.decks(ANN, menu=True))
    chosen = await env.tap(menu, "All decks")
    assert chosen.edit == Reply("info", "✓ Studying all decks.")
    assert "decks: all decks" in only(chosen).text


async def test_a_typed_message_without_an_open_question_is_not_an_answer(env: Env) -> None:
    assert await env.services.onboarding.answer(ANN, "Paris") is None


async def test_a_question_waits_for_its_typed_answer_until_it_expires(env: Env) -> None:
    await env.services.onboarding.start(ANN)
    env.services.clock.advance(QUESTION_TTL - timedelta(seconds=1))
    assert await env.pending() == ("tz", True)
    env.services.clock.advance(timedelta(seconds=1))
    assert await env.pending() is None
    assert await env.services.onboarding.answer(ANN, "Paris") is None
    assert (await env.learner_settings()).timezone == "UTC"


async def test_an_answer_resets_the_expiry_of_the_next_question(env: Env) -> None:
    await env.services.onboarding.start(ANN)
    env.services.clock.advance(QUESTION_TTL - timedelta(seconds=1))
    await env.type("Paris")
    env.services.clock.advance(QUESTION_TTL - timedelta(seconds=1))
    assert await env.pending() == ("push", True)
    replies = (await env.type("7:30")).replies
    assert replies[0] == Reply("info", "✓ Daily reminder: 07:30")


async def test_the_open_question_is_in_the_database_not_the_service(env: Env) -> None:
    """Another process (a service built again over the same database) takes the answer."""
    await env.services.onboarding.start(ANN)
    other = build_services(env.db, env.services.clock)
    outcome = await other.inputs.text(ANN, "Paris")
    assert outcome.replies[0] == Reply("info", "✓ Time zone: Europe/Paris")
    assert await other.onboarding.pending(ANN) == ("push", True)
