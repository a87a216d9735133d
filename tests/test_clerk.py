"""The evidence clerk's path: registries, ingest, search, show, link, export with a receipt."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bodycam.config import load_settings
from bodycam.db.engine import Database
from bodycam.db.models import Case, DeviceAssignment, Event, EventOfficer, Officer
from bodycam.store import open_store
from tests.conftest import run_bodycam
from tests.media import age, make_clip


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


@pytest.fixture
def registries(tmp_path: Path) -> dict[str, Path]:
    return {
        "officers": write(tmp_path / "officers.csv", "badge,name,unit\nP1,张伟,PS-01\nP2,李娜,PS-01\nP3,王强,PS-02\n"),
        "devices": write(tmp_path / "devices.json", json.dumps([
            {"serial": "CAM1", "kind": "body_camera", "unit": "PS-01"},
            {"serial": "CAM2", "kind": "body_camera", "unit": "PS-01"},
            {"serial": "ROOM-1", "kind": "interrogation_recorder", "room": "讯问室 1"}])),
        "assignments": write(tmp_path / "assignments.csv", "device,officer,start,end\n"
                             "CAM1,P1,2026-10-01T00:00:00Z,2026-11-01T12:00:00Z\n"
                             "CAM1,P2,2026-11-01T12:00:00Z,\nCAM2,P3,2026-10-01T00:00:00Z,\n"),
        "cases": write(tmp_path / "cases.csv", "number,title,status,opened_at,closed_at\n"
                       "C-1,盗窃案,open,2026-11-01T00:00:00Z,\nC-2,old,closed,2026-01-01T00:00:00Z,"
                       "2026-02-01T00:00:00Z\n"),
    }


def import_all(env: dict[str, str], files: dict[str, Path]) -> dict[str, dict[str, int]]:
    out = {}
    for kind in ("officers", "devices", "assignments", "cases"):
        proc = run_bodycam(kind, "import", str(files[kind]), "--format", "json", env=env, check=True)
        out[kind] = json.loads(proc.stdout)
    return out


def test_imports_are_all_or_nothing_and_idempotent(db_url: str, tmp_path: Path,
                                                   registries: dict[str, Path]) -> None:
    env = {**os.environ, "BODYCAM_DATABASE_URL": db_url, "BODYCAM_STORE_URL": f"file://{tmp_path}/o",
           "XDG_CONFIG_HOME": str(tmp_path)}
    run_bodycam("init", env=env, check=True)
    first = import_all(env, registries)
    assert [first[k]["created"] for k in first] == [3, 3, 3, 2]
    again = import_all(env, registries)
    assert [again[k]["created"] + again[k]["updated"] for k in again] == [0, 0, 0, 0]

    bad = write(tmp_path / "bad.csv", "badge,name,unit\nP7,ok,PS-01\nP8,,PS-01\n,missing badge,PS-01\n")
    proc = run_bodycam("officers", "import", str(bad), env=env)
    assert proc.returncode == 50
    assert proc.stderr.strip() == f"bodycam: error: {bad}:4: field 'badge': required"
    db = Database(db_url)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(Officer)) == 3  # P7 and P8 were not written

    cases = [
        ("assignments", "device,officer,start,end\nCAM2,P1,yesterday,\n", ":2: field 'start': not an ISO 8601"),
        ("assignments", "device,officer,start,end\nCAM1,P3,2026-10-15T00:00:00Z,2026-10-20T00:00:00Z\n",
         ":2: field 'start': device CAM1 is already assigned"),
        ("assignments", "device,officer,start,end\nCAM9,P3,2026-10-15T00:00:00Z,2026-10-01T00:00:00Z\n",
         ":2: field 'end': must be after start"),
        ("devices", "serial,kind\nCAM9,drone\n", ":2: field 'kind': 'drone' is not one of"),
        ("cases", "number,status\nC-9,closed\n", ":2: field 'closed_at': required when status is closed"),
        ("officers", "badge,rank\nP9,1\n", ":2: unknown field 'rank'"),
        ("officers", "badge\nP9\nP9\n", ":3: field 'badge': 'P9' appears twice"),
    ]
    for kind, text, expected in cases:
        f = write(tmp_path / f"{kind}-bad.csv", text)
        proc = run_bodycam(kind, "import", str(f), env=env)
        assert proc.returncode == 50, (kind, text, proc.stderr)
        assert expected in proc.stderr, (expected, proc.stderr)
    with db.read() as s:
        assert s.scalar(select(func.count()).select_from(DeviceAssignment)) == 3


def test_clerk_path_end_to_end(bodycam_env: dict[str, str], tmp_path: Path, registries: dict[str, Path],
                               ffmpeg: str) -> None:
    env = bodycam_env
    run_bodycam("init", env=env, check=True)
    import_all(env, registries)
    dock = tmp_path / "dock"
    make_clip(dock / "CAM1" / "CAM1_P1_20261101080000.mp4", 2.0)             # P1 by name
    make_clip(dock / "CAM1" / "a.mp4", 1.0, pattern="smptebars", creation="2026-11-01T13:00:00Z")  # P2 by assignment
    make_clip(dock / "CAM2" / "b.mp4", 1.0, pattern="rgbtestsrc", creation="2026-11-01T08:00:30Z")  # P3
    for p in dock.rglob("*.mp4"):
        age(p)
    run_bodycam("ingest", "run", str(dock), env=env, check=True)

    def search(*args: str) -> list[dict[str, object]]:
        return json.loads(run_bodycam("clips", "search", *args, "--format", "json", env=env, check=True).stdout)

    assert [r["officer"] for r in search("--officer", "P2")] == ["P2"]
    window = search("--from", "2026-11-01T08:00:01Z", "--to", "2026-11-01T08:01:00Z")
    assert sorted(str(r["officer"]) for r in window) == ["P1", "P3"]
    assert [r["officer"] for r in search("--device", "CAM2")] == ["P3"]
    assert [r["officer"] for r in search("--unit", "PS-02")] == ["P3"]
    p1 = search("--officer", "P1")[0]
    assert [r["id"] for r in search("--sha256", str(p1["sha256"])[:10])] == [p1["id"]]
    csv_out = run_bodycam("clips", "search", "--officer", "P1", "--format", "csv", env=env, check=True).stdout
    assert csv_out.splitlines()[0].startswith("id,sha256,size")

    shown = json.loads(run_bodycam("clips", "show", str(p1["id"]), "--format", "json", env=env, check=True).stdout)
    assert shown["store_key"] == p1["store_key"] and shown["retention"]["retain_until"]
    assert [c["action"] for c in shown["custody"]][:1] == ["clip.ingest"]

    db = Database(env["BODYCAM_DATABASE_URL"])
    with db.write() as s:  # an event of case C-1 with P3 on it (events import comes with the coverage issue)
        case = s.scalar(select(Case).where(Case.number == "C-1"))
        p3 = s.scalar(select(Officer).where(Officer.badge == "P3"))
        assert case is not None and p3 is not None
        ev = Event(event_id="E-1", scenario="dispatch", start=datetime(2026, 11, 1, 8, 2, tzinfo=UTC),
                   end=datetime(2026, 11, 1, 8, 10, tzinfo=UTC), case_id=case.id)
        stop = Event(event_id="E-2", scenario="stop_and_check", start=datetime(2026, 11, 1, 8, 0, tzinfo=UTC),
                     end=datetime(2026, 11, 1, 8, 0, 40, tzinfo=UTC))
        s.add_all([ev, stop])
        s.flush()
        s.add_all([EventOfficer(event_id=ev.id, officer_id=p3.id), EventOfficer(event_id=stop.id, officer_id=p3.id)])
    sugg = json.loads(run_bodycam("cases", "suggest", "C-1", "--format", "json", env=env, check=True).stdout)
    b = search("--officer", "P3")[0]
    assert [x["clip_id"] for x in sugg] == [b["id"]] and "±120 s" in sugg[0]["reason"]
    assert json.loads(run_bodycam("cases", "suggest", "C-1", "--margin", "0", "--format", "json", env=env,
                                  check=True).stdout) == []

    assert [r["id"] for r in search("--event", "E-2")] == [b["id"]]  # P3's clip inside E-2's window
    assert search("--event", "E-1") == []
    bad = run_bodycam("clips", "search", "--sha256", "xyz", env=env)
    assert bad.returncode == 50 and "not hexadecimal" in bad.stderr

    store = open_store(load_settings(environ=env).settings)
    assert run_bodycam("cases", "link", "C-1", str(b["id"]), env=env).returncode == 2  # --reason is required
    run_bodycam("cases", "link", "C-1", str(b["id"]), "--reason", "shows the suspect", env=env, check=True)
    assert store.stat(str(b["store_key"]), str(b["store_version"])).legal_hold
    assert [r["id"] for r in search("--case", "C-1")] == [b["id"]]
    shown = json.loads(run_bodycam("clips", "show", str(b["id"]), "--format", "json", env=env, check=True).stdout)
    assert shown["cases"][0]["case"] == "C-1" and [e["event_id"] for e in shown["events"]] == ["E-2"]
    run_bodycam("cases", "unlink", "C-1", str(b["id"]), "--reason", "wrong incident", env=env, check=True)
    assert not store.stat(str(b["store_key"]), str(b["store_version"])).legal_hold
    assert search("--case", "C-1") == []

    out = tmp_path / "court"
    run_bodycam("clips", "export", str(p1["id"]), str(b["id"]), "--out", str(out), "--reason", "court 2026-12-01",
                env=env, check=True)
    (folder,) = out.glob("custody-*")
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True)
    assert check.returncode == 0 and check.stdout.count(": OK") == 2
    receipt = json.loads((folder / "custody-receipt.json").read_text())
    assert receipt["exported_by"].endswith(" on behalf of test-clerk") and receipt["reason"] == "court 2026-12-01"
    assert {f["sha256"] for f in receipt["files"]} == {p1["sha256"], b["sha256"]}
    run_bodycam("clips", "export", str(p1["id"]), "--out", str(out), "--reason", "again", env=env, check=True)
    assert len(list(out.glob("custody-*"))) == 2  # a second export into the same folder gets its own

    run_bodycam("cases", "close", "C-1", "--reason", "judgment", env=env, check=True)
    again = run_bodycam("cases", "close", "C-1", "--reason", "twice", env=env)
    assert again.returncode == 50 and "already closed" in again.stderr
    run_bodycam("cases", "reopen", "C-1", "--reason", "appeal", env=env, check=True)

    log = json.loads(run_bodycam("audit", "log", "--format", "json", "--limit", "200", env=env, check=True).stdout)
    actions = [e["action"] for e in log]
    for expected in ("clip.search", "clip.view", "case.link", "case.unlink", "clip.export", "officers.import",
                     "case.close", "case.reopen"):
        assert expected in actions, expected
    searches = [e for e in log if e["action"] == "clip.search"]
    assert any(e["details"]["filter"].get("officers") == ["P2"] for e in searches)
    assert run_bodycam("audit", "verify", env=env).returncode == 0


def test_export_detects_altered_bytes(tmp_path: Path, ffmpeg: str) -> None:
    """A local store file changed behind bodycam's back: export fails loudly, keeps nothing."""
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    run_bodycam("init", env=env, check=True)
    clip = make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20261101080000.mp4", 1.0)
    age(clip)
    run_bodycam("ingest", "run", str(tmp_path / "dock"), env=env, check=True)
    assert "data:     1 of 1 clip(s) verified" in run_bodycam("check", "--verify-data", env=env, check=True).stdout
    (data,) = (tmp_path / "bodycam" / "objects" / "objects" / "clips").rglob("*.data")
    data.chmod(0o600)
    raw = bytearray(data.read_bytes())
    raw[-100] ^= 0xFF
    data.write_bytes(bytes(raw))
    proc = run_bodycam("clips", "export", "1", "--out", str(tmp_path / "out"), "--reason", "court", env=env)
    assert proc.returncode == 35 and "recorded" in proc.stderr
    assert list((tmp_path / "out").iterdir()) == []
    log = json.loads(run_bodycam("audit", "log", "--format", "json", env=env, check=True).stdout)
    assert log[0]["action"] == "clip.integrity_failure" and log[0]["subject"] == "clip:1"
    check = run_bodycam("check", "--verify-data", env=env)
    assert check.returncode == 35 and "data:     FAILED clip 1" in check.stdout
