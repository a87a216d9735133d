"""The database refuses TRUNCATE of evidence tables and an unaudited disposal

Revision ID: 0004
Revises: 0003
- PostgreSQL: BEFORE TRUNCATE triggers on every evidence table (row triggers do
  not see TRUNCATE). SQLite has no TRUNCATE; its DELETE guards stand.
- Both: a clip's disposed_at can be set only when its clip.dispose audit event is
  already in the log (the sweep writes it first, in the same transaction), and a
  disposal is final. Someone who drops these triggers is still caught by the
  seals in the write-once store and by `bodycam check`.
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0004'
down_revision: str | Sequence[str] | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVIDENCE_TABLES = ("audit_events", "clips", "attachments", "clip_corrections", "case_clips", "holds",
                   "clip_sightings", "clip_flags", "ingest_items", "interrogation_sessions")
_NO_DISPOSE_EVENT = "a clip is disposed only with its clip.dispose audit event"
_FINAL = "a disposal is final"

_SQLITE = [
    "CREATE TRIGGER clips_disposal_audited BEFORE UPDATE OF disposed_at ON clips "
    "WHEN OLD.disposed_at IS NULL AND NEW.disposed_at IS NOT NULL AND NOT EXISTS ("
    "SELECT 1 FROM audit_events WHERE action = 'clip.dispose' AND subject = 'clip:' || NEW.id) "
    f"BEGIN SELECT RAISE(ABORT, '{_NO_DISPOSE_EVENT}'); END",
    "CREATE TRIGGER clips_disposal_final BEFORE UPDATE OF disposed_at ON clips "
    "WHEN OLD.disposed_at IS NOT NULL AND NEW.disposed_at IS NOT OLD.disposed_at "
    f"BEGIN SELECT RAISE(ABORT, '{_FINAL}'); END",
]
_PG = [
    f"""CREATE FUNCTION bodycam_disposal_audited() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF OLD.disposed_at IS NOT NULL AND NEW.disposed_at IS DISTINCT FROM OLD.disposed_at THEN
        RAISE EXCEPTION '{_FINAL}';
      END IF;
      IF OLD.disposed_at IS NULL AND NEW.disposed_at IS NOT NULL AND NOT EXISTS (
          SELECT 1 FROM audit_events WHERE action = 'clip.dispose' AND subject = 'clip:' || NEW.id) THEN
        RAISE EXCEPTION '{_NO_DISPOSE_EVENT}';
      END IF;
      RETURN NEW;
    END $$""",
    "CREATE TRIGGER clips_disposal_audited BEFORE UPDATE OF disposed_at ON clips "
    "FOR EACH ROW EXECUTE FUNCTION bodycam_disposal_audited()",
    *(f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} FOR EACH STATEMENT "
      f"EXECUTE FUNCTION bodycam_refuse('{t} is evidence: TRUNCATE refused')" for t in EVIDENCE_TABLES),
]


def upgrade() -> None:
    for statement in (_PG if op.get_bind().dialect.name == "postgresql" else _SQLITE):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for t in EVIDENCE_TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS {t}_no_truncate ON {t}")
        op.execute("DROP TRIGGER IF EXISTS clips_disposal_audited ON clips")
        op.execute("DROP FUNCTION IF EXISTS bodycam_disposal_audited()")
    else:
        op.execute("DROP TRIGGER IF EXISTS clips_disposal_audited")
        op.execute("DROP TRIGGER IF EXISTS clips_disposal_final")
