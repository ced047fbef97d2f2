"""The study loop: next card, reveal, rate, undo, bury, suspend, settings, stats, your data.

Each use case is a synchronous function over one transaction (:class:`Tx`).
:class:`StudyService` runs it through the :class:`~bot.core.ports.Database`
port and returns an :class:`~bot.core.outcomes.Outcome`, so an adapter makes one
awaited call per user action and renders what comes back.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import quiz, srs
from bot.core.actions import Action, BadPayload, Setup
from bot.core.learners import AfterCommit, AnnouncingService, Who, due_counter, record_review
from bot.core.localtime import next_push_after
from bot.core.messages import Attachment, Button, Reply, StatsChart
from bot.core.model import (
    RATING_NAMES,
    CardState,
    Learner,
    Prompt,
    ReviewEntry,
    ReviewSource,
)
from bot.core.outcomes import Outcome, notice, send
from bot.core.ports import Tx
from bot.core.settings import SettingsError, describe_settings, parse_settings_change
from bot.core.stats import compute_stats, due_forecast, format_stats
from bot.core.views import button, card_view, rating_buttons

__all__ = ["EXPIRED_TEXT", "NO_DECKS_TEXT", "StudyService"]

log = logging.getLogger(__name__)

EXPIRED_TEXT = "This button has expired. Send /review to get your current card."
#: A study button that is stale, forged, someone else's or already used.
EXPIRED = notice(EXPIRED_TEXT)
#: What /review says when the bot has no deck at all (never "every card is learned").
NO_DECKS_TEXT = (
    "There is nothing to study: no decks are loaded. "
    "Whoever runs this bot can add some ([decks] in its config file)."
)
#: What a front says when it comes before its card is due (learn-ahead).
EARLY_TEXT = "Early: nothing else is due."
MAX_DURATION_MS = 10 * 60 * 1000
CONFIRM_WINDOW = timedelta(days=1)
FORECAST_DAYS = 30


# --------------------------------------------------------------------------- cards


def _front_reply(
    tx: Tx, learner: Learner, card_id: str, now: datetime, token: str, source: str, text: str = ""
) -> Reply:
    card = tx.catalogue.card(card_id)
    if card is None:  # retired between the query and now; cannot happen inside one transaction
        raise LookupError(card_id)
    tx.prompts.add(Prompt(token, learner.id, card_id, source, now))
    buttons = (
        (button("Show answer", Action("reveal", token), "primary"),),
        (
            button("Bury until tomorrow", Action("bury", token)),
            button("Suspend", Action("suspend", token)),
        ),
    )
    return Reply("front", text, card=card_view(card, back=False), buttons=buttons)


def next_card(tx: Tx, learner: Learner, now: datetime, token: str, source: str) -> Reply:
    """The learner's next card: due reviews first, then new cards up to the daily limit,
    then (learn-ahead) a card due within :data:`~bot.core.srs.LEARN_AHEAD`, which
    the front says is early. All from the learner's topics, when they chose some.

    Returns a front with a "Show answer" button, or a "done for today" summary.
    """
    s = learner.settings
    topics = learner.topics
    start = srs.day_start(now, s.timezone)
    due, reviews_today, new_today = tx.schedule.next_due_and_counts(
        learner.id, now, start, topics=topics
    )
    card_id: str | None = None
    text = ""
    # The review limit caps everything, new cards included (as Anki's scheduler does).
    if reviews_today < s.max_reviews_per_day:
        card_id = due
        if card_id is None and new_today < s.new_cards_per_day:
            card_id = tx.schedule.next_new(learner.id, topics, now)
        if card_id is None:
            ahead = now + srs.LEARN_AHEAD
            card_id = tx.schedule.next_due(learner.id, now, due_before=ahead, topics=topics)
            text = EARLY_TEXT  # nothing is due now, so this card is due later
    if card_id is None:
        return _done(tx, learner, now, reviews_today, new_today)
    return _front_reply(tx, learner, card_id, now, token, source, text)


def _done(tx: Tx, learner: Learner, now: datetime, reviewed: int, new: int) -> Reply:
    s = learner.settings
    lines = [f"Done for today: {reviewed} review{'s' if reviewed != 1 else ''} ({new} new)."]
    nxt = tx.schedule.next_due_at(learner.id, topics=learner.topics)
    if reviewed >= s.max_reviews_per_day:
        lines.append(f"You reached your limit of {s.max_reviews_per_day} reviews a day.")
        if nxt is not None:  # nothing more until the learner's next local day
            nxt = max(nxt, srs.next_day_start(now, s.timezone))
    if nxt is not None:
        local = nxt.astimezone(ZoneInfo(s.timezone))
        when = local.strftime("%a %d %b %H:%M")
        lines.append(
            f"Next card due in {srs.format_interval(max(nxt - now, timedelta()))} ({when})."
        )
    elif not tx.catalogue.decks():
        return Reply("done", NO_DECKS_TEXT)
    elif new >= s.new_cards_per_day:
        lines.append(f"New cards resume tomorrow ({s.new_cards_per_day} a day).")
    else:
        lines.append("Nothing is scheduled: every card you study is either learned or suspended.")
    if learner.topics:
        lines.append(f"You study {', '.join(learner.topics)} only: /decks all studies every deck.")
    return Reply("done", "\n".join(lines))


def _open_prompt(tx: Tx, learner: Learner, token: str) -> tuple[Prompt, CardState] | None:
    """The prompt named by a token if it is this learner's, unanswered and current."""
    found = tx.prompts.get_with_state(token)
    if found is None:
        return None
    prompt, state = found
    if prompt.learner_id != learner.id or prompt.answered_at is not None:
        return None
    if state.last_review is not None and state.last_review > prompt.created_at:
        return None  # the card was reviewed through a newer prompt
    return prompt, state


