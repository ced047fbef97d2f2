"""Tests for bot.core.srs: FSRS transitions, lapses and leeches, previews, intervals, local days."""

from __future__ import annotations

import random
from dataclasses import fields, replace
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import fsrs.scheduler
import pytest
from fsrs import Card, Rating, Scheduler

from bot.core import srs
from bot.core.model import CardState, CardStateKind, LearnerSettings

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
SETTINGS = LearnerSettings(enable_fuzzing=False)
TOKEN = "t0000001"  # names the review; with the card, it fixes the fuzz


def new_state() -> CardState:
    return CardState(learner_id=1, card_id="card")


def review_state(lapses: int = 0, *, leech: bool = False) -> CardState:
    """A card in Review, due now, with some history."""
    return CardState(
        learner_id=1,
        card_id="card",
        state=CardStateKind.REVIEW,
        step=None,
        stability=5.0,
        difficulty=6.0,
        due=NOW,
        last_review=NOW - timedelta(days=5),
        reps=10 + lapses,
        lapses=lapses,
        leech=leech,
    )


def assert_utc_datetimes(state: CardState) -> None:
    for f in fields(state):
        value = getattr(state, f.name)
        if isinstance(value, datetime):
            assert value.tzinfo is UTC, f"{f.name} is {value!r}"


# --------------------------------------------------------------------------- review()


def test_new_card_good_goes_to_learning_then_review() -> None:
    first = srs.review(new_state(), 3, NOW, SETTINGS, token=TOKEN)
    assert first.state is CardStateKind.LEARNING
    assert first.step == 1
    assert first.due == NOW + timedelta(minutes=10)
    assert first.last_review == NOW
    assert first.reps == 1
    assert first.lapses == 0
    assert first.stability is not None and first.difficulty is not None

    second = srs.review(first, 3, first.due, SETTINGS, token=TOKEN)
    assert second.state is CardStateKind.REVIEW
    assert second.step is None
    assert second.due is not None and second.due - first.due >= timedelta(days=1)
    assert second.reps == 2
    assert second.lapses == 0


@pytest.mark.parametrize(
    ("rating", "kind", "interval"),
    [
        (1, CardStateKind.LEARNING, timedelta(minutes=1)),
        (2, CardStateKind.LEARNING, timedelta(minutes=5, seconds=30)),
        (3, CardStateKind.LEARNING, timedelta(minutes=10)),
    ],
)
def test_new_card_ratings_follow_learning_steps(
    rating: int, kind: CardStateKind, interval: timedelta
) -> None:
    after = srs.review(new_state(), rating, NOW, SETTINGS, token=TOKEN)
    assert after.state is kind
    assert after.due == NOW + interval


def test_new_card_easy_graduates_at_once() -> None:
    after = srs.review(new_state(), 4, NOW, SETTINGS, token=TOKEN)
    assert after.state is CardStateKind.REVIEW
    assert after.due is not None and after.due - NOW >= timedelta(days=1)


def test_review_matches_fsrs_directly() -> None:
    """Our wrapper does exactly what the fsrs scheduler does, with the learner's settings."""
    sched = Scheduler(
        desired_retention=0.9,
        learning_steps=(timedelta(minutes=1), timedelta(minutes=10)),
        relearning_steps=(timedelta(minutes=10),),
        enable_fuzzing=False,
    )
    card, _ = sched.review_card(Card(card_id=1, due=NOW), Rating.Good, NOW)
    card, _ = sched.review_card(card, Rating.Good, card.due)
    state = srs.review(new_state(), 3, NOW, SETTINGS, token=TOKEN)
    state = srs.review(state, 3, state.due or NOW, SETTINGS, token=TOKEN)
    assert state.due == card.due
    assert state.stability == pytest.approx(card.stability)
    assert state.difficulty == pytest.approx(card.difficulty)


def test_review_does_not_mutate_its_input() -> None:
    before = review_state()
    copy = replace(before)
    srs.review(before, 1, NOW, SETTINGS, token=TOKEN)
    assert before == copy


