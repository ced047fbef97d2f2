"""Shared set-up for the challenge tests: three challenges, a group, and its members.

Everything runs on a FakeDatabase with a fixed clock. Buttons go through
``Inputs.press``; announcements (the group's reference, each member's private
self-assessment, the summary) are read from the recording Announcer; the
deadline timer is fired by calling ``reveal_overdue`` by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.challenges.definitions import ChallengeDef, RubricRow
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.challenges.photos import PhotoLimits, SentPhoto
from bot.core.challenges.service import ChallengeService
from bot.core.learners import Who
from bot.core.messages import Announcement, Button, Reply
from bot.core.model import ChallengeRun, Submission
from bot.core.outcomes import Outcome
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_card, make_deck
from tests.fakes.tokens import SequentialTokens
from tests.services import Services, build_services, only

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 2 March 2026, 14:00 UTC
ADA = Who("telegram", "1", "Ada")  # the group's admin
BEN = Who("telegram", "2", "Ben")
CAT = Who("telegram", "3", "Cat")
DAN = Who("telegram", "4", "Dan")
GROUP = "-100500"
NY = "America/New_York"

QUAD = ChallengeDef(
    id="quad",
    set_id="algebra-challenges",
    title="Derive the quadratic formula",
    kind="derivation",
    minutes=10,
    prompt="Solve ax^2 + bx + c = 0 for x, from memory.",
    reference="x = (-b ± sqrt(b^2 - 4ac)) / 2a, by completing the square.",
    checkpoints=("Divide by a", "Complete the square", "Take the square root"),
    rubric=(
        RubricRow("Completing the square", ("c1", "c2"), 10),
        RubricRow("The discriminant", ("c2", "c3"), 11),
    ),
)
WHY = ChallengeDef(
    id="why",
    set_id="algebra-challenges",
    title="Why two roots?",
    kind="conceptual",
    minutes=5,
    prompt="Explain why a quadratic has at most two roots.",
    reference="A degree-n polynomial has at most n roots.",
    points=("Degree bounds the number of roots",),
    rubric=(RubricRow("Degree argument", ("c4",), 20),),
)
SKETCH = ChallengeDef(
    id="sketch",
    set_id="algebra-challenges",
    title="Sketch a parabola",
    kind="drawing",
    minutes=30,
    prompt="Draw y = x^2 - 1 with its vertex and roots.",
    reference="A U shape through (-1, 0) and (1, 0), vertex at (0, -1).",
    checkpoints=("Axes", "Vertex", "Roots"),
    rubric=(RubricRow("Shape", ("c3",), 30),),
)
CATALOG = ChallengeCatalog({c.id: c for c in (QUAD, WHY, SKETCH)})
TITLES = {
    "c1": "Completing the square",
    "c2": "Vertex form",
    "c3": "The discriminant",
    "c4": "Degree and roots",
}


def button(reply: Reply, label: str) -> Button:
    """The reply's button labelled exactly ``label``."""
    for b in reply.all_buttons():
        if b.label == label:
            return b
    raise AssertionError(f"no button {label!r} in {[b.label for b in reply.all_buttons()]}")


def labels(reply: Reply) -> list[str]:
    return [b.label for b in reply.all_buttons()]


def private_for(announcements: list[Announcement], learner_id: int) -> Reply:
    """The self-assessment addressed to a learner's private chat (the one message to
    them with buttons; a photo answer comes before it, as sent)."""
    (found,) = [a for a in announcements if a.learner_id == learner_id and a.reply.buttons]
    return found.reply


