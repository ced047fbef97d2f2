"""The browser workspace's core: sign-ins, sessions, drafts, and each page as data.

The web adapter (``bot/platforms/web/``) turns HTTP into calls here and the values
that come back into JSON; this module knows nothing of HTTP. A learner signs in with
a Telegram Mini App's ``initData`` (:meth:`WorkspaceService.login_telegram`, scope
``*``: anything of their own) or a one-time link minted for a Discord button
(:meth:`WorkspaceService.link`, then :meth:`WorkspaceService.login_link`, scope: the
link's one purpose). Either way a :class:`Login` comes back: the session cookie's
value (only its SHA-256 is stored) and the session's CSRF token.

Every other call takes the :class:`~bot.core.model.WebSession` the cookie named and
acts as its learner, never as a learner a request names. What a session may open is
checked in one place (:func:`allows`, :meth:`WorkspaceService._enter`): a purpose
outside its scope raises :class:`OutOfScope`. A run the learner did not join, or a
submission not theirs, is None (the adapter's 404). Answers, photos and
self-assessments go through :class:`~bot.core.challenges.service.ChallengeService`,
review buttons through :class:`~bot.core.inputs.Inputs`, exactly as from a chat.

Drafts are kept per learner and run (key ``challenge:<run token>``) and are kept after
a submit too: they are what the learner wrote, and reopening the page shows them.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final
from urllib.parse import quote

from bot.core.actions import Action, ActionKind, BadPayload, decode
from bot.core.calibration import CalibrationBin, calibrate
from bot.core.challenges.definitions import ChallengeDef
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.challenges.photos import SentPhoto, StoredPhoto
from bot.core.challenges.service import ChallengeService
from bot.core.inputs import Inputs
from bot.core.learners import Basics, Who, get_or_create_learner
from bot.core.messages import REVIEW_WORKSPACE, STATS_WORKSPACE
from bot.core.messages import challenge_workspace as challenge_purpose
from bot.core.model import (
    CardImage,
    ChallengeRun,
    Draft,
    Learner,
    ReviewEntry,
    Submission,
    WebSession,
)
from bot.core.outcomes import Outcome
from bot.core.ports import Tx
from bot.core.stats import (
    RETENTION_WEEKS,
    WORKLOAD_DAYS,
    DayWorkload,
    WeekRetention,
    daily_workload,
    due_forecast,
    forecast_days,
    weekly_retention,
)
from bot.core.study import FORECAST_DAYS, StudyService
from bot.core.webauth import (
    LinkClaims,
    LoginRefused,
    check_init_data,
    check_purpose,
    digest,
    new_nonce,
    read_link,
    sign_link,
)

__all__ = [
    "ANY",
    "MAX_DRAFT",
    "REVIEW_KINDS",
    "BadRequest",
    "ChallengePage",
    "Grading",
    "Login",
    "OtherAnswer",
    "OutOfScope",
    "RunInfo",
    "StatsPage",
    "SubmissionInfo",
    "WebPolicy",
    "WorkspaceError",
    "WorkspaceService",
    "allows",
    "challenge_purpose",
]

#: The scope of a session that may open anything of its learner's (a Mini App login).
ANY: Final = "*"
#: The longest draft kept, in characters.
MAX_DRAFT: Final = 20_000
#: The button kinds the review page takes (``/api/press``): the study loop's own.
REVIEW_KINDS: Final[frozenset[ActionKind]] = frozenset({"reveal", "rate", "bury", "suspend"})
#: What a run token may look like (as in a purpose, ``webauth.check_purpose``); no other
#: text reaches the database (PostgreSQL refuses a NUL in it, for one).
RUN_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: The platform name of a Mini App login's learner.
TELEGRAM: Final = "telegram"
#: Stands in for a photo uploaded from the page as the submission's ``photo_ref``: it
#: marks an answer given as a photo (the bytes are stored with the submission).
WEB_PHOTO_REF: Final = "web:upload"

NOT_A_REVIEW_BUTTON = "That is not a button of the review page."
DRAFT_TOO_LONG = f"A draft holds at most {MAX_DRAFT:,} characters."
OUT_OF_SCOPE = "This page was opened for something else: open the workspace again from the chat."
GONE_LEARNER = "This link belongs to an account that no longer exists."


class WorkspaceError(Exception):
    """A request the workspace refuses; ``message`` is a sentence for the learner."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class OutOfScope(WorkspaceError):
    """The session may not open this (a link's session reaching past its purpose)."""

    def __init__(self, message: str = OUT_OF_SCOPE) -> None:
        super().__init__(message)


