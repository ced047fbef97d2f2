"""The study loop: next card, reveal, rate, undo, bury, suspend, settings, stats.

Each use case is a synchronous function over one transaction (:class:`Tx`)
and returns a :class:`Reply`; :class:`StudyService` runs them through the
:class:`Database` port, so adapters make one awaited call per user action.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core import quiz, srs
from bot.core.actions import Action, BadPayload, decode
from bot.core.challenges import ChallengeService
from bot.core.learners import ServiceBase, Who, get_or_create_learner
from bot.core.localtime import next_push_after
from bot.core.messages import Button, Reply
from bot.core.model import (
    RATING_NAMES,
    CardState,
    Learner,
    LearnerSettings,
    Prompt,
    ReviewEntry,
    ReviewSource,
)
from bot.core.ports import Tx
from bot.core.pushes import PushService
from bot.core.stats import StudyStats, compute_stats, due_forecast, format_stats
from bot.core.views import card_view, rating_buttons

__all__ = ["SettingsError", "StudyService", "Who", "get_or_create_learner"]

log = logging.getLogger(__name__)

EXPIRED_TEXT = "This button has expired. Send /review to get your current card."
LEARN_AHEAD = timedelta(minutes=20)
MAX_DURATION_MS = 10 * 60 * 1000
CONFIRM_WINDOW = timedelta(days=1)


class SettingsError(ValueError):
    """A settings change that is not valid; its message is shown to the learner."""


# --------------------------------------------------------------------------- cards


def _front_reply(
    tx: Tx, learner: Learner, card_id: str, now: datetime, token: str, source: str
) -> Reply:
    card = tx.catalogue.card(card_id)
    if card is None:  # retired between the query and now; cannot happen inside one transaction
        raise LookupError(card_id)
    tx.prompts.add(Prompt(token, learner.id, card_id, source, now))
    buttons = (
        (Button("Show answer", Action("reveal", token).encode()),),
        (
            Button("Bury until tomorrow", Action("bury", token).encode()),
            Button("Suspend", Action("suspend", token).encode()),
        ),
    )
    return Reply("front", card=card_view(card, back=False), buttons=buttons)


def next_card(tx: Tx, learner: Learner, now: datetime, token: str, source: str) -> Reply:
    """The learner's next card: due reviews first, then new cards up to the daily limit.

    Returns a front with a "Show answer" button, or a "done for today" summary.
    """
    s = learner.settings
    start = srs.day_start(now, s.timezone)
    due, reviews_today, new_today = tx.schedule.next_due_and_counts(learner.id, now, start)
    card_id: str | None = None
    # The review limit caps everything, new cards included (as Anki's scheduler does).
    if reviews_today < s.max_reviews_per_day:
        card_id = due
        if card_id is None and new_today < s.new_cards_per_day:
            card_id = tx.schedule.next_new(learner.id, learner.topics, now)
        if card_id is None:
            card_id = tx.schedule.next_due(learner.id, now, due_before=now + LEARN_AHEAD)
    if card_id is None:
        return _done(tx, learner, now, reviews_today, new_today)
    return _front_reply(tx, learner, card_id, now, token, source)


def _with_text(reply: Reply, text: str) -> Reply:
    """Put ``text`` first in a reply, keeping what the reply already says."""
    return replace(reply, text=f"{text}\n\n{reply.text}" if reply.text else text)


def _done(tx: Tx, learner: Learner, now: datetime, reviewed: int, new: int) -> Reply:
    s = learner.settings
    lines = [f"Done for today: {reviewed} review{'s' if reviewed != 1 else ''} ({new} new)."]
    nxt = tx.schedule.next_due_at(learner.id)
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
    elif new >= s.new_cards_per_day:
        lines.append(f"New cards resume tomorrow ({s.new_cards_per_day} a day).")
    else:
        lines.append("Nothing is scheduled: every card you study is either learned or suspended.")
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


def _expired() -> Reply:
    return Reply("expired", EXPIRED_TEXT)


def reveal(
    tx: Tx, learner: Learner, token: str, now: datetime, typed_answer: str | None = None
) -> Reply:
    """Show the back and the four ratings with their next intervals."""
    found = _open_prompt(tx, learner, token)
    if found is None:
        return _expired()
    prompt, state = found
    card = tx.catalogue.card(prompt.card_id)
    if card is None:
        return _expired()
    typed = typed_answer if typed_answer is not None else prompt.typed_answer
    if typed is not None:
        typed = typed.strip()[:2000] or None
    if prompt.revealed_at is None or typed != prompt.typed_answer:
        tx.prompts.reveal(token, prompt.revealed_at or now, typed)
    intervals = srs.preview(state, now, learner.settings)
    buttons = (rating_buttons(token, intervals),)
    return Reply("back", card=card_view(card, back=True, typed=typed), buttons=buttons)


def rating_row_text(reply: Reply) -> str:
    """ "Again 1m · Hard 6m · Good 10m · Easy 4d" from a back reply's buttons."""
    return " · ".join(b.label for b in reply.all_buttons())


