"""officer_logins: a recording officer's login sees their own clips only (row-level security)

Revision ID: 0008
Revises: 0007
The recording officer may view, not change or delete, and only what they recorded
(the 2016 MPS rule and its provincial implementations). `bodycam users add NAME
--role officer --badge B` records which badge a login role is; on PostgreSQL,
row-level security on clips, their flags, attachments, corrections, sightings and case
links shows a
member of bodycam_officer only the rows of clips with that badge. Every other
role sees every row (a permissive policy), and the owner is not subject to it.
SQLite: the table only (one OS user; recorded, not enforced).
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | Sequence[str] | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OTHERS = ("bodycam_dock", "bodycam_analysis", "bodycam_clerk", "bodycam_inspector", "bodycam_supervisor",
          "bodycam_retention", "bodycam_auditor")
OWN = "officer_badge IN (SELECT badge FROM officer_logins WHERE login = session_user)"
BY_CLIP = f"clip_id IN (SELECT id FROM clips WHERE {OWN})"
TABLES = {"clips": OWN, "clip_flags": BY_CLIP, "attachments": f"clip_id IS NOT NULL AND {BY_CLIP}",
          "clip_corrections": BY_CLIP, "clip_sightings": BY_CLIP, "case_clips": BY_CLIP}


def upgrade() -> None:
    op.create_table('officer_logins',
        sa.Column('login', sa.String(length=63), nullable=False),
        sa.Column('badge', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('login', name=op.f('pk_officer_logins')),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    for role in (*OTHERS, "bodycam_officer"):  # policies name roles: they exist before `roles init`
        op.execute(f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
                   f"CREATE ROLE {role} NOLOGIN; END IF; END $$")
    for table, own in TABLES.items():
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY {table}_every_row ON {table} TO {', '.join(OTHERS)} USING (true) WITH CHECK (true)")
        op.execute(f"CREATE POLICY {table}_own_clips ON {table} FOR SELECT TO bodycam_officer USING ({own})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP POLICY IF EXISTS {table}_own_clips ON {table}")
            op.execute(f"DROP POLICY IF EXISTS {table}_every_row ON {table}")
            op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")
    op.drop_table('officer_logins')
