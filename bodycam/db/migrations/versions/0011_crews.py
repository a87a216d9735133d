"""crews: in-car cameras bound to a vehicle, and the vehicle's crew by shift

Revision ID: 0011
Revises: 0010
A patrol car's camera records for everyone in the car. `devices.vehicle` binds the camera to its car;
`crew_shifts` says who rode in it from when to when (several officers at once, unlike a body camera's
single holder), so the footage counts for each crew member: coverage, incident links, search, queues.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bodycam.db.types import UTCDateTime

revision: str = '0011'
down_revision: str | Sequence[str] | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vehicle', sa.String(length=128), nullable=True))
    op.create_table('crew_shifts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('vehicle', sa.String(length=128), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('start', UTCDateTime(), nullable=False),
        sa.Column('end', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_crew_shifts_officer_id_officers')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_crew_shifts')),
        sa.UniqueConstraint('vehicle', 'officer_id', 'start', name=op.f('uq_crew_shifts_vehicle')),
    )
    op.create_index('ix_crew_shifts_vehicle_time', 'crew_shifts', ['vehicle', 'start'])
    op.create_index(op.f('ix_crew_shifts_officer_id'), 'crew_shifts', ['officer_id'])


def downgrade() -> None:
    op.drop_table('crew_shifts')
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('vehicle')
