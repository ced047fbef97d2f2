"""What the core says, platform-free: replies, buttons and card views.

Adapters turn a :class:`Reply` into a platform message. Card text is
markdown as the deck author wrote it; adapters escape or convert it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ReplyKind = Literal["front", "back", "done", "info", "error", "expired", "quiz", "quiz_result"]


@dataclass(frozen=True, slots=True)
class Button:
    """A button: the label shown and the payload it sends back (<= 64 bytes)."""

    label: str
    payload: str


@dataclass(frozen=True, slots=True)
class CardView:
    """A card as shown to a learner: the front, or the front and back."""

    card_id: str
    deck_title: str
    title: str
    front: str
    back: str | None = None
    mnemonic: str | None = None
    notes: str | None = None
    typed_answer: str | None = None
    image_kind: str | None = None
    image_spec: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the core to a learner.

    Attributes:
        kind: what sort of message it is (adapters may style by kind).
        text: plain text (markdown allowed) shown above or instead of a card.
        card: the card to show, if any.
        buttons: rows of buttons.
        follow_up: a second message to send right after this one (the next card).
        announcements: messages for other chats (a quiz result for the group).
    """

    kind: ReplyKind
    text: str = ""
    card: CardView | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    follow_up: Reply | None = field(default=None)
    announcements: tuple[Announcement, ...] = ()

    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


@dataclass(frozen=True, slots=True)
class Announcement:
    """A message the core wants posted in a chat other than the one that asked."""

    platform: str
    chat_id: str
    reply: Reply
