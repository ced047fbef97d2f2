"""Tests for bot.core.inputs: where a tapped button or a typed message goes.

A payload is decoded once, in ``Inputs.press``, and the press reaches the one
service that handles it; anything that is not one of ours is "expired". A
typed private message is a challenge answer, then an answer to an open
onboarding question, then gets a hint.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from bot.core import inputs as inputs_module
from bot.core.actions import Action, DeckChoice, Setup, decode
from bot.core.challenges.definitions import ChallengeDef
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.inputs import PHOTO_HINT, TEXT_HINT, Inputs
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import CardState, CardStateKind, Learner
from bot.core.outcomes import Outcome, send
from bot.core.ports import Delivery, Tx
from bot.core.study import EXPIRED, EXPIRED_TEXT
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck
from tests.fakes.photos import photo
from tests.fakes.tokens import SequentialTokens
from tests.services import Services, build_services, button, only

T = TypeVar("T")
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)  # Monday 14:00 UTC
ANN = Who("telegram", "1", "Ann")
TOKEN = "AbC-12_xyzXYZ789"
GROUP = "-100"
DAY = timedelta(days=1)
DERIVE = ChallengeDef("derive", "set", "Derive it", "derivation", 10, "Derive it.", "Like so.")


@pytest.fixture
def services() -> Services[FakeDatabase]:
    db = FakeDatabase([make_deck("d", ["c1", "c2", "c3"])], START)
    return build_services(db, FixedClock(START), catalog=ChallengeCatalog({"derive": DERIVE}))


# --------------------------------------------------------------------------- routing


class Spy:
    """Stands in for a service method: records its call, answers with its own name."""

    def __init__(self, name: str, calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]]):
        self.name = name
        self.calls = calls

    async def __call__(self, *args: Any, **kwargs: Any) -> Outcome:
        self.calls.append((self.name, args, kwargs))
        return Outcome(notice=self.name)


def spy_on_every_service(
    monkeypatch: pytest.MonkeyPatch, services: Services[FakeDatabase]
) -> list[tuple[str, tuple[Any, ...], dict[str, Any]]]:
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []
    targets = {
        "study": ("reveal", "rate", "bury", "suspend", "confirm", "undo", "next"),
        "quiz": ("reveal",),
        "pushes": ("snooze", "skip"),
        "challenges": ("join", "press", "open_form"),
        "onboarding": ("choose",),
    }
    for service, methods in targets.items():
        for method in methods:
            target = getattr(services, service)
            monkeypatch.setattr(target, method, Spy(f"{service}.{method}", calls))
    return calls


@pytest.mark.parametrize(
    ("action", "called", "args"),
    [
        (Action("reveal", TOKEN), "study.reveal", (ANN, TOKEN, "typed")),
        (Action("rate", TOKEN, 3), "study.rate", (ANN, TOKEN, 3)),
        (Action("bury", TOKEN), "study.bury", (ANN, TOKEN)),
        (Action("suspend", TOKEN), "study.suspend", (ANN, TOKEN)),
        (Action("confirm", TOKEN, 1), "study.confirm", (ANN, TOKEN, True)),
        (Action("confirm", TOKEN, 0), "study.confirm", (ANN, TOKEN, False)),
        (Action("quiz", TOKEN), "quiz.reveal", (ANN, TOKEN)),
        (Action("snooze", TOKEN), "pushes.snooze", (ANN, TOKEN)),
        (Action("skip", TOKEN), "pushes.skip", (ANN, TOKEN)),
        (Action("join", TOKEN), "challenges.join", (ANN, TOKEN)),
        (Action("check", TOKEN, 2), "challenges.press", (ANN, "check", TOKEN, 2)),
        (Action("grade", TOKEN, 13), "challenges.press", (ANN, "grade", TOKEN, 13)),
        (Action("assessed", TOKEN), "challenges.press", (ANN, "assessed", TOKEN, None)),
        (Action("share", TOKEN), "challenges.press", (ANN, "share", TOKEN, None)),
        (Action("showname", TOKEN), "challenges.press", (ANN, "showname", TOKEN, None)),
        (Action("assessform", TOKEN), "challenges.open_form", (ANN, TOKEN, None)),
        (Action("assessform", TOKEN, 20), "challenges.open_form", (ANN, TOKEN, 20)),
        (Setup(True, "tz", "Europe/Paris"), "onboarding.choose", None),
        (Setup(False, "go", "push"), "onboarding.choose", None),
    ],
)
async def test_each_payload_reaches_the_service_that_handles_it(
    monkeypatch: pytest.MonkeyPatch,
    services: Services[FakeDatabase],
    action: Action | Setup,
    called: str,
    args: tuple[Any, ...] | None,
) -> None:
    calls = spy_on_every_service(monkeypatch, services)
    typed = "typed" if called == "study.reveal" else None
    outcome = await services.inputs.press(ANN, action.encode(), typed_answer=typed)
    assert outcome == Outcome(notice=called)
    ((name, got, _),) = calls
    assert name == called
    assert got == (args if args is not None else (ANN, action))


@pytest.mark.parametrize("kind", ["undo", "next"])
async def test_a_well_formed_action_no_button_answers_has_expired(
    monkeypatch: pytest.MonkeyPatch, services: Services[FakeDatabase], kind: str
) -> None:
    calls = spy_on_every_service(monkeypatch, services)
    outcome = await services.inputs.press(ANN, f"{kind[0]}:{TOKEN}")
    assert outcome == EXPIRED
    assert calls == []


@pytest.mark.parametrize(
    "payload",
    [
        "",
        "garbage",
        "r:t0000001",  # a rating without its argument
        "r:t0000001:9",
        "r:t0000001:0",
        "r:t0000001:03x",
        "s:t0000001:3",  # reveal takes no argument
        "r:short:3",
        "r:t0000001:3:4",
        "r:t00 0001:3",
        "r:" + "A" * 70 + ":3",
        "r:t0000001:³",
        "ob:colour:blue",
        "ox:tz:UTC",
        "é" * 40,
    ],
)
async def test_a_malformed_payload_has_expired_and_changes_nothing(
    services: Services[FakeDatabase], payload: str, caplog: pytest.LogCaptureFixture
) -> None:
    only(await services.study.next(ANN))
    before = services.db.snapshot()
    with caplog.at_level("INFO", logger="bot.core.inputs"):
        outcome = await services.inputs.press(ANN, payload)
    assert outcome == EXPIRED and outcome.notice == EXPIRED_TEXT
    assert services.db.snapshot() == before
    assert "bad button payload from telegram user 1" in caplog.text


@pytest.mark.parametrize(
    "payload", ["r:AAAAAAAAAAAA:3", "s:t9999999", "b:t9999999", "x:t9999999", "z:t9999999"]
)
async def test_a_forged_token_has_expired_and_changes_nothing(
    services: Services[FakeDatabase], payload: str
) -> None:
    only(await services.study.next(ANN))
    before = services.db.snapshot()
    outcome = await services.inputs.press(ANN, payload)
    assert outcome.notice.startswith("This button has expired")
    assert (outcome.edit, outcome.close, outcome.replies) == (None, None, ())
    assert services.db.snapshot() == before


def test_opens_form_only_for_joining_a_challenge_or_its_self_assessment() -> None:
    assert Inputs.opens_form(Action("join", TOKEN).encode())
    assert Inputs.opens_form(Action("assessform", TOKEN).encode())
    assert Inputs.opens_form(Action("assessform", TOKEN, 20).encode())
    for payload in (
        Action("assessed", TOKEN).encode(),
        Action("reveal", TOKEN).encode(),
        Action("share", TOKEN).encode(),
        Action("rate", TOKEN, 3).encode(),
        Setup(True, "go", "review").encode(),
        "j:short",
        "garbage",
        "",
    ):
        assert not Inputs.opens_form(payload), payload


# --------------------------------------------------------------------------- typed messages


async def test_text_goes_to_a_joined_challenge_before_an_open_question(
    services: Services[FakeDatabase],
) -> None:
    post = only(await services.challenges.start(ANN, GROUP, "derive", None, True))
    await services.onboarding.start(ANN)  # a time zone question is open too
    await services.press(ANN, post.buttons[0][0].payload)
    outcome = await services.inputs.text(ANN, "my derivation")
    assert outcome.to == "private" and only(outcome).text.startswith("Got your answer")
    assert await services.onboarding.pending(ANN) == ("tz", True)  # still open
    sent = await services.inputs.text(ANN, None, photo=photo())
    assert only(sent).text.startswith("Replaced your earlier answer")


async def test_text_answers_an_open_question(services: Services[FakeDatabase]) -> None:
    await services.onboarding.start(ANN)
    outcome = await services.inputs.text(ANN, "Paris")
    assert outcome.replies[0].text == "✓ Time zone: Europe/Paris"
    assert (await services.study.learner(ANN)).settings.timezone == "Europe/Paris"


async def test_other_text_gets_a_hint(services: Services[FakeDatabase]) -> None:
    assert await services.inputs.text(ANN, "hello") == send(Reply("info", TEXT_HINT))
    assert await services.inputs.text(ANN, "") == send(Reply("info", TEXT_HINT))


async def test_a_photo_outside_a_challenge_gets_the_photo_hint(
    services: Services[FakeDatabase],
) -> None:
    await services.onboarding.start(ANN)  # an open question takes text, not photos
    outcome = await services.inputs.text(ANN, "Paris", photo=photo())
    assert outcome == send(Reply("info", PHOTO_HINT))
    assert (await services.study.learner(ANN)).settings.timezone == "UTC"
    assert await services.onboarding.pending(ANN) == ("tz", True)


async def test_any_message_makes_an_unreachable_learner_reachable_again(
    services: Services[FakeDatabase],
) -> None:
    """README: pushes stop until the learner writes again; "hello" is writing again."""
    await services.study.learner(ANN)
    await services.study.mark_unreachable(ANN)
    assert services.db.learner("telegram", "1").unreachable  # type: ignore[union-attr]
    assert await services.inputs.text(ANN, "hello") == send(Reply("info", TEXT_HINT))
    learner = services.db.learner("telegram", "1")
    assert learner is not None and not learner.unreachable
    await services.study.mark_unreachable(ANN)
    await services.inputs.text(ANN, None, photo=photo())  # a photo is writing too
    learner = services.db.learner("telegram", "1")
    assert learner is not None and not learner.unreachable


async def test_a_hint_enrols_nobody(services: Services[FakeDatabase]) -> None:
    await services.inputs.text(Who("telegram", "9", "Stranger"), "hello")
    assert services.db.learner("telegram", "9") is None


async def test_a_command_closes_an_open_question(services: Services[FakeDatabase]) -> None:
    await services.onboarding.start(ANN)
    await services.inputs.command(ANN)
    assert await services.onboarding.pending(ANN) is None
    assert await services.inputs.text(ANN, "Paris") == send(Reply("info", TEXT_HINT))
    assert (await services.study.learner(ANN)).settings.timezone == "UTC"


async def test_a_confirmation_closes_an_open_question(services: Services[FakeDatabase]) -> None:
    await services.onboarding.start(ANN)
    ask = only(await services.study.request_forget(ANN))
    await services.press(ANN, button(ask, "No, keep it").payload)
    assert await services.onboarding.pending(ANN) is None


# --------------------------------------------------------- one press, one unit of work


class CountingDatabase:
    """The fake database, counting units of work."""

    def __init__(self, inner: FakeDatabase) -> None:
        self.inner = inner
        self.runs = 0

    async def run(self, work: Callable[[Tx], T]) -> T:
        self.runs += 1
        return await self.inner.run(work)

    def snapshot(self) -> Any:
        return self.inner.snapshot()

    def learner(self, platform: str, user_id: str) -> Any:
        return self.inner.learner(platform, user_id)


class Counted:
    """Counts what one press costs: decodes, tokens drawn, units of work."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.db = CountingDatabase(FakeDatabase([make_deck("d", ["c1", "c2", "c3"])], START))
        self.tokens = SequentialTokens()
        self.services = build_services(self.db, FixedClock(START), tokens=self.tokens)
        self.decodes = 0

        def counting_decode(payload: str) -> Action | Setup | DeckChoice:
            self.decodes += 1
            return decode(payload)

        monkeypatch.setattr(inputs_module, "decode", counting_decode)

    async def press(self, payload: str, who: Who = ANN) -> tuple[Outcome, tuple[int, int, int]]:
        """Press once; returns the outcome and (decodes, tokens drawn, units of work)."""
        decodes, tokens, runs = self.decodes, self.tokens.count, self.db.runs
        outcome = await self.services.inputs.press(who, payload)
        return outcome, (
            self.decodes - decodes,
            self.tokens.count - tokens,
            self.db.runs - runs,
        )


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counted:
    return Counted(monkeypatch)


