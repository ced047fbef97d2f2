"""Tests for bot.core.delivery: the running platforms, and announcements routed to them."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.delivery import (
    NOT_REACHED,
    RETRY_SOON,
    WAIT_FOR_MEMBER,
    Channels,
    PlatformAnnouncer,
)
from bot.core.learners import Enrolment, Who, get_or_create_learner
from bot.core.messages import RESENT_ASSESSMENT, Announcement, Reply
from bot.core.model import Learner, LearnerSettings
from bot.core.ports import Delivery
from tests.fakes.channels import FakeChannel
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ANSWER = Reply("quiz_result", "Quiz answer.")
ASSESS = Reply("assess", "Self-assessment.")


class Broken(FakeChannel):
    """A platform whose every call fails."""

    async def announce(self, chat_id: str, reply: Reply) -> None:
        raise RuntimeError("chat not found")


def refuse(learner: Learner, reply: Reply) -> Delivery:
    raise OSError("network down")


@pytest.fixture
def db() -> FakeDatabase:
    return FakeDatabase()


def enrol(db: FakeDatabase, user: str = "1", platform: str = "telegram") -> Learner:
    return db.run_sync(
        lambda tx: tx.learners.create(platform, user, "Ann", LearnerSettings(), (), T0)
    )


def test_channels_are_attached_and_detached_by_name() -> None:
    channels = Channels()
    telegram, discord = FakeChannel("telegram"), FakeChannel("discord")
    assert channels.names() == [] and channels.get("telegram") is None
    channels.attach(telegram)
    channels.attach(discord)
    assert channels.names() == ["discord", "telegram"]
    assert channels.get("telegram") is telegram
    channels.detach("telegram")
    channels.detach("telegram")  # twice: nothing to do
    assert channels.names() == ["discord"]


async def test_a_group_announcement_goes_to_its_chat(db: FakeDatabase) -> None:
    channels = Channels()
    telegram, discord = FakeChannel("telegram"), FakeChannel("discord")
    channels.attach(telegram)
    channels.attach(discord)
    commits = db.commits
    await PlatformAnnouncer(db, channels).post(
        [Announcement("telegram", "-100", ANSWER), Announcement("discord", "55", ANSWER)]
    )
    assert telegram.announced == [("-100", ANSWER)]
    assert discord.announced == [("55", ANSWER)]
    assert telegram.pushed == [] and db.commits == commits  # no learner looked up


async def test_a_learners_announcement_is_pushed_to_their_private_chat(db: FakeDatabase) -> None:
    ann = enrol(db)
    channels = Channels()
    telegram = FakeChannel()
    channels.attach(telegram)
    before = db.snapshot()
    await PlatformAnnouncer(db, channels).post([Announcement("telegram", "", ASSESS, ann.id)])
    [(learner, reply, skip)] = telegram.pushed
    assert (learner.id, reply, skip) == (ann.id, ASSESS, 0)
    assert telegram.announced == []
    assert db.snapshot() == before  # reached, nothing new learned


async def test_an_unreachable_learner_is_recorded(db: FakeDatabase) -> None:
    ann = enrol(db)
    channels = Channels()
    channels.attach(FakeChannel(deliver=lambda lr, reply: Delivery(reached=False)))
    await PlatformAnnouncer(db, channels).post([Announcement("telegram", "", ASSESS, ann.id)])
    stored = db.learner("telegram", "1")
    assert stored is not None and stored.unreachable


async def test_a_private_channel_opened_to_deliver_is_stored(db: FakeDatabase) -> None:
    ann = enrol(db)
    channels = Channels()
    channels.attach(FakeChannel(deliver=lambda lr, reply: Delivery(True, dm_channel="dm-5")))
    await PlatformAnnouncer(db, channels).post([Announcement("telegram", "", ASSESS, ann.id)])
    stored = db.learner("telegram", "1")
    assert stored is not None and stored.dm_channel_id == "dm-5" and not stored.unreachable


async def test_a_learner_who_is_gone_is_skipped(db: FakeDatabase) -> None:
    channels = Channels()
    telegram = FakeChannel()
    channels.attach(telegram)
    await PlatformAnnouncer(db, channels).post([Announcement("telegram", "", ASSESS, 42)])
    assert telegram.pushed == []


async def test_a_failing_channel_is_logged_and_the_rest_go_out(
    db: FakeDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    ann = enrol(db)
    channels = Channels()
    broken = Broken("discord")
    failing_push = FakeChannel(deliver=refuse)
    telegram_ok = FakeChannel("telegram")
    channels.attach(broken)
    channels.attach(failing_push)
    items = [
        Announcement("discord", "7", ANSWER),
        Announcement("telegram", "", ASSESS, ann.id),
    ]
    with caplog.at_level(logging.ERROR, logger="bot.core.delivery"):
        await PlatformAnnouncer(db, channels).post(items)  # raises nothing
        channels.attach(telegram_ok)  # replaces the failing one
        await PlatformAnnouncer(db, channels).post([*items, Announcement("telegram", "-1", ANSWER)])
    assert "could not post to discord chat 7" in caplog.text
    assert "could not post to telegram chat " in caplog.text
    assert [r for r in caplog.records if r.exc_info]  # with the traceback
    assert telegram_ok.announced == [("-1", ANSWER)]
    assert [lr.id for lr, _, _ in telegram_ok.pushed] == [ann.id]


async def test_a_platform_that_is_not_running_is_warned_about(
    db: FakeDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    channels = Channels()
    telegram = FakeChannel()
    channels.attach(telegram)
    with caplog.at_level(logging.WARNING, logger="bot.core.delivery"):
        await PlatformAnnouncer(db, channels).post(
            [Announcement("discord", "9", ANSWER), Announcement("telegram", "-1", ANSWER)]
        )
    assert "no running discord platform for an announcement" in caplog.text
    assert telegram.announced == [("-1", ANSWER)]


async def test_a_self_assessment_that_cannot_reach_its_member_waits_in_the_outbox(
    db: FakeDatabase,
) -> None:
    ann = enrol(db)
    channels = Channels()
    telegram = FakeChannel(deliver=lambda lr, reply: Delivery(reached=False))
    channels.attach(telegram)
    item = Announcement("telegram", "-100", ASSESS, ann.id, resend_token="s0000001")
    await PlatformAnnouncer(db, channels, FixedClock(T0)).post([item])
    [row] = db.outbox()
    m = row.message
    assert (m.kind, m.learner_id, m.prompt_token) == (RESENT_ASSESSMENT, ann.id, "s0000001")
    assert m.not_before == T0 + WAIT_FOR_MEMBER and row.pending
    [(chat, told)] = telegram.announced
    assert chat == "-100" and told.text == NOT_REACHED.format(name="Ann")
    # Writing again is contact: it is due at once.
    later = T0 + timedelta(hours=2)
    db.run_sync(lambda tx: get_or_create_learner(tx, Who("telegram", "1"), Enrolment(), later))
    [row] = db.outbox()
    assert row.message.not_before == later


async def test_a_self_assessment_that_failed_for_now_is_tried_again_soon(
    db: FakeDatabase,
) -> None:
    ann = enrol(db)
    channels = Channels()
    telegram = FakeChannel(deliver=refuse)
    channels.attach(telegram)
    item = Announcement("telegram", "-100", ASSESS, ann.id, resend_token="s0000001")
    await PlatformAnnouncer(db, channels, FixedClock(T0)).post([item])
    [row] = db.outbox()
    assert row.message.not_before == T0 + RETRY_SOON
    assert telegram.announced == []  # late, not lost: nobody is told
    stored = db.learner("telegram", "1")
    assert stored is not None and not stored.unreachable


class ShowsInGroup(FakeChannel):
    """A platform that can show a message in a group to one member alone (Telegram's
    ephemeral messages): ``shows`` says whether it can now, or raises."""

    def __init__(self, shows: bool | Exception) -> None:
        super().__init__(deliver=lambda lr, reply: Delivery(reached=False))
        self.shows = shows
        self.shown: list[tuple[str, Learner, Reply]] = []

    async def show_to_member(self, chat_id: str, learner: Learner, reply: Reply) -> bool:
        if isinstance(self.shows, Exception):
            raise self.shows
        if self.shows:
            self.shown.append((chat_id, learner, reply))
        return self.shows


async def test_a_member_out_of_private_reach_sees_their_self_assessment_in_the_group(
    db: FakeDatabase,
) -> None:
    ann = enrol(db)
    channels = Channels()
    telegram = ShowsInGroup(True)
    channels.attach(telegram)
    item = Announcement("telegram", "-100", ASSESS, ann.id, resend_token="s0000001")
    await PlatformAnnouncer(db, channels, FixedClock(T0)).post([item])
    [(pushed_to, _, _)] = telegram.pushed
    assert pushed_to.id == ann.id, "the private chat first"
    [(chat, shown_to, reply)] = telegram.shown
    assert (chat, shown_to.id, reply) == ("-100", ann.id, ASSESS)
    assert telegram.announced == [], "nobody is told it did not arrive"
    # It waits for a private word all the same: an ephemeral message may not reach a
    # member who is offline (sent then only if it was not applied meanwhile).
    [row] = db.outbox()
    assert row.message.prompt_token == "s0000001" and row.pending
    assert row.message.not_before == T0 + WAIT_FOR_MEMBER
    stored = db.learner("telegram", "1")
    assert stored is not None and stored.unreachable, "still out of private reach"


@pytest.mark.parametrize("shows", [False, RuntimeError("429")])
async def test_a_self_assessment_the_group_cannot_show_either_waits_as_before(
    db: FakeDatabase, shows: bool | Exception, caplog: pytest.LogCaptureFixture
) -> None:
    ann = enrol(db)
    channels = Channels()
    telegram = ShowsInGroup(shows)
    channels.attach(telegram)
    item = Announcement("telegram", "-100", ASSESS, ann.id, resend_token="s0000001")
    await PlatformAnnouncer(db, channels, FixedClock(T0)).post([item])
    [row] = db.outbox()
    assert row.message.prompt_token == "s0000001" and row.pending, "never lost"
    [(_, told)] = telegram.announced
    assert told.text == NOT_REACHED.format(name="Ann")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_what_goes_to_the_group_for_the_unreached_comes_after_every_private_message(
    db: FakeDatabase,
) -> None:
    """The group's pace is slow (twenty a minute): a member reached privately later in the
    batch does not wait behind what the group gets for one who was not."""
    ann, ben = enrol(db, "1"), enrol(db, "2")
    order: list[str] = []

    class Logged(ShowsInGroup):
        async def announce(self, chat_id: str, reply: Reply) -> None:
            order.append(f"group: {reply.text[:10]}")

        async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
            order.append(f"private: {learner.platform_user_id}")
            return Delivery(reached=learner.id == ben.id)

    channels = Channels()
    channels.attach(Logged(False))
    items = [
        Announcement("telegram", "-100", ASSESS, lid, resend_token=f"s{lid}")
        for lid in (ann.id, ben.id)
    ]
    await PlatformAnnouncer(db, channels, FixedClock(T0)).post(items)
    assert order == ["private: 1", "private: 2", f"group: {NOT_REACHED[:10]}"]
    [row] = db.outbox()
    assert row.message.learner_id == ann.id
