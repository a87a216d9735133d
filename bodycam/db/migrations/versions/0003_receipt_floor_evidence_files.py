"""Bytes docked again after disposal are new evidence; corrections; sidecars and manifests as objects

Revision ID: 0003
Revises: 0002
- clips.sha256 is unique only among clips not disposed: bytes whose clip was
  disposed are stored again as a new clip, never counted as a duplicate.
- clip_corrections: every corrected recording time, officer or device, with the
  original value, the reason and who corrected it.
- attachments: sidecars and session manifests, stored as objects beside their
  media under the same lock, hashed and indexed; rows never deleted, objects immutable.
On SQLite, dropping the inline unique constraint needs the table copied; the
copy runs with deferred foreign keys and the clip guards are put back after it.
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bodycam.db.types import UTCDateTime

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_CLIP_GUARDS = [
    "CREATE TRIGGER clips_no_delete BEFORE DELETE ON clips "
    "BEGIN SELECT RAISE(ABORT, 'clip records are never deleted'); END",
    "CREATE TRIGGER clips_immutable BEFORE UPDATE OF sha256, size, store_key, store_version ON clips "
    "WHEN OLD.sha256 IS NOT NEW.sha256 OR OLD.size IS NOT NEW.size "
    "OR OLD.store_key IS NOT NEW.store_key OR OLD.store_version IS NOT NEW.store_version "
    "BEGIN SELECT RAISE(ABORT, 'a clip''s hash, size and object are immutable'); END",
]
_SQLITE_NEW_GUARDS = [
    "CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments "
    "BEGIN SELECT RAISE(ABORT, 'attachment records are never deleted'); END",
    "CREATE TRIGGER attachments_immutable BEFORE UPDATE OF sha256, size, store_key, store_version ON attachments "
    "WHEN OLD.sha256 IS NOT NEW.sha256 OR OLD.size IS NOT NEW.size "
    "OR OLD.store_key IS NOT NEW.store_key OR OLD.store_version IS NOT NEW.store_version "
    "BEGIN SELECT RAISE(ABORT, 'an attachment''s hash, size and object are immutable'); END",
    "CREATE TRIGGER clip_corrections_append_only BEFORE UPDATE ON clip_corrections "
    "BEGIN SELECT RAISE(ABORT, 'clip_corrections is append-only'); END",
    "CREATE TRIGGER clip_corrections_no_delete BEFORE DELETE ON clip_corrections "
    "BEGIN SELECT RAISE(ABORT, 'clip_corrections is append-only'); END",
]
_PG_NEW_GUARDS = [
    "CREATE TRIGGER attachments_no_delete BEFORE DELETE ON attachments "
    "FOR EACH ROW EXECUTE FUNCTION bodycam_refuse('attachment records are never deleted')",
    "CREATE TRIGGER attachments_immutable BEFORE UPDATE ON attachments FOR EACH ROW WHEN ("
    "OLD.sha256 IS DISTINCT FROM NEW.sha256 OR OLD.size IS DISTINCT FROM NEW.size "
    "OR OLD.store_key IS DISTINCT FROM NEW.store_key "
    "OR OLD.store_version IS DISTINCT FROM NEW.store_version) "
    "EXECUTE FUNCTION bodycam_refuse('an attachment''s hash, size and object are immutable')",
    "CREATE TRIGGER clip_corrections_append_only BEFORE UPDATE OR DELETE ON clip_corrections "
    "FOR EACH ROW EXECUTE FUNCTION bodycam_refuse('clip_corrections is append-only')",
]


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # the copy drops and renames clips: references to it are checked at commit, not mid-copy
        op.execute("PRAGMA defer_foreign_keys = ON")
        with op.batch_alter_table('clips', recreate='always') as batch_op:
            batch_op.drop_constraint('uq_clips_sha256', type_='unique')
        for statement in _SQLITE_CLIP_GUARDS:
            op.execute(statement)
    else:
        op.drop_constraint('uq_clips_sha256', 'clips', type_='unique')
    op.create_index('ix_clips_sha256', 'clips', ['sha256'])
    op.create_index('uq_clips_live_sha256', 'clips', ['sha256'], unique=True,
                    sqlite_where=sa.text('disposed_at IS NULL'), postgresql_where=sa.text('disposed_at IS NULL'))
    op.create_table('clip_corrections',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clip_id', sa.Integer(), nullable=False),
        sa.Column('field', sa.String(length=32), nullable=False),
        sa.Column('old_value', sa.Text(), nullable=False),
        sa.Column('new_value', sa.Text(), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('source', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=200), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['clip_id'], ['clips.id'], name=op.f('fk_clip_corrections_clip_id_clips')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_clip_corrections')),
    )
    op.create_index(op.f('ix_clip_corrections_clip_id'), 'clip_corrections', ['clip_id'])
    op.create_table('attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('clip_id', sa.Integer(), nullable=True),
        sa.Column('session_id', sa.Integer(), nullable=True),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=1024), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('store_key', sa.String(length=1024), nullable=False),
        sa.Column('store_version', sa.String(length=256), nullable=False),
        sa.Column('uploaded_at', UTCDateTime(), nullable=False),
        sa.Column('retain_until', UTCDateTime(), nullable=False),
        sa.Column('disposed_at', UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(['clip_id'], ['clips.id'], name=op.f('fk_attachments_clip_id_clips')),
        sa.ForeignKeyConstraint(['session_id'], ['interrogation_sessions.id'],
                                name=op.f('fk_attachments_session_id_interrogation_sessions')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attachments')),
    )
    op.create_index(op.f('ix_attachments_clip_id'), 'attachments', ['clip_id'])
    op.create_index(op.f('ix_attachments_session_id'), 'attachments', ['session_id'])
    for statement in (_SQLITE_NEW_GUARDS if sqlite else _PG_NEW_GUARDS):
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("0003 cannot be undone: clips stored again after disposal share a SHA-256")
