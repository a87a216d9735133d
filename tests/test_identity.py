"""Issue 14, first part: the audit log names the authenticated identity, not a string the caller typed.

PostgreSQL: the connection's role, and the database refuses any other name, even in raw
SQL. SQLite: the operating-system user of the process (by uid, not $USER). ``--actor``
is a note recorded beside the identity, never instead of it.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bodycam.audit import chain
from bodycam.db.models import AuditEvent
from tests.conftest import REFUSED, Bodycam


def last_actor(bodycam: Bodycam) -> str:
    with bodycam.app().db.read() as s:
        return str(s.scalar(select(AuditEvent.actor).order_by(AuditEvent.seq.desc()).limit(1)))


def events(bodycam: Bodycam) -> int:
    with bodycam.app().db.read() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def test_the_audit_log_names_who_authenticated_and_keeps_the_note_beside_it(local_bodycam: Bodycam) -> None:
    bodycam = local_bodycam
    bodycam("init")
    db = bodycam.app().db
    identity = db.identity()
    assert identity == (db.engine.url.username if db.dialect == "postgresql" else pwd.getpwuid(os.geteuid()).pw_name)
    bodycam("--actor", "the chief (court order 123)", "audit", "seal")
    assert last_actor(bodycam) == f"{identity} on behalf of the chief (court order 123)"
    bodycam("audit", "seal")
    assert last_actor(bodycam) == identity


def test_a_forged_line_in_the_note_is_refused_and_nothing_is_written(local_bodycam: Bodycam) -> None:
    bodycam = local_bodycam
    bodycam("init")
    before = events(bodycam)
    forged = Bodycam({**bodycam.env, "BODYCAM_ACTOR": "root\nforged"}, bodycam.clock)
    result = forged("audit", "seal", check=False)
    assert result.exit_code == 12 and "BODYCAM_ACTOR" in result.stderr and "one printable line" in result.stderr
    result = bodycam("--actor", "a\x1b[2Jb", "audit", "seal", check=False)
    assert result.exit_code == 12 and "--actor" in result.stderr
    assert events(bodycam) == before


def test_setting_user_does_not_change_who_is_recorded(local_bodycam: Bodycam, monkeypatch: pytest.MonkeyPatch) -> None:
    bodycam = local_bodycam
    bodycam("init")
    identity = bodycam.app().db.identity()
    monkeypatch.setenv("USER", "the-chief")
    monkeypatch.setenv("LOGNAME", "the-chief")
    bodycam("audit", "seal")
    assert last_actor(bodycam) == identity != "the-chief"


def test_postgresql_refuses_an_audit_event_under_another_name_even_in_raw_sql(local_bodycam: Bodycam) -> None:
    bodycam = local_bodycam
    bodycam("init")
    db = bodycam.app().db
    if db.dialect != "postgresql":  # SQLite has no roles: the OS user is recorded, not enforced (README)
        with db.write() as s:
            chain.record(s, "someone else", "test.forged", "x")
        assert last_actor(bodycam) == "someone else"  # what the embedded default cannot prevent
        return
    identity = db.identity()
    for forged in ("the chief", f"{identity}x", f"the chief on behalf of {identity}", f" {identity}"):
        with pytest.raises(REFUSED, match="names the connected role"), db.write() as s:
            chain.record(s, forged, "test.forged", "x")
    with db.write() as s:
        chain.record(s, f"{identity} on behalf of a court order", "test.allowed", "x")
    assert last_actor(bodycam) == f"{identity} on behalf of a court order"


def test_the_embedded_default_is_created_private(tmp_path: Path) -> None:
    """One OS user: the database (with its journal files) 0600, the store 0700, whatever the umask."""
    old = os.umask(0o022)
    try:
        data = tmp_path / "data" / "bodycam"
        bodycam = Bodycam({"BODYCAM_DATABASE_URL": f"sqlite:///{data / 'bodycam.db'}",
                           "BODYCAM_STORE_URL": f"file://{data / 'objects'}", "XDG_CONFIG_HOME": str(tmp_path / "c")})
        bodycam("init")
        bodycam("audit", "seal")
    finally:
        os.umask(old)
    assert stat.S_IMODE((data / "bodycam.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "objects").stat().st_mode) == 0o700
    for journal in data.glob("bodycam.db-*"):
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600, journal
