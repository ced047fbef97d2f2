"""A core :class:`Reply` as Discord messages: content, embeds, attachments and buttons.

Cards become embeds ("<deck> · <concept>" as the title, front or back as the
description); math becomes Unicode (:func:`bot.text.latex.math_fallback`, each
formula escaped for Discord's markdown); tables become an image from the
renderer or aligned monospace in a code block; everything stays within
Discord's limits.

Challenge posts and self-assessments are embeds too (their text carries the
deck author's markdown and formulas), and so are /stats with its chart; a
summary's heat map is drawn and attached, a shared photo (a Discord attachment
URL) is shown as an image, a stored photo (a challenge answer) is uploaded and
shown as an image, and a file (/export) is attached.

The study loop's cards go out as one composed message where they fit
(:mod:`bot.platforms.discord.layout`, Components V2); these embeds are their fallback.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Final

import discord

from bot.core.drawing import draw_card, draw_figure, draw_text
from bot.core.messages import Attachment, Button, ButtonStyle, CardView, HeatMap, Reply
from bot.core.rendering import RenderedImage, Renderer
from bot.platforms.discord.components import OPEN_WORKSPACE, StudyButton, WorkspaceButton
from bot.text.latex import image_alt_text, math_fallback
from bot.text.markdown import needs_image, table_to_monospace
from bot.text.split import split_message

log = logging.getLogger(__name__)

#: Discord: characters in one message's content.
DISCORD_MESSAGE: Final = 2000
#: Discord: characters in an embed description.
DISCORD_EMBED: Final = 4096
#: Discord: characters in an embed title, a field value, a button label.
EMBED_TITLE: Final = 256
EMBED_FIELD: Final = 1024
BUTTON_LABEL: Final = 80
#: Discord: action rows in a message, buttons in a row.
MAX_ROWS: Final = 5
ROW_WIDTH: Final = 5

#: Said instead of a file larger than Discord accepts in that place.
FILE_TOO_LARGE: Final = "Your history is larger than Discord lets me attach here. Sorry!"

#: Said instead of a stored photo larger than Discord accepts in that place.
PHOTO_TOO_LARGE: Final = "(The photo is larger than Discord lets me attach here.)"

#: Replies whose text is the deck author's markdown, shown as an embed (with their title).
EMBED_TITLES: Final = {"challenge": "Group challenge", "assess": "Self-assessment"}
#: Replies whose plain text is shown as an embed (with their title, and their chart).
PLAIN_TITLES: Final = {"stats": "Your stats"}
_CHALLENGE_FOOTER: Final = (
    "The button opens a private form for your answer. For a photo of your page, tap it "
    "once (you can close the form), then send /challenge submit with the photo."
)

#: The accent colour of each kind of reply (an embed's, a composed card's container).
COLOURS: Final = {
    "front": discord.Colour.blurple(),
    "back": discord.Colour.green(),
    "quiz": discord.Colour.orange(),
    "quiz_result": discord.Colour.orange(),
    "error": discord.Colour.red(),
    "challenge": discord.Colour.gold(),
    "assess": discord.Colour.gold(),
    "challenge_result": discord.Colour.gold(),
}

#: The core's button styles as Discord's.
STYLES: Final[Mapping[ButtonStyle, discord.ButtonStyle]] = {
    "primary": discord.ButtonStyle.primary,
    "secondary": discord.ButtonStyle.secondary,
    "success": discord.ButtonStyle.success,
    "danger": discord.ButtonStyle.danger,
}


@dataclass(frozen=True, slots=True)
class OpenWorkspace:
    """The button of a reply that offers the browser workspace (:attr:`Reply.workspace`):
    :class:`~bot.platforms.discord.components.WorkspaceButton`, custom id ``w:<purpose>``
    (at most 34 characters), in a row of its own below the reply's buttons."""

    purpose: str
    label: ClassVar[str] = OPEN_WORKSPACE
    style: ClassVar[ButtonStyle] = "secondary"

    @property
    def payload(self) -> str:
        """The custom id: ``w:<purpose>``."""
        return f"w:{self.purpose}"


