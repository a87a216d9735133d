"""analysis_jobs: the picture analysis runs behind ingest, on any worker

Revision ID: 0005
Revises: 0004
A camera is released once its files are stored, verified and indexed; the decode
that finds black, frozen and jumping pictures is a job taken later by analysis
workers, with a claim and a lease like ingest's. Clips stored before this
revision were analysed at ingest: they get no job.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bodycam.db.types import UTCDateTime

revision: str = '0005'
down_revision: str | Sequence[str] | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analysis_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clip_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('claimed_by', sa.String(length=255), nullable=False, server_default=''),
        sa.Column('heartbeat_at', UTCDateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.Column('finished_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['clip_id'], ['clips.id'], name=op.f('fk_analysis_jobs_clip_id_clips')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_analysis_jobs')),
        sa.UniqueConstraint('clip_id', name=op.f('uq_analysis_jobs_clip_id')),
    )
    op.create_index(op.f('ix_analysis_jobs_state'), 'analysis_jobs', ['state'])


def downgrade() -> None:
    op.drop_index(op.f('ix_analysis_jobs_state'), table_name='analysis_jobs')
    op.drop_table('analysis_jobs')
