"""quiz rounds and confirmations

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('confirmations',
    sa.Column('token', sa.String(length=22), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_confirmations_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_confirmations'))
    )
    op.create_table('quiz_rounds',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token', sa.String(length=22), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('card_id', sa.String(length=64), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expected', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_quiz_rounds_card_id_cards')),
    sa.ForeignKeyConstraint(['started_by'], ['learners.id'], name=op.f('fk_quiz_rounds_started_by_learners'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quiz_rounds')),
    sa.UniqueConstraint('token', name=op.f('uq_quiz_rounds_token'))
    )
    with op.batch_alter_table('quiz_rounds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_rounds_closed_at_ends_at'), ['closed_at', 'ends_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_quiz_rounds_platform_chat_id_started_at'), ['platform', 'chat_id', 'started_at'], unique=False)

    op.create_table('quiz_participants',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('prompt_token', sa.String(length=22), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_quiz_participants_learner_id_learners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['round_id'], ['quiz_rounds.id'], name=op.f('fk_quiz_participants_round_id_quiz_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'learner_id', name=op.f('pk_quiz_participants'))
    )
    with op.batch_alter_table('quiz_participants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quiz_participants_prompt_token'), ['prompt_token'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('quiz_participants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_participants_prompt_token'))

    op.drop_table('quiz_participants')
    with op.batch_alter_table('quiz_rounds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quiz_rounds_platform_chat_id_started_at'))
        batch_op.drop_index(batch_op.f('ix_quiz_rounds_closed_at_ends_at'))

    op.drop_table('quiz_rounds')
    op.drop_table('confirmations')
