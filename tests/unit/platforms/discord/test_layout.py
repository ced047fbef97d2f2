"""bot.platforms.discord.layout: a card as one composed message (Components V2)."""

from __future__ import annotations

from typing import Any

import bot.platforms.discord  # noqa: F401  (first: it imports discord.py without the audioop warning)

# isort: split
import discord
import pytest

from bot.core.actions import Action
from bot.core.messages import Attachment, CardView, Reply, ReplyKind
from bot.core.model import CardImage
from bot.core.views import button, card_view
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.platforms.discord import layout
from bot.platforms.discord.components import StudyButton
from bot.platforms.discord.layout import (
    MAX_COMPONENTS,
    MAX_TEXT,
    Box,
    Divider,
    Gallery,
    Rows,
    Text,
    compose,
    count,
    fits,
    messages_for,
)
from bot.platforms.discord.messages import PHOTO_TOO_LARGE, Outgoing
from tests.e2e.discord.discord_fakes import FakeRenderer, composed_problems

TOKEN = "AAAAAAAAAAAAAAAA"
RATINGS = (tuple(button(f"R{n}", Action("rate", TOKEN, n), "primary") for n in (1, 2, 3, 4)),)


def components(composed: layout.Composed) -> list[dict[str, Any]]:
    """The message's components as discord.py sends them."""
    sent: list[dict[str, Any]] = composed.view().to_components()  # type: ignore[no-untyped-call]
    return sent


def card(back: str | None = None) -> CardView:
    return CardView("c1", "Deck", "Title", "What is $x^2$?", back)


def test_count_takes_in_every_nested_component_and_every_label() -> None:
    blocks = (Text("ab"), Box(None, (Text("cd"), Divider(), Gallery(("u",)), Rows(RATINGS))))
    # text 1, container 1 (+ text, separator, gallery, row and 4 buttons)
    assert count(blocks) == (1 + 1 + 3 + 1 + 4, 2 + 2 + 4 * 2, 1)
    assert fits(blocks)


def test_fits_holds_discords_limits() -> None:
    assert fits([Text("x")] * MAX_COMPONENTS)
    assert not fits([Text("x")] * (MAX_COMPONENTS + 1))
    assert fits([Text("x" * MAX_TEXT)])
    assert not fits([Text("x" * MAX_TEXT), Text("y")])
    assert not fits([Gallery(tuple("u" * 11))])
    # 4,000 characters, but more bytes than Discord processes (it answers 500 there).
    assert fits([Text("é" * MAX_TEXT)]) and not fits([Text("漢" * MAX_TEXT)])


def test_rows_are_counted_as_they_are_sent() -> None:
    many = tuple((b,) for b in RATINGS[0]) * 2  # 8 rows of one button: merged into 2 rows
    assert count([Rows(many)])[0] == 2 + 8
    assert not fits([])


async def test_a_front_is_one_container_with_its_buttons_inside() -> None:
    reply = Reply("front", "Good: 10m.", card=card(), buttons=RATINGS)
    composed = await compose(reply, None)
    assert composed is not None
    view = composed.view()
    assert view.has_components_v2() and view.timeout is None
    payload = components(composed)
    assert [c["type"] for c in payload] == [10, 17]
    assert payload[0]["content"] == "Good: 10m."
    inner = payload[1]["components"]
    assert inner[0] == {"type": 10, "content": "### Deck · Title\nWhat is x²?"}
    assert inner[-1]["type"] == 1
    assert [b["custom_id"] for b in inner[-1]["components"]] == [
        f"r:{TOKEN}:{n}" for n in (1, 2, 3, 4)
    ]
    # Every button is the persistent study button, so a press routes after a restart.
    assert all(
        isinstance(item, StudyButton) for item in view.walk_children() if item.is_dispatchable()
    )
    assert composed_problems({"flags": 1 << 15, "components": payload}) == []
    assert composed.edit_kwargs()["content"] is None and composed.edit_kwargs()["embeds"] == []


async def test_the_picture_is_uploaded_and_named_inside_the_container() -> None:
    drawn = FakeRenderer()
    view = CardView("c1", "Deck", "Title", "Front", front_image=CardImage("shape", "A[1] -> B[1]"))
    composed = await compose(Reply("front", card=view), drawn)
    assert composed is not None
    (name,) = [img.filename for img in composed.images]
    payload = components(composed)
    gallery = [c for c in payload[0]["components"] if c["type"] == 12]
    assert gallery[0]["items"][0]["media"]["url"] == f"attachment://{name}"
    assert [f.filename for f in composed.files()] == [name]
    assert composed_problems({"flags": 1 << 15, "components": payload}, [name]) == []


async def test_a_back_over_the_text_limit_is_left_to_the_embed() -> None:
    long = Reply("back", card=card("word " * 900), buttons=RATINGS)
    assert await compose(long, None) is None
    (message,) = await messages_for(long, None)
    assert isinstance(message, Outgoing) and message.embeds


