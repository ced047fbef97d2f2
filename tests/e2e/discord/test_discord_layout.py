"""Cards as one composed message (Components V2) on the fake Discord, and the embed
fallback where a card does not fit or Discord refuses.

The fake checks what Discord checks in such a message (the flag, no content or
embeds beside it, component types and nesting, 40 components, 4000 characters of
text displays, media naming the message's attachments) and answers 400 otherwise.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from bot.platforms.discord import layout
from tests.e2e.discord.discord_fakes import (
    IS_COMPONENTS_V2,
    V2_COMPONENTS_MAX,
    V2_TEXT_MAX,
    Sent,
    tiny_png,
)
from tests.e2e.discord.test_discord import ALICE, SIDES, image_of, only, running

pytestmark = pytest.mark.asyncio

ASKED = "Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4"
#: A back longer than a composed message's 4000 characters (an embed clips it at 4096).
LONG_BACK = "\n\n".join(
    f"Paragraph {n}: the scaled dot product divides by the square root of the key size "
    "so that the softmax does not saturate when the dimension grows large." * 2
    for n in range(1, 20)
)


def long_deck(tmp_path: Path) -> Path:
    """A deck of two cards: one whose back does not fit a composed message, one short."""
    folder = tmp_path / "long"
    folder.mkdir()
    (folder / "long.md").write_text(
        "# Long answers\nid: long\ntags: long\ndescription: A card with a very long back.\n\n"
        "## A long answer\nid: long-1\n\n### Front\nWhy divide by the square root of d_k?\n\n"
        f"### Back\n{LONG_BACK}\n\n"
        "## A short answer\nid: long-2\n\n### Front\nWhat does softmax return?\n\n"
        "### Back\nWeights that sum to one.\n",
        encoding="utf-8",
    )
    return folder


def container(message: Sent) -> dict[str, Any]:
    """The one container of a composed message (the card)."""
    (box,) = [c for c in message.payload["components"] if c["type"] == 17]
    assert isinstance(box, dict)
    return box


def totals(message: Sent) -> tuple[int, int]:
    """(components, characters in text displays) of a composed message."""
    every = message.components()
    return len(every), sum(len(c["content"]) for c in every if c["type"] == 10)


async def test_a_review_is_one_composed_message_edited_in_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path, monkeypatch) as env:
        dm = env.fake.dm(ALICE[0])
        only(await env.command("decks", ALICE, dm, topics="similarity"))
        mark = env.fake.mark()
        card = only(await env.command("review", ALICE, dm))
        assert card.composed and card.payload["flags"] & IS_COMPONENTS_V2
        assert card.payload["content"] == "" and card.embeds == []
        # The front, then its buttons, inside the one container (nothing outside it).
        assert [c["type"] for c in card.payload["components"]] == [17]
        inner = [c["type"] for c in container(card)["components"]]
        assert inner[0] == 10 and inner[-1] == 1
        assert container(card)["accent_color"] == 0x5865F2  # blurple, as the embed was
        assert card.text().startswith("### Attention, one step at a time · ")

        for rating in ("Good", "Hard"):
            assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
            back = env.fake.messages[card.id]
            assert back.composed and "**Answer**" in back.text()
            assert [c["type"] for c in container(back)["components"]].count(14) == 1
            assert [b["label"].split()[0] for b in back.buttons()] == [
                "Again",
                "Hard",
                "Good",
                "Easy",
            ]
            components, text = totals(back)
            assert components <= V2_COMPONENTS_MAX and text <= V2_TEXT_MAX
            assert await env.press(back, back.button(rating), ALICE, dm) == []
            card = env.fake.messages[card.id]
            # The rating's note is a text display above the next card's container.
            assert card.payload["components"][0]["type"] == 10
            assert card.content.startswith(f"{rating}: see it again in ")
            assert card.composed and card.button("Show answer")
        # One message for the whole session: the /review answer, edited four times.
        assert len(env.fake.created_since(mark)) == 1
        assert env.rows("SELECT rating FROM review_logs ORDER BY id") == [(3,), (2,)]
        assert not env.fake.violations and not env.fake.unanswered()


async def test_a_cards_picture_is_inside_its_container(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path, monkeypatch, SIDES) as env:
        dm = env.fake.dm(ALICE[0])
        only(await env.command("decks", ALICE, dm, topics="sides"))
        card = only(await env.command("review", ALICE, dm))
        gallery = [c for c in container(card)["components"] if c["type"] == 12]
        assert len(gallery) == 1 and len(gallery[0]["items"]) == 1
        # Discord keeps the attachment's URL where the message named attachment://<file>.
        (attachment,) = card.payload["attachments"]
        assert gallery[0]["items"][0]["media"]["url"] == attachment["url"]
        assert image_of(card) == tiny_png(f"shape:{ASKED}")
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        assert len(back.payload["attachments"]) == 1, "the question's picture is replaced"
        assert image_of(back) != tiny_png(f"shape:{ASKED}")
        assert not env.fake.violations


async def test_a_back_too_long_for_a_composed_message_follows_as_an_embed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path, monkeypatch, long_deck(tmp_path)) as env:
        dm = env.fake.dm(ALICE[0])
        only(await env.command("decks", ALICE, dm, topics="long"))
        card = only(await env.command("review", ALICE, dm))
        assert card.composed and "Why divide" in card.text()

        # The reveal: the composed front keeps its flag (Discord cannot take it off), loses
        # its buttons and says the card continues; the back follows as today's embed.
        follow = only(await env.press(card, card.button("Show answer"), ALICE, dm))
        front = env.fake.messages[card.id]
        assert front.composed and front.buttons() == []
        assert layout.CONTINUED in front.text() and "Why divide" in front.text()
        assert not follow.composed and not follow.ephemeral
        assert "**Answer**" in follow.embeds[0]["description"]
        assert "Paragraph 1:" in follow.embeds[0]["description"]
        assert len(follow.embeds[0]["description"]) <= 4096
        assert env.fake.violations == [], "the bot saw the limit itself, nothing was refused"

        # Rating on the embed message: the next card takes its place, composed (the edit
        # switches the message to Components V2, content and embeds cleared).
        assert await env.press(follow, follow.button("Good"), ALICE, dm) == []
        nxt = env.fake.messages[follow.id]
        assert nxt.composed and nxt.embeds == [] and "What does softmax" in nxt.text()
        assert nxt.content.startswith("Good: see it again in ")
        assert env.rows("SELECT card_id, rating FROM review_logs") == [("long-1", 3)]

        # The long card again (still learning), then suspended: nothing is left, and what
        # the core says takes the composed message's place, composed too (the flag stays).
        assert await env.press(nxt, nxt.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[follow.id]
        assert await env.press(back, back.button("Easy"), ALICE, dm) == []
        again = env.fake.messages[follow.id]
        assert again.composed and "Why divide" in again.text()
        assert await env.press(again, again.button("Suspend"), ALICE, dm) == []
        done = env.fake.messages[follow.id]
        assert done.composed and not [c for c in done.components() if c["type"] == 17]
        assert done.text() and not done.embeds
        assert not env.fake.violations and not env.fake.unanswered()


async def test_a_composed_card_discord_refuses_is_sent_as_an_embed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bot's own check off: the fake refuses what Discord refuses (400, 50035), and the
    card goes as an embed; then an edit Discord refuses to switch stays an embed."""
    monkeypatch.setattr(layout, "MAX_TEXT", 10 * V2_TEXT_MAX)
    async with running(tmp_path, monkeypatch, long_deck(tmp_path)) as env:
        dm = env.fake.dm(ALICE[0])
        only(await env.command("decks", ALICE, dm, topics="long"))
        card = only(await env.command("review", ALICE, dm))
        assert card.composed
        follow = only(await env.press(card, card.button("Show answer"), ALICE, dm))
        assert any("characters in text displays" in v for v in env.fake.refused_composed)
        assert not follow.composed and "Paragraph 1:" in follow.embeds[0]["description"]
        assert env.fake.messages[card.id].buttons() == []

        env.fake.violations.clear()
        env.fake.refused_composed.clear()
        env.fake.refuse_v2_upgrade = True
        assert await env.press(follow, follow.button("Easy"), ALICE, dm) == []
        nxt = env.fake.messages[follow.id]
        assert env.fake.refused_composed == ["this message cannot be switched to Components V2"]
        assert not nxt.composed and "What does softmax" in nxt.text()
        assert nxt.content.startswith("Easy: see it again in ")
        assert nxt.button("Show answer")  # the embed card works as before
        assert not env.fake.unanswered()