class BadRequest(WorkspaceError):
    """A request that cannot be taken as it is (a draft too long, a foreign button)."""


@dataclass(frozen=True, slots=True)
class WebPolicy:
    """What ``[web]`` says, for the core.

    Attributes:
        public_url: the address learners open, without a trailing slash.
        link_key: signs the one-time links (``webauth.link_key``).
        telegram_token: checks Mini App logins (None: no Telegram, every one refused).
        init_data_max_age: a Mini App login older than this is refused.
        link_life: a link works once, within this long of being made.
        session_life: a session lasts this long.
    """

    public_url: str
    link_key: bytes
    telegram_token: str | None = None
    init_data_max_age: timedelta = timedelta(minutes=10)
    link_life: timedelta = timedelta(minutes=15)
    session_life: timedelta = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Login:
    """A new session, as the adapter hands it to the browser.

    Attributes:
        cookie: the session cookie's value (random, 32 bytes url-safe; only its
            SHA-256 is stored, so it must not be logged).
        csrf: the token every later API call must carry.
        name: the learner's display name.
        scope: ``*`` or the one purpose of a link.
        expires_at: when the session ends (the cookie's Max-Age).
    """

    cookie: str
    csrf: str
    name: str
    scope: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RunInfo:
    """A challenge run as the page shows it (``state``: open, revealed or cancelled)."""

    token: str
    title: str
    kind: str
    prompt: str
    state: str
    deadline: datetime
    now: datetime


@dataclass(frozen=True, slots=True)
class SubmissionInfo:
    """The member's own answer so far (``text`` None and ``submitted_at`` None: none)."""

    text: str | None
    photo: bool
    submitted_at: datetime | None
    shared: bool


@dataclass(frozen=True, slots=True)
class Grading:
    """The member's self-assessment after the reveal.

    Attributes:
        token: the member's submission token.
        reference: the reference answer (markdown; a good answer's points included).
        reference_image: the challenge's image, for the adapter to draw, or None.
        answer: the member's text answer, or None.
        answer_photo: the member's photo answer as stored, or None.
        checkpoints: the checkpoints to tick.
        rows: the rubric rows to rate 1-3.
        grades: each row's grade so far (None: not rated).
        checks: the checkpoints ticked so far.
        assessed: whether it was applied to the member's cards.
    """

    token: str
    reference: str
    reference_image: CardImage | None
    answer: str | None
    answer_photo: StoredPhoto | None
    checkpoints: tuple[str, ...]
    rows: tuple[str, ...]
    grades: tuple[int | None, ...]
    checks: tuple[int, ...]
    assessed: bool


@dataclass(frozen=True, slots=True)
class OtherAnswer:
    """Another member's answer, shown after the reveal once they shared it with the group."""

    name: str
    text: str | None
    photo: bool


@dataclass(frozen=True, slots=True)
class ChallengePage:
    """``GET /api/challenge/{run}``: everything the challenge page shows a member."""

    run: RunInfo
    draft: Draft | None
    submission: SubmissionInfo
    grading: Grading | None
    others: tuple[OtherAnswer, ...]


@dataclass(frozen=True, slots=True)
class StatsPage:
    """``GET /api/stats``: the learner's own numbers, for the page to chart.

    Attributes:
        target: the learner's desired retention.
        forecast: cards due on each of the next 30 local days, today first.
        retention: the last 12 local weeks' reviews of cards in Review and recalls.
        calibration: predicted against observed recall, by bucket of prediction.
        workload: reviews and seconds on each of the last 30 local days, today last.
    """

    target: float
    forecast: tuple[tuple[date, int], ...]
    retention: tuple[WeekRetention, ...]
    calibration: tuple[CalibrationBin, ...]
    workload: tuple[DayWorkload, ...]


def allows(scope: str, purpose: str) -> bool:
    """Whether a session of ``scope`` may open ``purpose``: ``*`` opens anything of its
    learner's own, a link's session only its one purpose."""
    return scope in (ANY, purpose)


