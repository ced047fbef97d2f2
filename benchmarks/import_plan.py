"""Benchmark of planning an Anki import (``bot.core.importing.plan_import``), pure CPU.

A synthetic collection, built in memory as the reader hands one over: ``--cards``
cards (default 20,000) from Basic notes, Basic-and-reversed notes (two cards each) and
Cloze notes (three deletions each), their fields the HTML Anki's editor writes
(``<div>``, ``<br>``, bold, an entity, a MathJax formula on some, an image on some);
``--reviews`` review-log rows (default 200,000) spread over the studied cards (80 % of
them), a day or more apart, the ratings 10/10/65/15 % Again/Hard/Good/Easy, with a
reset on some. The learner is in America/Los_Angeles with the default FSRS parameters.

Printed: the time to plan it (wall and process CPU, the best of ``--repeat`` runs),
per card and per review, and what the plan holds. The LAST line is one JSON object.

Run: ``python benchmarks/import_plan.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

from bot.core.ankifile import (  # noqa: E402
    AnkiCard,
    AnkiCollection,
    AnkiDeck,
    AnkiNote,
    AnkiReview,
    MediaFile,
    NoteType,
    Template,
)
from bot.core.importing import ImportPlan, plan_import  # noqa: E402
from bot.core.model import Learner, LearnerSettings  # noqa: E402

CREATED = datetime(2022, 1, 1, 12, tzinfo=UTC)  # 04:00 in Los Angeles
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
DAY_MS = 86_400_000
BACK = "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}"
NOTETYPES = (
    NoteType(
        1, "Basic", "standard", ("Front", "Back"), (Template("Card 1", 0, "{{Front}}", BACK),)
    ),
    NoteType(
        2,
        "Basic (and reversed card)",
        "standard",
        ("Front", "Back"),
        (
            Template("Card 1", 0, "{{Front}}", BACK),
            Template("Card 2", 1, "{{Back}}", "{{FrontSide}}<hr id=answer>{{Front}}"),
        ),
    ),
    NoteType(
        3,
        "Cloze",
        "cloze",
        ("Text", "Back Extra"),
        (Template("Cloze", 0, "{{cloze:Text}}", "{{cloze:Text}}<br>\n{{Back Extra}}"),),
    ),
)


def build(cards_wanted: int, reviews_wanted: int, seed: int = 1) -> AnkiCollection:
    """The synthetic collection (see the module docs)."""
    rng = random.Random(seed)
    notes: list[AnkiNote] = []
    cards: list[AnkiCard] = []
    decks = tuple(AnkiDeck(d, f"Languages::Deck {d}") for d in range(1, 11))
    media = tuple(MediaFile(f"img{k}.png", b"\x89PNG") for k in range(50))
    nid = 0
    while len(cards) < cards_wanted:
        nid += 1
        kind = rng.choices((1, 2, 3), (70, 15, 15))[0]
        deck = 1 + nid % len(decks)
        image = f'<div><img src="img{nid % 60}.png"></div>' if nid % 7 == 0 else ""
        formula = f" \\(x_{{{nid}}}^2 + 1\\)" if nid % 5 == 0 else ""
        if kind == 3:
            fields: tuple[str, ...] = (
                f"<div>The {{{{c1::capital}}}} of country {nid} is {{{{c2::City {nid}::city}}}}"
                f"</div><div>and its river is the {{{{c3::River {nid}}}}}.{formula}</div>",
                "<i>geography</i>",
            )
            ords = (0, 1, 2)
        else:
            fields = (
                f"<div>What is <b>word {nid}</b> &amp; its use?{formula}</div>{image}",
                f"<div>Answer {nid}</div><div><br></div><ul><li>first</li><li>second</li></ul>",
            )
            ords = (0, 1) if kind == 2 else (0,)
        notes.append(AnkiNote(nid, f"g{nid:08d}", kind, fields, ("tag",)))
        for ord_ in ords:
            cid = len(cards) + 1
            studied = rng.random() < 0.8
            if studied:
                card = AnkiCard(cid, nid, deck, ord_, 2, 2, 1000 + rng.randrange(300), 20, 8, 1)
            else:
                card = AnkiCard(cid, nid, deck, ord_, 0, 0, cid, 0, 0, 0)
            cards.append(card)
    studied_ids = [c.id for c in cards if c.type == 2]
    reviews: list[AnkiReview] = []
    start = int(CREATED.timestamp() * 1000)
    for n, cid in enumerate(studied_ids):
        # the reviews left, shared evenly by the cards left
        count = (reviews_wanted - len(reviews)) // (len(studied_ids) - n)
        at = start + rng.randrange(200) * DAY_MS
        for k in range(count):
            ease = rng.choices((1, 2, 3, 4), (10, 10, 65, 15))[0]
            kind = 4 if k == count // 2 and cid % 50 == 0 else 1  # a reset now and then
            ease = 0 if kind == 4 else ease
            reviews.append(AnkiReview(at, cid, ease, 0, 1, 2500, rng.randrange(20_000), kind))
            at += (1 + rng.randrange(2 * k + 2)) * DAY_MS + rng.randrange(DAY_MS)
    return AnkiCollection(
        "anki21b",
        "bench.apkg",
        CREATED,
        decks,
        NOTETYPES,
        tuple(notes),
        tuple(cards),
        tuple(reviews),
        media,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cards", type=int, default=20_000)
    parser.add_argument("--reviews", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs; the best is reported")
    parser.add_argument("--quick", action="store_true", help="2,000 cards, 20,000 reviews, once")
    args = parser.parse_args()
    if args.quick:
        args.cards, args.reviews, args.repeat = 2_000, 20_000, 1
    col = build(args.cards, args.reviews)
    learner = Learner(
        1, "console", "1", "bench", NOW, LearnerSettings(timezone="America/Los_Angeles")
    )
    walls: list[float] = []
    cpus: list[float] = []
    plan: ImportPlan | None = None
    for _ in range(args.repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        plan = plan_import(col, learner, NOW)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    assert plan is not None
    wall, cpu = min(walls), min(cpus)
    print(
        f"collection: {len(col.notes):,} notes, {len(col.cards):,} cards, "
        f"{len(col.reviews):,} review-log rows"
    )
    print(
        f"plan: {plan.card_count:,} cards in {len(plan.decks)} decks, "
        f"{plan.review_count:,} reviews, {len(plan.media)} media files"
    )
    print(
        f"planned in {wall:.2f} s wall, {cpu:.2f} s CPU (best of {args.repeat}): "
        f"{wall / max(1, plan.card_count) * 1e6:.0f} µs a card with its reviews"
    )
    print(
        json.dumps(
            {
                "cards": plan.card_count,
                "reviews": plan.review_count,
                "wall_seconds": round(wall, 3),
                "cpu_seconds": round(cpu, 3),
                "all_wall_seconds": [round(w, 3) for w in walls],
            }
        )
    )


if __name__ == "__main__":
    main()
