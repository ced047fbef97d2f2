"""A learner's settings rules: the bounds of each setting and how typed input is read.

One place for them, used by ``/settings`` on every platform (through
:func:`parse_settings_change`) and by the config file's ``[study]`` defaults
(through the bounds and validators below), so a value one accepts the other
accepts too.

Typed input is normalised before it is validated, the same way everywhere:
a city or a lower-case zone name becomes its IANA name (:func:`resolve_zone`),
"9pm" or "9.30" becomes "HH:MM" (:func:`parse_push_time`), "90%" is a
retention of 0.9, and "sat sun 50%" are easy days (:func:`parse_easy_days`).
The config file takes the canonical forms only.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import time
from functools import cache
from typing import Final, Generic, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.model import LearnerSettings
from bot.text.excerpt import excerpt

__all__ = [
    "CITY_ZONES",
    "DESIRED_RETENTION",
    "EASY_DAY_CHOICES",
    "LEECH_THRESHOLD",
    "MAXIMUM_INTERVAL_DAYS",
    "MAX_CARDS_PER_PUSH",
    "MAX_REVIEWS_PER_DAY",
    "NEW_CARDS_PER_DAY",
    "WEEKDAYS",
    "Bounds",
    "SettingsError",
    "describe_settings",
    "easy_days_text",
    "is_known_zone",
    "names_retention",
    "parse_clock",
    "parse_easy_days",
    "parse_push_time",
    "parse_settings_change",
    "resolve_zone",
]

N = TypeVar("N", int, float)


@dataclass(frozen=True, slots=True)
class Bounds(Generic[N]):
    """An inclusive range for a numeric setting.

    Attributes:
        low: the smallest value allowed.
        high: the largest value allowed, or None for no upper limit.
    """

    low: N
    high: N | None = None

    def __contains__(self, value: float) -> bool:
        # Written so that nan is outside every range.
        return self.low <= value and (self.high is None or value <= self.high)


#: Target probability of recall when a card is due.
DESIRED_RETENTION: Final = Bounds(0.7, 0.99)
#: New cards introduced a day.
NEW_CARDS_PER_DAY: Final = Bounds(0, 500)
#: Reviews shown a day at most.
MAX_REVIEWS_PER_DAY: Final = Bounds(1, 10000)
#: Cards in one pushed session.
MAX_CARDS_PER_PUSH: Final = Bounds(1, 500)
#: Longest interval between reviews, in days.
MAXIMUM_INTERVAL_DAYS: Final = Bounds(1)
#: Lapses after which a card is a leech.
LEECH_THRESHOLD: Final = Bounds(1)

#: Weekday abbreviations, Monday first (index = ``date.weekday()``).
WEEKDAYS: Final = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class SettingsError(ValueError):
    """A settings change that is not valid; its message is shown to the learner."""


# --------------------------------------------------------------------------- validators


@cache
def _known_zones() -> frozenset[str]:
    """IANA zone names (not host-dependent ones such as "localtime")."""
    return frozenset(available_timezones())


def is_known_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone name this host can load (exact spelling)."""
    if name not in _known_zones():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


_CLOCK: Final = re.compile(r"([0-9]{1,2}):([0-9]{2})")


def parse_clock(text: str) -> time | None:
    """Read a time of day written "H:MM" or "HH:MM" (00:00 to 23:59); None if it is not one."""
    m = _CLOCK.fullmatch(text)
    if m is None or int(m.group(1)) > 23 or int(m.group(2)) > 59:
        return None
    return time(int(m.group(1)), int(m.group(2)))


# --------------------------------------------------------------------------- normalisation

