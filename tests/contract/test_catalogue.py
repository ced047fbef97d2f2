"""The deck catalogue and deck sync: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from bot.core.choices import Choices
from bot.core.decks import Deck
from bot.core.imagespec import FormulaSpec, parse_shape_spec
from bot.core.model import CardImage, CardInfo, DeckInfo, SyncReport
from bot.core.ports import Database, Tx
from bot.deckfiles import SHIPPED_DECKS, load_decks
from tests.contract.helpers import DAY, T0, add_learner, review_state, save_states, sync
from tests.fakes.decks import make_card, make_deck


async def test_sync_upserts_retires_and_keeps_history(db: Database) -> None:
    v1 = [make_deck("d", [make_card("a", tags=("x",)), "b"])]
    r1 = await db.run(lambda tx: tx.catalogue.sync(v1, T0))
    assert (r1.added, r1.updated, r1.retired, r1.unchanged) == (2, 0, 0, 0)
    again = await db.run(lambda tx: tx.catalogue.sync(v1, T0))
    assert (again.added, again.updated, again.retired, again.unchanged) == (0, 0, 0, 2)

    learner = await add_learner(db)
    state = review_state(learner.id, "b", T0)
    await save_states(db, state)

    # Edit a's text, drop b: a is updated, b retired, b's schedule kept.
    v2 = [make_deck("d", [make_card("a", tags=("y",), back="new back")])]
    r2 = await db.run(lambda tx: tx.catalogue.sync(v2, T0))
    assert (r2.added, r2.updated, r2.retired, r2.unchanged) == (0, 1, 1, 0)
    info = await db.run(lambda tx: tx.catalogue.card("a"))
    assert info is not None and info.back == "new back" and info.tags == ("y",)
    assert await db.run(lambda tx: tx.schedule.get(learner.id, "b")) == state
    assert await db.run(lambda tx: tx.schedule.next_due(learner.id, T0 + DAY)) is None
    assert [d.card_count for d in await db.run(lambda tx: tx.catalogue.decks())] == [1]

    # Bring b back: un-retired, its schedule is live again.
    r3 = await db.run(lambda tx: tx.catalogue.sync(v1, T0))
    assert (r3.added, r3.updated, r3.retired) == (0, 2, 0)
    assert await db.run(lambda tx: tx.schedule.next_due(learner.id, T0 + DAY)) == "b"


async def test_sync_without_retire_keeps_missing_decks_and_cards(db: Database) -> None:
    await sync(db, make_deck("d", ["a"]), make_deck("e", ["b"]))
    report = await db.run(lambda tx: tx.catalogue.sync([make_deck("e", ["b"])], T0, retire=False))
    assert (report.added, report.retired) == (0, 0)
    assert [d.id for d in await db.run(lambda tx: tx.catalogue.decks())] == ["d", "e"]
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic("d")) == ["a"]


async def test_a_retired_deck_comes_back_when_synced_again(db: Database) -> None:
    d, e = make_deck("d", ["a"]), make_deck("e", ["b"])
    await sync(db, d, e)
    await sync(db, e)
    assert [x.id for x in await db.run(lambda tx: tx.catalogue.decks())] == ["e"]
    assert await db.run(lambda tx: tx.catalogue.topics()) == ["e"]
    await sync(db, d, e)
    assert [x.id for x in await db.run(lambda tx: tx.catalogue.decks())] == ["d", "e"]


async def test_moving_a_deck_updates_its_cards(db: Database) -> None:
    """A card's place in the catalogue is part of its content (study order follows it)."""
    d, e = make_deck("d", ["a", "b"]), make_deck("e", ["c"])
    await sync(db, d, e)
    report = await db.run(lambda tx: tx.catalogue.sync([e, d], T0))
    assert (report.added, report.updated, report.unchanged) == (0, 3, 0)
    assert [x.id for x in await db.run(lambda tx: tx.catalogue.decks())] == ["e", "d"]


async def test_card_content(db: Database) -> None:
    card = make_card(
        "attn-1",
        title="Scaled scores",
        front="Why divide by sqrt(d_k)?",
        back="To keep the softmax out of saturation.",
        tags=("scaling", "attention"),
        mnemonic="Shrink before you squash",
        notes="Vaswani et al. 2017",
        front_image=FormulaSpec(r"\frac{QK^T}{?}"),
        back_image=FormulaSpec(r"\frac{QK^T}{\sqrt{d_k}}"),
    )
    await sync(db, make_deck("attention", [card], title="Attention"))
    assert await db.run(lambda tx: tx.catalogue.card("attn-1")) == CardInfo(
        id="attn-1",
        deck_id="attention",
        deck_title="Attention",
        title="Scaled scores",
        front="Why divide by sqrt(d_k)?",
        back="To keep the softmax out of saturation.",
        tags=("attention", "scaling"),
        mnemonic="Shrink before you squash",
        notes="Vaswani et al. 2017",
        front_image=CardImage("formula", r"\frac{QK^T}{?}"),
        back_image=CardImage("formula", r"\frac{QK^T}{\sqrt{d_k}}"),
    )
    plain = make_card("p")
    await sync(db, make_deck("attention", [card, plain], title="Attention"))
    found = await db.run(lambda tx: tx.catalogue.card("p"))
    assert found is not None
    assert (found.tags, found.mnemonic, found.notes) == ((), None, None)
    assert (found.front_image, found.back_image) == (None, None)
    assert await db.run(lambda tx: tx.catalogue.card("missing")) is None


