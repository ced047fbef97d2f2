"""challenge photos

The photo of a member's challenge answer is downloaded when it is sent and kept in
``challenge_photos`` (its bytes, MIME type and size), a table of its own so that listing
submissions never reads the bytes. ``challenge_submissions.photo_ref`` stays: the
platform's reference, which marks an answer given as a photo.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "challenge_photos",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id", "learner_id"],
            ["challenge_submissions.run_id", "challenge_submissions.learner_id"],
            name="fk_challenge_photos_run_id_challenge_submissions",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "learner_id", name="pk_challenge_photos"),
    )


def downgrade() -> None:
    # The photos go; the submissions keep their platform references (as before 0014).
    op.drop_table("challenge_photos")
