"""finding_reviews: a supervisor's verdict on a coverage finding (考核), append-only

Revision ID: 0009
Revises: 0008
Findings are computed from the index each time a report runs; a review names the
finding by its id (EVENT#hash of officers, kind and start, shown in every report)
and keeps event, officers and kind beside it for people. A finding reviewed again keeps
every review; the newest is the verdict. Rows are never changed or deleted.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bodycam.db.types import UTCDateTime

revision: str = '0009'
down_revision: str | Sequence[str] | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('finding_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('finding_id', sa.String(length=160), nullable=False),
        sa.Column('event_id', sa.String(length=128), nullable=False),
        sa.Column('officer', sa.String(length=500), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('result', sa.String(length=32), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('reviewed_by', sa.String(length=200), nullable=False),
        sa.Column('reviewed_at', UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_finding_reviews')),
    )
    op.create_index(op.f('ix_finding_reviews_finding_id'), 'finding_reviews', ['finding_id'])
    op.create_index(op.f('ix_finding_reviews_event_id'), 'finding_reviews', ['event_id'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE TRIGGER finding_reviews_append_only BEFORE UPDATE OR DELETE ON finding_reviews "
                   "FOR EACH ROW EXECUTE FUNCTION bodycam_refuse('a review is never changed: review again')")
    else:
        for what in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER finding_reviews_no_{what.lower()} BEFORE {what} ON finding_reviews "
                       "BEGIN SELECT RAISE(ABORT, 'a review is never changed: review again'); END")


def downgrade() -> None:
    op.drop_table('finding_reviews')
