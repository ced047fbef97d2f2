"""A card's multiple-choice form (``choices:`` in a deck file) and the quiz poll it makes.

A card may list options below a ``choices:`` key, each marked right (``[x]``) or wrong
(``[ ]``), exactly one right::

    choices:
    - [ ] divide by $d_k$
    - [x] divide by $\\sqrt{d_k}$
    - [ ] divide by $d_{model}$

On Telegram a group ``/quiz`` on such a card is a native quiz poll (see
:mod:`bot.core.quizpolls`). Poll options and questions are plain text, so an option is
shown as :func:`plain_text` makes it (formulas as Unicode, emphasis marks dropped), and
the limits below are counted on that text, in UTF-16 units as Telegram counts them.
Pure: no platform, no storage.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bot.text.latex import math_fallback
from bot.text.markdown import needs_image
from bot.text.split import utf16_len

#: Telegram's bounds for a poll: options, an option's text, the question, the explanation.
MIN_OPTIONS: Final = 2
MAX_OPTIONS: Final = 10
OPTION_LIMIT: Final = 100
QUESTION_LIMIT: Final = 300
EXPLANATION_LIMIT: Final = 200

_MARK = re.compile(r"^\[([ xX])\]\s*(.*)$")


@dataclass(frozen=True, slots=True)
class Choices:
    """The options of a multiple-choice card, in the order written, and the right one.

    Attributes:
        options: each option's text as written (markdown, ``$...$`` formulas allowed).
        correct: the index of the right option.
    """

    options: tuple[str, ...]
    correct: int

    @property
    def answer(self) -> str:
        """The right option, as written."""
        return self.options[self.correct]

    def to_json(self) -> str:
        """The stored form (``cards.choices``)."""
        return json.dumps({"options": list(self.options), "correct": self.correct})

    @classmethod
    def from_json(cls, text: str | None) -> Choices | None:
        """Read the stored form; None for none (or a value that is not a valid form)."""
        if not text:
            return None
        try:
            data = json.loads(text)
            options = tuple(str(o) for o in data["options"])
            correct = int(data["correct"])
        except (ValueError, KeyError, TypeError):
            return None
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS or not 0 <= correct < len(options):
            return None
        return cls(options, correct)


def plain_text(markdown: str) -> str:
    """Card markdown as plain text for a poll: formulas as Unicode (``√d_k``), links as
    their text, emphasis and code marks dropped, each paragraph on one line."""
    text = math_fallback(markdown)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?!\w)", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    # A paragraph's lines are one line (markdown's soft breaks); paragraphs one line each.
    paragraphs = re.split(r"\n[ \t]*\n", text)
    lines = [re.sub(r"\s+", " ", p).strip() for p in paragraphs]
    return "\n".join(line for line in lines if line)


def parse_choices(
    value: str, key_line: int, items: Sequence[tuple[str, int]], err: Callable[[int, str], None]
) -> Choices | None:
    """Read and check a card's ``choices:`` list (``items``: each list line's text after
    the ``-`` and its line number); every problem goes to ``err`` with its line.

    Checked: the list is below the key (nothing after ``choices:``), 2 to 10 options, each
    marked ``[x]`` or ``[ ]``, exactly one ``[x]``, none empty, none repeated, and each at
    most 100 characters as a poll shows it.
    """
    ok = True
    if value.strip():
        err(
            key_line,
            "choices: takes a list on the lines below it, one option per line: "
            "'- [x] the right one' or '- [ ] a wrong one'",
        )
        return None
    if not MIN_OPTIONS <= len(items) <= MAX_OPTIONS:
        err(
            key_line,
            f"choices: has {len(items)} option{'s' if len(items) != 1 else ''}; "
            f"a quiz poll takes {MIN_OPTIONS} to {MAX_OPTIONS}",
        )
        ok = False
    options: list[str] = []
    right: list[int] = []
    seen: dict[str, int] = {}
    for text, line in items:
        m = _MARK.match(text.strip())
        if m is None:
            err(line, "mark each option right '[x]' or wrong '[ ]', as in '- [x] sqrt(d_k)'")
            ok = False
            continue
        option = m.group(2).strip()
        if m.group(1) in "xX":
            right.append(line)
        shown = plain_text(option)
        if not shown:
            err(line, "this option is empty")
            ok = False
            continue
        if utf16_len(shown) > OPTION_LIMIT:
            err(
                line,
                f"this option is {utf16_len(shown)} characters as a poll shows it; "
                f"Telegram allows {OPTION_LIMIT}",
            )
            ok = False
        key = shown.casefold()
        if key in seen:
            err(line, f"this option repeats the one on line {seen[key]}")
            ok = False
        seen.setdefault(key, line)
        options.append(option)
    if items and len(right) != 1:
        where = f" (lines {', '.join(map(str, right))})" if right else ""
        err(
            key_line,
            f"choices: has {len(right)} options marked right '[x]'{where}; mark exactly one",
        )
        ok = False
    if not ok:
        return None
    correct_line = right[0]
    correct = [line for _, line in items].index(correct_line)
    return Choices(tuple(options), correct)


@dataclass(frozen=True, slots=True)
class PollOrder:
    """A poll's options as shown (shuffled for its round) and where the right one is."""

    options: tuple[str, ...]
    correct: int


def poll_order(choices: Choices, seed: str) -> PollOrder:
    """The options shuffled for one round (the same seed, the same order), as plain text:
    the right answer does not sit in the same place every time the card comes back."""
    order = list(range(len(choices.options)))
    digest = hashlib.sha256(seed.encode()).digest()
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(order)
    shown = tuple(plain_text(choices.options[i]) for i in order)
    return PollOrder(shown, order.index(choices.correct))


def poll_question(front: str, has_front_image: bool) -> str | None:
    """The card's front as a poll's question, or None when it does not fit one (over 300
    characters as plain text, a table or wide code, or a picture that goes with it): the
    front is then posted above the poll, whose question is :data:`SEE_ABOVE`."""
    if has_front_image or needs_image(front) or "```" in front or "$$" in front:
        return None
    text = plain_text(front)
    return text if text and utf16_len(text) <= QUESTION_LIMIT else None


#: The poll's question when the card's front is posted above it.
SEE_ABOVE: Final = "Which is right? (the question is above)"


def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` UTF-16 units, with an ellipsis when cut."""
    if utf16_len(text) <= limit:
        return text
    out = ""
    for char in text:
        if utf16_len(out + char) > limit - 1:
            break
        out += char
    return out.rstrip() + "…"


@dataclass(frozen=True, slots=True)
class QuizPoll:
    """A quiz round as a platform's native quiz poll (non-anonymous, one right option).

    Attributes:
        round_token: the round's token (the adapter reports the posted poll with it).
        question: the poll's question, plain text, at most 300 characters.
        options: the options as shown, plain text, each at most 100 characters.
        correct: the index of the right option in ``options``.
        explanation: shown to a member once they have answered (plain text, leaving room
            within Telegram's 200 characters for a link to the full back).
        intro: markdown posted to the group before the poll (with the card's front when
            ``front_above``).
        front_above: the front does not fit a poll's question: post it above the poll.
        back_start: the private chat's start argument that shows the full back.
    """

    round_token: str
    question: str
    options: tuple[str, ...]
    correct: int
    explanation: str
    intro: str
    front_above: bool
    back_start: str
