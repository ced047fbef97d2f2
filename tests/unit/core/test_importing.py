"""Tests for bot.core.importing: an Anki collection mapped to a learner's personal decks.

Every collection here is built by hand, as the reader would hand it over.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from fsrs import Card, Rating

from bot.core import srs
from bot.core.ankifile import (
    AnkiCard,
    AnkiCollection,
    AnkiDeck,
    AnkiNote,
    AnkiReview,
    MediaFile,
    NoteType,
    Template,
)
from bot.core.importing import (
    ANKI_SOURCE,
    MAX_DURATION_MS,
    ImportPlan,
    PlannedCard,
    SkippedNotes,
    anki_day_zero,
    deck_slug,
    imported_card_id,
    plan_import,
    usable_history,
)
from bot.core.memory import DEFAULT_PARAMETERS
from bot.core.model import CardState, CardStateKind, Learner, LearnerSettings
from bot.text.terminal import Terminal

LEARNER_ID = 7
#: Anki's day start (04:00 UTC) on the day the collection was created.
CREATED = datetime(2024, 1, 1, 4, tzinfo=UTC)
NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)

BASIC = NoteType(
    1,
    "Basic",
    "standard",
    ("Front", "Back"),
    (Template("Card 1", 0, "{{Front}}", "{{FrontSide}}\n\n<hr id=answer>\n\n{{Back}}"),),
)
REVERSED = NoteType(
    2,
    "Basic (and reversed card)",
    "standard",
    ("Front", "Back"),
    (
        Template("Card 1", 0, "{{Front}}", "{{FrontSide}}<hr id=answer>{{Back}}"),
        Template("Card 2", 1, "{{Back}}", "{{FrontSide}}<hr id=answer>{{Front}}"),
    ),
)
CLOZE = NoteType(
    3,
    "Cloze",
    "cloze",
    ("Text", "Back Extra"),
    (Template("Cloze", 0, "{{cloze:Text}}", "{{cloze:Text}}<br>\n{{Back Extra}}"),),
)
DEFAULT = AnkiDeck(1, "Default")


def learner(tz: str = "UTC", **settings: object) -> Learner:
    return Learner(
        LEARNER_ID,
        "console",
        str(LEARNER_ID),
        "me",
        CREATED,
        LearnerSettings(timezone=tz, **settings),  # type: ignore[arg-type]
    )


def collection(
    notes: Sequence[AnkiNote],
    cards: Sequence[AnkiCard] = (),
    reviews: Sequence[AnkiReview] = (),
    *,
    notetypes: Sequence[NoteType] = (BASIC, REVERSED, CLOZE),
    decks: Sequence[AnkiDeck] = (DEFAULT,),
    media: Sequence[MediaFile] = (),
    created: datetime | None = CREATED,
    rollover: int = 4,
    fmt: str = "anki21",
    filename: str = "deck.apkg",
) -> AnkiCollection:
    return AnkiCollection(
        fmt,  # type: ignore[arg-type]
        filename,
        created,
        tuple(decks),
        tuple(notetypes),
        tuple(notes),
        tuple(cards),
        tuple(reviews),
        tuple(media),
        rollover,
    )


def note(
    nid: int, *fields: str, nt: int = 1, guid: str | None = None, tags: Sequence[str] = ()
) -> AnkiNote:
    return AnkiNote(nid, f"guid-{nid}" if guid is None else guid, nt, fields, tuple(tags))


def new(cid: int, nid: int, ord_: int = 0, *, due: int | None = None, deck: int = 1) -> AnkiCard:
    return AnkiCard(cid, nid, deck, ord_, 0, 0, cid if due is None else due, 0, 0, 0)


def studied(
    cid: int,
    nid: int,
    due: int,
    *,
    type_: int = 2,
    queue: int = 2,
    interval: int = 10,
    reps: int = 5,
    lapses: int = 1,
    deck: int = 1,
    ord_: int = 0,
    memory: tuple[float, float] | None = None,
    original_deck: int = 0,
    original_due: int = 0,
) -> AnkiCard:
    return AnkiCard(
        cid,
        nid,
        deck,
        ord_,
        type_,
        queue,
        due,
        interval,
        reps,
        lapses,
        original_deck,
        original_due,
        memory,
    )


def row(
    at: datetime, cid: int, ease: int, *, kind: int = 1, interval: int = 1, time_ms: int = 4000
) -> AnkiReview:
    return AnkiReview(int(at.timestamp() * 1000), cid, ease, interval, 0, 2500, time_ms, kind)


def cards_of(plan: ImportPlan) -> list[PlannedCard]:
    return [c for d in plan.decks for c in d.cards]


def only(plan: ImportPlan) -> PlannedCard:
    found = cards_of(plan)
    assert len(found) == 1, found
    return found[0]


def plan(col: AnkiCollection, who: Learner | None = None, now: datetime = NOW) -> ImportPlan:
    return plan_import(col, who or learner(), now)


# --------------------------------------------------------------------------- ids, slugs


def test_card_ids_are_short_stable_and_distinct() -> None:
    first = imported_card_id(1, "guid-a", 0)
    assert re.fullmatch(r"a[0-9a-f]{24}", first)
    assert imported_card_id(1, "guid-a", 0) == first
    others = {
        imported_card_id(2, "guid-a", 0),
        imported_card_id(1, "guid-b", 0),
        imported_card_id(1, "guid-a", 1),
        imported_card_id(12, "guid-a", 0),
        imported_card_id(1, "2\x1fguid-a", 0),
    }
    assert first not in others and len(others) == 5


def test_a_planned_card_has_the_id_of_its_learner_note_and_ordinal() -> None:
    col = collection([note(1, "Q", "A", nt=2)], [new(10, 1, 0), new(11, 1, 1)])
    ids = [c.id for c in cards_of(plan(col))]
    assert ids == [
        imported_card_id(LEARNER_ID, "guid-1", 0),
        imported_card_id(LEARNER_ID, "guid-1", 1),
    ]
    # The same file for another learner gives other ids; for the same one, the same.
    assert [c.id for c in cards_of(plan(col, replace(learner(), id=8)))] != ids
    assert [c.id for c in cards_of(plan(col, now=NOW + DAY))] == ids


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Default", "default"),
        ("Español::Verbos irregulares", "espanol-verbos-irregulares"),
        ("日本語", "deck"),
        ("", "deck"),
        (
            "A very long deck name that goes on and on and on",
            "a-very-long-deck-name-that-goes-on-and",
        ),
        ("x" * 50, "x" * 40),
    ],
)
def test_deck_slug(title: str, slug: str) -> None:
    assert deck_slug(title) == slug
    assert len(deck_slug(title)) <= 40


# --------------------------------------------------------------------------- note types


def test_basic() -> None:
    col = collection([note(1, "<div>What is <b>2+2</b>?</div>", "4")], [new(10, 1)])
    result = plan(col)
    (deck,) = result.decks
    assert (deck.source, deck.source_ref, deck.title, deck.slug) == (
        "anki",
        "1",
        "Default",
        "default",
    )
    card = only(result)
    assert (card.front, card.back, card.title) == ("What is **2+2**?", "4", "What is 2+2?")
    assert card.state is None and card.reviews == () and card.position == 0
    assert (card.front_image, card.back_image) == (None, None)
    assert result.skipped == () and result.problems == () and result.media == ()


def test_basic_and_reversed_makes_two_cards_per_note() -> None:
    col = collection(
        [note(1, "perro", "dog", nt=2), note(2, "gato", "cat", nt=2)],
        [new(10, 1, 0), new(11, 1, 1), new(12, 2, 0), new(13, 2, 1)],
    )
    sides = [(c.front, c.back) for c in cards_of(plan(col))]
    assert sides == [("perro", "dog"), ("dog", "perro"), ("gato", "cat"), ("cat", "gato")]


def test_cloze_with_three_deletions_and_hints() -> None:
    text = "{{c1::Paris}} is the capital of {{c2::France::country}}, on the {{c3::Seine::river}}."
    col = collection(
        [note(1, text, "<i>Geography</i>", nt=3)],
        [new(10, 1, 0), new(11, 1, 1), new(12, 1, 2)],
    )
    found = cards_of(plan(col))
    assert [c.front for c in found] == [
        "[…] is the capital of France, on the Seine.",
        "Paris is the capital of [country], on the Seine.",
        "Paris is the capital of France, on the [river].",
    ]
    assert [c.back for c in found] == [
        "**Paris** is the capital of France, on the Seine.  \n*Geography*",
        "Paris is the capital of **France**, on the Seine.  \n*Geography*",
        "Paris is the capital of France, on the **Seine**.  \n*Geography*",
    ]
    assert found[1].title == "Paris is the capital of [country], on the Seine."
    assert len({c.id for c in found}) == 3


def test_conditionals() -> None:
    hinted = NoteType(
        4,
        "Hinted",
        "standard",
        ("Front", "Back", "Hint"),
        (
            Template(
                "Card 1",
                0,
                "{{Front}}{{#Hint}}<br>Hint: {{Hint}}{{/Hint}}{{^Hint}}<br>(no hint){{/Hint}}",
                "{{FrontSide}}<hr id=answer>{{Back}}",
            ),
        ),
    )
    col = collection(
        [note(1, "Q1", "A1", "think", nt=4), note(2, "Q2", "A2", "", nt=4)],
        [new(10, 1), new(11, 2)],
        notetypes=[hinted],
    )
    assert [c.front for c in cards_of(plan(col))] == ["Q1  \nHint: think", "Q2  \n(no hint)"]


def test_a_note_type_with_an_unknown_filter_is_skipped_and_named() -> None:
    japanese = NoteType(
        5,
        "Japanese (furigana)",
        "standard",
        ("Expression", "Reading", "Meaning"),
        (Template("Card 1", 0, "{{Expression}}", "{{furigana:Reading}}<br>{{Meaning}}"),),
    )
    col = collection(
        [
            note(1, "日本", "日本[にほん]", "Japan", nt=5),
            note(2, "本", "本[ほん]", "book", nt=5),
            note(3, "Q", "A"),
        ],
        [new(10, 1), new(11, 2), new(12, 3)],
        [row(CREATED + DAY, 10, 3, kind=0)],
        notetypes=[BASIC, japanese],
    )
    result = plan(col)
    assert [c.front for c in cards_of(result)] == ["Q"]
    assert result.review_count == 0
    (skipped,) = result.skipped
    assert (skipped.notetype, skipped.count) == ("Japanese (furigana)", 2)
    assert "'furigana' filter" in skipped.reason


def test_a_field_reference_to_a_missing_field_skips_the_note_type() -> None:
    broken = NoteType(
        6,
        "Broken",
        "standard",
        ("Front", "Back"),
        (Template("Card 1", 0, "{{Front}}", "{{Extra}}"),),
    )
    col = collection([note(1, "Q", "A", nt=6)], [new(10, 1)], notetypes=[broken])
    result = plan(col)
    assert result.card_count == 0
    assert result.skipped == (
        SkippedNotes(
            "Broken", 1, "its template 'Card 1' names a field 'Extra' the note type does not have"
        ),
    )


def test_image_occlusion_and_missing_note_types_are_skipped() -> None:
    occlusion = NoteType(
        7,
        "Image Occlusion",
        "cloze",
        ("Occlusion", "Image"),
        (Template("IO", 0, "{{#Image}}{{image-occlusion:Occlusion}}{{/Image}}", "{{Image}}"),),
    )
    col = collection(
        [
            note(1, "{{c1::image-occlusion:rect:left=.1}}", '<img src="x.png">', nt=7),
            note(2, "Q", "A", nt=99),
        ],
        [new(10, 1), new(11, 2)],
        notetypes=[occlusion],
    )
    skipped = {s.notetype: s for s in plan(col).skipped}
    assert set(skipped) == {"Image Occlusion", "#99"}
    assert "image occlusion" in skipped["Image Occlusion"].reason
    assert skipped["#99"].reason == "the file does not hold this note type"


def test_a_card_whose_question_is_empty_is_left_out_and_counted() -> None:
    col = collection(
        [note(1, "", "orphan answer"), note(2, "front", "", nt=2), note(3, "ok", "fine")],
        [new(10, 1), new(11, 2, 0), new(12, 2, 1), new(13, 3)],
    )
    result = plan(col)
    assert [(c.front, c.back) for c in cards_of(result)] == [("front", ""), ("ok", "fine")]
    assert result.problems == (
        "2 cards came out with an empty question and were left out (Anki would not show "
        "them either: empty fields, or a question that is only sound).",
    )


# --------------------------------------------------------------------------- the back


@pytest.mark.parametrize(
    ("afmt", "back"),
    [
        ("{{FrontSide}}<hr id=answer>{{Back}}", "A"),
        ('{{FrontSide}}<HR ID="answer" class="x">{{Back}}', "A"),
        ("{{FrontSide}}<hr id='answer'/>{{Back}}", "A"),
        ("{{FrontSide}}<br><br>{{Back}}", "A"),
        ("{{FrontSide}} {{Back}}", "A"),
        ("{{Back}}", "A"),
        ("{{Back}}<br>{{FrontSide}}", "A  \nQ line 1  \nQ line 2"),
        ("{{FrontSide}}", "Q line 1  \nQ line 2"),
    ],
)
def test_the_back_is_what_follows_the_question(afmt: str, back: str) -> None:
    nt = NoteType(
        8, "T", "standard", ("Front", "Back"), (Template("Card 1", 0, "{{Front}}", afmt),)
    )
    col = collection([note(1, "Q line 1<br>Q line 2", "A", nt=8)], [new(10, 1)], notetypes=[nt])
    card = only(plan(col))
    assert card.front == "Q line 1  \nQ line 2"
    assert card.back == back


def test_html_entities_lists_and_scripts() -> None:
    col = collection(
        [
            note(
                1,
                "Name the <u>three</u> states&nbsp;of matter<script>document.title='x'</script>",
                "<ul><li>solid</li><li>liquid &amp; <b>gas</b></li></ul><style>li{}</style>",
            )
        ],
        [new(10, 1)],
    )
    card = only(plan(col))
    assert card.front == "Name the three states of matter"
    assert card.back == "- solid\n- liquid & **gas**"


def test_formulas_become_our_math_and_a_literal_dollar_is_escaped() -> None:
    col = collection(
        [
            note(
                1,
                "Solve \\(x^2 = 4\\) for $5",
                "\\[x = \\pm 2\\] or [latex]$x=2$[/latex] and [$]y[/$]",
            )
        ],
        [new(10, 1)],
    )
    card = only(plan(col))
    assert card.front == "Solve $x^2 = 4$ for \\$5"
    assert card.back == "$$x = \\pm 2$$\nor $x=2$ and $y$"
    assert card.title == "Solve x² = 4 for $5"


def test_a_long_question_gives_a_title_of_80_characters() -> None:
    col = collection(
        [note(1, "<div>" + "long words " * 20 + "</div><div>second</div>", "A")], [new(10, 1)]
    )
    title = only(plan(col)).title
    assert len(title) == 80 and title.startswith("long words long") and title.endswith("…")


# --------------------------------------------------------------------------- media


MEDIA = (
    MediaFile("a.png", b"A"),
    MediaFile("b c.png", b"B"),
    MediaFile("back.jpg", b"C"),
    MediaFile("unused.png", b"D"),
)


def test_images_first_second_missing_and_on_the_back() -> None:
    col = collection(
        [
            note(
                1,
                '<img src="a.png"> What is this? <img src="b%20c.png"> <img src="gone.png">',
                '<img src="a.png"><img src="back.jpg"> It is <img src="b c.png">',
            )
        ],
        [new(10, 1)],
        media=MEDIA,
    )
    result = plan(col)
    card = only(result)
    assert card.front_image == "a.png"
    assert card.front == "What is this? [image: b c.png] [image missing: gone.png]"
    assert card.back_image == "back.jpg"
    assert card.back == "It is [image: b c.png]"
    assert [m.name for m in result.media] == ["a.png", "back.jpg"]
    assert result.problems == (
        "1 image the cards show is not in the file (gone.png): "
        "each shows as [image missing: name].",
    )


def test_a_question_that_is_only_an_image_keeps_it_and_is_titled_by_it() -> None:
    col = collection(
        [note(1, '<img src="a.png">', "an apple"), note(2, '<img src="a.png">', "again")],
        [new(10, 1), new(11, 2)],
        media=MEDIA,
    )
    result = plan(col)
    first = cards_of(result)[0]
    assert (first.front, first.front_image, first.title) == ("", "a.png", "[image: a.png]")
    assert [m.name for m in result.media] == ["a.png"]  # each file once


def test_a_missing_image_alone_is_a_question_of_text() -> None:
    col = collection([note(1, '<img src="gone.png">', "A")], [new(10, 1)])
    card = only(plan(col))
    assert (card.front, card.front_image) == ("[image missing: gone.png]", None)


def test_sound_tags_are_dropped_with_one_problem_line() -> None:
    col = collection(
        [
            note(1, "hola [sound:hola.mp3]", "hello [sound:hello.mp3]"),
            note(2, "adiós", "bye [sound:bye.mp3]"),
            note(3, "[sound:only.mp3]", "a question that is only sound"),
        ],
        [new(10, 1), new(11, 2), new(12, 3)],
    )
    result = plan(col)
    assert [(c.front, c.back) for c in cards_of(result)] == [("hola", "hello"), ("adiós", "bye")]
    assert result.problems == (
        "1 card came out with an empty question and was left out (Anki would not show them "
        "either: empty fields, or a question that is only sound).",
        "3 sound clips in 2 notes were left out: the bot does not play audio.",
    )


def test_the_readers_problems_come_first() -> None:
    col = replace(
        collection([note(1, "Q", "A")], [new(10, 1)]), problems=("big.png is too large.",)
    )
    assert plan(col).problems == ("big.png is too large.",)


# --------------------------------------------------------------------------- decks, order


def test_decks_by_home_deck_with_new_cards_first_in_anki_order() -> None:
    decks = [AnkiDeck(1, "Default"), AnkiDeck(2, "Español::Verbos"), AnkiDeck(3, "Empty")]
    notes = [note(n, f"Q{n}", f"A{n}") for n in range(1, 7)]
    cards = [
        studied(50, 1, 400, deck=2),
        new(60, 2, due=3, deck=2),
        studied(40, 3, 400, deck=2),
        new(61, 4, due=1, deck=2),
        new(62, 5, due=2, deck=2),
        new(70, 6, due=1, deck=1),
    ]
    result = plan(collection(notes, cards, decks=decks))
    assert [(d.title, d.source_ref, d.slug) for d in result.decks] == [
        ("Default", "1", "default"),
        ("Español::Verbos", "2", "espanol-verbos"),
    ]
    verbs = result.decks[1].cards
    assert [c.front for c in verbs] == ["Q4", "Q5", "Q2", "Q3", "Q1"]
    assert [c.position for c in verbs] == [0, 1, 2, 3, 4]


def test_a_card_in_a_filtered_deck_belongs_to_its_home_deck_and_keeps_its_due() -> None:
    decks = [DEFAULT, AnkiDeck(9, "Cram", filtered=True)]
    card = studied(10, 1, -100_000, deck=9, original_deck=1, original_due=500)
    result = plan(collection([note(1, "Q", "A")], [card], decks=decks))
    (deck,) = result.decks
    assert deck.title == "Default"
    state = only(result).state
    assert state is not None
    assert state.due == datetime.combine(date(2024, 1, 1) + 500 * DAY, time(0), tzinfo=UTC)


def test_deck_and_tags_special_fields_use_the_home_deck() -> None:
    nt = NoteType(
        8,
        "T",
        "standard",
        ("Front",),
        (Template("Card 1", 0, "{{Front}}", "{{Deck}} / {{Subdeck}} / {{Tags}}"),),
    )
    decks = [AnkiDeck(1, "Lang::Spanish"), AnkiDeck(9, "Cram", filtered=True)]
    card = studied(10, 1, 5, deck=9, original_deck=1, original_due=5)
    col = collection(
        [note(1, "Q", nt=8, tags=("verb", "leech"))], [card], notetypes=[nt], decks=decks
    )
    planned = only(plan(col))
    assert planned.back == "Lang::Spanish / Spanish / verb leech"
    assert planned.state is not None and planned.state.leech


# --------------------------------------------------------------------------- text exports


def text_collection(notes: Sequence[AnkiNote], **kw: object) -> AnkiCollection:
    defaults: dict[str, object] = {
        "fmt": "text",
        "created": None,
        "decks": [AnkiDeck(1, "Vocab")],
        "filename": "vocab.txt",
    }
    defaults.update(kw)
    return collection(notes, **defaults)  # type: ignore[arg-type]


def test_text_export_notes_without_guid_are_keyed_by_their_first_field() -> None:
    notes = [note(1, "<b>perro</b>", "dog", guid=""), note(2, "gato", "cat", guid="")]
    first = plan(text_collection(notes))
    (deck,) = first.decks
    assert (deck.source, deck.source_ref, deck.title, deck.slug) == (
        "text",
        "Vocab",
        "Vocab",
        "vocab",
    )
    assert [c.id for c in deck.cards] == [
        imported_card_id(LEARNER_ID, "Vocab\x1fperro", 0),
        imported_card_id(LEARNER_ID, "Vocab\x1fgato", 0),
    ]
    assert all(c.state is None and c.reviews == () for c in deck.cards)
    # Another export of the same notes (other note ids, other order, edited answers).
    again = [note(9, "gato", "a cat", guid=""), note(8, "<b>perro</b>", "a dog", guid="")]
    ids = {c.id: c.back for c in cards_of(plan(text_collection(again)))}
    assert ids == {deck.cards[0].id: "a dog", deck.cards[1].id: "a cat"}
    # The same words in another deck (another file, or this one renamed) are other cards:
    # importing one never takes cards out of the other.
    other = cards_of(plan(text_collection(again, decks=[], filename="Vocab (1).csv")))
    assert not {c.id for c in other} & set(ids)


def test_text_export_repeats_are_left_out_and_note_types_make_their_cards() -> None:
    notes = [
        note(1, "perro", "dog", guid=""),
        note(2, "perro", "hound", guid=""),
        note(3, "gato", "cat", nt=2, guid=""),
        note(4, "{{c1::a}} b {{c3::c}}", "", nt=3, guid=""),
    ]
    result = plan(text_collection(notes, decks=[], filename="my words.csv"))
    (deck,) = result.decks
    assert deck.title == "my words" and deck.source_ref == "my words"
    assert [c.front for c in deck.cards] == ["perro", "gato", "cat", "[…] b c", "a b […]"]
    assert deck.cards[4].id == imported_card_id(LEARNER_ID, "my words\x1f{{c1::a}} b {{c3::c}}", 2)
    assert result.problems == (
        "1 note repeated an earlier note (the same first field) and was left out.",
    )


# --------------------------------------------------------------------------- history


def replayed(history: Sequence[tuple[datetime, int]], settings: LearnerSettings) -> Card:
    """The card a plain replay with the learner's scheduler leaves."""
    scheduler = srs.scheduler_for(settings)
    card = Card(card_id=1, due=history[0][0])
    for at, rating in history:
        card, _ = scheduler.review_card(card, Rating(rating), at)
    return card