def test_review_rejects_bad_rating() -> None:
    with pytest.raises(ValueError, match="rating"):
        srs.review(new_state(), 5, NOW, SETTINGS, token=TOKEN)
    with pytest.raises(ValueError, match="rating"):
        srs.review(new_state(), 0, NOW, SETTINGS, token=TOKEN)


def test_review_clears_bury() -> None:
    buried = replace(review_state(), buried_until=NOW + timedelta(hours=3))
    assert srs.review(buried, 3, NOW, SETTINGS, token=TOKEN).buried_until is None


@pytest.mark.parametrize("rating", [1, 2, 3, 4])
@pytest.mark.parametrize(
    "start",
    [
        pytest.param(CardState(1, "card"), id="new"),
        pytest.param(review_state(), id="review"),
    ],
)
def test_every_datetime_in_result_is_utc(start: CardState, rating: int) -> None:
    after = srs.review(start, rating, NOW, SETTINGS, token=TOKEN)
    assert_utc_datetimes(after)
    assert after.due is not None and after.last_review is not None


# --------------------------------------------------------------------------- lapses and leeches


def test_again_in_review_counts_a_lapse() -> None:
    after = srs.review(review_state(lapses=2), 1, NOW, SETTINGS, token=TOKEN)
    assert after.state is CardStateKind.RELEARNING
    assert after.lapses == 3
    assert not after.leech and not after.suspended


@pytest.mark.parametrize("rating", [2, 3, 4])
def test_other_ratings_in_review_do_not_lapse(rating: int) -> None:
    assert srs.review(review_state(lapses=2), rating, NOW, SETTINGS, token=TOKEN).lapses == 2


def test_again_in_learning_or_relearning_is_not_a_lapse() -> None:
    learning = srs.review(new_state(), 1, NOW, SETTINGS, token=TOKEN)
    assert learning.lapses == 0
    again = srs.review(learning, 1, learning.due or NOW, SETTINGS, token=TOKEN)
    assert again.state is CardStateKind.LEARNING
    assert again.lapses == 0

    relearning = srs.review(review_state(lapses=1), 1, NOW, SETTINGS, token=TOKEN)
    assert relearning.state is CardStateKind.RELEARNING
    assert relearning.lapses == 2
    still = srs.review(relearning, 1, relearning.due or NOW, SETTINGS, token=TOKEN)
    assert still.state is CardStateKind.RELEARNING
    assert still.lapses == 2


def test_leech_at_threshold_suspends() -> None:
    after = srs.review(review_state(lapses=7), 1, NOW, SETTINGS, token=TOKEN)
    assert after.lapses == 8
    assert after.leech
    assert after.suspended


def test_below_threshold_is_not_a_leech() -> None:
    after = srs.review(review_state(lapses=6), 1, NOW, SETTINGS, token=TOKEN)
    assert after.lapses == 7
    assert not after.leech and not after.suspended


def _lapse_once(state: CardState) -> CardState:
    """An Again in Review, then Good to get back to Review."""
    assert state.state is CardStateKind.REVIEW
    lapsed = srs.review(state, 1, state.due or NOW, SETTINGS, token=TOKEN)
    back = srs.review(lapsed, 3, lapsed.due or NOW, SETTINGS, token=TOKEN)
    assert back.state is CardStateKind.REVIEW
    return back


def test_relearning_every_half_threshold_after_it() -> None:
    """With threshold 8 a card becomes a leech at lapses 8, 12, 16 (re-suspended each time)."""
    state = review_state(lapses=0)
    suspended_at: list[int] = []
    for _ in range(17):
        lapsed = srs.review(state, 1, state.due or NOW, SETTINGS, token=TOKEN)
        if lapsed.suspended:
            suspended_at.append(lapsed.lapses)
            assert lapsed.leech
        # The learner unsuspends (which clears the leech flag) and carries on.
        lapsed = replace(lapsed, suspended=False, leech=False)
        state = srs.review(lapsed, 3, lapsed.due or NOW, SETTINGS, token=TOKEN)
    assert suspended_at == [8, 12, 16]


