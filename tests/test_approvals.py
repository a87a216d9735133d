"""Approved copying on either database, and the rules the database keeps even against raw SQL.

On PostgreSQL the requester and the approver are database roles (tests/test_roles.py runs
them as separate logins). On the embedded SQLite default there is one OS user: the rule
compares the identity with its `--actor` note (recorded, not enforced), and the database's
triggers still keep a decision and a use final.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from bodycam.db.engine import Database
from bodycam.db.schema import upgrade
from tests.conftest import REFUSED, Bodycam
from tests.media import age, make_clip


def test_an_approval_is_one_persons_request_another_persons_decision_and_one_export(tmp_path: Path) -> None:
    """The embedded default (PostgreSQL, with a login per person: tests/test_roles.py)."""
    bodycam = Bodycam({"BODYCAM_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}", "XDG_CONFIG_HOME": str(tmp_path),
                       "BODYCAM_STORE_URL": f"file://{tmp_path / 'objects'}", "BODYCAM_EXPORT_APPROVAL": "required"})
    bodycam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20261101080000.mp4", 1.0))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    out = str(tmp_path / "usb")
    request = bodycam.json("--actor", "clerk Wang", "exports", "request", "1", "--reason", "court")
    result = bodycam("--actor", "clerk Wang", "exports", "approve", str(request["id"]), check=False)
    assert result.exit_code == 50 and "another supervisor" in result.stderr
    bodycam("--actor", "supervisor Li", "exports", "approve", str(request["id"]))
    assert [a["state"] for a in bodycam.json("exports", "list")] == ["approved"]
    bodycam("--actor", "clerk Wang", "clips", "export", "1", "--out", out, "--reason", "court",
            "--approval", str(request["id"]))
    assert [a["state"] for a in bodycam.json("exports", "list")] == ["used"]


@pytest.mark.parametrize("statement, message", [
    ("UPDATE export_approvals SET decision = 'refused', decided_by = 'x' WHERE id = 1", "decided once"),
    ("UPDATE export_approvals SET reason = 'other' WHERE id = 1", "are fixed"),
    ("UPDATE export_approvals SET used_at = '2026-01-01', used_by = 'y' WHERE id = 1", "used once"),
    ("DELETE FROM export_approvals WHERE id = 1", "never deleted"),
])
def test_the_database_keeps_a_decision_final_and_an_approval_used_once(
        db_url: str, statement: str, message: str) -> None:
    db = Database(db_url)
    upgrade(db)
    me = db.identity()
    with db.write() as s:
        s.execute(text("INSERT INTO export_approvals (requested_at, requested_by, clip_ids, reason) "
                       "VALUES (CURRENT_TIMESTAMP, :me, '[1]', 'court')"), {"me": me})
    with pytest.raises(REFUSED, match="decided by someone other"), db.write() as s:
        s.execute(text("UPDATE export_approvals SET decision = 'approved', decided_by = :me, "
                       "decided_at = CURRENT_TIMESTAMP WHERE id = 1"), {"me": me})
    with pytest.raises(REFUSED, match="used once"), db.write() as s:
        s.execute(text("UPDATE export_approvals SET used_at = CURRENT_TIMESTAMP, used_by = :me WHERE id = 1"),
                  {"me": me})
    if db.dialect == "sqlite":  # PostgreSQL: only the connected role may decide (tests/test_roles.py)
        with db.write() as s:
            s.execute(text("UPDATE export_approvals SET decision = 'approved', decided_by = 'other', "
                           "decided_at = CURRENT_TIMESTAMP WHERE id = 1"))
            s.execute(text("UPDATE export_approvals SET used_at = CURRENT_TIMESTAMP, used_by = :me, "
                           "export_id = 'e1' WHERE id = 1"), {"me": me})
        with pytest.raises(REFUSED, match=message), db.write() as s:
            s.execute(text(statement))
    db.dispose()
