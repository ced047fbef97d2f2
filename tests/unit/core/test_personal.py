"""Importing a file into personal decks, and /decks pause, resume and remove (over the fakes).

The reader is a fake returning a hand-made :class:`AnkiCollection`, and the mapping,
:func:`bot.core.importing.plan_import`, is monkeypatched to return a hand-made
:class:`ImportPlan` (``tests/fakes/imports.py``), so what is tested here is what happens
around the mapping and after it, exactly. Whole files through the real reader and mapping:
``test_personal_anki.py``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core import importing
from bot.core.actions import DeckChoice, decode
from bot.core.ankifile import AnkiCollection, ImportLimits, ImportRejected, MediaFile, format_bytes
from bot.core.importing import ImportPlan, SkippedNotes
from bot.core.learners import Who
from bot.core.model import CardImage, CardState, Learner, ReviewEntry
from bot.core.outcomes import Outcome
from bot.core.personal import IMPORT_UNAVAILABLE, image_mime
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_deck
from tests.fakes.imports import (
    PNG,
    FakeFetch,
    FakeReader,
    history,
    plan,
    planned_card,
    planned_deck,
)
from tests.fakes.media import FakeMedia
from tests.services import Services, action_of, build_services, is_expired, only

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
DAY = timedelta(days=1)
ANN = Who("test", "1", "Ann")
BEN = Who("test", "2", "Ben")
DATA = FakeFetch().data
SKIPPED = SkippedNotes("Image Occlusion", 12, "their cards are drawn over an image.")


def spanish(learner: Learner, *, edited: bool = False) -> ImportPlan:
    """Ann's Anki deck: two cards with history (v1 due yesterday, v2 due tomorrow), one
    new with an image; ``edited``: v3's front changed, v2 reviewed once more, v4 added."""
    lid = learner.id
    v1_log, v1 = history(lid, "v1", [START - 10 * DAY, START - 4 * DAY])
    v2_times = [START - 20 * DAY, START - 10 * DAY, START - 2 * DAY]
    if edited:
        v2_times.append(START - DAY)
    v2_log, v2 = history(lid, "v2", v2_times)
    cards = [
        planned_card("v1", state=v1, reviews=v1_log),
        planned_card("v2", state=v2, reviews=v2_log),
        planned_card("v3", front="hablar?" if edited else None, back_image="hablar.png"),
    ]
    if edited:
        cards.append(planned_card("v4"))
    return plan(
        planned_deck("Spanish::Verbs", cards, source_ref="1700000000001", slug="spanish-verbs"),
        media=[MediaFile("hablar.png", PNG)],
        skipped=[SKIPPED],
        problems=["The sound “ola.mp3” was left out: sounds can't be played here."],
    )


Planner = Callable[[Learner], ImportPlan]


@dataclass
class Env:
    services: Services[FakeDatabase]
    reader: FakeReader
    planned: list[Learner]
    planner: list[Planner]

    @property
    def db(self) -> FakeDatabase:
        return self.services.db

    async def send(self, who: Who = ANN, size: int = len(DATA), name: str = "s.apkg") -> Outcome:
        return await self.services.study.import_file(who, name, size, FakeFetch())

    async def text(self, who: Who = ANN) -> str:
        return only(await self.send(who)).text

    async def learner(self, who: Who = ANN) -> Learner:
        return await self.services.study.learner(who)


def make_env(
    monkeypatch: pytest.MonkeyPatch,
    planner: Planner = spanish,
    *,
    shipped: bool = False,
    topics: tuple[str, ...] = (),
) -> Env:
    decks = [make_deck("shipped", ["s1"], title="Shipped")] if shipped else []
    db = FakeDatabase(decks, START - DAY)
    services = build_services(db, FixedClock(START), topics=topics)
    reader = FakeReader()
    services.study.reader = reader
    env = Env(services, reader, [], [planner])

    def plan_import(collection: AnkiCollection, learner: Learner, now: datetime) -> ImportPlan:
        # Monkeypatched: a hand-made plan.
        assert collection is reader.result and now == START
        env.planned.append(learner)
        return env.planner[0](learner)

    monkeypatch.setattr(importing, "plan_import", plan_import)
    return env


