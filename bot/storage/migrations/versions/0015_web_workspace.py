"""web workspace

The browser workspace (``[web]``): ``web_sessions`` (a signed-in browser, by the
SHA-256 of its cookie; never the cookie itself), ``web_once`` (the digests of Mini App
logins and one-time links already used, so a replay is refused in any process) and
``web_drafts`` (what a learner has typed so far, one per learner and key). Sessions
and drafts go with their learner.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name="fk_web_sessions_learner_id_learners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id_hash", name="pk_web_sessions"),
    )
    op.create_index("ix_web_sessions_expires_at", "web_sessions", ["expires_at"])
    op.create_index("ix_web_sessions_learner_id", "web_sessions", ["learner_id"])
    op.create_table(
        "web_once",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_web_once"),
    )
    op.create_index("ix_web_once_expires_at", "web_once", ["expires_at"])
    op.create_table(
        "web_drafts",
        sa.Column("learner_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name="fk_web_drafts_learner_id_learners",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("learner_id", "key", name="pk_web_drafts"),
    )


def downgrade() -> None:
    # Everyone signed in to the workspace is signed out; drafts go.
    op.drop_table("web_drafts")
    op.drop_index("ix_web_once_expires_at", table_name="web_once")
    op.drop_table("web_once")
    op.drop_index("ix_web_sessions_learner_id", table_name="web_sessions")
    op.drop_index("ix_web_sessions_expires_at", table_name="web_sessions")
    op.drop_table("web_sessions")
