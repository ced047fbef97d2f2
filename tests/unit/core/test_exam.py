"""Tests for bot.core.exam: the exam rule, on a simulated learner with a fixed clock."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fsrs import Scheduler

from bot.core import exam, srs
from bot.core.model import CardInfo, CardState, CardStateKind, LearnerSettings

TZ = "Europe/Paris"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
EXAM_DAY = date(2027, 1, 20)
EXAM_AT = datetime(2027, 1, 19, 23, 0, tzinfo=UTC)  # midnight in Paris (UTC+1 in winter)
#: Fixed FSRS parameters: fsrs 6's defaults, written out so a new fsrs cannot move them.
PARAMS = (
    0.212, 1.2931, 2.3065, 8.2956, 6.4133, 0.8334, 3.0194, 0.001, 1.8722, 0.1666, 0.796,
    1.4835, 0.0614, 0.2629, 1.6483, 0.6014, 1.8729, 0.5425, 0.0912, 0.0658, 0.1542,
)  # fmt: skip


def settings(target: float = 0.95, *, on: bool = True, retention: float = 0.9) -> LearnerSettings:
    return LearnerSettings(
        timezone=TZ,
        desired_retention=retention,
        fsrs_parameters=PARAMS,
        exam_date=EXAM_DAY if on else None,
        exam_topic="calc" if on else None,
        exam_target=target,
    )


def card(card_id: str) -> CardInfo:
    deck = card_id.split("-")[0]
    return CardInfo(card_id, deck, deck.title(), card_id, "front", "back", tags=("maths",))


#: Twelve cards of the topic, eight outside it; each is first studied on a different day.
CARDS = [card(f"calc-{i}") for i in range(12)] + [card(f"bio-{i}") for i in range(8)]


def ratings_for(card_id: str, n: int) -> int:
    """The learner's first ratings: a few Again and Hard, to make weak memories too."""
    if n == 0:
        return 3
    return (1, 2, 3, 3, 3, 3)[(sum(map(ord, card_id)) + n) % 6] if n < 3 else 3


def simulate(
    s: LearnerSettings, until: datetime, *, topic_only: bool = False
) -> dict[str, CardState]:
    """Every card studied from its own start day, each review made when the card is due.

    Ratings are Good once a card is past its first three reviews (ratings_for before
    that). With ``topic_only``, only the exam's cards are studied after their start.
    """
    states: dict[str, CardState] = {}
    for i, c in enumerate(CARDS):
        states[c.id] = replace(
            CardState(learner_id=1, card_id=c.id), due=START + timedelta(days=i * 2, hours=i)
        )
    counts = dict.fromkeys(states, 0)
    while True:
        ready = [
            (st.due, cid)
            for cid, st in states.items()
            if st.due is not None and st.due < until and (not topic_only or cid.startswith("calc"))
        ]
        if not ready:
            return states
        at, cid = min(ready)
        assert at is not None
        info = next(c for c in CARDS if c.id == cid)
        in_exam = exam.covers(s, (), info)
        rating = ratings_for(cid, counts[cid])
        states[cid] = srs.review(
            states[cid], rating, at, s, token=f"t{counts[cid]:07d}", in_exam=in_exam
        )
        counts[cid] += 1


def scheduler(s: LearnerSettings) -> Scheduler:
    return srs.scheduler_for(s)


@pytest.mark.parametrize("target", [0.9, 0.95, 0.97])
def test_every_card_of_the_topic_meets_the_target_on_the_day(target: float) -> None:
    s = settings(target)
    states = simulate(s, EXAM_AT)
    sch = scheduler(s)
    for c in CARDS:
        if c.deck_id != "calc":
            continue
        r = exam.recall_at(states[c.id], EXAM_AT, sch)
        assert r >= target, (c.id, r, states[c.id])


def test_without_the_rule_some_cards_would_fall_below_the_target() -> None:
    # The check above can fail: the same learner without an exam misses the target.
    off = settings(0.95, on=False)
    states = simulate(off, EXAM_AT)
    sch = scheduler(off)
    below = [
        c.id
        for c in CARDS
        if c.deck_id == "calc" and exam.recall_at(states[c.id], EXAM_AT, sch) < 0.95
    ]
    assert len(below) >= 3


