"""Where adapters hand over what people do besides commands: a tapped button, a typed message.

A button's payload is decoded here, once, and the press goes to the one service
that handles it; a typed private message is a challenge answer, an answer to an
open onboarding question, or gets a hint. Either way one :class:`Outcome` comes back.
"""

from __future__ import annotations

import logging
from typing import Final

from bot.core.actions import Action, BadPayload, DeckChoice, Setup, decode
from bot.core.challenges.photos import SentPhoto
from bot.core.challenges.service import ChallengeService
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.onboarding import Onboarding
from bot.core.outcomes import Outcome, send
from bot.core.pushes import PushService
from bot.core.quiz import QuizService
from bot.core.study import EXPIRED, RETENTION_COSTS, StudyService

log = logging.getLogger(__name__)

TEXT_HINT: Final = "Send /review to study, or /help for the commands."
PHOTO_HINT: Final = (
    "I only take photos as answers to a group challenge you have joined. "
    "Send /review to study, or /help for the commands."
)


class Inputs:
    """Buttons and typed messages, routed to the services that handle them."""

    def __init__(
        self,
        study: StudyService,
        quiz: QuizService,
        pushes: PushService,
        challenges: ChallengeService,
        onboarding: Onboarding,
    ) -> None:
        self.study = study
        self.quiz = quiz
        self.pushes = pushes
        self.challenges = challenges
        self.onboarding = onboarding

    async def press(self, who: Who, payload: str, *, typed_answer: str | None = None) -> Outcome:
        """A button was pressed; ``typed_answer`` goes with a "Show answer" (the console).

        Anything malformed, stale, forged or someone else's is answered "expired".
        """
        try:
            action = decode(payload)
        except BadPayload:
            log.info("bad button payload from %s user %s", who.platform, who.user_id)
            return EXPIRED
        if action == RETENTION_COSTS:  # the settings menu's "Retention: what it costs"
            return await self.study.retention_costs(who)
        if isinstance(action, Setup):
            return await self.onboarding.choose(who, action)
        if isinstance(action, DeckChoice):
            return await self.study.deck_choice(who, action)
        token, arg = action.token, action.arg
        match action.kind:
            case "reveal":
                return await self.study.reveal(who, token, typed_answer)
            case "rate" if arg is not None:
                return await self.study.rate(who, token, arg)
            case "bury":
                return await self.study.bury(who, token)
            case "suspend":
                return await self.study.suspend(who, token)
            case "confirm":
                await self.onboarding.cancel(who)
                return await self.study.confirm(who, token, arg == 1)
            case "quiz":
                return await self.quiz.reveal(who, token)
            case "snooze":
                return await self.pushes.snooze(who, token)
            case "skip":
                return await self.pushes.skip(who, token)
            case "join":
                return await self.challenges.join(who, token)
            case "assessform":
                return await self.challenges.open_form(who, token, arg)
            case "check" | "grade" | "assessed" | "share" | "showname":
                return await self.challenges.press(who, action.kind, token, arg)
            case _:
                return EXPIRED

    @staticmethod
    def opens_form(payload: str) -> bool:
        """Whether pressing this button may answer with a form (a challenge's "Submit my
        answer", a self-assessment's "Rate every row"): a platform whose forms must be the
        first response asks before deferring."""
        try:
            action = decode(payload)
        except BadPayload:
            return False
        return isinstance(action, Action) and action.kind in ("join", "assessform")

    async def text(self, who: Who, text: str | None, photo: SentPhoto | None = None) -> Outcome:
        """A private message that is not a command (a photo's caption is its ``text``;
        the photo is downloaded only if it answers a challenge and fits its limits).

        Any message is contact: a learner marked unreachable is reachable again.
        """
        answered = await self.challenges.answer(who, text, photo)
        if answered is not None:
            return answered
        replied = await self.onboarding.answer(who, text if photo is None else None)
        if replied is not None:
            return replied
        return send(Reply("info", PHOTO_HINT if photo is not None else TEXT_HINT))

    async def command(self, who: Who) -> None:
        """Someone sent a command: it ends any question left open."""
        await self.onboarding.cancel(who)