def reveal(
    tx: Tx, learner: Learner, token: str, now: datetime, typed_answer: str | None = None
) -> Outcome:
    """Show the back, in place of the front, with the four ratings and their intervals.

    The intervals are computed at the first reveal, fuzz and load balancing
    included (with the learner's daily load at that moment), and stored with
    the prompt: each rating schedules exactly what its button showed
    (:func:`rate` gives the stored interval), however the load changes meanwhile.
    """
    found = _open_prompt(tx, learner, token)
    if found is None:
        return EXPIRED
    prompt, state = found
    card = tx.catalogue.card(prompt.card_id)
    if card is None:
        return EXPIRED
    typed = typed_answer if typed_answer is not None else prompt.typed_answer
    if typed is not None:
        typed = typed.strip()[:2000] or None
    shown_at = prompt.revealed_at or now
    if prompt.intervals is not None:
        intervals = srs.from_seconds(prompt.intervals)
    else:
        intervals = srs.preview(
            state, shown_at, learner.settings, token=token, due_counts=due_counter(tx, learner.id)
        )
    if prompt.revealed_at is None or typed != prompt.typed_answer or prompt.intervals is None:
        tx.prompts.reveal(token, shown_at, typed, srs.to_seconds(intervals))
    buttons = (rating_buttons(token, intervals),)
    return Outcome(
        edit=Reply("back", card=card_view(card, back=True, typed=typed), buttons=buttons)
    )