def test_leech_flag_stays_once_set() -> None:
    after = srs.review(review_state(lapses=8, leech=True), 1, NOW, SETTINGS, token=TOKEN)
    assert after.lapses == 9
    assert after.leech
    assert not after.suspended  # 9 is not on the every-4 schedule


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(4, [4, 6, 8, 10]), (5, [5, 7, 9]), (3, [3, 4, 5, 6, 7, 8, 9, 10]), (1, list(range(1, 11)))],
)
def test_leech_schedule_for_other_thresholds(threshold: int, expected: list[int]) -> None:
    settings = replace(SETTINGS, leech_threshold=threshold)
    hits = [
        lapses + 1
        for lapses in range(10)
        if srs.review(review_state(lapses=lapses), 1, NOW, settings, token=TOKEN).suspended
    ]
    assert hits == expected


# --------------------------------------------------------------------------- preview()


def _states_for_preview() -> list[tuple[str, CardState, datetime]]:
    new = new_state()
    learning0 = srs.review(new, 1, NOW, SETTINGS, token=TOKEN)
    learning1 = srs.review(new, 3, NOW, SETTINGS, token=TOKEN)
    review = srs.review(learning1, 3, learning1.due or NOW, SETTINGS, token=TOKEN)
    relearning = srs.review(review, 1, review.due or NOW, SETTINGS, token=TOKEN)
    overdue = review_state()
    return [
        ("new", new, NOW),
        ("learning step 0", learning0, learning0.due or NOW),
        ("learning step 1", learning1, learning1.due or NOW),
        ("review", review, review.due or NOW),
        ("review, overdue", overdue, NOW + timedelta(days=40)),
        ("review, early", overdue, NOW - timedelta(days=2)),
        ("relearning", relearning, relearning.due or NOW),
    ]


@pytest.mark.parametrize(
    ("state", "at"),
    [pytest.param(s, at, id=name) for name, s, at in _states_for_preview()],
)
@pytest.mark.parametrize("retention", [0.7, 0.9, 0.99])
@pytest.mark.parametrize("fuzzing", [False, True])
def test_preview_is_non_decreasing(
    state: CardState, at: datetime, retention: float, fuzzing: bool
) -> None:
    """One fuzz factor per review moves all four intervals the same way: still in order."""
    settings = replace(SETTINGS, desired_retention=retention, enable_fuzzing=fuzzing)
    for token in [TOKEN, *(f"t{n}" for n in range(40 if fuzzing else 0))]:
        p = srs.preview(state, at, settings, token=token)
        assert sorted(p) == [1, 2, 3, 4]
        assert p[1] <= p[2] <= p[3] <= p[4]
        assert all(v > timedelta() for v in p.values())


def test_preview_of_new_card_with_default_steps() -> None:
    p = srs.preview(new_state(), NOW, SETTINGS, token=TOKEN)
    assert p[1] == timedelta(minutes=1)
    assert p[2] == timedelta(minutes=5, seconds=30)
    assert p[3] == timedelta(minutes=10)
    sched = Scheduler(enable_fuzzing=False)
    easy, _ = sched.review_card(Card(card_id=1, due=NOW), Rating.Easy, NOW)
    assert p[4] == easy.due - NOW


def test_preview_matches_review_without_fuzz() -> None:
    state = review_state()
    p = srs.preview(state, NOW, SETTINGS, token=TOKEN)
    for rating in (1, 2, 3, 4):
        after = srs.review(state, rating, NOW, SETTINGS, token=TOKEN)
        assert after.due == NOW + p[rating]


# --------------------------------------------------------------------------- fuzz

FUZZY = replace(SETTINGS, enable_fuzzing=True)


@pytest.mark.parametrize("maximum", [36500, 30, 3])
def test_fuzz_range_is_fsrs_range(monkeypatch: pytest.MonkeyPatch, maximum: int) -> None:
    """Our fuzz keeps fsrs's ranges: the shortest interval fsrs draws is ours, our longest
    is fsrs's stated one (its rounding reaches one day more, half as often), and every
    factor lands inside."""
    sched = Scheduler(maximum_interval=maximum)
    grid = [n / 200 for n in range(200)] + [0.999999]
    days = [*range(0, 130), 200, 365, 1000, 5000, 36500]
    for interval in [timedelta(days=d) for d in days] + [timedelta(days=2, hours=13)]:
        theirs: set[int] = set()
        for factor in grid:
            monkeypatch.setattr(fsrs.scheduler, "random", lambda f=factor: f)
            theirs.add(sched._get_fuzzed_interval(interval=interval).days)
        bounds = srs.fuzz_range(interval.days, maximum)
        ours = {srs.fuzz(interval, f, maximum).days for f in grid}
        if bounds is None:
            assert interval.days < 3 and ours == theirs == {interval.days}
            continue
        low, high = bounds
        assert low == min(theirs), interval
        assert high in (max(theirs), max(theirs) - 1), interval
        assert ours <= set(range(low, high + 1)), interval
        assert min(ours) == low and max(ours) == high, interval


