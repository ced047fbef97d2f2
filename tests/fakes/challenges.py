"""Group challenges, as ``bot.storage.challenges.SqlChallenges`` keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time

from bot.core.challenges.photos import StoredPhoto
from bot.core.model import ChallengeRun, ChallengeSchedule, GroupSettings, Submission
from tests.fakes.store import FakeStore, utc


def _grades_round_trip(grades: Sequence[int | None]) -> tuple[int | None, ...]:
    """Grades as the SQL column stores and reads them back ("3,,1"; "" is no grades)."""
    text = ",".join("" if g is None else str(g) for g in grades)
    return tuple(int(x) if x else None for x in text.split(",")) if text else ()


def _checks_round_trip(checks: Sequence[int]) -> tuple[int, ...]:
    """Checkpoint indexes as the SQL column stores and reads them back ("0,2,3")."""
    text = ",".join(str(c) for c in checks)
    return tuple(int(x) for x in text.split(",") if x)


_RUN_ONCE_FIELDS = ("revealed_at", "cancelled_at", "summary_at")
_RUN_NOT_NULL_FIELDS = ("started_at", "deadline")


class FakeChallenges:
    """Challenge runs, submissions, group settings and weekly schedules, as ``SqlChallenges``.

    ``open_run`` is the newest run of a chat neither revealed nor cancelled;
    ``set_run`` sets a column once; submissions are upserted by ``(run_id,
    learner_id)`` and listed by ``(joined_at, learner_id)``.
    """

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _runs_in(self, platform: str, chat_id: str) -> list[ChallengeRun]:
        return [
            r for r in self.store.runs.values() if r.platform == platform and r.chat_id == chat_id
        ]

    def open_run(self, platform: str, chat_id: str) -> ChallengeRun | None:
        runs = [r for r in self._runs_in(platform, chat_id) if r.open]
        return max(runs, key=lambda r: (r.started_at, r.id)) if runs else None

    def latest_run(self, platform: str, chat_id: str) -> ChallengeRun | None:
        runs = self._runs_in(platform, chat_id)
        return max(runs, key=lambda r: (r.started_at, r.id)) if runs else None

    def add_run(self, run: ChallengeRun) -> ChallengeRun:
        utc(run.started_at, "ChallengeRun.started_at")
        utc(run.deadline, "ChallengeRun.deadline")
        if any(r.token == run.token for r in self.store.runs.values()):
            raise ValueError(f"duplicate run token {run.token!r} (unique constraint)")
        if run.started_by is not None and run.started_by not in self.store.learners:
            raise ValueError(f"no learner {run.started_by} (foreign key)")
        # Like the SQL insert: revealed_at, cancelled_at and summary_at start NULL.
        stored = replace(
            run, id=self.store.next_run_id, revealed_at=None, cancelled_at=None, summary_at=None
        )
        self.store.next_run_id += 1
        self.store.runs[stored.id] = stored
        return stored

    def run_by_token(self, token: str) -> ChallengeRun | None:
        return next((r for r in self.store.runs.values() if r.token == token), None)

    def run_by_id(self, run_id: int) -> ChallengeRun | None:
        return self.store.runs.get(run_id)

    def set_run(self, run_id: int, field: str, now: datetime) -> bool:
        """Set revealed_at, cancelled_at or summary_at once; False if it was already set."""
        utc(now)
        if field in _RUN_NOT_NULL_FIELDS:
            return False  # NOT NULL columns are never NULL: the UPDATE matches no row
        if field not in _RUN_ONCE_FIELDS:
            raise KeyError(field)  # like challenge_runs.c[field]
        run = self.store.runs.get(run_id)
        if run is None or getattr(run, field) is not None:
            return False
        if field == "revealed_at":
            run = replace(run, revealed_at=now)
        elif field == "cancelled_at":
            run = replace(run, cancelled_at=now)
        else:
            run = replace(run, summary_at=now)
        self.store.runs[run_id] = run
        return True

    def due_reveals(self, now: datetime) -> list[ChallengeRun]:
        utc(now)
        runs = [r for r in self.store.runs.values() if r.open and r.deadline <= now]
        runs.sort(key=lambda r: (r.deadline, r.id))
        return runs[:100]

    def next_deadline(self) -> datetime | None:
        """The earliest deadline of an open run (neither revealed nor cancelled)."""
        return min((r.deadline for r in self.store.runs.values() if r.open), default=None)

    def due_summaries(self, revealed_before: datetime) -> list[ChallengeRun]:
        utc(revealed_before)
        runs = [
            r
            for r in self.store.runs.values()
            if r.revealed_at is not None
            and r.revealed_at <= revealed_before
            and r.summary_at is None
        ]
        runs.sort(key=lambda r: (r.revealed_at, r.id))
        return runs[:100]

    def submissions(self, run_id: int) -> list[Submission]:
        return sorted(
            (s for (rid, _), s in self.store.submissions.items() if rid == run_id),
            key=lambda s: (s.joined_at, s.learner_id),
        )

    def submission(self, run_id: int, learner_id: int) -> Submission | None:
        return self.store.submissions.get((run_id, learner_id))

    def submission_by_token(self, token: str) -> Submission | None:
        return next((s for s in self.store.submissions.values() if s.token == token), None)

    def save_submission(self, sub: Submission) -> None:
        """Upsert by ``(run_id, learner_id)``, storing what the SQL columns hold."""
        utc(sub.joined_at, "Submission.joined_at")
        utc(sub.submitted_at, "Submission.submitted_at")
        utc(sub.assessed_at, "Submission.assessed_at")
        utc(sub.shared_at, "Submission.shared_at")
        key = (sub.run_id, sub.learner_id)
        if sub.run_id not in self.store.runs:
            raise ValueError(f"no challenge run {sub.run_id} (foreign key)")
        if sub.learner_id not in self.store.learners:
            raise ValueError(f"no learner {sub.learner_id} (foreign key)")
        if any(k != key and s.token == sub.token for k, s in self.store.submissions.items()):
            raise ValueError(f"duplicate submission token {sub.token!r} (unique constraint)")
        stored = self.store.submissions.get(key)
        self.store.submissions[key] = replace(
            sub,
            assessed_at=stored.assessed_at if stored and stored.assessed_at else sub.assessed_at,
            display_name=sub.display_name[:128],
            grades=_grades_round_trip(sub.grades),
            checks=_checks_round_trip(sub.checks),
        )

    def add_submission(self, sub: Submission) -> bool:
        if (sub.run_id, sub.learner_id) in self.store.submissions:
            return False
        self.save_submission(sub)
        return True

    def claim_assessment(self, run_id: int, learner_id: int, now: datetime) -> bool:
        utc(now)
        sub = self.store.submissions.get((run_id, learner_id))
        if sub is None or sub.assessed_at is not None:
            return False
        self.store.submissions[(run_id, learner_id)] = replace(sub, assessed_at=now)
        return True

    def joined_open_run(
        self, learner_id: int, revealed_since: datetime | None = None
    ) -> ChallengeRun | None:
        """The newest open run the learner joined (by their ``joined_at``); with
        ``revealed_since``, also one revealed since then."""
        utc(revealed_since)
        best: tuple[datetime, ChallengeRun] | None = None
        for (run_id, lid), sub in self.store.submissions.items():
            run = self.store.runs.get(run_id)
            if lid != learner_id or run is None or run.cancelled_at is not None:
                continue
            if run.revealed_at is not None and (
                revealed_since is None or run.revealed_at < revealed_since
            ):
                continue
            if best is None or sub.joined_at > best[0]:
                best = (sub.joined_at, run)
        return best[1] if best else None

    def group(self, platform: str, chat_id: str) -> GroupSettings | None:
        return self.store.groups.get((platform, chat_id))

    def save_group(self, settings: GroupSettings) -> None:
        self.store.groups[(settings.platform, settings.chat_id)] = settings

    def schedules(self, platform: str, chat_id: str) -> list[ChallengeSchedule]:
        return [
            s
            for _, s in sorted(self.store.schedules.items())
            if s.platform == platform and s.chat_id == chat_id
        ]

    def add_schedule(self, s: ChallengeSchedule) -> ChallengeSchedule:
        utc(s.next_run_at, "ChallengeSchedule.next_run_at")
        # The time is stored as "HH:MM".
        at = time(s.at.hour, s.at.minute)
        stored = replace(s, id=self.store.next_schedule_id, at=at)
        self.store.next_schedule_id += 1
        self.store.schedules[stored.id] = stored
        return stored

    def delete_schedules(self, platform: str, chat_id: str, challenge_id: str | None) -> int:
        gone = [
            k
            for k, s in self.store.schedules.items()
            if s.platform == platform
            and s.chat_id == chat_id
            and (challenge_id is None or s.challenge_id == challenge_id)
        ]
        for k in gone:
            del self.store.schedules[k]
        return len(gone)

    def claim_schedules(self, now: datetime, limit: int) -> list[ChallengeSchedule]:
        utc(now)
        due = [
            s
            for s in self.store.schedules.values()
            if s.next_run_at is not None and s.next_run_at <= now
        ]
        due.sort(key=lambda s: (s.next_run_at, s.id))
        return due[:limit]

    def set_schedule_next(self, schedule_id: int, when: datetime | None) -> None:
        utc(when)
        s = self.store.schedules.get(schedule_id)
        if s is not None:
            self.store.schedules[schedule_id] = replace(s, next_run_at=when)

    # ------------------------------------------------------------------ photo answers

    def save_photo(self, run_id: int, learner_id: int, photo: StoredPhoto, now: datetime) -> None:
        utc(now)
        if (run_id, learner_id) not in self.store.submissions:
            raise ValueError(f"no submission ({run_id}, {learner_id}) (foreign key)")
        self.store.answer_photos[(run_id, learner_id)] = (photo, now)

    def drop_photo(self, run_id: int, learner_id: int) -> None:
        self.store.answer_photos.pop((run_id, learner_id), None)

    def photo(self, run_id: int, learner_id: int) -> StoredPhoto | None:
        found = self.store.answer_photos.get((run_id, learner_id))
        return found[0] if found else None

    def hold_photos(self, run_id: int) -> None:
        pass  # one unit of work at a time

    def photo_sizes(self, run_id: int) -> dict[int, int]:
        return {
            lid: photo.size
            for (rid, lid), (photo, _) in self.store.answer_photos.items()
            if rid == run_id
        }

    def _group_photos(self, platform: str, chat_id: str) -> list[tuple[ChallengeRun, int, int]]:
        """(run, learner id, size) of a group's stored photos."""
        out: list[tuple[ChallengeRun, int, int]] = []
        for (rid, lid), (photo, _) in self.store.answer_photos.items():
            run = self.store.runs[rid]
            if run.platform == platform and run.chat_id == chat_id:
                out.append((run, lid, photo.size))
        return out

    def group_photo_bytes(self, platform: str, chat_id: str) -> int:
        return sum(size for _, _, size in self._group_photos(platform, chat_id))

    def free_photos(self, platform: str, chat_id: str, need: int) -> int:
        finished = [p for p in self._group_photos(platform, chat_id) if not p[0].open]
        finished.sort(key=lambda p: (p[0].started_at, p[0].id, p[1]))
        freed = 0
        for run, lid, size in finished:
            if freed >= need:
                break
            self._drop(run.id, lid)
            freed += size
        return freed

    def prune_photos(self, finished_before: datetime) -> int:
        utc(finished_before)
        keys = []
        for rid, lid in self.store.answer_photos:
            run = self.store.runs[rid]
            ended = [t for t in (run.revealed_at, run.cancelled_at) if t is not None]
            if any(t < finished_before for t in ended):
                keys.append((rid, lid))
        for rid, lid in keys:
            self._drop(rid, lid)
        return len(keys)

    def _drop(self, run_id: int, learner_id: int) -> None:
        """A photo deleted with its answer's reference (as ``SqlChallenges._drop_photos``)."""
        self.store.answer_photos.pop((run_id, learner_id), None)
        sub = self.store.submissions.get((run_id, learner_id))
        if sub is not None:
            self.store.submissions[(run_id, learner_id)] = replace(sub, photo_ref=None)