def rate(
    tx: Tx,
    learner: Learner,
    token: str,
    rating: int,
    now: datetime,
    next_token: str,
    after_commit: AfterCommit,
    duration_ms: int | None = None,
) -> Outcome:
    """Record one rating: FSRS once, new state, one log row; the tapped card is closed
    with what the rating scheduled, and the next card (or the day's summary) follows.

    A second tap on the same prompt, or a stale, forged or foreign token,
    changes nothing and gets the "expired" notice. A push session ends after the
    learner's session size; a quiz rating ends there (the group gets its answer).
    """
    if rating not in RATING_NAMES:
        return notice("A rating is 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy).", alert=True)
    found = _open_prompt(tx, learner, token)
    if found is None or not tx.prompts.claim(token, learner.id, now):
        return EXPIRED
    prompt, before = found
    after = srs.review(
        before,
        rating,
        now,
        learner.settings,
        token=token,
        shown_at=prompt.revealed_at,
        due_counts=due_counter(tx, learner.id),
        interval=srs.from_seconds(prompt.intervals)[rating] if prompt.intervals else None,
    )
    if duration_ms is None:
        duration_ms = int((now - prompt.created_at).total_seconds() * 1000)
    duration_ms = max(0, min(duration_ms, MAX_DURATION_MS))
    tx.schedule.save(after)
    record_review(
        tx,
        ReviewEntry(
            learner_id=learner.id,
            card_id=prompt.card_id,
            rating=rating,
            reviewed_at=now,
            source=prompt.source,
            before=before,
            after=after,
            duration_ms=duration_ms,
            typed_answer=prompt.typed_answer,
        ),
        after_commit,
    )
    if prompt.source == ReviewSource.QUIZ:
        # A quiz rating counts in the learner's schedule but does not start a private session.
        after_commit.posts.extend(quiz.after_quiz_rating(tx, learner, token, rating, now))
        return Outcome(
            close=_rating_note(rating, before, after, now) + " Counted in your own schedule."
        )
    if prompt.source == ReviewSource.PUSH:
        start = srs.day_start(now, learner.settings.timezone)
        done = tx.reviews.count_source_since(learner.id, ReviewSource.PUSH, start)
        if done >= learner.settings.max_cards_per_push:
            summary = Reply(
                "done",
                f"That was today's session of {done} cards. Well done! "
                "Send /review if you want to keep going.",
            )
            return Outcome(
                close=_rating_note(rating, before, after, now), replies=(summary,), in_place=True
            )
    nxt = next_card(tx, learner, now, next_token, prompt.source)
    back_now = nxt.card is not None and nxt.card.card_id == prompt.card_id  # learn-ahead
    return Outcome(
        close=_rating_note(rating, before, after, now, back_now), replies=(nxt,), in_place=True
    )


def _rating_note(
    rating: int, before: CardState, after: CardState, now: datetime, back_now: bool = False
) -> str:
    """What a rating did, as the rated card is closed: a promise that holds.

    "Good: see it again in 8d." (see :func:`bot.core.srs.outlook`), or, when the
    card comes straight back through learn-ahead (``back_now``; its front says it
    is early), "Good: due again in 10m."
    """
    name = RATING_NAMES[rating]
    if back_now:
        assert after.due is not None
        return f"{name}: due again in {srs.format_interval(after.due - now)}."
    note = f"{name}: {srs.outlook(before, after, now)}."
    if after.suspended:
        if not before.suspended:
            note += " A card you keep forgetting usually needs rewriting or splitting."
        note += " Send /unsuspend to bring it back."
    return note


def undo(tx: Tx, learner: Learner, now: datetime, token: str, source: str) -> Outcome:
    """Undo the learner's last rating: restore the card's state exactly and show it again."""
    last = tx.reviews.last_active(learner.id)
    if last is None or last.id is None:
        return send(Reply("info", "There is nothing to undo."))
    if last.before.is_new:
        tx.schedule.delete(learner.id, last.card_id)
    else:
        tx.schedule.save(last.before)
    tx.reviews.mark_undone(last.id, now)
    card = tx.catalogue.card(last.card_id)
    title = card.title if card else last.card_id
    text = f"Undid {RATING_NAMES[last.rating]} on “{title}”."
    if card is None:
        return send(Reply("info", text + " (That card has been retired from its deck.)"))
    return send(replace(_front_reply(tx, learner, last.card_id, now, token, source), text=text))


def bury(tx: Tx, learner: Learner, token: str, now: datetime, next_token: str) -> Outcome:
    """Hide the prompted card until the learner's next local day."""
    found = _open_prompt(tx, learner, token)
    if found is None or not tx.prompts.claim(token, learner.id, now):
        return EXPIRED
    prompt, state = found
    until = srs.next_day_start(now, learner.settings.timezone)
    if state.is_new:
        state = replace(state, due=now)
    tx.schedule.save(replace(state, buried_until=until))
    nxt = next_card(tx, learner, now, next_token, prompt.source)
    return Outcome(close="Buried until tomorrow.", replies=(nxt,), in_place=True)


def suspend(tx: Tx, learner: Learner, token: str, now: datetime, next_token: str) -> Outcome:
    """Take the prompted card out of the learner's reviews until unsuspended."""
    found = _open_prompt(tx, learner, token)
    if found is None or not tx.prompts.claim(token, learner.id, now):
        return EXPIRED
    prompt, state = found
    if state.is_new:
        state = replace(state, due=now)
    tx.schedule.save(replace(state, suspended=True))
    nxt = next_card(tx, learner, now, next_token, prompt.source)
    return Outcome(
        close="Suspended. Send /unsuspend to bring suspended cards back.",
        replies=(nxt,),
        in_place=True,
    )


