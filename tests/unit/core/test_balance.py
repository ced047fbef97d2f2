"""Tests for bot.core.balance and the load balancing in bot.core.srs: bounds, lighter
days, easy days, one count per preview, and previews that hold when the load changes."""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import srs
from bot.core.balance import BALANCE_HORIZON_DAYS, choose_day, day_weights
from bot.core.model import CardState, CardStateKind, LearnerSettings

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday
FUZZY = LearnerSettings(enable_fuzzing=True)
PLAIN = LearnerSettings(enable_fuzzing=False)
#: Saturday and Sunday off, every other day normal.
WEEKENDS_OFF = (1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0)


def review_state(stability: float, *, card: str = "card", elapsed: float = 0.0) -> CardState:
    """A card in Review due at NOW, last reviewed ``stability`` days (+ ``elapsed``) before."""
    return CardState(
        learner_id=1,
        card_id=card,
        state=CardStateKind.REVIEW,
        stability=stability,
        difficulty=5.0,
        due=NOW,
        last_review=NOW - timedelta(days=stability + elapsed),
        reps=6,
    )


class Counter:
    """A ``due_counts`` over a map of local dates to cards due, in one zone; counts calls."""

    def __init__(self, per_day: dict[date, int], tz: str = "UTC") -> None:
        self.per_day = per_day
        self.zone = ZoneInfo(tz)
        self.calls: list[Sequence[datetime]] = []

    def __call__(self, starts: Sequence[datetime]) -> list[int]:
        self.calls.append(starts)
        assert all(s.tzinfo is UTC for s in starts) and list(starts) == sorted(set(starts))
        days = [s.astimezone(self.zone).date() for s in starts]
        assert all(s.astimezone(self.zone).time().hour == 0 for s in starts)
        assert all((b - a).days == 1 for a, b in itertools.pairwise(days))
        return [self.per_day.get(d, 0) for d in days[:-1]]


def random_counter(rng: random.Random, tz: str = "UTC") -> Counter:
    start = NOW.date()
    return Counter(
        {start + timedelta(days=k): rng.choice([0, 1, 5, 40, 500]) for k in range(400)}, tz
    )


# --------------------------------------------------------------------------- choose_day


def test_choose_day_never_leaves_its_range() -> None:
    """Whatever the loads, shares and factor: a day in [low, high]; one-day ranges stay."""
    rng = random.Random(17)
    for _ in range(20_000):
        low = rng.randint(1, 40_000)
        high = low + rng.choice([0, 0, 1, 2, 5, 30, 400])
        n = high - low + 1
        loads = [rng.choice([0, 1, 3, 1000, 10**9]) for _ in range(rng.randint(0, n + 2))]
        shares = [rng.choice([0.0, 0.0, 0.01, 0.5, 1.0]) for _ in range(rng.choice([0, n, 7]))]
        factor = rng.choice([0.0, 0.999999999, 1 - 2**-53, rng.random()])
        assert low <= choose_day(low, high, factor, loads, shares) <= high


def test_choose_day_prefers_the_lighter_days() -> None:
    factors = [n / 1000 for n in range(1000)]
    picks = [choose_day(10, 12, f, loads=[30, 2, 30]) for f in factors]
    assert picks.count(11) > 900  # the light day takes almost every draw
    flat = [choose_day(10, 12, f) for f in factors]
    assert all(250 < flat.count(d) < 400 for d in (10, 11, 12))  # no load: nearly even
    assert flat.count(10) > flat.count(12)  # the 1/interval term leans to the shorter


def test_a_day_at_zero_percent_is_avoided_when_another_day_exists() -> None:
    for f in (n / 500 for n in range(500)):
        assert choose_day(20, 22, f, loads=[100, 0, 100], shares=[1.0, 0.0, 1.0]) != 21
        assert choose_day(20, 22, f, shares=[0.0, 0.0, 0.5]) == 22
        # every day off: the card still gets a day, as if they were normal days
        assert 20 <= choose_day(20, 22, f, shares=[0.0, 0.0, 0.0]) <= 22


