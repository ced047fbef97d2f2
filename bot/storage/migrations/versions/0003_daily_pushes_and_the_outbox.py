"""daily pushes and the outbox

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('card_id', sa.String(length=64), nullable=True),
    sa.Column('prompt_token', sa.String(length=22), nullable=True),
    sa.Column('due_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('lease_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_outbox_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox'))
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_platform_sent_at_failed_at_not_before'), ['platform', 'sent_at', 'failed_at', 'not_before'], unique=False)

    with op.batch_alter_table('learner_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('quiet_start', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('quiet_end', sa.String(length=5), nullable=True))
        batch_op.add_column(sa.Column('days_off', sa.String(length=7), server_default='', nullable=False))
        batch_op.add_column(sa.Column('max_cards_per_push', sa.Integer(), server_default='20', nullable=False))

    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_push_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('last_reminder_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_learners_next_push_at'), ['next_push_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('learners', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learners_next_push_at'))
        batch_op.drop_column('last_reminder_at')
        batch_op.drop_column('next_push_at')

    with op.batch_alter_table('learner_settings', schema=None) as batch_op:
        batch_op.drop_column('max_cards_per_push')
        batch_op.drop_column('days_off')
        batch_op.drop_column('quiet_end')
        batch_op.drop_column('quiet_start')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outbox_platform_sent_at_failed_at_not_before'))

    op.drop_table('outbox')