FOOTER = (
    "Send /review to study. /decks lists your decks: /decks pause ID, /decks resume ID "
    "and /decks remove ID pause, resume or remove one."
)
SKIPPED_LINE = (
    "12 notes of type 'Image Occlusion' were skipped: their cards are drawn over an image."
)
PROBLEMS = "Also:\n• The sound “ola.mp3” was left out: sounds can't be played here."


# --------------------------------------------------------------------------- importing


async def test_a_first_import_writes_the_decks_cards_history_and_images(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch)
    assert await env.text() == "\n".join(
        [
            "Imported 'Spanish::Verbs' (u1-spanish-verbs): 3 cards (1 new, 2 with history), "
            "5 reviews; 1 due today.",
            SKIPPED_LINE,
            PROBLEMS,
            "You study every deck, and the new cards of your own decks come after the bot's "
            "decks: /decks u1-spanish-verbs studies it alone.",
            FOOTER,
        ]
    )
    assert env.reader.calls == [(DATA, "s.apkg", ImportLimits())]
    learner = await env.learner()
    expected = spanish(learner)
    assert [lr.id for lr in env.planned] == [learner.id]
    reviews = env.db.reviews(learner.id)
    wanted = [e for c in expected.decks[0].cards for e in c.reviews]
    assert [(e.card_id, e.reviewed_at, e.source, e.rating) for e in reviews] == [
        (e.card_id, e.reviewed_at, "anki", e.rating) for e in wanted
    ]
    planned = {c.id: c.state for c in expected.decks[0].cards}
    assert env.db.state(learner.id, "v1") == planned["v1"]
    assert env.db.state(learner.id, "v2") == planned["v2"]
    assert not env.db.has_state(learner.id, "v3")
    v3 = env.db.run_sync(lambda tx: tx.catalogue.card("v3"))
    # Stored under its content's digest too: another package's "hablar.png" is another image.
    name = hashlib.sha256(PNG).hexdigest()[:16] + "-hablar.png"
    assert v3 is not None and v3.back_image == CardImage("media", f"{learner.id}/{name}")
    assert v3.deck_title == "Spanish::Verbs" and v3.deck_id == "u1-spanish-verbs"
    stored = env.db.run_sync(lambda tx: tx.media.get(learner.id, name))
    assert stored is not None and (stored.mime, stored.data) == ("image/png", PNG)
    # The learner studies it: the card due yesterday comes first, then the new one.
    first = only(await env.services.study.next(ANN))
    assert first.card is not None and first.card.card_id == "v1"


async def test_importing_the_same_file_again_changes_nothing(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch)
    await env.send()
    before = env.db.snapshot()
    assert await env.text() == "\n".join(
        [
            "Already imported: 'Spanish::Verbs' has no changes (3 cards, 5 reviews).",
            SKIPPED_LINE,
            PROBLEMS,
        ]
    )
    after = env.db.snapshot()
    assert after.reviews == before.reviews and after.states == before.states
    assert after.cards == before.cards and after.media == before.media


async def test_a_changed_file_updates_the_deck(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch)
    await env.send()
    env.planner[0] = lambda learner: spanish(learner, edited=True)
    text = await env.text()
    assert text.splitlines()[0] == (
        "Updated 'Spanish::Verbs' (u1-spanish-verbs): 1 new card, 1 card changed, "
        "1 review added, 1 schedule updated from Anki (4 cards, 6 reviews in all); "
        "1 due today."
    )
    assert text.endswith(FOOTER)
    learner = await env.learner()
    assert len(env.db.reviews(learner.id)) == 6
    v3 = env.db.run_sync(lambda tx: tx.catalogue.card("v3"))
    assert v3 is not None and v3.front == "hablar?"
    assert [d.id for d in env.db.run_sync(lambda tx: tx.personal.list(learner.id))] == [
        "u1-spanish-verbs"
    ]


