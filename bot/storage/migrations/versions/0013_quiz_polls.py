"""quiz polls

A card may have a multiple-choice form (``cards.choices``: its options and the right
one, as JSON; NULL for none), and a quiz round may have been posted as a Telegram quiz
poll: ``quiz_rounds.poll_id`` (the platform's poll id, unique: each poll answer finds
its round by it), ``poll_message_id`` (the poll's message, stopped when the round
closes) and ``poll_correct`` (the right option's index as the poll showed them).

A card with choices hashes differently, so the next deck sync writes them. Going back
drops the columns and blanks the hash of each card that had choices, so a sync after
the next upgrade writes them again.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ALTER TABLE statements: other tables refer to both (see 0012).
    op.add_column("cards", sa.Column("choices", sa.Text(), nullable=True))
    op.add_column("quiz_rounds", sa.Column("poll_id", sa.String(length=64), nullable=True))
    op.add_column("quiz_rounds", sa.Column("poll_message_id", sa.String(length=32), nullable=True))
    op.add_column("quiz_rounds", sa.Column("poll_correct", sa.SmallInteger(), nullable=True))
    op.create_index("ix_quiz_rounds_poll_id", "quiz_rounds", ["poll_id"], unique=True)


def downgrade() -> None:
    cards = sa.table("cards", sa.column("content_hash", sa.String), sa.column("choices", sa.Text))
    op.execute(cards.update().where(cards.c.choices.is_not(None)).values(content_hash=""))
    op.drop_index("ix_quiz_rounds_poll_id", table_name="quiz_rounds")
    for column in ("poll_correct", "poll_message_id", "poll_id"):
        op.drop_column("quiz_rounds", column)  # SQLite 3.35+: ALTER TABLE ... DROP COLUMN
    op.drop_column("cards", "choices")