T1 = datetime(2024, 2, 1, 10, tzinfo=UTC)


def test_reviews_become_log_rows_and_the_replay_gives_the_memory() -> None:
    history = [
        (T1, 3),
        (T1 + 10 * timedelta(minutes=1), 3),
        (T1 + 3 * DAY, 1),
        (T1 + 3 * DAY + timedelta(minutes=12), 3),
        (T1 + 9 * DAY, 4),
    ]
    rows = [
        row(at, 10, ease, time_ms=ms)
        for (at, ease), ms in zip(history, [3000, -5, 10**9, 7000, 1], strict=True)
    ]
    card = studied(10, 1, 420, reps=9, lapses=2)
    result = plan(collection([note(1, "Q", "A")], [card], rows))
    planned = only(result)
    reviews = planned.reviews
    assert [r.rating for r in reviews] == [3, 3, 1, 3, 4]
    assert [r.reviewed_at for r in reviews] == [at for at, _ in history]
    assert [r.duration_ms for r in reviews] == [3000, 0, MAX_DURATION_MS, 7000, 1]
    assert {(r.learner_id, r.card_id, r.source) for r in reviews} == {
        (LEARNER_ID, planned.id, ANKI_SOURCE)
    }
    assert reviews[0].before == CardState(LEARNER_ID, planned.id)
    for earlier, later in pairwise(reviews):
        assert later.before == earlier.after
    assert [r.after.reps for r in reviews] == [1, 2, 3, 4, 5]
    assert reviews[2].after.lapses == 1 and reviews[2].after.state is CardStateKind.RELEARNING

    expected = replayed(history, learner().settings)
    state = planned.state
    assert state is not None
    assert (state.stability, state.difficulty) == (expected.stability, expected.difficulty)
    assert reviews[-1].after.due == expected.due
    # Kind, counts and due are Anki's.
    assert (state.state, state.step, state.reps, state.lapses) == (CardStateKind.REVIEW, None, 9, 2)
    assert state.due == datetime(2024, 1, 1, tzinfo=UTC) + 420 * DAY
    assert state.last_review == history[-1][0]
    assert not state.suspended and state.buried_until is None
    assert result.review_count == 5


