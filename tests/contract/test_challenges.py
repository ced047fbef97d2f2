"""Group challenges: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest

import bot.storage.challenges
from bot.core.challenges.photos import StoredPhoto
from bot.core.model import ChallengeRun, ChallengeSchedule, GroupSettings, Submission
from bot.core.ports import Database, Tx
from tests.contract.helpers import DAY, HOUR, T0, add_learner

MINUTE = timedelta(minutes=1)


def run(token: str, started: datetime, *, chat: str = "-1", minutes: int = 15) -> ChallengeRun:
    """A run in a chat, not yet stored (id 0)."""
    return ChallengeRun(
        0, token, "tg", chat, "refl-causal-mask", started, started + minutes * MINUTE
    )


def weekly(chat: str, challenge: str, next_run: datetime | None) -> ChallengeSchedule:
    """Mondays at 19:00 in New York, not yet stored (id 0)."""
    return ChallengeSchedule(0, "tg", chat, challenge, 0, time(19, 0), "America/New_York", next_run)


# --------------------------------------------------------------------------- runs


def set_run(run_id: int, field: str, when: datetime) -> Callable[[Tx], bool]:
    return lambda tx: tx.challenges.set_run(run_id, field, when)


def save_submission(sub: Submission) -> Callable[[Tx], None]:
    return lambda tx: tx.challenges.save_submission(sub)


async def test_a_run_is_stored_and_found(db: Database) -> None:
    ann = await add_learner(db)
    draft = ChallengeRun(
        0, "r0000001", "tg", "-1", "refl-scaled", T0, T0 + HOUR, ann.id, T0, T0, T0
    )
    stored = await db.run(lambda tx: tx.challenges.add_run(draft))
    # Only what starting a run sets is stored; the rest starts empty.
    assert stored.id > 0
    expected = ChallengeRun(stored.id, "r0000001", "tg", "-1", "refl-scaled", T0, T0 + HOUR, ann.id)
    assert await db.run(lambda tx: tx.challenges.run_by_token("r0000001")) == expected
    assert await db.run(lambda tx: tx.challenges.run_by_id(stored.id)) == expected
    assert await db.run(lambda tx: tx.challenges.run_by_token("r0000002")) is None
    assert await db.run(lambda tx: tx.challenges.run_by_id(stored.id + 1)) is None
    with pytest.raises(Exception, match=r"(?i)unique|duplicate"):
        await db.run(lambda tx: tx.challenges.add_run(draft))


async def test_open_and_latest_runs_of_a_chat(db: Database) -> None:
    def start(tx: Tx) -> list[ChallengeRun]:
        return [
            tx.challenges.add_run(run("r0000001", T0)),
            tx.challenges.add_run(run("r0000002", T0 + HOUR)),
            tx.challenges.add_run(run("r0000003", T0 + 2 * HOUR, chat="-2")),
        ]

    old, new, _ = await db.run(start)
    assert await db.run(lambda tx: tx.challenges.open_run("tg", "-1")) == new
    assert await db.run(lambda tx: tx.challenges.latest_run("tg", "-1")) == new
    assert await db.run(lambda tx: tx.challenges.set_run(new.id, "cancelled_at", T0 + HOUR))
    assert await db.run(lambda tx: tx.challenges.open_run("tg", "-1")) == old
    latest = await db.run(lambda tx: tx.challenges.latest_run("tg", "-1"))
    assert latest is not None and (latest.id, latest.cancelled_at) == (new.id, T0 + HOUR)
    await db.run(lambda tx: tx.challenges.set_run(old.id, "revealed_at", T0 + HOUR))
    assert await db.run(lambda tx: tx.challenges.open_run("tg", "-1")) is None
    assert await db.run(lambda tx: tx.challenges.latest_run("discord", "-1")) is None


async def test_the_later_logged_of_two_runs_started_together_is_the_latest(db: Database) -> None:
    await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    second = await db.run(lambda tx: tx.challenges.add_run(run("r0000002", T0)))
    assert await db.run(lambda tx: tx.challenges.latest_run("tg", "-1")) == second


async def test_a_run_is_revealed_cancelled_and_summarised_once_each(db: Database) -> None:
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    for field in ("revealed_at", "cancelled_at", "summary_at"):
        assert await db.run(set_run(stored.id, field, T0 + HOUR))
        assert not await db.run(set_run(stored.id, field, T0 + DAY))
    got = await db.run(lambda tx: tx.challenges.run_by_id(stored.id))
    assert got is not None
    assert (got.revealed_at, got.cancelled_at, got.summary_at) == (T0 + HOUR,) * 3
    # Columns that are never empty cannot be "set once"; other names do not exist.
    assert not await db.run(lambda tx: tx.challenges.set_run(stored.id, "deadline", T0))
    assert not await db.run(lambda tx: tx.challenges.set_run(stored.id + 1, "revealed_at", T0))
    with pytest.raises(KeyError):
        await db.run(lambda tx: tx.challenges.set_run(stored.id, "no_such_column", T0))


async def test_runs_due_for_their_reveal_and_their_summary(db: Database) -> None:
    def start(tx: Tx) -> list[ChallengeRun]:
        return [
            tx.challenges.add_run(run("r0000001", T0, chat="-1", minutes=30)),
            tx.challenges.add_run(run("r0000002", T0, chat="-2", minutes=10)),
            tx.challenges.add_run(run("r0000003", T0, chat="-3", minutes=20)),
            tx.challenges.add_run(run("r0000004", T0, chat="-4", minutes=60)),
        ]

    thirty, ten, twenty, sixty = await db.run(start)
    assert await db.run(lambda tx: tx.challenges.due_reveals(T0 + 30 * MINUTE)) == [
        ten,
        twenty,
        thirty,
    ]
    await db.run(lambda tx: tx.challenges.set_run(ten.id, "revealed_at", T0 + 10 * MINUTE))
    await db.run(lambda tx: tx.challenges.set_run(twenty.id, "cancelled_at", T0 + 5 * MINUTE))
    await db.run(lambda tx: tx.challenges.set_run(thirty.id, "revealed_at", T0 + 30 * MINUTE))
    due = await db.run(lambda tx: tx.challenges.due_reveals(T0 + 30 * MINUTE))
    assert due == []
    summaries = await db.run(lambda tx: tx.challenges.due_summaries(T0 + 30 * MINUTE))
    assert sorted(r.id for r in summaries) == [thirty.id, ten.id]
    await db.run(lambda tx: tx.challenges.set_run(ten.id, "summary_at", T0 + HOUR))
    summaries = await db.run(lambda tx: tx.challenges.due_summaries(T0 + 20 * MINUTE))
    assert summaries == []
    assert [r.id for r in await db.run(lambda tx: tx.challenges.due_reveals(T0 + DAY))] == [
        sixty.id
    ]


async def test_next_deadline_of_the_open_runs(db: Database) -> None:
    assert await db.run(lambda tx: tx.challenges.next_deadline()) is None

    def start(tx: Tx) -> list[ChallengeRun]:
        return [
            tx.challenges.add_run(run("r0000001", T0, chat="-1", minutes=5)),
            tx.challenges.add_run(run("r0000002", T0, chat="-2", minutes=10)),
            tx.challenges.add_run(run("r0000003", T0, chat="-3", minutes=20)),
            tx.challenges.add_run(run("r0000004", T0 - DAY, chat="-4", minutes=15)),
        ]

    five, ten, twenty, overdue = await db.run(start)
    # Overdue runs count: their reveal is late, not cancelled.
    assert await db.run(lambda tx: tx.challenges.next_deadline()) == T0 - DAY + 15 * MINUTE
    await db.run(lambda tx: tx.challenges.set_run(overdue.id, "revealed_at", T0))
    assert await db.run(lambda tx: tx.challenges.next_deadline()) == T0 + 5 * MINUTE
    await db.run(lambda tx: tx.challenges.set_run(five.id, "cancelled_at", T0))
    await db.run(lambda tx: tx.challenges.set_run(ten.id, "revealed_at", T0))
    assert await db.run(lambda tx: tx.challenges.next_deadline()) == T0 + 20 * MINUTE
    await db.run(lambda tx: tx.challenges.set_run(twenty.id, "cancelled_at", T0))
    assert await db.run(lambda tx: tx.challenges.next_deadline()) is None


# --------------------------------------------------------------------------- submissions


async def test_a_submission_is_saved_again_and_again(db: Database) -> None:
    ann = await add_learner(db, "1", name="Ann")
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    joined = Submission(stored.id, ann.id, "s0000001", "A" * 200, T0)
    await db.run(lambda tx: tx.challenges.save_submission(joined))
    assert await db.run(lambda tx: tx.challenges.submission(stored.id, ann.id)) == Submission(
        stored.id, ann.id, "s0000001", "A" * 128, T0
    )
    done = Submission(
        stored.id,
        ann.id,
        "s0000001",
        "Ann",
        T0,
        text="softmax(QK^T / sqrt(d_k)) V",
        photo_ref="https://cdn.example/" + "x" * 300,
        submitted_at=T0 + MINUTE,
        grades=(3, None, 1),
        checks=(0, 2, 3),
        assessed_at=T0 + HOUR,
        shared_at=T0 + HOUR,
        show_name=True,
    )
    await db.run(lambda tx: tx.challenges.save_submission(done))
    assert await db.run(lambda tx: tx.challenges.submission(stored.id, ann.id)) == done
    assert await db.run(lambda tx: tx.challenges.submission_by_token("s0000001")) == done
    assert await db.run(lambda tx: tx.challenges.submissions(stored.id)) == [done]
    assert await db.run(lambda tx: tx.challenges.submission(stored.id, ann.id + 1)) is None
    assert await db.run(lambda tx: tx.challenges.submission_by_token("s0000002")) is None


async def test_grades_keep_their_places(db: Database) -> None:
    ann = await add_learner(db)
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    for grades in [(), (None,), (None, None, 2), (1, 2, 3)]:
        sub = Submission(stored.id, ann.id, "s0000001", "Ann", T0, grades=grades)
        await db.run(save_submission(sub))
        got = await db.run(lambda tx: tx.challenges.submission(stored.id, ann.id))
        # A single empty grade reads back as no grades: both are stored as "".
        assert got is not None and got.grades == (grades if grades != (None,) else ())


async def test_submissions_are_listed_by_joining_order(db: Database) -> None:
    ann, ben, cy = [await add_learner(db, str(i)) for i in range(3)]
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))

    def join(tx: Tx) -> None:
        tx.challenges.save_submission(Submission(stored.id, cy.id, "s3", "Cy", T0))
        tx.challenges.save_submission(Submission(stored.id, ben.id, "s2", "Ben", T0 + MINUTE))
        tx.challenges.save_submission(Submission(stored.id, ann.id, "s1", "Ann", T0))

    await db.run(join)
    listed = await db.run(lambda tx: tx.challenges.submissions(stored.id))
    assert [s.learner_id for s in listed] == [ann.id, cy.id, ben.id]
    assert await db.run(lambda tx: tx.challenges.submissions(stored.id + 1)) == []


async def test_the_open_run_a_learner_joined_last(db: Database) -> None:
    ann = await add_learner(db)

    def play(tx: Tx) -> list[ChallengeRun]:
        runs = [
            tx.challenges.add_run(run("r0000001", T0, chat="-1")),
            tx.challenges.add_run(run("r0000002", T0, chat="-2")),
        ]
        tx.challenges.save_submission(Submission(runs[1].id, ann.id, "s2", "Ann", T0))
        tx.challenges.save_submission(Submission(runs[0].id, ann.id, "s1", "Ann", T0 + MINUTE))
        return runs

    first, second = await db.run(play)
    assert await db.run(lambda tx: tx.challenges.joined_open_run(ann.id)) == first
    await db.run(lambda tx: tx.challenges.set_run(first.id, "revealed_at", T0 + HOUR))
    assert await db.run(lambda tx: tx.challenges.joined_open_run(ann.id)) == second
    await db.run(lambda tx: tx.challenges.set_run(second.id, "cancelled_at", T0 + HOUR))
    assert await db.run(lambda tx: tx.challenges.joined_open_run(ann.id)) is None


async def test_a_run_revealed_lately_is_found_for_a_late_answer(db: Database) -> None:
    ann = await add_learner(db)

    def play(tx: Tx) -> ChallengeRun:
        stored = tx.challenges.add_run(run("r0000001", T0))
        tx.challenges.save_submission(Submission(stored.id, ann.id, "s1", "Ann", T0))
        tx.challenges.set_run(stored.id, "revealed_at", T0 + HOUR)
        return stored

    revealed = await db.run(play)
    assert await db.run(lambda tx: tx.challenges.joined_open_run(ann.id)) is None
    found = await db.run(lambda tx: tx.challenges.joined_open_run(ann.id, T0 + HOUR))
    assert found is not None and found.id == revealed.id
    later = T0 + HOUR + MINUTE
    assert await db.run(lambda tx: tx.challenges.joined_open_run(ann.id, later)) is None


async def test_a_member_is_added_to_a_run_once(db: Database) -> None:
    ann = await add_learner(db)
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    first = Submission(stored.id, ann.id, "s1", "Ann", T0)
    assert await db.run(lambda tx: tx.challenges.add_submission(first)) is True
    again = Submission(stored.id, ann.id, "s2", "Ann again", T0 + HOUR)
    assert await db.run(lambda tx: tx.challenges.add_submission(again)) is False
    assert await db.run(lambda tx: tx.challenges.submission(stored.id, ann.id)) == first


async def test_a_submission_is_claimed_assessed_once(db: Database) -> None:
    ann = await add_learner(db)
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    await db.run(save_submission(Submission(stored.id, ann.id, "s1", "Ann", T0)))
    claim = lambda tx: tx.challenges.claim_assessment(stored.id, ann.id, T0 + HOUR)  # noqa: E731
    assert await db.run(claim) is True
    assert await db.run(claim) is False
    assert await db.run(lambda tx: tx.challenges.claim_assessment(stored.id, 99, T0)) is False
    sub = await db.run(lambda tx: tx.challenges.submission(stored.id, ann.id))
    assert sub is not None and sub.assessed_at == T0 + HOUR


async def test_saving_a_submission_read_before_a_claim_keeps_the_claim(db: Database) -> None:
    """A grade tap read the row; an Apply tap claimed it and committed; the grade tap's
    save must not bring assessed_at back to None (the next Apply would apply again)."""
    ann = await add_learner(db)
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    await db.run(save_submission(Submission(stored.id, ann.id, "s1", "Ann", T0)))
    read = await db.run(lambda tx: tx.challenges.submission(stored.id, ann.id))
    assert read is not None and read.assessed_at is None
    assert await db.run(lambda tx: tx.challenges.claim_assessment(stored.id, ann.id, T0 + HOUR))
    await db.run(save_submission(replace(read, grades=(2,))))
    sub = await db.run(lambda tx: tx.challenges.submission(stored.id, ann.id))
    assert sub is not None and sub.grades == (2,) and sub.assessed_at == T0 + HOUR
    claim = lambda tx: tx.challenges.claim_assessment(stored.id, ann.id, T0 + 2 * HOUR)  # noqa: E731
    assert await db.run(claim) is False


# --------------------------------------------------------------------------- groups and schedules


async def test_group_settings(db: Database) -> None:
    assert await db.run(lambda tx: tx.challenges.group("tg", "-1")) is None
    await db.run(lambda tx: tx.challenges.save_group(GroupSettings("tg", "-1", "Europe/Oslo")))
    await db.run(lambda tx: tx.challenges.save_group(GroupSettings("tg", "-2")))
    assert await db.run(lambda tx: tx.challenges.group("tg", "-1")) == GroupSettings(
        "tg", "-1", "Europe/Oslo", "admins"
    )
    changed = GroupSettings("tg", "-1", "Asia/Tokyo", "everyone")
    await db.run(lambda tx: tx.challenges.save_group(changed))
    assert await db.run(lambda tx: tx.challenges.group("tg", "-1")) == changed
    assert await db.run(lambda tx: tx.challenges.group("tg", "-2")) == GroupSettings("tg", "-2")


async def test_weekly_schedules_are_added_listed_and_deleted(db: Database) -> None:
    def add(tx: Tx) -> list[ChallengeSchedule]:
        return [
            tx.challenges.add_schedule(weekly("-1", "a", T0 + DAY)),
            tx.challenges.add_schedule(weekly("-1", "b", T0 + DAY)),
            tx.challenges.add_schedule(weekly("-1", "a", None)),
            tx.challenges.add_schedule(weekly("-2", "a", T0 + DAY)),
        ]

    stored = await db.run(add)
    assert len({s.id for s in stored}) == 4 and all(s.id > 0 for s in stored)
    assert await db.run(lambda tx: tx.challenges.schedules("tg", "-1")) == stored[:3]
    assert await db.run(lambda tx: tx.challenges.delete_schedules("tg", "-1", "a")) == 2
    assert await db.run(lambda tx: tx.challenges.schedules("tg", "-1")) == [stored[1]]
    assert await db.run(lambda tx: tx.challenges.delete_schedules("tg", "-2", None)) == 1
    assert await db.run(lambda tx: tx.challenges.delete_schedules("tg", "-2", None)) == 0
    assert await db.run(lambda tx: tx.challenges.schedules("tg", "-2")) == []


async def test_a_schedule_keeps_its_time_to_the_minute(db: Database) -> None:
    exact = ChallengeSchedule(0, "tg", "-1", "a", 4, time(7, 5, 59), "UTC", T0, minutes=25)
    stored = await db.run(lambda tx: tx.challenges.add_schedule(exact))
    (got,) = await db.run(lambda tx: tx.challenges.schedules("tg", "-1"))
    assert got == ChallengeSchedule(stored.id, "tg", "-1", "a", 4, time(7, 5), "UTC", T0, 25)


async def test_due_schedules_are_claimed_soonest_first(db: Database) -> None:
    def add(tx: Tx) -> list[ChallengeSchedule]:
        return [
            tx.challenges.add_schedule(weekly("-1", "a", T0)),
            tx.challenges.add_schedule(weekly("-2", "a", T0 - HOUR)),
            tx.challenges.add_schedule(weekly("-3", "a", T0 + MINUTE)),
            tx.challenges.add_schedule(weekly("-4", "a", None)),
        ]

    now_, earlier, later, _ = await db.run(add)
    assert await db.run(lambda tx: tx.challenges.claim_schedules(T0, 10)) == [earlier, now_]
    assert await db.run(lambda tx: tx.challenges.claim_schedules(T0, 1)) == [earlier]
    await db.run(lambda tx: tx.challenges.set_schedule_next(earlier.id, T0 + 7 * DAY))
    await db.run(lambda tx: tx.challenges.set_schedule_next(now_.id, None))
    assert await db.run(lambda tx: tx.challenges.claim_schedules(T0 + MINUTE, 10)) == [later]


# --------------------------------------------------------------------------- photo answers

#: Every byte value, so no driver or column type may treat the photo as text.
EVERY_BYTE = bytes(range(256)) * 4


def photo(size: int, fill: bytes = b"\xff") -> StoredPhoto:
    return StoredPhoto((b"\xff\xd8\xff" + fill * size)[:size], "image/jpeg")


async def answered(db: Database, run_id: int, learner_id: int, token: str) -> Submission:
    sub = Submission(
        run_id, learner_id, token, "Ann", T0, photo_ref=f"file-{token}", submitted_at=T0
    )
    await db.run(save_submission(sub))
    return sub


async def test_a_photo_answer_is_stored_read_back_replaced_and_dropped(db: Database) -> None:
    ann, ben = await add_learner(db, "1"), await add_learner(db, "2", name="Ben")
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    rid = stored.id
    await answered(db, rid, ann.id, "s0000001")
    await answered(db, rid, ben.id, "s0000002")
    first = StoredPhoto(EVERY_BYTE, "image/png")
    await db.run(lambda tx: tx.challenges.save_photo(rid, ann.id, first, T0))
    assert await db.run(lambda tx: tx.challenges.photo(rid, ann.id)) == first
    assert await db.run(lambda tx: tx.challenges.photo(rid, ben.id)) is None
    assert await db.run(lambda tx: tx.challenges.photo_sizes(rid)) == {ann.id: 1024}
    # Listing submissions never carries the bytes; the answer keeps its reference.
    subs = await db.run(lambda tx: tx.challenges.submissions(rid))
    assert [s.photo_ref for s in subs] == ["file-s0000001", "file-s0000002"]

    second = photo(3000)
    await db.run(lambda tx: tx.challenges.save_photo(rid, ann.id, second, T0 + MINUTE))
    await db.run(lambda tx: tx.challenges.save_photo(rid, ben.id, photo(10), T0))
    assert await db.run(lambda tx: tx.challenges.photo(rid, ann.id)) == second
    assert await db.run(lambda tx: tx.challenges.photo_sizes(rid)) == {ann.id: 3000, ben.id: 10}
    await db.run(lambda tx: tx.challenges.drop_photo(rid, ann.id))
    await db.run(lambda tx: tx.challenges.drop_photo(rid, ann.id))  # twice: nothing to drop
    assert await db.run(lambda tx: tx.challenges.photo(rid, ann.id)) is None
    assert await db.run(lambda tx: tx.challenges.photo_sizes(rid)) == {ben.id: 10}


async def test_a_photo_belongs_to_a_submission(db: Database) -> None:
    ann = await add_learner(db)
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    with pytest.raises(Exception, match=r"(?i)foreign key"):
        await db.run(lambda tx: tx.challenges.save_photo(stored.id, ann.id, photo(10), T0))


async def test_photos_go_with_their_learner(db: Database) -> None:
    ann = await add_learner(db)
    stored = await db.run(lambda tx: tx.challenges.add_run(run("r0000001", T0)))
    await answered(db, stored.id, ann.id, "s0000001")
    await db.run(lambda tx: tx.challenges.save_photo(stored.id, ann.id, photo(10), T0))
    await db.run(lambda tx: tx.learners.delete(ann.id))
    assert await db.run(lambda tx: tx.challenges.photo_sizes(stored.id)) == {}
    assert await db.run(lambda tx: tx.challenges.group_photo_bytes("tg", "-1")) == 0


def save_photo(run_id: int, learner_id: int, stored: StoredPhoto) -> Callable[[Tx], None]:
    return lambda tx: tx.challenges.save_photo(run_id, learner_id, stored, T0)


def photo_sizes(run_id: int) -> Callable[[Tx], dict[int, int]]:
    return lambda tx: tx.challenges.photo_sizes(run_id)


def submission(run_id: int, learner_id: int) -> Callable[[Tx], Submission | None]:
    return lambda tx: tx.challenges.submission(run_id, learner_id)


async def group_of_runs(db: Database) -> tuple[int, list[int]]:
    """Ann answered with a photo in four runs of chat -1 (100, 200, 300 and 400 bytes;
    the first revealed, the second cancelled, the third revealed, the fourth open) and
    one of chat -2 (1,000 bytes, revealed); returns her id and the runs' ids."""
    ann = await add_learner(db)

    def start(tx: Tx) -> list[int]:
        ids = [tx.challenges.add_run(run(f"r000000{i}", T0 + i * HOUR)).id for i in range(4)]
        ids.append(tx.challenges.add_run(run("r0000009", T0, chat="-2")).id)
        return ids

    ids = await db.run(start)
    for i, (rid, size) in enumerate(zip(ids, (100, 200, 300, 400, 1000), strict=True)):
        await answered(db, rid, ann.id, f"s000000{i}")
        await db.run(save_photo(rid, ann.id, photo(size)))
    await db.run(set_run(ids[0], "revealed_at", T0 + HOUR))
    await db.run(set_run(ids[1], "cancelled_at", T0 + 2 * HOUR))
    await db.run(set_run(ids[2], "revealed_at", T0 + 3 * HOUR))
    await db.run(set_run(ids[4], "revealed_at", T0 + HOUR))
    return ann.id, ids