async def test_cards_gone_from_the_file_are_set_aside_and_a_new_title_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch)
    await env.send()

    def shorter(learner: Learner) -> ImportPlan:
        full = spanish(learner)
        deck = replace(full.decks[0], title="Verbos", cards=full.decks[0].cards[:2])
        return replace(full, decks=(deck,), skipped=(), problems=())

    env.planner[0] = shorter
    assert (await env.text()).splitlines()[0] == (
        "Updated 'Verbos' (u1-spanish-verbs): renamed from 'Spanish::Verbs', 1 card no "
        "longer in the file set aside (their history is kept) (2 cards, 5 reviews in all); "
        "1 due today."
    )
    learner = await env.learner()
    assert env.db.run_sync(lambda tx: tx.catalogue.cards_in_topic("u1-spanish-verbs", 1)) == [
        "v1",
        "v2",
    ]
    # The image only v3 showed is gone with it.
    assert env.db.run_sync(lambda tx: tx.media.get(learner.id, "hablar.png")) is None


async def test_a_card_studied_here_since_keeps_our_schedule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch)
    await env.send()
    learner = await env.learner()
    anki_v1 = env.db.state(learner.id, "v1")
    # Ann reviews v1 here today (after Anki's last review of it, four days ago).
    ours = replace(anki_v1, due=START + 9 * DAY, last_review=START, stability=9.0)

    def study_here(tx: FakeTx) -> None:
        tx.reviews.add(ReviewEntry(learner.id, "v1", 3, START, "dm", anki_v1, ours))
        tx.schedule.save(ours)

    env.db.run_sync(study_here)
    # Practice and an undone review never count as studying it here.
    v2 = env.db.state(learner.id, "v2")

    def practise(tx: FakeTx) -> None:
        tx.reviews.add(ReviewEntry(learner.id, "v2", 1, START, "cram", v2, v2))
        undone = tx.reviews.add(ReviewEntry(learner.id, "v2", 1, START, "dm", v2, v2))
        tx.reviews.mark_undone(undone, START)
        tx.schedule.save(replace(v2, due=START + 50 * DAY))

    env.db.run_sync(practise)
    env.planner[0] = lambda lr: spanish(lr, edited=True)  # v2 reviewed in Anki yesterday
    await env.send()
    assert env.db.state(learner.id, "v1") == ours
    new_v2 = spanish(learner, edited=True).decks[0].cards[1].state
    assert new_v2 is not None and env.db.state(learner.id, "v2") == new_v2


async def test_an_imported_review_is_not_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch)
    await env.send()
    learner = await env.learner()
    before = env.db.state(learner.id, "v2")
    reply = only(await env.services.study.undo(ANN))
    assert reply.text.startswith("There is nothing to undo: your latest review was made in Anki")
    assert env.db.state(learner.id, "v2") == before
    assert all(e.undone_at is None for e in env.db.reviews(learner.id))


async def test_new_decks_join_the_topics_a_learner_chose(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch, shipped=True, topics=("shipped",))
    text = await env.text()
    assert "Added u1-spanish-verbs to the decks you study." in text
    assert "You study every deck" not in text
    assert (await env.learner()).topics == ("shipped", "u1-spanish-verbs")
    await env.send()  # a re-import adds nothing more
    assert (await env.learner()).topics == ("shipped", "u1-spanish-verbs")


async def test_nothing_is_written_when_the_writing_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch)
    await env.learner()
    before = env.db.snapshot()

    def broken(
        self: FakeMedia, owner: int, name: str, mime: str, data: bytes, now: datetime
    ) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(FakeMedia, "put", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        await env.send()
    assert env.db.snapshot() == before


async def test_a_file_over_the_limit_is_never_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch)
    fetch = FakeFetch()
    reply = only(await env.services.study.import_file(ANN, "big.apkg", 25 * 2**20, fetch))
    assert reply.kind == "error"
    assert reply.text.startswith("That file is 25 MB; I can import files of up to 20 MB.")
    assert fetch.calls == 0 and env.reader.calls == []
    # A platform that declared less than it sent: refused once the size is known.
    big = FakeFetch(b"x" * (20 * 2**20 + 1))
    reply = only(await env.services.study.import_file(ANN, "big.apkg", 10, big))
    assert reply.text.startswith("That file is just over 20 MB; I can import files of up to 20 MB.")
    assert big.calls == 1 and env.reader.calls == []


async def test_without_a_reader_the_file_is_not_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch)
    env.services.study.reader = None
    fetch = FakeFetch()
    assert only(await env.services.study.import_file(ANN, "s.apkg", 10, fetch)).text == (
        IMPORT_UNAVAILABLE
    )
    assert fetch.calls == 0


