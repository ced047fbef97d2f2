"""Tests for bot.core.fitting: the fitting tick end to end over the fakes, optimize, /stats."""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core import memory
from bot.core.fitting import FitPolicy, ModelFitter, fit_in_thread, model_status
from bot.core.learners import Who
from bot.core.model import CardState, CardStateKind, LearnerSettings, ModelFit, ReviewEntry
from bot.core.stats import ModelStatus
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_deck
from tests.memory_sim import simulate_learner, true_parameters
from tests.services import build_services

NOW = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)
POLICY = FitPolicy(recheck=timedelta(hours=24), lease=timedelta(minutes=30), per_tick=4)


@pytest.fixture(scope="module")
def big_log() -> list[memory.LogEntry]:
    """4,000 reviews of a synthetic learner whose fitted parameters beat the defaults."""
    rng = random.Random(2)
    return simulate_learner(true_parameters(rng, 0.8), 4000, rng, new_per_day=20)


def seed_learner(
    db: FakeDatabase, log: Sequence[memory.LogEntry], user: str = "1", **settings: object
) -> int:
    """A learner with this review log, and each card's state as of its last review."""
    chosen = replace(LearnerSettings(), **settings)  # type: ignore[arg-type]
    lid = db.run_sync(lambda tx: tx.learners.create("tg", user, "Ann", chosen, (), NOW)).id
    last: dict[str, datetime] = {}

    def work(tx: FakeTx) -> None:
        for card_id, at, rating in log:
            before = CardState(lid, card_id)
            tx.reviews.add(ReviewEntry(lid, card_id, rating, at, "dm", before, before))
            last[card_id] = at
        for card_id, at in last.items():
            tx.schedule.save(
                CardState(
                    lid, card_id, CardStateKind.REVIEW, None, 4.0, 6.0, at + timedelta(days=9), at
                )
            )

    db.run_sync(work)
    return lid


def fitter(db: FakeDatabase, clock: FixedClock, **kw: object) -> ModelFitter:
    return ModelFitter(db, clock, POLICY, **kw)  # type: ignore[arg-type]


async def test_the_tick_fits_keeps_and_recomputes_every_cards_memory_state(
    big_log: list[memory.LogEntry],
) -> None:
    db = FakeDatabase()
    lid = seed_learner(db, big_log)
    clock = FixedClock(NOW)
    (report,) = await fitter(db, clock).tick()
    fit = report.fit
    assert fit is not None and fit.kept and fit.id is not None
    assert report.log_size == 4000 and fit.reviews + fit.held_out == 4000
    assert fit.logloss_fitted < fit.logloss_current == fit.logloss_default
    learner = db.run_sync(lambda tx: tx.learners.get_by_id(lid))
    assert learner is not None and learner.settings.fsrs_parameters == fit.parameters
    expected = memory.memory_states(big_log, fit.parameters)
    for card_id, (stability, difficulty) in expected.items():
        state = db.state(lid, card_id)
        assert (state.stability, state.difficulty) == (stability, difficulty)
        assert state.last_review is not None
        assert state.due == state.last_review + timedelta(days=9)  # due dates stay
    assert db.run_sync(lambda tx: tx.models.latest(lid)) == fit
    assert db.run_sync(lambda tx: tx.models.next_at(lid)) == NOW + POLICY.recheck
    assert "kept" in report.describe() and "4000" not in report.describe()
    # Nothing is due a look until the recheck; then the log has not grown: no new fit.
    assert await fitter(db, clock).tick() == []
    clock.advance(POLICY.recheck)
    (again,) = await fitter(db, clock).tick()
    assert again.fit is None and again.note == "the log has not grown enough since the last fit"
    assert db.run_sync(lambda tx: tx.models.latest(lid)) == fit