def test_the_replay_uses_the_learners_parameters_and_retention() -> None:
    history = [(T1, 3), (T1 + 2 * DAY, 3), (T1 + 9 * DAY, 3)]
    rows = [row(at, 10, ease) for at, ease in history]
    col = collection([note(1, "Q", "A")], [studied(10, 1, 100)], rows)
    own = (*DEFAULT_PARAMETERS[:2], 2.0, *DEFAULT_PARAMETERS[3:])
    who = learner(
        fsrs_parameters=own, desired_retention=0.8, learning_steps=(timedelta(minutes=5),)
    )
    mine = only(plan(col, who))
    default = only(plan(col))
    expected = replayed(history, who.settings)
    assert mine.state is not None and default.state is not None
    assert (mine.state.stability, mine.state.difficulty) == (
        expected.stability,
        expected.difficulty,
    )
    assert mine.state.stability != default.state.stability
    assert mine.reviews[-1].after.due == expected.due != default.reviews[-1].after.due


def test_a_reset_drops_the_history_before_it() -> None:
    rows = [
        row(T1, 10, 3),
        row(T1 + DAY, 10, 3),
        row(T1 + 2 * DAY, 10, 0, kind=4, interval=0),  # Forget
        row(T1 + 5 * DAY, 10, 1),
        row(T1 + 5 * DAY + timedelta(minutes=2), 10, 3),
    ]
    col = collection([note(1, "Q", "A")], [studied(10, 1, 1_710_000_000, type_=1, queue=1)], rows)
    reviews = only(plan(col)).reviews
    assert [(r.reviewed_at, r.rating) for r in reviews] == [
        (T1 + 5 * DAY, 1),
        (T1 + 5 * DAY + timedelta(minutes=2), 3),
    ]
    assert reviews[0].before.is_new