async def test_a_rejected_file_gets_the_readers_words_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch)
    env.reader.result = ImportRejected("That file is not an Anki package: it is not a zip file.")
    reply = only(await env.send())
    assert (reply.kind, reply.text) == (
        "error",
        "That file is not an Anki package: it is not a zip file.",
    )
    assert env.planned == []
    assert env.db.store.decks == {} and env.db.store.cards == {}


async def test_a_reader_or_mapping_that_breaks_is_told_plainly(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    env = make_env(monkeypatch)
    env.reader.result = KeyError("notes")
    reply = only(await env.send(name="odd.apkg"))
    assert reply.text == (
        "I couldn't read “odd.apkg”: something in it is not what an Anki package or an Anki "
        "text export holds. Nothing was imported."
    )
    assert "reading 'odd.apkg' failed" in caplog.text
    env.reader.result = FakeReader().result

    def broken(learner: Learner) -> ImportPlan:
        raise ImportRejected("Every note of that file is of a type I can't map.")

    env.planner[0] = broken
    assert only(await env.send()).text == "Every note of that file is of a type I can't map."
    assert env.db.store.decks == {}


async def test_a_long_list_of_problems_is_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    def many(learner: Learner) -> ImportPlan:
        return replace(spanish(learner), problems=tuple(f"problem {i}" for i in range(25)))

    env = make_env(monkeypatch, many)
    lines = (await env.text()).splitlines()
    start = lines.index("Also:")
    assert lines[start + 1 : start + 12] == [
        *(f"• problem {i}" for i in range(10)),
        "• … and 15 more.",
    ]


async def test_a_file_with_nothing_to_import(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch, lambda learner: plan(skipped=[SKIPPED]))
    reply = only(await env.send())
    assert reply.kind == "error"
    assert reply.text == (
        "I found nothing to import in that file: no note in it makes a card I can show.\n"
        + SKIPPED_LINE
    )
    assert env.db.store.decks == {}


async def test_an_image_of_a_type_we_cannot_show_is_left_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def with_bmp(learner: Learner) -> ImportPlan:
        full = spanish(learner)
        return replace(full, media=(MediaFile("hablar.png", b"BM not a png"),), problems=())

    env = make_env(monkeypatch, with_bmp)
    text = await env.text()
    assert (
        "• “hablar.png” is not an image I can show (PNG, JPEG, GIF, WebP or SVG): its cards "
        "show without it." in text
    )
    assert env.db.store.media == {}


def test_image_types_and_sizes() -> None:
    cases = {
        PNG: "image/png",
        b"\xff\xd8\xff\xe0JFIF": "image/jpeg",
        b"GIF89a....": "image/gif",
        b"RIFF\x10\x00\x00\x00WEBPVP8 ": "image/webp",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>': "image/svg+xml",
        b"BM\x00\x00": None,
        b"<html><svg/></html>": None,
    }
    for data, mime in cases.items():
        assert image_mime(MediaFile("x", data)) == mime, data
    assert [format_bytes(n) for n in (12, 340 * 1024, 20 * 2**20, int(20.5 * 2**20))] == [
        "12 bytes",
        "340 KB",
        "20 MB",
        "20.5 MB",
    ]


# --------------------------------------------------------------------------- who sees what


async def test_learner_b_never_gets_learner_as_imported_cards(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch, shipped=True)
    await env.send()
    ben = await env.learner(BEN)
    # Ben even holds a due schedule row for one of Ann's cards: still never offered.
    env.db.run_sync(
        lambda tx: tx.schedule.save(CardState(ben.id, "v1", due=START - DAY, last_review=START))
    )
    seen: list[str] = []
    for _ in range(3):
        reply = only(await env.services.study.next(BEN))
        if reply.card is None:
            break
        seen.append(reply.card.card_id)
        back = (await env.services.press(BEN, reply.buttons[0][0].payload)).edit
        assert back is not None
        await env.services.press(BEN, back.buttons[0][3].payload)  # Easy: days away
    assert seen == ["s1"]
    decks = only(await env.services.study.decks(BEN)).text
    assert "Spanish" not in decks and "Your decks" not in decks
    refused = only(await env.services.study.cram(BEN, "u1-spanish-verbs")).text
    assert refused.startswith("I don't know the topic “u1-spanish-verbs”.")
    chose = only(await env.services.study.study_topics(BEN, ["u1-spanish-verbs"]))
    assert chose.kind == "error"
    # Ann sees her deck in every place a learner picks from; a group quiz does not.
    ann_decks = only(await env.services.study.decks(ANN, menu=True))
    assert "Your decks:\n• Spanish::Verbs (u1-spanish-verbs): 3 cards" in ann_decks.text
    quiz = await env.services.quiz.start(ANN, "-100", "u1-spanish-verbs")
    assert "I have no cards on “u1-spanish-verbs”" in quiz.notice + "".join(
        r.text for r in quiz.replies
    )


# --------------------------------------------------------------------------- /decks


async def test_decks_lists_own_decks_with_their_buttons(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch, shipped=True)
    await env.send()
    reply = only(await env.services.study.decks(ANN, menu=True))
    assert reply.text == "\n".join(
        [
            "• Shipped (shipped): 1 card",
            "Your decks:",
            "• Spanish::Verbs (u1-spanish-verbs): 3 cards",
            "You study: all decks.",
            "/decks pause ID, /decks resume ID or /decks remove ID changes one of yours.",
        ]
    )
    assert [[b.label for b in row] for row in reply.buttons] == [
        ["Shipped"],
        ["Spanish::Verbs"],
        ["All decks"],
        ["Pause Verbs", "Remove Verbs"],
    ]
    assert decode(reply.buttons[3][0].payload) == DeckChoice("pause", "u1-spanish-verbs")
    assert decode(reply.buttons[3][1].payload) == DeckChoice("remove", "u1-spanish-verbs")


async def test_pausing_a_deck_holds_back_its_cards_until_resumed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch)
    await env.send()
    menu = only(await env.services.study.decks(ANN, menu=True))
    tapped = await env.services.press(ANN, menu.buttons[-1][0].payload)
    assert tapped.notice.startswith("Paused 'Spanish::Verbs' (u1-spanish-verbs)")
    assert tapped.edit is not None
    assert "• Spanish::Verbs (u1-spanish-verbs): 3 cards, paused" in tapped.edit.text
    assert tapped.edit.buttons[-1][0].label == "Resume Verbs"
    done = only(await env.services.study.next(ANN))
    assert done.card is None and done.kind == "done"  # v1 was due, v3 new: neither offered
    assert done.text.endswith(
        "Paused, so not offered: 'Spanish::Verbs' (u1-spanish-verbs). /decks resume ID "
        "brings one back."
    )
    again = only(await env.services.study.decks(ANN, ["pause", "u1-spanish-verbs"]))
    assert again.text == "'Spanish::Verbs' (u1-spanish-verbs) is already paused."
    resumed = only(await env.services.study.decks(ANN, ["RESUME", "U1-Spanish-Verbs"]))
    assert resumed.text == (
        "Resumed 'Spanish::Verbs' (u1-spanish-verbs): its cards come back in /review."
    )
    card = only(await env.services.study.next(ANN)).card
    assert card is not None and card.card_id == "v1"
    # Re-importing a paused deck leaves it paused, and says so.
    await env.services.study.decks(ANN, ["pause", "u1-spanish-verbs"])
    env.planner[0] = lambda lr: spanish(lr, edited=True)
    assert (
        (await env.text())
        .splitlines()[0]
        .endswith("It is paused: /decks resume u1-spanish-verbs brings it back.")
    )


