"""/challenge in Telegram groups: parsing the subcommands, and the texts around them.

Pure helpers (no network): :func:`parse_challenge` turns the words after
``/challenge`` (Telegram's command syntax) into a :class:`ChallengeCommand` for the
commands to run against the core's challenge service, which checks the values
(a time zone is passed as typed: the core resolves "new york");
:func:`is_admin_status` reads a ``getChatMember`` status.
Deep links that join a run are ``/start ch_<run token>`` (:func:`join_start`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Literal

from telegram.constants import ChatMemberStatus

__all__ = [
    "CHALLENGE_PRIVATE",
    "CHALLENGE_USAGE",
    "JOIN_PREFIX",
    "NEEDS_ADMIN",
    "ChallengeCommand",
    "is_admin_status",
    "join_start",
    "parse_challenge",
]

CommandName = Literal[
    "list",
    "start",
    "status",
    "cancel",
    "reveal",
    "schedule",
    "unschedule",
    "configure",
    "usage",
]

#: Subcommands whose answer depends on whether the member is a group admin.
NEEDS_ADMIN: Final[frozenset[str]] = frozenset(
    {"start", "cancel", "reveal", "schedule", "unschedule", "configure"}
)
#: ``/start`` parameter prefix of a deep link that joins a challenge run.
JOIN_PREFIX: Final = "ch_"

CHALLENGE_USAGE: Final = (
    "**Group challenges**: everyone answers from memory, privately; then the reference "
    "comes out and you grade yourselves.\n"
    "/challenge list: the challenges\n"
    "/challenge start <id> [minutes]: start one here\n"
    "/challenge status: who has answered so far\n"
    "/challenge reveal or /challenge cancel: end it early\n"
    "/challenge schedule <id> <weekday> <HH:MM>: every week (/challenge unschedule [id])\n"
    "/challenge timezone <zone> · /challenge permissions admins|everyone"
)
CHALLENGE_PRIVATE: Final = (
    "Challenges run in groups: add me to a group and send /challenge list there. "
    "When one starts, tap its “Submit my answer” button and send me your answer here."
)


@dataclass(frozen=True, slots=True)
class ChallengeCommand:
    """One parsed ``/challenge`` subcommand.

    ``action`` "usage" means: show the usage, after ``problem`` when there is one.
    """

    action: CommandName
    challenge_id: str | None = None
    minutes: int | None = None
    weekday: str = ""
    at: str = ""
    key: str = ""
    value: str = ""
    problem: str | None = None


_SIMPLE: Final[dict[str, CommandName]] = {
    "list": "list",
    "status": "status",
    "cancel": "cancel",
    "reveal": "reveal",
}


def _usage(problem: str | None = None) -> ChallengeCommand:
    return ChallengeCommand("usage", problem=problem)


def parse_challenge(args: Sequence[str]) -> ChallengeCommand:
    """The words after ``/challenge`` as a command (unknown or incomplete ones: usage)."""
    if not args:
        return _usage()
    sub, rest = args[0].lower(), list(args[1:])
    simple = _SIMPLE.get(sub)
    if simple is not None:
        return ChallengeCommand(simple)
    if sub == "start":
        if not rest:
            return _usage("Which challenge? For example /challenge start refl-bahdanau 15")
        minutes: int | None = None
        if len(rest) > 1:
            if not re.fullmatch(r"[0-9]{1,3}", rest[1]):  # not "²", not a huge number
                return _usage(
                    f"Minutes are a whole number, for example /challenge start {rest[0]} 15"
                )
            minutes = int(rest[1])
        return ChallengeCommand("start", challenge_id=rest[0], minutes=minutes)
    if sub == "schedule":
        if len(rest) < 3:
            return _usage("For example: /challenge schedule refl-bahdanau monday 19:00")
        return ChallengeCommand("schedule", challenge_id=rest[0], weekday=rest[1], at=rest[2])
    if sub == "unschedule":
        return ChallengeCommand("unschedule", challenge_id=rest[0] if rest else None)
    if sub in ("timezone", "tz"):
        if not rest:
            return _usage("Which time zone? For example /challenge timezone Europe/Paris")
        return ChallengeCommand("configure", key="timezone", value=" ".join(rest))
    if sub == "permissions":
        if not rest:
            return _usage("Who may run challenges? /challenge permissions admins|everyone")
        return ChallengeCommand("configure", key="permissions", value=rest[0].lower())
    return _usage()


def is_admin_status(status: str) -> bool:
    """Whether a ``getChatMember`` status is the group's owner or one of its admins."""
    return status in (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)


def join_start(arg: str) -> str | None:
    """The run token of a ``/start ch_<token>`` deep link, else None."""
    if arg.startswith(JOIN_PREFIX) and len(arg) > len(JOIN_PREFIX):
        return arg[len(JOIN_PREFIX) :]
    return None
