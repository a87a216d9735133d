"""clips.officer_source: where a clip's officer came from

Revision ID: 0002
Revises: 0001
An assignments import re-attributes clips whose officer came from the roster (or
was unknown), never those the file itself names. Clips stored before this
revision that have an officer are marked 'named', so nothing already attributed
changes; clips without one can be attributed by a later import.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ADD COLUMN, not a batch copy: recreating clips on SQLite would drop its triggers
    op.add_column('clips', sa.Column('officer_source', sa.String(length=16), server_default='', nullable=False))
    op.execute("UPDATE clips SET officer_source = 'named' WHERE officer_id IS NOT NULL")


def downgrade() -> None:
    op.drop_column('clips', 'officer_source')