#: A button as Discord shows it: the core's, or the workspace's.
Shown = Button | OpenWorkspace
#: Rows of buttons as Discord shows them.
ShownRows = tuple[tuple[Shown, ...], ...]


def offered_rows(reply: Reply) -> ShownRows:
    """The reply's rows of buttons, and the workspace's button in a row of its own when
    the reply offers it (the platform leaves :attr:`Reply.workspace` out when ``[web]``
    is off: :func:`offering`)."""
    if reply.workspace is None:
        return reply.buttons
    return (*reply.buttons, (OpenWorkspace(reply.workspace),))


def offering(reply: Reply, workspace: bool) -> Reply:
    """The reply as a platform shows it: with its workspace offer only when the platform
    can open the workspace (``workspace``: ``[web]`` on, links can be made)."""
    if workspace or reply.workspace is None:
        return reply
    return replace(reply, workspace=None)


def button_item(button: Shown, *, row: int | None = None) -> discord.ui.Item[Any]:
    """One button as a persistent item: a :class:`StudyButton` (its custom id the core's
    payload), or the workspace's :class:`WorkspaceButton`."""
    if isinstance(button, OpenWorkspace):
        return WorkspaceButton(button.purpose, row=row)
    style = STYLES[button.style]
    return StudyButton(button.label[:BUTTON_LABEL], button.payload, style=style, row=row)