def unsuspend(tx: Tx, learner: Learner, card_ids: Sequence[str] | None) -> Reply:
    """Bring back suspended cards (all of them when ``card_ids`` is None)."""
    count = tx.schedule.unsuspend(learner.id, card_ids)
    if count == 0:
        return Reply("info", "No suspended cards to bring back.")
    return Reply("info", f"Brought back {count} suspended card{'s' if count != 1 else ''}.")


# --------------------------------------------------------------------------- settings


def change_settings(
    tx: Tx, learner: Learner, changes: Sequence[tuple[str, str]], now: datetime
) -> Reply:
    """Change settings one ``(key, value)`` at a time and confirm each; the first bad value
    stops there (the changes before it are kept) and says what is wrong."""
    answers: list[str] = []
    settings = learner.settings
    for key, value in changes:
        try:
            settings = parse_settings_change(settings, key, value)
        except SettingsError as exc:
            answers.append(str(exc))
            return Reply("error", "\n\n".join(answers))
        tx.learners.save_settings(learner.id, settings)
        tx.learners.set_next_push(learner.id, next_push_after(settings, now))
        answers.append("Saved.\n" + describe_settings(settings, learner.topics))
    if not answers:
        return Reply("info", "Nothing changed.")
    return Reply("info", "\n\n".join(answers))


def set_topics(tx: Tx, learner: Learner, topics: Sequence[str]) -> Reply:
    """Study only these decks or topics (an empty list, or "all", means every deck)."""
    wanted = [t.strip().lower() for t in topics if t.strip()]
    if wanted == ["all"]:
        wanted = []
    known = set(tx.catalogue.topics())
    unknown = [t for t in wanted if t not in known]
    if unknown:
        return Reply(
            "error",
            f"I don't know {', '.join(unknown)}. Topics: {', '.join(sorted(known)) or 'none yet'}.",
        )
    tx.learners.set_topics(learner.id, wanted)
    return Reply("info", f"Studying {', '.join(wanted) if wanted else 'all decks'}.")


def _fits(choice: Setup) -> bool:
    """Whether a choice fits in a button's 64-byte payload (a very long deck id does not)."""
    try:
        choice.encode()
    except BadPayload:
        return False
    return True


def deck_buttons(tx: Tx, chain: bool) -> tuple[tuple[Button, ...], ...]:
    """One button per deck that has cards, then "All decks" (onboarding, /decks menu)."""
    rows = [
        (button(d.title, Setup(chain, "deck", d.id)),)
        for d in tx.catalogue.decks()
        if d.card_count and _fits(Setup(chain, "deck", d.id))
    ]
    rows.append((button("All decks", Setup(chain, "deck", "*")),))
    return tuple(rows)


def list_decks(tx: Tx, learner: Learner, *, menu: bool = False) -> Reply:
    """Every deck with its card count and description, and what the learner studies (with
    a button per deck when ``menu``)."""
    decks = tx.catalogue.decks()
    if not decks:
        return Reply("info", "No decks are loaded.")
    lines: list[str] = []
    for d in decks:
        lines.append(f"• {d.title} ({d.id}): {d.card_count} card{'s' if d.card_count != 1 else ''}")
        if d.description:
            lines.append(f"  {d.description}")
    studying = ", ".join(learner.topics) if learner.topics else "all decks"
    lines.append(f"You study: {studying}.")
    return Reply("info", "\n".join(lines), buttons=deck_buttons(tx, chain=False) if menu else ())


SETTINGS_MENU = (
    (
        button("Time zone", Setup(False, "go", "tz")),
        button("Reminder", Setup(False, "go", "push")),
        button("Decks", Setup(False, "go", "deck")),
        button("Easy days", Setup(False, "go", "easy")),
    ),
)


def show_settings(learner: Learner, *, menu: bool = False) -> Reply:
    """The learner's settings (with buttons that change them when ``menu``)."""
    text = describe_settings(learner.settings, learner.topics)
    if not menu:
        return Reply("info", text)
    text += "\n\nChange one with the buttons, or /settings KEY VALUE."
    return Reply("info", text, buttons=SETTINGS_MENU)


