"""snoozes out of the job store

APScheduler's persistent job store is gone: a snoozed push is the learner's
next push instant (0007), and challenge deadlines are found from
``challenge_runs`` itself. Snoozes still pending in the old ``apscheduler_jobs``
table (job ids ``snooze-<learner id>``, ``next_run_time`` in epoch seconds)
become snoozed next push instants; then the table goes. Pending reveals
(``reveal-<run id>``) need nothing: the challenge sweep reveals overdue runs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JOBS = "apscheduler_jobs"


def upgrade() -> None:
    bind = op.get_bind()
    if not sa.inspect(bind).has_table(JOBS):
        return
    jobs = sa.table(JOBS, sa.column("id", sa.String), sa.column("next_run_time", sa.Float))
    learners = sa.table(
        "learners",
        sa.column("id", sa.Integer),
        sa.column("next_push_at", sa.DateTime(timezone=True)),
        sa.column("push_snoozed", sa.Boolean),
    )
    pending = bind.execute(
        sa.select(jobs.c.id, jobs.c.next_run_time).where(jobs.c.id.like("snooze-%"))
    ).all()
    for job_id, when in pending:
        learner_id = job_id.removeprefix("snooze-")
        if when is None or not learner_id.isdigit():
            continue
        due = datetime.fromtimestamp(when, UTC)
        bind.execute(
            sa.update(learners)
            .where(learners.c.id == int(learner_id))
            .values(next_push_at=due, push_snoozed=True)
        )
    op.drop_table(JOBS)


def downgrade() -> None:
    # The job store creates its table itself when it starts; nothing to restore.
    pass
