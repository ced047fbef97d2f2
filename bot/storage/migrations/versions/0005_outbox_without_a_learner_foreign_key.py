"""outbox without a learner foreign key

The outbox is a short-lived queue written thousands of rows at a time; the
per-row key check cost PostgreSQL about a third of each insert. Deleting a
learner now deletes their outbox rows explicitly.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_outbox_learner_id_learners"), type_="foreignkey")


def downgrade() -> None:
    # Rows of learners deleted meanwhile would break the restored key.
    op.execute("DELETE FROM outbox WHERE learner_id NOT IN (SELECT id FROM learners)")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_outbox_learner_id_learners"),
            "learners",
            ["learner_id"],
            ["id"],
            ondelete="CASCADE",
        )
