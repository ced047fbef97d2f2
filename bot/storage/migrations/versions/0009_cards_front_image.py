"""cards front image

A card's image belongs to a side: ``image_kind``/``image_spec`` hold the back's
(``image:``, shown with the answer), and the new ``front_image_kind``/
``front_image_spec`` the front's (``front-image:``, shown with the question).
The next deck sync fills them (a card with a front image hashes differently); going
back blanks the hash of each card that had one, so a sync after the next upgrade
writes it again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-08
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.add_column(sa.Column("front_image_kind", sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column("front_image_spec", sa.Text(), nullable=True))


def downgrade() -> None:
    # A card that had a front image must be written again by the next sync after an
    # upgrade (its hash would otherwise say it is up to date, without its front image).
    cards = sa.table(
        "cards",
        sa.column("content_hash", sa.String),
        sa.column("front_image_kind", sa.String),
    )
    op.execute(
        sa.update(cards).where(cards.c.front_image_kind.is_not(None)).values(content_hash="")
    )
    with op.batch_alter_table("cards", schema=None) as batch_op:
        batch_op.drop_column("front_image_spec")
        batch_op.drop_column("front_image_kind")
