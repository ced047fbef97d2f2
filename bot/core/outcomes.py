"""What an adapter does after a command, a tap or a typed message: one typed value.

Every entry point the core offers adapters returns an :class:`Outcome`. The
adapter renders it with its platform's means and decides nothing else: it
never reads a payload, a reply kind or a wire code to choose what to do.

A tap (a button press) is always answered: with ``notice`` as a short toast
when there is one, silently otherwise. Then, in this order, the tapped message
is edited into ``edit`` or closed with ``close``, and ``replies`` are sent.
When ``in_place`` is set, an adapter that can may instead turn the tapped message
into the first reply, with the ``close`` note on top of it (one edit instead of
an edit and a new message); it is only an offer, and the result reads the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.messages import Reply

#: Who sees the replies of an outcome.
#:
#: - ``chat``: everyone in the chat where the person acted.
#: - ``private``: only that person, in a place only they see: their private chat
#:   with the bot (Telegram), an ephemeral reply (Discord), the terminal (console).
#: - ``ephemeral``: only that person where the platform can show it so (Discord's
#:   ephemeral replies, Telegram's ephemeral messages in a group), else in the chat
#:   where they acted.
Audience = Literal["chat", "private", "ephemeral"]


@dataclass(frozen=True, slots=True)
class AnswerForm:
    """The person is now expected to answer a group challenge privately.

    A platform with forms opens one (Discord's modal, named by ``run_token``); the
    others send the outcome's replies and take the next private message as the answer.
    A platform that can show a message in the group to this member alone (Telegram's
    ephemeral messages) may send ``here`` instead, and take a reply to it in the group
    as the answer.
    """

    run_token: str
    #: The request for the answer worded for the group itself (answered by replying to it
    #: there); None when there is nothing to ask.
    here: Reply | None = None


@dataclass(frozen=True, slots=True)
class AssessmentForm:
    """The member's self-assessment as one form (a platform with forms opens it).

    Attributes:
        token: the member's submission token (the form carries it back).
        title: the challenge's title.
        checkpoints: the checkpoints to tick.
        rows: the rubric rows, each to rate 3 confident, 2 shaky or 1 need to re-study.
        grades: each row's grade so far (None: not rated yet), to fill the form in.
        checks: the checkpoints ticked so far.
        start: the first row the member still has to rate (a form shown in parts
            opens at the part holding it).
    """

    token: str
    title: str
    checkpoints: tuple[str, ...]
    rows: tuple[str, ...]
    grades: tuple[int | None, ...]
    checks: tuple[int, ...] = ()
    start: int = 0


@dataclass(frozen=True, slots=True)
class Outcome:
    """What to do after someone acted.

    Attributes:
        notice: a short answer only the person sees: the toast of a tap, or a brief
            private line after a command (at most about 200 characters).
        alert: the notice is a problem the person should read (a modal alert on Telegram).
        edit: the tapped message becomes this reply (its text, card and buttons).
        close: the tapped message is finished: its buttons go, and this note, when not
            empty, is added to it ("Good: see it again in 10m.").
        replies: new messages, in order.
        to: who sees ``replies``.
        form: the person should now write an answer (see :class:`AnswerForm`).
        assessment: the person's self-assessment form to open (see
            :class:`AssessmentForm`; only a platform with forms offers its button).
        in_place: the first reply may take the tapped message's place, with the
            ``close`` note at its start (the next card after a rating): the tapped
            message is finished, and the first reply is where the person goes on.
    """

    notice: str = ""
    alert: bool = False
    edit: Reply | None = None
    close: str | None = None
    replies: tuple[Reply, ...] = ()
    to: Audience = "chat"
    form: AnswerForm | None = None
    in_place: bool = False
    assessment: AssessmentForm | None = None


def send(*replies: Reply, to: Audience = "chat") -> Outcome:
    """An outcome that sends ``replies`` (to the chat, unless said otherwise)."""
    return Outcome(replies=replies, to=to)


def notice(text: str, *, alert: bool = False) -> Outcome:
    """An outcome that only answers the person (a toast after a tap)."""
    return Outcome(notice=text, alert=alert)


EXPIRED_TEXT = "This button has expired."
#: The answer to a stale, forged, foreign or already used button.
EXPIRED = Outcome(notice=EXPIRED_TEXT)