async def test_removing_a_deck_asks_first_then_deletes_all_of_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch, topics=("u1-spanish-verbs",))
    await env.send()
    learner = await env.learner()
    question = only(await env.services.study.decks(ANN, ["remove", "u1-spanish-verbs"]))
    assert question.text == (
        "This removes 'Spanish::Verbs' with its 3 cards and your 5 reviews of them. "
        "It cannot be undone. Remove it?"
    )
    yes, no = question.buttons[0]
    assert (yes.label, no.label) == ("Yes, remove it", "No, keep it")
    assert is_expired(await env.services.press(BEN, yes.payload))  # not Ben's to answer
    kept = await env.services.press(ANN, no.payload)
    assert kept.edit is not None and kept.edit.text == "Nothing was deleted."
    assert len(env.db.reviews(learner.id)) == 5
    # Asked again, from the menu's button this time.
    menu = only(await env.services.study.decks(ANN, menu=True))
    question = only(await env.services.press(ANN, menu.buttons[-1][1].payload))
    removed = await env.services.press(ANN, question.buttons[0][0].payload)
    assert removed.edit is not None and removed.edit.text == (
        "Removed 'Spanish::Verbs': its 3 cards and your 5 reviews of them are deleted. "
        "You now study every deck."
    )
    store = env.db.store
    assert store.decks == {} and store.cards == {} and store.media == {}
    assert env.db.reviews(learner.id) == [] and store.states == {}
    assert (await env.learner()).topics == ()
    assert is_expired(await env.services.press(ANN, question.buttons[0][0].payload))