def rate(
    tx: Tx,
    learner: Learner,
    token: str,
    rating: int,
    now: datetime,
    next_token: str,
    duration_ms: int | None = None,
) -> Reply:
    """Record one rating: FSRS once, new state, one log row, then the next card.

    A second tap on the same prompt, or a stale, forged or foreign token,
    changes nothing and gets the "expired" reply.
    """
    if rating not in RATING_NAMES:
        return Reply("error", "A rating is 1 (Again), 2 (Hard), 3 (Good) or 4 (Easy).")
    found = _open_prompt(tx, learner, token)
    if found is None or not tx.prompts.claim(token, learner.id, now):
        return _expired()
    prompt, before = found
    after = srs.review(before, rating, now, learner.settings)
    if duration_ms is None:
        duration_ms = int((now - prompt.created_at).total_seconds() * 1000)
    duration_ms = max(0, min(duration_ms, MAX_DURATION_MS))
    tx.schedule.save(after)
    tx.reviews.add(
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
        )
    )
    assert after.due is not None
    text = f"{RATING_NAMES[rating]}: see it again in {srs.format_interval(after.due - now)}."
    if after.suspended and not before.suspended:
        text += (
            f"\nThis card has lapsed {after.lapses} times, so it is suspended as a leech: "
            "a card you keep forgetting usually needs rewriting or splitting. "
            "Send /unsuspend to bring it back."
        )
    if prompt.source == ReviewSource.PUSH:
        start = srs.day_start(now, learner.settings.timezone)
        done = tx.reviews.count_source_since(learner.id, ReviewSource.PUSH, start)
        if done >= learner.settings.max_cards_per_push:
            return Reply(
                "done",
                f"{text}\n\nThat was today's session of {done} cards. Well done! "
                "Send /review if you want to keep going.",
            )
    if prompt.source == ReviewSource.QUIZ:
        # A quiz rating counts in the learner's schedule but does not start a DM session.
        announcements = quiz.after_quiz_rating(tx, learner, token, rating, now)
        return Reply("info", text + " Counted in your own schedule.", announcements=announcements)
    return _with_text(next_card(tx, learner, now, next_token, prompt.source), text)


def undo(tx: Tx, learner: Learner, now: datetime, token: str, source: str) -> Reply:
    """Undo the learner's last rating: restore the card's state exactly and show it again."""
    last = tx.reviews.last_active(learner.id)
    if last is None or last.id is None:
        return Reply("info", "There is nothing to undo.")
    if last.before.is_new:
        tx.schedule.delete(learner.id, last.card_id)
    else:
        tx.schedule.save(last.before)
    tx.reviews.mark_undone(last.id, now)
    card = tx.catalogue.card(last.card_id)
    title = card.title if card else last.card_id
    text = f"Undid {RATING_NAMES[last.rating]} on “{title}”."
    if card is None:
        return Reply("info", text + " (That card has been retired from its deck.)")
    return replace(_front_reply(tx, learner, last.card_id, now, token, source), text=text)


def bury(tx: Tx, learner: Learner, token: str, now: datetime, next_token: str) -> Reply:
    """Hide the prompted card until the learner's next local day."""
    found = _open_prompt(tx, learner, token)
    if found is None or not tx.prompts.claim(token, learner.id, now):
        return _expired()
    prompt, state = found
    until = srs.next_day_start(now, learner.settings.timezone)
    if state.is_new:
        state = replace(state, due=now)
    tx.schedule.save(replace(state, buried_until=until))
    reply = next_card(tx, learner, now, next_token, prompt.source)
    return _with_text(reply, "Buried until tomorrow.")


