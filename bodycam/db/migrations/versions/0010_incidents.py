"""incidents: calls for service (警情) from dispatch exports, their officers' windows, their clip links

Revision ID: 0010
Revises: 0009
An incident's officers each have their own dispatch and clear; a clip of theirs within that window
(with the configured buffers) is linked by rule, with its reason. A person may link or unlink by hand;
an unlink is kept (who, when, why), and a rule never links that pair again.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bodycam.db.types import UTCDateTime

revision: str = '0010'
down_revision: str | Sequence[str] | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('incidents',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.String(length=128), nullable=False),
        sa.Column('type', sa.String(length=200), nullable=False),
        sa.Column('scenario', sa.String(length=40), nullable=True),
        sa.Column('received_at', UTCDateTime(), nullable=True),
        sa.Column('start', UTCDateTime(), nullable=False),
        sa.Column('end', UTCDateTime(), nullable=False),
        sa.Column('unit_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('event_id', sa.Integer(), nullable=True),
        sa.Column('location', sa.String(length=500), nullable=False),
        sa.Column('imported_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_incidents_unit_id_units')),
        sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_incidents_case_id_cases')),
        sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_incidents_event_id_events')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incidents')),
        sa.UniqueConstraint('incident_id', name=op.f('uq_incidents_incident_id')),
    )
    op.create_index(op.f('ix_incidents_start'), 'incidents', ['start'])
    op.create_index(op.f('ix_incidents_unit_id'), 'incidents', ['unit_id'])
    op.create_index(op.f('ix_incidents_case_id'), 'incidents', ['case_id'])
    op.create_table('incident_officers',
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('officer_id', sa.Integer(), nullable=False),
        sa.Column('dispatched_at', UTCDateTime(), nullable=False),
        sa.Column('arrived_at', UTCDateTime(), nullable=True),
        sa.Column('cleared_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'],
                                name=op.f('fk_incident_officers_incident_id_incidents')),
        sa.ForeignKeyConstraint(['officer_id'], ['officers.id'], name=op.f('fk_incident_officers_officer_id_officers')),
        sa.PrimaryKeyConstraint('incident_id', 'officer_id', name=op.f('pk_incident_officers')),
    )
    op.create_index(op.f('ix_incident_officers_officer_id'), 'incident_officers', ['officer_id'])
    op.create_table('incident_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('incident_id', sa.Integer(), nullable=False),
        sa.Column('clip_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('linked_at', UTCDateTime(), nullable=False),
        sa.Column('linked_by', sa.String(length=200), nullable=False),
        sa.Column('unlinked_at', UTCDateTime(), nullable=True),
        sa.Column('unlinked_by', sa.String(length=200), nullable=True),
        sa.Column('unlink_reason', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['incident_id'], ['incidents.id'], name=op.f('fk_incident_links_incident_id_incidents')),
        sa.ForeignKeyConstraint(['clip_id'], ['clips.id'], name=op.f('fk_incident_links_clip_id_clips')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_links')),
        sa.UniqueConstraint('incident_id', 'clip_id', name=op.f('uq_incident_links_incident_id')),
    )
    op.create_index(op.f('ix_incident_links_incident_id'), 'incident_links', ['incident_id'])
    op.create_index(op.f('ix_incident_links_clip_id'), 'incident_links', ['clip_id'])


def downgrade() -> None:
    op.drop_table('incident_links')
    op.drop_table('incident_officers')
    op.drop_table('incidents')