def test_fuzz_factor_is_fixed_by_the_review_and_spread_over_reviews() -> None:
    card = review_state()
    factor = srs.fuzz_factor("t0000001", card)
    assert srs.fuzz_factor("t0000001", replace(card, stability=9.0)) == factor
    assert srs.fuzz_factor("t0000002", card) != factor
    assert srs.fuzz_factor("t0000001", replace(card, card_id="other")) != factor
    assert srs.fuzz_factor("t0000001", replace(card, learner_id=2)) != factor
    factors = [srs.fuzz_factor(f"t{n:07d}", card) for n in range(4000)]
    assert all(0.0 <= f < 1.0 for f in factors)
    for low in (0.0, 0.25, 0.5, 0.75):  # about a quarter in each quarter
        share = sum(low <= f < low + 0.25 for f in factors) / len(factors)
        assert 0.22 < share < 0.28


def test_fuzz_leaves_the_global_random_alone() -> None:
    random.seed(7)
    before = random.getstate()
    state = review_state()
    srs.preview(state, NOW, FUZZY, token=TOKEN)
    srs.review(state, 3, NOW, FUZZY, token=TOKEN)
    assert random.getstate() == before


def test_fuzz_applies_to_review_intervals_only() -> None:
    """Learning steps are not fuzzed; review intervals land anywhere in fsrs's range."""
    new = new_state()
    steps = srs.preview(new, NOW, FUZZY, token=TOKEN)
    assert [steps[r] for r in (1, 2, 3)] == [
        timedelta(minutes=1),
        timedelta(minutes=5, seconds=30),
        timedelta(minutes=10),
    ]
    plain = srs.preview(review_state(), NOW, SETTINGS, token=TOKEN)[3]
    goods = {srs.preview(review_state(), NOW, FUZZY, token=f"t{n}")[3] for n in range(300)}
    delta = timedelta(days=round(plain.days * 0.15) + 1)
    assert len(goods) > 2 and all(abs(g - plain) <= delta for g in goods)


def test_many_fuzzed_ratings_schedule_what_their_preview_showed() -> None:
    """Each rating's interval is the one its button showed at the reveal, fuzz included,
    however long the learner took between the reveal and the rating."""
    rng = random.Random(2026)
    fuzzed = 0
    for learner in range(60):
        state = CardState(learner_id=learner, card_id=f"c{learner % 7}")
        shown_at = NOW
        for n in range(12):
            token = f"t{learner:03d}{n:03d}"
            shown = srs.preview(state, shown_at, FUZZY, token=token)
            rating = rng.choice([1, 2, 3, 3, 3, 4])
            rated_at = shown_at + timedelta(seconds=rng.choice([0, 5, 90, 3600, 20000]))
            after = srs.review(state, rating, rated_at, FUZZY, token=token, shown_at=shown_at)
            assert after.due == rated_at + shown[rating], (learner, n, rating)
            assert after.last_review == rated_at
            unfuzzed = srs.preview(state, shown_at, SETTINGS, token=token)[rating]
            fuzzed += shown[rating] != unfuzzed
            state = replace(after, suspended=False)
            shown_at = after.due + timedelta(hours=rng.choice([-3, 0, 5, 30, 200]))
            shown_at = max(shown_at, rated_at + timedelta(minutes=1))
    assert fuzzed > 100  # the fuzz was on, and moved many of them


