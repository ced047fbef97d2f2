"""A group quiz round as a native quiz poll (Telegram), for cards with ``choices:``.

The round is the same :class:`~bot.core.model.QuizRound` as a Reveal round, with the
poll it was posted as (:class:`~bot.core.model.QuizPollRef`). Each member's answer is a
quiz review in their own schedule: the right option counts as Good, a wrong one as
Again (source ``quiz``).

**Once per member per round.** A member's first answer is the one that counts. A vote
changed or retracted afterwards (Telegram sends a new ``poll_answer``, the retraction
with no options) reviews nothing again: the poll is posted with revoting off, and any
such update is ignored. An answer after the round's window, or to a poll no round knows,
is ignored too.

The poll's explanation, shown to a member once they have answered, links to the full
back in the private chat (``/start qa_<round token>``): :func:`show_back` gives it to a
member who has answered, or to anyone once the round is over. Pure: the platform sends.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from bot.core import exam, srs
from bot.core.choices import (
    EXPLANATION_LIMIT,
    SEE_ABOVE,
    QuizPoll,
    clip,
    plain_text,
    poll_order,
    poll_question,
)
from bot.core.learners import AfterCommit, due_counter, record_review
from bot.core.messages import Reply
from bot.core.model import (
    CardInfo,
    Learner,
    Prompt,
    QuizParticipant,
    QuizPollRef,
    QuizRound,
    ReviewEntry,
    ReviewSource,
)
from bot.core.outcomes import EXPIRED, Outcome, notice, send
from bot.core.ports import Tx
from bot.core.views import card_view

#: The start argument of the private chat's link to a round's full back.
BACK_PREFIX: Final = "qa_"
#: A right answer and a wrong one, as ratings.
RIGHT: Final = 3
WRONG: Final = 1
#: Room kept in the explanation for the adapter's link to the full back.
LINK_ROOM: Final = 40


def back_start(round_token: str) -> str:
    """The start argument that shows a round's full back privately."""
    return BACK_PREFIX + round_token


def back_token(start: str) -> str | None:
    """The round token of a :func:`back_start` argument, else None."""
    if start.startswith(BACK_PREFIX) and len(start) > len(BACK_PREFIX):
        return start[len(BACK_PREFIX) :]
    return None


def poll_for(card: CardInfo, token: str, topic: str, minutes: str) -> QuizPoll | None:
    """The quiz poll of a round on this card (None: the card has no choices)."""
    if card.choices is None:
        return None
    order = poll_order(card.choices, token)
    question = poll_question(card.front, card.front_image is not None)
    answer = order.options[order.correct]
    explanation = clip(f"Answer: {answer}.", EXPLANATION_LIMIT - LINK_ROOM)
    intro = (
        f"Quiz on {topic}: answer in the poll below. Your answer counts in your own "
        f"schedule (right = Good, wrong = Again; your first answer counts). "
        f"The answer is posted here in {minutes}."
    )
    return QuizPoll(
        round_token=token,
        question=question or SEE_ABOVE,
        options=order.options,
        correct=order.correct,
        explanation=explanation,
        intro=intro,
        front_above=question is None,
        back_start=back_start(token),
    )


def poll_posted(tx: Tx, round_token: str, poll_id: str, message_id: str, correct: int) -> bool:
    """The platform posted a round's poll: remember it, so its answers find the round and
    its close stops it. False when the round is gone or already closed (stop the poll)."""
    r = tx.quizzes.by_token(round_token)
    if r is None:
        return False
    return tx.quizzes.set_poll(r.id, QuizPollRef(poll_id, message_id, correct))


def review_answer(
    tx: Tx,
    member: Learner,
    r: QuizRound,
    option_ids: Sequence[int],
    now: datetime,
    token: str,
    name: str,
    after: AfterCommit,
) -> int | None:
    """Record one member's poll answer as a quiz review in their own schedule; returns the
    rating (Good for the right option, Again for a wrong one), or None when nothing counts:
    a retraction, a second answer, a round over, a card gone."""
    if r.poll is None or r.closed_at is not None or now >= r.ends_at or not option_ids:
        return None
    if any(p.learner_id == member.id for p in tx.quizzes.participants(r.id)):
        return None  # the first answer counts; a changed vote does not review again
    card = tx.catalogue.card(r.card_id)
    if card is None:
        return None
    rating = RIGHT if list(option_ids) == [r.poll.correct] else WRONG
    tx.prompts.add(Prompt(token, member.id, r.card_id, ReviewSource.QUIZ, now, revealed_at=now))
    tx.prompts.claim(token, member.id, now)
    before = tx.schedule.get(member.id, r.card_id)
    reviewed = srs.review(
        before,
        rating,
        now,
        member.settings,
        token=token,
        shown_at=now,
        due_counts=due_counter(tx, member.id),
        in_exam=exam.covers(member.settings, member.topics, card),
    )
    tx.schedule.save(reviewed)
    record_review(
        tx,
        ReviewEntry(
            learner_id=member.id,
            card_id=r.card_id,
            rating=rating,
            reviewed_at=now,
            source=ReviewSource.QUIZ,
            before=before,
            after=reviewed,
        ),
        after,
    )
    tx.quizzes.add_participant(QuizParticipant(r.id, member.id, token, name, now))
    return rating


def poll_tally(card: CardInfo | None, parts: Sequence[QuizParticipant]) -> str:
    """ "Quiz answer: √d_k. 3 answered · 2 right · 1 wrong" (counts only, no names)."""
    head = "Quiz answer"
    if card is not None and card.choices is not None:
        head += f": {plain_text(card.choices.answer)}"
    if not parts:
        return f"{head}. Nobody answered this one."
    right = sum(1 for p in parts if p.rating == RIGHT)
    return f"{head}. {len(parts)} answered · {right} right · {len(parts) - right} wrong"


def show_back(tx: Tx, member: Learner, round_token: str) -> Outcome:
    """The full back of a poll round's card, privately: for a member who has answered, or
    for anyone once the round is over (it would give the answer away before)."""
    r = tx.quizzes.by_token(round_token)
    if r is None:
        return EXPIRED
    answered = any(p.learner_id == member.id for p in tx.quizzes.participants(r.id))
    if not answered and r.closed_at is None:
        return notice("Answer the poll in the group first: the full answer is here after that.")
    card = tx.catalogue.card(r.card_id)
    if card is None:
        return notice("This card is no longer in its deck.")
    text = "The full answer of the group quiz (your answer is already in your schedule)."
    if not answered:
        text = "The full answer of the group quiz."
    return send(Reply("back", text, card=card_view(card, back=True)))
