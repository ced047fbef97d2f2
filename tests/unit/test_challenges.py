"""Tests for bot.core.challenges: group "derive it from memory" challenges, over fakes.

Everything runs on a FakeDatabase with a fixed clock: buttons go through
``StudyService.press`` (whose ``challenges`` is the ChallengeService), timers are
recorded by FakeTimers and fired by calling ``reveal_due`` by hand.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from bot.core.challengedefs import ChallengeDef, RubricRow

from bot.core.actions import Action, decode
from bot.core.challenges import ChallengeCatalog, ChallengeService
from bot.core.messages import Announcement, Button, Reply
from bot.core.model import ChallengeRun, LearnerSettings, ReviewSource, Submission
from bot.core.study import StudyService, Who
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_card, make_deck
from tests.fakes.store import FakeStore
from tests.fakes.timers import FakeTimers
from tests.fakes.tokens import SequentialTokens

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 2 March 2026, 14:00 UTC
SETTINGS = LearnerSettings(enable_fuzzing=False)
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
    for b in reply.all_buttons():
        if b.label == label:
            return b
    raise AssertionError(f"no button {label!r} in {[b.label for b in reply.all_buttons()]}")


def labels(reply: Reply) -> list[str]:
    return [b.label for b in reply.all_buttons()]


class Env:
    def __init__(self) -> None:
        deck = make_deck("algebra", [make_card(cid, title=title) for cid, title in TITLES.items()])
        self.db = FakeDatabase([deck], START)
        self.clock = FixedClock(START)
        self.tokens = SequentialTokens()
        self.timers = FakeTimers()
        self.challenges = self.new_service()
        self.study = StudyService(self.db, self.clock, self.tokens, SETTINGS)
        self.study.challenges = self.challenges

    def new_service(self) -> ChallengeService:
        """A ChallengeService over the same database (as after a restart)."""
        service = ChallengeService(self.db, self.clock, self.tokens, SETTINGS)
        service.catalog = CATALOG
        service.timers = self.timers
        return service

    async def start(
        self,
        who: Who = ADA,
        challenge_id: str = "quad",
        minutes: int | None = None,
        is_admin: bool = True,
        chat: str = GROUP,
    ) -> Reply:
        return await self.challenges.start(who, chat, challenge_id, minutes, is_admin)

    async def join(self, who: Who, post: Reply) -> Reply:
        return await self.study.press(who, button(post, "Submit my answer").payload)

    async def answer(
        self, who: Who, post: Reply, text: str | None = None, photo_ref: str | None = None
    ) -> Reply:
        joined = await self.join(who, post)
        assert joined.kind == "info", joined.text
        return await self.challenges.submit(who, text=text, photo_ref=photo_ref)

    async def lid(self, who: Who) -> int:
        return (await self.study.learner(who)).id

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
        run = self.run()
        self.clock.set(run.deadline)
        return await self.challenges.reveal_due(run.id)

    async def press(self, who: Who, reply: Reply, label: str) -> Reply:
        return await self.study.press(who, button(reply, label).payload)

    async def assess(
        self, who: Who, reply: Reply, grades: dict[int, int], name_me: bool = False
    ) -> Reply:
        """Rate rows (row index -> level 1-3), optionally opt in to be named, then apply."""
        names = {1: "Re-study", 2: "Shaky", 3: "Confident"}
        for row, level in grades.items():
            reply = await self.press(who, reply, f"{row + 1}. {names[level]}")
            assert reply.kind == "assess", reply.text
        if name_me:
            reply = await self.press(who, reply, "Name me in the summary")
        return await self.press(who, reply, "Apply to my cards")


@pytest.fixture
def env() -> Env:
    return Env()


def private_for(announcements: list[Announcement], learner_id: int) -> Reply:
    (found,) = [a for a in announcements if a.learner_id == learner_id]
    return found.reply


async def three_answers(env: Env) -> Reply:
    """Ada starts "quad"; Ben, Cat and Dan join a minute apart and answer."""
    post = await env.start()
    for who in (BEN, CAT, DAN):
        reply = await env.answer(who, post, f"{who.display_name}'s derivation")
        assert reply.kind == "info" and reply.text.startswith("Got your answer")
        env.clock.advance(timedelta(minutes=1))
    return post


# --------------------------------------------------------------------------- starting


async def test_start_posts_the_prompt_with_a_deadline_and_a_submit_button(env: Env) -> None:
    post = await env.start()
    assert post.kind == "challenge"
    assert QUAD.title in post.text and QUAD.prompt in post.text
    assert "10 minutes" in post.text and "14:10 (UTC)" in post.text
    assert QUAD.reference not in post.text
    (submit,) = post.all_buttons()
    assert submit.label == "Submit my answer"
    run = env.run()
    assert decode(submit.payload) == Action("join", run.token)
    assert run.challenge_id == "quad" and run.open
    assert run.started_at == START and run.deadline == START + timedelta(minutes=10)
    assert run.started_by == await env.lid(ADA)
    assert env.timers.calls == [("reveal_at", run.id, run.deadline)]
    assert env.timers.reveals == {run.id: run.deadline}


async def test_start_shows_the_deadline_in_the_groups_timezone(env: Env) -> None:
    reply = await env.challenges.configure(ADA, GROUP, "timezone", NY, is_admin=True)
    assert reply.kind == "info" and NY in reply.text
    post = await env.start(minutes=30)
    assert "30 minutes" in post.text and "09:30 (America/New_York)" in post.text


async def test_only_admins_start_by_default_until_everyone_may(env: Env) -> None:
    refused = await env.start(BEN, is_admin=False)
    assert refused.kind == "error" and "admins" in refused.text
    assert env.db.run_sync(lambda tx: tx.challenges.latest_run("telegram", GROUP)) is None
    assert env.timers.calls == []

    not_admin = await env.challenges.configure(BEN, GROUP, "permissions", "everyone", False)
    assert not_admin.kind == "error"
    assert env.db.run_sync(lambda tx: tx.challenges.group("telegram", GROUP)) is None
    assert (await env.start(BEN, is_admin=False)).kind == "error"

    ok = await env.challenges.configure(ADA, GROUP, "permissions", "everyone", is_admin=True)
    assert ok.kind == "info" and "everyone" in ok.text
    group = env.db.run_sync(lambda tx: tx.challenges.group("telegram", GROUP))
    assert group is not None and group.who_runs == "everyone"
    post = await env.start(BEN, is_admin=False)
    assert post.kind == "challenge"
    assert env.run().started_by == await env.lid(BEN)


async def test_configure_rejects_bad_values(env: Env) -> None:
    bad_tz = await env.challenges.configure(ADA, GROUP, "timezone", "Mars/Olympus", True)
    assert bad_tz.kind == "error"
    bad_key = await env.challenges.configure(ADA, GROUP, "permissions", "nobody", True)
    assert bad_key.kind == "error"
    assert env.db.run_sync(lambda tx: tx.challenges.group("telegram", GROUP)) is None


async def test_one_run_per_chat(env: Env) -> None:
    await env.start()
    again = await env.start(challenge_id="why")
    assert again.kind == "error" and "already running" in again.text and "14:10" in again.text
    assert env.run().challenge_id == "quad"
    elsewhere = await env.start(chat="-999", challenge_id="why")
    assert elsewhere.kind == "challenge"
    assert len(env.timers.calls) == 2


async def test_unknown_challenge_lists_the_ids(env: Env) -> None:
    reply = await env.start(challenge_id="nonsense")
    assert reply.kind == "error" and "nonsense" in reply.text
    for cid in ("quad", "why", "sketch"):
        assert cid in reply.text
    assert env.timers.calls == []
    listing = env.challenges.list_all()
    assert all(cid in listing.text for cid in ("quad", "why", "sketch"))


async def test_ids_are_matched_case_insensitively(env: Env) -> None:
    assert (await env.start(challenge_id=" QUAD ")).kind == "challenge"


@pytest.mark.parametrize("minutes", [0, -5, 181, 1000])
async def test_minutes_out_of_bounds_are_refused(env: Env, minutes: int) -> None:
    reply = await env.start(minutes=minutes)
    assert reply.kind == "error" and "1 to 180 minutes" in reply.text
    assert env.db.run_sync(lambda tx: tx.challenges.latest_run("telegram", GROUP)) is None
    assert env.timers.calls == []


@pytest.mark.parametrize("minutes", [1, 180])
async def test_minutes_at_the_bounds_are_allowed(env: Env, minutes: int) -> None:
    reply = await env.start(minutes=minutes)
    assert reply.kind == "challenge" and f"{minutes} minutes" in reply.text
    assert env.run().deadline == START + timedelta(minutes=minutes)


# --------------------------------------------------------------------------- answering


async def test_members_join_and_submit_and_may_resubmit(env: Env) -> None:
    post = await env.start()
    joined = await env.join(BEN, post)
    assert joined.kind == "info" and "You're in" in joined.text
    assert await env.challenges.has_open_run(BEN)
    assert not await env.challenges.has_open_run(CAT)
    got = await env.challenges.submit(BEN, text="first try")
    assert got.kind == "info" and got.text.startswith("Got your answer")
    env.clock.advance(timedelta(minutes=2))
    again = await env.challenges.submit(BEN, text="  second try  ")
    assert again.kind == "info" and again.text.startswith("Replaced your earlier answer")

    run = env.run()
    (sub,) = env.subs(run.id)
    assert sub.learner_id == await env.lid(BEN)
    assert sub.text == "second try" and sub.submitted_at == START + timedelta(minutes=2)
    assert sub.joined_at == START and sub.display_name == "Ben"

    # Joining twice keeps the member's part (and its token).
    await env.join(BEN, post)
    (same,) = env.subs(run.id)
    assert same.token == sub.token and same.text == "second try"

    photo = await env.answer(CAT, post, photo_ref="file-123")
    assert photo.kind == "info"
    cat = await env.sub(CAT, run.id)
    assert cat is not None and cat.photo_ref == "file-123" and cat.text is None


async def test_an_empty_answer_or_no_joined_run_is_refused(env: Env) -> None:
    post = await env.start()
    none_joined = await env.challenges.submit(BEN, text="hello")
    assert none_joined.kind == "error" and "no open challenge" in none_joined.text
    await env.join(BEN, post)
    empty = await env.challenges.submit(BEN, text="   ")
    assert empty.kind == "error"
    ben = await env.sub(BEN, env.run().id)
    assert ben is not None and not ben.submitted


async def test_an_answer_after_the_deadline_is_politely_refused(env: Env) -> None:
    post = await env.start()
    await env.join(DAN, post)
    env.clock.set(env.run().deadline)
    late = await env.challenges.submit(DAN, text="too late")
    assert late.kind == "error" and "time is up" in late.text.lower()
    dan = await env.sub(DAN, env.run().id)
    assert dan is not None and not dan.submitted and dan.text is None
    # Joining after the deadline is closed too, and saves nothing.
    closed = await env.join(CAT, post)
    assert closed.kind == "expired"
    assert await env.sub(CAT, env.run().id) is None


async def test_status_names_who_submitted_and_never_the_content(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "SECRET-BEN")
    await env.answer(CAT, post, "SECRET-CAT")
    await env.join(DAN, post)
    env.clock.advance(timedelta(minutes=4))
    status = await env.challenges.status(ADA, GROUP)
    assert status.kind == "info"
    assert "2 submitted: Ben, Cat" in status.text
    assert "1 joined and still writing: Dan" in status.text
    assert "14:10" in status.text and "6m" in status.text
    assert "SECRET" not in status.text
    assert status.announcements == ()
    idle = await env.challenges.status(ADA, "-999")
    assert "No challenge is running" in idle.text


async def test_submissions_stay_hidden_until_the_reveal(env: Env) -> None:
    post = await env.start()
    replies = [post]
    for who in (BEN, CAT):
        replies.append(await env.join(who, post))
        replies.append(await env.challenges.submit(who, text=f"SECRET-{who.display_name}"))
    replies.append(await env.challenges.status(ADA, GROUP))
    assert all(r.announcements == () for r in replies)
    assert all("SECRET" not in r.text for r in replies)
    # The timer fired early, or the sweep before the deadline, reveal nothing.
    env.clock.advance(timedelta(minutes=9, seconds=59))
    assert await env.challenges.reveal_due(env.run().id) == []
    assert await env.challenges.sweep() == []
    assert env.run().open


# --------------------------------------------------------------------------- the reveal


async def test_reveal_at_the_deadline_happens_exactly_once(env: Env) -> None:
    post = await three_answers(env)
    await env.join(ADA, post)  # joined, never answered
    run = env.run()
    effects = await env.reveal_at_deadline()

    group, *private = effects
    assert group.platform == "telegram" and group.chat_id == GROUP and group.learner_id is None
    assert group.reply.kind == "challenge_result" and "3 answered" in group.reply.text
    card = group.reply.card
    assert card is not None and card.card_id == "quad" and card.title == QUAD.title
    assert card.back is not None and QUAD.reference in card.back
    assert "Checkpoints" in card.back
    for checkpoint in QUAD.checkpoints:
        assert f"- {checkpoint}" in card.back

    ids = [await env.lid(w) for w in (BEN, CAT, DAN)]
    assert [a.learner_id for a in private] == ids
    for who, a in zip((BEN, CAT, DAN), private, strict=True):
        assert a.reply.kind == "assess"
        assert f"{who.display_name}'s derivation" in a.reply.text
        assert "Apply to my cards" in labels(a.reply)
        assert [lb for lb in labels(a.reply) if lb.startswith("☐")] == [
            f"☐ {c}" for c in QUAD.checkpoints
        ]

    revealed = env.run()
    assert revealed.revealed_at == run.deadline and not revealed.open
    assert await env.challenges.reveal_due(run.id) == []
    assert await env.challenges.sweep() == []
    env.clock.advance(timedelta(minutes=5))
    assert await env.challenges.reveal_due(run.id) == []


async def test_the_sweep_reveals_an_overdue_run(env: Env) -> None:
    post = await env.start(challenge_id="sketch")
    await env.answer(BEN, post, "a parabola")
    env.clock.set(env.run().deadline + timedelta(minutes=3))
    effects = await env.challenges.sweep()
    group, private = effects
    assert group.reply.card is not None and group.reply.card.back is not None
    assert "Checklist" in group.reply.card.back
    assert private.learner_id == await env.lid(BEN)
    assert await env.challenges.sweep() == []
    assert await env.challenges.reveal_due(env.run().id) == []


async def test_a_conceptual_reference_lists_its_points(env: Env) -> None:
    post = await env.start(challenge_id="why")
    await env.answer(BEN, post, "degree")
    group, _ = await env.reveal_at_deadline()
    assert group.reply.card is not None and group.reply.card.back is not None
    assert "Degree bounds the number of roots" in group.reply.card.back


async def test_early_reveal_by_the_starter_or_an_admin_only(env: Env) -> None:
    await env.start(ADA, is_admin=True)
    refused = await env.challenges.reveal(BEN, GROUP, is_admin=False)
    assert refused.kind == "error" and refused.announcements == ()
    assert env.run().open

    env.clock.advance(timedelta(minutes=3))
    by_starter = await env.challenges.reveal(ADA, GROUP, is_admin=False)
    assert by_starter.kind == "info" and "early" in by_starter.text
    (group,) = by_starter.announcements
    assert group.chat_id == GROUP and group.reply.kind == "challenge_result"
    first = env.run()
    assert first.revealed_at == START + timedelta(minutes=3)
    # The timer still fires at the deadline: nothing more happens.
    env.clock.set(first.deadline)
    assert await env.challenges.reveal_due(first.id) == []

    await env.start(ADA)
    by_admin = await env.challenges.reveal(CAT, GROUP, is_admin=True)
    assert by_admin.kind == "info" and len(by_admin.announcements) == 1
    assert env.run().revealed_at is not None

    nothing = await env.challenges.reveal(ADA, GROUP, is_admin=True)
    assert "No challenge is running" in nothing.text


async def test_cancel(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "half done")
    refused = await env.challenges.cancel(BEN, GROUP, is_admin=False)
    assert refused.kind == "error" and env.run().open

    cancelled = await env.challenges.cancel(ADA, GROUP, is_admin=True)
    assert cancelled.kind == "info" and "cancelled" in cancelled.text
    run = env.run()
    assert run.cancelled_at == START and run.revealed_at is None and not run.open
    assert env.db.run_sync(lambda tx: tx.challenges.open_run("telegram", GROUP)) is None
    assert not await env.challenges.has_open_run(BEN)
    late = await env.challenges.submit(BEN, text="more")
    assert late.kind == "error"

    env.clock.set(run.deadline + timedelta(hours=1))
    assert await env.challenges.reveal_due(run.id) == []
    assert await env.challenges.sweep() == []
    assert (await env.join(CAT, post)).kind == "expired"
    again = await env.challenges.cancel(ADA, GROUP, is_admin=True)
    assert "No challenge is running" in again.text
    # A new run may start once the old one is cancelled.
    assert (await env.start()).kind == "challenge"


# --------------------------------------------------------------------------- self-assessment


async def test_checks_toggle_and_grades_are_marked(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "mine")
    ben = await env.lid(BEN)
    assess = private_for(await env.reveal_at_deadline(), ben)

    ticked = await env.press(BEN, assess, "☐ Complete the square")
    assert ticked.kind == "assess" and "☑ Complete the square" in labels(ticked)
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.checks == (1,)
    ticked2 = await env.press(BEN, ticked, "☐ Divide by a")
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.checks == (0, 1)
    unticked = await env.press(BEN, ticked2, "☑ Complete the square")
    assert "☐ Complete the square" in labels(unticked)
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.checks == (0,)

    graded = await env.press(BEN, unticked, "2. Shaky")
    assert "2. ▶ Shaky" in labels(graded)
    assert "The discriminant: Shaky" in graded.text
    assert "Completing the square: not rated yet" in graded.text
    regraded = await env.press(BEN, graded, "2. Confident")
    assert "2. ▶ Confident" in labels(regraded) and "2. Shaky" in labels(regraded)
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.grades == (None, 3)
    assert env.db.reviews(ben) == []  # nothing applied yet


async def test_apply_reviews_exactly_the_linked_cards(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "Ben's")
    await env.answer(CAT, post, "Cat's")
    effects = await env.reveal_at_deadline()
    ben, cat = await env.lid(BEN), await env.lid(CAT)
    now = env.clock.now()

    # Ben: row 1 Shaky, row 2 Confident -> c1 Hard, c2 Hard (the worse of the two), c3 Good.
    applied = await env.assess(BEN, private_for(effects, ben), {0: 2, 1: 3})
    assert applied.kind == "info" and "Applied" in applied.text
    for cid in ("c1", "c2", "c3"):
        assert TITLES[cid] in applied.text
    assert TITLES["c4"] not in applied.text
    assert "Completing the square: Hard" in applied.text
    assert "Vertex form: Hard" in applied.text
    assert "The discriminant: Good" in applied.text
    reviews = env.db.reviews(ben)
    assert {(e.card_id, e.rating) for e in reviews} == {("c1", 2), ("c2", 2), ("c3", 3)}
    assert len(reviews) == 3
    assert all(e.source == ReviewSource.CHALLENGE and e.reviewed_at == now for e in reviews)
    for e in reviews:
        assert env.db.state(ben, e.card_id) == e.after and e.before.is_new
    assert not env.db.has_state(ben, "c4")

    # Cat: row 1 Need to re-study, row 2 Shaky -> c1 Again, c2 Again, c3 Hard.
    await env.assess(CAT, private_for(effects, cat), {0: 1, 1: 2})
    got = {(e.card_id, e.rating) for e in env.db.reviews(cat)}
    assert got == {("c1", 1), ("c2", 1), ("c3", 2)}

    # Applying twice changes nothing.
    before = env.db.snapshot()
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.assessed_at == now
    twice = await env.press(BEN, private_for(effects, ben), "Apply to my cards")
    assert twice.kind == "info" and "already applied" in twice.text
    assert twice.announcements == ()
    regrade = await env.press(BEN, private_for(effects, ben), "1. Re-study")
    assert "already applied" in regrade.text
    assert env.db.snapshot() == before


async def test_apply_needs_at_least_one_grade(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "x")
    ben = await env.lid(BEN)
    assess = private_for(await env.reveal_at_deadline(), ben)
    reply = await env.press(BEN, assess, "Apply to my cards")
    assert reply.kind == "error"
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and sub.assessed_at is None
    assert env.db.reviews(ben) == []


async def test_someone_elses_assessment_buttons_have_expired(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "Ben's")
    await env.answer(CAT, post, "Cat's")
    effects = await env.reveal_at_deadline()
    bens = private_for(effects, await env.lid(BEN))
    before = env.db.snapshot()
    for label in ("☐ Divide by a", "1. Confident", "Name me in the summary", "Share my answer"):
        stolen = await env.press(CAT, bens, label)
        assert stolen.kind == "expired" and stolen.announcements == ()
    stolen = await env.press(CAT, bens, "Apply to my cards")
    assert stolen.kind == "expired"
    assert env.db.snapshot().submissions == before.submissions
    assert env.db.reviews() == []
    # A forged token names nothing.
    forged = await env.study.press(BEN, Action("assessed", "zzzzzzzzzzzz").encode())
    assert forged.kind == "expired"


# --------------------------------------------------------------------------- the summary


async def test_summary_once_everyone_who_answered_has_applied(env: Env) -> None:
    post = await three_answers(env)
    await env.join(ADA, post)  # joined without answering: not waited for
    effects = await env.reveal_at_deadline()
    ben, cat, dan = [await env.lid(w) for w in (BEN, CAT, DAN)]

    first = await env.assess(BEN, private_for(effects, ben), {0: 3, 1: 3}, name_me=True)
    assert first.announcements == ()
    second = await env.assess(CAT, private_for(effects, cat), {0: 1, 1: 2})
    assert second.announcements == ()
    env.clock.advance(timedelta(minutes=2))
    last = await env.assess(DAN, private_for(effects, dan), {0: 2})
    (summary,) = last.announcements
    assert summary.chat_id == GROUP and summary.learner_id is None
    assert summary.reply.kind == "challenge_result"
    assert "3 answered, 3 assessed" in summary.reply.text
    assert "Ben could help the 1 who want to re-study this." in summary.reply.text
    heat = summary.reply.heatmap
    assert heat is not None
    assert heat.rows == ("Completing the square", "The discriminant")
    assert heat.columns == ("Ben", "Member 1", "Member 2")
    assert heat.values == ((3, 1, 2), (3, 2, None))
    assert "Cat" not in heat.columns and "Dan" not in heat.columns
    assert env.run().summary_at == env.clock.now()

    # Not again: neither the sweep half an hour later nor a later press.
    env.clock.advance(timedelta(minutes=31))
    assert await env.challenges.sweep() == []
    name = await env.press(CAT, private_for(effects, cat), "Name me in the summary")
    assert name.announcements == ()


async def test_name_opt_in_toggles(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "x")
    assess = private_for(await env.reveal_at_deadline(), await env.lid(BEN))
    on = await env.press(BEN, assess, "Name me in the summary")
    assert "Name me in the summary ✓" in labels(on)
    off = await env.press(BEN, on, "Name me in the summary ✓")
    assert "Name me in the summary" in labels(off)
    sub = await env.sub(BEN, env.run().id)
    assert sub is not None and not sub.show_name


async def test_the_sweep_posts_the_summary_half_an_hour_after_the_reveal(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "Ben's")
    await env.answer(CAT, post, "Cat's")
    effects = await env.reveal_at_deadline()
    revealed_at = env.clock.now()
    applied = await env.assess(BEN, private_for(effects, await env.lid(BEN)), {0: 1, 1: 3})
    assert applied.announcements == ()  # Cat has not assessed yet

    env.clock.set(revealed_at + timedelta(minutes=29, seconds=59))
    assert await env.challenges.sweep() == []
    env.clock.set(revealed_at + timedelta(minutes=30))
    (summary,) = await env.challenges.sweep()
    assert summary.chat_id == GROUP
    assert "2 answered, 1 assessed" in summary.reply.text
    heat = summary.reply.heatmap
    assert heat is not None and heat.columns == ("Member 1",) and heat.values == ((1,), (3,))
    assert await env.challenges.sweep() == []

    # Cat applies late: her cards move, but the summary is not posted again.
    late = await env.assess(CAT, private_for(effects, await env.lid(CAT)), {0: 3})
    assert late.kind == "info" and late.announcements == ()
    assert {e.card_id for e in env.db.reviews(await env.lid(CAT))} == {"c1", "c2"}


# --------------------------------------------------------------------------- sharing


async def test_a_member_shares_their_answer_after_the_reveal_once(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "Ben's full derivation")
    await env.answer(CAT, post, photo_ref="photo-42")
    effects = await env.reveal_at_deadline()
    ben, cat = await env.lid(BEN), await env.lid(CAT)

    shared = await env.press(BEN, private_for(effects, ben), "Share my answer")
    assert shared.kind == "info"
    (post_ben,) = shared.announcements
    assert post_ben.chat_id == GROUP and post_ben.learner_id is None
    assert "Ben" in post_ben.reply.text and "Ben's full derivation" in post_ben.reply.text
    assert post_ben.reply.photo_ref is None
    again = await env.press(BEN, private_for(effects, ben), "Share my answer")
    assert again.announcements == () and "already shared" in again.text

    photo = await env.press(CAT, private_for(effects, cat), "Share my answer")
    (post_cat,) = photo.announcements
    assert post_cat.reply.photo_ref == "photo-42" and post_cat.chat_id == GROUP
    sub = await env.sub(CAT, env.run().id)
    assert sub is not None and sub.shared_at == env.clock.now()

    # The share button works after applying too, still once.
    await env.assess(BEN, private_for(effects, ben), {0: 3})
    assert (await env.press(BEN, private_for(effects, ben), "Share my answer")).announcements == ()


# --------------------------------------------------------------------------- weekly schedules


def local(when: datetime) -> datetime:
    return when.astimezone(ZoneInfo(NY))


async def schedule_in_new_york(env: Env, weekday: str, at: str) -> int:
    await env.challenges.configure(ADA, GROUP, "timezone", NY, is_admin=True)
    reply = await env.challenges.schedule(ADA, GROUP, "quad", weekday, at, is_admin=True)
    assert reply.kind == "info", reply.text
    (s,) = env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", GROUP))
    assert s.timezone == NY
    return s.id


def next_run_at(env: Env, schedule_id: int) -> datetime | None:
    (s,) = [
        s
        for s in env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", GROUP))
        if s.id == schedule_id
    ]
    return s.next_run_at


def starts(effects: list[Announcement]) -> list[Announcement]:
    return [a for a in effects if a.reply.kind == "challenge"]


async def test_a_monday_evening_schedule_keeps_local_time_across_spring_forward(
    env: Env,
) -> None:
    # Monday 2 March 2026 09:00 in New York (EST, UTC-5); clocks go forward on Sunday 8 March.
    sid = await schedule_in_new_york(env, "mon", "19:00")
    first = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)  # Mon 2 March 19:00 EST
    assert next_run_at(env, sid) == first

    env.clock.set(first - timedelta(minutes=1))
    assert starts(await env.challenges.sweep()) == []

    env.clock.set(first)
    (started,) = starts(await env.challenges.sweep())
    assert started.chat_id == GROUP and QUAD.prompt in started.reply.text
    assert "19:10 (America/New_York)" in started.reply.text
    run = env.run()
    assert run.started_at == first and run.started_by is None
    assert env.timers.calls[-1] == ("reveal_at", run.id, first + timedelta(minutes=10))
    second = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)  # Mon 9 March 19:00 EDT (UTC-4)
    assert next_run_at(env, sid) == second
    assert local(second).hour == 19 and local(second).weekday() == 0
    assert starts(await env.challenges.sweep()) == []  # fired once only
    env.clock.set(run.deadline)
    assert len(await env.challenges.reveal_due(run.id)) == 1  # the timer reveals it

    env.clock.set(second - timedelta(minutes=1))
    assert starts(await env.challenges.sweep()) == []
    env.clock.set(second)
    effects = await env.challenges.sweep()
    assert len(starts(effects)) == 1
    assert next_run_at(env, sid) == datetime(2026, 3, 16, 23, 0, tzinfo=UTC)
    assert env.run().started_at == second
    assert len(env.db.store.runs) == 2
    assert starts(await env.challenges.sweep()) == []


@pytest.mark.parametrize(
    ("at", "first", "then"),
    [
        # Sunday 1 March would be in the past; Sunday 8 March 01:30 is still EST (UTC-5).
        (
            "01:30",
            datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
            datetime(2026, 3, 15, 5, 30, tzinfo=UTC),
        ),
        # 02:30 does not exist on 8 March (02:00 -> 03:00): the next valid minute, 03:00 EDT.
        ("02:30", datetime(2026, 3, 8, 7, 0, tzinfo=UTC), datetime(2026, 3, 15, 6, 30, tzinfo=UTC)),
    ],
)
async def test_a_sunday_night_schedule_on_the_spring_forward_day(
    env: Env, at: str, first: datetime, then: datetime
) -> None:
    sid = await schedule_in_new_york(env, "sunday", at)
    assert next_run_at(env, sid) == first
    env.clock.set(first - timedelta(seconds=1))
    assert starts(await env.challenges.sweep()) == []
    env.clock.set(first)
    assert len(starts(await env.challenges.sweep())) == 1
    assert next_run_at(env, sid) == then
    assert local(then).strftime("%a %H:%M") == f"Sun {at}"
    assert starts(await env.challenges.sweep()) == []


async def test_a_due_schedule_skips_a_week_while_a_run_is_open(env: Env) -> None:
    sid = await schedule_in_new_york(env, "mon", "19:00")
    first = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    env.clock.set(first - timedelta(minutes=5))
    await env.start(minutes=60)
    env.clock.set(first)
    assert starts(await env.challenges.sweep()) == []
    assert len(env.db.store.runs) == 1
    assert next_run_at(env, sid) == datetime(2026, 3, 9, 23, 0, tzinfo=UTC)


async def test_an_overdue_unrevealed_run_does_not_block_the_weekly_start(env: Env) -> None:
    """The bot was down for a week: the sweep reveals last week's run and starts this week's."""
    sid = await schedule_in_new_york(env, "mon", "19:00")
    first = datetime(2026, 3, 3, 0, 0, tzinfo=UTC)
    env.clock.set(first)
    assert len(starts(await env.challenges.sweep())) == 1
    old = env.run()

    second = datetime(2026, 3, 9, 23, 0, tzinfo=UTC)
    env.clock.set(second)  # no sweep and no timer in between
    effects = await env.challenges.sweep()
    revealed = [a for a in effects if a.reply.kind == "challenge_result" and a.reply.card]
    assert len(revealed) == 1
    assert len(starts(effects)) == 1, "this week's challenge was skipped"
    was = env.db.run_sync(lambda tx: tx.challenges.run_by_id(old.id))
    assert was is not None and was.revealed_at == second
    new = env.run()
    assert new.id != old.id and new.started_at == second and new.open
    assert next_run_at(env, sid) == datetime(2026, 3, 16, 23, 0, tzinfo=UTC)


async def test_schedule_input_errors_and_permissions(env: Env) -> None:
    bad_day = await env.challenges.schedule(ADA, GROUP, "quad", "someday", "19:00", True)
    assert bad_day.kind == "error"
    bad_time = await env.challenges.schedule(ADA, GROUP, "quad", "monday", "7pm", True)
    assert bad_time.kind == "error"
    unknown = await env.challenges.schedule(ADA, GROUP, "nope", "monday", "19:00", True)
    assert unknown.kind == "error"
    refused = await env.challenges.schedule(BEN, GROUP, "quad", "monday", "19:00", False)
    assert refused.kind == "error"
    assert env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", GROUP)) == []


async def test_unschedule(env: Env) -> None:
    await env.challenges.schedule(ADA, GROUP, "quad", "monday", "19:00", True)
    await env.challenges.schedule(ADA, GROUP, "why", "friday", "18:00", True)
    await env.challenges.schedule(ADA, "-999", "quad", "monday", "19:00", True)

    refused = await env.challenges.unschedule(BEN, GROUP, None, is_admin=False)
    assert refused.kind == "error"
    one = await env.challenges.unschedule(ADA, GROUP, "why", is_admin=True)
    assert "Removed 1 weekly challenge." in one.text
    (left,) = env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", GROUP))
    assert left.challenge_id == "quad"
    rest = await env.challenges.unschedule(ADA, GROUP, None, is_admin=True)
    assert "Removed 1 weekly challenge" in rest.text
    nothing = await env.challenges.unschedule(ADA, GROUP, None, is_admin=True)
    assert "Nothing was scheduled here." in nothing.text
    assert len(env.db.run_sync(lambda tx: tx.challenges.schedules("telegram", "-999"))) == 1

    # Nothing fires in the group any more.
    env.clock.set(START + timedelta(days=8))
    effects = await env.challenges.sweep()
    assert [a.chat_id for a in starts(effects)] == ["-999"]


# --------------------------------------------------------------------------- restarts and forget


async def test_a_restart_between_start_and_deadline_reveals_once(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "before the restart")
    run = env.run()

    restarted = env.new_service()
    env.study.challenges = restarted
    await env.answer(CAT, post, "after the restart")
    env.clock.set(run.deadline)
    effects = await restarted.reveal_due(run.id)
    assert len(effects) == 3  # the group, Ben, Cat
    assert await env.challenges.reveal_due(run.id) == []  # the old process's timer
    assert await restarted.sweep() == []
    assert await env.challenges.sweep() == []


async def test_forget_removes_a_members_submissions(env: Env) -> None:
    post = await env.start()
    await env.answer(BEN, post, "Ben's")
    await env.answer(CAT, post, "Cat's")
    run = env.run()
    ben = await env.lid(BEN)

    ask = await env.study.request_forget(BEN)
    done = await env.study.press(BEN, button(ask, "Yes, delete everything").payload)
    assert done.kind == "info" and "deleted" in done.text
    assert [s.learner_id for s in env.subs(run.id)] == [await env.lid(CAT)]
    assert all(s.learner_id != ben for s in env.db.store.submissions.values())

    # The starter forgets too: the run stays, without a starter.
    ask = await env.study.request_forget(ADA)
    await env.study.press(ADA, button(ask, "Yes, delete everything").payload)
    assert env.run().started_by is None

    effects = await env.reveal_at_deadline()
    group, cat = effects
    assert "1 answered" in group.reply.text
    assert cat.learner_id == await env.lid(CAT)


# --------------------------------------------------------------------------- the fake itself


def test_fake_challenges_mirror_the_sql_semantics() -> None:
    tx = FakeTx(FakeStore())
    a = tx.learners.create("telegram", "1", "A", SETTINGS, (), START)
    b = tx.learners.create("telegram", "2", "B", SETTINGS, (), START)
    c = tx.challenges

    def run(token: str, chat: str, at: datetime, minutes: int) -> ChallengeRun:
        return c.add_run(
            ChallengeRun(0, token, "telegram", chat, "quad", at, at + timedelta(minutes=minutes))
        )

    r1 = run("run00001", "g", START, 10)
    r2 = run("run00002", "g", START + timedelta(minutes=1), 5)
    r3 = run("run00003", "h", START, 1)
    assert (r1.id, r2.id, r3.id) == (1, 2, 3)
    with pytest.raises(ValueError, match="unique"):
        run("run00001", "g", START, 1)
    assert c.open_run("telegram", "g") == r2
    assert c.latest_run("telegram", "g") == r2
    assert c.run_by_token("run00001") == r1 and c.run_by_id(3) == r3
    assert c.due_reveals(START + timedelta(minutes=6)) == [r3, r2]

    assert c.set_run(r2.id, "cancelled_at", START)
    assert not c.set_run(r2.id, "cancelled_at", START + timedelta(minutes=1))
    assert not c.set_run(r2.id, "deadline", START)
    assert c.open_run("telegram", "g") == r1
    assert c.set_run(r1.id, "revealed_at", START + timedelta(minutes=10))
    assert c.open_run("telegram", "g") is None
    assert c.latest_run("telegram", "g") is not None
    assert c.due_summaries(START + timedelta(minutes=9)) == []
    assert [r.id for r in c.due_summaries(START + timedelta(minutes=10))] == [r1.id]

    c.save_submission(Submission(r3.id, b.id, "subb0001", "B", START))
    c.save_submission(Submission(r3.id, a.id, "suba0001", "A", START))
    assert [s.learner_id for s in c.submissions(r3.id)] == [a.id, b.id]
    c.save_submission(
        Submission(r3.id, a.id, "suba0001", "A", START, text="x", grades=(None, 3), checks=(2,))
    )
    stored = c.submission(r3.id, a.id)
    assert stored is not None and stored.text == "x" and stored.grades == (None, 3)
    assert c.submission_by_token("subb0001") == c.submission(r3.id, b.id)
    assert len(c.submissions(r3.id)) == 2
    assert c.joined_open_run(a.id) == r3
    c.save_submission(Submission(r1.id, a.id, "suba0002", "A", START + timedelta(minutes=1)))
    assert c.joined_open_run(a.id) == r3  # r1 is revealed

    tx.learners.delete(b.id)
    assert [s.learner_id for s in c.submissions(r3.id)] == [a.id]


def test_fake_challenge_schedules_and_groups() -> None:
    from datetime import time

    from bot.core.model import ChallengeSchedule, GroupSettings

    c = FakeTx(FakeStore()).challenges
    assert c.group("telegram", "g") is None
    c.save_group(GroupSettings("telegram", "g", "UTC", "admins"))
    c.save_group(GroupSettings("telegram", "g", NY, "everyone"))
    assert c.group("telegram", "g") == GroupSettings("telegram", "g", NY, "everyone")

    def add(chat: str, cid: str, when: datetime | None) -> ChallengeSchedule:
        return c.add_schedule(
            ChallengeSchedule(0, "telegram", chat, cid, 0, time(19, 0, 30), NY, when)
        )

    s1 = add("g", "quad", START + timedelta(hours=2))
    s2 = add("g", "why", START + timedelta(hours=1))
    s3 = add("h", "quad", None)
    assert s1.at == time(19, 0)
    assert [s.id for s in c.schedules("telegram", "g")] == [s1.id, s2.id]
    assert c.claim_schedules(START + timedelta(hours=3), 10) == [s2, s1]
    assert c.claim_schedules(START + timedelta(hours=3), 1) == [s2]
    c.set_schedule_next(s2.id, START + timedelta(days=7))
    assert c.claim_schedules(START + timedelta(hours=3), 10) == [s1]
    assert c.delete_schedules("telegram", "g", "why") == 1
    assert c.delete_schedules("telegram", "g", None) == 1
    assert c.delete_schedules("telegram", "g", None) == 0
    assert c.schedules("telegram", "h") == [s3]
