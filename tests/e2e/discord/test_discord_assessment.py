"""The challenge self-assessment as one Discord form, end to end over the fake Discord
(as test_discord_challenges.py): every rubric row rated in one submit, a long rubric,
bad submissions, and a form sent after a restart."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from bot.core.challenges.definitions import RubricRow
from bot.core.challenges.groups import ChallengeCatalog
from bot.platforms.discord.assessform import ROWS_PER_FORM
from tests.e2e.discord.discord_fakes import Sent, dm_channel_id, modal_problems
from tests.e2e.discord.test_discord import ALICE, BOB, CHANNEL, GUILD, Env
from tests.e2e.discord.test_discord_challenges import (
    FORM_BUTTON,
    SCALED,
    START,
    challenge,
    challenge_reviews,
    env,
    inputs,
    open_assessment,
    open_form,
    send_form,
    submit_assessment,
    value_of,
)

__all__ = ["env"]  # the fixture, imported


async def revealed(env: Env, *members: tuple[tuple[int, str], str]) -> dict[int, Sent]:
    """Start the scaled dot-product challenge, have ``members`` answer, reveal it; each
    member's self-assessment (in their DMs) by user id."""
    room = env.fake.server(GUILD, CHANNEL)
    [post] = await challenge(env, "start", ALICE, room, challenge=SCALED, minutes=10)
    for member, text in members:
        await send_form(env, await open_form(env, post, member, room), text, member, room)
    env.clock.set(START + timedelta(minutes=10, seconds=30))
    mark = env.fake.mark()
    assert await env.app.challenges.reveal_overdue() == 1
    created = env.fake.created_since(mark)
    return {
        member[0]: next(m for m in created if m.channel_id == dm_channel_id(member[0]))
        for member, _ in members
    }


# --------------------------------------------------------------------------- one form


async def test_every_row_rated_in_one_form_gives_the_buttons_reviews(env: Env) -> None:
    sa = (await revealed(env, (ALICE, "softmax(QK^T/sqrt(d_k))V")))[ALICE[0]]
    dm = env.fake.dm(ALICE[0])
    assert [b["label"] for b in sa.buttons()] == [
        FORM_BUTTON,
        "Name me in the summary",
        "Share my answer",
    ]
    form = await open_assessment(env, sa, ALICE, dm)
    assert form["title"] == "Self-assessment"
    assert form["custom_id"] == "ja:" + sa.button(FORM_BUTTON)[2:]
    fields = inputs(form)
    # Five checkpoints ticked in one group, then one radio group per rubric row.
    assert list(fields) == ["k0-5", "r0", "r1", "r2", "r3"]
    assert [c["type"] for c in form["components"]] == [18] * 5
    assert len(fields["k0-5"]["options"]) == 5 and fields["k0-5"]["required"] is False
    assert fields["r0"]["label"] == "1. The full formula and the role of each part"
    assert "$" not in fields["r2"]["label"]  # maths as Unicode
    assert [o["label"] for o in fields["r1"]["options"]] == [
        "Confident",
        "Shaky",
        "Need to re-study",
    ]
    assert all(f["required"] for key, f in fields.items() if key.startswith("r"))

    choices: dict[str, str | list[str] | None] = {
        "k0-5": [value_of(form, "k0-5", "1. Wrote"), value_of(form, "k0-5", "3. Summed")],
        "r0": "3",
        "r1": "2",
        "r2": "1",
        "r3": "3",
    }
    mark = env.fake.mark()
    assert await submit_assessment(env, sa, form, choices, ALICE, dm) == []
    applied = env.fake.messages[sa.id]
    assert applied.content.startswith("Applied to your schedule. The cards that moved:")
    assert [b["label"] for b in applied.buttons()] == ["Share my answer"]
    # Alone in the run, her assessment completes it: the summary goes to the channel.
    [summary] = env.fake.created_since(mark)
    assert summary.channel_id == CHANNEL and "1 answered, 1 assessed" in summary.content
    assert env.fake.violations == [] and env.fake.unanswered() == []
    assert env.rows("SELECT checks FROM challenge_submissions")[0][0] == "0,2"
    assert challenge_reviews(env, ALICE) == {
        "att-one-query-output": 3,
        "att-full-formula": 3,
        "att-full-formula-rows": 3,
        "att-qkt-entry": 3,
        "att-softmax-rows": 3,
        "att-softmax-rows-why": 3,
        "att-weights-times-values": 3,
        "att-dot-variance": 2,
        "att-dot-term-variance": 2,
        "att-dot-sum-variance": 2,
        "att-dot-typical-size": 1,
        "att-scale-sqrt-dk": 1,
        "att-saturation-example": 3,
        "att-saturation-gradient": 3,
    }

    # The form again, or the old message's button: already applied, said privately.
    again = await submit_assessment(env, sa, form, choices, ALICE, dm)
    assert [m.content for m in again] == ["Your self-assessment is already applied to your cards."]
    assert len(challenge_reviews(env, ALICE)) == 14