#: Typed names that are not the last part of an IANA zone name.
CITY_ZONES: Final = {
    "utc": "UTC",
    "gmt": "UTC",
    "nyc": "America/New_York",
    "new york city": "America/New_York",
    "boston": "America/New_York",
    "washington": "America/New_York",
    "miami": "America/New_York",
    "atlanta": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "la": "America/Los_Angeles",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "austin": "America/Chicago",
    "montreal": "America/Toronto",
    "rio": "America/Sao_Paulo",
    "rio de janeiro": "America/Sao_Paulo",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "chennai": "Asia/Kolkata",
    "india": "Asia/Kolkata",
    "beijing": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "shenzhen": "Asia/Shanghai",
    "japan": "Asia/Tokyo",
    "osaka": "Asia/Tokyo",
    "kyoto": "Asia/Tokyo",
    "korea": "Asia/Seoul",
    "kiev": "Europe/Kyiv",
    "munich": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "zurich": "Europe/Zurich",
    "geneva": "Europe/Zurich",
    "barcelona": "Europe/Madrid",
    "milan": "Europe/Rome",
    "edinburgh": "Europe/London",
    "manchester": "Europe/London",
    "st petersburg": "Europe/Moscow",
    "saint petersburg": "Europe/Moscow",
    "tel aviv": "Asia/Jerusalem",
    "abu dhabi": "Asia/Dubai",
    "hanoi": "Asia/Bangkok",
    "canberra": "Australia/Sydney",
    "wellington": "Pacific/Auckland",
    "new zealand": "Pacific/Auckland",
    "cape town": "Africa/Johannesburg",
}


