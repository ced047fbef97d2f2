"""Prompts, answered at most once: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.core.model import CardState, Prompt
from bot.core.ports import Database, Tx
from tests.contract.helpers import DAY, HOUR, T0, add_learner, one_deck, review_state, save_states


async def test_a_prompt_is_stored_with_its_identifying_columns(db: Database) -> None:
    await one_deck(db, "c")
    lr = await add_learner(db)
    shown = Prompt("tok0000001", lr.id, "c", "push", T0, T0, T0, "ignored")
    await db.run(lambda tx: tx.prompts.add(shown))
    assert await db.run(lambda tx: tx.prompts.get("tok0000001")) == Prompt(
        "tok0000001", lr.id, "c", "push", T0
    )
    assert await db.run(lambda tx: tx.prompts.get("tok0000002")) is None


async def test_a_token_names_one_prompt(db: Database) -> None:
    await one_deck(db, "c")
    lr = await add_learner(db)
    await db.run(lambda tx: tx.prompts.add(Prompt("tok0000001", lr.id, "c", "dm", T0)))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate|primary key"):
        await db.run(lambda tx: tx.prompts.add(Prompt("tok0000001", lr.id, "c", "dm", T0)))


async def test_a_prompt_comes_with_its_learners_card_state(db: Database) -> None:
    await one_deck(db, "c")
    lr = await add_learner(db)
    await db.run(lambda tx: tx.prompts.add(Prompt("tok0000001", lr.id, "c", "dm", T0)))
    prompt = Prompt("tok0000001", lr.id, "c", "dm", T0)
    got = await db.run(lambda tx: tx.prompts.get_with_state("tok0000001"))
    assert got == (prompt, CardState(lr.id, "c"))
    state = review_state(lr.id, "c", T0 + DAY)
    await save_states(db, state)
    assert await db.run(lambda tx: tx.prompts.get_with_state("tok0000001")) == (prompt, state)
    assert await db.run(lambda tx: tx.prompts.get_with_state("missing")) is None


async def test_reveal_records_the_typed_answer(db: Database) -> None:
    await one_deck(db, "c")
    lr = await add_learner(db)
    await db.run(lambda tx: tx.prompts.add(Prompt("tok0000001", lr.id, "c", "dm", T0)))
    await db.run(lambda tx: tx.prompts.reveal("tok0000001", T0 + HOUR, "my answer"))
    got = await db.run(lambda tx: tx.prompts.get("tok0000001"))
    assert got is not None and (got.revealed_at, got.typed_answer) == (T0 + HOUR, "my answer")
    assert got.answered_at is None


async def test_reveal_stores_the_intervals_shown(db: Database) -> None:
    """The seconds each rating gives, as the reveal showed them, read back by both reads;
    a reveal without them stores none."""
    await one_deck(db, "c")
    lr = await add_learner(db)
    await db.run(lambda tx: tx.prompts.add(Prompt("tok0000001", lr.id, "c", "dm", T0)))
    shown = (600, 86_400 * 3, 86_400 * 36_500, 3_153_600_000)
    await db.run(lambda tx: tx.prompts.reveal("tok0000001", T0 + HOUR, None, shown))
    got = await db.run(lambda tx: tx.prompts.get("tok0000001"))
    assert got is not None and got.intervals == shown and got.revealed_at == T0 + HOUR
    with_state = await db.run(lambda tx: tx.prompts.get_with_state("tok0000001"))
    assert with_state is not None and with_state[0] == got
    await db.run(lambda tx: tx.prompts.reveal("tok0000001", T0 + HOUR, "typed", shown))
    again = await db.run(lambda tx: tx.prompts.get("tok0000001"))
    assert again is not None and (again.intervals, again.typed_answer) == (shown, "typed")
    await db.run(lambda tx: tx.prompts.reveal("tok0000001", T0 + HOUR, None))
    cleared = await db.run(lambda tx: tx.prompts.get("tok0000001"))
    assert cleared is not None and cleared.intervals is None


async def test_a_prompt_is_claimed_once_by_its_own_learner(db: Database) -> None:
    await one_deck(db, "c")
    lr = await add_learner(db)
    other = await add_learner(db, "2")
    await db.run(lambda tx: tx.prompts.add(Prompt("tok0000001", lr.id, "c", "dm", T0)))
    assert await db.run(lambda tx: tx.prompts.claim("tok0000001", other.id, T0)) is False
    assert await db.run(lambda tx: tx.prompts.claim("tok0000001", lr.id, T0 + HOUR)) is True
    assert await db.run(lambda tx: tx.prompts.claim("tok0000001", lr.id, T0 + DAY)) is False
    assert await db.run(lambda tx: tx.prompts.claim("missing", lr.id, T0)) is False
    got = await db.run(lambda tx: tx.prompts.get("tok0000001"))
    assert got is not None and got.answered_at == T0 + HOUR


async def test_old_prompts_are_pruned(db: Database) -> None:
    await one_deck(db, "c")
    lr = await add_learner(db)

    def add(tx: Tx) -> None:
        for i, made in enumerate((T0 - DAY, T0, T0 + HOUR)):
            tx.prompts.add(Prompt(f"tok000000{i}", lr.id, "c", "dm", made))

    await db.run(add)
    assert await db.run(lambda tx: tx.prompts.prune(T0)) == 1
    assert await db.run(lambda tx: tx.prompts.get("tok0000000")) is None
    assert await db.run(lambda tx: tx.prompts.get("tok0000001")) is not None
    assert await db.run(lambda tx: tx.prompts.prune(T0)) == 0
