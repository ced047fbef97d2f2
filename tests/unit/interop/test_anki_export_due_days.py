"""A review card is due in Anki on the learner's local day it is due on here, Anki's day
starting at 4 am: checked by importing the package with ``anki`` on a "learner's
computer" (a process in the learner's time zone) and reading each card's due against
``col.sched.today``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.interop import AnkiExport, anki_day
from bot.core.model import CardInfo, CardState, CardStateKind
from bot.interop.anki_export import build_full

#: Run on the learner's computer: import the package into a new collection and print each
#: card's due minus Anki's today, by our card id.
LEARNERS_ANKI = """
import json, sys, tempfile
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
col = Collection(tempfile.mkdtemp() + "/collection.anki2")
col.import_anki_package(ImportAnkiPackageRequest(
    package_path=sys.argv[1], options=ImportAnkiPackageOptions(with_scheduling=True)))
today = col.sched.today
print(json.dumps({
    col.get_note(col.get_card(cid).nid)["StudybotId"]: col.get_card(cid).due - today
    for cid in col.find_cards("")
}))
col.close()
"""


def card(card_id: str) -> CardInfo:
    return CardInfo(card_id, "deck", "Deck", card_id, f"Front of {card_id}", f"Back of {card_id}")


def review(card_id: str, due: datetime, now: datetime) -> CardState:
    return CardState(
        learner_id=1,
        card_id=card_id,
        state=CardStateKind.REVIEW,
        step=None,
        stability=12.0,
        difficulty=5.0,
        due=due,
        last_review=now - timedelta(days=3),
        reps=3,
        lapses=0,
    )


def local(zone: ZoneInfo, day: date, hour: int, minute: int) -> datetime:
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def in_anki(package: bytes, zone: str, tmp_path: Path) -> dict[str, int]:
    path = tmp_path / f"{zone.replace('/', '-')}.apkg"
    path.write_bytes(package)
    done = subprocess.run(
        [sys.executable, "-c", LEARNERS_ANKI, str(path)],
        env={**os.environ, "TZ": zone},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, int] = json.loads(done.stdout)
    return result


@pytest.mark.parametrize("zone_name", ["America/Los_Angeles", "Asia/Tokyo"])
def test_a_card_due_on_a_local_day_is_due_on_that_day_in_anki(
    zone_name: str, tmp_path: Path
) -> None:
    """Just before 4 am local is still the day before; just after, the day itself. The
    package is imported now (Anki reads the real clock), so the export is made now."""
    pytest.importorskip("anki")
    zone = ZoneInfo(zone_name)
    now = datetime.now(UTC)
    here = now.astimezone(zone)
    today = here.date() - timedelta(days=1 if here.hour < 4 else 0)  # Anki's day now
    day = here.date()
    dues = {
        "before-4am": local(zone, day + timedelta(days=2), 3, 59),  # Anki's day + 1
        "after-4am": local(zone, day + timedelta(days=2), 4, 1),  # Anki's day + 2
        "in-a-week": local(zone, day + timedelta(days=7), 23, 30),
        "overdue": local(zone, day - timedelta(days=3), 3, 0),  # 4 days back: + -4
    }
    expected = {
        "before-4am": (day + timedelta(days=1) - today).days,
        "after-4am": (day + timedelta(days=2) - today).days,
        "in-a-week": (day + timedelta(days=7) - today).days,
        "overdue": (day - timedelta(days=4) - today).days,
    }
    export = AnkiExport(
        learner_id=1,
        cards=tuple(card(cid) for cid in dues),
        states=tuple(review(cid, due, now) for cid, due in dues.items()),
        reviews=(),
        desired_retention=0.9,
        fsrs_parameters=None,
        now=now,
        timezone=zone_name,
    )
    assert in_anki(build_full(export).data, zone_name, tmp_path) == expected
    assert expected["after-4am"] - expected["before-4am"] == 1


def test_the_anki_day_starts_at_4_am_local_time() -> None:
    tokyo, la = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/Los_Angeles")
    # 2026-03-10 03:59 in Tokyo is 2026-03-09 18:59 UTC: still Tokyo's 9th in Anki.
    assert anki_day(datetime(2026, 3, 9, 18, 59, tzinfo=UTC), tokyo) == date(2026, 3, 9)
    assert anki_day(datetime(2026, 3, 9, 19, 1, tzinfo=UTC), tokyo) == date(2026, 3, 10)
    # The night US clocks go forward (2026-03-08): 03:59 PDT is 10:59 UTC, 04:00 is 11:00.
    assert anki_day(datetime(2026, 3, 8, 10, 59, tzinfo=UTC), la) == date(2026, 3, 7)
    assert anki_day(datetime(2026, 3, 8, 11, 0, tzinfo=UTC), la) == date(2026, 3, 8)
    assert anki_day(datetime(2026, 3, 8, 11, 0, tzinfo=UTC), la, rollover=0) == date(2026, 3, 8)
