"""Group /quiz: a card posted to a chat; members reveal and rate it privately.

A member's rating is an ordinary review in their own schedule (source
``quiz``). The round closes when its window ends (a periodic sweep, so it
survives restarts) or once every expected participant has rated; the answer
and a tally are then announced to the group, exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core import exam, quizpolls, srs
from bot.core.actions import Action
from bot.core.learners import AfterCommit, AnnouncingService, Basics, Posts, Who, due_counter
from bot.core.messages import Announcement, Reply
from bot.core.model import (
    RATING_NAMES,
    Learner,
    LearnerSettings,
    Prompt,
    QuizParticipant,
    QuizRound,
)
from bot.core.outcomes import EXPIRED, Outcome, notice, send
from bot.core.ports import Announcer, Tx
from bot.core.views import button, card_view, rating_buttons
from bot.text.excerpt import excerpt

log = logging.getLogger(__name__)

RECENT_PARTICIPANTS = timedelta(days=30)
NO_REPEAT = timedelta(hours=24)
DEFAULT_WINDOW = timedelta(minutes=10)


def _minutes(delta: timedelta) -> str:
    minutes = max(1, round(delta.total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def least_remembered(
    tx: Tx, learner_ids: Sequence[int], card_ids: Sequence[str], now: datetime
) -> str:
    """The card these learners are least likely to recall now (deck order breaks ties)."""
    settings: dict[int, LearnerSettings] = {}
    for lid in learner_ids:
        learner = tx.learners.get_by_id(lid)
        if learner is not None:
            settings[lid] = learner.settings
    total = dict.fromkeys(card_ids, 0.0)
    for state in tx.schedule.states_for(list(settings), card_ids):
        total[state.card_id] += srs.retrievability(state, now, settings[state.learner_id])
    order = {cid: i for i, cid in enumerate(card_ids)}
    return min(card_ids, key=lambda cid: (total[cid], order[cid]))


def start_quiz(
    tx: Tx,
    starter: Learner,
    chat_id: str,
    topic: str,
    now: datetime,
    token: str,
    window: timedelta,
    posts: Posts,
    polls: bool = False,
) -> Outcome:
    """Post a card on ``topic`` to a group chat, or explain why not (to the starter).

    A finished round still open here is closed first; its answer is posted before the new card.
    With ``polls`` (the platform posts quiz polls), a card with choices comes with its
    poll (:mod:`bot.core.quizpolls`); the card and its Reveal button stay the fallback.
    """
    topic = topic.strip().lower()
    topics = tx.catalogue.topics()
    if not topic:
        return _refused(f"Which topic? For example /quiz attention. Topics: {', '.join(topics)}.")
    cards = tx.catalogue.cards_in_topic(topic)
    if not cards:
        return _refused(f"I have no cards on “{excerpt(topic)}”. Topics: {', '.join(topics)}.")
    platform = starter.platform
    running = tx.quizzes.open_round(platform, chat_id)
    if running is not None:
        if running.ends_at > now:
            left = _minutes(running.ends_at - now)
            return _refused(f"A quiz is already running here; its answer comes in {left}.")
        closed = close_round(tx, running, now)
        if closed is not None:
            posts.append(closed)
    expected = set(tx.quizzes.recent_participants(platform, chat_id, now - RECENT_PARTICIPANTS))
    expected.add(starter.id)
    recent = tx.quizzes.recent_cards(platform, chat_id, now - NO_REPEAT)
    candidates = [c for c in cards if c not in recent] or cards
    card_id = least_remembered(tx, sorted(expected), candidates, now)
    tx.quizzes.add(
        QuizRound(
            id=0,
            token=token,
            platform=platform,
            chat_id=chat_id,
            card_id=card_id,
            topic=topic,
            started_at=now,
            ends_at=now + window,
            started_by=starter.id,
            expected=tuple(sorted(expected)),
        )
    )
    card = tx.catalogue.card(card_id)
    assert card is not None
    text = (
        f"Quiz on {topic}. Think of your answer, then tap Reveal: you see the back and rate "
        f"yourself privately, and it counts in your own schedule. "
        f"The answer is posted here in {_minutes(window)}."
    )
    return send(
        Reply(
            "quiz",
            text,
            card=card_view(card, back=False),
            buttons=((button("Reveal", Action("quiz", token), "primary"),),),
            poll=quizpolls.poll_for(card, token, topic, _minutes(window)) if polls else None,
        )
    )


def _refused(text: str) -> Outcome:
    """A quiz that cannot start: said to the member who asked (privately where possible)."""
    return send(Reply("error", text), to="ephemeral")


def reveal_quiz(
    tx: Tx, member: Learner, round_token: str, now: datetime, prompt_token: str, name: str
) -> Outcome:
    """Give one member the back of a quiz card and their own rating buttons, privately."""
    r = tx.quizzes.by_token(round_token)
    if r is None:
        return EXPIRED
    if r.closed_at is not None or now >= r.ends_at:
        return notice("This quiz round is over; its answer is in the group.")
    card = tx.catalogue.card(r.card_id)
    if card is None:
        return notice("This card is no longer in its deck.")
    mine = next((p for p in tx.quizzes.participants(r.id) if p.learner_id == member.id), None)
    if mine is not None and mine.rating is not None:
        return notice(
            f"You already rated this one {RATING_NAMES[mine.rating]}: it is in your schedule.",
            alert=True,
        )
    shown = None
    if mine is not None:  # revealed again: the same intervals as the first time
        prompt_token = mine.prompt_token
        prompt = tx.prompts.get(prompt_token)
        shown = prompt.intervals if prompt is not None else None
    if shown is not None:
        intervals = srs.from_seconds(shown)
    else:  # the first reveal (or one stored before intervals were): the rating gives these
        shown_at = now if mine is None else mine.revealed_at
        state = tx.schedule.get(member.id, r.card_id)
        intervals = srs.preview(
            state,
            shown_at,
            member.settings,
            token=prompt_token,
            due_counts=due_counter(tx, member.id),
            in_exam=exam.covers(member.settings, member.topics, card),
        )
        if mine is None:
            tx.prompts.add(Prompt(prompt_token, member.id, r.card_id, "quiz", now))
            tx.quizzes.add_participant(QuizParticipant(r.id, member.id, prompt_token, name, now))
        tx.prompts.reveal(prompt_token, shown_at, None, srs.to_seconds(intervals))
    back = Reply(
        "back",
        "From the group quiz: rate yourself honestly; it counts in your own schedule.",
        card=card_view(card, back=True),
        buttons=(rating_buttons(prompt_token, intervals),),
    )
    return send(back, to="private")


def after_quiz_rating(
    tx: Tx, learner: Learner, prompt_token: str, rating: int, now: datetime
) -> tuple[Announcement, ...]:
    """Record a quiz rating; close the round when every expected participant has rated."""
    mine = tx.quizzes.by_prompt(prompt_token)
    if mine is None:
        return ()
    tx.quizzes.hold(mine.round_id)  # answers at once: the last one sees the others
    return _record_rating(tx, mine.round_id, learner, rating, now)


def _record_rating(
    tx: Tx, round_id: int, learner: Learner, rating: int, now: datetime
) -> tuple[Announcement, ...]:
    """Record a participant's rating in a round held by this unit of work; close the
    round when every expected participant has rated."""
    tx.quizzes.record(round_id, learner.id, rating, now)
    r = tx.quizzes.by_id(round_id)
    if r is None or r.closed_at is not None:
        return ()
    parts = tx.quizzes.participants(r.id)
    rated = {p.learner_id for p in parts if p.rating is not None}
    everyone = set(r.expected) | {p.learner_id for p in parts}
    if len(everyone) >= 2 and everyone <= rated:
        closed = close_round(tx, r, now)
        return (closed,) if closed else ()
    return ()


def tally_text(parts: Sequence[QuizParticipant]) -> str:
    """ "3 took part · Again 1 · Hard 0 · Good 2 · Easy 0" (counts only, no names)."""
    if not parts:
        return "Nobody revealed this one."
    counts = {r: 0 for r in RATING_NAMES}
    for p in parts:
        if p.rating is not None:
            counts[p.rating] += 1
    unrated = sum(1 for p in parts if p.rating is None)
    text = f"{len(parts)} took part · " + " · ".join(
        f"{RATING_NAMES[r]} {counts[r]}" for r in RATING_NAMES
    )
    if unrated:
        text += f" · {unrated} did not rate"
    return text


def close_round(tx: Tx, r: QuizRound, now: datetime) -> Announcement | None:
    """Close a round once and build the group's answer-and-tally message."""
    if not tx.quizzes.close(r.id, now):
        return None
    card = tx.catalogue.card(r.card_id)
    parts = tx.quizzes.participants(r.id)
    text = "Quiz answer. " + tally_text(parts)
    if r.poll is not None:  # a poll round: right and wrong; its poll is stopped first
        text = quizpolls.poll_tally(card, parts)
    view = card_view(card, back=True) if card is not None else None
    stops = r.poll.message_id if r.poll is not None else None
    reply = Reply("quiz_result", text, card=view, stops_poll=stops)
    return Announcement(r.platform, r.chat_id, reply, starter_id=r.started_by)