async def test_one_rating_decodes_once_draws_one_token_and_runs_one_unit_of_work(
    counted: Counted,
) -> None:
    front = only(await counted.services.study.next(ANN))
    back, _ = await counted.press(button(front, "Show answer").payload)
    assert back.edit is not None
    outcome, cost = await counted.press(button(back.edit, "Good").payload)
    assert only(outcome).kind == "front"
    assert cost == (1, 1, 1)  # the next card's token; the whole review in one transaction
    # A double tap costs the same and changes nothing.
    again, cost = await counted.press(button(back.edit, "Good").payload)
    assert again.notice.startswith("This button has expired") and cost == (1, 1, 1)


async def test_one_reveal_decodes_once_and_runs_one_unit_of_work(counted: Counted) -> None:
    front = only(await counted.services.study.next(ANN))
    outcome, cost = await counted.press(button(front, "Show answer").payload)
    assert outcome.edit is not None and outcome.edit.kind == "back"
    assert cost == (1, 0, 1)  # a reveal needs no new token


async def test_one_bury_decodes_once_draws_one_token_and_runs_one_unit_of_work(
    counted: Counted,
) -> None:
    front = only(await counted.services.study.next(ANN))
    outcome, cost = await counted.press(button(front, "Bury").payload)
    assert outcome.close == "Buried until tomorrow."
    assert cost == (1, 1, 1)