def test_a_half_day_weighs_as_a_normal_day_with_twice_the_load() -> None:
    half, normal = day_weights(10, [3, 7], [0.5, 1.0])
    assert half * 10 == pytest.approx(normal * 11)  # (0.5/4)² = (1/8)²: as a load of 7


# --------------------------------------------------------------------------- srs


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kathmandu"])
def test_balanced_intervals_stay_in_their_fuzz_ranges(tz: str) -> None:
    """Many cards, stabilities and loads: each fuzzed interval lies in the fuzz range of
    the unfuzzed one; under 2.5 days and learning steps are unchanged."""
    rng = random.Random(tz)
    for n in range(400):
        settings = replace(
            FUZZY,
            timezone=tz,
            maximum_interval_days=rng.choice([36500, 36500, 365, 40, 3]),
            easy_days=rng.choice([(), WEEKENDS_OFF, (0.0,) * 7, (0.5, 1, 0, 1, 0.2, 0, 1)]),
        )
        state = review_state(rng.choice([0.3, 1.0, 2.0, 4.0, 9.0, 30.0, 80.0, 400.0, 1e5]))
        at = NOW + timedelta(hours=rng.randint(-2000, 2000))
        counter = random_counter(rng, tz)
        shown = srs.preview(state, at, settings, token=f"t{n}", due_counts=counter)
        plain = srs.preview(state, at, replace(settings, enable_fuzzing=False), token="")
        for rating in (1, 2, 3, 4):
            bounds = srs.fuzz_range(plain[rating].days, settings.maximum_interval_days)
            if rating == 1 or bounds is None:
                assert shown[rating] == plain[rating]
            else:
                assert timedelta(days=bounds[0]) <= shown[rating] <= timedelta(days=bounds[1])
        assert len(counter.calls) <= 1  # one count for the four ratings, none when not needed


def test_the_maximum_interval_is_never_passed() -> None:
    settings = replace(FUZZY, maximum_interval_days=100, easy_days=WEEKENDS_OFF)
    for n in range(300):
        p = srs.preview(review_state(5000.0), NOW, settings, token=f"t{n}")
        assert all(v <= timedelta(days=100) for v in p.values())


def test_the_lightest_day_in_range_gets_most_cards() -> None:
    """A Good of about 10 days: with one day nearly empty around it, most cards go there."""
    state = review_state(9.0)
    plain = srs.preview(state, NOW, PLAIN, token="")[3].days
    bounds = srs.fuzz_range(plain, 36500)
    assert bounds is not None and bounds[1] - bounds[0] >= 2
    light = NOW.date() + timedelta(days=bounds[0] + 1)
    loads = {NOW.date() + timedelta(days=d): 40 for d in range(bounds[0], bounds[1] + 1)}
    loads[light] = 1
    counter = Counter(loads)
    got = [
        (NOW + srs.preview(state, NOW, FUZZY, token=f"t{n}", due_counts=counter)[3]).date()
        for n in range(400)
    ]
    assert got.count(light) > 300


@pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles", "Asia/Tokyo"])
def test_no_card_lands_on_a_zero_percent_day_when_its_range_has_another(tz: str) -> None:
    zone = ZoneInfo(tz)
    settings = replace(FUZZY, timezone=tz, easy_days=WEEKENDS_OFF)
    landed: set[int] = set()
    for n in range(600):
        state = review_state(random.Random(n).choice([3.0, 6.0, 12.0, 40.0, 200.0]))
        at = NOW + timedelta(hours=n % 170)
        shown = srs.preview(state, at, settings, token=f"t{n}", due_counts=Counter({}, tz))
        for rating in (2, 3, 4):
            weekday = (at + shown[rating]).astimezone(zone).weekday()
            landed.add(weekday)
            assert weekday < 5, (n, rating, shown[rating])
    assert landed == {0, 1, 2, 3, 4}