@pytest.mark.parametrize("days", [4, 40])
def test_a_review_rated_later_than_shown_keeps_the_shown_interval(days: int) -> None:
    """Retrievability, hence the interval in days, drifts between the reveal and the rating:
    FSRS runs as of the reveal (when the learner recalled), the review counts from the
    rating, and the learner gets what the button said."""
    state = review_state()  # last reviewed at 12:00, five days before NOW
    at = NOW + timedelta(days=days, hours=12)
    shown = srs.preview(state, at, FUZZY, token=TOKEN)
    later = at + timedelta(hours=13)  # one more whole day since the last review: R is lower
    after = srs.review(state, 3, later, FUZZY, token=TOKEN, shown_at=at)
    assert after.due == later + shown[3]
    assert after.last_review == later
    at_reveal = srs.review(state, 3, at, FUZZY, token=TOKEN)
    assert (after.stability, after.difficulty) == (at_reveal.stability, at_reveal.difficulty)
    unshown = srs.review(state, 3, later, FUZZY, token=TOKEN)
    assert unshown.stability != after.stability


def test_fuzz_respects_the_maximum_interval() -> None:
    settings = replace(FUZZY, maximum_interval_days=5)
    state = replace(review_state(), stability=400.0, last_review=NOW - timedelta(days=300))
    for n in range(50):
        p = srs.preview(state, NOW, settings, token=f"t{n}")
        assert max(p.values()) <= timedelta(days=5)


# --------------------------------------------------------------------------- format_interval()


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(seconds=-30), "0s"),
        (timedelta(seconds=1), "1s"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=59), "59s"),
        (timedelta(seconds=60), "1m"),
        (timedelta(minutes=1), "1m"),
        (timedelta(minutes=5, seconds=30), "6m"),
        (timedelta(minutes=10), "10m"),
        (timedelta(minutes=59), "59m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=3), "3h"),
        (timedelta(hours=23), "23h"),
        (timedelta(days=1), "1d"),
        (timedelta(days=4), "4d"),
        (timedelta(days=30), "30d"),
        (timedelta(days=61), "2mo"),
        (timedelta(days=46), "1.5mo"),
        (timedelta(days=365), "1y"),
        (timedelta(days=548), "1.5y"),
        (timedelta(days=3653), "10y"),
    ],
)
def test_format_interval(delta: timedelta, text: str) -> None:
    assert srs.format_interval(delta) == text


@pytest.mark.parametrize(
    ("interval", "text"),
    [
        (timedelta(minutes=1), "in 1m, or sooner if nothing else is due"),
        (timedelta(minutes=10), "in 10m, or sooner if nothing else is due"),
        (timedelta(minutes=30), "in 30m, or sooner if nothing else is due"),
        (timedelta(hours=1), "in 1h, or sooner if nothing else is due"),
        (timedelta(hours=5), "in 5h"),  # 20 minutes early is still "5h"
        (timedelta(days=1), "in 1d"),
        (timedelta(days=8), "in 8d"),
    ],
)
def test_due_in_promises_only_what_learn_ahead_keeps(interval: timedelta, text: str) -> None:
    assert srs.due_in(interval) == text


def test_outlook_of_a_rating() -> None:
    state = review_state(lapses=0)
    good = srs.review(state, 3, NOW, SETTINGS, token=TOKEN)
    assert good.due is not None
    assert srs.outlook(state, good, NOW) == f"see it again in {srs.format_interval(good.due - NOW)}"
    again = srs.review(state, 1, NOW, SETTINGS, token=TOKEN)
    assert srs.outlook(state, again, NOW) == "see it again in 10m, or sooner if nothing else is due"


@pytest.mark.parametrize(
    ("threshold", "lapses", "text"),
    [
        (1, 0, "this card has lapsed 1 time, so it is suspended as a leech"),
        (2, 1, "this card has lapsed 2 times, so it is suspended as a leech"),
        (8, 7, "this card has lapsed 8 times, so it is suspended as a leech"),
    ],
)
def test_outlook_of_a_new_leech_says_suspended_in_english(
    threshold: int, lapses: int, text: str
) -> None:
    settings = replace(SETTINGS, leech_threshold=threshold)
    before = review_state(lapses=lapses)
    after = srs.review(before, 1, NOW, settings, token=TOKEN)
    assert after.suspended
    assert srs.outlook(before, after, NOW) == text


