"""Every core service over one database, wired as ``bot/app.py`` wires them, for tests.

:func:`build_services` takes the database (the in-memory fake, or a real
:class:`~bot.storage.database.SqlDatabase`), a clock and a token source, and
builds the services with a :class:`~tests.fakes.announcer.RecordingAnnouncer`
in place of the platforms, counting into a
:class:`~tests.fakes.metrics.RecordingMetrics`. A few readers of outcomes go
with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Generic, TypeVar

from bot.core.actions import Action, decode
from bot.core.challenges import assessment
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.challenges.photos import PhotoLimits
from bot.core.challenges.service import ChallengeService
from bot.core.housekeeping import Housekeeping
from bot.core.inputs import Inputs
from bot.core.learners import Basics, Enrolment, Who
from bot.core.messages import RESENT_ASSESSMENT, Button, Reply
from bot.core.model import LearnerSettings
from bot.core.onboarding import Onboarding
from bot.core.outcomes import Outcome
from bot.core.ports import Database
from bot.core.pushes import PushPolicy, PushService
from bot.core.quiz import DEFAULT_WINDOW, QuizService
from bot.core.study import StudyService
from tests.fakes.announcer import RecordingAnnouncer
from tests.fakes.clock import FixedClock
from tests.fakes.metrics import RecordingMetrics
from tests.fakes.tokens import SequentialTokens

D = TypeVar("D", bound=Database)

#: What tests enrol learners with: FSRS without fuzzing, so intervals are exact.
SETTINGS = LearnerSettings(enable_fuzzing=False)


@dataclass
class Services(Generic[D]):
    """The core services of one process, over one database."""

    db: D
    clock: FixedClock
    tokens: SequentialTokens
    announcer: RecordingAnnouncer
    metrics: RecordingMetrics
    study: StudyService
    quiz: QuizService
    pushes: PushService
    challenges: ChallengeService
    onboarding: Onboarding
    inputs: Inputs
    housekeeping: Housekeeping
    enrolment: Enrolment = field(default_factory=Enrolment)

    async def press(self, who: Who, payload: str, typed_answer: str | None = None) -> Outcome:
        """A button pressed, as every adapter hands it over."""
        return await self.inputs.press(who, payload, typed_answer=typed_answer)


def build_services(
    db: D,
    clock: FixedClock,
    *,
    tokens: SequentialTokens | None = None,
    settings: LearnerSettings = SETTINGS,
    topics: tuple[str, ...] = (),
    policy: PushPolicy | None = None,
    quiz_window: timedelta = DEFAULT_WINDOW,
    catalog: ChallengeCatalog | None = None,
    announcer: RecordingAnnouncer | None = None,
    metrics: RecordingMetrics | None = None,
    photos: PhotoLimits | None = None,
) -> Services[D]:
    """The services over ``db``, built the way :func:`bot.app.build_app` builds them.

    Args:
        db: the database (fake or real).
        clock: the clock every service reads.
        tokens: prompt tokens (sequential ``t0000001``... by default).
        settings: what a new learner starts with (``[study]``).
        topics: the decks or tags a new learner studies (``[decks] default``).
        policy: the push fan-out's tunables.
        quiz_window: how long a quiz round stays open.
        catalog: the challenges known (none by default).
        announcer: where announcements go (a new recorder by default).
        metrics: what the services count (a new recorder by default).
        photos: how much of challenge photo answers is kept (the defaults by default).
    """
    tokens = tokens or SequentialTokens()
    announcer = announcer or RecordingAnnouncer()
    metrics = metrics or RecordingMetrics()
    enrolment = Enrolment(settings, topics)
    basics = Basics(db, clock, tokens, enrolment, metrics)
    study = StudyService(basics, announcer)
    quiz = QuizService(basics, announcer, quiz_window)
    catalog = catalog or ChallengeCatalog({})
    composers = {RESENT_ASSESSMENT: partial(assessment.resend, catalog=catalog)}
    pushes = PushService(basics, policy or PushPolicy(), composers)
    challenges = ChallengeService(basics, announcer, catalog, photos)
    onboarding = Onboarding(basics)
    return Services(
        db=db,
        clock=clock,
        tokens=tokens,
        announcer=announcer,
        metrics=metrics,
        study=study,
        quiz=quiz,
        pushes=pushes,
        challenges=challenges,
        onboarding=onboarding,
        inputs=Inputs(study, quiz, pushes, challenges, onboarding),
        housekeeping=Housekeeping(db, clock),
        enrolment=enrolment,
    )


# --------------------------------------------------------------------------- reading outcomes


def only(outcome: Outcome) -> Reply:
    """The one reply an outcome sends (it must send exactly one)."""
    assert len(outcome.replies) == 1, outcome
    return outcome.replies[0]


def shown(outcome: Outcome) -> Reply:
    """What the person sees next: the tapped message's new state, else the one reply."""
    if outcome.edit is not None:
        assert not outcome.replies, outcome
        return outcome.edit
    return only(outcome)


def is_expired(outcome: Outcome) -> bool:
    """Whether an outcome is the "this button has expired" answer, changing nothing shown."""
    return (
        outcome.notice.startswith("This button has expired")
        and outcome.edit is None
        and outcome.close is None
        and not outcome.replies
    )


def button(reply: Reply, label: str) -> Button:
    """The reply's button whose label starts with ``label``."""
    for b in reply.all_buttons():
        if b.label.startswith(label):
            return b
    raise AssertionError(f"no {label!r} button in {[b.label for b in reply.all_buttons()]}")


def action_of(payload: str) -> Action:
    """The action a button payload carries (it must be one, not a settings choice)."""
    action = decode(payload)
    assert isinstance(action, Action), payload
    return action
