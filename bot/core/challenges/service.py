"""Challenges for adapters and timers: one awaited call per action, one outcome back."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from bot.core.actions import ActionKind
from bot.core.challenges import assessment, groups, runs, schedules
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.challenges.photos import (
    NOT_AN_IMAGE,
    PhotoLimits,
    SentPhoto,
    StoredPhoto,
    image_mime,
    too_large,
)
from bot.core.learners import AfterCommit, AnnouncingService, Basics, Who, get_or_create_learner
from bot.core.messages import Reply
from bot.core.model import ChallengeRun, Learner
from bot.core.outcomes import Outcome, send
from bot.core.ports import Announcer, Tx
from bot.text.excerpt import excerpt

#: A revealed run whose members have not all assessed gets its summary this much later.
SUMMARY_AFTER = timedelta(minutes=30)
#: A private message this long after the reveal of a run the member joined is a late
#: answer, told that time is up (later, it is any other message).
LATE_ANSWERS = timedelta(hours=1)


class ChallengeService(AnnouncingService):
    """Group challenges. ``is_admin`` is the platform's word on the member.

    Args:
        catalog: the challenges loaded from the challenge files.
        photos: how much of members' photo answers is kept (:mod:`.photos`).
    """

    def __init__(
        self,
        basics: Basics,
        announcer: Announcer,
        catalog: ChallengeCatalog,
        photos: PhotoLimits | None = None,
    ) -> None:
        super().__init__(basics, announcer)
        self.catalog = catalog
        self.photos = photos or PhotoLimits()
        #: Groups that never set a time zone use the one new learners get.
        self.default_tz = basics.enrolment.settings.timezone

    def list_all(self) -> Outcome:
        """Every challenge (for the member who asked)."""
        return send(groups.list_challenges(self.catalog), to="ephemeral")

    def _unknown(self, challenge_id: str) -> Outcome:
        ids = ", ".join(self.catalog.challenges) or "none"
        text = f"I don't know the challenge “{excerpt(challenge_id)}”. Challenges: {ids}."
        return send(Reply("error", text), to="ephemeral")

    async def start(
        self, who: Who, chat_id: str, challenge_id: str, minutes: int | None, is_admin: bool
    ) -> Outcome:
        """Start a challenge in a group; its deadline is found by the challenge timer."""
        challenge = self.catalog.get(challenge_id)
        if challenge is None:
            return self._unknown(challenge_id)
        token = self.tokens()
        tz = self.default_tz
        return await self._run(
            who,
            lambda tx, lr, now: runs.start(
                tx, lr, chat_id, challenge, minutes, is_admin, now, token, tz
            ),
        )

    async def join(self, who: Who, run_token: str) -> Outcome:
        """A member takes part (the challenge post's button, or a deep link)."""
        token = self.tokens()
        name = who.display_name or who.user_id
        enrolment = self.enrolment
        now = self.clock.now()

        def work(tx: Tx) -> Outcome:
            known = tx.learners.get(who.platform, who.user_id)
            # A member the bot could not write to is asked again when they tap again.
            asked = known is not None and not known.unreachable
            member = get_or_create_learner(tx, who, enrolment, now)
            return runs.join(tx, member, run_token, now, token, name, asked=asked)

        return await self.db.run(work)

    async def submit(
        self,
        who: Who,
        text: str | None = None,
        photo: SentPhoto | None = None,
        *,
        run_token: str | None = None,
        chat_id: str | None = None,
    ) -> Outcome:
        """An answer: to the run named by ``run_token`` (a form), or the one open in
        ``chat_id`` (joining it), else to the newest run the member joined.

        A ``photo`` is downloaded only when it can be kept (see :meth:`_download`).
        """
        token = self.tokens()
        name = who.display_name or who.user_id

        def find(tx: Tx, lr: Learner | None) -> ChallengeRun | None:
            if run_token:
                return tx.challenges.run_by_token(run_token)
            if chat_id is not None:
                return tx.challenges.open_run(who.platform, chat_id)
            return tx.challenges.joined_open_run(lr.id) if lr is not None else None

        stored: StoredPhoto | None = None
        if photo is not None:
            run = await self.db.run(lambda tx: find(tx, tx.learners.get(who.platform, who.user_id)))
            got = await self._download(photo, run, self.clock.now())
            if isinstance(got, Reply):
                return send(got, to="private")
            stored = got
        limits = self.photos
        ref = photo.ref if photo is not None else None

        def work(tx: Tx, lr: Learner, now: datetime) -> Outcome:
            run = find(tx, lr)
            return runs.submit(
                tx, lr, run, text, ref, now, token, name, stored=stored, limits=limits
            )

        return await self._run(who, work)

    async def answer(
        self, who: Who, text: str | None, photo: SentPhoto | None = None
    ) -> Outcome | None:
        """A private message from a member who joined an open run: their answer to it.

        Returns None, having changed nothing, when they joined none (or are not a learner).
        A ``photo`` is downloaded only when it answers an open run (see :meth:`_download`).
        """
        now = self.clock.now()

        def find(tx: Tx) -> ChallengeRun | None:
            known = tx.learners.get(who.platform, who.user_id)
            if known is None:
                return None
            run = tx.challenges.joined_open_run(known.id, now - LATE_ANSWERS)
            if run is None:
                return None
            if not run.open:
                mine = tx.challenges.submission(run.id, known.id)
                if mine is None or mine.assessed_at is not None:
                    return None  # they have moved on since the reveal
                if tx.questions.pending(known.id, now) is not None:
                    return None  # the message answers the question open since
            return run

        return await self._answer_found(who, find, now, text, photo)

    async def _answer_found(
        self,
        who: Who,
        find: Callable[[Tx], ChallengeRun | None],
        now: datetime,
        text: str | None,
        photo: SentPhoto | None,
    ) -> Outcome | None:
        """A member's answer to the run ``find`` names (None: not an answer; nothing is
        changed): a photo is first checked and downloaded outside any unit of work, only
        while that run is open; then the answer is stored, in one unit of work that finds
        the run again."""
        token = self.tokens()
        name = who.display_name or who.user_id
        enrolment = self.enrolment
        stored: StoredPhoto | None = None
        if photo is not None:
            found = await self.db.run(find)
            if found is None:
                return None
            got = await self._download(photo, found, now)
            if isinstance(got, Reply):
                return send(got, to="private")
            stored = got
        limits = self.photos
        ref = photo.ref if photo is not None else None

        def work(tx: Tx) -> Outcome | None:
            run = find(tx)
            if run is None:
                return None
            member = get_or_create_learner(tx, who, enrolment, now)  # contact: reachable again
            return runs.submit(
                tx, member, run, text, ref, now, token, name, stored=stored, limits=limits
            )

        return await self.db.run(work)

    async def _download(
        self, photo: SentPhoto, run: ChallengeRun | None, now: datetime
    ) -> StoredPhoto | Reply | None:
        """A photo answer's bytes, or why it is refused: over the size limit (said
        before anything is downloaded, from the size the platform declares), or not an
        image. None, with nothing downloaded, when ``run`` takes no answer now (the
        submit says why). A download that fails raises the adapter's own error."""
        if run is None or not runs.takes_answers(run, now):
            return None
        limits = self.photos
        if photo.size > limits.max_bytes:
            return Reply("error", too_large(photo.size, limits))
        data = await photo.fetch()
        if len(data) > limits.max_bytes:  # the platform's word was wrong
            return Reply("error", too_large(len(data), limits))
        mime = image_mime(data)
        if mime is None:
            return Reply("error", NOT_AN_IMAGE)
        return StoredPhoto(data, mime)

    async def posted_in_group(
        self,
        who: Who,
        chat_id: str,
        text: str | None = None,
        photo: SentPhoto | None = None,
        *,
        to_bot: bool = False,
    ) -> Outcome | None:
        """A message in a group from a member who joined the challenge running there and
        has not answered yet: most likely their answer, in the wrong place. They are
        told where answers go (the message itself is not kept: the group has seen it).

        With ``to_bot`` the message was addressed to the bot alone (a reply to the request
        for their answer that only they could see, :attr:`AnswerForm.here`): from a member
        who joined the run open there (or revealed within :data:`LATE_ANSWERS`), it is
        their answer, stored (or refused as late) as a private one is; the outcome is for
        the member alone.

        Returns None, having changed nothing, for anyone else.
        """
        if to_bot:
            return await self._answered_here(who, chat_id, text, photo)

        def work(tx: Tx) -> Outcome | None:
            run = tx.challenges.open_run(who.platform, chat_id)
            if run is None:
                return None
            known = tx.learners.get(who.platform, who.user_id)
            mine = tx.challenges.submission(run.id, known.id) if known is not None else None
            if mine is None or mine.submitted:
                return None
            name = who.display_name or mine.display_name
            return send(Reply("info", runs.ANSWER_PRIVATELY.format(name=name)), to="chat")

        return await self.db.run(work)

    async def _answered_here(
        self, who: Who, chat_id: str, text: str | None, photo: SentPhoto | None
    ) -> Outcome | None:
        now = self.clock.now()

        def find(tx: Tx) -> ChallengeRun | None:
            known = tx.learners.get(who.platform, who.user_id)
            if known is None:
                return None
            run = tx.challenges.open_run(who.platform, chat_id)
            if run is None:  # revealed since they were asked: told that time is up
                run = tx.challenges.joined_open_run(known.id, now - LATE_ANSWERS)
                if run is None or run.chat_id != chat_id:
                    return None
            if tx.challenges.submission(run.id, known.id) is None:
                return None  # not asked: none of the bot's business
            return run

        return await self._answer_found(who, find, now, text, photo)

    async def status(self, who: Who, chat_id: str) -> Outcome:
        tz = self.default_tz
        return await self._run(
            who, lambda tx, lr, now: runs.status(tx, who.platform, chat_id, now, tz)
        )

    async def cancel(self, who: Who, chat_id: str, is_admin: bool) -> Outcome:
        tz = self.default_tz
        return await self._run(
            who, lambda tx, lr, now: runs.cancel(tx, lr, chat_id, is_admin, now, tz)
        )

    async def reveal(self, who: Who, chat_id: str, is_admin: bool) -> Outcome:
        """Reveal early; the reference and the self-assessments are posted."""
        tz, catalog = self.default_tz, self.catalog
        return await self._posting(
            who,
            lambda tx, lr, now, then: runs.reveal_early(
                tx, lr, chat_id, is_admin, now, catalog, tz, then.posts
            ),
        )

    async def press(self, who: Who, kind: ActionKind, token: str, arg: int | None) -> Outcome:
        """A self-assessment button: ``check``, ``grade``, ``showname``, ``share``, ``assessed``."""
        catalog = self.catalog
        return await self._posting(
            who,
            lambda tx, lr, now, then: assessment.press(
                tx, lr, kind, token, arg, now, catalog, then
            ),
        )

    async def open_form(self, who: Who, token: str, start: int | None = None) -> Outcome:
        """ "Rate every row": the member's self-assessment as one form (its
        :attr:`~bot.core.outcomes.Outcome.assessment`), opening at row ``start``."""
        catalog = self.catalog
        return await self._run(
            who, lambda tx, lr, now: assessment.open_form(tx, lr, token, start, catalog)
        )

    async def assess(
        self,
        who: Who,
        token: str,
        grades: Sequence[tuple[int, int]],
        checks: Sequence[int] | None = None,
    ) -> Outcome:
        """A submitted self-assessment form: ``(row, grade)`` pairs (0-based rows, grades
        1-3) and the ticked checkpoints (None: the form had none), in one call; applied to
        the member's cards as the buttons' "Apply" does once every row is rated."""
        catalog = self.catalog
        return await self._posting(
            who,
            lambda tx, lr, now, then: assessment.assess(
                tx, lr, token, grades, checks, now, catalog, then
            ),
        )

    async def schedule(
        self, who: Who, chat_id: str, challenge_id: str, weekday: str, at: str, is_admin: bool
    ) -> Outcome:
        challenge = self.catalog.get(challenge_id)
        if challenge is None:
            text = f"I don't know the challenge “{excerpt(challenge_id)}”."
            return send(Reply("error", text), to="ephemeral")
        tz = self.default_tz
        return await self._run(
            who,
            lambda tx, lr, now: runs.in_group(
                schedules.set_schedule(tx, lr, chat_id, challenge, weekday, at, is_admin, now, tz)
            ),
        )

    async def unschedule(
        self, who: Who, chat_id: str, challenge_id: str | None, is_admin: bool
    ) -> Outcome:
        tz = self.default_tz
        return await self._run(
            who,
            lambda tx, lr, now: runs.in_group(
                schedules.unschedule(tx, lr, chat_id, challenge_id, is_admin, tz)
            ),
        )

    async def configure(
        self, who: Who, chat_id: str, key: str, value: str, is_admin: bool
    ) -> Outcome:
        """``/challenge timezone`` and ``/challenge permissions`` (admins only)."""
        tz = self.default_tz
        return await self._run(
            who,
            lambda tx, lr, now: runs.in_group(
                groups.set_group(tx, lr, chat_id, key, value, is_admin, tz)
            ),
        )

    # ------------------------------------------------------------------ timers

    async def reveal_overdue(self) -> int:
        """Reveal every run whose deadline has passed (each once); returns how many."""
        catalog = self.catalog
        return await self._sweep(
            lambda tx, now, then: runs.reveal_overdue(tx, now, catalog, then.posts)
        )

    async def sweep(self) -> int:
        """Reveal overdue runs, start due weekly challenges, post late summaries.

        Returns how many announcements were posted.
        """
        catalog, tokens = self.catalog, self.tokens

        def work(tx: Tx, now: datetime, then: AfterCommit) -> int:
            posts = then.posts
            # Overdue runs first, so last week's unrevealed run does not block this week's.
            runs.reveal_overdue(tx, now, catalog, posts)
            posts.extend(schedules.fire_schedules(tx, now, catalog, tokens))
            posts.extend(assessment.summarize_late(tx, now, now - SUMMARY_AFTER, catalog))
            return len(posts)

        return await self._sweep(work)

    async def next_deadline(self) -> datetime | None:
        """When the earliest open run is due to be revealed (None: no run is open)."""
        return await self.db.run(lambda tx: tx.challenges.next_deadline())