def test_outlook_of_a_suspended_card_rated_anyway() -> None:
    before = replace(review_state(), suspended=True)  # e.g. through a group quiz
    after = srs.review(before, 3, NOW, SETTINGS, token=TOKEN)
    assert srs.outlook(before, after, NOW) == "it stays suspended"


# --------------------------------------------------------------------------- local days


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@pytest.mark.parametrize(
    ("tz", "now", "start", "end"),
    [
        # Europe/Paris springs forward on Sunday 29 March 2026 (02:00 CET -> 03:00 CEST).
        ("Europe/Paris", utc(2026, 3, 29, 12), utc(2026, 3, 28, 23), utc(2026, 3, 29, 22)),
        # ... and falls back on Sunday 25 October 2026 (03:00 CEST -> 02:00 CET).
        ("Europe/Paris", utc(2026, 10, 25, 12), utc(2026, 10, 24, 22), utc(2026, 10, 25, 23)),
        # America/New_York springs forward on Sunday 8 March 2026 (02:00 EST -> 03:00 EDT).
        ("America/New_York", utc(2026, 3, 8, 12), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)),
        # ... and falls back on Sunday 1 November 2026 (02:00 EDT -> 01:00 EST).
        ("America/New_York", utc(2026, 11, 1, 12), utc(2026, 11, 1, 4), utc(2026, 11, 2, 5)),
        # An ordinary day, and UTC itself.
        ("America/New_York", utc(2026, 1, 15, 3), utc(2026, 1, 14, 5), utc(2026, 1, 15, 5)),
        ("UTC", utc(2026, 3, 8, 23, 59), utc(2026, 3, 8), utc(2026, 3, 9)),
    ],
)
def test_day_bounds_across_dst(tz: str, now: datetime, start: datetime, end: datetime) -> None:
    got_start = srs.day_start(now, tz)
    got_end = srs.next_day_start(now, tz)
    assert got_start == start
    assert got_end == end
    for value in (got_start, got_end):
        assert value.tzinfo is UTC
        assert value.tzinfo is timezone.utc  # noqa: UP017 (what fsrs insists on)
    assert got_start <= now < got_end
    # Both are local midnights.
    zone = ZoneInfo(tz)
    assert got_start.astimezone(zone).time().hour == 0
    assert got_end.astimezone(zone).time().hour == 0


def test_dst_days_are_23_and_25_hours_long() -> None:
    spring = utc(2026, 3, 8, 12)
    fall = utc(2026, 11, 1, 12)
    ny = "America/New_York"
    assert srs.next_day_start(spring, ny) - srs.day_start(spring, ny) == timedelta(hours=23)
    assert srs.next_day_start(fall, ny) - srs.day_start(fall, ny) == timedelta(hours=25)
    paris = "Europe/Paris"
    spring_fr = utc(2026, 3, 29, 12)
    fall_fr = utc(2026, 10, 25, 12)
    assert srs.next_day_start(spring_fr, paris) - srs.day_start(spring_fr, paris) == timedelta(
        hours=23
    )
    assert srs.next_day_start(fall_fr, paris) - srs.day_start(fall_fr, paris) == timedelta(hours=25)


def test_day_start_at_exact_local_midnight() -> None:
    midnight_ny = utc(2026, 3, 9, 4)  # 00:00 EDT
    assert srs.day_start(midnight_ny, "America/New_York") == midnight_ny
    assert srs.next_day_start(midnight_ny, "America/New_York") == utc(2026, 3, 10, 4)
    just_before = midnight_ny - timedelta(microseconds=1)
    assert srs.day_start(just_before, "America/New_York") == utc(2026, 3, 8, 5)
    assert srs.next_day_start(just_before, "America/New_York") == midnight_ny


def test_local_date_differs_from_utc_date() -> None:
    late_evening_ny = utc(2026, 3, 3, 2)  # 21:00 EST on 2 March
    assert srs.local_date(late_evening_ny, "America/New_York").isoformat() == "2026-03-02"
    assert srs.local_date(late_evening_ny, "UTC").isoformat() == "2026-03-03"
    assert srs.local_date(late_evening_ny, "Asia/Tokyo").isoformat() == "2026-03-03"