def suspend(tx: Tx, learner: Learner, token: str, now: datetime, next_token: str) -> Reply:
    """Take the prompted card out of the learner's reviews until unsuspended."""
    found = _open_prompt(tx, learner, token)
    if found is None or not tx.prompts.claim(token, learner.id, now):
        return _expired()
    prompt, state = found
    if state.is_new:
        state = replace(state, due=now)
    tx.schedule.save(replace(state, suspended=True))
    reply = next_card(tx, learner, now, next_token, prompt.source)
    return _with_text(reply, "Suspended. Send /unsuspend to bring suspended cards back.")


def unsuspend(tx: Tx, learner: Learner, card_ids: Sequence[str] | None) -> Reply:
    """Bring back suspended cards (all of them when ``card_ids`` is None)."""
    count = tx.schedule.unsuspend(learner.id, card_ids)
    if count == 0:
        return Reply("info", "No suspended cards to bring back.")
    return Reply("info", f"Brought back {count} suspended card{'s' if count != 1 else ''}.")


# --------------------------------------------------------------------------- settings


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    """IANA zone names (not host-dependent ones such as "localtime")."""
    return frozenset(available_timezones())


def parse_settings_change(settings: LearnerSettings, key: str, value: str) -> LearnerSettings:
    """Apply one ``key value`` change from a learner, validating it.

    Raises:
        SettingsError: with a message for the learner.
    """
    key = key.lower().replace("-", "_")
    value = value.strip()
    if key in ("timezone", "tz"):
        try:
            if value not in _known_zones():
                raise ZoneInfoNotFoundError(value)
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(
                f"“{value}” is not a time zone I know. "
                "Use an IANA name such as Europe/Paris or America/New_York."
            ) from exc
        return replace(settings, timezone=value)
    if key in ("retention", "desired_retention"):
        try:
            r = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
        except ValueError:
            r = -1.0
        if not 0.7 <= r <= 0.99:
            raise SettingsError(
                "Desired retention is a number from 0.70 to 0.99 (for example 0.9)."
            )
        return replace(settings, desired_retention=round(r, 4))
    if key in ("new", "new_per_day", "new_cards_per_day"):
        if not re.fullmatch(r"[0-9]{1,3}", value) or int(value) > 500:
            raise SettingsError("New cards per day is a whole number from 0 to 500.")
        return replace(settings, new_cards_per_day=int(value))
    if key in ("max_reviews", "max_reviews_per_day"):
        if not re.fullmatch(r"[0-9]{1,5}", value) or not 1 <= int(value) <= 10000:
            raise SettingsError("Maximum reviews per day is a whole number from 1 to 10000.")
        return replace(settings, max_reviews_per_day=int(value))
    if key in ("push", "push_time"):
        try:
            hh, mm = value.split(":")
            push = time(int(hh), int(mm))
        except ValueError as exc:
            raise SettingsError(
                "The push time is HH:MM in your own time zone, for example 08:30."
            ) from exc
        return replace(settings, push_time=push)
    if key in ("quiet", "quiet_hours"):
        if value.lower() in ("off", "none", "no"):
            return replace(settings, quiet_start=None, quiet_end=None)
        m = re.fullmatch(r"([0-9]{1,2}):([0-9]{2})\s*-\s*([0-9]{1,2}):([0-9]{2})", value)
        try:
            if m is None:
                raise ValueError(value)
            start = time(int(m.group(1)), int(m.group(2)))
            end = time(int(m.group(3)), int(m.group(4)))
        except ValueError as exc:
            raise SettingsError(
                "Quiet hours are HH:MM-HH:MM in your time zone, for example 22:00-07:00, or off."
            ) from exc
        if start == end:
            raise SettingsError("Quiet hours need a different start and end (or say off).")
        return replace(settings, quiet_start=start, quiet_end=end)
    if key in ("days_off", "daysoff", "off"):
        if value.lower() in ("none", "no", "-"):
            return replace(settings, days_off=())
        days: set[int] = set()
        for part in re.split(r"[,\s]+", value.lower().strip()):
            if part[:3] not in _WEEKDAYS:
                raise SettingsError("Days off are weekday names, for example sat,sun (or none).")
            days.add(_WEEKDAYS.index(part[:3]))
        if len(days) == 7:
            raise SettingsError("Keep at least one day with a push (or use /pause).")
        return replace(settings, days_off=tuple(sorted(days)))
    if key in ("per_push", "max_cards_per_push", "session"):
        if not re.fullmatch(r"[0-9]{1,3}", value) or not 1 <= int(value) <= 500:
            raise SettingsError("Cards per daily session is a whole number from 1 to 500.")
        return replace(settings, max_cards_per_push=int(value))
    raise SettingsError(
        f"Unknown setting “{key}”. You can set: timezone, retention, new, max_reviews, push, "
        "quiet, days_off, per_push."
    )


