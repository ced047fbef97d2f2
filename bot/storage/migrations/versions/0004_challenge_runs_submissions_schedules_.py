"""challenge runs, submissions, schedules and group settings

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('challenge_schedules',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('challenge_id', sa.String(length=64), nullable=False),
    sa.Column('weekday', sa.SmallInteger(), nullable=False),
    sa.Column('at', sa.String(length=5), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('next_run_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_schedules'))
    )
    with op.batch_alter_table('challenge_schedules', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_schedules_next_run_at'), ['next_run_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_schedules_platform_chat_id'), ['platform', 'chat_id'], unique=False)

    op.create_table('group_settings',
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('who_runs', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('platform', 'chat_id', name=op.f('pk_group_settings'))
    )
    op.create_table('challenge_runs',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('token', sa.String(length=22), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('chat_id', sa.String(length=64), nullable=False),
    sa.Column('challenge_id', sa.String(length=64), nullable=False),
    sa.Column('started_by', sa.Integer(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('summary_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['started_by'], ['learners.id'], name=op.f('fk_challenge_runs_started_by_learners'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_challenge_runs')),
    sa.UniqueConstraint('token', name=op.f('uq_challenge_runs_token'))
    )
    with op.batch_alter_table('challenge_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_challenge_runs_platform_chat_id_started_at'), ['platform', 'chat_id', 'started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_challenge_runs_revealed_at_deadline'), ['revealed_at', 'deadline'], unique=False)

    op.create_table('challenge_submissions',
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=22), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('text', sa.Text(), nullable=True),
    sa.Column('photo_ref', sa.Text(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('grades', sa.String(length=64), nullable=False),
    sa.Column('checks', sa.String(length=64), nullable=False),
    sa.Column('assessed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('shared_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('show_name', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_challenge_submissions_learner_id_learners'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['run_id'], ['challenge_runs.id'], name=op.f('fk_challenge_submissions_run_id_challenge_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('run_id', 'learner_id', name=op.f('pk_challenge_submissions')),
    sa.UniqueConstraint('token', name=op.f('uq_challenge_submissions_token'))
    )


def downgrade() -> None:
    op.drop_table('challenge_submissions')
    with op.batch_alter_table('challenge_runs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_runs_revealed_at_deadline'))
        batch_op.drop_index(batch_op.f('ix_challenge_runs_platform_chat_id_started_at'))

    op.drop_table('challenge_runs')
    op.drop_table('group_settings')
    with op.batch_alter_table('challenge_schedules', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_challenge_schedules_platform_chat_id'))
        batch_op.drop_index(batch_op.f('ix_challenge_schedules_next_run_at'))

    op.drop_table('challenge_schedules')