async def test_a_groups_photos_add_up_and_its_finished_runs_make_room_oldest_first(
    db: Database,
) -> None:
    ann, ids = await group_of_runs(db)
    assert await db.run(lambda tx: tx.challenges.group_photo_bytes("tg", "-1")) == 1000
    assert await db.run(lambda tx: tx.challenges.group_photo_bytes("tg", "-2")) == 1000
    assert await db.run(lambda tx: tx.challenges.group_photo_bytes("discord", "-1")) == 0
    # 150 bytes: the oldest run's 100 are not enough, the cancelled run's 200 go too.
    assert await db.run(lambda tx: tx.challenges.free_photos("tg", "-1", 150)) == 300
    left = [await db.run(photo_sizes(rid)) for rid in ids]
    assert left == [{}, {}, {ann: 300}, {ann: 400}, {ann: 1000}]
    # The answers whose photos went no longer say they were photos; the others still do.
    refs = [await db.run(submission(rid, ann)) for rid in ids]
    assert [s.photo_ref if s else "?" for s in refs] == [
        None,
        None,
        "file-s0000002",
        "file-s0000003",
        "file-s0000004",
    ]
    # The open run's photos are never dropped to make room.
    assert await db.run(lambda tx: tx.challenges.free_photos("tg", "-1", 10_000)) == 300
    assert await db.run(lambda tx: tx.challenges.group_photo_bytes("tg", "-1")) == 400
    assert await db.run(lambda tx: tx.challenges.free_photos("tg", "-1", 1)) == 0


