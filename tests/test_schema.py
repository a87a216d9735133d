"""Schema creation and the refusal to run on a missing, older or newer schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from bodycam.db.engine import Database
from bodycam.db.schema import HEAD, current_revision, head_revision, require_current, upgrade
from bodycam.errors import SchemaTooNew, SchemaTooOld
from tests.conftest import REFUSED, run_bodycam


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


def test_upgrade_from_0001_keeps_clips_and_their_protection(db_url: str) -> None:
    """A database from the first release: clips with an officer are marked as named (a
    later roster must not change them), clips without one are left open, and the
    triggers that make clip rows undeletable survive the upgrade."""
    from alembic import command
    from sqlalchemy import bindparam

    from bodycam.db.schema import _config
    from bodycam.db.types import UTCDateTime

    db = Database(db_url)
    with db.write() as session:
        cfg = _config()
        cfg.attributes["connection"] = session.connection()
        command.upgrade(cfg, "0001")
    assert current_revision(db) == "0001"
    now = datetime(2026, 11, 1, tzinfo=UTC)
    insert_clip = text(
        "INSERT INTO clips (id, sha256, size, store_key, store_version, etag, kind, officer_id, device_serial,"
        " officer_badge, time_source, media, discontinuities, source_name, source_path, source_host,"
        " uploaded_at, retain_until) VALUES (:id, :sha, 1, 'k', 'v', 'e', 'dock', :officer, '', :badge,"
        " 'mtime', '{}', '[]', '', '', '', :at, :at)"
    ).bindparams(bindparam("at", type_=UTCDateTime()))
    with db.write() as session:
        session.execute(text("INSERT INTO officers (id, badge, name) VALUES (1, 'P1', '')"))
        session.execute(insert_clip, {"id": 1, "sha": "a" * 64, "officer": 1, "badge": "P1", "at": now})
        session.execute(insert_clip, {"id": 2, "sha": "b" * 64, "officer": None, "badge": "", "at": now})
    assert upgrade(db) == ("0001", HEAD)
    require_current(db)
    with db.read() as session:
        rows = session.execute(text("SELECT id, officer_source FROM clips ORDER BY id")).all()
    assert [tuple(r) for r in rows] == [(1, "named"), (2, "")]
    with pytest.raises(REFUSED, match="clip records are never deleted"), db.write() as session:
        session.execute(text("DELETE FROM clips WHERE id = 1"))
    db.dispose()


def test_upgrade_keeps_the_audit_events_of_an_older_schema_verifiable(db_url: str) -> None:
    """Events written under 0005 (any actor string then) verify after the upgrade, `roles init` and new events."""
    from alembic import command

    from bodycam.audit import chain
    from bodycam.db import roles
    from bodycam.db.schema import _config

    db = Database(db_url)
    with db.write() as session:
        cfg = _config()
        cfg.attributes["connection"] = session.connection()
        command.upgrade(cfg, "0005")
    with db.write() as session:
        chain.record(session, "the chief (typed)", "case.close", "case:C-1", {"reason": "old"})
        chain.record(session, "dock-7", "clip.ingest", "clip:1", {})
    with db.read() as session:
        before = chain.verify(session)
    upgrade(db)
    if db.dialect == "postgresql":
        with db.write() as session:
            roles.init_roles(session)
    with db.write() as session:
        chain.record(session, db.identity(), "system.init", "system", {})
    with db.read() as session:
        after = chain.verify(session)
    assert (before.events, after.events) == (2, 3)
    db.dispose()
