"""The push fan-out and the outbox, as ``bot.storage.pushes.SqlPushes`` does them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.messages import RESENT_ASSESSMENT
from bot.core.model import Backlog, CardState, Learner, LearnerSettings, OutboxMessage, PushTarget
from tests.fakes.store import FakeStore, OutboxRow, utc


class FakePushes:
    """The push fan-out and the outbox, as ``SqlPushes`` does them.

    ``claim_due`` takes learners whose ``next_push_at <= now`` on the given
    platforms, neither unreachable nor paused, by ``next_push_at``; the outbox
    is leased by ``(not_before, id)``.
    """

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _available(self, state: CardState, now: datetime) -> bool:
        return (
            state.due is not None
            and state.due <= now
            and not state.suspended
            and (state.buried_until is None or state.buried_until <= now)
            and self.store.offered(state.learner_id, state.card_id)
        )

    def _due(self, learner_ids: Sequence[int], now: datetime) -> list[CardState]:
        utc(now)
        wanted = set(learner_ids)
        return [
            s
            for (lid, _), s in self.store.states.items()
            if lid in wanted and self._available(s, now)
        ]

    def claim_due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[PushTarget]:
        utc(now)
        wanted = set(platforms)
        rows = [
            lr
            for lr in self.store.learners.values()
            if lr.next_push_at is not None
            and lr.next_push_at <= now
            and lr.platform in wanted
            and not lr.unreachable
            and not lr.settings.paused
        ]
        rows.sort(key=lambda lr: (lr.next_push_at, lr.id))
        targets = []
        for lr in rows[:limit]:
            active = lr.last_seen_at or lr.created_at
            reminder = self.store.last_reminders.get(lr.id)
            s = lr.settings
            timing = LearnerSettings(
                timezone=s.timezone,
                push_time=s.push_time,
                quiet_start=s.quiet_start,
                quiet_end=s.quiet_end,
                days_off=s.days_off,
            )
            reminded = reminder is not None and reminder >= active
            targets.append(
                PushTarget(
                    lr.id,
                    lr.platform,
                    active,
                    reminded,
                    timing,
                    s.max_cards_per_push,
                    lr.next_push_at if lr.id in self.store.snoozed_pushes else None,
                )
            )
        return targets

    def due_summary(self, learner_ids: Sequence[int], now: datetime) -> dict[int, tuple[str, int]]:
        """Each learner's first due card by ``(due, card_id)``, and how many are due."""
        mine: dict[int, list[tuple[datetime, str]]] = {}
        for s in self._due(learner_ids, now):
            assert s.due is not None
            mine.setdefault(s.learner_id, []).append((s.due, s.card_id))
        return {lid: (min(keys)[1], len(keys)) for lid, keys in mine.items()}

    def mean_durations(self, learner_ids: Sequence[int], since: datetime) -> dict[int, float]:
        """Mean ``duration_ms`` of reviews since an instant (undone ones too, as in SQL)."""
        utc(since)
        wanted = set(learner_ids)
        sums: dict[int, list[int]] = {}
        for e in self.store.reviews.values():
            if e.learner_id in wanted and e.reviewed_at >= since and e.duration_ms is not None:
                sums.setdefault(e.learner_id, []).append(e.duration_ms)
        return {lid: sum(ds) / len(ds) for lid, ds in sums.items()}

    def reschedule(
        self,
        updates: Sequence[tuple[int, datetime | None, bool]],
        now: datetime,
        snoozed: Sequence[int] = (),
    ) -> None:
        utc(now)
        self.store.snoozed_pushes.difference_update(snoozed)
        for learner_id, nxt, reminded in updates:
            utc(nxt, "next push")
            learner = self.store.learners.get(learner_id)
            if learner is None:
                continue
            self.store.learners[learner_id] = replace(learner, next_push_at=nxt)
            if reminded:
                self.store.last_reminders[learner_id] = now

    def add_outbox(self, rows: Sequence[OutboxMessage]) -> None:
        for m in rows:
            utc(m.created_at, "OutboxMessage.created_at")
            utc(m.not_before, "OutboxMessage.not_before")
            # No learner check: the outbox has no foreign key (it is written in bulk).
            message_id = self.store.next_outbox_id
            self.store.next_outbox_id += 1
            stored = replace(m, id=message_id, attempts=0, parts_sent=0)
            self.store.outbox[message_id] = OutboxRow(stored)

    def lease(
        self, platform: str, now: datetime, until: datetime, limit: int
    ) -> list[OutboxMessage]:
        utc(now)
        utc(until)
        rows = [
            r
            for r in self.store.outbox.values()
            if r.message.platform == platform
            and r.pending
            and r.message.not_before <= now
            and (r.lease_until is None or r.lease_until <= now)
        ]
        rows.sort(key=lambda r: (r.message.not_before, r.message.id))
        taken = rows[:limit]
        for r in taken:
            self.store.outbox[r.message.id] = replace(r, lease_until=until)
        return [r.message for r in taken]

    def _finish(
        self,
        message_id: int,
        *,
        sent_at: datetime | None = None,
        failed_at: datetime | None = None,
        not_before: datetime | None = None,
        error: str | None = None,
        parts_sent: int | None = None,
    ) -> None:
        """One delivery attempt ended: count it and release the lease."""
        row = self.store.outbox.get(message_id)
        if row is None:
            return
        message = replace(row.message, attempts=row.message.attempts + 1)
        if not_before is not None:
            message = replace(message, not_before=not_before)
        if parts_sent is not None:
            message = replace(message, parts_sent=parts_sent)
        self.store.outbox[message_id] = OutboxRow(
            message,
            lease_until=None,
            sent_at=sent_at if sent_at is not None else row.sent_at,
            failed_at=failed_at if failed_at is not None else row.failed_at,
            last_error=error[:200] if error is not None else row.last_error,
        )

    def mark_sent(self, message_id: int, now: datetime) -> None:
        utc(now)
        self._finish(message_id, sent_at=now)

    def mark_failed(self, message_id: int, now: datetime, error: str) -> None:
        utc(now)
        self._finish(message_id, failed_at=now, error=error)

    def retry_later(self, message_id: int, when: datetime, error: str, parts_sent: int) -> None:
        utc(when)
        self._finish(message_id, not_before=when, error=error, parts_sent=parts_sent)

    def wake(self, learner_id: int, now: datetime) -> int:
        utc(now)
        woken = 0
        for key, row in list(self.store.outbox.items()):
            m = row.message
            if m.learner_id == learner_id and row.pending and m.not_before > now:
                self.store.outbox[key] = replace(row, message=replace(m, not_before=now))
                woken += 1
        return woken

    def defer(self, message_ids: Sequence[int], when: datetime) -> None:
        utc(when)
        for message_id in message_ids:
            row = self.store.outbox.get(message_id)
            if row is None or not row.pending:
                continue
            self.store.outbox[message_id] = replace(
                row, message=replace(row.message, not_before=when), lease_until=None
            )

    def backfill(self, now: datetime, active_since: datetime, limit: int) -> list[Learner]:
        utc(now)
        utc(active_since)
        rows = [
            lr
            for lr in self.store.learners.values()
            if lr.next_push_at is None
            and (
                lr.last_seen_at >= active_since
                if lr.last_seen_at is not None
                else lr.created_at >= active_since
            )
        ]
        rows.sort(key=lambda lr: lr.id)
        return rows[:limit]

    def pending_count(self, platform: str | None = None) -> int:
        return sum(
            1
            for r in self.store.outbox.values()
            if r.pending and (platform is None or r.message.platform == platform)
        )

    def backlog(self) -> list[Backlog]:
        found: dict[str, list[datetime]] = {}
        for r in self.store.outbox.values():
            if r.pending and r.message.kind != RESENT_ASSESSMENT:
                found.setdefault(r.message.platform, []).append(r.message.created_at)
        return [Backlog(p, len(times), min(times)) for p, times in sorted(found.items())]

    def prune_outbox(self, before: datetime) -> int:
        gone = [
            k
            for k, r in self.store.outbox.items()
            if (r.sent_at is not None and r.sent_at < before)
            or (r.failed_at is not None and r.failed_at < before)
        ]
        for k in gone:
            del self.store.outbox[k]
        return len(gone)
