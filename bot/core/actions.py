"""Compact button payloads, at most 64 bytes: decoded here, and only here.

Two forms:

- ``<code>:<token>[:<arg>]`` (:class:`Action`): the token names a row (a prompt,
  a quiz round, a challenge run, a confirmation) that belongs to one learner or
  chat; it is random and unguessable, so a forged payload names nothing. Whether
  a token is stale, already answered or someone else's is decided by the service
  that handles it, which answers all of those with "this button has expired".
- ``o<b|s>:<step>:<value>`` (:class:`Setup`): a choice in the onboarding
  walk-through (``b``: go on to the next question) or in the settings menu (``s``).
- ``d<p|r|x>:<deck id>`` (:class:`DeckChoice`): pause, resume or remove one of the
  learner's own decks, from the ``/decks`` menu. The deck id is not secret: the
  service refuses a deck that is not the presser's own.

Adapters put payloads on buttons and hand pressed ones back to the core
(:class:`bot.core.inputs.Inputs`); they never look inside.
"""

from __future__ import annotations

import base64
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Literal, cast

from bot.core.challenges.definitions import MAX_RUBRIC_ROWS

MAX_PAYLOAD_BYTES = 64

ActionKind = Literal[
    "reveal",
    "rate",
    "bury",
    "suspend",
    "undo",
    "next",
    "quiz",
    "confirm",
    "snooze",
    "skip",
    "join",
    "check",
    "grade",
    "assessed",
    "share",
    "showname",
    "assessform",
]
#: What a button does, for display (the console binds keys by it): an action, or a
#: choice in the walk-through or the settings menu.
ButtonAction = ActionKind | Literal["setup"]
_CODES: dict[str, ActionKind] = {
    "s": "reveal",
    "r": "rate",
    "b": "bury",
    "x": "suspend",
    "u": "undo",
    "n": "next",
    "q": "quiz",  # reveal a group quiz card privately; the token names the round
    "c": "confirm",  # answer a confirmation (arg 1 = yes, 0 = no); the token names it
    "z": "snooze",  # push this daily push again in an hour; the token names its prompt
    "k": "skip",  # no more pushes today; the token names the push's prompt
    "j": "join",  # take part in a group challenge; the token names the run
    "h": "check",  # tick a challenge checkpoint (arg = its index); token: the member's part
    "g": "grade",  # rate a rubric row (arg = 10 * row + level 1-3); token: the member's part
    "f": "assessed",  # apply the self-assessment to the member's schedule
    "o": "share",  # share one's own answer with the group after the reveal
    "m": "showname",  # agree to be named in the summary (toggles)
    "a": "assessform",  # open the self-assessment as one form (arg: the row to start at)
}
_LETTER = {v: k for k, v in _CODES.items()}
_TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{8,22}$")
_SETUP_RE = re.compile(r"o([bs]):(tz|push|deck|easy|go):(.{0,56})")
_DECK_RE = re.compile(r"d([prx]):([A-Za-z0-9][A-Za-z0-9_.-]{0,60})")

#: A regular expression every :class:`Action` payload matches (Discord routes its
#: persistent buttons by it); it says nothing of whether the payload is valid.
ACTION_PATTERN = r"[a-z]:[A-Za-z0-9_-]{8,22}(?::\d{1,2})?"

SetupStep = Literal["tz", "push", "deck", "easy", "go"]
#: What a :class:`DeckChoice` does to one of the learner's own decks.
DeckStep = Literal["pause", "resume", "remove"]
_DECK_LETTERS: dict[DeckStep, str] = {"pause": "p", "resume": "r", "remove": "x"}
_DECK_STEPS: dict[str, DeckStep] = {v: k for k, v in _DECK_LETTERS.items()}


class BadPayload(ValueError):
    """A payload that is not one of ours (malformed, too long, unknown action)."""


@dataclass(frozen=True, slots=True)
class Action:
    """A decoded button press."""

    kind: ActionKind
    token: str
    arg: int | None = None

    def encode(self) -> str:
        """Encode to the payload string carried by a button."""
        text = f"{_LETTER[self.kind]}:{self.token}"
        if self.arg is not None:
            text += f":{self.arg}"
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise BadPayload("payload longer than 64 bytes")
        return text


