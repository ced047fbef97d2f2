"""Tests for bot.core.settings: each learner setting's bounds, normalisation and messages."""

from __future__ import annotations

from dataclasses import replace
from datetime import time

import pytest

from bot.core.model import LearnerSettings
from bot.core.settings import (
    DESIRED_RETENTION,
    LEECH_THRESHOLD,
    NEW_CARDS_PER_DAY,
    Bounds,
    SettingsError,
    describe_settings,
    is_known_zone,
    parse_clock,
    parse_push_time,
    parse_settings_change,
    resolve_zone,
)

BASE = LearnerSettings()


def change(key: str, value: str, settings: LearnerSettings = BASE) -> LearnerSettings:
    return parse_settings_change(settings, key, value)


def refusal(key: str, value: str) -> str:
    with pytest.raises(SettingsError) as info:
        change(key, value)
    return str(info.value)


# --------------------------------------------------------------------------- bounds


def test_bounds_are_inclusive_and_refuse_nan() -> None:
    assert 0.7 in DESIRED_RETENTION and 0.99 in DESIRED_RETENTION
    assert 0.69 not in DESIRED_RETENTION and 0.995 not in DESIRED_RETENTION
    assert float("nan") not in DESIRED_RETENTION
    assert 0 in NEW_CARDS_PER_DAY and 500 in NEW_CARDS_PER_DAY and 501 not in NEW_CARDS_PER_DAY
    assert 10**9 in LEECH_THRESHOLD and 0 not in LEECH_THRESHOLD  # no upper limit
    assert Bounds(1, 2) == Bounds(1, 2)


# --------------------------------------------------------------------------- time zone


def test_timezone_is_validated() -> None:
    assert change("timezone", "Europe/Paris").timezone == "Europe/Paris"
    for bad in ("Nowhere/Bad", "", "../etc/passwd", "Atlantis"):
        assert "time zone" in refusal("timezone", bad), bad
    assert refusal("timezone", " Nowhere/Bad ") == (
        "“Nowhere/Bad” is not a time zone I know. "
        "Use an IANA name such as Europe/Paris or America/New_York."
    )


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Paris", "Europe/Paris"),
        ("paris", "Europe/Paris"),
        ("europe/paris", "Europe/Paris"),
        ("são paulo", "America/Sao_Paulo"),
        ("new york", "America/New_York"),
        ("Mumbai", "Asia/Kolkata"),
        ("buenos_aires", "America/Argentina/Buenos_Aires"),
        ("UTC", "UTC"),
    ],
)
def test_timezone_accepts_cities_and_any_case(typed: str, zone: str) -> None:
    assert change("timezone", typed).timezone == zone
    assert change("tz", typed).timezone == zone


def test_resolve_zone() -> None:
    assert resolve_zone("paris") == "Europe/Paris"
    assert resolve_zone("São Paulo") == "America/Sao_Paulo"
    assert resolve_zone("new york") == "America/New_York"
    assert resolve_zone("Mumbai") == "Asia/Kolkata"
    assert resolve_zone("europe/berlin") == "Europe/Berlin"
    assert resolve_zone("Atlantis") == "Atlantis"
    assert resolve_zone("  Atlantis ") == "Atlantis"


def test_is_known_zone_wants_the_exact_iana_name() -> None:
    assert is_known_zone("Europe/Paris")
    assert not is_known_zone("europe/paris")
    assert not is_known_zone("Paris")
    assert not is_known_zone("../etc/passwd")
    assert not is_known_zone("")


# --------------------------------------------------------------------------- retention


@pytest.mark.parametrize(
    ("value", "expected"),
    [("0.7", 0.7), ("0.99", 0.99), ("0.85", 0.85), ("90%", 0.9), (" 0.8 ", 0.8), ("85.5%", 0.855)],
)
def test_retention_accepts_0_7_to_0_99(value: str, expected: float) -> None:
    assert change("retention", value).desired_retention == pytest.approx(expected)
    assert change("desired_retention", value).desired_retention == pytest.approx(expected)


@pytest.mark.parametrize("value", ["0.69", "1", "1.0", "0.995", "abc", "", "nan", "-0.8", "99"])
def test_retention_rejects_out_of_range(value: str) -> None:
    assert refusal("retention", value) == (
        "Desired retention is a number from 0.70 to 0.99 (for example 0.9)."
    )


# --------------------------------------------------------------------------- daily limits