# --------------------------------------------------------------------------- stats


def stats(tx: Tx, learner: Learner, now: datetime) -> Reply:
    """/stats: the numbers as text, and the chart of them with the due forecast."""
    tz = learner.settings.timezone
    history = tx.reviews.history(learner.id, now - timedelta(days=400))
    tomorrow = srs.next_day_start(now, tz)
    due_today = tx.schedule.count_due(learner.id, tomorrow)
    numbers = compute_stats(history, due_today, now, tz, learner.settings.desired_retention)
    until = srs.day_start(now, tz) + timedelta(days=FORECAST_DAYS + 1)
    forecast = due_forecast(tx.schedule.due_times(learner.id, until), now, tz, FORECAST_DAYS)
    return Reply("stats", format_stats(numbers), figure=StatsChart(numbers, tuple(forecast)))


# --------------------------------------------------------------------------- your data


def pause(tx: Tx, learner: Learner, paused: bool, now: datetime) -> Reply:
    """Stop or restart the daily reminders (studying on request still works)."""
    settings = replace(learner.settings, paused=paused)
    tx.learners.save_settings(learner.id, settings)
    if not paused:  # the next push is the next one from now, not one missed while paused
        tx.learners.set_next_push(learner.id, next_push_after(settings, now))
    if paused:
        return Reply("info", "Paused: no daily reminders until you send /resume.")
    return Reply("info", "Resumed: your daily reminder comes back at your push time.")


def request_forget(tx: Tx, learner: Learner, now: datetime, token: str) -> Reply:
    """Ask for confirmation before deleting everything held about the learner."""
    tx.confirmations.add(token, learner.id, "forget", now)
    return Reply(
        "info",
        "This deletes everything I hold about you: your settings, your schedule for every "
        "card and your whole review history. It cannot be undone. Delete it all?",
        buttons=(
            (
                button("Yes, delete everything", Action("confirm", token, 1), "danger"),
                button("No, keep it", Action("confirm", token, 0)),
            ),
        ),
    )


def confirm(tx: Tx, learner: Learner, token: str, yes: bool, now: datetime) -> Outcome:
    """Carry out (or drop) a confirmation made by this learner in the last day; the
    question is replaced by what happened."""
    kind = tx.confirmations.use(token, learner.id, now, now - CONFIRM_WINDOW)
    if kind is None:
        return EXPIRED
    if not yes:
        return Outcome(edit=Reply("info", "Nothing was deleted."))
    if kind == "forget":
        reviews = len(tx.reviews.all_for(learner.id))
        tx.learners.delete(learner.id)
        log.info("learner %s deleted their data", learner.id)
        return Outcome(
            edit=Reply(
                "info",
                f"Done: I deleted your settings, your schedule and {reviews} review"
                f"{'s' if reviews != 1 else ''}. I hold nothing about you now. "
                "Send /start if you ever want to begin again.",
            )
        )
    return EXPIRED


EXPORT_COLUMNS = (
    "reviewed_at",
    "card_id",
    "rating",
    "rating_name",
    "source",
    "duration_ms",
    "state_before",
    "state_after",
    "stability_after",
    "difficulty_after",
    "due_after",
    "typed_answer",
    "undone_at",
)
EXPORT_FILE = "studybot-reviews.csv"