async def test_a_composed_button_routes_after_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path, monkeypatch) as env:
        dm = env.fake.dm(ALICE[0])
        card = only(await env.command("review", ALICE, dm))
        assert card.composed
        await env.restart(new_app=True)
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id].snapshot()
        assert back.composed and "**Answer**" in back.text()
        await env.restart()
        assert await env.press(back, back.button("Again"), ALICE, dm) == []
        assert env.fake.messages[card.id].content.startswith("Again: ")
        assert len(env.rows("SELECT id FROM review_logs")) == 1
        assert not env.fake.violations and not env.fake.unanswered()


async def test_a_push_is_a_composed_message_in_the_dms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.core.learners import Who
    from bot.core.ports import Delivery

    async with running(tmp_path, monkeypatch) as env:
        dm = env.fake.dm(ALICE[0])
        await env.command("help", ALICE, dm)
        who = Who("discord", str(ALICE[0]), "Alice")
        learner = await env.app.study.learner(who)
        (reply,) = (await env.app.study.next(who, "push")).replies
        mark = env.fake.mark()
        await env.bot.push(learner, reply)
        pushed = only(env.fake.created_since(mark))
        assert pushed.composed and pushed.button("Show answer")
        assert await env.press(pushed, pushed.button("Show answer"), ALICE, dm) == []
        assert "**Answer**" in env.fake.messages[pushed.id].text()
        assert not env.fake.violations

        # Discord refusing the composed push: the same card goes as an embed, delivered.
        env.fake.refuse_v2 = True
        (reply,) = (await env.app.study.next(who, "push")).replies
        mark = env.fake.mark()
        assert await env.bot.push(learner, reply) == Delivery(reached=True)
        pushed = only(env.fake.created_since(mark))
        assert not pushed.composed and pushed.embeds and pushed.button("Show answer")
        assert env.fake.refused_composed == ["Components V2 refused here"]


