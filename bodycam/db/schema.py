"""Create, upgrade and check the schema (Alembic, applied by ``bodycam init``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bodycam.db.engine import Database
from bodycam.errors import SchemaTooNew, SchemaTooOld

MIGRATIONS = Path(__file__).with_name("migrations")


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.read() as session:
        return MigrationContext.configure(session.connection()).get_current_revision()


def upgrade(db: Database) -> tuple[str | None, str]:
    """Bring the schema to head; return (before, after). Safe to run again."""
    db.ping()
    before = current_revision(db)
    with db.write() as session:
        cfg = _config()
        cfg.attributes["connection"] = session.connection()
        command.upgrade(cfg, "head")
    return before, head_revision()


def require_current(db: Database) -> None:
    """Refuse to work on a schema that is missing, older or newer than this code."""
    db.ping()
    current = current_revision(db)
    head = head_revision()
    if current == head:
        return
    if current is None:
        raise SchemaTooOld("the database has no bodycam schema yet: run `bodycam init`")
    known = {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current not in known:
        raise SchemaTooNew(f"database schema {current} is newer than this bodycam ({head}): upgrade bodycam")
    raise SchemaTooOld(f"database schema {current} is older than {head}: run `bodycam init`")