class Env:
    def __init__(self, photos: PhotoLimits | None = None) -> None:
        self.photos = photos
        deck = make_deck("algebra", [make_card(cid, title=title) for cid, title in TITLES.items()])
        self.db = FakeDatabase([deck], START)
        self.clock = FixedClock(START)
        self.tokens = SequentialTokens()
        self.services = self.new_services()
        self.posted = self.services.announcer

    def new_services(self) -> Services[FakeDatabase]:
        """The services over the same database and announcer (as after a restart)."""
        announcer = getattr(self, "posted", None)
        return build_services(
            self.db,
            self.clock,
            tokens=self.tokens,
            catalog=CATALOG,
            announcer=announcer,
            photos=self.photos,
        )

    @property
    def challenges(self) -> ChallengeService:
        return self.services.challenges

    async def start(
        self,
        who: Who = ADA,
        challenge_id: str = "quad",
        minutes: int | None = None,
        is_admin: bool = True,
        chat: str = GROUP,
    ) -> Outcome:
        return await self.challenges.start(who, chat, challenge_id, minutes, is_admin)

    async def post(self, **kw: object) -> Reply:
        """Start a challenge: its post in the group."""
        outcome = await self.start(**kw)  # type: ignore[arg-type]
        assert outcome.to == "chat", outcome
        return only(outcome)

    async def join(self, who: Who, post: Reply) -> Outcome:
        return await self.services.press(who, button(post, "Submit my answer").payload)

    async def answer(
        self, who: Who, post: Reply, text: str | None = None, photo: SentPhoto | None = None
    ) -> Reply:
        joined = await self.join(who, post)
        assert joined.form is not None, joined
        return await self.submit(who, text=text, photo=photo)

    async def submit(
        self, who: Who, text: str | None = None, photo: SentPhoto | None = None
    ) -> Reply:
        """An answer to the newest run the member joined; the reply goes to them only."""
        outcome = await self.challenges.submit(who, text=text, photo=photo)
        assert outcome.to == "private", outcome
        return only(outcome)

    async def lid(self, who: Who) -> int:
        return (await self.services.study.learner(who)).id

    def run(self, chat: str = GROUP) -> ChallengeRun:
        run = self.db.run_sync(lambda tx: tx.challenges.latest_run("telegram", chat))
        assert run is not None
        return run

    def subs(self, run_id: int) -> list[Submission]:
        return self.db.run_sync(lambda tx: tx.challenges.submissions(run_id))

    async def sub(self, who: Who, run_id: int) -> Submission | None:
        lid = await self.lid(who)
        return self.db.run_sync(lambda tx: tx.challenges.submission(run_id, lid))

    async def reveal_at_deadline(self) -> list[Announcement]:
        """The deadline alarm fires: returns what was announced."""
        self.clock.set(self.run().deadline)
        await self.challenges.reveal_overdue()
        return self.posted.take()

    async def sweep(self) -> list[Announcement]:
        """The challenge sweep runs: returns what was announced."""
        await self.challenges.sweep()
        return self.posted.take()

    async def press(self, who: Who, reply: Reply, label: str) -> Outcome:
        return await self.services.press(who, button(reply, label).payload)

    async def assess(
        self, who: Who, reply: Reply, grades: dict[int, int], name_me: bool = False
    ) -> Outcome:
        """Rate rows (row index -> level 1-3), optionally opt in to be named, then apply."""
        names = {1: "Re-study", 2: "Shaky", 3: "Confident"}
        for row, level in grades.items():
            outcome = await self.press(who, reply, f"{row + 1}. {names[level]}")
            assert outcome.edit is not None and outcome.edit.kind == "assess", outcome
            reply = outcome.edit
        if name_me:
            outcome = await self.press(who, reply, "Name me in the summary")
            assert outcome.edit is not None
            reply = outcome.edit
        return await self.press(who, reply, "Apply to my cards")

    async def three_answers(self) -> Reply:
        """Ada starts "quad"; Ben, Cat and Dan join a minute apart and answer."""
        post = await self.post()
        for who in (BEN, CAT, DAN):
            reply = await self.answer(who, post, f"{who.display_name}'s derivation")
            assert reply.kind == "info" and reply.text.startswith("Got your answer")
            self.clock.advance(timedelta(minutes=1))
        return post
