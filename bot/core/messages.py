"""What the core says, platform-free: replies, buttons and card views.

Adapters turn a :class:`Reply` into a platform message. Card text is
markdown as the deck author wrote it; adapters escape or convert it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ReplyKind = Literal[
    "front",
    "back",
    "done",
    "info",
    "error",
    "expired",
    "quiz",
    "quiz_result",
    "challenge",
    "assess",
    "challenge_result",
]


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
        announcements: messages for other chats (a quiz result for the group) or for
            other learners' private chats.
        heatmap: a chart to draw and attach (a challenge summary).
        photo_ref: a photo the platform already holds (its file id), to send again.
    """

    kind: ReplyKind
    text: str = ""
    card: CardView | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    follow_up: Reply | None = field(default=None)
    announcements: tuple[Announcement, ...] = ()
    heatmap: HeatMap | None = None
    photo_ref: str | None = None

    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


@dataclass(frozen=True, slots=True)
class Announcement:
    """A message the core wants posted in a chat other than the one that asked.

    With ``learner_id`` set it goes to that learner's private chat (``chat_id``
    is then ignored): the composition root sends it through the platform's push.
    """

    platform: str
    chat_id: str
    reply: Reply
    learner_id: int | None = None


@dataclass(frozen=True, slots=True)
class HeatMap:
    """A grid of levels to draw: rows by columns, each cell 1-3 or None (no answer).

    Used for a challenge summary: rubric rows by participants, 1 need to re-study,
    2 shaky, 3 confident.
    """

    title: str
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    values: tuple[tuple[int | None, ...], ...]
    legend: tuple[str, ...] = ("Need to re-study", "Shaky", "Confident")