def export_csv(tx: Tx, learner: Learner) -> str:
    """The learner's whole review history as CSV (UTC ISO 8601 times)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for e in tx.reviews.all_for(learner.id):
        writer.writerow(
            [
                e.reviewed_at.isoformat(),
                e.card_id,
                e.rating,
                RATING_NAMES[e.rating],
                e.source,
                "" if e.duration_ms is None else e.duration_ms,
                e.before.state.name.lower(),
                e.after.state.name.lower(),
                "" if e.after.stability is None else f"{e.after.stability:.4f}",
                "" if e.after.difficulty is None else f"{e.after.difficulty:.4f}",
                e.after.due.isoformat() if e.after.due else "",
                e.typed_answer or "",
                e.undone_at.isoformat() if e.undone_at else "",
            ]
        )
    return buf.getvalue()


def export_reply(tx: Tx, learner: Learner) -> Reply:
    """/export: the history as a CSV file."""
    data = export_csv(tx, learner).encode("utf-8")
    return Reply(
        "info",
        "Your review history (CSV, times in UTC).",
        attachment=Attachment(EXPORT_FILE, data),
    )


# --------------------------------------------------------------------------- service


class StudyService(AnnouncingService):
    """The study loop for adapters: one awaited call per user action, one outcome back.

    Buttons reach it through :class:`bot.core.inputs.Inputs`, which decodes their
    payloads; each method here that draws a token draws exactly one.
    """

    async def next(self, who: Who, source: str = ReviewSource.DM) -> Outcome:
        """The next card or the day's summary."""
        token = self.tokens()
        return await self._run(who, lambda tx, lr, now: send(next_card(tx, lr, now, token, source)))

    async def reveal(self, who: Who, token: str, typed_answer: str | None = None) -> Outcome:
        """Show the back of the card ``token`` names (with the learner's typed answer)."""
        return await self._run(who, lambda tx, lr, now: reveal(tx, lr, token, now, typed_answer))

    async def rate(
        self, who: Who, token: str, rating: int, duration_ms: int | None = None
    ) -> Outcome:
        """Rate the card ``token`` names (1 Again ... 4 Easy)."""
        nxt = self.tokens()
        return await self._posting(
            who,
            lambda tx, lr, now, then: rate(tx, lr, token, rating, now, nxt, then, duration_ms),
        )

    async def bury(self, who: Who, token: str) -> Outcome:
        nxt = self.tokens()
        return await self._run(who, lambda tx, lr, now: bury(tx, lr, token, now, nxt))

    async def suspend(self, who: Who, token: str) -> Outcome:
        nxt = self.tokens()
        return await self._run(who, lambda tx, lr, now: suspend(tx, lr, token, now, nxt))

    async def undo(self, who: Who, source: str = ReviewSource.DM) -> Outcome:
        token = self.tokens()
        return await self._run(who, lambda tx, lr, now: undo(tx, lr, now, token, source))

    async def unsuspend(self, who: Who, card_ids: Sequence[str] | None = None) -> Outcome:
        return await self._run(who, lambda tx, lr, now: send(unsuspend(tx, lr, card_ids)))

    async def settings(self, who: Who, *, menu: bool = False) -> Outcome:
        """The learner's settings; with ``menu``, buttons that change them."""
        return await self._run(who, lambda tx, lr, now: send(show_settings(lr, menu=menu)))

    async def change_setting(self, who: Who, key: str, value: str) -> Outcome:
        """``/settings KEY VALUE``: one change, validated."""
        return await self.change_settings(who, [(key, value)])

    async def change_settings(self, who: Who, changes: Sequence[tuple[str, str]]) -> Outcome:
        """Several changes in one go (a settings form), in order; the first bad one stops."""
        return await self._run(who, lambda tx, lr, now: send(change_settings(tx, lr, changes, now)))

    async def decks(self, who: Who, *, menu: bool = False) -> Outcome:
        """The decks and what the learner studies; with ``menu``, a button per deck."""
        return await self._run(who, lambda tx, lr, now: send(list_decks(tx, lr, menu=menu)))

    async def study_topics(self, who: Who, topics: Sequence[str]) -> Outcome:
        return await self._run(who, lambda tx, lr, now: send(set_topics(tx, lr, topics)))

    async def stats(self, who: Who) -> Outcome:
        """/stats: the numbers, with the chart to draw (text alone when it can't be)."""
        return await self._run(who, lambda tx, lr, now: send(stats(tx, lr, now)))

    async def pause(self, who: Who, paused: bool = True) -> Outcome:
        return await self._run(who, lambda tx, lr, now: send(pause(tx, lr, paused, now)))

    async def request_forget(self, who: Who) -> Outcome:
        token = self.tokens()
        return await self._run(who, lambda tx, lr, now: send(request_forget(tx, lr, now, token)))

    async def confirm(self, who: Who, token: str, yes: bool) -> Outcome:
        return await self._run(who, lambda tx, lr, now: confirm(tx, lr, token, yes, now))

    async def export(self, who: Who) -> Outcome:
        """/export: the review history as a CSV file."""
        return await self._run(who, lambda tx, lr, now: send(export_reply(tx, lr)))