def describe_settings(settings: LearnerSettings, topics: Sequence[str]) -> str:
    """The learner's settings as a short text."""
    return "\n".join(
        [
            f"timezone: {settings.timezone}",
            f"push: {settings.push_time.strftime('%H:%M')} (daily reminder, your local time)",
            f"retention: {settings.desired_retention:.2f} (desired probability of recall)",
            f"new: {settings.new_cards_per_day} new cards a day",
            f"max_reviews: {settings.max_reviews_per_day} reviews a day",
            f"quiet: {_quiet_text(settings)}",
            f"days_off: {', '.join(_WEEKDAYS[d] for d in settings.days_off) or 'none'}",
            f"per_push: {settings.max_cards_per_push} cards in a daily session",
            f"reminders: {'paused (send /resume)' if settings.paused else 'on'}",
            f"decks: {', '.join(topics) if topics else 'all decks'}",
        ]
    )


_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _quiet_text(settings: LearnerSettings) -> str:
    if settings.quiet_start is None or settings.quiet_end is None:
        return "off"
    return f"{settings.quiet_start.strftime('%H:%M')}-{settings.quiet_end.strftime('%H:%M')}"


def change_settings(tx: Tx, learner: Learner, key: str, value: str, now: datetime) -> Reply:
    """Change one setting and confirm it; a bad value changes nothing."""
    try:
        new = parse_settings_change(learner.settings, key, value)
    except SettingsError as exc:
        return Reply("error", str(exc))
    tx.learners.save_settings(learner.id, new)
    tx.learners.set_next_push(learner.id, next_push_after(new, now))
    return Reply("info", "Saved.\n" + describe_settings(new, learner.topics))


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


def list_decks(tx: Tx, learner: Learner) -> Reply:
    """Every deck with its card count, and what the learner studies."""
    decks = tx.catalogue.decks()
    if not decks:
        return Reply("info", "No decks are loaded.")
    lines = [f"• {d.title} ({d.id}): {d.card_count} cards" for d in decks]
    studying = ", ".join(learner.topics) if learner.topics else "all decks"
    lines.append(f"You study: {studying}.")
    return Reply("info", "\n".join(lines))


# --------------------------------------------------------------------------- stats


def stats(tx: Tx, learner: Learner, now: datetime) -> StudyStats:
    """The numbers behind /stats."""
    tz = learner.settings.timezone
    since = now - timedelta(days=400)
    history = tx.reviews.history(learner.id, since)
    due_today = tx.schedule.count_due(learner.id, srs.next_day_start(now, tz))
    return compute_stats(history, due_today, now, tz, learner.settings.desired_retention)


# --------------------------------------------------------------------------- service


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
                Button("Yes, delete everything", Action("confirm", token, 1).encode()),
                Button("No, keep it", Action("confirm", token, 0).encode()),
            ),
        ),
    )


def confirm(tx: Tx, learner: Learner, token: str, yes: bool, now: datetime) -> Reply:
    """Carry out (or drop) a confirmation made by this learner in the last day."""
    kind = tx.confirmations.use(token, learner.id, now, now - CONFIRM_WINDOW)
    if kind is None:
        return _expired()
    if not yes:
        return Reply("info", "Nothing was deleted.")
    if kind == "forget":
        reviews = len(tx.reviews.all_for(learner.id))
        tx.learners.delete(learner.id)
        log.info("learner %s deleted their data", learner.id)
        return Reply(
            "info",
            f"Done: I deleted your settings, your schedule and {reviews} review"
            f"{'s' if reviews != 1 else ''}. I hold nothing about you now. "
            "Send /start if you ever want to begin again.",
        )
    return _expired()


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


# --------------------------------------------------------------------------- service