async def test_removing_the_deck_an_exam_covers_clears_the_exam(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = make_env(monkeypatch)
    await env.send()
    learner = await env.learner()
    exam = replace(learner.settings, exam_date=date(2027, 1, 15), exam_topic="u1-spanish-verbs")
    await env.db.run(lambda tx: tx.learners.save_settings(learner.id, exam))
    question = only(await env.services.study.decks(ANN, ["remove", "u1-spanish-verbs"]))
    removed = await env.services.press(ANN, question.buttons[0][0].payload)
    assert removed.edit is not None and removed.edit.text.endswith(
        "Your exam covered only this deck, so it is cleared: /exam sets a new one."
    )
    settings = (await env.learner()).settings
    assert (settings.exam_date, settings.exam_topic) == (None, None)


async def test_deck_commands_refuse_what_is_not_yours(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch, shipped=True)
    await env.send()
    study = env.services.study
    assert only(await study.decks(BEN, ["remove", "u1-spanish-verbs"])).text == (
        "You have no deck with the id “u1-spanish-verbs”. You have imported none yet: send "
        "me an Anki package (.apkg) or an Anki text export in this chat to make one."
    )
    assert only(await study.decks(ANN, ["pause", "u1-nope"])).text == (
        "You have no deck with the id “u1-nope”. Your decks: u1-spanish-verbs."
    )
    own_deck = (
        "“Shipped” is one of the bot's own decks: only decks you imported can be paused or "
        "removed. /decks shipped studies it alone, /decks all studies every deck."
    )
    assert only(await study.decks(ANN, ["remove", "shipped"])).text == own_deck
    # Named by its title, or its id in capitals, it is still the bot's own.
    assert only(await study.decks(ANN, ["pause", "Shipped"])).text == own_deck
    assert only(await study.decks(ANN, ["pause", "SHIPPED"])).text == own_deck
    assert only(await study.decks(ANN, ["pause"])).text == (
        "Give one deck id: /decks pause ID, /decks resume ID or /decks remove ID (the ids "
        "/decks lists)."
    )
    forged = DeckChoice("pause", "u1-spanish-verbs").encode()
    assert only(await env.services.press(BEN, forged)).kind == "error"
    assert not env.db.store.decks["u1-spanish-verbs"].paused
    assert env.db.store.confirmations == {}


async def test_forgetting_a_learner_deletes_their_decks(monkeypatch: pytest.MonkeyPatch) -> None:
    env = make_env(monkeypatch)
    await env.send()
    question = only(await env.services.study.request_forget(ANN))
    assert "the decks you imported" in question.text
    done = await env.services.press(ANN, question.buttons[0][0].payload)
    assert done.edit is not None and done.edit.text.startswith(
        "Done: I deleted your settings, your schedule, 5 reviews and the 1 deck you imported."
    )
    assert env.db.store.decks == {} and env.db.store.cards == {} and env.db.store.media == {}


async def test_a_payload_too_long_for_a_deck_gets_no_button() -> None:
    with pytest.raises(ValueError):
        DeckChoice("remove", "u1-" + "x" * 60).encode()
    assert decode(DeckChoice("resume", "u12-a.b_c").encode()) == DeckChoice("resume", "u12-a.b_c")
    assert action_of("c:t0000001:1").kind == "confirm"