def _fold(text: str) -> str:
    """Lower case, no accents, single spaces, underscores as spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.replace("_", " ").casefold().split())


@cache
def _zone_index() -> tuple[dict[str, str], dict[str, str]]:
    """(folded full name -> zone, folded last component -> zone) over the tz database."""
    full: dict[str, str] = {}
    last: dict[str, str] = {}
    for zone in sorted(_known_zones()):
        full[_fold(zone)] = zone
        if "/" in zone and not zone.startswith("Etc/"):
            last.setdefault(_fold(zone.rsplit("/", 1)[1]), zone)
    return full, last


def resolve_zone(text: str) -> str:
    """Turn what a learner typed into an IANA name when we can.

    "Paris", "são paulo", "new york", "Mumbai" and "europe/berlin" all resolve;
    anything else is returned stripped, for :func:`is_known_zone` to refuse.
    """
    key = _fold(text)
    if key in CITY_ZONES:
        return CITY_ZONES[key]
    full, last = _zone_index()
    return full.get(key) or last.get(key) or text.strip()


_TYPED_TIME: Final = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?")


def parse_push_time(text: str) -> str:
    """ "9", "9:30", "9.30", "9pm" or "21:00" as "HH:MM" (:func:`parse_clock` checks the range).

    Anything else is returned stripped, for :func:`parse_clock` to refuse.
    """
    m = _TYPED_TIME.fullmatch(text.strip().lower())
    if m is None:
        return text.strip()
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    suffix = (m.group(3) or "").replace(".", "")
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


# --------------------------------------------------------------------------- /settings


def _whole_number(value: str, bounds: Bounds[int]) -> int | None:
    """ASCII digits within ``bounds`` (the length cap keeps ``int()`` cheap), else None."""
    if not re.fullmatch(r"[0-9]{1,9}", value) or int(value) not in bounds:
        return None
    return int(value)


def _set_timezone(settings: LearnerSettings, value: str) -> LearnerSettings:
    zone = resolve_zone(value)
    if not is_known_zone(zone):
        raise SettingsError(
            f"“{excerpt(zone)}” is not a time zone I know. "
            "Use an IANA name such as Europe/Paris or America/New_York."
        )
    return replace(settings, timezone=zone)


def _set_retention(settings: LearnerSettings, value: str) -> LearnerSettings:
    try:
        r = float(value.rstrip("%")) / (100 if value.endswith("%") else 1)
    except ValueError:
        r = -1.0
    if r not in DESIRED_RETENTION:
        b = DESIRED_RETENTION
        raise SettingsError(
            f"Desired retention is a number from {b.low:.2f} to {b.high:.2f} (for example 0.9)."
        )
    return replace(settings, desired_retention=round(r, 4))


def _set_new(settings: LearnerSettings, value: str) -> LearnerSettings:
    n = _whole_number(value, NEW_CARDS_PER_DAY)
    if n is None:
        b = NEW_CARDS_PER_DAY
        raise SettingsError(f"New cards per day is a whole number from {b.low} to {b.high}.")
    return replace(settings, new_cards_per_day=n)


def _set_max_reviews(settings: LearnerSettings, value: str) -> LearnerSettings:
    n = _whole_number(value, MAX_REVIEWS_PER_DAY)
    if n is None:
        b = MAX_REVIEWS_PER_DAY
        raise SettingsError(f"Maximum reviews per day is a whole number from {b.low} to {b.high}.")
    return replace(settings, max_reviews_per_day=n)


def _set_push(settings: LearnerSettings, value: str) -> LearnerSettings:
    """A new reminder time; choosing one also turns paused reminders back on."""
    push = parse_clock(parse_push_time(value))
    if push is None:
        raise SettingsError("The push time is HH:MM in your own time zone, for example 08:30.")
    return replace(settings, push_time=push, paused=False)


def _set_quiet(settings: LearnerSettings, value: str) -> LearnerSettings:
    if value.lower() in ("off", "none", "no"):
        return replace(settings, quiet_start=None, quiet_end=None)
    start_text, dash, end_text = value.partition("-")
    start, end = parse_clock(start_text.strip()), parse_clock(end_text.strip())
    if not dash or start is None or end is None:
        raise SettingsError(
            "Quiet hours are HH:MM-HH:MM in your time zone, for example 22:00-07:00, or off."
        )
    if start == end:
        raise SettingsError("Quiet hours need a different start and end (or say off).")
    return replace(settings, quiet_start=start, quiet_end=end)


def _set_days_off(settings: LearnerSettings, value: str) -> LearnerSettings:
    if value.lower() in ("none", "no", "-"):
        return replace(settings, days_off=())
    days: set[int] = set()
    for part in re.split(r"[,\s]+", value.lower()):
        if part[:3] not in WEEKDAYS:
            raise SettingsError("Days off are weekday names, for example sat,sun (or none).")
        days.add(WEEKDAYS.index(part[:3]))
    if len(days) == len(WEEKDAYS):
        raise SettingsError("Keep at least one day with a push (or use /pause).")
    return replace(settings, days_off=tuple(sorted(days)))


def _set_per_push(settings: LearnerSettings, value: str) -> LearnerSettings:
    n = _whole_number(value, MAX_CARDS_PER_PUSH)
    if n is None:
        b = MAX_CARDS_PER_PUSH
        raise SettingsError(f"Cards per daily session is a whole number from {b.low} to {b.high}.")
    return replace(settings, max_cards_per_push=n)


#: Words that clear the easy days (every day a normal day again).
_EASY_OFF: Final = frozenset({"off", "none", "no", "-", "normal", "clear", "reset"})
#: Words that mean 0 % after a day: the day is avoided when a card's range has another.
_EASY_ZERO: Final = frozenset({"off", "free", "rest", "none", "avoid", "skip"})
_EASY_USAGE: Final = (
    "Easy days are weekdays with the share of a normal day's reviews you want on them, "
    "for example: sat 50%, sun 0% (0% avoids the day when possible), or off."
)


def _easy_share(token: str) -> float | None:
    """ "50%", "50", "0.5", "0", "1" or "100%" as a share in [0, 1]; None if not a number;
    -1 if it is a number out of range.

    Raises:
        SettingsError: for a number that could be either (between 1 and 10 without a
            "%": "1.5") and for a share that rounds to 0 % ("0.4%": it would avoid the day).
    """
    text = token.rstrip("%")
    if not re.fullmatch(r"[0-9]{1,3}(?:[.,][0-9]{1,4})?|[.,][0-9]{1,4}", text):
        return None
    number = float(text.replace(",", "."))
    if not token.endswith("%") and 1 < number < 10:  # 1.5: a share of 1.5, or 1.5 %?
        raise SettingsError(
            f"Is “{excerpt(token)}” a percentage? Write it with %, for example sat {text}% "
            "(sat 50% is half a normal day's reviews, as is sat 0.5)."
        )
    percent = token.endswith("%") or number > 1
    share = number / 100 if percent else number
    if 0 < share <= 1 and round(share, 2) == 0:
        raise SettingsError(
            f"{excerpt(token)} rounds to 0%, which avoids the day altogether: "
            "say sat 0% if that is what you want, or give 1% or more (sat 50% is half a "
            "normal day's reviews)."
        )
    return round(share, 2) if 0 <= share <= 1 else -1.0


_DAY_NAMES: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def _weekday(token: str) -> int | None:
    """The weekday a word names: "sat", "saturday", "thurs" (None for anything else)."""
    if len(token) < 3:
        return None
    for day, name in enumerate(_DAY_NAMES):
        if name.startswith(token):
            return day
    return None


def parse_easy_days(value: str) -> tuple[float, ...]:
    """Easy days as typed: "sat 50%, sun 50%", "sat sun 0.5", "weekend 50%", "sun off",
    "sat=50% sun=0"; "off" (or none) clears them.

    Days named without a share take the next one given ("sat sun 50%": both at 50 %);
    days not named are normal days. Returns the seven shares, Monday first, or ``()``
    when every day is normal.

    Raises:
        SettingsError: with what is wrong, for the learner.
    """
    tokens = [t for t in re.split(r"[\s,;=:]+", value.strip().lower()) if t]
    if tokens[:1] == ["easy"]:  # "easy days sat 50%" typed whole
        tokens = tokens[1:]
    if tokens[:1] in (["days"], ["day"]):  # "/settings easy days sat 50%"
        tokens = tokens[1:]
    if not tokens:
        raise SettingsError(_EASY_USAGE)
    if len(tokens) == 1 and tokens[0] in _EASY_OFF:
        return ()
    shares = [1.0] * len(WEEKDAYS)
    pending: list[int] = []
    for token in tokens:
        if token in ("weekend", "weekends"):
            pending += [5, 6]
            continue
        if token in ("weekday", "weekdays"):
            pending += [0, 1, 2, 3, 4]
            continue
        day = _weekday(token)
        if day is not None:
            pending.append(day)
            continue
        share = 0.0 if token in _EASY_ZERO else _easy_share(token)
        if share is None:
            raise SettingsError(f"“{excerpt(token)}” is not a weekday or a share. {_EASY_USAGE}")
        if share < 0:
            raise SettingsError(
                "An easy day's share is from 0% (avoid the day) to 100% (a normal day), "
                "for example sat 50%."
            )
        if not pending:
            raise SettingsError(f"Which day should be at {excerpt(token)}? {_EASY_USAGE}")
        for day in pending:
            shares[day] = share
        pending = []
    if pending:
        name = WEEKDAYS[pending[0]]
        raise SettingsError(f"How light should {name} be? For example {name} 50% (0% avoids it).")
    if not any(shares):
        raise SettingsError("Keep at least one day above 0%, or use /pause for a break.")
    return () if all(x == 1.0 for x in shares) else tuple(shares)


#: Easy days offered as choices (settings menu buttons, Discord's menu): (label, value).
EASY_DAY_CHOICES: Final = (
    ("No easy days", "off"),
    ("Weekend at 50%", "sat 50% sun 50%"),
    ("Weekend off", "sat 0% sun 0%"),
    ("Sunday off", "sun 0%"),
    ("Saturday off", "sat 0%"),
    ("Friday and weekend at 50%", "fri 50% sat 50% sun 50%"),
)


def _set_easy_days(settings: LearnerSettings, value: str) -> LearnerSettings:
    return replace(settings, easy_days=parse_easy_days(value))


def easy_days_text(easy_days: Sequence[float]) -> str:
    """ "sat 50%, sun 0%", or "none" when every day is a normal day."""
    if len(easy_days) != len(WEEKDAYS):
        return "none"
    parts = [f"{WEEKDAYS[d]} {round(x * 100)}%" for d, x in enumerate(easy_days) if x != 1.0]
    return ", ".join(parts) or "none"


_Rule = Callable[[LearnerSettings, str], LearnerSettings]

#: Each key a learner may set (the name shown first), its other spellings, and its rule.
_KEYS: Final[tuple[tuple[str, tuple[str, ...], _Rule], ...]] = (
    ("timezone", ("tz",), _set_timezone),
    ("retention", ("desired_retention",), _set_retention),
    ("new", ("new_per_day", "new_cards_per_day"), _set_new),
    ("max_reviews", ("max_reviews_per_day",), _set_max_reviews),
    ("push", ("push_time",), _set_push),
    ("quiet", ("quiet_hours",), _set_quiet),
    ("days_off", ("daysoff", "off"), _set_days_off),
    ("per_push", ("max_cards_per_push", "session"), _set_per_push),
    ("easy_days", ("easy", "easydays", "easy_day"), _set_easy_days),
)
_RULES: Final = {name: rule for key, aliases, rule in _KEYS for name in (key, *aliases)}


def names_retention(key: str) -> bool:
    """Whether a typed settings key is the desired retention's (``/settings retention``
    alone shows what each retention costs)."""
    return _RULES.get(key.lower().replace("-", "_")) is _set_retention


def parse_settings_change(settings: LearnerSettings, key: str, value: str) -> LearnerSettings:
    """Apply one ``key value`` change from a learner, normalising and validating it.

    Keys are case-insensitive and ``-`` counts as ``_``. Values may be typed
    loosely: "Paris" for a time zone, "9pm" for the push time, "90%" for the
    retention.

    Returns:
        The settings with that one change.

    Raises:
        SettingsError: with a message for the learner (an unknown key lists the known ones).
    """
    key = key.lower().replace("-", "_")
    rule = _RULES.get(key)
    if rule is None:
        raise SettingsError(
            f"Unknown setting “{excerpt(key)}”. You can set: {', '.join(k for k, _, _ in _KEYS)}."
        )
    return rule(settings, value.strip())


def describe_settings(settings: LearnerSettings, topics: Sequence[str]) -> str:
    """The learner's settings as a short text, one ``key: value`` line each."""
    return "\n".join(
        [
            f"timezone: {settings.timezone}",
            f"push: {settings.push_time.strftime('%H:%M')} (daily reminder, your local time)",
            f"retention: {settings.desired_retention:.2f} (desired probability of recall)",
            f"new: {settings.new_cards_per_day} new cards a day",
            f"max_reviews: {settings.max_reviews_per_day} reviews a day",
            f"quiet: {_quiet_text(settings)}",
            f"days_off: {', '.join(WEEKDAYS[d] for d in settings.days_off) or 'none'}",
            f"per_push: {settings.max_cards_per_push} cards in a daily session",
            f"easy_days: {_easy_line(settings.easy_days)}",
            f"reminders: {'paused (send /resume)' if settings.paused else 'on'}",
            f"decks: {', '.join(topics) if topics else 'all decks'}",
        ]
    )


def _easy_line(easy_days: Sequence[float]) -> str:
    text = easy_days_text(easy_days)
    if text == "none":
        return "none (every day gets a normal share of reviews)"
    return f"{text} (of a normal day's reviews)"


def _quiet_text(settings: LearnerSettings) -> str:
    if settings.quiet_start is None or settings.quiet_end is None:
        return "off"
    return f"{settings.quiet_start.strftime('%H:%M')}-{settings.quiet_end.strftime('%H:%M')}"