@dataclass
class Outgoing:
    """One Discord message to send (or to edit into place)."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    images: list[RenderedImage] = field(default_factory=list)
    extra_files: list[tuple[str, bytes]] = field(default_factory=list)
    buttons: ShownRows = ()

    def files(self) -> list[discord.File]:
        """Fresh upload objects (a :class:`discord.File` can be sent once)."""
        out = [discord.File(io.BytesIO(img.data), filename=img.filename) for img in self.images]
        out.extend(discord.File(io.BytesIO(data), filename=name) for name, data in self.extra_files)
        return out

    def view(self) -> discord.ui.View | None:
        """The buttons as a view of persistent :class:`StudyButton` items (None without any)."""
        return button_view(self.buttons)

    def send_kwargs(self) -> dict[str, Any]:
        """The arguments of ``send`` for this message (files and view only when there are)."""
        kwargs: dict[str, Any] = {"content": self.content, "embeds": self.embeds}
        files = self.files()
        if files:
            kwargs["files"] = files
        view = self.view()
        if view is not None:
            kwargs["view"] = view
        return kwargs


def button_view(rows: ShownRows) -> discord.ui.View | None:
    """Rows of buttons as a view whose custom ids are the core payloads (and the
    workspace's ``w:<purpose>``)."""
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for index, row in enumerate(discord_rows(rows)):
        for button in row:
            view.add_item(button_item(button, row=index))
    return view


def discord_rows(rows: ShownRows) -> list[list[Shown]]:
    """The core's rows within Discord's 5 rows of 5 buttons, in order.

    Rows that fit stay as they are; otherwise neighbouring rows share a row
    when they fit together, and failing that the buttons flow five to a row.
    No reply has more than 25 buttons on Discord (the self-assessment, which
    would, is one form there: ``Reply.form_buttons``); should one, the last
    two rows are kept, the middle is cut, and a warning is logged.
    """
    if len(rows) <= MAX_ROWS and all(len(row) <= ROW_WIDTH for row in rows):
        return [list(row) for row in rows]
    merged: list[list[Shown]] = []
    for row in rows:
        if merged and len(merged[-1]) + len(row) <= ROW_WIDTH:
            merged[-1].extend(row)
        else:
            merged.append(list(row))
    if len(merged) <= MAX_ROWS and all(len(row) <= ROW_WIDTH for row in merged):
        return merged
    flat = [button for row in rows for button in row]
    limit = MAX_ROWS * ROW_WIDTH
    if len(flat) > limit:
        tail = [button for row in rows[-2:] for button in row][:limit]
        log.warning("%d buttons do not fit in a Discord message; kept %d", len(flat), limit)
        flat = flat[: limit - len(tail)] + tail
    return [flat[i : i + ROW_WIDTH] for i in range(0, len(flat), ROW_WIDTH)]


def plain(text: str) -> str:
    """Core text (plain) made safe for Discord: markdown and mentions escaped."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def card_markdown(markdown: str) -> str:
    """Deck markdown for Discord: formulas as escaped Unicode, tables as monospace."""
    text = math_fallback(table_to_monospace(markdown), each=discord.utils.escape_markdown)
    return discord.utils.escape_mentions(text)


def clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a line or word with an ellipsis."""
    if len(text) <= limit:
        return text
    pieces = split_message(text, limit - 2)
    return (pieces[0] if pieces else text[: limit - 2]) + "\n…"


def _title(card: CardView) -> str:
    title = f"{card.deck_title} · {math_fallback(card.title)}"
    return title if len(title) <= EMBED_TITLE else title[: EMBED_TITLE - 1] + "…"


async def _part(
    markdown: str, renderer: Renderer | None, images: list[RenderedImage]
) -> tuple[str, discord.Embed | None]:
    """One piece of card text; a table or wide code drawn as an image when possible."""
    if needs_image(markdown):
        image = await draw_text(renderer, markdown)
        if image is not None:
            images.append(image)
            embed = discord.Embed().set_image(url=f"attachment://{image.filename}")
            return "*(shown in the image below)*", embed
    return card_markdown(markdown), None


async def card_embeds(
    card: CardView, kind: str, renderer: Renderer | None
) -> tuple[list[discord.Embed], list[RenderedImage]]:
    """A card as embeds (the card, then any drawn tables) and the images they show.

    The card's embed shows the image of the side shown (the question's with the front,
    the answer's with the back), or its text when it cannot be drawn.
    """
    images: list[RenderedImage] = []
    extra: list[discord.Embed] = []
    front, front_image = await _part(card.front, renderer, images)
    lines = [front]
    if front_image is not None:
        extra.append(front_image)
    if card.back is not None:
        if card.typed_answer:
            lines.append("**Your answer**\n> " + plain(card.typed_answer).replace("\n", "\n> "))
        back, back_image = await _part(card.back, renderer, images)
        lines.append("**Answer**\n" + back)
        if back_image is not None:
            extra.append(back_image)
    embed = discord.Embed(
        title=_title(card),
        description=clip("\n\n".join(lines), DISCORD_EMBED),
        colour=COLOURS.get(kind),
    )
    picture = await draw_card(renderer, card)
    if picture is not None:
        images.insert(0, picture)
        embed.set_image(url=f"attachment://{picture.filename}")
    elif card.image is not None:
        alt = image_alt_text(card.image.kind, card.image.spec)
        if alt:
            name = "Image" if card.image.kind == "media" else "Figure"
            embed.add_field(name=name, value=clip(f"`{alt}`", EMBED_FIELD), inline=False)
    if card.back is not None:
        if card.mnemonic:
            embed.add_field(name="Mnemonic", value=clip(card_markdown(card.mnemonic), EMBED_FIELD))
        if card.notes:
            embed.add_field(
                name="Notes", value=clip(card_markdown(card.notes), EMBED_FIELD), inline=False
            )
    return [embed, *extra], images


def _text_embed(reply: Reply) -> discord.Embed:
    """A challenge post or self-assessment (the core's markdown), or /stats (plain text)."""
    if reply.kind in PLAIN_TITLES:
        return discord.Embed(
            title=PLAIN_TITLES[reply.kind], description=clip(plain(reply.text), DISCORD_EMBED)
        )
    embed = discord.Embed(
        title=EMBED_TITLES.get(reply.kind),
        description=clip(card_markdown(reply.text), DISCORD_EMBED),
        colour=COLOURS.get(reply.kind),
    )
    if reply.kind == "challenge":
        embed.set_footer(text=_CHALLENGE_FOOTER)
    return embed


async def _add_figure(message: Outgoing, reply: Reply, renderer: Renderer | None) -> None:
    """Draw the reply's chart: a heat map in its own embed, /stats in the stats embed.

    Without a drawing the text stands alone.
    """
    image = await draw_figure(renderer, reply.figure)
    if image is None:
        return
    message.images.append(image)
    url = f"attachment://{image.filename}"
    if isinstance(reply.figure, HeatMap):
        title = math_fallback(reply.figure.title)[:EMBED_TITLE]
        embed = discord.Embed(title=title, colour=COLOURS["challenge_result"])
        message.embeds.append(embed.set_image(url=url))
    elif message.embeds:
        message.embeds[0].set_image(url=url)
    else:
        message.embeds.append(discord.Embed().set_image(url=url))


def _add_photo(message: Outgoing, photo_ref: str) -> None:
    """A photo Discord already holds (an attachment URL), shown as an embed image."""
    if not photo_ref.startswith(("https://", "http://")):
        log.warning("a photo reference that is not a Discord URL was not shown")
        return
    message.embeds.append(discord.Embed().set_image(url=photo_ref))


def _add_stored_photo(message: Outgoing, photo: Attachment, file_limit: int | None) -> None:
    """A stored photo (a member's challenge answer) uploaded with the message and shown
    as its embed's image; one over ``file_limit`` (it was kept within Discord's upload
    limit) is left out with a line saying so."""
    if file_limit is not None and len(photo.data) > file_limit:
        log.warning("a stored photo of %d bytes is over this upload limit", len(photo.data))
        message.content = ((message.content or "") + "\n" + PHOTO_TOO_LARGE).strip()
        return
    message.extra_files.append((photo.filename, photo.data))
    message.embeds.append(discord.Embed().set_image(url=f"attachment://{photo.filename}"))


async def to_messages(
    reply: Reply, renderer: Renderer | None, *, file_limit: int | None = None
) -> list[Outgoing]:
    """A reply as Discord messages, in order.

    Text longer than one message is split; the last piece carries the card and
    buttons. A file larger than ``file_limit`` bytes (the interaction's upload
    limit; None: no limit known) is replaced by :data:`FILE_TOO_LARGE`.
    """
    if reply.form_buttons is not None:  # Discord has forms: the one form's button
        reply = replace(reply, buttons=reply.form_buttons)
    rows = offered_rows(reply)
    out: list[Outgoing] = []
    if (reply.kind in EMBED_TITLES or reply.kind in PLAIN_TITLES) and reply.text:
        message = Outgoing(embeds=[_text_embed(reply)], buttons=rows)
    else:
        chunks = split_message(plain(reply.text), DISCORD_MESSAGE) if reply.text else []
        out.extend(Outgoing(content=chunk) for chunk in chunks[:-1])
        message = Outgoing(content=chunks[-1] if chunks else None, buttons=rows)
    if reply.card is not None:
        message.embeds, message.images = await card_embeds(reply.card, reply.kind, renderer)
    if reply.figure is not None:
        await _add_figure(message, reply, renderer)
    if reply.photo_ref:
        _add_photo(message, reply.photo_ref)
    if reply.photo is not None:
        _add_stored_photo(message, reply.photo, file_limit)
    attachment = reply.attachment
    if attachment is not None:
        if file_limit is not None and len(attachment.data) > file_limit:
            message.content = FILE_TOO_LARGE
        else:
            message.extra_files.append((attachment.filename, attachment.data))
    if message.content or message.embeds or message.buttons or message.extra_files:
        out.append(message)
    return out