async def test_a_missing_row_or_a_forged_value_gets_a_friendly_answer(env: Env) -> None:
    sa = (await revealed(env, (BOB, "Var(q.k) = d_k")))[BOB[0]]
    dm = env.fake.dm(BOB[0])
    form = await open_assessment(env, sa, BOB, dm)

    # A forged grade, a row this challenge does not have, an input the form never had:
    # nothing changes, and Bob is told so with the button that opens the form again.
    forged: list[dict[str, str | list[str] | None]] = [
        {"r0": "7", "r1": "2", "r2": "1", "r3": "3"},
        {"r0": "3", "r1": "two", "r2": "1", "r3": "3"},
        {"r0": "3", "r1": "2", "r2": "1", "r3": "3", "k0-5": ["9"]},
    ]
    for choices in forged:
        [told] = await submit_assessment(env, sa, form, choices, BOB, dm)
        assert told.ephemeral and told.content.startswith("This form does not match")
        assert f"Tap “{FORM_BUTTON}”" in told.content and told.buttons() == []
    extra = [{"type": 21, "custom_id": "r17", "value": "3"}]
    full = {"r0": "3", "r1": "2", "r2": "1", "r3": "3"}
    [told] = await submit_assessment(env, sa, form, dict(full), BOB, dm, extra=extra)
    assert told.content.startswith("This form does not match")
    assert challenge_reviews(env, BOB) == {}
    assert env.rows("SELECT grades, assessed_at FROM challenge_submissions")[0][1] is None

    # A row left unrated (Discord requires it; a client may not): the rest is kept, he is
    # told which rows are left, and the message shows the ratings so far.
    [left] = await submit_assessment(env, sa, form, {"r0": "3", "r3": None}, BOB, dm)
    assert left.ephemeral and left.content.startswith("Saved. 3 rows still to rate (2, 3, 4)")
    assert (
        "1. The full formula and the role of each part: Confident"
        in (env.fake.messages[sa.id].embeds[0]["description"])
    )
    assert challenge_reviews(env, BOB) == {}

    # Opened again from the self-assessment, the form keeps what he rated.
    assert left.buttons() == []
    form = await open_assessment(env, sa, BOB, dm)
    assert [o["default"] for o in inputs(form)["r0"]["options"]] == [True, False, False]
    assert not any(o["default"] for o in inputs(form)["r1"]["options"])
    rest: dict[str, str | list[str] | None] = {"r1": "1", "r2": "1", "r3": "1"}
    assert await submit_assessment(env, sa, form, rest, BOB, dm) == []
    assert env.fake.messages[sa.id].content.startswith("Applied to your schedule.")
    reviews = challenge_reviews(env, BOB)
    assert reviews["att-full-formula"] == 3 and reviews["att-saturation-gradient"] == 1
    assert env.fake.violations == [] and env.fake.unanswered() == []


async def test_the_form_opened_before_a_restart_is_taken_after_it(env: Env) -> None:
    sa = (await revealed(env, (ALICE, "softmax")))[ALICE[0]]
    dm = env.fake.dm(ALICE[0])
    form = await open_assessment(env, sa, ALICE, dm)
    await env.restart(new_app=True)  # nothing of the form is kept in memory
    choices: dict[str, str | list[str] | None] = {"r0": "2", "r1": "2", "r2": "2", "r3": "2"}
    assert await submit_assessment(env, sa, form, choices, ALICE, dm) == []
    assert env.fake.messages[sa.id].content.startswith("Applied to your schedule.")
    assert set(challenge_reviews(env, ALICE).values()) == {2}
    assert len(challenge_reviews(env, ALICE)) == 14
    assert env.fake.violations == [] and env.fake.unanswered() == []