async def test_photos_of_runs_finished_long_ago_are_pruned(db: Database) -> None:
    ann, ids = await group_of_runs(db)
    # Finished before T0 + 2h: the first run (revealed at 1h) and the other chat's.
    assert await db.run(lambda tx: tx.challenges.prune_photos(T0 + 2 * HOUR)) == 2
    assert await db.run(lambda tx: tx.challenges.prune_photos(T0 + 2 * HOUR)) == 0
    left = [await db.run(photo_sizes(rid)) for rid in ids]
    assert left == [{}, {ann: 200}, {ann: 300}, {ann: 400}, {}]
    first = await db.run(lambda tx: tx.challenges.submission(ids[0], ann))
    assert first is not None and first.photo_ref is None and first.submitted_at == T0
    # Much later: every finished run's photo goes; the open run's stays.
    assert await db.run(lambda tx: tx.challenges.prune_photos(T0 + DAY)) == 2
    assert await db.run(lambda tx: tx.challenges.group_photo_bytes("tg", "-1")) == 400


async def test_photos_dropped_over_several_statements_are_all_dropped(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SQL stores name at most a batch of photos in one statement: a batch of one
    drops each photo, and clears each answer's reference, all the same."""
    monkeypatch.setattr(bot.storage.challenges, "_KEYS_PER_STATEMENT", 1)
    ann, ids = await group_of_runs(db)
    assert await db.run(lambda tx: tx.challenges.prune_photos(T0 + DAY)) == 4
    left = [await db.run(photo_sizes(rid)) for rid in ids]
    assert left == [{}, {}, {}, {ann: 400}, {}]
    refs = [await db.run(submission(rid, ann)) for rid in ids]
    assert [s.photo_ref if s else "?" for s in refs] == [None, None, None, "file-s0000003", None]