def close_due_rounds(tx: Tx, now: datetime) -> list[Announcement]:
    """Close every round whose window has ended; each is announced exactly once."""
    out: list[Announcement] = []
    for r in tx.quizzes.due(now):
        closed = close_round(tx, r, now)
        if closed is not None:
            out.append(closed)
    return out


class QuizService(AnnouncingService):
    """Group quizzes for adapters. Reveal and rating buttons come through
    :class:`bot.core.inputs.Inputs`.

    Args:
        window: how long a round stays open before its answer is posted.
    """

    def __init__(
        self, basics: Basics, announcer: Announcer, window: timedelta = DEFAULT_WINDOW
    ) -> None:
        super().__init__(basics, announcer)
        self.window = window

    async def start(self, who: Who, chat_id: str, topic: str, *, polls: bool = False) -> Outcome:
        """Start a round in a group chat (``who`` is the member who asked); ``polls``: the
        platform posts quiz polls, so a card with choices comes with its poll."""
        token = self.tokens()
        window = self.window
        return await self._posting(
            who,
            lambda tx, lr, now, then: start_quiz(
                tx, lr, chat_id, topic, now, token, window, then.posts, polls
            ),
        )

    async def reveal(self, who: Who, round_token: str) -> Outcome:
        """A member tapped Reveal: the back and their rating buttons, privately."""
        token = self.tokens()
        name = who.display_name or who.user_id
        return await self._run(
            who, lambda tx, lr, now: reveal_quiz(tx, lr, round_token, now, token, name)
        )

    async def sweep(self) -> int:
        """Close rounds whose window has ended and post their answers; returns how many."""

        def work(tx: Tx, now: datetime, then: AfterCommit) -> int:
            then.posts.extend(close_due_rounds(tx, now))
            return len(then.posts)

        return await self._sweep(work)

    # ------------------------------------------------------------------ quiz polls

    async def poll_posted(
        self, round_token: str, poll_id: str, message_id: str, correct: int
    ) -> bool:
        """The platform posted a round's quiz poll (``correct``: the right option's index as
        posted). False when the round has closed meanwhile: the adapter stops the poll."""
        return await self.db.run(
            lambda tx: quizpolls.poll_posted(tx, round_token, poll_id, message_id, correct)
        )

    async def poll_answer(self, who: Who, poll_id: str, option_ids: Sequence[int]) -> None:
        """A member answered a quiz poll: their first answer is a quiz review in their own
        schedule (right: Good, wrong: Again); the round closes early once every expected
        member has answered. Unknown polls, changed and retracted votes change nothing."""
        token = self.tokens()
        name = who.display_name or who.user_id

        def work(tx: Tx, member: Learner, now: datetime, then: AfterCommit) -> None:
            r = tx.quizzes.by_poll(poll_id)
            if r is None:
                return
            tx.quizzes.hold(r.id)  # one answer at a time, each seeing the ones before
            r = tx.quizzes.by_id(r.id)  # closed meanwhile?
            if r is None:  # pragma: no cover - rounds are never deleted
                return
            rating = quizpolls.review_answer(tx, member, r, option_ids, now, token, name, then)
            if rating is not None:
                then.posts.extend(_record_rating(tx, r.id, member, rating, now))

        await self._posting(who, work)

    async def poll_back(self, who: Who, round_token: str) -> Outcome:
        """The full back of a poll round's card, privately (the poll's explanation links here)."""
        return await self._run(who, lambda tx, lr, now: quizpolls.show_back(tx, lr, round_token))
