"""Schema creation and the refusal to run on a missing, older or newer schema."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from bodycam.db.engine import Database
from bodycam.db.schema import HEAD, current_revision, head_revision, require_current, upgrade
from bodycam.errors import SchemaTooNew, SchemaTooOld
from tests.conftest import run_bodycam


def test_upgrade_is_idempotent(db_url: str) -> None:
    db = Database(db_url)
    with pytest.raises(SchemaTooOld, match="run `bodycam init`"):
        require_current(db)
    assert upgrade(db) == (None, head_revision())
    assert upgrade(db) == (head_revision(), head_revision())
    require_current(db)
    db.dispose()


def test_head_constant_is_alembics_head() -> None:
    """Commands check the schema against HEAD without loading Alembic; a new
    migration must move HEAD with it."""
    assert head_revision() == HEAD


def test_newer_schema_refused(database: Database) -> None:
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num='9999'"))
    with pytest.raises(SchemaTooNew):
        require_current(database)


def test_commands_refuse_an_uninitialised_database(bodycam_env: dict[str, str]) -> None:
    proc = run_bodycam("audit", "log", env=bodycam_env)
    assert proc.returncode == 21
    assert proc.stderr == "bodycam: error: the database has no bodycam schema yet: run `bodycam init`\n"
    assert current_revision(Database(bodycam_env["BODYCAM_DATABASE_URL"])) is None