async def test_an_edit_then_a_close_of_a_composed_card_keeps_the_edit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closing a composed message rebuilds its layout without buttons from the message as
    the edit left it, not as it was tapped."""
    from bot.core.learners import Who
    from bot.core.messages import Reply
    from bot.core.outcomes import Outcome

    async with running(tmp_path, monkeypatch) as env:
        dm = env.fake.dm(ALICE[0])
        card = only(await env.command("review", ALICE, dm))

        async def press(who: Who, payload: str, *, typed_answer: str | None = None) -> Outcome:
            return Outcome(edit=Reply("info", "Edited in place."), close="Closed.")

        monkeypatch.setattr(env.app.inputs, "press", press)
        new = await env.press(card, card.button("Show answer"), ALICE, dm)
        edited = env.fake.messages[card.id]
        assert edited.composed and edited.text() == "Edited in place." and not edited.buttons()
        assert [m.content for m in new] == ["Closed."]
        assert not env.fake.violations and not env.fake.unanswered()


async def test_a_closed_composed_card_keeps_its_picture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A close rebuilds the layout from the message Discord holds (its media at their
    attachment URLs, the attachments kept) without the buttons."""
    from bot.core.learners import Who
    from bot.core.outcomes import Outcome

    async with running(tmp_path, monkeypatch, SIDES) as env:
        dm = env.fake.dm(ALICE[0])
        only(await env.command("decks", ALICE, dm, topics="sides"))
        card = only(await env.command("review", ALICE, dm))
        picture = image_of(card)

        async def press(who: Who, payload: str, *, typed_answer: str | None = None) -> Outcome:
            return Outcome(close="Snoozed.")

        monkeypatch.setattr(env.app.inputs, "press", press)
        new = await env.press(card, card.button("Show answer"), ALICE, dm)
        closed = env.fake.messages[card.id]
        assert closed.composed and not closed.buttons()
        assert image_of(closed) == picture and "### Images on both sides" in closed.text()
        assert [m.content for m in new] == ["Snoozed."]
        # The close names the picture as the message's own attachment again, never by
        # its signed CDN link, which expires after about a day.
        close = next(c for c in reversed(env.fake.calls) if c.method == "PATCH")
        sent_urls = re.findall(r'"url": "([^"]+)"', json.dumps(close.json))
        assert sent_urls and all(u.startswith("attachment://") for u in sent_urls), sent_urls
        assert not env.fake.violations and not env.fake.unanswered()


async def test_a_next_card_too_long_to_compose_does_not_say_the_rated_card_continues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rating a composed back whose next card does not fit: the rated card is finished, so
    its message (kept, without buttons) must not say that it continues below."""
    folder = tmp_path / "next"
    folder.mkdir()
    (folder / "next.md").write_text(
        "# Next too long\nid: next\ntags: next\ndescription: A short card, then a long one.\n\n"
        "## A short answer\nid: next-1\n\n### Front\nWhat does softmax return?\n\n"
        "### Back\nWeights that sum to one.\n\n"
        f"## A long question\nid: next-2\n\n### Front\n{LONG_BACK}\n\n### Back\nShort.\n",
        encoding="utf-8",
    )
    async with running(tmp_path, monkeypatch, folder) as env:
        dm = env.fake.dm(ALICE[0])
        only(await env.command("decks", ALICE, dm, topics="next"))
        card = only(await env.command("review", ALICE, dm))
        assert card.composed and "softmax" in card.text()
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        follow = only(await env.press(back, back.button("Good"), ALICE, dm))
        rated = env.fake.messages[card.id]
        assert rated.composed and rated.buttons() == [] and "Weights that sum" in rated.text()
        assert layout.CONTINUED not in rated.text()
        assert layout.FOLLOWS in rated.text()
        # The next card follows as an embed, with the rating's note.
        assert follow.content.startswith("Good: see it again in ")
        assert "Paragraph 1:" in follow.embeds[0]["description"] and follow.button("Show answer")
        assert not env.fake.violations and not env.fake.unanswered()