@dataclass(frozen=True, slots=True)
class Setup:
    """A choice in the onboarding walk-through or the settings menu.

    Attributes:
        chain: go on to the next question afterwards (onboarding) or stop (settings).
        step: which question: ``tz``, ``push``, ``deck``, ``easy`` (easy days, from the
            settings menu only), or ``go`` (open one: its value names the step, or
            ``review`` to start studying).
        value: the choice (an IANA zone, ``HHMM`` or ``off``, a deck id or ``*``, easy
            days as typed: ``sat 50% sun 50%`` or ``off``).
    """

    chain: bool
    step: SetupStep
    value: str

    def encode(self) -> str:
        """Encode to the payload string carried by a button (``ob:tz:Europe/Paris``).

        Raises:
            BadPayload: when it would be longer than 64 bytes.
        """
        text = f"o{'b' if self.chain else 's'}:{self.step}:{self.value}"
        if len(text.encode()) > MAX_PAYLOAD_BYTES:
            raise BadPayload("payload longer than 64 bytes")
        return text


@dataclass(frozen=True, slots=True)
class DeckChoice:
    """A ``/decks`` menu button on one of the learner's own decks.

    Attributes:
        step: ``pause``, ``resume`` or ``remove`` (which asks for a confirmation first).
        deck_id: the deck (``u<learner>-<slug>``; at most 61 characters fit).
    """

    step: DeckStep
    deck_id: str

    def encode(self) -> str:
        """Encode to the payload string carried by a button (``dp:u12-spanish``).

        Raises:
            BadPayload: when it would be longer than 64 bytes or the id is not one a
                deck can have.
        """
        text = f"d{_DECK_LETTERS[self.step]}:{self.deck_id}"
        if len(text.encode()) > MAX_PAYLOAD_BYTES or not _DECK_RE.fullmatch(text):
            raise BadPayload("not a deck choice that fits in a payload")
        return text


def decode(payload: str) -> Action | Setup | DeckChoice:
    """Decode a button payload.

    Raises:
        BadPayload: when the payload is not a well-formed payload of ours.
    """
    if not payload or len(payload.encode("utf-8", "replace")) > MAX_PAYLOAD_BYTES:
        raise BadPayload("empty or too long")
    setup = _SETUP_RE.fullmatch(payload)
    if setup is not None:
        # The expression admits only the five steps.
        return Setup(setup.group(1) == "b", cast("SetupStep", setup.group(2)), setup.group(3))
    deck = _DECK_RE.fullmatch(payload)
    if deck is not None:
        return DeckChoice(_DECK_STEPS[deck.group(1)], deck.group(2))
    parts = payload.split(":")
    if len(parts) not in (2, 3) or parts[0] not in _CODES:
        raise BadPayload("unknown action")
    kind = _CODES[parts[0]]
    token = parts[1]
    if not _TOKEN_RE.fullmatch(token):
        raise BadPayload("bad token")
    arg: int | None = None
    if len(parts) == 3:
        if not re.fullmatch(r"[0-9]{1,3}", parts[2]):
            raise BadPayload("bad argument")
        arg = int(parts[2])
    if kind == "rate" and arg not in (1, 2, 3, 4):
        raise BadPayload("a rating is 1 to 4")
    if kind == "confirm" and arg not in (0, 1):
        raise BadPayload("a confirmation is 0 or 1")
    if kind in ("check", "grade") and arg is None:
        raise BadPayload("a checkpoint or rubric row is needed")
    if kind == "grade" and arg is not None and arg % 10 not in (1, 2, 3):
        raise BadPayload("a grade is 1 to 3")
    if kind == "grade" and arg is not None and arg >= 10 * MAX_RUBRIC_ROWS:
        raise BadPayload(f"a rubric has at most {MAX_RUBRIC_ROWS} rows")
    if kind == "assessform" and arg is not None and arg >= MAX_RUBRIC_ROWS:
        raise BadPayload(f"a rubric has at most {MAX_RUBRIC_ROWS} rows")
    if kind == "check" and arg is not None and arg > 9:
        raise BadPayload("a checkpoint index is 0 to 9")
    if kind not in ("rate", "confirm", "check", "grade", "assessform") and arg is not None:
        raise BadPayload("unexpected argument")
    return Action(kind, token, arg)


_random = threading.local()
_POOL_TOKENS = 512  # tokens drawn from the OS at once


def new_token() -> str:
    """A fresh random prompt token: 16 URL-safe characters (96 bits from the OS).

    Random bytes are drawn and encoded for 512 tokens at a time (per thread),
    since planning a day's pushes makes thousands of tokens at once: 12 bytes
    encode to exactly 16 characters, so the encoded pool splits on 16-character
    boundaries and each slice carries its own 96 random bits.
    """
    pool: str = getattr(_random, "pool", "")
    at: int = getattr(_random, "at", 0)
    if at >= len(pool):
        pool = base64.urlsafe_b64encode(secrets.token_bytes(12 * _POOL_TOKENS)).decode("ascii")
        _random.pool = pool
        at = 0
    _random.at = at + 16
    return pool[at : at + 16]
