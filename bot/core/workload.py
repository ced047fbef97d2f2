"""How much work a desired retention costs: fsrs-rs's simulator over the learner's own numbers.

``/settings retention`` shows, for desired retentions from 75 % to 97 %, the reviews
and minutes a day a year of study would take, simulated by ``fsrs_rs_python.simulate``
with the learner's deck size, daily limits, maximum interval, FSRS parameters,
answer mix and review times (their own where the log has enough, else the
simulator's defaults, which come from Anki users).

The retention with the lowest cost per remembered card (minutes spent over the
year / cards remembered at its end) is marked as a suggestion, as Anki's "Help me
decide" does; the learner still sets the retention themselves.

Limits, said in the reply too: this binding's ``simulate`` cannot start from the
learner's existing memory states (its cards all start new, on day one), so it
answers "what would a year cost from scratch with this deck", not "what will my
next year cost". ``simulate`` holds the GIL while it runs, so the service runs the
retentions one call at a time in a thread: the event loop waits at most one call
(25 ms for 2,000 cards on an idle core; the longest wait measured on a busy
2-core machine was 55 ms). Small decks are run with several seeds (about 2,000
card-runs in all), so the whole table costs about the same for any deck: 0.1-0.5 s.

Pure and fast to import: ``fsrs_rs_python`` is imported by :func:`simulate_costs` only.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from fsrs.scheduler import DEFAULT_PARAMETERS

from bot.core.model import CardStateKind, LearnerSettings, ReviewEntry
from bot.core.stats import counts_for_retention

__all__ = [
    "DEFAULT_FIRST_RATING_PROB",
    "DEFAULT_REVIEW_RATING_PROB",
    "DEFAULT_STATE_RATING_COSTS",
    "RETENTIONS",
    "RetentionCost",
    "RetentionCosts",
    "WorkloadInputs",
    "format_costs",
    "simulate_costs",
    "suggest",
    "workload_inputs",
]

#: The desired retentions simulated (the learner's own is added when it is not one).
RETENTIONS: Final = tuple(round(0.75 + 0.02 * i, 2) for i in range(12))
#: Days simulated.
DAYS: Final = 365
#: The simulator's first seed: the same seeds for every retention, so they differ only by
#: retention.
SEED: Final = 2026
#: Small decks are simulated with several seeds (up to this many), averaged: about
#: :data:`CARD_RUNS` cards in all, so one lucky run does not pick the suggestion.
MAX_SEEDS: Final = 20
CARD_RUNS: Final = 2000
#: Ratings of a kind (first answers; passed reviews) needed to use the learner's own mix.
MIN_RATINGS: Final = 30
#: Timed reviews of one state and rating needed to use the learner's own time for it.
MIN_TIMED: Final = 10

# fsrs-rs's simulator defaults (``default_simulator_config()``, from Anki users' logs),
# copied so building inputs needs no import of the binding; a test checks they match.
#: Again, Hard, Good, Easy as a new card's first answer.
DEFAULT_FIRST_RATING_PROB: Final = (0.24, 0.094, 0.495, 0.171)
#: Hard, Good, Easy among passed reviews.
DEFAULT_REVIEW_RATING_PROB: Final = (0.224, 0.631, 0.145)
#: Seconds per answer: rows learning, review, relearning; columns Again .. Easy.
DEFAULT_STATE_RATING_COSTS: Final = (
    (19.58, 18.79, 13.78, 10.71),
    (19.38, 17.59, 12.38, 8.94),
    (16.44, 15.25, 12.32, 8.03),
)
_ROWS: Final = {
    CardStateKind.NEW: 0,
    CardStateKind.LEARNING: 0,
    CardStateKind.REVIEW: 1,
    CardStateKind.RELEARNING: 2,
}


@dataclass(frozen=True, slots=True)
class WorkloadInputs:
    """What the simulator is given, from the learner's settings, cards and log.

    Attributes:
        deck_size: the cards the learner studies (their decks or topics).
        learn_limit: new cards a day.
        review_limit: reviews a day at most (new cards included, as the bot counts).
        max_ivl: the longest interval, in days.
        parameters: FSRS parameters (the learner's, else the defaults).
        own_parameters: whether they are the learner's own.
        learning_steps, relearning_steps: how many steps each has.
        first_rating_prob: Again .. Easy as a new card's first answer.
        review_rating_prob: Hard, Good, Easy among passed reviews.
        state_rating_costs: seconds per answer, rows learning, review, relearning.
        own_mix: whether the answer mix is the learner's (else the defaults).
        own_costs: how many of the 12 (state, rating) times are the learner's own.
        timed_reviews: the timed reviews those come from.
        current: the learner's desired retention now.
    """

    deck_size: int
    learn_limit: int
    review_limit: int
    max_ivl: int
    parameters: tuple[float, ...]
    own_parameters: bool
    learning_steps: int
    relearning_steps: int
    first_rating_prob: tuple[float, ...]
    review_rating_prob: tuple[float, ...]
    state_rating_costs: tuple[tuple[float, ...], ...]
    own_mix: bool
    own_costs: int
    timed_reviews: int
    current: float


@dataclass(frozen=True, slots=True)
class RetentionCost:
    """A year simulated at one desired retention.

    Attributes:
        retention: the desired retention.
        reviews_per_day: reviews of cards already introduced, a day on average.
        minutes_per_day: time spent a day on average (new cards' learning included).
        remembered: cards expected to be remembered at the end of the year.
        minutes_per_card: total minutes over the year per remembered card.
    """

    retention: float
    reviews_per_day: float
    minutes_per_day: float
    remembered: float
    minutes_per_card: float


@dataclass(frozen=True, slots=True)
class RetentionCosts:
    """The costs of every retention simulated, for the table and the chart.

    Attributes:
        costs: one per retention, lowest first.
        current: the learner's desired retention.
        suggested: the retention with the lowest cost per remembered card; None when
            no retention remembers a card (no new card is ever introduced).
        deck_size: cards simulated.
    """

    costs: tuple[RetentionCost, ...]
    current: float
    suggested: float | None
    deck_size: int


def _share(counts: Sequence[int]) -> tuple[float, ...]:
    total = sum(counts)
    return tuple(c / total for c in counts)


def workload_inputs(
    entries: Sequence[ReviewEntry], settings: LearnerSettings, deck_size: int
) -> WorkloadInputs:
    """The simulator's inputs from a learner's settings, their deck size and review log.

    The answer mix is the learner's when the log has :data:`MIN_RATINGS` first answers
    and passed reviews; each (state, rating) time is their median logged time when the
    log has :data:`MIN_TIMED` timed reviews of it. Undone and ``/cram`` reviews are left out.
    """
    first = [0, 0, 0, 0]
    passed = [0, 0, 0]
    times: dict[tuple[int, int], list[float]] = {}
    for e in entries:
        if not counts_for_retention(e) or e.rating not in (1, 2, 3, 4):
            continue
        state = e.before.state
        if state is CardStateKind.NEW:
            first[e.rating - 1] += 1
        elif state is CardStateKind.REVIEW and e.rating > 1:
            passed[e.rating - 2] += 1
        if e.duration_ms is not None and e.duration_ms > 0:
            times.setdefault((_ROWS[state], e.rating - 1), []).append(e.duration_ms / 1000)
    own_mix = sum(first) >= MIN_RATINGS and sum(passed) >= MIN_RATINGS
    costs: list[tuple[float, ...]] = []
    own_costs = timed = 0
    for row, defaults in enumerate(DEFAULT_STATE_RATING_COSTS):
        cells: list[float] = []
        for col, default in enumerate(defaults):
            logged = times.get((row, col), [])
            if len(logged) >= MIN_TIMED:
                cells.append(round(statistics.median(logged), 2))
                own_costs += 1
                timed += len(logged)
            else:
                cells.append(default)
        costs.append(tuple(cells))
    own_parameters = settings.fsrs_parameters is not None
    return WorkloadInputs(
        deck_size=deck_size,
        learn_limit=settings.new_cards_per_day,
        review_limit=settings.max_reviews_per_day,
        max_ivl=settings.maximum_interval_days,
        parameters=tuple(settings.fsrs_parameters or DEFAULT_PARAMETERS),
        own_parameters=own_parameters,
        learning_steps=len(settings.learning_steps),
        relearning_steps=len(settings.relearning_steps),
        first_rating_prob=_share(first) if own_mix else DEFAULT_FIRST_RATING_PROB,
        review_rating_prob=_share(passed) if own_mix else DEFAULT_REVIEW_RATING_PROB,
        state_rating_costs=tuple(costs),
        own_mix=own_mix,
        own_costs=own_costs,
        timed_reviews=timed,
        current=settings.desired_retention,
    )


def suggest(costs: Sequence[RetentionCost]) -> float | None:
    """The retention with the lowest cost per remembered card (the highest of equals);
    None when no retention remembers any card."""
    useful = [c for c in costs if c.remembered > 0]
    if not useful:
        return None
    return min(useful, key=lambda c: (round(c.minutes_per_card, 9), -c.retention)).retention


def simulate_costs(
    inputs: WorkloadInputs, retentions: Sequence[float] = RETENTIONS, seed: int = SEED
) -> RetentionCosts:
    """Simulate a year at each retention (and the learner's own) and pick the suggestion.

    Blocking, and it holds the GIL for each retention's run: call it in a thread, and
    only for a learner with cards (``deck_size`` > 0).
    """
    import fsrs_rs_python

    config = fsrs_rs_python.default_simulator_config()
    config.deck_size = inputs.deck_size
    config.learn_span = DAYS
    config.max_cost_perday = 24 * 3600.0  # no time limit: the review limit is the learner's
    config.max_ivl = float(inputs.max_ivl)
    config.learn_limit = inputs.learn_limit
    config.review_limit = inputs.review_limit
    config.new_cards_ignore_review_limit = False  # the bot's review limit counts new cards
    config.first_rating_prob = list(inputs.first_rating_prob)
    config.review_rating_prob = list(inputs.review_rating_prob)
    config.state_rating_costs = [list(row) for row in inputs.state_rating_costs]
    config.learning_step_count = inputs.learning_steps
    config.relearning_step_count = inputs.relearning_steps
    wanted = sorted({round(r, 2) for r in (*retentions, inputs.current)})
    runs = max(1, min(MAX_SEEDS, -(-CARD_RUNS // max(1, inputs.deck_size))))
    costs: list[RetentionCost] = []
    for retention in wanted:
        seconds = remembered = reviews = 0.0
        for run in range(runs):
            result = fsrs_rs_python.simulate(list(inputs.parameters), retention, config, seed + run)
            seconds += float(sum(result.cost_per_day)) / runs
            remembered += float(result.memorized_cnt_per_day[-1]) / runs
            reviews += sum(result.review_cnt_per_day) / runs
        costs.append(
            RetentionCost(
                retention=retention,
                reviews_per_day=reviews / DAYS,
                minutes_per_day=seconds / 60 / DAYS,
                remembered=remembered,
                minutes_per_card=seconds / 60 / remembered if remembered > 0 else float("inf"),
            )
        )
    return RetentionCosts(tuple(costs), round(inputs.current, 2), suggest(costs), inputs.deck_size)


def format_costs(result: RetentionCosts, inputs: WorkloadInputs) -> str:
    """The table and what it rests on, as plain text that reads the same on every platform."""
    lines = [
        f"What each desired retention costs: a year of study simulated for your "
        f"{inputs.deck_size} cards ({inputs.learn_limit} new a day, at most "
        f"{inputs.review_limit} reviews a day).",
        "",
        "retention: reviews a day · minutes a day · minutes per card remembered",
    ]
    for c in result.costs:
        marks = []
        if c.retention == result.current:
            marks.append("yours")
        if c.retention == result.suggested:
            marks.append("lowest cost per card")
        note = f"  ← {', '.join(marks)}" if marks else ""
        per_card = f"{c.minutes_per_card:.1f}" if c.remembered > 0 else "-"
        lines.append(
            f"{c.retention:.0%}: {_count(c.reviews_per_day)} · {_count(c.minutes_per_day)} · "
            f"{per_card}{note}"
        )
    if result.suggested is None:
        lines += [
            "",
            f"No card is learned in this simulation ({inputs.learn_limit} new cards a day, "
            f"{inputs.review_limit} reviews a day at most), so I have no suggestion. "
            "Raise them with /settings new 10 (for example).",
        ]
    else:
        lowest = result.suggested == min(c.retention for c in result.costs)
        edge = " (the lowest I simulated)" if lowest else ""
        lines += [
            "",
            f"Suggestion: {result.suggested:.0%}{edge} costs the least time per card you "
            "remember after a year. A higher retention means more reviews for a little more "
            "memory; a lower one, more forgetting and relearning. It is only a suggestion: "
            "choose what suits you, for example /settings retention 0.85.",
        ]
    lines += [
        "",
        "Based on: "
        + ("your fitted FSRS parameters" if inputs.own_parameters else "FSRS's default parameters")
        + "; "
        + (
            "your own mix of answers"
            if inputs.own_mix
            else "a typical mix of answers (you have few ratings yet)"
        )
        + "; "
        + _times_text(inputs)
        + ". The simulation starts every card as new today (it cannot start from what "
        "you already know), so cards you have learned will cost less than this.",
    ]
    return "\n".join(lines)


def _count(n: float) -> str:
    """A daily figure: whole above 10, one decimal above 1, two below (a small deck)."""
    if n >= 10:
        return f"{n:.0f}"
    return f"{n:.1f}" if n >= 1 else f"{n:.2f}"


def _times_text(inputs: WorkloadInputs) -> str:
    if inputs.own_costs == 0:
        return "typical review times from Anki users (you have too few timed reviews yet)"
    if inputs.own_costs == 12:
        return f"your own review times ({inputs.timed_reviews} timed reviews)"
    return (
        f"your own review times for {inputs.own_costs} of the 12 kinds of answer "
        f"(state and rating, {inputs.timed_reviews} timed reviews), typical ones for the rest"
    )
