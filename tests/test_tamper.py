"""Issue 11, tried as an insider with database and file access would: each attack
is refused, or caught by `check` / `audit verify` / `clips export`, on both
databases and both stores (real PostgreSQL and Ceph RGW)."""

from __future__ import annotations

import hashlib
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, insert, select, text, update

from bodycam.audit.chain import GENESIS, event_hash
from bodycam.db.engine import Database
from bodycam.db.models import AuditEvent, Clip
from bodycam.store.local import LocalStore
from tests.conftest import REFUSED, Bodycam
from tests.faults import shorten_local_lock
from tests.media import age, make_clip

RECENT = datetime.now(UTC) - timedelta(hours=2)


def ingest_two(bodycam: Bodycam, tmp_path: Path) -> list[dict[str, Any]]:
    bodycam("init")
    for minute, pattern in ((0, "testsrc"), (5, "smptebars")):
        when = RECENT + timedelta(minutes=minute)
        age(make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{when:%Y%m%d%H%M%S}.mp4", 1.0, pattern=pattern))
    bodycam("ingest", "run", str(tmp_path / "dock"))  # the pass seals what it stored
    return list(bodycam.json("clips", "search"))


def drop_guards(db: Database) -> None:
    """What an insider with the database owner's rights does first."""
    with db.engine.begin() as conn:
        if db.dialect == "postgresql":
            for table in ("clips", "audit_events"):
                conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER ALL"))
        else:
            for name in ("clips_immutable", "clips_disposal_audited", "clips_disposal_final",
                         "audit_events_no_update", "audit_events_no_delete"):
                conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"))


def test_a_swapped_video_is_caught_everywhere(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    first, _ = ingest_two(bodycam, tmp_path)
    app = bodycam.app()
    doctored = make_clip(tmp_path / "doctored.mp4", 1.0, pattern="rgbtestsrc").read_bytes()
    sha = hashlib.sha256(doctored).hexdigest()
    put = app.store.put(first["store_key"], io.BytesIO(doctored), retain_until=app.clock.now() + timedelta(days=200))
    assert put is not None
    drop_guards(app.db)
    with app.db.write() as s:
        s.execute(update(Clip).where(Clip.id == first["id"]).values(
            sha256=sha, size=len(doctored), store_version=put.version))

    result = bodycam("check", "--verify-data", check=False)
    assert result.exit_code == 37, result.output
    assert f"clip {first['id']}: sha256 is '{sha}' in the index but '{first['sha256']}'" in result.stdout
    verify = bodycam("audit", "verify", check=False)
    assert verify.exit_code == 40 and "no longer matches" in verify.stdout
    export = bodycam("clips", "export", str(first["id"]), "--out", str(tmp_path / "court"), "--reason", "trial",
                     check=False)
    assert export.exit_code == 35 and "clip.ingest audit event" in export.stderr
    assert not list((tmp_path / "court").iterdir())  # no copy, no receipt
    log = bodycam.json("audit", "log", "--subject", "export:*")
    assert [e["action"] for e in log] == ["export.failed", "export.started"]


def test_an_unaudited_disposal_is_refused_then_caught(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    first, _ = ingest_two(bodycam, tmp_path)
    app = bodycam.app()
    with pytest.raises(REFUSED, match=r"clip\.dispose audit event"), app.db.write() as s:
        s.execute(update(Clip).where(Clip.id == first["id"]).values(disposed_at=app.clock.now()))
    drop_guards(app.db)
    with app.db.write() as s:
        s.execute(update(Clip).where(Clip.id == first["id"]).values(disposed_at=app.clock.now()))
    if isinstance(app.store, LocalStore):  # the folder's owner can remove files; RGW's lock stops that
        for path in app.store.root.rglob(f"{first['store_version']}.*"):
            path.chmod(0o600)
            path.unlink()
    result = bodycam("check", check=False)
    assert result.exit_code == 37
    assert "but there is no clip.dispose audit event" in result.stdout
    if not isinstance(app.store, LocalStore):
        assert "marked disposed but its object" in result.stdout


def rewrite_chain(db: Database, change: Any) -> None:
    """Rewrite the whole log with recomputed, valid hashes; ``change`` edits or drops rows."""
    drop_guards(db)
    with db.write() as s:
        rows = [dict(r._mapping) for r in s.execute(select(AuditEvent.__table__).order_by(AuditEvent.seq))]
        s.execute(delete(AuditEvent))
        prev, out = GENESIS, []
        for row in filter(None, (change(dict(r)) for r in rows)):
            row["seq"] = len(out) + 1
            row["prev_hash"] = prev
            row["hash"] = prev = event_hash(prev, row["seq"], row["at"], row["actor"], row["action"], row["subject"],
                                            row["details"])
            out.append(row)
        s.execute(insert(AuditEvent), out)


def test_a_rewritten_chain_with_valid_hashes_fails_against_the_seals(bodycam: Bodycam, tmp_path: Path,
                                                                    ffmpeg: str) -> None:
    first, _ = ingest_two(bodycam, tmp_path)
    bodycam("cases", "import", str(_cases_file(tmp_path)))
    bodycam("cases", "link", "C-1", str(first["id"]), "--reason", "shows the arrest")
    bodycam("audit", "seal")
    assert bodycam("audit", "verify").exit_code == 0

    def erase_link_and_change_actor(row: dict[str, Any]) -> dict[str, Any] | None:
        if row["action"] == "case.link":
            return None
        if row["action"] == "clip.ingest":
            row["actor"] = "someone else"
        return row

    rewrite_chain(bodycam.app().db, erase_link_and_change_actor)
    result = bodycam("audit", "verify", check=False)
    assert result.exit_code == 40
    assert "was rewritten" in result.stdout or "is missing" in result.stdout


def test_a_truncated_chain_fails_against_the_seals(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    ingest_two(bodycam, tmp_path)
    bodycam("audit", "seal")
    db = bodycam.app().db
    drop_guards(db)
    with db.write() as s:
        last = s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
        s.execute(delete(AuditEvent).where(AuditEvent.seq > last - 3))
    result = bodycam("audit", "verify", check=False)
    assert result.exit_code == 40 and "truncated" in result.stdout


def test_truncate_is_refused_on_postgresql(bodycam: Bodycam, tmp_path: Path, ffmpeg: str, db_url: str) -> None:
    if not db_url.startswith("postgresql"):
        with Database(db_url).engine.begin() as conn, pytest.raises(REFUSED):
            conn.execute(text("DELETE FROM audit_events"))  # SQLite has no TRUNCATE: its DELETE guard is the one
        return
    ingest_two(bodycam, tmp_path)
    db = Database(db_url)
    for statement in ("TRUNCATE audit_events", "TRUNCATE clips CASCADE", "TRUNCATE attachments"):
        with pytest.raises(REFUSED, match="TRUNCATE refused"), db.engine.begin() as conn:
            conn.execute(text(statement))
    assert bodycam("check").exit_code == 0


def test_a_removed_legal_hold_is_put_back_and_reported(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    first, _ = ingest_two(bodycam, tmp_path)
    bodycam("retention", "hold", str(first["id"]), "--reason", "appeal")
    store = bodycam.app().store
    store.set_legal_hold(first["store_key"], first["store_version"], False)  # with bodycam's own keys
    result = bodycam("check", check=False)
    assert result.exit_code == 37 and "had no legal hold on it: put back" in result.stdout
    assert store.stat(first["store_key"], first["store_version"]).legal_hold
    log = bodycam.json("audit", "log", "--action", "hold.restored")
    assert log and log[0]["subject"] == f"clip:{first['id']}"
    assert bodycam("check").exit_code == 0


def test_an_object_no_record_accounts_for_is_reported(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    ingest_two(bodycam, tmp_path)
    store = bodycam.app().store
    store.put("clips/planted.mp4", io.BytesIO(b"planted"), retain_until=datetime.now(UTC) + timedelta(days=1))
    result = bodycam("check", check=False)
    assert result.exit_code == 37 and "object clips/planted.mp4" in result.stdout


def test_receipts_you_can_defend(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    first, second = ingest_two(bodycam, tmp_path)
    bad = bodycam("clips", "export", str(first["id"]), "--out", str(tmp_path / "out"),
                  "--reason", "court\nexported by: the chief", check=False)
    assert bad.exit_code == 50 and "one printable line" in bad.stderr
    bad = bodycam("clips", "export", str(first["id"]), "--out", str(tmp_path / "out"), "--reason", "court",
                  "--recipient", "clerk\x1b[2J", check=False)
    assert bad.exit_code == 50
    bodycam("clips", "export", str(first["id"]), str(second["id"]), "--out", str(tmp_path / "out"),
            "--reason", "court 2026-12-01", "--recipient", "Defence counsel Wang")
    (folder,) = (tmp_path / "out").glob("custody-*")
    receipt = json.loads((folder / "custody-receipt.json").read_bytes())
    assert receipt["recipient"] == "Defence counsel Wang"
    row = receipt["files"][0]
    assert row["officer"] == "P1" and row["device"] == "CAM1" and row["recorded_start"] and row["sha256"]
    done = bodycam.json("audit", "log", "--action", "export.completed")
    assert done[0]["details"]["receipt_sha256"] == hashlib.sha256(
        (folder / "custody-receipt.json").read_bytes()).hexdigest()
    text_receipt = (folder / "custody-receipt.txt").read_text()
    assert "recipient:   Defence counsel Wang" in text_receipt and "officer   P1" in text_receipt


def test_a_killed_export_shows_in_the_log_and_can_run_again(bodycam_env: dict[str, str], tmp_path: Path,
                                                            ffmpeg: str) -> None:
    from tests.conftest import run_bodycam

    cam = Bodycam(bodycam_env)
    first, _ = ingest_two(cam, tmp_path)
    out = tmp_path / "usb"
    proc = run_bodycam("clips", "export", str(first["id"]), "--out", str(out), "--reason", "court",
                       env={**bodycam_env, "BODYCAM_FAILPOINT": "export_copy:1"})
    assert proc.returncode == -9
    assert not list(out.glob("custody-*"))  # nothing that looks like a finished export
    log = cam.json("audit", "log", "--subject", "export:*")
    assert [e["action"] for e in log] == ["export.started"]  # started, never completed: visible
    cam("clips", "export", str(first["id"]), "--out", str(out), "--reason", "court")
    assert len(list(out.glob("custody-*"))) == 1


def _cases_file(tmp_path: Path) -> Path:
    path = tmp_path / "cases.csv"
    path.write_text("number,title,status,opened_at,closed_at\nC-1,assault,open,2026-11-01T00:00:00Z,\n")
    return path


class Ticks:
    """A monotonic clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def test_scrub_resumes_within_its_budget_and_finds_rot(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    from bodycam.audit.scrub import resume_point, scrub

    first, second = sorted(ingest_two(bodycam, tmp_path), key=lambda c: c["id"])  # the scrub goes by id
    app = bodycam.app()
    # one clip per pass: the budget (1.5 s) is spent after the first clip's check
    one = scrub(app.db, app.store, app.actor, 1.5, monotonic=Ticks())
    assert (one.verified, one.last_id, one.complete) == (1, first["id"], False)
    assert one.remaining_bytes == second["size"] and resume_point(app.db) == first["id"]
    two = scrub(app.db, app.store, app.actor, 1.5, monotonic=Ticks())
    assert (two.started_after, two.verified, two.last_id, two.complete) == (first["id"], 1, second["id"], True)
    assert resume_point(app.db) == 0  # the cycle is complete: the next pass starts again from the first clip
    three = scrub(app.db, app.store, app.actor, 1.5, monotonic=Ticks())
    assert (three.started_after, three.last_id) == (0, first["id"])
    log = bodycam.json("audit", "log", "--action", "scrub.pass")
    assert [e["details"]["last_clip"] for e in reversed(log)] == [first["id"], second["id"], first["id"]]

    if isinstance(app.store, LocalStore):  # bit rot on a disk: the scrub finds it and says which clip
        (data,) = app.store.root.rglob(f"{second['store_version']}.data")
        data.chmod(0o600)
        raw = bytearray(data.read_bytes())
        raw[-50] ^= 0x01
        data.write_bytes(bytes(raw))
        found = scrub(app.db, app.store, app.actor, 100, monotonic=Ticks())
        assert found.failed_ids == [second["id"]] and found.complete
        result = bodycam("check", "--verify-data", check=False)
        assert result.exit_code == 35 and f"FAILED clip {second['id']}" in result.stdout


def test_a_shortened_local_lock_is_extended_back(local_bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    """The lock file is the local store's (an RGW lock cannot be shortened at all)."""
    first, _ = ingest_two(local_bodycam, tmp_path)
    store = local_bodycam.app().store
    assert isinstance(store, LocalStore)
    shorten_local_lock(store, first["store_version"])
    result = local_bodycam("check", check=False)
    assert result.exit_code == 37 and "the store's lock ends 2001-01-01" in result.stdout
    info = store.stat(first["store_key"], first["store_version"])
    assert info.retain_until is not None and info.retain_until > datetime.now(UTC) + timedelta(days=179)
    assert local_bodycam("check").exit_code == 0


def test_an_export_that_runs_out_of_disk_leaves_nothing_and_says_so(bodycam: Bodycam, tmp_path: Path, ffmpeg: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import bodycam.index.export as export_module

    first, second = ingest_two(bodycam, tmp_path)
    real_copy = export_module._copy
    calls: list[int] = []

    def copy_then_full_disk(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:  # the first copy went through; the disk fills on the second
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_copy(*args, **kw)

    monkeypatch.setattr(export_module, "_copy", copy_then_full_disk)
    out = tmp_path / "usb"
    result = bodycam("clips", "export", str(first["id"]), str(second["id"]), "--out", str(out), "--reason", "court",
                     check=False)
    assert result.exit_code == 36 and "No space left on device" in result.stderr
    assert list(out.iterdir()) == []  # not even the first copy: no copies without a receipt
    log = bodycam.json("audit", "log", "--subject", "export:*")
    assert [e["action"] for e in log] == ["export.failed", "export.started"]
    assert "No space left" in log[0]["details"]["error"]
    monkeypatch.setattr(export_module, "_copy", real_copy)
    bodycam("clips", "export", str(first["id"]), str(second["id"]), "--out", str(out), "--reason", "court")
    assert len(list(out.glob("custody-*"))) == 1


def test_an_ingest_pass_refuses_to_seal_a_tampered_index(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    first, _ = ingest_two(bodycam, tmp_path)
    db = bodycam.app().db
    drop_guards(db)
    with db.write() as s:
        s.execute(update(Clip).where(Clip.id == first["id"]).values(size=first["size"] + 1))
    age(make_clip(tmp_path / "dock2" / "CAM2" / f"CAM2_P2_{RECENT:%Y%m%d%H%M%S}.mp4", 1.0, pattern="rgbtestsrc"))
    result = bodycam("ingest", "run", str(tmp_path / "dock2"), check=False)
    assert result.exit_code == 40 and "not sealed" in result.stderr
    assert "ingested 1" in result.stdout  # the pass itself stands: the new footage is stored
    assert len(bodycam.json("clips", "search")) == 3
