"""Fitting each learner's memory model: the timer's tick and ``studybot optimize``.

The rules (when to fit, what is kept, what a change does to the cards) are in
:mod:`bot.core.memory`; this module runs them against the database.

A tick claims up to :attr:`FitPolicy.per_tick` learners whose ``next_fit_at``
has passed (NULL: never looked at) in one transaction, moving it forward by
:attr:`FitPolicy.lease`, so each learner is claimed by exactly one process
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, as pushes are). For each, one
transaction counts the log and decides (:func:`bot.core.memory.fit_wanted`);
a learner whose log is too small, or has not grown enough since the last
attempt, is only given the next look, in that transaction. Otherwise one
transaction reads the log; the numbers are fitted in a thread
(:func:`asyncio.to_thread`), never on the event loop; one transaction records
the attempt (a ``model_fits`` row), and when the new parameters are kept saves
them in the settings with every card's recomputed stability and difficulty;
and ``next_fit_at`` becomes the next look (:attr:`FitPolicy.recheck` on).

fsrs-rs holds the GIL while it fits (``benchmarks/fitting.py``: another
Python thread keeps 0-1 % of its pace during ``compute_parameters``), so a fit
in a thread holds the event loop back for about that long: some 10 ms for
5,000 reviews, 60-80 ms at most for 50,000 (building items and replaying
states is Python, which lets the loop in every 5 ms). Fits are rare (a
learner's log must double). A spawned process did worse on the 2-core VM:
starting it and pickling the log held the loop back 300-610 ms. So the
numbers are fitted in a thread (:func:`fit_in_thread`), never on the loop
itself; ``run`` lets a test or a later runner put them elsewhere.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import memory
from bot.core.model import Learner, ModelFit
from bot.core.ports import Clock, Database, Tx
from bot.core.stats import ModelStatus

__all__ = ["FitPolicy", "FitReport", "FitRunner", "ModelFitter", "fit_in_thread", "model_status"]

log = logging.getLogger(__name__)

NO_SUCH_LEARNER = "no such learner"
NOT_GROWN = "the log has not grown enough since the last fit"
NOTHING_TO_JUDGE = "no recent reviews a day or more apart to judge a fit on yet"

#: Runs :func:`bot.core.memory.fit` (log, time zone, parameters in use) off the event loop.
FitRunner = Callable[
    [Sequence[memory.LogEntry], str, "tuple[float, ...] | None"],
    Awaitable["memory.FitResult | None"],
]


async def fit_in_thread(
    log: Sequence[memory.LogEntry], tz: str, current: tuple[float, ...] | None
) -> memory.FitResult | None:
    """:func:`bot.core.memory.fit` in a thread (the loop waits only while fsrs-rs
    holds the GIL in ``compute_parameters``)."""
    return await asyncio.to_thread(memory.fit, log, tz, current)


@dataclass(frozen=True, slots=True)
class FitPolicy:
    """The fitting timer's tunables (``[fitting]`` in the config).

    Attributes:
        recheck: after a look, how long until the next one.
        lease: how long a claim holds a learner (a fitter that dies lets go after it).
        per_tick: learners claimed by one tick.
    """

    recheck: timedelta = timedelta(hours=24)
    lease: timedelta = timedelta(minutes=30)
    per_tick: int = 100


@dataclass(frozen=True, slots=True)
class FitReport:
    """What one look at a learner's model found.

    Attributes:
        learner_id: whose.
        log_size: usable reviews in their log (cram and undone ones aside).
        fit: the attempt recorded, if one was made.
        note: why no attempt was made, when none was.
    """

    learner_id: int
    log_size: int
    fit: ModelFit | None = None
    note: str = ""

    def describe(self) -> str:
        """One line for ``studybot optimize``."""
        head = f"learner {self.learner_id}:"
        if self.fit is None:
            return f"{head} {self.note}"
        f = self.fit
        verdict = "kept" if f.kept else "not kept (no better than the parameters in use)"
        return (
            f"{head} {f.reviews} reviews, {f.held_out} held out; log loss "
            f"current {f.logloss_current:.4f}, fitted {f.logloss_fitted:.4f}, "
            f"default {f.logloss_default:.4f}: {verdict}"
        )


@dataclass(frozen=True, slots=True)
class _Snapshot:
    learner: Learner
    log: list[memory.LogEntry]
    last: ModelFit | None


def _last_reviews(log: Sequence[memory.LogEntry]) -> dict[str, datetime]:
    last: dict[str, datetime] = {}
    for card_id, at, _ in log:
        last[card_id] = at
    return last


class ModelFitter:
    """Looks at learners' memory models and fits them when their log has grown.

    Args:
        db: runs units of work.
        clock: gives "now".
        policy: how often, how many at once.
        run: where the numbers are fitted (a thread).
    """

    def __init__(
        self,
        db: Database,
        clock: Clock,
        policy: FitPolicy | None = None,
        run: FitRunner = fit_in_thread,
    ) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy or FitPolicy()
        self.run = run

    async def tick(self) -> list[FitReport]:
        """Claim the learners due a look (each by one process only), and look at each."""
        now = self.clock.now()
        policy = self.policy
        claimed = await self.db.run(
            lambda tx: tx.models.claim_due(now, now + policy.lease, policy.per_tick)
        )
        reports = []
        for learner_id in claimed:
            try:
                reports.append(await self.look(learner_id))
            except Exception:
                log.exception("fitting learner %d failed; trying again later", learner_id)
                await self._next(learner_id, self.clock.now(), force=False)
        return reports

    async def look(self, learner_id: int, *, force: bool = False) -> FitReport:
        """Fit the learner's model if their log calls for it (``force``: whenever it is
        large enough, as ``studybot optimize`` does), keeping what beats the model in use.

        Without ``force`` the learner's next look is set, whatever happens. A log
        that does not call for a fit costs one transaction (a count), never a read.
        """
        now = self.clock.now()
        waiting = await self.db.run(lambda tx: self._decide(tx, learner_id, now, force))
        if waiting is not None:
            return waiting
        snap = await self.db.run(lambda tx: self._read(tx, learner_id))
        if snap is None:
            return FitReport(learner_id, 0, note=NO_SUCH_LEARNER)
        size = len(snap.log)
        settings = snap.learner.settings
        result = await self.run(snap.log, settings.timezone, settings.fsrs_parameters)
        if result is None:
            await self._next(learner_id, now, force)
            return FitReport(learner_id, size, note=NOTHING_TO_JUDGE)
        fitted_at = self.clock.now()
        last = _last_reviews(snap.log)
        states = [(card, last[card], s, d) for card, (s, d) in result.states.items()]
        recorded = await self.db.run(
            lambda tx: self._save(tx, snap.learner, result, states, fitted_at, force)
        )
        log.info(
            "learner %d: fitted on %d reviews, log loss %.4f against %.4f in use: %s",
            learner_id,
            result.reviews,
            result.logloss_fitted,
            result.logloss_current,
            "kept" if recorded.kept else "not kept",
        )
        return FitReport(learner_id, size, fit=recorded)

    def _decide(self, tx: Tx, learner_id: int, now: datetime, force: bool) -> FitReport | None:
        """None when the log calls for a fit; else why not, with the next look set."""
        if tx.learners.get_by_id(learner_id) is None:
            return FitReport(learner_id, 0, note=NO_SUCH_LEARNER)
        size = tx.models.log_size(learner_id)
        if size < memory.MIN_REVIEWS:
            note = f"not enough reviews yet: {size} of {memory.MIN_REVIEWS}"
        elif not force and not memory.fit_wanted(size, tx.models.latest(learner_id), now):
            note = NOT_GROWN
        else:
            return None
        if not force:
            tx.models.set_next(learner_id, now + self.policy.recheck)
        return FitReport(learner_id, size, note=note)

    async def _next(self, learner_id: int, now: datetime, force: bool) -> None:
        if not force:
            when = now + self.policy.recheck
            await self.db.run(lambda tx: tx.models.set_next(learner_id, when))

    @staticmethod
    def _read(tx: Tx, learner_id: int) -> _Snapshot | None:
        learner = tx.learners.get_by_id(learner_id)
        if learner is None:
            return None
        return _Snapshot(learner, tx.models.log(learner_id), tx.models.latest(learner_id))

    def _save(
        self,
        tx: Tx,
        before: Learner,
        result: memory.FitResult,
        states: Sequence[tuple[str, datetime, float, float]],
        now: datetime,
        force: bool,
    ) -> ModelFit:
        """Record the attempt; when kept, the parameters and every card's memory state
        (due dates stay: see :mod:`bot.core.memory`), all in this one transaction."""
        learner = tx.learners.get_by_id(before.id)
        # Parameters changed meanwhile (another fit kept some): this one was judged
        # against the old ones, so it is recorded but not kept.
        kept = (
            result.kept
            and learner is not None
            and learner.settings.fsrs_parameters == before.settings.fsrs_parameters
        )
        fit = tx.models.add(replace(result.model_fit(before.id, now), kept=kept))
        if kept and learner is not None:
            in_use = None if result.use_defaults else result.parameters
            settings = replace(learner.settings, fsrs_parameters=in_use)
            tx.learners.save_settings(learner.id, settings)
            tx.models.set_memory_states(learner.id, states)
        if not force:
            tx.models.set_next(before.id, now + self.policy.recheck)
        return fit

    async def optimize(self, learner_id: int | None = None) -> list[FitReport]:
        """``studybot optimize``: every learner (or one), whatever the schedule says."""
        ids = (
            [learner_id]
            if learner_id is not None
            else await self.db.run(lambda tx: tx.models.learner_ids())
        )
        reports = []
        for lid in ids:
            try:
                reports.append(await self.look(lid, force=True))
            except Exception as exc:  # one learner's failure must not stop the others
                log.exception("fitting learner %d failed", lid)
                reports.append(FitReport(lid, 0, note=f"failed: {type(exc).__name__}: {exc}"))
        return reports


# --------------------------------------------------------------------------- /stats


def model_status(tx: Tx, learner: Learner) -> ModelStatus:
    """The learner's model as /stats tells it."""
    fit = tx.models.latest(learner.id, kept=True)
    if fit is not None and learner.settings.fsrs_parameters is not None:
        return ModelStatus(
            fitted_reviews=fit.reviews,
            fitted_on=fit.fitted_at.astimezone(ZoneInfo(learner.settings.timezone)).date(),
            logloss=fit.logloss_fitted,
            logloss_default=fit.logloss_default,
        )
    tried = tx.models.latest(learner.id) is not None
    return ModelStatus(
        more_needed=memory.reviews_needed(tx.models.log_size(learner.id)), judged=tried
    )