async def test_only_the_study_loops_cards_are_composed_when_first_sent() -> None:
    (front,) = await messages_for(Reply("front", card=card()), None)
    assert isinstance(front, layout.Composed)
    for reply in (
        Reply("info", "Hello"),
        Reply("challenge_result", "Time is up!", card=card("Back")),
        Reply("info", "Your file", attachment=Attachment("a.csv", b"x")),
    ):
        (message,) = await messages_for(reply, None)
        assert isinstance(message, Outgoing)


async def test_any_reply_can_be_composed_for_an_edit() -> None:
    text = await compose(Reply("done", "Done for today.", buttons=RATINGS), None)
    assert text is not None
    assert [c["type"] for c in components(text)] == [10, 1]
    file = await compose(Reply("info", "Here", attachment=Attachment("h.csv", b"x")), None)
    assert file is not None and file.extra_files == [("h.csv", b"x")]
    too_big = await compose(
        Reply("info", "Here", attachment=Attachment("h.csv", b"x" * 10)), None, file_limit=5
    )
    assert too_big is not None and too_big.extra_files == []


async def test_a_composed_reply_shows_what_its_embed_form_shows() -> None:
    """Edited into a composed message, a reply keeps what today's messages show of it:
    the one form's button instead of the rows it replaces (the self-assessment), and a
    stored photo (a challenge answer), uploaded, or said to be too large."""
    rows = tuple((button(f"Row {n}", Action("grade", TOKEN, n)),) for n in range(1, 31))
    form = ((button("Rate every row", Action("assessform", TOKEN, 0), "primary"),),)
    photo = Attachment("answer.png", b"png bytes")
    reply = Reply("info", "Your answer", buttons=rows, form_buttons=form, photo=photo)
    composed = await compose(reply, None)
    assert composed is not None
    payload = components(composed)
    every = [c for top in payload for c in (top, *top.get("components", []))]
    assert [c["label"] for c in every if c["type"] == 2] == ["Rate every row"]
    assert composed.extra_files == [("answer.png", b"png bytes")]
    galleries = [c for c in every if c["type"] == 12]
    assert [g["items"][0]["media"]["url"] for g in galleries] == ["attachment://answer.png"]
    assert composed_problems({"flags": 1 << 15, "components": payload}, ["answer.png"]) == []

    too_big = await compose(reply, None, file_limit=5)
    assert too_big is not None and too_big.extra_files == []
    assert PHOTO_TOO_LARGE in "\n".join(
        c["content"] for c in components(too_big) if c["type"] == 10
    )


@pytest.mark.parametrize("status", [400, 500])
async def test_send_falls_back_to_the_embed_on_a_400_only(status: int) -> None:
    (composed,) = await messages_for(Reply("front", card=card()), None)
    sent: list[dict[str, object]] = []

    class Response:
        reason = "Error"

    response: Any = Response()
    response.status = status

    async def send(**kwargs: object) -> None:
        if "view" in kwargs and isinstance(kwargs["view"], discord.ui.LayoutView):
            raise discord.HTTPException(response, {"code": 50035, "message": "Invalid Form Body"})
        sent.append(kwargs)

    if status == 400:
        assert await layout.send(send, composed) == 1
        assert sent and sent[0]["embeds"]
    else:
        with pytest.raises(discord.HTTPException):
            await layout.send(send, composed)
        assert not sent


@pytest.mark.parametrize("drawn", [True, False], ids=["pictures", "text only"])
async def test_every_shipped_card_is_one_composed_message_discord_takes(drawn: bool) -> None:
    """Each side of every card that ships, drawn or not, with its buttons and a rating's
    note: one composed message (no embed fallback) that passes Discord's rules."""
    from bot.core.model import CardInfo

    shipped = load_decks([SHIPPED_DECKS])
    titles = {deck.id: deck.title for deck in shipped.decks}
    renderer = FakeRenderer() if drawn else None
    checked = 0
    for definition in shipped.cards():
        info = CardInfo(
            id=definition.id,
            deck_id=definition.deck_id,
            deck_title=titles[definition.deck_id],
            title=definition.title,
            front=definition.front,
            back=definition.back,
            mnemonic=definition.mnemonic,
            notes=definition.notes,
            front_image=_image(definition.front_image),
            back_image=_image(definition.back_image),
        )
        for back in (False, True):
            kind: ReplyKind = "back" if back else "front"
            view = card_view(info, back=back)
            reply = Reply(kind, "Good: see it again in 10m.", card=view, buttons=RATINGS)
            composed = await compose(reply, renderer)
            assert composed is not None, (definition.id, kind)
            body = {"flags": 1 << 15, "components": components(composed)}
            uploaded = [image.filename for image in composed.images]
            assert composed_problems(body, uploaded) == [], (definition.id, kind)
            if drawn and view.image is not None:  # the side's picture is shown
                assert uploaded, (definition.id, kind)
            checked += 1
    assert checked == 2 * len(list(shipped.cards())) > 100


def _image(spec: Any) -> CardImage | None:
    return None if spec is None else CardImage(spec.kind, spec.source)