def test_cards_outside_the_topic_keep_their_schedule() -> None:
    with_exam = simulate(settings(0.95), EXAM_AT + timedelta(days=60))
    without = simulate(settings(0.95, on=False), EXAM_AT + timedelta(days=60))
    for c in CARDS:
        if c.deck_id == "bio":
            assert with_exam[c.id] == without[c.id]
    assert any(with_exam[c.id] != without[c.id] for c in CARDS if c.deck_id == "calc")


def test_after_the_date_scheduling_is_normal() -> None:
    on, off = settings(0.95), settings(0.95, on=False)
    states = simulate(on, EXAM_AT)
    after = EXAM_AT + timedelta(hours=10)
    for c in CARDS:
        st = replace(states[c.id], due=after)
        for rating in (1, 2, 3, 4):
            assert srs.preview(st, after, on, token="t9", in_exam=True) == srs.preview(
                st, after, off, token="t9"
            )
            assert srs.review(st, rating, after, on, token="t9", in_exam=True) == srs.review(
                st, rating, after, off, token="t9"
            )


def test_the_cap_only_shortens_and_preview_is_what_review_gives() -> None:
    s = settings(0.97)
    st = CardState(
        learner_id=1,
        card_id="calc-1",
        state=CardStateKind.REVIEW,
        stability=12.0,
        difficulty=5.0,
        due=datetime(2027, 1, 5, 9, tzinfo=UTC),
        last_review=datetime(2026, 12, 24, 9, tzinfo=UTC),
        reps=4,
    )
    at = datetime(2027, 1, 5, 9, tzinfo=UTC)
    normal = srs.preview(st, at, s, token="tok00001")
    capped = srs.preview(st, at, s, token="tok00001", in_exam=True)
    assert all(capped[r] <= normal[r] for r in normal)
    # Good would take it past the exam; it comes back at the start of one of the days
    # before it.
    assert normal[3] > EXAM_AT - at
    last = exam.review_days(EXAM_DAY, TZ)[0]
    assert at + capped[3] in {last - timedelta(days=k) for k in range(exam.SPREAD_DAYS)}
    for r in (1, 2, 3, 4):
        assert srs.review(st, r, at, s, token="tok00001", in_exam=True).due == at + capped[r]


def test_exam_due_is_none_when_the_card_holds_or_the_exam_has_passed() -> None:
    sch = scheduler(settings())
    last = exam.review_days(EXAM_DAY, TZ)[0]
    days = exam.review_days(EXAM_DAY, TZ)
    at = EXAM_AT - timedelta(days=10)
    assert exam.exam_due(300.0, 5.0, at, EXAM_AT, days, 0.95, sch) is None
    assert exam.exam_due(1.0, 5.0, EXAM_AT, EXAM_AT, days, 0.95, sch) is None
    assert exam.exam_due(5.0, 5.0, at, EXAM_AT, days, 0.95, sch) == last
    # Rated on the last day, a card that would not hold comes back that day, when its
    # recall falls to the target.
    on_the_day = last + timedelta(hours=10)
    weak = exam.exam_due(0.5, 9.0, on_the_day, EXAM_AT, days, 0.95, sch)
    assert weak is not None and on_the_day < weak < EXAM_AT
    assert exam.recall(weak - on_the_day, 0.5, sch) == pytest.approx(0.95, abs=1e-6)


def test_the_exam_is_at_the_start_of_its_local_day() -> None:
    assert exam.exam_instant(EXAM_DAY, TZ) == EXAM_AT
    assert exam.review_days(EXAM_DAY, TZ)[0] == EXAM_AT - timedelta(days=1)


def test_covers() -> None:
    s = settings()
    assert exam.covers(s, (), card("calc-1"))
    assert not exam.covers(s, (), card("bio-1"))
    by_tag = replace(s, exam_topic="maths")
    assert exam.covers(by_tag, (), card("bio-1"))
    everything = replace(s, exam_topic=None)
    assert exam.covers(everything, (), card("bio-1"))
    assert not exam.covers(everything, ("calc",), card("bio-1"))
    assert not exam.covers(replace(s, exam_date=None), (), card("calc-1"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("feb 29", date(2028, 2, 29)),  # no year: the next one that has it
        ("2027-01-15", date(2027, 1, 15)),
        ("15 Jan 2027", date(2027, 1, 15)),
        ("January 15, 2027", date(2027, 1, 15)),
        ("jan 15", date(2027, 1, 15)),
        ("15th march", date(2027, 3, 15)),
        ("tomorrow", date(2026, 12, 7)),
        ("in 3 weeks", date(2026, 12, 27)),
        ("in 10 days", date(2026, 12, 16)),
    ],
)
def test_dates_in_friendly_forms(text: str, expected: date) -> None:
    assert exam.parse_date(text, date(2026, 12, 6)) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("2026-12-01", "has passed"),
        ("today", "couldn't read"),
        ("2026-12-06", "That's today"),
        ("2027-02-30", "There is no 30 Feb 2027: give a date that exists."),
        ("29 feb 2027", "There is no 29 Feb 2027"),
        ("31 april", "There is no 31 Apr: give a date that exists."),
        ("2027-13-01", "There is no month 13"),
        ("15/01/2027", "couldn't read"),
        ("soon", "couldn't read"),
    ],
)
def test_bad_dates_are_explained(text: str, says: str) -> None:
    with pytest.raises(exam.ExamInputError, match=says):
        exam.parse_date(text, date(2026, 12, 6))