@pytest.mark.parametrize(("value", "expected"), [("0", 0), ("5", 5), ("500", 500)])
def test_new_per_day_accepts_whole_numbers(value: str, expected: int) -> None:
    for key in ("new", "new_per_day", "new_cards_per_day"):
        assert change(key, value).new_cards_per_day == expected


@pytest.mark.parametrize("value", ["501", "-1", "five", "2.5", "", "²", "1²", "+5", "1_0"])
def test_new_per_day_rejects_bad_values(value: str) -> None:
    assert refusal("new", value) == "New cards per day is a whole number from 0 to 500."


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("200", 200), ("10000", 10000)])
def test_max_reviews_accepts_whole_numbers(value: str, expected: int) -> None:
    for key in ("max_reviews", "max_reviews_per_day", "Max-Reviews"):
        assert change(key, value).max_reviews_per_day == expected


@pytest.mark.parametrize("value", ["0", "10001", "x", "²", "9" * 50])
def test_max_reviews_rejects_bad_values(value: str) -> None:
    assert refusal("max_reviews", value) == (
        "Maximum reviews per day is a whole number from 1 to 10000."
    )


@pytest.mark.parametrize(("value", "expected"), [("1", 1), ("5", 5), ("500", 500)])
def test_per_push_accepts_whole_numbers(value: str, expected: int) -> None:
    for key in ("per_push", "max_cards_per_push", "session"):
        assert change(key, value).max_cards_per_push == expected


@pytest.mark.parametrize("value", ["0", "501", "five", "-1"])
def test_per_push_rejects_bad_values(value: str) -> None:
    assert refusal("per_push", value) == "Cards per daily session is a whole number from 1 to 500."


# --------------------------------------------------------------------------- push time


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("23:30", time(23, 30)),
        ("08:30", time(8, 30)),
        ("7:30", time(7, 30)),
        ("9", time(9)),
        ("9pm", time(21)),
        ("9 PM", time(21)),
        ("9.30", time(9, 30)),
        ("9h30", time(9, 30)),
        ("12am", time(0)),
        ("12pm", time(12)),
        ("7 a.m.", time(7)),
    ],
)
def test_push_time_accepts_typed_times(typed: str, expected: time) -> None:
    assert change("push", typed).push_time == expected
    assert change("push_time", typed).push_time == expected


@pytest.mark.parametrize("typed", ["24:00", "12:60", "noonish", "", "9:5", "9:30:00", "25pm"])
def test_push_time_rejects_other_text(typed: str) -> None:
    assert refusal("push", typed) == (
        "The push time is HH:MM in your own time zone, for example 08:30."
    )


def test_parse_push_time() -> None:
    assert parse_push_time("7:30") == "07:30"
    assert parse_push_time("9pm") == "21:00"
    assert parse_push_time("12am") == "00:00"
    assert parse_push_time("noonish") == "noonish"
    assert parse_push_time(" 21:00 ") == "21:00"


def test_parse_clock() -> None:
    assert parse_clock("0:05") == time(0, 5)
    assert parse_clock("23:59") == time(23, 59)
    for text in ("24:00", "12:60", "9pm", "9", "09:00:00", " 09:00", "٠٩:٠٠"):
        assert parse_clock(text) is None, text


# ------------------------------------------------------------------- quiet hours, days off


def test_quiet_hours_and_days_off() -> None:
    quiet = change("quiet", "22:00-07:00")
    assert (quiet.quiet_start, quiet.quiet_end) == (time(22), time(7))
    assert change("quiet_hours", "22:00 - 7:30").quiet_end == time(7, 30)
    assert change("quiet", "off", quiet).quiet_start is None
    assert change("quiet", "None", quiet).quiet_end is None
    assert change("days_off", "sat,sun").days_off == (5, 6)
    assert change("daysoff", "Sunday saturday").days_off == (5, 6)
    assert change("off", "fri, sat,sun").days_off == (4, 5, 6)
    assert change("days_off", "none", change("days_off", "sat")).days_off == ()


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("quiet", "22-07", "Quiet hours are HH:MM-HH:MM"),
        ("quiet", "25:00-07:00", "Quiet hours are HH:MM-HH:MM"),
        ("quiet", "22:00-07:60", "Quiet hours are HH:MM-HH:MM"),
        ("quiet", "22:00", "Quiet hours are HH:MM-HH:MM"),
        ("quiet", "22:00-07:00-08:00", "Quiet hours are HH:MM-HH:MM"),
        ("quiet", "22:00-22:00", "different start and end"),
        ("days_off", "funday", "Days off are weekday names"),
        ("days_off", "sat,,", "Days off are weekday names"),
        ("days_off", "mon,tue,wed,thu,fri,sat,sun", "at least one day"),
    ],
)
def test_bad_push_settings_are_refused(key: str, value: str, message: str) -> None:
    assert message in refusal(key, value)