async def test_one_snooze_decodes_once_and_runs_one_unit_of_work(counted: Counted) -> None:
    services = counted.services
    learner = await services.study.learner(ANN)
    await counted.db.run(lambda tx: tx.learners.set_next_push(learner.id, START))
    due = CardState(learner.id, "c1", CardStateKind.REVIEW, None, 5.0, 5.0, START, START - DAY)
    await counted.db.run(lambda tx: tx.schedule.save(due))
    assert await services.pushes.tick(["telegram"]) == 1
    fronts: list[Reply] = []

    async def push(learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        fronts.append(reply)
        return Delivery(reached=True)

    assert await services.pushes.drain("telegram", push) == 1
    outcome, cost = await counted.press(button(fronts[0], "Snooze").payload)
    assert outcome.close == "Snoozed: I'll come back at 15:00."
    assert cost == (1, 0, 1)  # the snooze is the learner's next push instant: one write


async def test_an_announcing_press_posts_after_its_one_unit_of_work(counted: Counted) -> None:
    """A quiz rating that closes the round: one transaction, then one post."""
    services = counted.services
    post = only(await services.quiz.start(ANN, GROUP, "d"))
    ben = Who("telegram", "2", "Ben")
    for who in (ANN, ben):
        back = only(await services.press(who, post.buttons[0][0].payload))
        if who == ben:
            outcome, cost = await counted.press(button(back, "Good").payload, ben)
        else:
            await services.press(who, button(back, "Good").payload)
    assert outcome.close is not None and cost == (1, 1, 1)
    assert services.announcer.calls == 1 and len(services.announcer.posted) == 1