def as_who(learner: Learner) -> Who:
    """The account a session acts as, for the services that take a :class:`Who`."""
    return Who(learner.platform, learner.platform_user_id, learner.display_name)


def account_of(learner: Learner) -> str:
    """The account a link is bound to besides the learner's id: ``<platform>:<user id>``."""
    return f"{learner.platform}:{learner.platform_user_id}"


def run_state(run: ChallengeRun) -> str:
    """``open``, ``revealed`` or ``cancelled``."""
    if run.cancelled_at is not None:
        return "cancelled"
    return "open" if run.revealed_at is None else "revealed"


def reference_text(challenge: ChallengeDef) -> str:
    """The reference as the grading page shows it: the answer, and the points a good
    answer makes (the checkpoints are ticked apart)."""
    if not challenge.points:
        return challenge.reference
    points = "\n".join(f"- {p}" for p in challenge.points)
    return f"{challenge.reference}\n\n**A good answer makes these points**\n{points}"


def submission_info(sub: Submission) -> SubmissionInfo:
    """The member's own answer as the page shows it."""
    return SubmissionInfo(
        text=sub.text,
        photo=sub.photo_ref is not None,
        submitted_at=sub.submitted_at,
        shared=sub.shared_at is not None,
    )


def others_of(subs: Sequence[Submission], learner_id: int) -> tuple[OtherAnswer, ...]:
    """Other members' answers the group was shown (shared after the reveal), in the
    order they joined."""
    return tuple(
        OtherAnswer(s.display_name, s.text, s.photo_ref is not None)
        for s in subs
        if s.learner_id != learner_id and s.submitted and s.shared_at is not None
    )


def grading_of(challenge: ChallengeDef, sub: Submission, photo: StoredPhoto | None) -> Grading:
    """The member's self-assessment after the reveal, filled in as far as they went."""
    n = len(challenge.rubric)
    grades = tuple(sub.grades[r] if r < len(sub.grades) else None for r in range(n))
    return Grading(
        token=sub.token,
        reference=reference_text(challenge),
        reference_image=CardImage.of(challenge.image),
        answer=sub.text,
        answer_photo=photo,
        checkpoints=challenge.checkpoints,
        rows=tuple(row.text for row in challenge.rubric),
        grades=grades,
        checks=sub.checks,
        assessed=sub.assessed_at is not None,
    )


def review_action(payload: str) -> Action:
    """The review button a payload names.

    Raises:
        BadRequest: a payload of another kind (or none of ours).
    """
    try:
        action = decode(payload)
    except BadPayload:
        raise BadRequest(NOT_A_REVIEW_BUTTON) from None
    if not isinstance(action, Action) or action.kind not in REVIEW_KINDS:
        raise BadRequest(NOT_A_REVIEW_BUTTON)
    return action


#: What the stats page reads in one unit of work: the learner (None: gone), due times,
#: the review log of the last weeks, and the log a fit reads.
_StatsRead = tuple[
    Learner | None, list[datetime], list[ReviewEntry], list[tuple[str, datetime, int]]
]