def test_a_reset_card_that_is_new_again_has_no_state_and_no_history() -> None:
    rows = [row(T1, 10, 3), row(T1 + DAY, 10, 0, kind=4, interval=0)]
    planned = only(plan(collection([note(1, "Q", "A")], [new(10, 1)], rows)))
    assert planned.state is None and planned.reviews == ()


def test_rescheduling_and_other_manual_rows_are_no_reviews() -> None:
    rows = [
        row(T1, 10, 3),
        row(T1 + DAY, 10, 0, kind=4, interval=12),  # set due date: no reset
        row(T1 + 2 * DAY, 10, 3, kind=5),  # rescheduled
        row(T1 + 3 * DAY, 10, 0, kind=5, interval=0),
        row(T1 + 4 * DAY, 10, 2),
    ]
    col = collection([note(1, "Q", "A")], [studied(10, 1, 100)], rows)
    assert [(r.reviewed_at, r.rating) for r in only(plan(col)).reviews] == [
        (T1, 3),
        (T1 + 4 * DAY, 2),
    ]
    assert [r.id for r in usable_history(list(reversed(rows)))] == [rows[0].id, rows[4].id]


def test_a_new_card_with_history_left_is_due_now() -> None:
    """Due at once: at its last review (not the import's instant, so that importing the
    same file again changes nothing)."""
    rows = [row(T1, 10, 3, kind=3), row(T1 + DAY, 10, 3, kind=3)]  # previewed in a filtered deck
    planned = only(plan(collection([note(1, "Q", "A")], [new(10, 1)], rows)))
    assert planned.state is not None and len(planned.reviews) == 2
    assert planned.state.due == T1 + DAY < NOW
    assert planned.state.stability == planned.reviews[-1].after.stability


