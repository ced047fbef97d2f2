"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('decks',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('tags', sa.Text(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decks'))
    )
    op.create_table('learners',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('platform_user_id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('unreachable', sa.Boolean(), nullable=False),
    sa.Column('dm_channel_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learners')),
    sa.UniqueConstraint('platform', 'platform_user_id', name=op.f('uq_learners_platform_platform_user_id'))
    )
    op.create_table('cards',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('deck_id', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=256), nullable=False),
    sa.Column('front', sa.Text(), nullable=False),
    sa.Column('back', sa.Text(), nullable=False),
    sa.Column('mnemonic', sa.Text(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('difficulty', sa.String(length=8), nullable=False),
    sa.Column('related', sa.Text(), nullable=False),
    sa.Column('image_kind', sa.String(length=8), nullable=True),
    sa.Column('image_spec', sa.Text(), nullable=True),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['deck_id'], ['decks.id'], name=op.f('fk_cards_deck_id_decks')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cards'))
    )
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cards_deck_id_position'), ['deck_id', 'position'], unique=False)

    op.create_table('learner_settings',
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('push_time', sa.String(length=5), nullable=False),
    sa.Column('desired_retention', sa.Float(), nullable=False),
    sa.Column('new_cards_per_day', sa.Integer(), nullable=False),
    sa.Column('max_reviews_per_day', sa.Integer(), nullable=False),
    sa.Column('learning_steps', sa.String(length=128), nullable=False),
    sa.Column('relearning_steps', sa.String(length=128), nullable=False),
    sa.Column('maximum_interval_days', sa.Integer(), nullable=False),
    sa.Column('leech_threshold', sa.Integer(), nullable=False),
    sa.Column('enable_fuzzing', sa.Boolean(), nullable=False),
    sa.Column('paused', sa.Boolean(), nullable=False),
    sa.Column('fsrs_parameters', sa.Text(), nullable=True),
    sa.Column('topics', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_learner_settings_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('learner_id', name=op.f('pk_learner_settings'))
    )
    op.create_table('card_states',
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.SmallInteger(), nullable=False),
    sa.Column('step', sa.Integer(), nullable=True),
    sa.Column('stability', sa.Float(), nullable=True),
    sa.Column('difficulty', sa.Float(), nullable=True),
    sa.Column('due', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_review', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reps', sa.Integer(), nullable=False),
    sa.Column('lapses', sa.Integer(), nullable=False),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('leech', sa.Boolean(), nullable=False),
    sa.Column('buried_until', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_card_states_card_id_cards')),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_card_states_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('learner_id', 'card_id', name=op.f('pk_card_states'))
    )
    with op.batch_alter_table('card_states', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_states_learner_id_due'), ['learner_id', 'due'], unique=False)

    op.create_table('card_tags',
    sa.Column('card_id', sa.String(length=64), nullable=False),
    sa.Column('tag', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_card_tags_card_id_cards')),
    sa.PrimaryKeyConstraint('card_id', 'tag', name=op.f('pk_card_tags'))
    )
    with op.batch_alter_table('card_tags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_card_tags_tag'), ['tag'], unique=False)

    op.create_table('prompts',
    sa.Column('token', sa.String(length=22), nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revealed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('typed_answer', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_prompts_card_id_cards')),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_prompts_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token', name=op.f('pk_prompts'))
    )
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_prompts_learner_id_created_at'), ['learner_id', 'created_at'], unique=False)

    op.create_table('review_logs',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('learner_id', sa.Integer(), nullable=False),
    sa.Column('card_id', sa.String(length=64), nullable=False),
    sa.Column('rating', sa.SmallInteger(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('typed_answer', sa.Text(), nullable=True),
    sa.Column('before_state', sa.SmallInteger(), nullable=True),
    sa.Column('before_step', sa.Integer(), nullable=True),
    sa.Column('before_stability', sa.Float(), nullable=True),
    sa.Column('before_difficulty', sa.Float(), nullable=True),
    sa.Column('before_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('before_last_review', sa.DateTime(timezone=True), nullable=True),
    sa.Column('before_reps', sa.Integer(), nullable=False),
    sa.Column('before_lapses', sa.Integer(), nullable=False),
    sa.Column('before_suspended', sa.Boolean(), nullable=False),
    sa.Column('before_leech', sa.Boolean(), nullable=False),
    sa.Column('before_buried_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('after_state', sa.SmallInteger(), nullable=True),
    sa.Column('after_step', sa.Integer(), nullable=True),
    sa.Column('after_stability', sa.Float(), nullable=True),
    sa.Column('after_difficulty', sa.Float(), nullable=True),
    sa.Column('after_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('after_last_review', sa.DateTime(timezone=True), nullable=True),
    sa.Column('after_lapses', sa.Integer(), nullable=False),
    sa.Column('undone_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['card_id'], ['cards.id'], name=op.f('fk_review_logs_card_id_cards')),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_review_logs_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_logs'))
    )
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_logs_learner_id_reviewed_at'), ['learner_id', 'reviewed_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('review_logs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_review_logs_learner_id_reviewed_at'))

    op.drop_table('review_logs')
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_prompts_learner_id_created_at'))

    op.drop_table('prompts')
    with op.batch_alter_table('card_tags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_tags_tag'))

    op.drop_table('card_tags')
    with op.batch_alter_table('card_states', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_card_states_learner_id_due'))

    op.drop_table('card_states')
    op.drop_table('learner_settings')
    with op.batch_alter_table('cards', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cards_deck_id_position'))

    op.drop_table('cards')
    op.drop_table('learners')
    op.drop_table('decks')
