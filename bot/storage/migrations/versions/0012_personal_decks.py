"""personal decks

Decks a learner imports (from Anki or a text file) are theirs alone: ``decks.owner_id``
(NULL for the shipped decks), where they came from (``source``, ``source_ref``, so a
second import updates them), and whether the owner paused them. Imported images go in
``media``; a confirmation may name what it is about (``confirmations.subject``: the deck
a removal removes). The rows that name a card are indexed by it, so removing a deck's
cards is quick.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: The tables whose rows name a card, indexed by it.
CARD_TABLES = ("card_states", "review_logs", "prompts")


def upgrade() -> None:
    # Plain ALTER TABLE statements, never SQLite's copy-and-move: the cards refer to the
    # decks, so copying the decks table would break their foreign keys. No foreign key
    # on owner_id for the same reason (going back could not drop it); deleting a learner
    # deletes their decks first (SqlLearners.delete).
    op.add_column("decks", sa.Column("owner_id", sa.Integer(), nullable=True))
    op.add_column("decks", sa.Column("source", sa.String(length=16), nullable=True))
    op.add_column("decks", sa.Column("source_ref", sa.String(length=256), nullable=True))
    op.add_column(
        "decks", sa.Column("paused", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.create_index("ix_decks_owner_id", "decks", ["owner_id"])
    # Removing a deck (or /forget of its owner) deletes its cards: without these, each
    # deleted card made the database scan three tables to check their foreign keys
    # (1,000 cards beside 300,000 reviews: 51 s on SQLite, 63 s on PostgreSQL; with
    # them 0.08 s and 0.19 s).
    for table in CARD_TABLES:
        op.create_index(f"ix_{table}_card_id", table, ["card_id"])
    op.add_column("confirmations", sa.Column("subject", sa.String(length=64), nullable=True))
    op.create_table(
        "media",
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("mime", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["learners.id"], name="fk_media_owner_id_learners", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("owner_id", "name", name="pk_media"),
    )


def downgrade() -> None:
    for table in CARD_TABLES:
        op.drop_index(f"ix_{table}_card_id", table_name=table)
    op.drop_table("media")
    with op.batch_alter_table("confirmations") as batch:
        batch.drop_column("subject")
    op.drop_index("ix_decks_owner_id", table_name="decks")
    for column in ("paused", "source_ref", "source", "owner_id"):
        op.drop_column("decks", column)  # SQLite 3.35+: ALTER TABLE ... DROP COLUMN