# --------------------------------------------------------------------------- keys and text


def test_unknown_setting_lists_the_known_ones() -> None:
    assert refusal("colour", "blue") == (
        "Unknown setting “colour”. You can set: timezone, retention, new, max_reviews, push, "
        "quiet, days_off, per_push, easy_days."
    )


def test_a_change_returns_new_settings_and_keeps_the_rest() -> None:
    before = replace(BASE, timezone="Asia/Tokyo", paused=True)
    after = change("NEW", "3", before)
    assert after == replace(before, new_cards_per_day=3)
    assert before.new_cards_per_day == 10


def test_describe_settings() -> None:
    settings = replace(
        BASE,
        quiet_start=time(22),
        quiet_end=time(7),
        days_off=(5, 6),
        desired_retention=0.85,
        easy_days=(1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.0),
    )
    assert describe_settings(settings, ["attention"]) == "\n".join(
        [
            "timezone: UTC",
            "push: 09:00 (daily reminder, your local time)",
            "retention: 0.85 (desired probability of recall)",
            "new: 10 new cards a day",
            "max_reviews: 200 reviews a day",
            "quiet: 22:00-07:00",
            "days_off: sat, sun",
            "per_push: 20 cards in a daily session",
            "easy_days: sat 50%, sun 0% (of a normal day's reviews)",
            "reminders: on",
            "decks: attention",
        ]
    )
    text = describe_settings(replace(BASE, paused=True), [])
    assert "quiet: off" in text and "days_off: none" in text
    assert "easy_days: none (every day gets a normal share of reviews)" in text
    assert "reminders: paused (send /resume)" in text and "decks: all decks" in text


# --------------------------------------------------------------------------- easy days

WEEKEND_HALF = (1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.5)


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("easy_days", "sat 50%, sun 50%", WEEKEND_HALF),
        ("easy", "days sat sun 0.5", WEEKEND_HALF),  # "/settings easy days sat sun 0.5"
        ("easy-days", "Sat Sun 50", WEEKEND_HALF),
        ("easy_days", "weekend 50%", WEEKEND_HALF),
        ("easy_days", "saturday=50% sunday=50%", WEEKEND_HALF),
        ("easy_days", "sun 0%", (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0)),
        ("easy_days", "sun off", (1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0)),
        ("easy_days", "mon 80% thurs 0.25 sun 0", (0.8, 1.0, 1.0, 0.25, 1.0, 1.0, 0.0)),
        ("easy_days", "fri 33.3%", (1.0, 1.0, 1.0, 1.0, 0.33, 1.0, 1.0)),
        ("easy_days", "mon 100%", ()),  # every day normal: stored as none
        ("easy_days", "off", ()),
        ("easy_days", "none", ()),
    ],
)
def test_easy_days_are_read_from_friendly_input(
    key: str, value: str, expected: tuple[float, ...]
) -> None:
    before = replace(BASE, easy_days=(0.5,) * 7)
    assert change(key, value, before) == replace(before, easy_days=expected)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("sat", "How light should sat be? For example sat 50% (0% avoids it)."),
        ("50%", "Which day should be at 50%?"),
        ("sat 150%", "An easy day's share is from 0% (avoid the day) to 100% (a normal day)"),
        ("funday 50%", "“funday” is not a weekday or a share."),
        ("weekdays weekend 0", "Keep at least one day above 0%, or use /pause for a break."),
        ("", "Easy days are weekdays with the share of a normal day's reviews"),
        ("sat 1.5", "Is “1.5” a percentage? Write it with %, for example sat 1.5%"),
        ("sat 0.4%", "0.4% rounds to 0%, which avoids the day altogether: say sat 0%"),
    ],
)
def test_bad_easy_days_say_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        change("easy_days", value)
    assert str(caught.value).startswith(message)
    assert (
        "sat 50%, sun 0%" in str(caught.value)
        or "sat 50%" in str(caught.value)
        or ("/pause" in str(caught.value))
    )