# --------------------------------------------------------------------------- many rows


def _long_rubric(env: Env, rows: int) -> None:
    """Give the scaled dot-product challenge ``rows`` rubric rows (each linking one of
    its cards, in turn)."""
    catalog = env.app.challenges.catalog
    original = catalog.challenges[SCALED]
    cards = [c for row in original.rubric for c in row.card_ids]
    long = tuple(
        RubricRow(f"Part {n + 1} of the derivation, step by step", (cards[n % len(cards)],), n)
        for n in range(rows)
    )
    env.app.challenges.catalog = ChallengeCatalog(
        {**catalog.challenges, SCALED: replace(original, rubric=long)}
    )


async def test_a_rubric_of_twenty_rows_is_rated_in_one_form(env: Env) -> None:
    # Twenty rows, five checkpoints: 20 * 3 + 5 buttons would never fit a message (25).
    _long_rubric(env, ROWS_PER_FORM)
    sa = (await revealed(env, (ALICE, "all of it")))[ALICE[0]]
    dm = env.fake.dm(ALICE[0])
    assert "20. Part 20 of the derivation" in sa.embeds[0]["description"]
    form = await open_assessment(env, sa, ALICE, dm)
    assert form["title"] == "Self-assessment"
    assert list(inputs(form)) == ["k0-5", "c0-10", "s0-10", "c10-20", "s10-20"]
    assert inputs(form)["c0-10"]["label"] == "Confident: rows 1-10"
    assert len(inputs(form)["s10-20"]["options"]) == 10
    # Rows 1-7 confident, 8-14 shaky, 15-20 ticked in neither: need to re-study.
    choices: dict[str, str | list[str] | None] = {
        "c0-10": [str(r) for r in range(7)],
        "s0-10": ["7", "8", "9"],
        "c10-20": [],
        "s10-20": [str(r) for r in range(10, 14)],
    }
    assert await submit_assessment(env, sa, form, choices, ALICE, dm) == []
    assert env.fake.messages[sa.id].content.startswith("Applied to your schedule.")
    (grades,) = env.rows("SELECT grades FROM challenge_submissions")[0]
    assert [int(g) for g in str(grades).strip("[]").split(",")] == [3] * 7 + [2] * 7 + [1] * 6
    assert env.fake.violations == [] and env.fake.unanswered() == []


async def test_a_row_ticked_confident_and_shaky_is_asked_again(env: Env) -> None:
    _long_rubric(env, 12)
    sa = (await revealed(env, (BOB, "most of it")))[BOB[0]]
    dm = env.fake.dm(BOB[0])
    form = await open_assessment(env, sa, BOB, dm)
    assert list(inputs(form)) == ["k0-5", "c0-10", "s0-10", "c10-12", "s10-12"]
    choices: dict[str, str | list[str] | None] = {"c0-10": ["0", "3"], "s0-10": ["3"]}
    [told] = await submit_assessment(env, sa, form, choices, BOB, dm)
    assert told.content.startswith("Row 4 (Part 4 of the derivation, step by step) got two ratings")
    assert "Saved. 1 row still to rate (4)" in told.content
    assert challenge_reviews(env, BOB) == {}
    # The other eleven rows are kept: the form opens again filled in, row 4 unrated.
    (grades,) = env.rows("SELECT grades FROM challenge_submissions")[0]
    assert str(grades) == "3,1,1,,1,1,1,1,1,1,1,1"
    again = inputs(await open_assessment(env, sa, BOB, dm))
    assert [o["value"] for o in again["c0-10"]["options"] if o["default"]] == ["0"]
    assert not any(o["default"] for o in again["s0-10"]["options"])
    choices["s0-10"] = ["4"]
    assert await submit_assessment(env, sa, form, choices, BOB, dm) == []
    assert env.fake.messages[sa.id].content.startswith("Applied to your schedule.")