def test_a_range_of_only_days_off_still_gives_a_day() -> None:
    """A 3-day range (Sat, Sun, ...) with every day off: the card is still scheduled in it."""
    settings = replace(FUZZY, easy_days=(0.0,) * 7)
    for n in range(100):
        shown = srs.preview(review_state(4.0), NOW, settings, token=f"t{n}")
        plain = srs.preview(review_state(4.0), NOW, PLAIN, token="")
        bounds = srs.fuzz_range(plain[3].days, 36500)
        assert bounds is not None and bounds[0] <= shown[3].days <= bounds[1]


def test_loads_beyond_the_horizon_are_not_counted() -> None:
    counter = Counter({})
    for stability in (70.0, 3000.0):  # every range starts past the horizon
        srs.preview(review_state(stability), NOW, FUZZY, token="t", due_counts=counter)
    assert counter.calls == []
    for stability in (20.0, 30.0, 40.0):  # Easy, then Good, then Hard past the horizon
        counter.calls.clear()
        srs.preview(review_state(stability), NOW, FUZZY, token="t", due_counts=counter)
        (starts,) = counter.calls
        assert starts[-1] <= NOW + timedelta(days=BALANCE_HORIZON_DAYS + 1)


@pytest.mark.parametrize("tz", ["UTC", "America/New_York"])
def test_balanced_previews_stay_in_order(tz: str) -> None:
    """Hard <= Good <= Easy whatever the loads: every rating sees the same load on the
    same day (days past the horizon too), and the one draw keeps the order."""
    rng = random.Random(99)
    for n in range(800):
        settings = replace(
            FUZZY,
            timezone=tz,
            easy_days=rng.choice([(), WEEKENDS_OFF, (0.5, 1, 0, 1, 0.2, 0, 1)]),
            desired_retention=rng.choice([0.7, 0.8, 0.9, 0.97]),
        )
        state = review_state(rng.choice([2.0, 5.0, 15.0, 40.0, 60.0, 75.0, 90.0, 150.0]))
        at = NOW + timedelta(hours=rng.randint(0, 400))
        p = srs.preview(state, at, settings, token=f"t{n}", due_counts=random_counter(rng, tz))
        assert p[1] <= p[2] <= p[3] <= p[4], (n, p)


def test_the_rating_gives_the_shown_interval_when_the_load_changed_since() -> None:
    """The reveal's intervals, stored, are what the rating gives: a day that filled up
    between the reveal and the rating does not move the card."""
    rng = random.Random(5)
    moved = 0
    for n in range(300):
        state = review_state(rng.choice([4.0, 10.0, 25.0, 60.0]), card=f"c{n}")
        at = NOW + timedelta(hours=rng.randint(0, 300))
        token = f"t{n}"
        before, after = random_counter(rng), random_counter(rng)
        shown = srs.preview(state, at, FUZZY, token=token, due_counts=before)
        stored = srs.from_seconds(srs.to_seconds(shown))
        assert stored == shown
        rated_at = at + timedelta(seconds=rng.choice([3, 600, 40_000]))
        for rating in (1, 2, 3, 4):
            done = srs.review(
                state,
                rating,
                rated_at,
                FUZZY,
                token=token,
                shown_at=at,
                due_counts=after,
                interval=stored[rating],
            )
            assert done.due == rated_at + shown[rating]
            # the same review and loads, without the stored intervals: the same too
            again = srs.review(
                state, rating, rated_at, FUZZY, token=token, shown_at=at, due_counts=before
            )
            assert again == done
            fresh = srs.preview(state, at, FUZZY, token=token, due_counts=after)
            moved += fresh[rating] != shown[rating]
    assert moved > 50  # the new loads would have moved many: the stored ones held them
