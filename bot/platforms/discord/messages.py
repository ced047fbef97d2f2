"""A core :class:`Reply` as Discord messages: content, embeds, attachments and buttons.

Cards become embeds ("<deck> · <concept>" as the title, front or back as the
description); math becomes Unicode (:func:`math_fallback` per formula, escaped
for Discord's markdown); tables become an image from the renderer or aligned
monospace in a code block; everything stays within Discord's limits.

Challenge posts and self-assessments are embeds too (their text carries the
deck author's markdown and formulas); a summary's heat map is drawn and
attached, and a shared photo (a Discord attachment URL) is shown as an image.
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass, field
from typing import Final

import discord

from bot.core.messages import Announcement, Button, CardView, HeatMap, Reply
from bot.core.rendering import RenderedImage, Renderer, RenderError
from bot.platforms.discord.components import StudyButton
from bot.text.latex import formula_fallback, image_alt_text
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

#: Replies whose text is the deck author's markdown, shown as an embed (with their title).
_EMBED_TITLES: Final = {"challenge": "Group challenge", "assess": "Self-assessment"}
_CHALLENGE_FOOTER: Final = (
    "The button opens a private form for your answer. For a photo of your page, tap it "
    "once (you can close the form), then send /challenge submit with the photo."
)

_COLOURS: Final = {
    "front": discord.Colour.blurple(),
    "back": discord.Colour.green(),
    "quiz": discord.Colour.orange(),
    "quiz_result": discord.Colour.orange(),
    "error": discord.Colour.red(),
    "challenge": discord.Colour.gold(),
    "assess": discord.Colour.gold(),
    "challenge_result": discord.Colour.gold(),
}

# Looser than bot.text.latex.math_fallback's rule: between single dollars there may be
# another ``$`` (even first), and the closing ``$`` may be followed by a digit.
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
    for index, row in enumerate(discord_rows(rows)):
        for button in row:
            view.add_item(
                StudyButton(
                    button.label[:BUTTON_LABEL], button.payload, style=_style(button), row=index
                )
            )
    return view


def discord_rows(rows: tuple[tuple[Button, ...], ...]) -> list[list[Button]]:
    """The core's rows within Discord's 5 rows of 5 buttons, in order.

    Rows that fit stay as they are; otherwise neighbouring rows share a row
    when they fit together, and failing that (a self-assessment with many
    checkpoints and rubric rows) the buttons flow five to a row. Beyond 25
    buttons the last two rows (apply, share) are kept and the middle is cut.
    """
    if len(rows) <= MAX_ROWS and all(len(row) <= ROW_WIDTH for row in rows):
        return [list(row) for row in rows]
    merged: list[list[Button]] = []
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


def _style(button: Button) -> discord.ButtonStyle:
    code, _, rest = button.payload.partition(":")
    arg = rest.rpartition(":")[2] if rest.count(":") == 1 else ""
    if code in ("s", "q", "j"):
        return discord.ButtonStyle.primary
    if code == "f":  # apply a self-assessment
        return discord.ButtonStyle.success
    if code == "g":  # a rubric grade; the chosen one is marked
        return discord.ButtonStyle.primary if "▶" in button.label else discord.ButtonStyle.secondary
    if code == "h":  # a checkpoint, ticked or not
        ticked = button.label.startswith("☑")
        return discord.ButtonStyle.success if ticked else discord.ButtonStyle.secondary
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


def clip(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, cut at a line or word with an ellipsis."""
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
        description=clip("\n\n".join(lines), DISCORD_EMBED),
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
                embed.add_field(name="Figure", value=clip(f"`{alt}`", EMBED_FIELD), inline=False)
    if card.back is not None:
        if card.mnemonic:
            embed.add_field(name="Mnemonic", value=clip(card_markdown(card.mnemonic), EMBED_FIELD))
        if card.notes:
            embed.add_field(
                name="Notes", value=clip(card_markdown(card.notes), EMBED_FIELD), inline=False
            )
    return [embed, *extra], images


def _text_embed(reply: Reply) -> discord.Embed:
    """A challenge post or self-assessment: the core's markdown text as an embed."""
    embed = discord.Embed(
        title=_EMBED_TITLES.get(reply.kind),
        description=clip(card_markdown(reply.text), DISCORD_EMBED),
        colour=_COLOURS.get(reply.kind),
    )
    if reply.kind == "challenge":
        embed.set_footer(text=_CHALLENGE_FOOTER)
    return embed


async def _add_heatmap(message: Outgoing, chart: HeatMap, renderer: Renderer | None) -> None:
    """Draw a heat map and show it in an embed; without a drawing the text stands alone."""
    if renderer is None:
        return
    try:
        image = await renderer.heatmap(chart)
    except RenderError as exc:
        log.warning("could not draw the heat map %r: %s", chart.title, exc)
        return
    message.images.append(image)
    title = formula_fallback_plain(chart.title)[:EMBED_TITLE]
    embed = discord.Embed(title=title, colour=_COLOURS["challenge_result"])
    message.embeds.append(embed.set_image(url=f"attachment://{image.filename}"))


def _add_photo(message: Outgoing, photo_ref: str) -> None:
    """A photo Discord already holds (an attachment URL), shown as an embed image."""
    if not photo_ref.startswith(("https://", "http://")):
        log.warning("a photo reference that is not a Discord URL was not shown")
        return
    message.embeds.append(discord.Embed().set_image(url=photo_ref))


async def to_messages(reply: Reply, renderer: Renderer | None) -> list[Outgoing]:
    """A reply (and its follow-ups) as Discord messages, in order.

    Text longer than one message is split; the last piece carries the card and buttons.
    """
    out: list[Outgoing] = []
    current: Reply | None = reply
    while current is not None:
        if current.kind in _EMBED_TITLES and current.text:
            message = Outgoing(embeds=[_text_embed(current)], buttons=current.buttons)
        else:
            chunks = split_message(plain(current.text), DISCORD_MESSAGE) if current.text else []
            for chunk in chunks[:-1]:
                out.append(Outgoing(content=chunk))
            message = Outgoing(content=chunks[-1] if chunks else None, buttons=current.buttons)
        if current.card is not None:
            message.embeds, message.images = await card_embeds(current.card, current.kind, renderer)
        if current.heatmap is not None:
            await _add_heatmap(message, current.heatmap, renderer)
        if current.photo_ref:
            _add_photo(message, current.photo_ref)
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
