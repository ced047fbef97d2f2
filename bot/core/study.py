"""The study loop: next card, reveal, rate, undo, bury, suspend, settings, stats, your data.

Each use case is a synchronous function over one transaction (:class:`Tx`).
:class:`StudyService` runs it through the :class:`~bot.core.ports.Database`
port and returns an :class:`~bot.core.outcomes.Outcome`, so an adapter makes one
awaited call per user action and renders what comes back.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.core import exam, importing, personal, quiz, srs
from bot.core.actions import Action, BadPayload, DeckChoice, Setup
from bot.core.ankifile import MAX_IMPORT_BYTES, too_large
from bot.core.calibration import Calibration, calibrate, format_calibration
from bot.core.fitting import model_status
from bot.core.importing import AnkiReader
from bot.core.interop import (
    ANKI_UNAVAILABLE,
    AnkiPackager,
    anki_export,
    anki_reply,
    draw_images,
)
from bot.core.learners import (
    AfterCommit,
    AnnouncingService,
    Basics,
    Who,
    due_counter,
    record_review,
)
from bot.core.localtime import next_push_after
from bot.core.messages import STATS_WORKSPACE, Attachment, Button, Reply, StatsChart
from bot.core.model import (
    RATING_NAMES,
    CardState,
    Learner,
    Prompt,
    ReviewEntry,
    ReviewSource,
)
from bot.core.outcomes import Outcome, notice, send
from bot.core.ports import Announcer, Tx
from bot.core.rendering import Renderer
from bot.core.settings import SettingsError, describe_settings, parse_settings_change
from bot.core.stats import (
    RETENTION_WINDOW,
    compute_stats,
    due_forecast,
    format_stats,
    true_retention,
)
from bot.core.views import (
    button,
    card_view,
    front_workspace,
    practice_buttons,
    rating_buttons,
)
from bot.core.workload import (
    RetentionCosts,
    WorkloadInputs,
    format_costs,
    simulate_costs,
    workload_inputs,
)
from bot.text.excerpt import excerpt

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
    return Reply(
        "front",
        text,
        card=card_view(card, back=False),
        buttons=buttons,
        workspace=front_workspace(card),
    )


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
    decks = tx.catalogue.decks(learner.id)
    if nxt is None:
        if not decks:
            return Reply("done", NO_DECKS_TEXT)
        if new >= s.new_cards_per_day:
            lines.append(f"New cards resume tomorrow ({s.new_cards_per_day} a day).")
        else:
            lines.append(
                "Nothing is scheduled: every card you study is either learned or suspended."
            )
    if learner.topics:
        lines.append(f"You study {', '.join(learner.topics)} only: /decks all studies every deck.")
    paused = [d for d in decks if d.paused]
    if paused:
        names = ", ".join(f"'{personal.shown_title(d.title)}' ({d.id})" for d in paused)
        lines.append(f"Paused, so not offered: {names}. /decks resume ID brings one back.")
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
    if is_cram(prompt.source):  # practice: the ratings schedule nothing, so show no intervals
        if prompt.revealed_at is None or typed != prompt.typed_answer:
            tx.prompts.reveal(token, shown_at, typed, None)
        buttons = (practice_buttons(token),)
    else:
        if prompt.intervals is not None:
            intervals = srs.from_seconds(prompt.intervals)
        else:
            intervals = srs.preview(
                state,
                shown_at,
                learner.settings,
                token=token,
                due_counts=due_counter(tx, learner.id),
                in_exam=exam.covers(learner.settings, learner.topics, card),
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
    if is_cram(prompt.source):
        return rate_cram(
            tx, learner, prompt, before, rating, now, next_token, after_commit, duration_ms
        )
    shown = srs.from_seconds(prompt.intervals)[rating] if prompt.intervals else None
    in_exam = False
    if exam.ahead(learner.settings, now):  # only a learner with an exam to come pays the read
        card = tx.catalogue.card(prompt.card_id)
        in_exam = card is not None and exam.covers(learner.settings, learner.topics, card)
    after = srs.review(
        before,
        rating,
        now,
        learner.settings,
        token=token,
        shown_at=prompt.revealed_at,
        due_counts=due_counter(tx, learner.id),
        interval=shown,
        in_exam=in_exam,
    )
    duration_ms = _answer_ms(prompt, now, duration_ms)
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


def _answer_ms(prompt: Prompt, now: datetime, duration_ms: int | None) -> int:
    """How long the learner took: as the platform measured it, else since the card was
    shown; within 0 and :data:`MAX_DURATION_MS` (a card left open is not ten hours' work)."""
    if duration_ms is None:
        duration_ms = int((now - prompt.created_at).total_seconds() * 1000)
    return max(0, min(duration_ms, MAX_DURATION_MS))


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
    if last.source == importing.ANKI_SOURCE:  # history brought in, not a rating made here
        return send(
            Reply(
                "info",
                "There is nothing to undo: your latest review was made in Anki and imported. "
                "To take an import back, remove its deck (/decks remove ID).",
            )
        )
    if last.source == CRAM:  # practice changed no state: nothing to restore, nothing to re-rate
        tx.reviews.mark_undone(last.id, now)
        card = tx.catalogue.card(last.card_id)
        title = card.title if card else last.card_id
        return send(
            Reply(
                "info",
                f"Undid {RATING_NAMES[last.rating]} on “{title}”: it was practice, so your "
                "schedule is as it was. Send /cram to go on practising.",
            )
        )
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
    # A practice card has no schedule to bury or suspend (its buttons offer neither).
    if found is None or is_cram(found[0].source) or not tx.prompts.claim(token, learner.id, now):
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
    # A practice card has no schedule to bury or suspend (its buttons offer neither).
    if found is None or is_cram(found[0].source) or not tx.prompts.claim(token, learner.id, now):
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
    known = set(tx.catalogue.topics(learner.id))
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


#: The viewer's own decks that get buttons in a menu (a chat's keyboard holds 100
#: buttons at most on Telegram); the others are named by id in typed commands.
MENU_OWN_DECKS = 10


def deck_buttons(tx: Tx, chain: bool, viewer: int | None = None) -> tuple[tuple[Button, ...], ...]:
    """One button per deck that has cards (the shipped ones, then the viewer's first
    :data:`MENU_OWN_DECKS` own unpaused ones), then "All decks" (onboarding, the /decks
    menu)."""
    decks = [
        d
        for d in tx.catalogue.decks(viewer)
        if d.card_count and not d.paused and _fits(Setup(chain, "deck", d.id))
    ]
    shipped = [d for d in decks if d.owner_id is None]
    own = [d for d in decks if d.owner_id is not None][:MENU_OWN_DECKS]
    rows = [(button(d.title, Setup(chain, "deck", d.id)),) for d in shipped + own]
    rows.append((button("All decks", Setup(chain, "deck", "*")),))
    return tuple(rows)


NO_DECKS_AT_ALL = (
    "No decks are loaded. You can import your own: send me an Anki package (.apkg) or an "
    "Anki text export in this chat."
)


def list_decks(tx: Tx, learner: Learner, *, menu: bool = False) -> Reply:
    """The shipped decks with their card counts and descriptions, then "Your decks" (the
    learner's own: cards, paused or not), and what the learner studies. With ``menu``, a
    button per deck to study it alone, and Pause (or Resume) and Remove per own deck."""
    shipped = tx.catalogue.decks()
    own = tx.personal.list(learner.id)
    if not shipped and not own:
        return Reply("info", NO_DECKS_AT_ALL)
    lines: list[str] = []
    for d in shipped:
        lines.append(f"• {d.title} ({d.id}): {d.card_count} card{'s' if d.card_count != 1 else ''}")
        if d.description:
            lines.append(f"  {d.description}")
    if own:
        lines.append("Your decks:")
        for p in own:
            paused = ", paused" if p.paused else ""
            lines.append(
                f"• {personal.shown_title(p.title)} ({p.id}): "
                f"{p.card_count:,} card{'s' if p.card_count != 1 else ''}" + paused
            )
    studying = ", ".join(learner.topics) if learner.topics else "all decks"
    lines.append(f"You study: {studying}.")
    if own:
        lines.append("/decks pause ID, /decks resume ID or /decks remove ID changes one of yours.")
    buttons: tuple[tuple[Button, ...], ...] = ()
    if menu:
        buttons = deck_buttons(tx, chain=False, viewer=learner.id) + personal.deck_buttons(
            own[:MENU_OWN_DECKS]
        )
        if len(own) > MENU_OWN_DECKS:
            lines.append(
                f"The buttons are for your first {MENU_OWN_DECKS} decks; "
                "name the others by their ids."
            )
    return Reply("info", "\n".join(lines), buttons=buttons)


#: The settings menu's button that shows what each desired retention costs.
RETENTION_COSTS = Setup(False, "go", "retention")

SETTINGS_MENU = (
    (
        button("Time zone", Setup(False, "go", "tz")),
        button("Reminder", Setup(False, "go", "push")),
        button("Decks", Setup(False, "go", "deck")),
        button("Easy days", Setup(False, "go", "easy")),
    ),
    (button("Retention: what it costs", RETENTION_COSTS),),
)


def show_settings(learner: Learner, *, menu: bool = False) -> Reply:
    """The learner's settings (with buttons that change them when ``menu``)."""
    text = describe_settings(learner.settings, learner.topics)
    if not menu:
        return Reply("info", text)
    text += (
        "\n\nChange one with the buttons, or /settings KEY VALUE. "
        "/settings retention shows what each retention costs you in reviews a day."
    )
    return Reply("info", text, buttons=SETTINGS_MENU)


def studied_cards(tx: Tx, learner: Learner) -> int:
    """How many cards the learner studies: their decks or topics, else every deck they
    see (paused decks of their own left out)."""
    if learner.topics:
        return len(
            {c for topic in learner.topics for c in tx.catalogue.cards_in_topic(topic, learner.id)}
        )
    return sum(d.card_count for d in tx.catalogue.decks(learner.id) if not d.paused)


def workload(tx: Tx, learner: Learner) -> WorkloadInputs:
    """The retention simulator's inputs for a learner (their cards, settings and log)."""
    return workload_inputs(
        tx.reviews.all_for(learner.id), learner.settings, studied_cards(tx, learner)
    )


NO_CARDS_TO_SIMULATE = (
    "You study no cards yet, so there is no workload to simulate. "
    "Pick decks with /decks, then send /settings retention again."
)


@lru_cache(maxsize=64)
def _costs(inputs: WorkloadInputs) -> RetentionCosts:
    """:func:`~bot.core.workload.simulate_costs`, once per set of inputs (it is deterministic)."""
    return simulate_costs(inputs)


def retention_costs_reply(inputs: WorkloadInputs, costs: RetentionCosts) -> Reply:
    """/settings retention: the table as text, with the chart of it to draw (none when no
    card is ever learned: the text says why, and a chart of zeros says nothing)."""
    figure = costs if costs.suggested is not None else None
    return Reply("info", format_costs(costs, inputs), figure=figure)


# --------------------------------------------------------------------------- stats


def stats(
    tx: Tx, learner: Learner, now: datetime, entries: Sequence[ReviewEntry] | None = None
) -> Reply:
    """/stats: the numbers as text, and the chart of them with the due forecast.

    ``entries``: the learner's review log, if already read (true retention comes from it).
    """
    if entries is None:
        entries = tx.reviews.all_for(learner.id, since=now - RETENTION_WINDOW)
    tz = learner.settings.timezone
    history = tx.reviews.history(learner.id, now - timedelta(days=400))
    tomorrow = srs.next_day_start(now, tz)
    due_today = tx.schedule.count_due(learner.id, tomorrow)
    numbers = compute_stats(
        history,
        due_today,
        now,
        tz,
        learner.settings.desired_retention,
        retention=true_retention(entries, now),
    )
    numbers = replace(numbers, model=model_status(tx, learner))
    until = srs.day_start(now, tz) + timedelta(days=FORECAST_DAYS + 1)
    forecast = due_forecast(tx.schedule.due_times(learner.id, until), now, tz, FORECAST_DAYS)
    text = format_stats(numbers)
    if (outlook := exam_outlook(tx, learner, now)) is not None:
        text += "\n\n" + outlook
    return Reply(
        "stats", text, figure=StatsChart(numbers, tuple(forecast)), workspace=STATS_WORKSPACE
    )


# --------------------------------------------------------------------------- exam


EXAM_USAGE = (
    "/exam DATE [TOPIC] sets an exam (for example /exam 2027-01-15 calculus, or "
    "/exam in 3 weeks); /exam target 0.85 sets the recall to aim for; /exam off clears it."
)


def _topic_card_ids(tx: Tx, topics: Sequence[str], viewer: int) -> list[str]:
    """The live cards of these topics (deck ids or tags) the viewer studies, once each;
    every card they study for none (their paused decks' cards left out)."""
    wanted = list(topics) if topics else [d.id for d in tx.catalogue.decks(viewer)]
    seen: dict[str, None] = {}
    for topic in wanted:
        for card_id in tx.catalogue.cards_in_topic(topic, viewer):
            seen.setdefault(card_id)
    return list(seen)


def _exam_scope(learner: Learner) -> tuple[str, ...]:
    s = learner.settings
    return (s.exam_topic,) if s.exam_topic is not None else learner.topics


def _exam_scope_name(learner: Learner) -> str:
    s = learner.settings
    if s.exam_topic is not None:
        return s.exam_topic
    if learner.topics:
        return "the cards you study (" + ", ".join(learner.topics) + ")"
    return "every card you study"


def exam_outlook(tx: Tx, learner: Learner, now: datetime, heading: str | None = None) -> str | None:
    """What the learner's exam looks like now: recall predicted on the day if nothing were
    done, and the reviews planned before it. None without an exam still ahead."""
    s = learner.settings
    if s.exam_date is None:
        return None
    at = exam.exam_instant(s.exam_date, s.timezone)
    if now >= at:
        return None
    ids = _topic_card_ids(tx, _exam_scope(learner), learner.id)
    stored = tx.schedule.states_for([learner.id], ids)
    states = [st for st in stored if not st.is_new and not st.suspended]
    suspended = sum(1 for st in stored if st.suspended)
    scheduler = srs.scheduler_for(s)
    recalls = [exam.recall_at(st, at, scheduler) for st in states]
    below = sum(1 for r in recalls if r < s.exam_target)
    planned = sum(1 for st in states if st.due is not None and st.due < at)
    unstarted = len(ids) - len(states) - suspended
    lines = [heading or f"Exam {s.exam_date:%a %d %b %Y}, {_exam_scope_name(learner)}:"]
    if recalls:
        mean = sum(recalls) / len(recalls)
        lines.append(
            f"• If you did nothing from now: mean recall on the day {mean:.0%}, "
            f"{below} of {len(recalls)} card{'s' if len(recalls) != 1 else ''} below "
            f"your target of {s.exam_target:.0%}."
        )
    else:
        lines.append("• No card of it studied yet.")
    lines.append(
        f"• Reviews planned before it: {planned} card{'s' if planned != 1 else ''} due by "
        "then (each one you pass is then scheduled to hold until the day)."
    )
    if unstarted:
        lines.append(f"• {unstarted} card{'s' if unstarted != 1 else ''} not started yet.")
    if suspended:
        lines.append(f"• {suspended} suspended (left out).")
    return "\n".join(lines)


def _exam_meaning(learner: Learner, now: datetime, lead: str = "Your exam") -> str:
    s = learner.settings
    assert s.exam_date is not None
    days = (s.exam_date - srs.local_date(now, s.timezone)).days
    scope = _exam_scope_name(learner)
    return (
        f"{lead}: {s.exam_date:%a %d %b %Y} (in {days} day{'s' if days != 1 else ''}), "
        f"covering {scope}, target recall {s.exam_target:.0%}.\n"
        f"Until then, a card of it whose recall on the day would fall below "
        f"{s.exam_target:.0%} comes back early enough that, once you pass it, it holds "
        "until the exam (in the last week before it, spread over its days). Other cards "
        "keep their usual "
        "schedule, and after the exam everything goes back to normal."
    )


def show_exam(tx: Tx, learner: Learner, now: datetime) -> Reply:
    """/exam: the exam, what it means for the schedule, and how it looks."""
    s = learner.settings
    if s.exam_date is None:
        return Reply(
            "info",
            "No exam set. Set one and, until that day, the cards it covers come back in "
            f"time for you to recall them on it ({exam.DEFAULT_TARGET:.0%} recall by "
            "default); without a topic it covers every card you study.\n" + EXAM_USAGE,
        )
    if now >= exam.exam_instant(s.exam_date, s.timezone):
        return Reply(
            "info",
            f"Your exam on {s.exam_date:%a %d %b %Y} has passed, so your cards are back on "
            "their usual schedule. /exam DATE sets another, /exam off clears this one.",
        )
    text = _exam_meaning(learner, now)
    if (outlook := exam_outlook(tx, learner, now, "Where it stands:")) is not None:
        text += "\n\n" + outlook
    return Reply("info", text + "\n\n" + EXAM_USAGE)


def set_exam(tx: Tx, learner: Learner, args: Sequence[str], now: datetime) -> Reply:
    """``/exam DATE [TOPIC]``, ``/exam target X``, ``/exam off``; no arguments shows it."""
    words = [w for w in args if w.strip()]
    if not words:
        return show_exam(tx, learner, now)
    s = learner.settings
    first = words[0].lower()
    if first in ("off", "clear", "none", "cancel"):  # words after it (a topic) change nothing
        if s.exam_date is None:
            return Reply("info", "There is no exam to clear.")
        tx.learners.save_settings(
            learner.id, replace(s, exam_date=None, exam_topic=None, exam_target=s.exam_target)
        )
        return Reply("info", "Exam cleared: every card is back on its usual schedule.")
    try:
        if first == "target":
            if len(words) != 2:
                raise exam.ExamInputError(
                    "Give one number: for example /exam target 0.85 (or 85%)."
                )
            target = exam.parse_target(words[1])
            updated = replace(learner, settings=replace(s, exam_target=target))
            tx.learners.save_settings(learner.id, updated.settings)
            if s.exam_date is None:
                return Reply(
                    "info",
                    f"Target saved: {target:.0%}. It applies to the exam you set with "
                    "/exam DATE [TOPIC].",
                )
            return show_exam(tx, updated, now)
        today = srs.local_date(now, s.timezone)
        found = exam.split_date(words, today)
        if found is None:
            raise exam.ExamInputError(
                f"I couldn't read “{excerpt(' '.join(words))}” as a date. "
                f"Try {exam.DATE_EXAMPLES}, then the topic if any (/exam 2027-01-15 calculus)."
            )
        day, rest = found
        exam.check_future(day, today)
    except exam.ExamInputError as exc:
        return Reply("error", str(exc))
    topic: str | None = None
    if rest:
        topic = " ".join(rest).strip().lower()
        known = set(tx.catalogue.topics(learner.id))
        if topic not in known:
            return Reply(
                "error",
                f"I don't know the topic “{excerpt(topic)}”. Topics: "
                f"{', '.join(sorted(known)) or 'none yet'}.",
            )
    updated = replace(learner, settings=replace(s, exam_date=day, exam_topic=topic))
    tx.learners.save_settings(learner.id, updated.settings)
    text = _exam_meaning(updated, now, "Exam set")
    if (outlook := exam_outlook(tx, updated, now, "Where it stands:")) is not None:
        text += "\n\n" + outlook
    return Reply("info", text)


# --------------------------------------------------------------------------- cram


CRAM = ReviewSource.CRAM.value


def is_cram(source: str) -> bool:
    """Whether a prompt is practice (/cram): its source is ``cram`` or ``cram:<topic key>``."""
    return source == CRAM or source.startswith(CRAM + ":")


def _topic_key(topic: str) -> str:
    """A short key naming a topic in a practice prompt's source (16 characters at most)."""
    return hashlib.blake2b(topic.encode(), digest_size=4).hexdigest()


def _cram_topic(tx: Tx, source: str, viewer: int) -> str | None:
    """The topic a practice prompt's source names (None: the learner's topics)."""
    key = source.partition(":")[2]
    if not key:
        return None
    return next((t for t in tx.catalogue.topics(viewer) if _topic_key(t) == key), None)


def cram_card(
    tx: Tx, learner: Learner, now: datetime, token: str, topic: str | None, first: bool = False
) -> Reply:
    """The next practice card: of ``topic`` (or the learner's topics), those not crammed
    today first, the lowest recall first, cards never studied last. Nothing is scheduled."""
    scope = (topic,) if topic is not None else learner.topics
    ids = _topic_card_ids(tx, scope, learner.id)
    name = topic if topic is not None else (", ".join(learner.topics) or "all your decks")
    if not ids:
        if not tx.catalogue.decks(learner.id):
            return Reply("done", NO_DECKS_TEXT)
        return Reply("done", f"There is nothing to cram in {name}: it has no cards.")
    states = {st.card_id: st for st in tx.schedule.states_for([learner.id], ids)}
    scheduler = srs.scheduler_for(learner.settings)
    done = tx.reviews.cards_since(
        learner.id, CRAM, srs.day_start(now, learner.settings.timezone)
    ) & set(ids)
    order = {card_id: i for i, card_id in enumerate(ids)}

    def key(card_id: str) -> tuple[bool, bool, float, int]:
        st = states.get(card_id)
        new = st is None or st.is_new
        r = 0.0 if st is None else exam.recall_at(st, now, scheduler)
        return card_id in done, new, r, order[card_id]

    card_id = min(ids, key=key)
    total = len(ids)
    plural = "s" if total != 1 else ""
    if card_id in done:
        where = f"all {total} card{plural} crammed today; going round again"
    else:
        where = f"card {len(done) + 1} of {total}"
    if first:
        text = (
            f"Cram: {total} card{plural} of {name}, lowest recall first. Practice only: "
            "your ratings are logged but your schedule stays as it is. "
            "/review goes back to normal study.\n"
            f"Cram · {where}."
        )
    else:
        text = f"Cram · {name} · {where}."
    card = tx.catalogue.card(card_id)
    if card is None:  # retired between the query and now; cannot happen inside one transaction
        raise LookupError(card_id)
    source = CRAM if topic is None else f"{CRAM}:{_topic_key(topic)}"
    tx.prompts.add(Prompt(token, learner.id, card_id, source, now))
    buttons = ((button("Show answer", Action("reveal", token), "primary"),),)
    return Reply("front", text, card=card_view(card, back=False), buttons=buttons)


def start_cram(tx: Tx, learner: Learner, topic: str | None, now: datetime, token: str) -> Reply:
    """``/cram [TOPIC]``: the first practice card (an unknown topic is said so)."""
    if topic is not None:
        topic = topic.strip().lower() or None
    if topic is not None and topic not in set(tx.catalogue.topics(learner.id)):
        known = sorted(tx.catalogue.topics(learner.id))
        return Reply(
            "error",
            f"I don't know the topic “{excerpt(topic)}”. Topics: {', '.join(known) or 'none yet'}.",
        )
    return cram_card(tx, learner, now, token, topic, first=True)


def rate_cram(
    tx: Tx,
    learner: Learner,
    prompt: Prompt,
    state: CardState,
    rating: int,
    now: datetime,
    next_token: str,
    after_commit: AfterCommit,
    duration_ms: int | None = None,
) -> Outcome:
    """A practice rating: logged (source ``cram``, the state before and after the same),
    the card's schedule untouched; the next practice card follows."""
    record_review(
        tx,
        ReviewEntry(
            learner_id=learner.id,
            card_id=prompt.card_id,
            rating=rating,
            reviewed_at=now,
            source=CRAM,
            before=state,
            after=state,
            duration_ms=_answer_ms(prompt, now, duration_ms),
            typed_answer=prompt.typed_answer,
        ),
        after_commit,
    )
    nxt = cram_card(tx, learner, now, next_token, _cram_topic(tx, prompt.source, learner.id))
    return Outcome(
        close=f"{RATING_NAMES[rating]} (practice: the schedule is unchanged).",
        replies=(nxt,),
        in_place=True,
    )


def calibration_reply(calibration: Calibration) -> Reply:
    """/stats's second reply: predicted vs actual recall, with its chart when there are
    enough reviews."""
    figure = calibration if calibration.enough else None
    return Reply("stats", format_calibration(calibration), figure=figure)


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
        "card, your whole review history and the decks you imported. It cannot be undone. "
        "Delete it all?",
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
    used = tx.confirmations.use(token, learner.id, now, now - CONFIRM_WINDOW)
    if used is None:
        return EXPIRED
    kind, subject = used
    if not yes:
        return Outcome(edit=Reply("info", "Nothing was deleted."))
    if kind == personal.RMDECK and subject is not None:
        return Outcome(edit=personal.remove_deck(tx, learner, subject))
    if kind == "forget":
        reviews = len(tx.reviews.all_for(learner.id))
        own = len(tx.personal.list(learner.id))
        tx.learners.delete(learner.id)
        log.info("learner %s deleted their data", learner.id)
        items = ["your settings", "your schedule", f"{reviews} review{'s' if reviews != 1 else ''}"]
        if own:
            items.append(f"the {own} deck{'s' if own != 1 else ''} you imported")
        return Outcome(
            edit=Reply(
                "info",
                f"Done: I deleted {', '.join(items[:-1])} and {items[-1]}. "
                "I hold nothing about you now. Send /start if you ever want to begin again.",
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

    def __init__(
        self,
        basics: Basics,
        announcer: Announcer,
        *,
        anki: AnkiPackager | None = None,
        pictures: Renderer | None = None,
        reader: AnkiReader | None = None,
    ) -> None:
        """
        Args:
            anki: builds ``/export anki``'s package (None: neither ``anki`` nor genanki is
                installed: the reply says so).
            pictures: draws the cards' images into that package (None: they stay as
                their text).
            reader: reads a file a learner sends (:mod:`bot.interop.anki_import`; None:
                importing is not set up, and the reply says so).
        """
        super().__init__(basics, announcer)
        self.anki = anki
        self.pictures = pictures
        self.reader = reader

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

    async def decks(self, who: Who, args: Sequence[str] = (), *, menu: bool = False) -> Outcome:
        """``/decks [TOPIC ... | pause ID | resume ID | remove ID]``.

        Without arguments: the decks and what the learner studies (with ``menu``, a
        button per deck, and Pause or Resume and Remove per deck of their own). With
        topics: study only those. ``pause``/``resume``/``remove`` and a deck id: change
        one of the learner's own decks (removing asks first).
        """
        words = [w for w in args if w.strip()]
        step = personal.DECK_STEPS.get(words[0].lower()) if words else None
        if step is not None:
            token = self.tokens()
            rest = words[1:]
            return await self._run(
                who,
                lambda tx, lr, now: send(personal.deck_command(tx, lr, step, rest, now, token)),
            )
        if words:
            return await self.study_topics(who, words)
        return await self._run(who, lambda tx, lr, now: send(list_decks(tx, lr, menu=menu)))

    async def deck_choice(self, who: Who, choice: DeckChoice) -> Outcome:
        """A ``/decks`` menu button on one of the learner's own decks: Pause or Resume (the
        menu is shown again, changed, and a toast says what was done), or Remove (a
        question follows; nothing is removed before the learner says yes)."""
        token = self.tokens()

        def work(tx: Tx, learner: Learner, now: datetime) -> Outcome:
            if choice.step == "remove":
                return send(personal.request_remove(tx, learner, choice.deck_id, now, token))
            done = personal.pause_deck(tx, learner, choice.deck_id, choice.step == "pause")
            if done.kind == "error":
                return send(done)
            return Outcome(notice=excerpt(done.text, 190), edit=list_decks(tx, learner, menu=True))

        return await self._run(who, work)

    async def study_topics(self, who: Who, topics: Sequence[str]) -> Outcome:
        return await self._run(who, lambda tx, lr, now: send(set_topics(tx, lr, topics)))

    async def stats(self, who: Who) -> Outcome:
        """/stats: the numbers, with the chart to draw (text alone when it can't be)."""
        read = await self._run(
            who, lambda tx, lr, now: (stats(tx, lr, now), tx.models.log(lr.id), lr.settings)
        )
        numbers, log, settings = read
        # The calibration replays the whole log: in a thread, as a fit is.
        calibration = await asyncio.to_thread(calibrate, log, settings.fsrs_parameters)
        return send(numbers, calibration_reply(calibration))

    async def retention_costs(self, who: Who) -> Outcome:
        """/settings retention: what each desired retention would cost in reviews and
        minutes a day, simulated in a thread (0.1-0.5 s), with a suggestion."""
        inputs = await self._run(who, lambda tx, lr, now: workload(tx, lr))
        if inputs.deck_size == 0:
            return send(Reply("info", NO_CARDS_TO_SIMULATE))
        costs = await asyncio.to_thread(_costs, inputs)
        return send(retention_costs_reply(inputs, costs))

    async def pause(self, who: Who, paused: bool = True) -> Outcome:
        return await self._run(who, lambda tx, lr, now: send(pause(tx, lr, paused, now)))

    async def request_forget(self, who: Who) -> Outcome:
        token = self.tokens()
        return await self._run(who, lambda tx, lr, now: send(request_forget(tx, lr, now, token)))

    async def confirm(self, who: Who, token: str, yes: bool) -> Outcome:
        return await self._run(who, lambda tx, lr, now: confirm(tx, lr, token, yes, now))

    async def exam(self, who: Who, args: Sequence[str] = ()) -> Outcome:
        """``/exam [DATE [TOPIC] | target X | off]``: set, change, clear or show the exam."""
        return await self._run(who, lambda tx, lr, now: send(set_exam(tx, lr, args, now)))

    async def cram(self, who: Who, topic: str | None = None) -> Outcome:
        """``/cram [TOPIC]``: practice cards, lowest recall first, schedule unchanged."""
        token = self.tokens()
        return await self._run(who, lambda tx, lr, now: send(start_cram(tx, lr, topic, now, token)))

    async def export(self, who: Who) -> Outcome:
        """/export: the review history as a CSV file."""
        return await self._run(who, lambda tx, lr, now: send(export_reply(tx, lr)))

    async def export_anki(self, who: Who) -> Outcome:
        """``/export anki``: the learner's cards (with their schedule and review log when
        ``anki`` is installed) and their images as an Anki package: the images drawn
        first (:func:`~bot.core.interop.draw_images`), then the package built in a thread."""
        packager = self.anki
        if packager is None:
            return send(Reply("info", ANKI_UNAVAILABLE))
        export = await self._run(who, lambda tx, lr, now: anki_export(tx, lr, now))
        if self.pictures is not None:
            export = await draw_images(export, self.pictures)
        package = await asyncio.to_thread(packager, export)
        return send(anki_reply(package, export))

    async def import_file(
        self, who: Who, filename: str, size: int, fetch: Callable[[], Awaitable[bytes]]
    ) -> Outcome:
        """A file the learner sent in their private chat (an Anki package or text export),
        imported into their personal decks in one transaction.

        ``size`` (bytes, as the platform declares it) is checked against the limit before
        ``fetch`` downloads the file, so a file too large is never downloaded. The file is
        read, then mapped, each in a thread; one unit of work writes it all
        (:mod:`bot.core.personal`).
        """
        if size > MAX_IMPORT_BYTES:
            return send(Reply("error", too_large(size)))
        reader = self.reader
        if reader is None:
            return send(Reply("info", personal.IMPORT_UNAVAILABLE))
        data = await fetch()
        if len(data) > MAX_IMPORT_BYTES:  # the platform said less than it sent
            return send(Reply("error", too_large(len(data))))
        learner = await self.learner(who)

        async def write(plan: importing.ImportPlan) -> personal.ImportSummary:
            return await self._run(
                who, lambda tx, lr, now: personal.write_import(tx, lr, plan, now)
            )

        reply = await personal.import_data(reader, data, filename, learner, self.clock.now(), write)
        return send(reply)