# --------------------------------------------------------------------------- schedule


def test_a_learning_card_is_due_at_its_instant_with_the_replays_step() -> None:
    due = int((T1 + timedelta(minutes=10)).timestamp())
    rows = [row(T1, 10, 3)]
    card = studied(10, 1, due, type_=1, queue=1, interval=0, reps=1, lapses=0)
    state = only(plan(collection([note(1, "Q", "A")], [card], rows))).state
    assert state is not None
    assert (state.state, state.step) == (CardStateKind.LEARNING, 1)
    assert state.due == T1 + timedelta(minutes=10)


def test_a_relearning_card_is_relearning_from_its_first_step() -> None:
    due = int((T1 + 5 * DAY + timedelta(minutes=10)).timestamp())
    rows = [row(T1, 10, 4), row(T1 + 5 * DAY, 10, 1)]
    card = studied(10, 1, due, type_=3, queue=1, interval=1, reps=2, lapses=1)
    state = only(plan(collection([note(1, "Q", "A")], [card], rows))).state
    assert state is not None
    assert (state.state, state.step, state.lapses) == (CardStateKind.RELEARNING, 0, 1)
    assert state.due == T1 + 5 * DAY + timedelta(minutes=10)


def test_a_day_learning_card_is_due_on_its_day() -> None:
    card = studied(10, 1, 30, type_=1, queue=3, interval=0)
    state = only(plan(collection([note(1, "Q", "A")], [card]))).state
    assert state is not None
    assert (state.state, state.step, state.stability) == (CardStateKind.LEARNING, 0, None)
    assert state.due == datetime(2024, 1, 31, tzinfo=UTC)


