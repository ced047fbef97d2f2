"""memory model

Each learner's own memory model: when it is next looked at
(``learners.next_fit_at``), every fit with its figures (``model_fits``), easy
days and an exam in the settings, and the intervals a reveal showed
(``prompts.intervals``), so a rating gives exactly what its button said.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("learners") as batch:
        batch.add_column(sa.Column("next_fit_at", sa.DateTime(timezone=True), nullable=True))
        batch.create_index("ix_learners_next_fit_at", ["next_fit_at"])
    with op.batch_alter_table("learner_settings") as batch:
        batch.add_column(
            sa.Column("easy_days", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("exam_date", sa.String(length=10), nullable=True))
        batch.add_column(sa.Column("exam_topic", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("exam_target", sa.Float(), nullable=False, server_default="0.9")
        )
    with op.batch_alter_table("prompts") as batch:
        batch.add_column(sa.Column("intervals", sa.String(length=64), nullable=True))
    op.create_table(
        "model_fits",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviews", sa.Integer(), nullable=False),
        sa.Column("held_out", sa.Integer(), nullable=False),
        sa.Column("logloss_current", sa.Float(), nullable=False),
        sa.Column("logloss_fitted", sa.Float(), nullable=False),
        sa.Column("logloss_default", sa.Float(), nullable=False),
        sa.Column("kept", sa.Boolean(), nullable=False),
        sa.Column("parameters", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name="fk_model_fits_learner_id_learners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_model_fits"),
    )
    op.create_index("ix_model_fits_learner_id_fitted_at", "model_fits", ["learner_id", "fitted_at"])


def downgrade() -> None:
    op.drop_index("ix_model_fits_learner_id_fitted_at", table_name="model_fits")
    op.drop_table("model_fits")
    with op.batch_alter_table("prompts") as batch:
        batch.drop_column("intervals")
    with op.batch_alter_table("learner_settings") as batch:
        batch.drop_column("exam_target")
        batch.drop_column("exam_topic")
        batch.drop_column("exam_date")
        batch.drop_column("easy_days")
    with op.batch_alter_table("learners") as batch:
        batch.drop_index("ix_learners_next_fit_at")
        batch.drop_column("next_fit_at")
