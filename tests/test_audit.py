"""The audit chain: verification, tamper detection on both databases, no forks."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import text

from bodycam.audit import chain
from bodycam.db.engine import Database
from bodycam.errors import AuditChainBroken
from tests.conftest import REFUSED, run_bodycam


def fill(db: Database, n: int) -> None:
    clerk = f"{db.identity()} on behalf of clerk"
    for i in range(n):
        with db.write() as s:
            chain.record(s, clerk, "clip.view", f"clip:{i}", {"i": i, "note": "ünïcode"})


def drop_guard(db: Database) -> None:
    """What a database administrator can always do: take the triggers off."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            conn.execute(text("ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only"))
        else:
            conn.execute(text("DROP TRIGGER audit_events_no_update"))
            conn.execute(text("DROP TRIGGER audit_events_no_delete"))


def test_chain_verifies(database: Database) -> None:
    fill(database, 5)
    with database.read() as s:
        status = chain.verify(s)
        assert status.events == 5 and status.head_seq == 5
        assert [e.seq for e in chain.events(s, subject="clip:*")] == [5, 4, 3, 2, 1]


def test_triggers_refuse_plain_update_and_delete(database: Database) -> None:
    fill(database, 2)
    for stmt in ("UPDATE audit_events SET actor='x' WHERE seq=1", "DELETE FROM audit_events WHERE seq=2"):
        with pytest.raises(REFUSED, match="append-only"), database.engine.begin() as conn:
            conn.execute(text(stmt))


def test_altered_row_is_named(database: Database) -> None:
    fill(database, 5)
    drop_guard(database)
    with database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET details=:d WHERE seq=3"), {"d": '{"i":99}'})
    with database.read() as s, pytest.raises(AuditChainBroken, match=r"^audit event 3 \(clip.view clip:2\)"):
        chain.verify(s)


def test_removed_row_is_named(database: Database) -> None:
    fill(database, 5)
    drop_guard(database)
    with database.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_events WHERE seq=4"))
    with database.read() as s, pytest.raises(AuditChainBroken, match="audit event 4 is missing"):
        chain.verify(s)


def test_cli_verify_fails_at_the_altered_row(bodycam_env: dict[str, str]) -> None:
    run_bodycam("init", env=bodycam_env, check=True)
    db = Database(bodycam_env["BODYCAM_DATABASE_URL"])
    fill(db, 3)
    assert run_bodycam("audit", "verify", env=bodycam_env).returncode == 0
    drop_guard(db)
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE audit_events SET actor='mallory' WHERE seq=2"))
    db.dispose()
    proc = run_bodycam("audit", "verify", env=bodycam_env)
    assert proc.returncode == 40
    assert proc.stderr.strip().splitlines() == [
        "bodycam: error: audit event 2 (clip.view clip:0): contents altered, hash does not match"
    ]


WRITER = textwrap.dedent("""
    import sys
    from bodycam.audit import chain
    from bodycam.db.engine import Database
    db = Database(sys.argv[1])
    for i in range(int(sys.argv[3])):
        with db.write() as s:
            chain.record(s, f"{db.identity()} on behalf of {sys.argv[2]}", "test.append", f"w:{sys.argv[2]}",
                         {"i": i})
""")


def test_concurrent_writers_do_not_fork(database: Database) -> None:
    n = 40
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, database.url, name, str(n)])
        for name in ("a", "b", "c")
    ]
    assert [p.wait(timeout=300) for p in procs] == [0, 0, 0]
    with database.read() as s:
        status = chain.verify(s)
        assert status.events == 3 * n
        assert len(chain.events(s, subject="w:b", limit=1000)) == n


def test_record_many_continues_the_chain(database: Database) -> None:
    fill(database, 2)
    with database.write() as s:
        chain.record_many(s, database.identity(), [("clip.dispose", f"clip:{i}", {"i": i}) for i in range(5)])
    fill(database, 1)
    with database.read() as s:
        status = chain.verify(s)
    assert status.events == 8