async def test_a_small_log_waits_for_the_threshold() -> None:
    db = FakeDatabase()
    log = [(f"c{i % 30}", NOW - timedelta(days=40 - i // 10), 3) for i in range(120)]
    lid = seed_learner(db, log)
    (report,) = await fitter(db, FixedClock(NOW)).tick()
    assert report.fit is None
    assert report.describe() == f"learner {lid}: not enough reviews yet: 120 of 1000"
    assert db.run_sync(lambda tx: tx.models.latest(lid)) is None
    assert db.run_sync(lambda tx: tx.models.next_at(lid)) == NOW + POLICY.recheck


async def test_a_log_that_doubled_is_fitted_again(big_log: list[memory.LogEntry]) -> None:
    db = FakeDatabase()
    lid = seed_learner(db, big_log)
    old = ModelFit(lid, NOW - timedelta(days=2), 1600, 400, 0.4, 0.41, 0.4, False, (1.0,) * 21)
    db.run_sync(lambda tx: tx.models.add(old))
    (report,) = await fitter(db, FixedClock(NOW)).tick()  # 4,000 >= 2 x 2,000
    assert report.fit is not None and report.fit.fitted_at == NOW


async def test_parameters_no_better_than_those_in_use_are_recorded_not_kept(
    big_log: list[memory.LogEntry],
) -> None:
    best = memory.fit(big_log, "UTC", None)
    assert best is not None and best.kept
    db = FakeDatabase()
    lid = seed_learner(db, big_log, fsrs_parameters=best.parameters)
    before = db.snapshot().states
    (report,) = await fitter(db, FixedClock(NOW)).tick()
    fit = report.fit
    assert fit is not None and not fit.kept
    assert fit.logloss_fitted >= fit.logloss_current
    assert db.run_sync(lambda tx: tx.models.latest(lid, kept=False)) == fit
    learner = db.run_sync(lambda tx: tx.learners.get_by_id(lid))
    assert learner is not None and learner.settings.fsrs_parameters == best.parameters
    assert db.snapshot().states == before
    assert "not kept" in report.describe()


async def test_parameters_changed_during_the_fit_are_not_overwritten(
    big_log: list[memory.LogEntry],
) -> None:
    db = FakeDatabase()
    lid = seed_learner(db, big_log)
    other = (*memory.DEFAULT_PARAMETERS[:-1], 0.2)

    async def meanwhile(
        log: Sequence[memory.LogEntry], tz: str, current: tuple[float, ...] | None
    ) -> memory.FitResult | None:
        learner = db.run_sync(lambda tx: tx.learners.get_by_id(lid))
        assert learner is not None
        settings = replace(learner.settings, fsrs_parameters=other)
        db.run_sync(lambda tx: tx.learners.save_settings(lid, settings))
        return await fit_in_thread(log, tz, current)

    (report,) = await fitter(db, FixedClock(NOW), run=meanwhile).tick()
    assert report.fit is not None and not report.fit.kept
    learner = db.run_sync(lambda tx: tx.learners.get_by_id(lid))
    assert learner is not None and learner.settings.fsrs_parameters == other


async def test_a_failed_fit_is_logged_and_looked_at_again_later(
    big_log: list[memory.LogEntry], caplog: pytest.LogCaptureFixture
) -> None:
    db = FakeDatabase()
    lid = seed_learner(db, big_log)

    async def broken(*args: object) -> memory.FitResult | None:
        raise ValueError("InvalidInput")

    with caplog.at_level(logging.ERROR, logger="bot.core.fitting"):
        assert await fitter(db, FixedClock(NOW), run=broken).tick() == []
    assert f"fitting learner {lid} failed" in caplog.text
    assert db.run_sync(lambda tx: tx.models.next_at(lid)) == NOW + POLICY.recheck


async def test_each_tick_claims_at_most_its_share() -> None:
    db = FakeDatabase()
    for user in range(6):
        seed_learner(db, [], user=str(user))
    clock = FixedClock(NOW)
    assert len(await fitter(db, clock).tick()) == 4
    assert len(await fitter(db, clock).tick()) == 2
    assert await fitter(db, clock).tick() == []


async def test_optimize_ignores_the_schedule_but_not_the_threshold_or_the_rule(
    big_log: list[memory.LogEntry],
) -> None:
    db = FakeDatabase()
    lid = seed_learner(db, big_log)
    small = seed_learner(db, big_log[:50], user="2")
    clock = FixedClock(NOW)
    await fitter(db, clock).tick()  # fitted and kept; next look tomorrow
    reports = await fitter(db, clock).optimize()
    assert [r.learner_id for r in reports] == [lid, small]
    assert reports[0].fit is not None and not reports[0].fit.kept  # the same fit again
    assert reports[1].describe() == f"learner {small}: not enough reviews yet: 50 of 1000"
    assert db.run_sync(lambda tx: tx.models.next_at(lid)) == NOW + POLICY.recheck
    assert (await fitter(db, clock).optimize(99))[0].note == "no such learner"


# --------------------------------------------------------------------------- /stats


async def test_stats_tell_the_learner_about_their_model(big_log: list[memory.LogEntry]) -> None:
    db = FakeDatabase([make_deck("d", ["a1"])], now=NOW - timedelta(days=1))
    clock = FixedClock(NOW)
    services = build_services(db, clock)
    who = Who("tg", "1", "Ann")
    text = (await services.study.stats(who)).replies[0].text
    assert text.endswith("Your model: not fitted yet: 1000 more reviews")

    lid = seed_learner(db, big_log, user="2", timezone="Pacific/Auckland")
    await fitter(db, clock).tick()
    learner = db.run_sync(lambda tx: tx.learners.get_by_id(lid))
    assert learner is not None
    status = db.run_sync(lambda tx: model_status(tx, learner))
    fit = db.run_sync(lambda tx: tx.models.latest(lid, kept=True))
    assert fit is not None
    assert status == ModelStatus(
        3200, NOW.date() + timedelta(days=1), fit.logloss_fitted, fit.logloss_default
    )  # 00:00 on 2 September in Auckland
    assert status.describe() == (
        f"Your model: fitted on 3200 reviews on 2026-09-02: log loss {fit.logloss_fitted:.3f}"
        f" against {fit.logloss_default:.3f} with the defaults (lower is better)"
    )
    assert ModelStatus(judged=True).describe() == (
        "Your model: FSRS's defaults still predict your reviews best"
    )
    assert ModelStatus().describe() == (
        "Your model: enough reviews for a fit of your own; it comes with the next fitting"
    )
    # A learner with enough reviews whose fit did not beat the defaults is told so.
    other = seed_learner(db, big_log, user="3")
    db.run_sync(lambda tx: tx.models.add(replace(fit, learner_id=other, kept=False, id=None)))
    ben = db.run_sync(lambda tx: tx.learners.get_by_id(other))
    assert ben is not None
    told = db.run_sync(lambda tx: model_status(tx, ben)).describe()
    assert told == "Your model: FSRS's defaults still predict your reviews best"