def test_suspended_and_buried_cards() -> None:
    notes = [note(n, f"Q{n}", "A") for n in (1, 2, 3)]
    cards = [
        studied(10, 1, 30, queue=-1),
        studied(11, 2, 30, queue=-2),
        AnkiCard(1_700_000_000_000, 3, 1, 0, 0, -1, 7, 0, 0, 0),  # a suspended new card
    ]
    found = {
        c.front: c.state for c in cards_of(plan(collection(notes, cards), learner("Asia/Tokyo")))
    }
    suspended, buried, new_suspended = found["Q1"], found["Q2"], found["Q3"]
    assert suspended is not None and suspended.suspended and suspended.buried_until is None
    assert suspended.due == datetime(2024, 1, 31, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert buried is not None and not buried.suspended
    assert buried.buried_until == datetime(2025, 3, 2, tzinfo=ZoneInfo("Asia/Tokyo"))
    # Due at the card's creation (its id in ms), so importing again changes nothing.
    made = datetime.fromtimestamp(1_700_000_000, UTC)
    assert new_suspended == CardState(
        LEARNER_ID, new_suspended.card_id if new_suspended else "", due=made, suspended=True
    )


def test_a_review_card_without_history_keeps_ankis_memory() -> None:
    card = studied(10, 1, 400, interval=30, memory=(42.5, 6.25))
    state = only(plan(collection([note(1, "Q", "A")], [card]))).state
    assert state is not None
    assert (state.state, state.stability, state.difficulty) == (CardStateKind.REVIEW, 42.5, 6.25)
    assert state.due is not None and state.last_review == state.due - 30 * DAY


def test_a_review_card_without_history_or_memory_holds_its_interval() -> None:
    card = studied(10, 1, 400, interval=30)
    state = only(plan(collection([note(1, "Q", "A")], [card]))).state
    assert state is not None
    assert (state.stability, state.difficulty) == (30.0, 5.0)
    assert state.due is not None and state.last_review == state.due - 30 * DAY


def test_a_state_from_the_plan_can_be_reviewed() -> None:
    """A kept state is one the scheduler takes: each kind reviews without error."""
    notes = [note(n, f"Q{n}", "A") for n in (1, 2, 3, 4)]
    cards = [
        studied(10, 1, 30, interval=30),
        studied(11, 2, int(T1.timestamp()), type_=1, queue=1, interval=0),
        studied(12, 3, int(T1.timestamp()), type_=3, queue=1, interval=2),
        studied(13, 4, 30, type_=1, queue=3, interval=0),
    ]
    who = learner()
    for planned in cards_of(plan(collection(notes, cards), who)):
        assert planned.state is not None
        after = srs.review(planned.state, 3, NOW, who.settings, token="t")
        assert after.due is not None and after.due > NOW


# --------------------------------------------------------------------------- due days


def anki_day(instant: datetime, created: datetime, rollover: int, zone: ZoneInfo) -> int:
    """Anki's day number at ``instant`` (rslib's ``days_elapsed``: local dates, the day
    changing at the rollover hour), for a collection created in ``zone``."""
    now = instant.astimezone(zone)
    days = (now.date() - created.astimezone(zone).date()).days
    return days - 1 if now.hour < rollover else days


@pytest.mark.parametrize(
    ("tz", "rollover", "created_local", "due"),
    [
        ("UTC", 4, datetime(2024, 3, 1, 4), 100),
        ("UTC", 0, datetime(2024, 3, 1, 0), 100),
        ("America/Los_Angeles", 4, datetime(2024, 3, 1, 4), 5),
        ("America/Los_Angeles", 4, datetime(2024, 1, 10, 4), 180),  # into summer time
        ("America/Los_Angeles", 4, datetime(2024, 7, 1, 4), 150),  # back to winter time
        ("America/Los_Angeles", 0, datetime(2024, 3, 1, 0), 20),  # across 10 March
        ("Asia/Tokyo", 4, datetime(2024, 3, 1, 4), 30),
        ("Asia/Tokyo", 0, datetime(2024, 12, 31, 0), 1),
        ("Europe/Berlin", 4, datetime(2024, 10, 1, 4), 40),  # across 27 October
        ("Australia/Lord_Howe", 4, datetime(2024, 3, 1, 4), 60),  # half-hour change
    ],
)
def test_a_card_due_on_day_d_in_anki_is_due_on_local_day_d(
    tz: str, rollover: int, created_local: datetime, due: int
) -> None:
    zone = ZoneInfo(tz)
    created = created_local.replace(tzinfo=zone).astimezone(UTC)
    col = collection([note(1, "Q", "A")], [studied(10, 1, due)], created=created, rollover=rollover)
    state = only(plan(col, learner(tz))).state
    assert state is not None and state.due is not None
    local = state.due.astimezone(zone)
    assert local.date() == created_local.date() + due * DAY
    assert local.time() == time(0)
    # Anki shows it from the rollover of that day, and not on the day before.
    shows = datetime.combine(local.date(), time(rollover, 30), tzinfo=zone)
    assert anki_day(shows, created, rollover, zone) == due
    assert anki_day(shows - DAY, created, rollover, zone) == due - 1


@pytest.mark.parametrize("tz", ["America/Los_Angeles", "Asia/Tokyo", "UTC", "Pacific/Honolulu"])
def test_a_collection_made_in_another_zone_keeps_its_calendar_day(tz: str) -> None:
    """Made where the day started at 04:00 UTC: day 10 is 11 January for a learner up to
    12 hours away (the file does not say where it was made)."""
    col = collection([note(1, "Q", "A")], [studied(10, 1, 10)])
    state = only(plan(col, learner(tz))).state
    assert state is not None and state.due is not None
    assert state.due.astimezone(ZoneInfo(tz)).date() == date(2024, 1, 11)


def test_day_zero_when_the_rollover_is_after_the_collections_day_start() -> None:
    zone = ZoneInfo("Europe/Paris")
    created = datetime(2024, 5, 1, 4, tzinfo=zone)  # Anki's 04:00, rollover set to 06:00 later
    assert anki_day_zero(created.astimezone(UTC), 6, zone) == date(2024, 5, 1)
    assert anki_day_zero(created.astimezone(UTC), 4, zone) == date(2024, 5, 1)
    assert anki_day_zero(created.astimezone(UTC), 0, zone) == date(2024, 5, 1)


def test_without_a_creation_date_day_due_cards_are_due_now_and_said_so() -> None:
    col = collection([note(1, "Q", "A")], [studied(10, 1, 10)], created=None)
    result = plan(col)
    state = only(result).state
    assert state is not None and state.due == NOW
    assert result.problems == (
        "The file does not say when its collection began, so 1 card scheduled by day is due now.",
    )


# --------------------------------------------------------------------------- the whole


def test_the_plan_is_deterministic() -> None:
    notes = [note(n, f"Q{n} $x$", f"A{n}", nt=2) for n in range(1, 20)]
    cards = [studied(100 + n, n, 300 + n, ord_=0) for n in range(1, 20)] + [
        new(200 + n, n, 1) for n in range(1, 20)
    ]
    rows = [row(T1 + k * DAY, 100 + n, 1 + (n + k) % 4) for n in range(1, 20) for k in range(5)]
    col = collection(notes, cards, rows)
    assert plan(col) == plan(col)
    assert plan(col).card_count == 38 and plan(col).review_count == 95


def test_corrupt_numbers_do_not_break_the_plan() -> None:
    notes = [note(n, f"Q{n}", "A") for n in (1, 2, 3, 4)]
    cards = [
        studied(10, 1, 999_999_999, interval=2**31),  # a day number a million years on
        studied(11, 2, 10**15, type_=1, queue=1, interval=0),  # epoch seconds past 9999
        studied(12, 3, -(10**8), interval=5, memory=(float("nan"), 5.0)),
        AnkiCard(13, 4, 1, 0, 9, 7, 3, 0, 0, 0),  # unknown type and queue: new
    ]
    rows = [
        AnkiReview(-5, 10, 3, 1, 0, 2500, 1000, 1),
        AnkiReview(10**17, 10, 3, 1, 0, 2500, 1000, 1),
        row(T1, 10, 7),
        row(T1, 11, 3),
    ]
    col = collection(notes, cards, rows, created=datetime(2024, 1, 1, 4), rollover=30)
    found = {c.front: c for c in cards_of(plan(col, learner("Asia/Tokyo")))}
    far, late, early, odd = (found[f"Q{n}"] for n in (1, 2, 3, 4))
    assert far.reviews == () and far.state is not None and far.state.due is not None
    assert far.state.due.year == 2124 and far.state.stability == 36500.0
    assert late.state is not None and late.state.due is not None and late.state.due.year == 3000
    assert len(late.reviews) == 1
    assert early.state is not None and early.state.stability == 5.0
    assert odd.state is None


def test_an_image_name_shown_as_text_is_escaped() -> None:
    col = collection(
        [note(1, 'Q <img src="a.png"> <img src="__init__$1.png"> <img src="x*y.png">', "A")],
        [new(10, 1)],
        media=[MediaFile("a.png", b"A"), MediaFile("__init__$1.png", b"B")],
    )
    card = only(plan(col))
    assert card.front == "Q [image: \\_\\_init\\_\\_\\$1.png] [image missing: x\\*y.png]"
    assert (
        Terminal(width=None).markdown(card.front)
        == "Q [image: __init__$1.png] [image missing: x*y.png]"
    )


def test_a_second_card_of_one_template_is_left_out() -> None:
    col = collection([note(1, "Q", "A")], [new(10, 1), studied(11, 1, 30)])
    result = plan(col)
    assert len(cards_of(result)) == 1 and cards_of(result)[0].state is None


def test_a_review_log_id_is_read_exactly_to_the_millisecond() -> None:
    rng = random.Random(5)
    ids = [rng.randrange(1_100_000_000_000, 4_100_000_000_000) for _ in range(2000)]
    rows = [AnkiReview(ms, 10, 3, 1, 0, 2500, 0, 1) for ms in sorted(ids)]
    reviews = only(plan(collection([note(1, "Q", "A")], [studied(10, 1, 30)], rows))).reviews
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    assert [r.reviewed_at for r in reviews] == [
        epoch + timedelta(milliseconds=ms) for ms in sorted(ids)
    ]


def test_day_zero_is_the_creations_date_in_the_zone_anki_kept() -> None:
    """A collection created in Tokyo (4 am there: 19:00 UTC the day before) counts its days
    from that Tokyo date, for a learner anywhere: Anki keeps the creation's offset
    (``creationOffset``, minutes west). Without it, a learner in Los Angeles (17 hours
    away) would be a day early."""
    created = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
    la = ZoneInfo("America/Los_Angeles")
    assert anki_day_zero(created, 4, la, creation_offset=-540) == date(2026, 12, 6)
    assert anki_day_zero(created, 4, ZoneInfo("Asia/Tokyo")) == date(2026, 12, 6)
    assert anki_day_zero(created, 4, la) == date(2026, 12, 5)  # the guess, 17 h away


def test_answers_in_a_filtered_deck_that_did_not_reschedule_are_left_out() -> None:
    """Cramming (or a preview) in a filtered deck with rescheduling off logs kind 3 with
    factor 0; Anki's FSRS skips those rows, and so does the replay: a late Again there
    leaves the card's memory as its real reviews made it."""
    real = [row(T1, 10, 3), row(T1 + 3 * DAY, 10, 3)]
    cram = AnkiReview(int((T1 + 4 * DAY).timestamp() * 1000), 10, 1, 0, 0, 0, 3000, 3)
    col = collection([note(1, "Q", "A")], [studied(10, 1, 100)], [*real, cram])
    planned = only(plan(col))
    assert [r.rating for r in planned.reviews] == [3, 3]
    assert usable_history([*real, cram]) == real


def test_the_memory_anki_kept_wins_over_the_replay() -> None:
    """Anki's own FSRS state (its parameters, its day counting) is kept when the file has
    it; the review-log rows still carry the replay's states."""
    rows = [row(T1, 10, 3), row(T1 + 3 * DAY, 10, 3)]
    card = studied(10, 1, 100, memory=(42.5, 6.25))
    planned = only(plan(collection([note(1, "Q", "A")], [card], rows)))
    assert planned.state is not None
    assert (planned.state.stability, planned.state.difficulty) == (42.5, 6.25)
    assert planned.reviews[-1].after.stability != 42.5
    broken = studied(10, 1, 100, memory=(float("nan"), 6.25))
    state = only(plan(collection([note(1, "Q", "A")], [broken], rows))).state
    assert state is not None and state.stability == planned.reviews[-1].after.stability


def test_day_zero_is_the_creations_own_date_whatever_the_rollover() -> None:
    """A collection created at 4 am in Berlin whose next-day hour was later set to 10 am:
    Anki still counts from the creation's own date (rslib), not the day before."""
    created = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)  # 04:00 in Berlin
    berlin = ZoneInfo("Europe/Berlin")
    assert anki_day_zero(created, 10, berlin, creation_offset=-60) == date(2026, 12, 5)
