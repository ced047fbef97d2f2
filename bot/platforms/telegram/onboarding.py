"""The /start walk-through (time zone, reminder time, decks) and its buttons.

Onboarding buttons are the adapter's own (the core's payloads never start with
``o``): ``o<mode>:<step>:<value>`` where mode ``b`` chains to the next step
(onboarding) and ``s`` changes one setting (from /settings). What a learner is
asked to type next is kept in memory per user: a handful of bytes, and a
restart only means they tap the button again.
"""

from __future__ import annotations

import re
import unicodedata
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Final, Literal
from zoneinfo import available_timezones

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.actions import MAX_PAYLOAD_BYTES
from bot.core.decks import Deck

__all__ = [
    "COMMON_ZONES",
    "PUSH_TIMES",
    "Choice",
    "Onboarding",
    "decks_keyboard",
    "parse_choice",
    "parse_push_time",
    "push_keyboard",
    "resolve_zone",
    "timezone_keyboard",
]

Step = Literal["tz", "push", "deck", "go"]

#: Buttons for common zones: (label, IANA name).
COMMON_ZONES: Final = (
    ("UTC", "UTC"),
    ("London", "Europe/London"),
    ("Paris / Berlin", "Europe/Berlin"),
    ("Moscow", "Europe/Moscow"),
    ("New York", "America/New_York"),
    ("Chicago", "America/Chicago"),
    ("Los Angeles", "America/Los_Angeles"),
    ("São Paulo", "America/Sao_Paulo"),
    ("India", "Asia/Kolkata"),
    ("Beijing / Singapore", "Asia/Shanghai"),
    ("Tokyo", "Asia/Tokyo"),
    ("Sydney", "Australia/Sydney"),
)

#: Reminder times offered as buttons (local time).
PUSH_TIMES: Final = ("07:00", "08:00", "09:00", "12:00", "18:00", "20:00", "21:00")

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
    for zone in sorted(available_timezones()):
        full[_fold(zone)] = zone
        if "/" in zone and not zone.startswith("Etc/"):
            last.setdefault(_fold(zone.rsplit("/", 1)[1]), zone)
    return full, last


def resolve_zone(text: str) -> str:
    """Turn what a learner typed into an IANA name when we can.

    "Paris", "são paulo", "new york", "Mumbai" and "europe/berlin" all resolve;
    anything else is returned stripped, for the core to validate (and refuse).
    """
    key = _fold(text)
    if key in CITY_ZONES:
        return CITY_ZONES[key]
    full, last = _zone_index()
    return full.get(key) or last.get(key) or text.strip()


_TIME: Final = re.compile(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|a\.m\.|p\.m\.)?")


def parse_push_time(text: str) -> str:
    """ "9", "9:30", "9.30", "9pm" or "21:00" as "HH:MM" (the core validates the range)."""
    m = _TIME.fullmatch(text.strip().lower())
    if m is None:
        return text.strip()
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    suffix = (m.group(3) or "").replace(".", "")
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    return f"{hour:02d}:{minute:02d}"


@dataclass(frozen=True, slots=True)
class Choice:
    """A decoded onboarding button: chain to the next step, which step, and the value."""

    chain: bool
    step: Step
    value: str


def payload(chain: bool, step: Step, value: str) -> str:
    """Encode an onboarding button (``ob:tz:Europe/Paris``)."""
    return f"o{'b' if chain else 's'}:{step}:{value}"


def parse_choice(data: str) -> Choice | None:
    """Decode an onboarding button; None when ``data`` is not one of ours."""
    m = re.fullmatch(r"o([bs]):(tz|push|deck|go):(.{0,56})", data)
    if m is None:
        return None
    step: Step = m.group(2)  # type: ignore[assignment]
    return Choice(m.group(1) == "b", step, m.group(3))


def _button(label: str, chain: bool, step: Step, value: str) -> InlineKeyboardButton | None:
    data = payload(chain, step, value)
    if len(data.encode()) > MAX_PAYLOAD_BYTES:
        return None
    return InlineKeyboardButton(label, callback_data=data)


def _grid(
    buttons: Sequence[InlineKeyboardButton | None], width: int
) -> list[list[InlineKeyboardButton]]:
    kept = [b for b in buttons if b is not None]
    return [kept[i : i + width] for i in range(0, len(kept), width)]


def timezone_keyboard(chain: bool) -> InlineKeyboardMarkup:
    """Buttons for the common time zones, three a row."""
    return InlineKeyboardMarkup(
        _grid([_button(label, chain, "tz", zone) for label, zone in COMMON_ZONES], 3)
    )


def push_keyboard(chain: bool) -> InlineKeyboardMarkup:
    """Reminder-time buttons, plus "No reminders"."""
    rows = _grid([_button(t, chain, "push", t.replace(":", "")) for t in PUSH_TIMES], 4)
    off = _button("No daily reminders", chain, "push", "off")
    if off is not None:
        rows.append([off])
    return InlineKeyboardMarkup(rows)


def decks_keyboard(decks: Sequence[Deck], chain: bool) -> InlineKeyboardMarkup:
    """One button per deck that has cards, and "All decks"."""
    buttons = [_button(d.title, chain, "deck", d.id) for d in decks if d.cards]
    rows = _grid(buttons, 1)
    everything = _button("All decks", chain, "deck", "*")
    if everything is not None:
        rows.append([everything])
    return InlineKeyboardMarkup(rows)


class Onboarding:
    """What each learner is asked to type next (bounded, in memory).

    Args:
        capacity: how many learners' pending questions to keep (oldest dropped first).
    """

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._waiting: OrderedDict[int, tuple[Step, bool]] = OrderedDict()

    def expect(self, user_id: int, step: Step, chain: bool) -> None:
        """Remember that this user's next plain message answers ``step``."""
        self._waiting.pop(user_id, None)
        self._waiting[user_id] = (step, chain)
        while len(self._waiting) > self.capacity:
            self._waiting.popitem(last=False)

    def waiting(self, user_id: int) -> tuple[Step, bool] | None:
        """The step this user's typed text answers, and whether it chains on."""
        return self._waiting.get(user_id)

    def clear(self, user_id: int) -> None:
        """Forget the pending question (done, or the learner deleted their data)."""
        self._waiting.pop(user_id, None)