async def test_a_sync_adds_changes_and_removes_a_front_image(db: Database) -> None:
    """The front image is part of a card's content: a sync that changes only it updates
    the card, and a card read before sees it."""
    asked = parse_shape_spec("Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4")
    other = parse_shape_spec("X[n,d] @ W_K[?,?] -> K[n,d_k]")
    shown = parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4")
    await sync(db, make_deck("d", [make_card("a", back_image=shown)]))
    before = await db.run(lambda tx: tx.catalogue.card("a"))
    assert before is not None and before.front_image is None

    seen: list[CardImage | None] = []
    for front in (asked, other, None):
        decks = [make_deck("d", [make_card("a", front_image=front, back_image=shown)])]

        def work(tx: Tx, decks: list[Deck] = decks) -> SyncReport:
            return tx.catalogue.sync(decks, T0)

        report = await db.run(work)
        assert (report.updated, report.unchanged) == (1, 0)
        info = await db.run(lambda tx: tx.catalogue.card("a"))
        assert info is not None and info.back_image == CardImage("shape", shown.source)
        seen.append(info.front_image)
    assert seen == [CardImage("shape", asked.source), CardImage("shape", other.source), None]


async def test_a_read_card_changes_when_its_deck_file_does(db: Database) -> None:
    await sync(db, make_deck("d", [make_card("a", front="old")]))
    first = await db.run(lambda tx: tx.catalogue.card("a"))
    await sync(db, make_deck("d", [make_card("a", front="new")]))
    second = await db.run(lambda tx: tx.catalogue.card("a"))
    assert first is not None and second is not None
    assert (first.front, second.front) == ("old", "new")


async def test_decks_topics_and_cards_in_a_topic(db: Database) -> None:
    await sync(
        db,
        make_deck(
            "b-deck",
            [make_card("b1", tags=("x",)), make_card("b2", tags=("y", "x")), "b3"],
            title="B",
            description="the b deck",
            tags=("core",),
        ),
        make_deck("a-deck", [make_card("a1", tags=("x", "z"))], title="A"),
    )
    assert await db.run(lambda tx: tx.catalogue.decks()) == [
        DeckInfo("b-deck", "B", "the b deck", 3, ("core",)),
        DeckInfo("a-deck", "A", "", 1, ()),
    ]
    assert await db.run(lambda tx: tx.catalogue.topics()) == ["a-deck", "b-deck", "x", "y", "z"]
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic("x")) == ["b1", "b2", "a1"]
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic("b-deck")) == ["b1", "b2", "b3"]
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic("nothing")) == []

    # Retired cards leave their topics and their deck's count.
    await sync(
        db,
        make_deck("b-deck", ["b3"], title="B", description="the b deck", tags=("core",)),
        make_deck("a-deck", [make_card("a1", tags=("x", "z"))], title="A"),
    )
    assert await db.run(lambda tx: tx.catalogue.topics()) == ["a-deck", "b-deck", "x", "z"]
    assert await db.run(lambda tx: tx.catalogue.cards_in_topic("x")) == ["a1"]
    assert [d.card_count for d in await db.run(lambda tx: tx.catalogue.decks())] == [1, 1]


async def test_shipped_decks_sync(db: Database) -> None:
    shipped = load_decks([SHIPPED_DECKS])
    assert shipped.ok, shipped.errors
    report = await db.run(lambda tx: tx.catalogue.sync(shipped.decks, T0))
    assert report.added == sum(len(d.cards) for d in shipped.decks)
    topics = await db.run(lambda tx: tx.catalogue.topics())
    assert "attention" in topics and "transformers" in topics
    again = await db.run(lambda tx: tx.catalogue.sync(shipped.decks, T0))
    assert again.unchanged == report.added


async def test_a_sync_adds_changes_and_removes_choices(db: Database) -> None:
    """A card's choices are part of its content: a sync that changes only them updates the
    card (its hash includes them), and the card read afterwards has them."""
    await sync(db, make_deck("d", [make_card("a")]))
    before = await db.run(lambda tx: tx.catalogue.card("a"))
    assert before is not None and before.choices is None
    seen: list[Choices | None] = []
    versions = (Choices(("a", "b"), 0), Choices(("a", "b"), 1), Choices(("a", "$x$", "c"), 1), None)
    for choices in versions:
        decks = [make_deck("d", [make_card("a", choices=choices)])]

        def work(tx: Tx, decks: list[Deck] = decks) -> SyncReport:
            return tx.catalogue.sync(decks, T0)

        report = await db.run(work)
        assert (report.updated, report.unchanged) == (1, 0)
        info = await db.run(lambda tx: tx.catalogue.card("a"))
        assert info is not None
        seen.append(info.choices)
    assert seen == list(versions)
    again = await db.run(lambda tx: tx.catalogue.sync([make_deck("d", [make_card("a")])], T0))
    assert again.unchanged == 1