class StudyService(ServiceBase):
    """The study loop for adapters: one awaited call per user action."""

    #: Handles the daily push's Snooze and Skip buttons (set by the composition root).
    pushes: PushService | None = None
    #: Handles challenge buttons (join, self-assessment).
    challenges: ChallengeService | None = None

    async def next(self, who: Who, source: str = "dm") -> Reply:
        """The next card or the day's summary."""
        token = self.tokens()
        return await self._run(who, lambda tx, lr, now: next_card(tx, lr, now, token, source))

    async def reveal(self, who: Who, token: str, typed_answer: str | None = None) -> Reply:
        return await self._run(who, lambda tx, lr, now: reveal(tx, lr, token, now, typed_answer))

    async def rate(
        self, who: Who, token: str, rating: int, duration_ms: int | None = None
    ) -> Reply:
        nxt = self.tokens()
        return await self._run(
            who, lambda tx, lr, now: rate(tx, lr, token, rating, now, nxt, duration_ms)
        )

    async def undo(self, who: Who, source: str = "dm") -> Reply:
        token = self.tokens()
        return await self._run(who, lambda tx, lr, now: undo(tx, lr, now, token, source))

    async def unsuspend(self, who: Who, card_ids: Sequence[str] | None = None) -> Reply:
        return await self._run(who, lambda tx, lr, now: unsuspend(tx, lr, card_ids))

    async def press(self, who: Who, payload: str) -> Reply:
        """Handle a button payload; anything malformed, stale or foreign gets "expired"."""
        try:
            action = decode(payload)
        except BadPayload:
            log.info("bad button payload from %s user %s", who.platform, who.user_id)
            return _expired()
        nxt = self.tokens()
        tok = action.token
        if action.kind == "reveal":
            return await self.reveal(who, tok)
        if action.kind == "rate" and action.arg is not None:
            return await self.rate(who, tok, action.arg)
        if action.kind == "bury":
            return await self._run(who, lambda tx, lr, now: bury(tx, lr, tok, now, nxt))
        if action.kind == "suspend":
            return await self._run(who, lambda tx, lr, now: suspend(tx, lr, tok, now, nxt))
        if action.kind == "quiz":
            name = who.display_name or who.user_id
            return await self._run(
                who, lambda tx, lr, now: quiz.reveal_quiz(tx, lr, tok, now, nxt, name)
            )
        if action.kind in ("join", "check", "grade", "assessed", "share", "showname"):
            if self.challenges is None:
                return _expired()
            if action.kind == "join":
                return await self.challenges.join(who, tok)
            return await self.challenges.press(who, action.kind, tok, action.arg)
        if action.kind in ("snooze", "skip"):
            if self.pushes is None:
                return _expired()
            if action.kind == "snooze":
                return await self.pushes.snooze(who, tok)
            return await self.pushes.skip(who, tok)
        if action.kind == "confirm":
            yes = action.arg == 1
            return await self._run(who, lambda tx, lr, now: confirm(tx, lr, tok, yes, now))
        return _expired()

    async def settings(self, who: Who) -> Reply:
        return await self._run(
            who, lambda tx, lr, now: Reply("info", describe_settings(lr.settings, lr.topics))
        )

    async def change_setting(self, who: Who, key: str, value: str) -> Reply:
        return await self._run(who, lambda tx, lr, now: change_settings(tx, lr, key, value, now))

    async def decks(self, who: Who) -> Reply:
        return await self._run(who, lambda tx, lr, now: list_decks(tx, lr))

    async def study_topics(self, who: Who, topics: Sequence[str]) -> Reply:
        return await self._run(who, lambda tx, lr, now: set_topics(tx, lr, topics))

    async def stats(self, who: Who) -> StudyStats:
        return await self._run(who, lambda tx, lr, now: stats(tx, lr, now))

    async def forecast(self, who: Who, days: int = 30) -> list[int]:
        """Cards due on each of the learner's next ``days`` local days (for the /stats chart)."""

        def fn(tx: Tx, lr: Learner, now: datetime) -> list[int]:
            tz = lr.settings.timezone
            until = srs.day_start(now, tz) + timedelta(days=days + 1)
            return due_forecast(tx.schedule.due_times(lr.id, until), now, tz, days)

        return await self._run(who, fn)

    async def stats_text(self, who: Who) -> Reply:
        result = await self.stats(who)
        return Reply("info", format_stats(result))

    async def pause(self, who: Who, paused: bool = True) -> Reply:
        return await self._run(who, lambda tx, lr, now: pause(tx, lr, paused, now))

    async def request_forget(self, who: Who) -> Reply:
        token = self.tokens()
        return await self._run(who, lambda tx, lr, now: request_forget(tx, lr, now, token))

    async def export_csv(self, who: Who) -> str:
        return await self._run(who, lambda tx, lr, now: export_csv(tx, lr))