def test_targets() -> None:
    assert exam.parse_target("0.85") == 0.85
    assert exam.parse_target("85%") == 0.85
    assert exam.parse_target("85") == 0.85
    for bad in ("0.5", "1", "100%", "x", ""):
        with pytest.raises(exam.ExamInputError, match="from 70% to 99%"):
            exam.parse_target(bad)


def test_the_last_reviews_are_spread_over_the_last_week_on_days_that_hold() -> None:
    """The fuzz factor picks one of the last days before the exam on which a Good review
    holds: the topic's cards are not all due the day before it."""
    s = settings(0.95)
    sch = scheduler(s)
    last = exam.review_days(EXAM_DAY, TZ)[0]
    days = exam.review_days(EXAM_DAY, TZ)
    at = EXAM_AT - timedelta(days=20)
    picked = {
        exam.exam_due(5.0, 5.0, at, EXAM_AT, days, 0.95, sch, factor=k / 20) for k in range(20)
    }
    assert len(picked) == exam.SPREAD_DAYS
    for day in picked:
        assert day is not None and last - timedelta(days=exam.SPREAD_DAYS) < day <= last
        good = srs.review(
            CardState(1, "c", CardStateKind.REVIEW, None, 5.0, 5.0, day, at, 3),
            3,
            day,
            s,
            token="t",
        )
        assert exam.recall_at(good, EXAM_AT, sch) >= 0.95
    # Too close to the exam for a week: only the days after the review are picked.
    near = EXAM_AT - timedelta(days=3, hours=12)
    chosen = {
        exam.exam_due(5.0, 5.0, near, EXAM_AT, days, 0.95, sch, factor=k / 20) for k in range(20)
    }
    assert last in chosen and len(chosen) >= 2
    assert all(d is not None and near < d <= last for d in chosen)


def test_the_review_days_are_local_midnights_across_a_clock_change() -> None:
    """Paris springs forward on 28 March 2027: each of the last days still starts at a
    local midnight, so none falls on the evening before."""
    days = exam.review_days(date(2027, 3, 31), TZ)
    assert len(days) == exam.SPREAD_DAYS
    zone = ZoneInfo(TZ)
    assert [d.astimezone(zone).time() for d in days] == [time(0)] * exam.SPREAD_DAYS
    assert [d.astimezone(zone).date() for d in days] == [
        date(2027, 3, 30) - timedelta(days=k) for k in range(exam.SPREAD_DAYS)
    ]


def test_with_an_exam_the_buttons_stay_in_order_and_a_late_rating_keeps_the_cap() -> None:
    """Hard <= Good <= Easy with the exam's spread, over many cards and reviews; a rating
    made long after the reveal is still due by the instant the reveal showed."""
    s = settings(0.97)
    rng = random.Random(7)
    for n in range(400):
        st = CardState(
            1,
            "calc-1",
            CardStateKind.REVIEW,
            None,
            rng.uniform(1, 60),
            rng.uniform(1, 10),
            None,
            EXAM_AT - timedelta(days=rng.uniform(20, 80)),
            5,
        )
        at = EXAM_AT - timedelta(days=rng.uniform(1.5, 19))
        shown = srs.preview(st, at, s, token=f"t{n}", in_exam=True)
        assert shown[2] <= shown[3] <= shown[4], (n, shown)
        late = srs.review(
            st, 3, at + timedelta(hours=36), s, token=f"t{n}", shown_at=at, in_exam=True
        )
        assert late.due == at + shown[3]
