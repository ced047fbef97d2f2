"""Cards as one composed message: Discord's Components V2 (``IS_COMPONENTS_V2``, 1 << 15).

A card (its title and front, its picture, its buttons) is one container: text
displays, a media gallery showing the drawn picture (uploaded with the message,
referenced as ``attachment://<name>``) and action rows whose buttons are today's
:class:`~bot.platforms.discord.components.StudyButton` items, custom ids
unchanged, so a press routes after a restart as before. A rating's note
("Good: see it again in 10m.") is a text display above the container. The
reveal edits the container into the back (with the back's picture), and a
rating edits it into the next card.

Discord's rules for such a message, which :func:`fits` checks before anything is
sent: no ``content`` or ``embeds`` beside the components, at most
:data:`MAX_COMPONENTS` components counting the nested ones, at most
:data:`MAX_TEXT` characters of text (counted here over text displays, button
labels and media descriptions, which is more than Discord counts), 1-10 items in
a media gallery. A reply that would break one is sent as today's embed message
(:func:`bot.platforms.discord.messages.to_messages`), and so is one Discord
refuses all the same (a 400): :func:`send` tries the embed form then.

The flag cannot be taken off a message once set: a composed message is edited
only into another composed one (any reply can be composed, :func:`compose`).
When the new reply does not fit, the tapped message keeps its text without its
buttons, says the card continues below (its back) or that what comes next is
below (the next card, anything else), and the embed form follows as new
messages (:func:`edit_tapped`). A message sent without the flag can take it by
an edit; when Discord refuses that switch, the edit is made in the embed form.

Only the study loop's cards are composed when first sent (reviews, pushes, the
quiz card, cram: :data:`COMPOSED_KINDS`); every other reply (a challenge's
reference too) stays as :mod:`~bot.platforms.discord.messages` sends it.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any, Final

import discord

from bot.core.drawing import draw_card, draw_figure, draw_text
from bot.core.messages import CardView, HeatMap, Reply
from bot.core.rendering import RenderedImage, Renderer
from bot.platforms.discord.messages import (
    BUTTON_LABEL,
    COLOURS,
    EMBED_TITLES,
    FILE_TOO_LARGE,
    PHOTO_TOO_LARGE,
    PLAIN_TITLES,
    Outgoing,
    ShownRows,
    button_item,
    card_markdown,
    discord_rows,
    offered_rows,
    plain,
    to_messages,
)
from bot.text.latex import image_alt_text, math_fallback
from bot.text.markdown import needs_image

log = logging.getLogger(__name__)

#: Discord: components in a Components V2 message, the nested ones included.
MAX_COMPONENTS: Final = 40
#: Discord: characters of text in a Components V2 message.
MAX_TEXT: Final = 4000
#: Discord (undocumented): a 500, not a 400, once the text displays' UTF-8 bytes plus 12
#: for each pass 10,170 (discord/discord-api-docs#8554): 4,000 characters of CJK do.
MAX_TEXT_BYTES: Final = 10_000
#: Discord: items in one media gallery.
GALLERY_MAX: Final = 10
#: Where an interaction keeps the tapped message as its last edit left it.
_EDITED: Final = "studybot.edited"
#: Said where a card's back is too long for one composed message.
CONTINUED: Final = "*The card continues in the next message.*"
#: Said where anything else that takes a composed message's place does not fit (the next
#: card, a long summary): the tapped card is finished, it does not continue.
FOLLOWS: Final = "*What comes next is in the next message.*"


# --------------------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True)
class Text:
    """A text display (Discord markdown)."""

    content: str


@dataclass(frozen=True, slots=True)
class Gallery:
    """A media gallery: each item a URL (``attachment://<name>`` for an uploaded file)."""

    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Divider:
    """A separator line."""


@dataclass(frozen=True, slots=True)
class Attached:
    """A file shown as a file (``attachment://<name>``)."""

    filename: str


@dataclass(frozen=True, slots=True)
class Rows:
    """Action rows of study buttons (and the workspace's, in a row of its own)."""

    rows: ShownRows


@dataclass(frozen=True, slots=True)
class Box:
    """A container, with an accent colour."""

    colour: discord.Colour | None
    blocks: tuple[Block, ...]


Block = Text | Gallery | Divider | Attached | Rows | Box


def count(blocks: Iterable[Block]) -> tuple[int, int, int]:
    """(components, characters of text, the largest gallery) of some blocks."""
    components = text = largest = 0
    for block in blocks:
        if isinstance(block, Box):
            inner = count(block.blocks)
            components += 1 + inner[0]
            text += inner[1]
            largest = max(largest, inner[2])
        elif isinstance(block, Rows):
            rows = discord_rows(block.rows)  # as they are sent
            components += len(rows) + sum(len(row) for row in rows)
            text += sum(len(b.label[:BUTTON_LABEL] or "…") for row in rows for b in row)
        elif isinstance(block, Text):
            components += 1
            text += len(block.content)
        elif isinstance(block, Gallery):
            components += 1
            largest = max(largest, len(block.urls))
        else:
            components += 1
    return components, text, largest


def text_bytes(blocks: Iterable[Block]) -> int:
    """The UTF-8 bytes of the text displays, and 12 for each (see :data:`MAX_TEXT_BYTES`)."""
    total = 0
    for block in blocks:
        if isinstance(block, Box):
            total += text_bytes(block.blocks)
        elif isinstance(block, Text):
            total += len(block.content.encode()) + 12
    return total


def fits(blocks: Sequence[Block]) -> bool:
    """Whether Discord takes these blocks as one composed message."""
    components, text, largest = count(blocks)
    return (
        0 < components <= MAX_COMPONENTS
        and text <= MAX_TEXT
        and largest <= GALLERY_MAX
        and text_bytes(blocks) <= MAX_TEXT_BYTES
    )


def _item(block: Block) -> discord.ui.Item[Any]:
    if isinstance(block, Text):
        return discord.ui.TextDisplay(block.content)
    if isinstance(block, Gallery):
        return discord.ui.MediaGallery(*(discord.MediaGalleryItem(url) for url in block.urls))
    if isinstance(block, Divider):
        return discord.ui.Separator()
    if isinstance(block, Attached):
        return discord.ui.File(f"attachment://{block.filename}")
    if isinstance(block, Box):
        return discord.ui.Container(*(_item(b) for b in block.blocks), accent_colour=block.colour)
    raise TypeError(f"not one item: {block!r}")


def _add(parent: discord.ui.LayoutView | discord.ui.Container[Any], block: Block) -> None:
    if isinstance(block, Rows):
        for row in discord_rows(block.rows):
            action_row: discord.ui.ActionRow[Any] = discord.ui.ActionRow()
            for button in row:
                action_row.add_item(button_item(button))
            parent.add_item(action_row)
    elif isinstance(block, Box):
        container: discord.ui.Container[Any] = discord.ui.Container(accent_colour=block.colour)
        for inner in block.blocks:
            _add(container, inner)
        parent.add_item(container)
    else:
        parent.add_item(_item(block))


def build(blocks: Sequence[Block]) -> discord.ui.LayoutView:
    """The blocks as a persistent layout view."""
    view = discord.ui.LayoutView(timeout=None)
    for block in blocks:
        _add(view, block)
    return view


# ---------------------------------------------------------------- a composed message


@dataclass
class Composed:
    """One Components V2 message, and the embed messages it stands for (sent instead when
    Discord refuses it)."""

    blocks: tuple[Block, ...]
    images: list[RenderedImage] = field(default_factory=list)
    extra_files: list[tuple[str, bytes]] = field(default_factory=list)
    #: Today's messages for the same reply, made only when Discord refuses this one.
    fallback: Callable[[], Awaitable[list[Outgoing]]] | None = None

    def files(self) -> list[discord.File]:
        """Fresh upload objects (a :class:`discord.File` can be sent once)."""
        out = [discord.File(io.BytesIO(img.data), filename=img.filename) for img in self.images]
        out.extend(discord.File(io.BytesIO(data), filename=name) for name, data in self.extra_files)
        return out

    def view(self) -> discord.ui.LayoutView:
        return build(self.blocks)

    def send_kwargs(self) -> dict[str, Any]:
        """The arguments of ``send``: the layout (which sets the flag) and the files."""
        kwargs: dict[str, Any] = {"view": self.view()}
        files = self.files()
        if files:
            kwargs["files"] = files
        return kwargs

    def edit_kwargs(self) -> dict[str, Any]:
        """The arguments of an edit: content and embeds cleared, as the flag requires."""
        return {"content": None, "embeds": [], "attachments": self.files(), "view": self.view()}


#: One message to send: composed, or today's content and embeds.
Message = Composed | Outgoing


def edit_kwargs(message: Message) -> dict[str, Any]:
    """The arguments of an edit that makes a message this one."""
    if isinstance(message, Composed):
        return message.edit_kwargs()
    return {
        "content": message.content,
        "embeds": message.embeds,
        "attachments": message.files(),
        "view": message.view(),
    }


def _side(images: list[RenderedImage], image: RenderedImage) -> Gallery:
    if all(img.filename != image.filename for img in images):
        images.append(image)
    return Gallery((f"attachment://{image.filename}",))


async def _card_blocks(
    card: CardView, kind: str, renderer: Renderer | None, images: list[RenderedImage]
) -> Box:
    """A card as one container: title and front, the back, the side's picture, notes."""
    title = discord.utils.escape_markdown(f"{card.deck_title} · {math_fallback(card.title)}")
    blocks: list[Block] = []
    heading = f"### {title}"
    if needs_image(card.front) and (drawn := await draw_text(renderer, card.front)) is not None:
        blocks += [Text(heading), _side(images, drawn)]
    else:
        blocks.append(Text(f"{heading}\n{card_markdown(card.front)}"))
    if card.back is not None:
        blocks.append(Divider())
        if card.typed_answer:
            blocks.append(
                Text("**Your answer**\n> " + plain(card.typed_answer).replace("\n", "\n> "))
            )
        if needs_image(card.back) and (drawn := await draw_text(renderer, card.back)) is not None:
            blocks += [Text("**Answer**"), _side(images, drawn)]
        else:
            blocks.append(Text("**Answer**\n" + card_markdown(card.back)))
    picture = await draw_card(renderer, card)
    if picture is not None:
        blocks.append(_side(images, picture))
    elif card.image is not None:
        alt = image_alt_text(card.image.kind, card.image.spec)
        if alt:
            name = "Image" if card.image.kind == "media" else "Figure"
            blocks.append(Text(f"**{name}:** `{alt}`"))
    if card.back is not None:
        if card.mnemonic:
            blocks.append(Text("**Mnemonic**\n" + card_markdown(card.mnemonic)))
        if card.notes:
            blocks.append(Text("**Notes**\n" + card_markdown(card.notes)))
    return Box(COLOURS.get(kind), tuple(blocks))


async def compose(
    reply: Reply, renderer: Renderer | None, *, file_limit: int | None = None
) -> Composed | None:
    """Any reply as one composed message (None: it does not fit Discord's limits).

    The reply's text heads it (a note such as the rating's, or a summary); a card is
    a container with the buttons inside, other buttons follow the text.
    """
    if reply.form_buttons is not None:  # Discord has forms: the one form's button
        reply = replace(reply, buttons=reply.form_buttons)
    rows = offered_rows(reply)
    images: list[RenderedImage] = []
    extra: list[tuple[str, bytes]] = []
    blocks: list[Block] = []
    if reply.text:
        if reply.kind in EMBED_TITLES:
            blocks.append(
                Box(
                    COLOURS.get(reply.kind),
                    (Text(f"### {EMBED_TITLES[reply.kind]}\n{card_markdown(reply.text)}"),),
                )
            )
        elif reply.kind in PLAIN_TITLES:
            blocks.append(Text(f"### {PLAIN_TITLES[reply.kind]}\n{plain(reply.text)}"))
        else:
            blocks.append(Text(plain(reply.text)))
    if reply.card is not None:
        card = await _card_blocks(reply.card, reply.kind, renderer, images)
        if rows:
            card = Box(card.colour, (*card.blocks, Rows(rows)))
        blocks.append(card)
    if reply.figure is not None:
        drawn = await draw_figure(renderer, reply.figure)
        if drawn is not None:
            if isinstance(reply.figure, HeatMap):
                blocks.append(Text(f"**{plain(math_fallback(reply.figure.title))}**"))
            blocks.append(_side(images, drawn))
    if reply.photo_ref:
        if reply.photo_ref.startswith(("https://", "http://")):
            blocks.append(Gallery((reply.photo_ref,)))
        else:
            log.warning("a photo reference that is not a Discord URL was not shown")
    if reply.photo is not None:  # a stored photo, uploaded (as to_messages does)
        if file_limit is not None and len(reply.photo.data) > file_limit:
            blocks.append(Text(PHOTO_TOO_LARGE))
        else:
            extra.append((reply.photo.filename, reply.photo.data))
            blocks.append(Gallery((f"attachment://{reply.photo.filename}",)))
    attachment = reply.attachment
    if attachment is not None:
        if file_limit is not None and len(attachment.data) > file_limit:
            blocks.append(Text(FILE_TOO_LARGE))
        else:
            extra.append((attachment.filename, attachment.data))
            blocks.append(Attached(attachment.filename))
    if reply.card is None and rows:
        blocks.append(Rows(rows))
    if not blocks or not fits(blocks):
        return None
    return Composed(tuple(blocks), images, extra)


#: The replies composed when first sent: the study loop's cards (reviews, pushes, the
#: quiz card and its result, cram). A challenge's reference stays an embed.
COMPOSED_KINDS: Final = frozenset({"front", "back", "quiz", "quiz_result"})


def composes(reply: Reply) -> bool:
    """Whether a reply is composed when first sent: a card of the study loop."""
    return reply.card is not None and reply.kind in COMPOSED_KINDS


async def messages_for(
    reply: Reply, renderer: Renderer | None, *, file_limit: int | None = None
) -> list[Message]:
    """A reply as the messages to send: one composed message for a card that fits,
    otherwise today's messages."""
    if composes(reply):
        composed = await compose(reply, renderer, file_limit=file_limit)
        if composed is not None:
            composed.fallback = partial(to_messages, reply, renderer, file_limit=file_limit)
            return [composed]
        log.info(
            "a %s card is too large for one composed Discord message: sent as embeds", reply.kind
        )
    return list(await to_messages(reply, renderer, file_limit=file_limit))


async def send(send: Callable[..., Awaitable[object]], message: Message) -> int:
    """Send one message with ``send`` (a channel's, or an interaction's follow-up); a
    composed one Discord refuses (400) goes in its embed form. How many were sent."""
    if isinstance(message, Composed):
        try:
            await send(**message.send_kwargs())
            return 1
        except discord.HTTPException as exc:
            if exc.status != 400 or message.fallback is None:
                raise
            log.warning(
                "Discord refused a composed message (code %s): sent as embeds instead", exc.code
            )
        fallback = await message.fallback()
        for outgoing in fallback:
            await send(**outgoing.send_kwargs())
        return len(fallback)
    await send(**message.send_kwargs())
    return 1


# ---------------------------------------------------------------- editing a tapped message


def is_composed(message: discord.Message | None) -> bool:
    """Whether a message carries the Components V2 flag (then it keeps it)."""
    return message is not None and message.flags.components_v2


def _keep_pictures(view: discord.ui.LayoutView, message: discord.Message) -> None:
    """Point the layout's pictures at the message's own attachments again.

    A message as read back names its pictures by their signed CDN links, which expire
    after about a day; an edit that sent those links back would leave a closed card
    showing a dead picture. Each one that is an attachment of the message is named
    ``attachment://<file name>`` again (the edit keeps the attachments).
    """
    by_id = {a.id: a.filename for a in message.attachments}
    by_url = {a.url.split("?", 1)[0]: a.filename for a in message.attachments}

    def own(media: discord.UnfurledMediaItem) -> str | None:
        if media.attachment_id is not None and media.attachment_id in by_id:
            return by_id[media.attachment_id]
        return by_url.get(media.url.split("?", 1)[0])

    for item in view.walk_children():
        if isinstance(item, discord.ui.MediaGallery):
            for picture in item.items:
                name = own(picture.media)
                if name is not None:
                    picture.media = f"attachment://{name}"
        elif isinstance(item, (discord.ui.Thumbnail, discord.ui.File)):
            name = own(item.media)
            if name is not None:
                item.media = f"attachment://{name}"


def _without_buttons(message: discord.Message, note: str | None) -> discord.ui.LayoutView:
    """A composed message's layout as it is, its action rows taken out (and ``note`` added)."""
    view = discord.ui.LayoutView.from_message(message, timeout=None)
    _keep_pictures(view, message)
    for item in list(view.walk_children()):
        if isinstance(item, discord.ui.ActionRow):
            parent = item.parent
            if isinstance(parent, discord.ui.Container):
                parent.remove_item(item)
            else:
                view.remove_item(item)
    if note:
        text = sum(
            len(item.content)
            for item in view.walk_children()
            if isinstance(item, discord.ui.TextDisplay)
        )
        if view.total_children_count < MAX_COMPONENTS and text + len(note) <= MAX_TEXT:
            view.add_item(discord.ui.TextDisplay(note))
    if not view.children:  # a flagged message cannot be empty
        view.add_item(discord.ui.TextDisplay("…"))
    return view


async def _edit(interaction: discord.Interaction[Any], **kwargs: Any) -> None:
    """Edit the tapped message, and keep it as it now is (for :func:`drop_buttons`)."""
    interaction.extras[_EDITED] = await interaction.edit_original_response(**kwargs)


async def drop_buttons(interaction: discord.Interaction[Any]) -> None:
    """Take the buttons off the tapped message (a composed one keeps its flag), as the
    last edit of this interaction left it."""
    edited = interaction.extras.get(_EDITED)
    message = edited if isinstance(edited, discord.Message) else interaction.message
    if message is not None and is_composed(message):
        view = _without_buttons(message, None)
        await interaction.edit_original_response(view=view)
        return
    await interaction.edit_original_response(view=None)


async def edit_tapped(
    interaction: discord.Interaction[Any], reply: Reply, renderer: Renderer | None
) -> list[Outgoing]:
    """Make the tapped message the reply's first message; the messages that must follow
    it as new ones (the rest of a long reply, or the card that no longer fits).

    A composed message stays composed; one that was not becomes composed for a card
    (Discord switches it), or stays as it was when Discord refuses the switch.
    """
    limit = interaction.filesize_limit
    composed_now = is_composed(interaction.message)
    if composed_now or composes(reply):
        composed = await compose(reply, renderer, file_limit=limit)
        if composed is not None:
            try:
                await _edit(interaction, **composed.edit_kwargs())
                return []
            except discord.HTTPException as exc:
                if exc.status != 400:
                    raise
                log.warning(
                    "Discord refused to edit a message into a composed one (code %s)", exc.code
                )
        if composed_now:
            # The flag stays: the card keeps its text without buttons, the rest follows.
            assert interaction.message is not None
            rest = await to_messages(reply, renderer, file_limit=limit)
            note = (CONTINUED if reply.kind == "back" else FOLLOWS) if rest else None
            view = _without_buttons(interaction.message, note)
            await _edit(interaction, view=view)
            return rest
    legacy = await to_messages(reply, renderer, file_limit=limit)
    if not legacy:
        return []
    first, *rest = legacy
    await _edit(interaction, **edit_kwargs(first))
    return rest
