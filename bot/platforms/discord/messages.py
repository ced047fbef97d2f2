"""A core :class:`Reply` as Discord messages: content, embeds, attachments and buttons.

Cards become embeds ("<deck> · <concept>" as the title, front or back as the
description); math becomes Unicode (:func:`math_fallback` per formula, escaped
for Discord's markdown); tables become an image from the renderer or aligned
monospace in a code block; everything stays within Discord's limits.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from typing import Final

import discord

from bot.core.messages import Announcement, Button, CardView, Reply
from bot.core.rendering import (
    DISCORD_EMBED,
    DISCORD_MESSAGE,
    RenderedImage,
    Renderer,
    RenderError,
    formula_fallback,
    image_alt_text,
    needs_image,
    split_message,
    table_to_monospace,
)
from bot.platforms.discord.components import StudyButton

log = logging.getLogger(__name__)

#: Discord: characters in an embed title, a field value, a button label.
EMBED_TITLE: Final = 256
EMBED_FIELD: Final = 1024
BUTTON_LABEL: Final = 80

_COLOURS: Final = {
    "front": discord.Colour.blurple(),
    "back": discord.Colour.green(),
    "quiz": discord.Colour.orange(),
    "quiz_result": discord.Colour.orange(),
    "error": discord.Colour.red(),
}

# The same ``$...$`` / ``$$...$$`` rule as bot.core.rendering.math_fallback.
_MATH: Final = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?!\s)(.+?)(?<![\s\\])\$")


@dataclass
class Outgoing:
    """One Discord message to send (or to edit into place)."""

    content: str | None = None
    embeds: list[discord.Embed] = field(default_factory=list)
    images: list[RenderedImage] = field(default_factory=list)
    extra_files: list[tuple[str, bytes]] = field(default_factory=list)
    buttons: tuple[tuple[Button, ...], ...] = ()

    def files(self) -> list[discord.File]:
        """Fresh upload objects (a :class:`discord.File` can be sent once)."""
        out = [discord.File(io.BytesIO(img.data), filename=img.filename) for img in self.images]
        out.extend(discord.File(io.BytesIO(data), filename=name) for name, data in self.extra_files)
        return out

    def view(self) -> discord.ui.View | None:
        """The buttons as a view of persistent :class:`StudyButton` items (None without any)."""
        return button_view(self.buttons)


def button_view(rows: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """Rows of core buttons as a view whose custom ids are the core payloads."""
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    for index, row in enumerate(rows[:5]):
        for button in row[:5]:
            view.add_item(
                StudyButton(
                    button.label[:BUTTON_LABEL], button.payload, style=_style(button), row=index
                )
            )
    return view


def _style(button: Button) -> discord.ButtonStyle:
    code, _, rest = button.payload.partition(":")
    arg = rest.rpartition(":")[2] if rest.count(":") == 1 else ""
    if code in ("s", "q"):
        return discord.ButtonStyle.primary
    if code == "r":
        return discord.ButtonStyle.danger if arg == "1" else discord.ButtonStyle.primary
    if code == "c" and arg == "1":
        return discord.ButtonStyle.danger
    return discord.ButtonStyle.secondary


def plain(text: str) -> str:
    """Core text (plain) made safe for Discord: markdown and mentions escaped."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def card_markdown(markdown: str) -> str:
    """Deck markdown for Discord: formulas as escaped Unicode, tables as monospace."""

    def formula(match: re.Match[str]) -> str:
        latex = match.group(1) if match.group(1) is not None else match.group(2)
        return discord.utils.escape_markdown(formula_fallback(latex))

    text = table_to_monospace(markdown)
    return discord.utils.escape_mentions(_MATH.sub(formula, text))


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    pieces = split_message(text, limit - 2)
    return (pieces[0] if pieces else text[: limit - 2]) + "\n…"


def _title(card: CardView) -> str:
    title = f"{card.deck_title} · {formula_fallback_plain(card.title)}"
    return title if len(title) <= EMBED_TITLE else title[: EMBED_TITLE - 1] + "…"


def formula_fallback_plain(text: str) -> str:
    """Formulas in a short plain text (a title) as Unicode, without markdown escapes."""
    return _MATH.sub(
        lambda m: formula_fallback(m.group(1) if m.group(1) is not None else m.group(2)), text
    )


async def _part(
    markdown: str, renderer: Renderer | None, images: list[RenderedImage]
) -> tuple[str, discord.Embed | None]:
    """One piece of card text; a table or wide code drawn as an image when possible."""
    if renderer is not None and needs_image(markdown):
        try:
            image = await renderer.text_image(markdown)
        except RenderError as exc:
            log.warning("could not draw card text as an image: %s", exc)
        else:
            images.append(image)
            embed = discord.Embed().set_image(url=f"attachment://{image.filename}")
            return "*(shown in the image below)*", embed
    return card_markdown(markdown), None


async def card_embeds(
    card: CardView, kind: str, renderer: Renderer | None
) -> tuple[list[discord.Embed], list[RenderedImage]]:
    """A card as embeds (the card, then any drawn tables) and the images they show."""
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
        description=_clip("\n\n".join(lines), DISCORD_EMBED),
        colour=_COLOURS.get(kind),
    )
    picture = None
    if card.image_kind and card.image_spec:
        if renderer is not None:
            picture = await renderer.card_image(card.image_kind, card.image_spec)
        if picture is not None:
            images.insert(0, picture)
            embed.set_image(url=f"attachment://{picture.filename}")
        else:
            alt = image_alt_text(card.image_kind, card.image_spec)
            if alt:
                embed.add_field(name="Figure", value=_clip(f"`{alt}`", EMBED_FIELD), inline=False)
    if card.back is not None:
        if card.mnemonic:
            embed.add_field(name="Mnemonic", value=_clip(card_markdown(card.mnemonic), EMBED_FIELD))
        if card.notes:
            embed.add_field(
                name="Notes", value=_clip(card_markdown(card.notes), EMBED_FIELD), inline=False
            )
    return [embed, *extra], images


async def to_messages(reply: Reply, renderer: Renderer | None) -> list[Outgoing]:
    """A reply (and its follow-ups) as Discord messages, in order.

    Text longer than one message is split; the last piece carries the card and buttons.
    """
    out: list[Outgoing] = []
    current: Reply | None = reply
    while current is not None:
        chunks = split_message(plain(current.text), DISCORD_MESSAGE) if current.text else []
        for chunk in chunks[:-1]:
            out.append(Outgoing(content=chunk))
        message = Outgoing(content=chunks[-1] if chunks else None, buttons=current.buttons)
        if current.card is not None:
            message.embeds, message.images = await card_embeds(current.card, current.kind, renderer)
        if message.content or message.embeds or message.buttons:
            out.append(message)
        current = current.follow_up
    return out


def announcements_of(reply: Reply) -> list[Announcement]:
    """Every announcement carried by a reply and its follow-ups."""
    found: list[Announcement] = []
    current: Reply | None = reply
    while current is not None:
        found.extend(current.announcements)
        current = current.follow_up
    return found
