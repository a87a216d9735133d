"""The audit log names the connected database role, not a name the client typed

Revision ID: 0006
Revises: 0005
PostgreSQL: an audit event is refused unless its actor is the connection's own
role (session_user), optionally followed by " on behalf of " and a note. A client
cannot write another name; only a role that may drop this trigger could (the
runtime roles of issue 14 will not own the table).
SQLite has no roles: the actor is the operating-system user, recorded, not enforced.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0006'
down_revision: str | Sequence[str] | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ON_BEHALF = " on behalf of "


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"""CREATE FUNCTION bodycam_audit_identity() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.actor IS DISTINCT FROM session_user::text
         AND left(NEW.actor, length(session_user::text) + {len(ON_BEHALF)}) IS DISTINCT FROM
             session_user::text || '{ON_BEHALF}' THEN
        RAISE EXCEPTION USING MESSAGE = 'an audit event names the connected role ' || session_user
          || ', not ' || NEW.actor;
      END IF;
      RETURN NEW;
    END $$""")
    op.execute("CREATE TRIGGER audit_events_identity BEFORE INSERT ON audit_events "
               "FOR EACH ROW EXECUTE FUNCTION bodycam_audit_identity()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_events_identity ON audit_events")
    op.execute("DROP FUNCTION bodycam_audit_identity()")