async def test_a_rubric_longer_than_one_form_is_rated_in_parts(env: Env) -> None:
    _long_rubric(env, 27)
    sa = (await revealed(env, (ALICE, "everything")))[ALICE[0]]
    dm = env.fake.dm(ALICE[0])
    first = await open_assessment(env, sa, ALICE, dm)
    assert first["title"] == "Self-assessment (1 of 2)"
    assert list(inputs(first)) == ["k0-5", "c0-10", "s0-10", "c10-20", "s10-20"]
    all_confident: dict[str, str | list[str] | None] = {
        "c0-10": [str(r) for r in range(10)],
        "c10-20": [str(r) for r in range(10, 20)],
    }
    [more] = await submit_assessment(env, sa, first, all_confident, ALICE, dm)
    assert more.content.startswith("Saved. 7 rows still to rate (21, 22, 23, 24, 25, 26, 27)")
    assert challenge_reviews(env, ALICE) == {}

    # The message's button now opens the second part: 7 rows, one radio group each
    # would not fit (5 labels), so a pair of checkbox groups.
    assert more.buttons() == []
    second = await open_assessment(env, sa, ALICE, dm)
    assert second["title"] == "Self-assessment (2 of 2)"
    assert list(inputs(second)) == ["c20-27", "s20-27"]
    assert await submit_assessment(env, sa, second, {"s20-27": ["20"]}, ALICE, dm) == []
    assert env.fake.messages[sa.id].content.startswith("Applied to your schedule.")
    (grades,) = env.rows("SELECT grades FROM challenge_submissions")[0]
    assert [int(g) for g in str(grades).strip("[]").split(",")] == [3] * 20 + [2] + [1] * 6
    assert env.fake.violations == [] and env.fake.unanswered() == []


# --------------------------------------------------------------------------- Discord's rules


def _modal(*components: dict[str, Any]) -> dict[str, Any]:
    return {"title": "Self-assessment", "custom_id": "ja:abcdefgh", "components": list(components)}


def _in_label(component: dict[str, Any], text: str = "1. Row") -> dict[str, Any]:
    return {"type": 18, "label": text, "component": component}


def test_the_fake_refuses_what_discord_refuses_in_a_modal() -> None:
    options = [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}]
    radio: dict[str, Any] = {"type": 21, "custom_id": "r0", "options": options}
    assert modal_problems(_modal(_in_label(radio))) == []
    six = [_in_label({**radio, "custom_id": f"r{n}"}) for n in range(6)]
    assert "6 components in a modal (1-5)" in modal_problems(_modal(*six))
    assert "a component of type 21 outside a label" in modal_problems(_modal(radio))
    alone = {**radio, "options": options[:1]}
    assert "a radio group with 1 options (2-10)" in modal_problems(_modal(_in_label(alone)))
    long_label = _modal(_in_label(radio, "x" * 46))
    assert "a label of 46 characters (1-45)" in modal_problems(long_label)
    twice = _modal(_in_label(radio), _in_label(radio))
    assert "repeated custom ids in a modal" in modal_problems(twice)
    boxes: dict[str, Any] = {
        "type": 22,
        "custom_id": "c0-11",
        "min_values": 0,
        "max_values": 11,
        "options": [{"label": str(n), "value": str(n)} for n in range(11)],
    }
    problems = modal_problems(_modal(_in_label(boxes)))
    assert "a checkbox group with 11 options (1-10)" in problems
    assert "a checkbox group with min/max values 0/11" in problems


async def test_a_form_sent_without_its_message_is_answered_privately(env: Env) -> None:
    # Discord names the message a form was opened from; should it not, the answer is a
    # private message instead of an edit (a form may not update a message it has none of).
    sa = (await revealed(env, (ALICE, "softmax")))[ALICE[0]]
    dm = env.fake.dm(ALICE[0])
    form = await open_assessment(env, sa, ALICE, dm)
    choices: dict[str, str | list[str] | None] = {"r0": "3", "r1": "3", "r2": "3", "r3": "3"}
    sent = await env.send(env.fake.form_submit(form, choices, ALICE, dm))
    applied = next(m for m in sent if m.channel_id == dm_channel_id(ALICE[0]))
    assert applied.ephemeral and applied.content.startswith("Applied to your schedule.")
    assert env.fake.messages[sa.id].buttons()[0]["label"] == FORM_BUTTON  # left as it was
    assert len(challenge_reviews(env, ALICE)) == 14
    assert env.fake.violations == [] and env.fake.unanswered() == []
