"""Personal decks (imported files): the same behaviour on the fake, SQLite and PostgreSQL.

A personal deck is seen by its owner alone, offered only while unpaused, never touched by
a deck sync, and removed with everything that names its cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.core.model import CardImage, CardState, PersonalDeck, Prompt, ReviewEntry, SyncReport
from bot.core.ports import Database, Tx
from tests.contract.helpers import DAY, HOUR, T0, add_learner, review_state, save_states, sync
from tests.fakes.decks import make_card, make_deck
from tests.fakes.imports import PNG, planned_card, planned_deck


async def make_deck_of(
    db: Database, owner: int, title: str, card_ids: Sequence[str], *, slug: str | None = None
) -> str:
    """Create a personal deck with plain cards; its id."""
    deck = planned_deck(title, card_ids, slug=slug)

    def work(tx: Tx) -> str:
        deck_id = tx.personal.create(owner, deck.title, "anki", deck.source_ref, deck.slug, T0)
        tx.personal.upsert_cards(deck_id, deck.cards, T0)
        return deck_id

    return await db.run(work)


async def test_create_names_decks_by_owner_and_slug_and_finds_them_again(db: Database) -> None:
    ann = await add_learner(db, "1")
    await sync(db, make_deck(f"u{ann.id}-spanish", ["s1"]))  # a shipped deck holds the id

    def work(tx: Tx) -> list[str]:
        return [
            tx.personal.create(ann.id, "Spanish", "anki", "11", "spanish", T0),
            tx.personal.create(ann.id, "Spanish", "anki", "12", "spanish", T0),
            tx.personal.create(ann.id, "Odd", "text", "odd.txt", "  ?? Ünï  ", T0),
        ]

    ids = await db.run(work)
    assert ids == [f"u{ann.id}-spanish-2", f"u{ann.id}-spanish-3", f"u{ann.id}-n"]
    found = await db.run(lambda tx: tx.personal.find(ann.id, "anki", "12"))
    assert found == PersonalDeck(ids[1], ann.id, "Spanish", "anki", "12", 0, False, 0)
    assert await db.run(lambda tx: tx.personal.find(ann.id, "text", "12")) is None
    assert [d.id for d in await db.run(lambda tx: tx.personal.list(ann.id))] == ids
    assert await db.run(lambda tx: tx.personal.get(f"u{ann.id}-spanish")) is None  # shipped
    await db.run(lambda tx: tx.personal.retitle(ids[0], "Español", T0))
    titles = [d.title for d in await db.run(lambda tx: tx.personal.list(ann.id))]
    assert titles == ["Español", "Spanish", "Odd"]


async def test_upsert_adds_rewrites_leaves_alone_and_retires(db: Database) -> None:
    ann = await add_learner(db)
    deck_id = await make_deck_of(db, ann.id, "Spanish", ["a1", "a2", "a3"])
    # The first import's cards, as the catalogue shows them.
    info = await db.run(lambda tx: tx.catalogue.card("a2"))
    assert info is not None
    assert (info.deck_id, info.deck_title, info.front, info.back, info.tags) == (
        deck_id,
        "Spanish",
        "Front of a2",
        "Back of a2",
        (),
    )
    again = planned_deck(
        "Spanish",
        [
            planned_card("a1"),
            planned_card("a2", front="New front", back_image="verb.png"),
            planned_card("a4", front_image="map.jpg"),
        ],
    )
    report = await db.run(lambda tx: tx.personal.upsert_cards(deck_id, again.cards, T0 + DAY))
    assert report == SyncReport(added=1, updated=1, retired=1, unchanged=1)
    a2 = await db.run(lambda tx: tx.catalogue.card("a2"))  # not served stale from a cache
    assert a2 is not None and a2.front == "New front"
    assert a2.back_image == CardImage("media", f"{ann.id}/verb.png") and a2.front_image is None
    a4 = await db.run(lambda tx: tx.catalogue.card("a4"))
    assert a4 is not None and a4.front_image == CardImage("media", f"{ann.id}/map.jpg")
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic(deck_id, ann.id)) == [
        "a1",
        "a2",
        "a4",
    ]
    same = await db.run(lambda tx: tx.personal.upsert_cards(deck_id, again.cards, T0 + DAY))
    assert same == SyncReport(unchanged=3)
    # a3 comes back: un-retired.
    back = await db.run(
        lambda tx: tx.personal.upsert_cards(deck_id, (*again.cards, planned_card("a3", 3)), T0)
    )
    assert back == SyncReport(updated=1, unchanged=3)
    listed = await db.run(lambda tx: tx.personal.list(ann.id))
    assert [(d.card_count, d.reviews, d.paused) for d in listed] == [(4, 0, False)]


async def test_a_card_moves_between_its_owners_decks(db: Database) -> None:
    ann = await add_learner(db)
    first = await make_deck_of(db, ann.id, "A", ["c1", "c2"])
    second = await make_deck_of(db, ann.id, "B", ["c3"])
    moved = await db.run(
        lambda tx: tx.personal.upsert_cards(second, [planned_card("c3"), planned_card("c2", 1)], T0)
    )
    assert moved == SyncReport(updated=1, unchanged=1)
    info = await db.run(lambda tx: tx.catalogue.card("c2"))
    assert info is not None and info.deck_id == second
    kept = await db.run(lambda tx: tx.personal.upsert_cards(first, [planned_card("c1")], T0))
    assert kept == SyncReport(unchanged=1)  # c2 is the other deck's now: not retired here
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic(second, ann.id)) == ["c3", "c2"]


async def test_cards_whose_ids_are_held_elsewhere_are_refused(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    await sync(db, make_deck("shipped", ["s1"]))
    bens = await make_deck_of(db, ben.id, "Ben's", ["b1"])
    anns = await make_deck_of(db, ann.id, "Ann's", [])
    cards = [planned_card("s1"), planned_card("b1", 1), planned_card("a1", 2)]
    report = await db.run(lambda tx: tx.personal.upsert_cards(anns, cards, T0))
    assert report == SyncReport(added=1, refused=("s1", "b1"))
    s1, b1 = await db.run(lambda tx: (tx.catalogue.card("s1"), tx.catalogue.card("b1")))
    assert s1 is not None and s1.deck_id == "shipped" and s1.front == "Front of s1"
    assert b1 is not None and b1.deck_id == bens


async def test_a_deck_sync_never_touches_personal_decks(db: Database) -> None:
    ann = await add_learner(db)
    await sync(db, make_deck("shipped", ["s1"]))
    mine = await make_deck_of(db, ann.id, "Mine", ["m1", "m2"])
    # The shipped decks change: one is gone, one takes a personal deck's id, one holds a
    # card with a personal card's id. Those are left out; the rest syncs.
    clash = make_deck(mine, [make_card("m1", front="hijacked"), "s9"])
    other = make_deck("other", ["o1", make_card("m2", front="hijacked")])
    report = await db.run(lambda tx: tx.catalogue.sync([other, clash], T0))
    assert (report.added, report.updated, report.retired) == (1, 0, 1)  # o1 in, s1 out
    m1, m2 = await db.run(lambda tx: (tx.catalogue.card("m1"), tx.catalogue.card("m2")))
    assert m1 is not None and m2 is not None
    assert (m1.front, m2.front, m1.deck_title, m2.deck_title) == (
        "Front of m1",
        "Front of m2",
        "Mine",
        "Mine",
    )
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic(mine, ann.id)) == ["m1", "m2"]
    decks = await db.run(lambda tx: tx.catalogue.decks(ann.id))
    assert [(d.id, d.owner_id, d.card_count) for d in decks] == [
        ("other", None, 1),
        (mine, ann.id, 2),
    ]
    assert await db.run(lambda tx: tx.catalogue.card("s9")) is None


async def test_a_personal_deck_is_seen_by_its_owner_alone(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    await sync(db, make_deck("shipped", [make_card("s1", tags=("x",))]))
    mine = await make_deck_of(db, ann.id, "Mine", ["m1"])

    def seen(tx: Tx, viewer: int | None) -> tuple[object, ...]:
        return (
            [d.id for d in tx.catalogue.decks(viewer)],
            tx.catalogue.topics(viewer),
            tx.catalogue.cards_in_topic(mine, viewer),
        )

    assert await db.run(lambda tx: seen(tx, ann.id)) == (
        ["shipped", mine],
        ["shipped", mine, "x"],
        ["m1"],
    )
    assert await db.run(lambda tx: seen(tx, ben.id)) == (["shipped"], ["shipped", "x"], [])
    assert await db.run(lambda tx: seen(tx, None)) == (["shipped"], ["shipped", "x"], [])


async def _offered(db: Database, learner_id: int, now: datetime) -> dict[str, object]:
    """What every study query offers the learner at ``now`` (new cards and due ones)."""

    def work(tx: Tx) -> dict[str, object]:
        return {
            "new": tx.schedule.next_new(learner_id, (), now),
            "due": tx.schedule.next_due(learner_id, now),
            "due_and_counts": tx.schedule.next_due_and_counts(learner_id, now, now - DAY)[0],
            "count_due": tx.schedule.count_due(learner_id, now + HOUR),
            "due_times": tx.schedule.due_times(learner_id, now + HOUR),
            "per_day": tx.schedule.due_per_day(learner_id, [now - DAY, now + HOUR]),
            "next_at": tx.schedule.next_due_at(learner_id),
            "summary": tx.pushes.due_summary([learner_id], now),
        }

    return await db.run(work)


NOTHING: dict[str, object] = {
    "new": None,
    "due": None,
    "due_and_counts": None,
    "count_due": 0,
    "due_times": [],
    "per_day": [0],
    "next_at": None,
    "summary": {},
}


async def test_learner_b_never_gets_learner_as_imported_cards(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    deck_id = await make_deck_of(db, ann.id, "Ann's", ["a1", "a2"])
    # Ben holds a schedule row for one of Ann's cards (as no path of ours makes): still not his.
    await save_states(
        db, review_state(ann.id, "a1", T0 - HOUR), review_state(ben.id, "a1", T0 - HOUR)
    )
    assert await _offered(db, ben.id, T0) == NOTHING
    ann_sees = await _offered(db, ann.id, T0)
    assert ann_sees == {
        "new": "a2",
        "due": "a1",
        "due_and_counts": "a1",
        "count_due": 1,
        "due_times": [T0 - HOUR],
        "per_day": [1],
        "next_at": T0 - HOUR,
        "summary": {ann.id: ("a1", 1)},
    }
    # With topics naming Ann's deck, Ben still gets nothing of it.

    def in_topic(tx: Tx, learner_id: int) -> tuple[str | None, str | None]:
        return (
            tx.schedule.next_new(learner_id, [deck_id], T0),
            tx.schedule.next_due(learner_id, T0, topics=[deck_id]),
        )

    assert await db.run(lambda tx: in_topic(tx, ben.id)) == (None, None)
    assert await db.run(lambda tx: in_topic(tx, ann.id)) == ("a2", "a1")


async def test_a_paused_deck_offers_nothing_until_resumed(db: Database) -> None:
    ann = await add_learner(db)
    await sync(db, make_deck("shipped", ["s1"]))
    mine = await make_deck_of(db, ann.id, "Mine", ["m1", "m2"])
    await save_states(db, review_state(ann.id, "m1", T0 - HOUR))
    await db.run(lambda tx: tx.personal.set_paused(mine, True))
    offered = await _offered(db, ann.id, T0)
    assert offered == {**NOTHING, "new": "s1"}
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic(mine, ann.id)) == []
    decks = await db.run(lambda tx: tx.catalogue.decks(ann.id))
    assert [(d.id, d.paused) for d in decks] == [("shipped", False), (mine, True)]
    assert [d.paused for d in await db.run(lambda tx: tx.personal.list(ann.id))] == [True]
    await db.run(lambda tx: tx.personal.set_paused(mine, False))
    assert (await _offered(db, ann.id, T0))["due"] == "m1"
    # A shipped deck cannot be paused through this port.
    await db.run(lambda tx: tx.personal.set_paused("shipped", True))
    assert [d.paused for d in await db.run(lambda tx: tx.catalogue.decks())] == [False]


async def test_personal_decks_come_after_the_shipped_ones(db: Database) -> None:
    ann = await add_learner(db)
    await make_deck_of(db, ann.id, "First", ["f1"])
    await make_deck_of(db, ann.id, "Second", ["x1"])
    await sync(db, make_deck("shipped", ["s1"]))
    order: list[str] = []
    for _ in range(3):

        def take(tx: Tx) -> str | None:
            card = tx.schedule.next_new(ann.id, (), T0)
            if card is not None:
                tx.schedule.save(review_state(ann.id, card, T0 + DAY))
            return card

        got = await db.run(take)
        assert got is not None
        order.append(got)
    assert order == ["s1", "f1", "x1"]


def _review(learner_id: int, card_id: str, at: datetime, source: str = "anki") -> ReviewEntry:
    state = review_state(learner_id, card_id, at + DAY)
    return ReviewEntry(learner_id, card_id, 3, at, source, CardState(learner_id, card_id), state)


async def test_remove_deletes_the_deck_its_cards_their_rows_and_its_images(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    await sync(db, make_deck("shipped", ["s1"]))
    gone = await db.run(lambda tx: tx.personal.create(ann.id, "Gone", "anki", "1", "gone", T0))
    kept = await db.run(lambda tx: tx.personal.create(ann.id, "Kept", "anki", "2", "kept", T0))
    gone_cards = [
        planned_card("g1", back_image="only.png"),
        planned_card("g2", 1, front_image="both.png"),
    ]

    def fill(tx: Tx) -> None:
        tx.personal.upsert_cards(gone, gone_cards, T0)
        tx.personal.upsert_cards(kept, [planned_card("k1", back_image="both.png")], T0)
        for name in ("only.png", "both.png", "loose.png"):
            tx.media.put(ann.id, name, "image/png", PNG, T0)
        tx.media.put(ben.id, "only.png", "image/png", PNG, T0)
        for card in ("g1", "k1", "s1"):
            tx.schedule.save(review_state(ann.id, card, T0 + DAY))
            tx.reviews.add(_review(ann.id, card, T0))
            tx.prompts.add(Prompt(f"p{card}00000", ann.id, card, "dm", T0))

    await db.run(fill)
    listed = await db.run(lambda tx: tx.personal.list(ann.id))
    assert [(d.id, d.card_count, d.reviews) for d in listed] == [(gone, 2, 1), (kept, 1, 1)]
    await db.run(lambda tx: tx.personal.remove(gone))

    def look(tx: Tx) -> dict[str, object]:
        return {
            "decks": [d.id for d in tx.personal.list(ann.id)],
            "card": tx.catalogue.card("g1"),
            "reviews": sorted(e.card_id for e in tx.reviews.all_for(ann.id)),
            "states": sorted(
                s.card_id for s in tx.schedule.states_for([ann.id], ["g1", "k1", "s1"])
            ),
            "prompts": [t for t in ("pg100000", "pk100000", "ps100000") if tx.prompts.get(t)],
            "images": [n for n in ("only.png", "both.png", "loose.png") if tx.media.get(ann.id, n)],
            "ben's image": tx.media.get(ben.id, "only.png") is not None,
        }

    assert await db.run(look) == {
        "decks": [kept],
        "card": None,
        "reviews": ["k1", "s1"],
        "states": ["k1", "s1"],
        "prompts": ["pk100000", "ps100000"],
        "images": ["both.png"],
        "ben's image": True,
    }
    await db.run(lambda tx: tx.personal.remove("shipped"))  # not a personal deck: nothing happens
    assert await db.run(lambda tx: tx.catalogue.card("s1")) is not None


async def test_forgetting_a_learner_deletes_their_decks(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    anns = await make_deck_of(db, ann.id, "Ann's", ["a1"])
    bens = await make_deck_of(db, ben.id, "Ben's", ["b1"])

    def fill(tx: Tx) -> None:
        tx.media.put(ann.id, "x.png", "image/png", PNG, T0)
        tx.schedule.save(review_state(ann.id, "a1", T0 + DAY))
        tx.reviews.add(_review(ann.id, "a1", T0))

    await db.run(fill)
    await db.run(lambda tx: tx.learners.delete(ann.id))
    assert await db.run(lambda tx: tx.personal.get(anns)) is None
    assert await db.run(lambda tx: tx.catalogue.card("a1")) is None
    assert await db.run(lambda tx: tx.media.get(ann.id, "x.png")) is None
    assert [d.id for d in await db.run(lambda tx: tx.personal.list(ben.id))] == [bens]


async def test_pruning_keeps_the_images_live_cards_show(db: Database) -> None:
    ann = await add_learner(db)
    deck_id = await db.run(lambda tx: tx.personal.create(ann.id, "D", "anki", "1", "d", T0))

    def fill(tx: Tx) -> int:
        two = [planned_card("c1", front_image="a.png"), planned_card("c2", 1, back_image="b.png")]
        tx.personal.upsert_cards(deck_id, two, T0)
        for name in ("a.png", "b.png"):
            tx.media.put(ann.id, name, "image/png", PNG, T0)
        tx.personal.upsert_cards(deck_id, [planned_card("c1", front_image="a.png")], T0)
        return tx.media.prune(ann.id)

    assert await db.run(fill) == 1
    assert await db.run(lambda tx: tx.media.get(ann.id, "b.png")) is None
    stored = await db.run(lambda tx: tx.media.get(ann.id, "a.png"))
    assert stored is not None and (stored.mime, stored.data) == ("image/png", PNG)


async def test_reviews_in_bulk_and_what_an_import_reads_back(db: Database) -> None:
    ann = await add_learner(db)
    await sync(db, make_deck("d", ["c1", "c2"]))
    early = T0 - 3 * DAY + timedelta(microseconds=999_999)  # instants kept to the microsecond
    times = [early, T0 - DAY]
    entries = [_review(ann.id, "c1", t) for t in times] + [_review(ann.id, "c2", T0 - DAY)]

    def work(tx: Tx) -> int:
        added = tx.reviews.add_many(entries)
        tx.reviews.add(_review(ann.id, "c1", T0, "dm"))
        tx.reviews.add(_review(ann.id, "c2", T0, "cram"))
        undone = tx.reviews.add(_review(ann.id, "c2", T0 + HOUR, "dm"))
        tx.reviews.mark_undone(undone, T0 + HOUR)
        assert tx.reviews.add_many([]) == 0
        return added

    assert await db.run(work) == 3
    assert await db.run(lambda tx: tx.reviews.keys(ann.id, "anki")) == {
        ("c1", early),
        ("c1", T0 - DAY),
        ("c2", T0 - DAY),
    }
    assert await db.run(lambda tx: tx.reviews.last_reviewed(ann.id, ["anki", "cram"])) == {"c1": T0}
    assert await db.run(lambda tx: tx.reviews.last_reviewed(ann.id, [])) == {
        "c1": T0,
        "c2": T0,
    }
    logged = await db.run(lambda tx: tx.reviews.all_for(ann.id))
    assert [(e.card_id, e.reviewed_at, e.source) for e in logged[:3]] == [
        ("c1", early, "anki"),
        ("c1", T0 - DAY, "anki"),
        ("c2", T0 - DAY, "anki"),
    ]
    first = logged[0].after
    assert (first.state, first.stability, first.difficulty, first.due) == (
        entries[0].after.state,
        5.0,
        5.0,
        early + DAY,
    )