class WorkspaceService:
    """The browser workspace, for the web adapter: one awaited call per request.

    Args:
        basics: the database, clock, tokens and enrolment every service runs on.
        policy: ``[web]``'s keys and lifetimes.
        challenges: answers, photos and self-assessments go through it.
        study: the review page's next card.
        inputs: the review page's buttons.
        catalog: the challenges (prompt, reference, rubric).
    """

    def __init__(
        self,
        basics: Basics,
        policy: WebPolicy,
        *,
        challenges: ChallengeService,
        study: StudyService,
        inputs: Inputs,
        catalog: ChallengeCatalog,
    ) -> None:
        self.db = basics.db
        self.clock = basics.clock
        self.enrolment = basics.enrolment
        self.policy = policy
        self.challenges = challenges
        self.study = study
        self.inputs = inputs
        self.catalog = catalog

    # ------------------------------------------------------------------ sessions

    async def login_telegram(self, raw_init_data: str, cookie: str = "") -> Login:
        """Sign in with a Mini App's ``initData`` (scope ``*``), enrolling a new learner
        as a first message in the chat does.

        ``initData`` used before is a replay, except from the browser it signed in: when
        ``cookie`` (the request's session cookie, "" for none) names a live ``*`` session
        of the same Telegram user, that session is returned as it is and none is opened.
        Telegram Web's "Reload Page" opens the Mini App's first address again, with the
        same ``initData``.

        Raises:
            LoginRefused: forged, expired, malformed, or used before (replayed).
        """
        token = self.policy.telegram_token
        if not token:
            raise LoginRefused("forged")  # no token to check it with: nothing can be verified
        now = self.clock.now()
        max_age = self.policy.init_data_max_age
        login = check_init_data(raw_init_data, token, now, max_age)
        who = Who(TELEGRAM, login.user_id, login.display_name)

        # Kept as long as the data would pass the age check: until auth_date + max_age
        # (an auth_date a little in the future, within the clock skew, included).
        kept_until = max(now, login.auth_date) + max_age

        def work(tx: Tx) -> Login:
            if not tx.web.use_once(login.once_key, kept_until):
                kept = self._kept(tx, cookie, who, now)
                if kept is None:
                    raise LoginRefused("replayed")
                return kept
            learner = get_or_create_learner(tx, who, self.enrolment, now)
            return self._open(tx, learner, ANY, now)

        return await self.db.run(work)

    @staticmethod
    def _kept(tx: Tx, cookie: str, who: Who, now: datetime) -> Login | None:
        """The live ``*`` session ``cookie`` names, as a :class:`Login`, when its learner
        is ``who``; else None."""
        session = tx.web.session(digest(cookie), now) if cookie else None
        if session is None or session.scope != ANY:
            return None
        learner = tx.learners.get_by_id(session.learner_id)
        if learner is None or (learner.platform, learner.platform_user_id) != (
            who.platform,
            who.user_id,
        ):
            return None
        return Login(cookie, session.csrf, learner.display_name, ANY, session.expires_at)

    async def login_link(self, token: str) -> Login:
        """Sign in with a one-time link (scope: its purpose).

        Raises:
            LoginRefused: forged, expired, malformed, or used before (replayed).
        """
        now = self.clock.now()
        claims = read_link(self.policy.link_key, token, now)

        def work(tx: Tx) -> Login:
            if not tx.web.use_once(digest(claims.nonce), claims.expires_at):
                raise LoginRefused("replayed")
            learner = tx.learners.get_by_id(claims.learner_id)
            if learner is None or account_of(learner) != claims.account:
                # The learner is gone (/forget), or their id now names someone else.
                raise LoginRefused("malformed")
            return self._open(tx, learner, claims.purpose, now)

        return await self.db.run(work)

    def _open(self, tx: Tx, learner: Learner, scope: str, now: datetime) -> Login:
        cookie = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        expires = now + self.policy.session_life
        tx.web.add_session(WebSession(digest(cookie), learner.id, csrf, scope, now, expires))
        return Login(cookie, csrf, learner.display_name, scope, expires)

    async def session(self, cookie: str) -> WebSession | None:
        """The live session a cookie value names (None: none, or expired)."""
        if not cookie:
            return None
        now = self.clock.now()
        return await self.db.run(lambda tx: tx.web.session(digest(cookie), now))

    async def signed_in(self, cookie: str) -> tuple[WebSession, str] | None:
        """The live session a cookie value names and its learner's display name (for
        the page: "Signed in as ..." after a reload); None: none, expired, or gone."""
        if not cookie:
            return None
        now = self.clock.now()

        def work(tx: Tx) -> tuple[WebSession, str] | None:
            session = tx.web.session(digest(cookie), now)
            learner = tx.learners.get_by_id(session.learner_id) if session else None
            if session is None or learner is None:
                return None
            return session, learner.display_name

        return await self.db.run(work)

    async def link(self, who: Who, purpose: str) -> str:
        """A one-time link to the workspace for ``who`` (enrolled if new), opening
        ``purpose``: ``{public_url}/app?open=<purpose>#link=<token>``, working once
        within ``[web] link_minutes``.

        Raises:
            ValueError: ``purpose`` is none the workspace knows.
        """
        purpose = check_purpose(purpose)
        now = self.clock.now()
        learner = await self.db.run(lambda tx: get_or_create_learner(tx, who, self.enrolment, now))
        expires = now + self.policy.link_life
        claims = LinkClaims(learner.id, purpose, expires, new_nonce(), account_of(learner))
        token = sign_link(self.policy.link_key, claims)
        return f"{self.policy.public_url}/app?open={quote(purpose, safe=':')}#link={token}"

    # ------------------------------------------------------------------ the one check

    @staticmethod
    def _enter(session: WebSession, purpose: str) -> None:
        """Let ``session`` open ``purpose``, or refuse.

        Raises:
            OutOfScope: its scope does not reach ``purpose``.
        """
        if not allows(session.scope, purpose):
            raise OutOfScope()

    @staticmethod
    def _membership(
        tx: Tx, session: WebSession, run_token: str
    ) -> tuple[ChallengeRun, Submission, Learner] | None:
        """The run, the session's learner's part in it and the learner; None unless they
        joined it (or ``run_token`` could name no run: it is looked up only when it is
        1-64 characters from A-Z, a-z, 0-9, _ and -)."""
        if not RUN_TOKEN.fullmatch(run_token):
            return None
        run = tx.challenges.run_by_token(run_token)
        if run is None:
            return None
        sub = tx.challenges.submission(run.id, session.learner_id)
        learner = tx.learners.get_by_id(session.learner_id)
        if sub is None or learner is None:
            return None
        return run, sub, learner

    async def _member(
        self, session: WebSession, run_token: str
    ) -> tuple[ChallengeRun, Submission, Who] | None:
        """The scope check, then the membership (None: not a member of the run)."""
        self._enter(session, challenge_purpose(run_token))

        def work(tx: Tx) -> tuple[ChallengeRun, Submission, Who] | None:
            found = self._membership(tx, session, run_token)
            if found is None:
                return None
            run, sub, learner = found
            return run, sub, as_who(learner)

        return await self.db.run(work)

    # ------------------------------------------------------------------ challenge

    async def challenge(self, session: WebSession, run_token: str) -> ChallengePage | None:
        """The challenge page for a member of the run (None: not a member).

        Raises:
            OutOfScope: the session may not open this run.
        """
        self._enter(session, challenge_purpose(run_token))
        now = self.clock.now()
        catalog = self.catalog

        def work(tx: Tx) -> ChallengePage | None:
            found = self._membership(tx, session, run_token)
            if found is None:
                return None
            run, sub, _learner = found
            challenge = catalog.get(run.challenge_id)
            info = RunInfo(
                token=run.token,
                title=challenge.title if challenge else run.challenge_id,
                kind=challenge.kind if challenge else "derivation",
                prompt=challenge.prompt if challenge else "",
                state=run_state(run),
                deadline=run.deadline,
                now=now,
            )
            draft = tx.web.draft(session.learner_id, challenge_purpose(run.token))
            grading: Grading | None = None
            others: tuple[OtherAnswer, ...] = ()
            if run.revealed_at is not None and challenge is not None:
                if sub.submitted:
                    photo = tx.challenges.photo(run.id, sub.learner_id) if sub.photo_ref else None
                    grading = grading_of(challenge, sub, photo)
                others = others_of(tx.challenges.submissions(run.id), session.learner_id)
            return ChallengePage(info, draft, submission_info(sub), grading, others)

        return await self.db.run(work)

    async def save_draft(self, session: WebSession, run_token: str, text: str) -> datetime | None:
        """Keep what the member wrote so far; returns when (None: not a member).

        Raises:
            OutOfScope: the session may not open this run.
            BadRequest: longer than :data:`MAX_DRAFT` characters.
        """
        self._enter(session, challenge_purpose(run_token))
        if len(text) > MAX_DRAFT:
            raise BadRequest(DRAFT_TOO_LONG)
        now = self.clock.now()

        def work(tx: Tx) -> datetime | None:
            found = self._membership(tx, session, run_token)
            if found is None:
                return None
            key = challenge_purpose(found[0].token)
            tx.web.save_draft(Draft(session.learner_id, key, text, now))
            return now

        return await self.db.run(work)

    async def answer(self, session: WebSession, run_token: str, text: str) -> Outcome | None:
        """A text answer, down the chat's path (``ChallengeService.submit``); None: not
        a member.

        Raises:
            OutOfScope: the session may not open this run.
        """
        found = await self._member(session, run_token)
        if found is None:
            return None
        return await self.challenges.submit(found[2], text, run_token=run_token)

    async def photo(self, session: WebSession, run_token: str, data: bytes) -> Outcome | None:
        """A photo answer whose bytes are in hand, down the chat's path (its size and
        image checks included); None: not a member.

        Raises:
            OutOfScope: the session may not open this run.
        """
        found = await self._member(session, run_token)
        if found is None:
            return None

        async def fetch() -> bytes:
            return data

        sent = SentPhoto(size=len(data), fetch=fetch, ref=WEB_PHOTO_REF)
        return await self.challenges.submit(found[2], None, sent, run_token=run_token)

    async def assess(
        self,
        session: WebSession,
        run_token: str,
        grades: Sequence[int | None],
        checks: Sequence[int],
    ) -> Outcome | None:
        """The self-assessment, one grade per rubric row (None: not rated), through the
        chat's ``ChallengeService.assess`` with the member's own submission token: the
        same FSRS reviews. None: not a member.

        Raises:
            OutOfScope: the session may not open this run.
        """
        found = await self._member(session, run_token)
        if found is None:
            return None
        _run, sub, who = found
        pairs = [(row, grade) for row, grade in enumerate(grades) if grade is not None]
        return await self.challenges.assess(who, sub.token, pairs, checks)

    async def share(self, session: WebSession, run_token: str) -> Outcome | None:
        """Share the member's answer with the group after the reveal (the chat's "Share
        my answer"); None: not a member.

        Raises:
            OutOfScope: the session may not open this run.
        """
        found = await self._member(session, run_token)
        if found is None:
            return None
        _run, sub, who = found
        return await self.challenges.press(who, "share", sub.token, None)

    # ------------------------------------------------------------------ review

    async def _learner(self, session: WebSession) -> Who:
        learner = await self.db.run(lambda tx: tx.learners.get_by_id(session.learner_id))
        if learner is None:  # forgotten (/forget) since the session began
            raise OutOfScope(GONE_LEARNER)
        return as_who(learner)

    async def review(self, session: WebSession) -> Outcome:
        """The next card or the day's summary (``StudyService.next``).

        Raises:
            OutOfScope: the session may not open the review page.
        """
        self._enter(session, REVIEW_WORKSPACE)
        return await self.study.next(await self._learner(session))

    async def press(
        self, session: WebSession, payload: str, typed_answer: str | None = None
    ) -> Outcome:
        """A review button (Show answer, a rating, bury, suspend), through ``Inputs.press``.

        Raises:
            OutOfScope: the session may not open the review page.
            BadRequest: a payload of another kind.
        """
        self._enter(session, REVIEW_WORKSPACE)
        review_action(payload)
        who = await self._learner(session)
        return await self.inputs.press(who, payload, typed_answer=typed_answer)

    # ------------------------------------------------------------------ stats

    async def stats(self, session: WebSession) -> StatsPage:
        """The learner's forecast, weekly retention, calibration and workload.

        Raises:
            OutOfScope: the session may not open the stats page.
        """
        self._enter(session, STATS_WORKSPACE)
        now = self.clock.now()
        since = now - timedelta(weeks=RETENTION_WEEKS + 1)

        def work(tx: Tx) -> _StatsRead:
            learner = tx.learners.get_by_id(session.learner_id)
            if learner is None:
                return None, [], [], []
            until = now + timedelta(days=FORECAST_DAYS + 2)
            return (
                learner,
                tx.schedule.due_times(learner.id, until),
                tx.reviews.all_for(learner.id, since=since),
                tx.models.log(learner.id),
            )

        learner, due, entries, log = await self.db.run(work)
        if learner is None:
            raise OutOfScope(GONE_LEARNER)
        tz = learner.settings.timezone
        calibration = await asyncio.to_thread(calibrate, log, learner.settings.fsrs_parameters)
        return StatsPage(
            target=learner.settings.desired_retention,
            forecast=tuple(forecast_days(due_forecast(due, now, tz, FORECAST_DAYS), now, tz)),
            retention=tuple(weekly_retention(entries, now, tz)),
            calibration=calibration.bins,
            workload=tuple(daily_workload(entries, now, tz, WORKLOAD_DAYS)),
        )
