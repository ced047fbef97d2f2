"""The walk-through a new learner gets (time zone, daily reminder, decks), and the
settings menu's questions: a core flow each platform renders.

Each question is a reply with buttons (:class:`~bot.core.actions.Setup` payloads);
the time zone and the reminder time can also be typed. Which question a learner
is answering is kept by :class:`OpenQuestions` (in memory here: a handful of bytes
per learner; a restart only means they tap the button again).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final, Protocol

from bot.core.actions import BadPayload, Setup, SetupStep
from bot.core.learners import Basics, ServiceBase, Who
from bot.core.localtime import next_push_after
from bot.core.messages import Button, Reply
from bot.core.model import Learner, ReviewSource
from bot.core.outcomes import Outcome
from bot.core.ports import Tx
from bot.core.settings import SettingsError, parse_settings_change
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
#: Reminder times offered as buttons (local time).
PUSH_TIMES: Final = ("07:00", "08:00", "09:00", "12:00", "18:00", "20:00", "21:00")


class OpenQuestions(Protocol):
    """Which question each learner's next typed message answers."""

    def ask(self, key: tuple[str, str], step: SetupStep, chain: bool) -> None:
        """The next plain message of ``key`` (platform, user id) answers ``step``."""
        ...

    def pending(self, key: tuple[str, str]) -> tuple[SetupStep, bool] | None:
        """The step a typed message answers, and whether the walk-through goes on after it."""
        ...

    def close(self, key: tuple[str, str]) -> None:
        """Forget the open question (answered, or the learner moved on)."""
        ...


class MemoryQuestions:
    """:class:`OpenQuestions` in this process's memory, bounded.

    Args:
        capacity: how many learners' open questions to keep (oldest dropped first).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._open: OrderedDict[tuple[str, str], tuple[SetupStep, bool]] = OrderedDict()

    def ask(self, key: tuple[str, str], step: SetupStep, chain: bool) -> None:
        self._open.pop(key, None)
        self._open[key] = (step, chain)
        while len(self._open) > self.capacity:
            self._open.popitem(last=False)

    def pending(self, key: tuple[str, str]) -> tuple[SetupStep, bool] | None:
        return self._open.get(key)

    def close(self, key: tuple[str, str]) -> None:
        self._open.pop(key, None)


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


def question(tx: Tx, step: SetupStep, chain: bool) -> Reply:
    """One question of the walk-through, with its buttons."""
    if step == "tz":
        return Reply("question", STEP_TZ, buttons=_grid(_choices(chain, "tz", COMMON_ZONES), 3))
    if step == "push":
        times = [(t, t.replace(":", "")) for t in PUSH_TIMES]
        rows = _grid(_choices(chain, "push", times), 4)
        off = _choices(chain, "push", [("No daily reminders", "off")])
        return Reply("question", STEP_PUSH, buttons=(*rows, tuple(off)))
    return Reply("question", STEP_DECKS, buttons=deck_buttons(tx, chain))


def _apply(tx: Tx, learner: Learner, step: SetupStep, value: str, now: datetime) -> Reply:
    """One answer, saved: "✓ Time zone: Europe/Paris", or what is wrong with it."""
    if step == "deck":
        reply = set_topics(tx, learner, ["all"] if value == "*" else [value])
        return reply if reply.kind == "error" else replace(reply, text=f"✓ {reply.text}")
    if step == "push" and value.strip().lower() == "off":
        pause(tx, learner, True, now)
        return Reply("info", "✓ Daily reminders: off (/resume turns them on)")
    key = "timezone" if step == "tz" else "push"
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
    return Reply("info", f"✓ Daily reminder: {settings.push_time.strftime('%H:%M')}")


_NEXT: Final[dict[SetupStep, SetupStep | None]] = {"tz": "push", "push": "deck", "deck": None}
#: What a settings-menu button ("os:go:<step>") opens.
_OPENS: Final[dict[str, SetupStep]] = {"tz": "tz", "push": "push", "deck": "deck"}


class Onboarding(ServiceBase):
    """The walk-through and the settings menu's questions.

    Args:
        questions: which question each learner's typed message answers.
    """

    def __init__(self, basics: Basics, questions: OpenQuestions) -> None:
        super().__init__(basics)
        self.questions = questions

    async def start(self, who: Who, *, after_quiz: bool = False) -> Outcome:
        """``/start``: the welcome and the first question (after a quiz's "open a chat
        with me", a word on where the answer comes)."""
        intro = f"{QUIZ_RETURN}\n\n{WELCOME}" if after_quiz else WELCOME
        self.questions.ask((who.platform, who.user_id), "tz", True)
        ask = await self._run(who, lambda tx, lr, now: question(tx, "tz", True))
        return Outcome(replies=(Reply("info", intro), ask))

    async def choose(self, who: Who, choice: Setup) -> Outcome:
        """A tapped choice: saved, and the tapped question shows it; then the next question."""
        key = (who.platform, who.user_id)
        if choice.step == "go":
            if choice.value == "review":
                self.questions.close(key)
                token = self.tokens()
                first = await self._run(
                    who, lambda tx, lr, now: next_card(tx, lr, now, token, ReviewSource.DM)
                )
                return Outcome(close="", replies=(first,))
            return await self._ask(who, _OPENS.get(choice.value, "tz"), chain=False)
        return await self._answer(who, choice.step, choice.value, choice.chain, tapped=True)

    async def answer(self, who: Who, text: str) -> Outcome | None:
        """A typed message answering the open question; None when no question is open."""
        found = self.questions.pending((who.platform, who.user_id))
        if found is None:
            return None
        step, chain = found
        return await self._answer(who, step, text.strip(), chain, tapped=False)

    def cancel(self, who: Who) -> None:
        """A command ends any question left open."""
        self.questions.close((who.platform, who.user_id))

    async def _ask(self, who: Who, step: SetupStep, *, chain: bool) -> Outcome:
        if step != "deck":
            self.questions.ask((who.platform, who.user_id), step, chain)
        ask = await self._run(who, lambda tx, lr, now: question(tx, step, chain))
        return Outcome(replies=(ask,))

    async def _answer(
        self, who: Who, step: SetupStep, value: str, chain: bool, *, tapped: bool
    ) -> Outcome:
        following = _NEXT.get(step) if chain else None

        def work(tx: Tx, learner: Learner, now: datetime) -> tuple[Outcome, bool]:
            done = _apply(tx, learner, step, value, now)
            if done.kind == "error":
                return Outcome(replies=(done,)), False
            replies: list[Reply] = [] if tapped or step == "deck" else [done]
            if following is not None:
                replies.append(question(tx, following, chain))
            elif chain:
                start = button("Start reviewing", Setup(True, "go", "review"), "primary")
                replies.append(Reply("info", DONE, buttons=((start,),)))
            else:
                saved = tx.learners.get_by_id(learner.id) or learner
                replies.append(show_settings(saved))
            return Outcome(edit=done if tapped else None, replies=tuple(replies)), True

        outcome, saved = await self._run(who, work)
        if saved:  # on a bad answer the question stays open: the learner can try again
            key = (who.platform, who.user_id)
            if following is not None and following != "deck":
                self.questions.ask(key, following, chain)
            else:
                self.questions.close(key)
        return outcome
