"""bot.platforms.discord.messages: a core reply as Discord messages."""

from __future__ import annotations

import bot.platforms.discord  # noqa: F401  (first: it imports discord.py without the audioop warning)

# isort: split
import discord

from bot.core.actions import Action
from bot.core.mediaimages import MediaImages
from bot.core.messages import Attachment, CardView, Reply
from bot.core.model import CardImage
from bot.core.views import button
from bot.platforms.discord.components import WorkspaceButton
from bot.platforms.discord.messages import (
    DISCORD_EMBED,
    DISCORD_MESSAGE,
    FILE_TOO_LARGE,
    OpenWorkspace,
    button_view,
    card_markdown,
    discord_rows,
    offered_rows,
    offering,
    to_messages,
)
from tests.fakes.database import FakeDatabase
from tests.unit.core.test_drawing import Renderer as RecordingRenderer
from tests.unit.core.test_mediaimages import NOW as START
from tests.unit.core.test_mediaimages import picture

TOKEN = "AAAAAAAAAAAAAAAA"


def test_limits() -> None:
    assert (DISCORD_MESSAGE, DISCORD_EMBED) == (2000, 4096)


def test_card_markdown_takes_a_price_for_a_price() -> None:
    # Discord's own rule used to read "$5 and $" as a formula: "costs 5 and $x here".
    assert card_markdown("costs $5 and $x$ here") == "costs $5 and x here"


def test_card_markdown_escapes_the_markdown_of_each_formula_only() -> None:
    assert card_markdown(r"**Scale** by $\sqrt{d_k}$") == r"**Scale** by √d\_k"


def test_buttons_look_as_the_core_says() -> None:
    rows = (
        (
            button("Again 1m", Action("rate", TOKEN, 1), "danger"),
            button("Good 10m", Action("rate", TOKEN, 3), "primary"),
        ),
        (
            button("Apply", Action("assessed", TOKEN), "success"),
            button("Bury", Action("bury", TOKEN)),
        ),
    )
    view = button_view(rows)
    assert view is not None
    sent = [
        [(c["custom_id"], c["style"]) for c in row["components"]] for row in view.to_components()
    ]
    assert sent == [
        [
            (f"r:{TOKEN}:1", discord.ButtonStyle.danger.value),
            (f"r:{TOKEN}:3", discord.ButtonStyle.primary.value),
        ],
        [
            (f"f:{TOKEN}", discord.ButtonStyle.success.value),
            (f"b:{TOKEN}", discord.ButtonStyle.secondary.value),
        ],
    ]
    assert button_view(()) is None


def test_rows_beyond_discords_grid_are_merged_then_flowed() -> None:
    one = button("x", Action("bury", TOKEN))
    assert discord_rows(((one,),) * 3) == [[one]] * 3
    merged = discord_rows(((one,),) * 7)  # seven rows of one fit in two rows
    assert [len(row) for row in merged] == [5, 2]
    flowed = discord_rows(((one, one, one),) * 6)  # three-wide rows do not pair up
    assert [len(row) for row in flowed] == [5, 5, 5, 3]


async def test_long_text_is_split_and_the_last_part_carries_the_buttons() -> None:
    rows = ((button("Yes", Action("confirm", TOKEN, 1), "danger"),),)
    text = "\n\n".join(f"Part {n}: " + "x" * 1500 for n in range(3))
    messages = await to_messages(Reply("info", text, buttons=rows), None)
    assert [(m.content or "")[:6] for m in messages] == ["Part 0", "Part 1", "Part 2"]
    assert [bool(m.buttons) for m in messages] == [False, False, True]


async def test_a_file_beyond_the_upload_limit_is_said_instead() -> None:
    reply = Reply("info", "Your history.", attachment=Attachment("h.csv", b"x" * 100))
    (fits,) = await to_messages(reply, None, file_limit=100)
    assert fits.content == "Your history." and fits.extra_files == [("h.csv", b"x" * 100)]
    (too_large,) = await to_messages(reply, None, file_limit=99)
    assert too_large.content == FILE_TOO_LARGE and too_large.extra_files == []


async def test_stats_are_an_embed_with_their_title() -> None:
    (message,) = await to_messages(Reply("stats", "Due today: 3"), None)
    assert message.content is None
    assert [(e.title, e.description) for e in message.embeds] == [("Your stats", "Due today: 3")]


async def test_an_imported_image_is_attached_as_stored_or_named_when_it_is_not() -> None:
    db = FakeDatabase()
    jpeg = picture("JPEG", (33, 17))
    db.run_sync(lambda tx: tx.media.put(4, "cell.jpg", "image/jpeg", jpeg, START))
    images = MediaImages(RecordingRenderer(), db)
    card = CardView(
        "u4-c1", "Deck", "Title", "Which?", front_image=CardImage("media", "4/cell.jpg")
    )
    (message,) = await to_messages(Reply("front", card=card), images)
    [embed] = message.embeds
    [image] = message.images
    assert image.data == jpeg and embed.image.url == f"attachment://{image.filename}"
    assert image.filename.endswith(".jpg") and not embed.fields

    gone = CardView("u4-c2", "Deck", "Title", "Which?", front_image=CardImage("media", "4/x.svg"))
    (message,) = await to_messages(Reply("front", card=gone), images)
    [embed] = message.embeds
    assert message.images == [] and embed.image.url is None
    assert [(f.name, f.value) for f in embed.fields] == [("Image", "`[image: x.svg]`")]


# --------------------------------------------------------------------------- the workspace


async def test_the_workspace_offer_is_a_row_of_its_own_and_only_when_offered() -> None:
    show = button("Show answer", Action("reveal", TOKEN), "primary")
    offer = Reply("front", "x", buttons=((show,),), workspace="review")
    assert offered_rows(offer) == ((show,), (OpenWorkspace("review"),))
    assert offered_rows(Reply("front", "x", buttons=((show,),))) == ((show,),)
    assert offering(offer, True) is offer
    assert offering(offer, False).workspace is None, "[web] off: not offered"

    (message,) = await to_messages(offer, None)
    view = message.view()
    assert view is not None
    items = view.children
    assert [type(i).__name__ for i in items] == ["StudyButton", "WorkspaceButton"]
    ws = items[1]
    assert isinstance(ws, WorkspaceButton)
    assert ws.item.custom_id == "w:review" and ws.item.label == "Open workspace"
    assert ws.item.row == 1, "below the card's buttons"
    longest = OpenWorkspace("challenge:" + "x" * 22)
    assert len(longest.payload) <= 100
    # Five rows of the core's already: the workspace's still fits (rows merge).
    five = tuple((button(f"b{i}", Action("reveal", TOKEN)),) for i in range(5))
    rows = discord_rows((*five, (OpenWorkspace("stats"),)))
    assert len(rows) <= 5 and isinstance(rows[-1][-1], OpenWorkspace)
