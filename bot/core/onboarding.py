"""The walk-through a new learner gets (time zone, daily reminder, decks), and the
settings menu's questions: a core flow each platform renders.

Each question is a reply with buttons (:class:`~bot.core.actions.Setup` payloads);
the time zone and the reminder time can also be typed. Which question a learner
is answering is kept in the database (``tx.questions``) for :data:`QUESTION_TTL`,
so an answer typed after a restart, or received by another process, is understood.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Final

from bot.core.actions import BadPayload, Setup, SetupStep
from bot.core.learners import Basics, ServiceBase, Who, get_or_create_learner
from bot.core.localtime import next_push_after
from bot.core.messages import Button, Reply
from bot.core.model import Learner, ReviewSource
from bot.core.outcomes import Outcome
from bot.core.ports import Tx
from bot.core.settings import (
    EASY_DAY_CHOICES,
    SettingsError,
    easy_days_text,
    parse_settings_change,
)
from bot.core.study import deck_buttons, next_card, pause, set_topics, show_settings
from bot.core.views import button

WELCOME: Final = (
    "Hi! I help you remember how attention and transformers work, a few minutes a day.\n"
    "I show you a card, you recall the answer, then rate how well you knew it; "
    "I schedule each card just before you would forget it (spaced repetition). "
    "Once a day I remind you when cards are due. In groups, /quiz quizzes everyone at once.\n\n"
    "Three quick questions and we start."
)
QUIZ_RETURN: Final = "Now go back to the group and tap Reveal again: the answer comes here."
STEP_TZ: Final = (
    "**Your time zone** (so reminders come at your local time)\n"
    "Tap one, or type a city (Paris, Mumbai) or a zone name (America/Chicago)."
)
STEP_PUSH: Final = "**Daily reminder**\nWhen should I remind you? Tap a time, or type one (7:30)."
STEP_DECKS: Final = "**What to study**\nPick a deck, or all of them."
STEP_EASY: Final = (
    "**Easy days**\nDays on which you want fewer reviews: I schedule fewer cards on them, "
    "and none on a day at 0% when another day will do. Tap one, or type your own "
    "(sat 50%, sun 0%)."
)
DONE: Final = (
    "All set! Send /review any time to study. /settings changes any of this; /help lists "
    "everything."
)

#: Buttons for common zones: (label, IANA name).
COMMON_ZONES: Final = (
    ("UTC", "UTC"),
    ("London", "Europe/London"),
    ("Paris / Berlin", "Europe/Berlin"),
    ("Moscow", "Europe/Moscow"),
    ("New York", "America/New_York"),
    ("Chicago", "America/Chicago"),
    ("Los Angeles", "America/Los_Angeles"),
    ("São Paulo", "America/Sao_Paulo"),
    ("India", "Asia/Kolkata"),
    ("Beijing / Singapore", "Asia/Shanghai"),
    ("Tokyo", "Asia/Tokyo"),
    ("Sydney", "Australia/Sydney"),
)
#: How long a question waits for a typed answer; after that a typed message gets the hint.
QUESTION_TTL: Final = timedelta(hours=1)
#: Reminder times offered as buttons (local time).
PUSH_TIMES: Final = ("07:00", "08:00", "09:00", "12:00", "18:00", "20:00", "21:00")


def _grid(buttons: Sequence[Button], width: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + width]) for i in range(0, len(buttons), width))


def _choices(chain: bool, step: SetupStep, options: Sequence[tuple[str, str]]) -> list[Button]:
    """A button per (label, value) whose payload fits in 64 bytes."""
    out: list[Button] = []
    for label, value in options:
        try:
            out.append(button(label, Setup(chain, step, value)))
        except BadPayload:
            continue
    return out


def question(tx: Tx, step: SetupStep, chain: bool, viewer: int | None = None) -> Reply:
    """One question of the walk-through, with its buttons (the decks: the shipped ones and
    the ``viewer``'s own)."""
    if step == "tz":
        return Reply("question", STEP_TZ, buttons=_grid(_choices(chain, "tz", COMMON_ZONES), 3))
    if step == "push":
        times = [(t, t.replace(":", "")) for t in PUSH_TIMES]
        rows = _grid(_choices(chain, "push", times), 4)
        off = _choices(chain, "push", [("No daily reminders", "off")])
        return Reply("question", STEP_PUSH, buttons=(*rows, tuple(off)))
    if step == "easy":
        return Reply(
            "question", STEP_EASY, buttons=_grid(_choices(chain, "easy", EASY_DAY_CHOICES), 2)
        )
    return Reply("question", STEP_DECKS, buttons=deck_buttons(tx, chain, viewer))


def _apply(tx: Tx, learner: Learner, step: SetupStep, value: str, now: datetime) -> Reply:
    """One answer, saved: "✓ Time zone: Europe/Paris", or what is wrong with it."""
    if step == "deck":
        reply = set_topics(tx, learner, ["all"] if value == "*" else [value])
        return reply if reply.kind == "error" else replace(reply, text=f"✓ {reply.text}")
    if step == "push" and value.strip().lower() == "off":
        pause(tx, learner, True, now)
        return Reply("info", "✓ Daily reminders: off (/resume turns them on)")
    key = {"tz": "timezone", "easy": "easy_days"}.get(step, "push")
    if step == "push" and len(value) == 4 and value.isdigit():  # a button's "0800"
        value = f"{value[:2]}:{value[2:]}"
    try:
        settings = parse_settings_change(learner.settings, key, value)
    except SettingsError as exc:
        return Reply("error", str(exc))
    tx.learners.save_settings(learner.id, settings)
    tx.learners.set_next_push(learner.id, next_push_after(settings, now))
    if step == "tz":
        return Reply("info", f"✓ Time zone: {settings.timezone}")
    if step == "easy":
        return Reply("info", f"✓ Easy days: {easy_days_text(settings.easy_days)}")
    return Reply("info", f"✓ Daily reminder: {settings.push_time.strftime('%H:%M')}")


_NEXT: Final[dict[SetupStep, SetupStep | None]] = {
    "tz": "push",
    "push": "deck",
    "deck": None,
    "easy": None,
}
#: What a settings-menu button ("os:go:<step>") opens.
_OPENS: Final[dict[str, SetupStep]] = {"tz": "tz", "push": "push", "deck": "deck", "easy": "easy"}


class Onboarding(ServiceBase):
    """The walk-through and the settings menu's questions.

    Args:
        ttl: how long a question waits for a typed answer.
    """

    def __init__(self, basics: Basics, ttl: timedelta = QUESTION_TTL) -> None:
        super().__init__(basics)
        self.ttl = ttl

    async def start(self, who: Who, *, after_quiz: bool = False) -> Outcome:
        """``/start``: the welcome and the first question (after a quiz's "open a chat
        with me", a word on where the answer comes)."""
        intro = f"{QUIZ_RETURN}\n\n{WELCOME}" if after_quiz else WELCOME
        ttl = self.ttl

        def work(tx: Tx, learner: Learner, now: datetime) -> Reply:
            tx.questions.ask(learner.id, "tz", True, now + ttl)
            return question(tx, "tz", True, learner.id)

        ask = await self._run(who, work)
        return Outcome(replies=(Reply("info", intro), ask))

    async def choose(self, who: Who, choice: Setup) -> Outcome:
        """A tapped choice: saved, and the tapped question shows it; then the next question."""
        if choice.step == "go":
            if choice.value == "review":
                token = self.tokens()

                def first(tx: Tx, learner: Learner, now: datetime) -> Reply:
                    tx.questions.close(learner.id)
                    return next_card(tx, learner, now, token, ReviewSource.DM)

                return Outcome(close="", replies=(await self._run(who, first),))
            return await self._ask(who, _OPENS.get(choice.value, "tz"), chain=False)
        ttl = self.ttl
        return await self._run(
            who,
            lambda tx, lr, now: _answer(
                tx, lr, now, choice.step, choice.value, choice.chain, tapped=True, ttl=ttl
            ),
        )

    async def answer(self, who: Who, text: str | None) -> Outcome | None:
        """A private message from someone: contact (an unreachable learner is reachable
        again), and, when it is text, the answer to their open question.

        Returns None when no question is open (or it expired), or for a stranger, who
        is not enrolled by a message.
        """
        enrolment, ttl = self.enrolment, self.ttl
        now = self.clock.now()

        def work(tx: Tx) -> Outcome | None:
            known = tx.learners.get(who.platform, who.user_id)
            if known is None:
                return None
            learner = get_or_create_learner(tx, who, enrolment, now)
            found = tx.questions.pending(learner.id, now) if text else None
            if found is None or not text:
                return None
            step, chain = found
            if step not in _NEXT:  # pragma: no cover - only steps are ever asked
                return None
            return _answer(tx, learner, now, step, text.strip(), chain, tapped=False, ttl=ttl)

        return await self.db.run(work)

    async def pending(self, who: Who) -> tuple[str, bool] | None:
        """The question ``who``'s next typed message answers, if any (step, chain)."""
        now = self.clock.now()

        def work(tx: Tx) -> tuple[str, bool] | None:
            known = tx.learners.get(who.platform, who.user_id)
            return None if known is None else tx.questions.pending(known.id, now)

        return await self.db.run(work)

    async def cancel(self, who: Who) -> None:
        """A command ends any question left open."""

        def work(tx: Tx) -> None:
            known = tx.learners.get(who.platform, who.user_id)
            if known is not None:
                tx.questions.close(known.id)

        await self.db.run(work)

    async def _ask(self, who: Who, step: SetupStep, *, chain: bool) -> Outcome:
        ttl = self.ttl

        def work(tx: Tx, learner: Learner, now: datetime) -> Reply:
            if step != "deck":
                tx.questions.ask(learner.id, step, chain, now + ttl)
            return question(tx, step, chain, learner.id)

        return Outcome(replies=(await self._run(who, work),))


def _answer(
    tx: Tx,
    learner: Learner,
    now: datetime,
    step: str,
    value: str,
    chain: bool,
    *,
    tapped: bool,
    ttl: timedelta,
) -> Outcome:
    """One answer, tapped or typed, in the unit of work that saves it and asks the next."""
    setup_step: SetupStep = (
        "tz" if step == "tz" else "push" if step == "push" else "easy" if step == "easy" else "deck"
    )
    following = _NEXT.get(setup_step) if chain else None
    done = _apply(tx, learner, setup_step, value, now)
    if done.kind == "error":  # on a bad answer the question stays open: they can try again
        return Outcome(replies=(done,))
    replies: list[Reply] = [] if tapped or step == "deck" else [done]
    if following is not None:
        replies.append(question(tx, following, chain, learner.id))
    elif chain:
        start = button("Start reviewing", Setup(True, "go", "review"), "primary")
        replies.append(Reply("info", DONE, buttons=((start,),)))
    else:
        saved = tx.learners.get_by_id(learner.id) or learner
        replies.append(show_settings(saved))
    if following is not None and following != "deck":
        tx.questions.ask(learner.id, following, chain, now + ttl)
    else:
        tx.questions.close(learner.id)
    return Outcome(edit=done if tapped else None, replies=tuple(replies))
