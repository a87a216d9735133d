"""export_approvals: copying footage out needs a supervisor's approval (when required)

Revision ID: 0007
Revises: 0006
A request names the clips, the reason and the recipient; a supervisor who is not
the requester approves or refuses it once; an approved request is carried out
once. The database keeps each of these rules, even against raw SQL:
- PostgreSQL: the requester, the decider and the user are the connection's role
  (session_user), the decider is not the requester, a decision and a use are
  final, nothing is deleted; the GRANTs of `bodycam roles init` let only the
  supervisor role write the decision columns.
- SQLite (one OS user, recorded, not enforced): the same rules by triggers, but
  the names are what bodycam wrote.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bodycam.db.types import UTCDateTime

revision: str = '0007'
down_revision: str | Sequence[str] | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SELF = "an export request is decided by someone other than its requester"
_ONCE = "an export request is decided once"
_USED = "an export approval is used once, and only when approved"
_FIXED = "the clips, reason, recipient and requester of an export request are fixed"
_NEW = "an export request starts undecided and unused"

_PG = [
    f"""CREATE FUNCTION bodycam_export_approvals() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        IF NEW.requested_by IS DISTINCT FROM session_user::text THEN
          RAISE EXCEPTION USING MESSAGE = 'an export request names the connected role ' || session_user;
        END IF;
        IF NEW.decided_at IS NOT NULL OR NEW.decision IS NOT NULL OR NEW.used_at IS NOT NULL THEN
          RAISE EXCEPTION '{_NEW}';
        END IF;
        RETURN NEW;
      END IF;
      IF (NEW.requested_by, NEW.requested_at, NEW.clip_ids, NEW.reason, NEW.recipient)
         IS DISTINCT FROM (OLD.requested_by, OLD.requested_at, OLD.clip_ids, OLD.reason, OLD.recipient) THEN
        RAISE EXCEPTION '{_FIXED}';
      END IF;
      IF (NEW.decision, NEW.decided_by, NEW.decided_at, NEW.decision_note)
         IS DISTINCT FROM (OLD.decision, OLD.decided_by, OLD.decided_at, OLD.decision_note) THEN
        IF OLD.decision IS NOT NULL THEN RAISE EXCEPTION '{_ONCE}'; END IF;
        IF NEW.decided_by IS DISTINCT FROM session_user::text THEN
          RAISE EXCEPTION USING MESSAGE = 'an export decision names the connected role ' || session_user;
        END IF;
        IF NEW.decided_by = OLD.requested_by THEN RAISE EXCEPTION '{_SELF}'; END IF;
      END IF;
      IF (NEW.used_at, NEW.used_by, NEW.export_id) IS DISTINCT FROM (OLD.used_at, OLD.used_by, OLD.export_id) THEN
        IF OLD.used_at IS NOT NULL OR NEW.decision IS DISTINCT FROM 'approved' THEN
          RAISE EXCEPTION '{_USED}';
        END IF;
        IF NEW.used_by IS DISTINCT FROM session_user::text THEN
          RAISE EXCEPTION USING MESSAGE = 'an export approval is used under the connected role ' || session_user;
        END IF;
      END IF;
      RETURN NEW;
    END $$""",
    "CREATE TRIGGER export_approvals_rules BEFORE INSERT OR UPDATE ON export_approvals "
    "FOR EACH ROW EXECUTE FUNCTION bodycam_export_approvals()",
    "CREATE TRIGGER export_approvals_no_delete BEFORE DELETE ON export_approvals "
    "FOR EACH ROW EXECUTE FUNCTION bodycam_refuse('export approvals are never deleted')",
    "CREATE TRIGGER export_approvals_no_truncate BEFORE TRUNCATE ON export_approvals "
    "FOR EACH STATEMENT EXECUTE FUNCTION bodycam_refuse('export approvals are evidence: TRUNCATE refused')",
]
_SQLITE = [
    "CREATE TRIGGER export_approvals_new BEFORE INSERT ON export_approvals "
    "WHEN NEW.decided_at IS NOT NULL OR NEW.decision IS NOT NULL OR NEW.used_at IS NOT NULL "
    f"BEGIN SELECT RAISE(ABORT, '{_NEW}'); END",
    "CREATE TRIGGER export_approvals_fixed BEFORE UPDATE ON export_approvals "
    "WHEN NEW.requested_by IS NOT OLD.requested_by OR NEW.requested_at IS NOT OLD.requested_at "
    "OR NEW.clip_ids IS NOT OLD.clip_ids OR NEW.reason IS NOT OLD.reason OR NEW.recipient IS NOT OLD.recipient "
    f"BEGIN SELECT RAISE(ABORT, '{_FIXED}'); END",
    "CREATE TRIGGER export_approvals_once BEFORE UPDATE OF decision, decided_by, decided_at ON export_approvals "
    "WHEN OLD.decision IS NOT NULL "
    f"BEGIN SELECT RAISE(ABORT, '{_ONCE}'); END",
    "CREATE TRIGGER export_approvals_self BEFORE UPDATE OF decided_by ON export_approvals "
    "WHEN NEW.decided_by = OLD.requested_by "
    f"BEGIN SELECT RAISE(ABORT, '{_SELF}'); END",
    "CREATE TRIGGER export_approvals_used BEFORE UPDATE OF used_at, used_by, export_id ON export_approvals "
    "WHEN OLD.used_at IS NOT NULL OR NEW.decision IS NOT 'approved' "
    f"BEGIN SELECT RAISE(ABORT, '{_USED}'); END",
    "CREATE TRIGGER export_approvals_no_delete BEFORE DELETE ON export_approvals "
    "BEGIN SELECT RAISE(ABORT, 'export approvals are never deleted'); END",
]


def upgrade() -> None:
    op.create_table('export_approvals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('requested_at', UTCDateTime(), nullable=False),
        sa.Column('requested_by', sa.String(length=200), nullable=False),
        sa.Column('clip_ids', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('recipient', sa.Text(), nullable=True),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('decided_by', sa.String(length=200), nullable=True),
        sa.Column('decided_at', UTCDateTime(), nullable=True),
        sa.Column('decision_note', sa.Text(), nullable=True),
        sa.Column('used_at', UTCDateTime(), nullable=True),
        sa.Column('used_by', sa.String(length=200), nullable=True),
        sa.Column('export_id', sa.String(length=32), nullable=True),
        sa.CheckConstraint("decision IS NULL OR decision IN ('approved', 'refused')",
                           name=op.f('ck_export_approvals_decision')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_approvals')),
    )
    for statement in (_PG if op.get_bind().dialect.name == "postgresql" else _SQLITE):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table('export_approvals')
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS bodycam_export_approvals()")
