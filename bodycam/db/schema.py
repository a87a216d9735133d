"""Create, upgrade and check the schema (Alembic, applied by ``bodycam init``).

Every command checks the schema first, so that check reads the version row with
plain SQL against ``HEAD``; Alembic (a tenth of a second to import) is loaded
only to upgrade or to explain a mismatch.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from bodycam.db import roles
from bodycam.db.engine import Database
from bodycam.errors import SchemaTooNew, SchemaTooOld

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
HEAD = "0011"
"""The newest migration's revision; a test keeps it equal to Alembic's head."""


def _config() -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def current_revision(db: Database) -> str | None:
    with db.read() as session:
        conn = session.connection()
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(db: Database) -> tuple[str | None, str]:
    """Bring the schema to head; return (before, after). Safe to run again."""
    from alembic import command

    db.ping()
    before = current_revision(db)
    with db.write() as session:
        as_admin = roles.admin_owns_schema(session)
        if as_admin:  # new tables are owned by bodycam_admin, as the old ones are (a member may SET ROLE)
            session.execute(text(f"SET LOCAL ROLE {roles.Role.ADMIN.group}"))
        cfg = _config()
        cfg.attributes["connection"] = session.connection()
        command.upgrade(cfg, "head")
        if as_admin:
            roles.regrant(session)
    return before, head_revision()


def require_current(db: Database) -> None:
    """Refuse to work on a schema that is missing, older or newer than this code."""
    db.ping()
    current = current_revision(db)
    if current == HEAD:
        return
    if current is None:
        raise SchemaTooOld("the database has no bodycam schema yet: run `bodycam init`")
    from alembic.script import ScriptDirectory

    known = {rev.revision for rev in ScriptDirectory.from_config(_config()).walk_revisions()}
    if current not in known:
        raise SchemaTooNew(f"database schema {current} is newer than this bodycam ({HEAD}): upgrade bodycam")
    raise SchemaTooOld(f"database schema {current} is older than {HEAD}: run `bodycam init`")
