"""What the core says, platform-free: replies, buttons, card views and figures.

Adapters turn a :class:`Reply` into a platform message. Card text is
markdown as the deck author wrote it; adapters escape or convert it. A
:class:`Button` carries its payload (an opaque string the core decodes when the
button is pressed) and, for display only, what it does and how it should look:
adapters style and place buttons by those, never by reading the payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from bot.core.actions import ButtonAction
from bot.core.calibration import Calibration
from bot.core.choices import QuizPoll
from bot.core.model import CardImage
from bot.core.stats import StudyStats
from bot.core.workload import RetentionCosts

ReplyKind = Literal[
    "front",
    "back",
    "done",
    "info",
    "error",
    "expired",
    "question",
    "stats",
    "quiz",
    "quiz_result",
    "challenge",
    "assess",
    "challenge_result",
]

#: How a button should look: the main action, a neutral one, a confirming one, a destructive one.
ButtonStyle = Literal["primary", "secondary", "success", "danger"]


@dataclass(frozen=True, slots=True)
class Button:
    """A button: the label shown, the payload it sends back (<= 64 bytes), what it does
    (``action``: the console binds keys by it) and how it should look."""

    label: str
    payload: str
    action: ButtonAction
    style: ButtonStyle = "secondary"


@dataclass(frozen=True, slots=True)
class CardView:
    """A card as shown to a learner: the front, or the front and back.

    Each side carries only its own image: a front view its ``front_image`` (the
    question's, which asks for something), a view with the back its
    ``back_image`` (the answer's). :attr:`image` is the one to show.
    """

    card_id: str
    deck_title: str
    title: str
    front: str
    back: str | None = None
    mnemonic: str | None = None
    notes: str | None = None
    typed_answer: str | None = None
    front_image: CardImage | None = None
    back_image: CardImage | None = None

    @property
    def image(self) -> CardImage | None:
        """The image of the side shown: the back's once the back is shown, else the front's."""
        return self.back_image if self.back is not None else self.front_image


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


@dataclass(frozen=True, slots=True)
class StatsChart:
    """The /stats chart: the numbers, and cards due on each of the next days (today first)."""

    stats: StudyStats
    forecast: tuple[int, ...]


#: A figure drawn as a plot (:meth:`~bot.core.rendering.Renderer.plot`): /stats's predicted
#: against observed recall, and what each desired retention costs (/settings retention).
Plot = Calibration | RetentionCosts

#: A chart the renderer draws and the adapter attaches; without a drawing the text stands alone.
Figure = HeatMap | StatsChart | Plot


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file sent with a reply (the CSV of /export)."""

    filename: str
    data: bytes


#: The workspace purpose of the review page (:attr:`Reply.workspace`).
REVIEW_WORKSPACE: Final = "review"
#: The workspace purpose of the /stats page (:attr:`Reply.workspace`).
STATS_WORKSPACE: Final = "stats"


def challenge_workspace(run_token: str) -> str:
    """The workspace purpose of a challenge run: ``challenge:<run token>`` (at most 32
    characters for a token of at most 22)."""
    return f"challenge:{run_token}"


@dataclass(frozen=True, slots=True)
class Reply:
    """One message from the core.

    Attributes:
        kind: what sort of message it is (adapters may style by kind).
        text: markdown shown above or instead of a card.
        card: the card to show, if any.
        buttons: rows of buttons.
        figure: a chart to draw and attach (a challenge summary, /stats).
        photo_ref: a photo the platform already holds (its file id or URL), to show again.
        attachment: a file to send with the text.
        form_buttons: the rows a platform with forms shows instead of ``buttons``: a
            button that opens one form taking what the rows of buttons take (the
            self-assessment), and the buttons the form does not replace.
        poll: where the platform posts quiz polls (Telegram), post this poll instead; the
            reply itself (the card and its Reveal button) is the fallback.
        stops_poll: the message of a quiz poll to stop before this reply is posted.
        photo: a stored photo (a member's challenge answer) to upload and show as a picture.
        workspace: what the reply offers to open in the browser workspace (``[web]``,
            docs/web.md): a purpose, ``challenge:<run token>`` (:func:`challenge_workspace`),
            :data:`REVIEW_WORKSPACE` or :data:`STATS_WORKSPACE`. Telegram adds a Mini App
            button in a private chat, Discord a button answered with a one-time link;
            None (or ``[web]`` off) offers nothing.
    """

    kind: ReplyKind
    text: str = ""
    card: CardView | None = None
    buttons: tuple[tuple[Button, ...], ...] = ()
    figure: Figure | None = None
    photo_ref: str | None = None
    attachment: Attachment | None = None
    form_buttons: tuple[tuple[Button, ...], ...] | None = None
    poll: QuizPoll | None = None
    stops_poll: str | None = None
    photo: Attachment | None = None
    workspace: str | None = None

    def all_buttons(self) -> list[Button]:
        return [b for row in self.buttons for b in row]


@dataclass(frozen=True, slots=True)
class Announcement:
    """A message for a chat other than the one where someone acted.

    With ``learner_id`` set it goes to that learner's private chat (``chat_id`` is
    then only where a failure to reach them is told, if anywhere). Services post
    announcements through the
    :class:`~bot.core.ports.Announcer` once their transaction has committed;
    adapters never see them.
    """

    platform: str
    chat_id: str
    reply: Reply
    learner_id: int | None = None
    #: A self-assessment's submission token: when the member cannot be reached now, the
    #: outbox sends it again (as kind :data:`RESENT_ASSESSMENT`), and ``chat_id``, their
    #: group, is told who was not reached.
    resend_token: str | None = None
    #: Who is told privately, and given the reply, when the platform refuses to post
    #: it in the group (the bot may not write there): the member who started it.
    starter_id: int | None = None


#: The outbox kind of a self-assessment sent again (its ``prompt_token`` is the
#: submission's token).
RESENT_ASSESSMENT: Final = "assess"
