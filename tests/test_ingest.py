"""Ingest, end to end through the real CLI, on both databases and both stores."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bodycam.config import load_settings
from bodycam.db.engine import Database
from bodycam.db.models import (
    AuditEvent,
    Clip,
    ClipFlag,
    ClipSighting,
    DeviceAssignment,
    Event,
    InterrogationSession,
    Officer,
)
from bodycam.store import open_store
from tests.conftest import run_bodycam
from tests.media import age, copy_clip, make_clip


@pytest.fixture(scope="session")
def clip_bytes(tmp_path_factory: pytest.TempPathFactory, ffmpeg: str) -> Path:
    return make_clip(tmp_path_factory.mktemp("media") / "base.mp4", 2.0, pattern="testsrc2")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def flags_of(db: Database) -> dict[str, set[str]]:
    with db.read() as s:
        rows = s.execute(select(Clip.source_name, ClipFlag.flag).join(ClipFlag, isouter=True)).all()
    out: dict[str, set[str]] = {}
    for name, flag in rows:
        out.setdefault(name, set())
        if flag:
            out[name].add(flag)
    return out


def dock_dump(root: Path, base: Path, ffmpeg: str) -> dict[str, Path]:
    cam = root / "DSJ-A1B2C3"
    files = {
        "good": make_clip(cam / "DCIM" / "DSJ-A1B2C3_P012345_20261101083015_0001.mp4", 2.0),
        "second": make_clip(cam / "DCIM" / "DSJ-A1B2C3_P012345_20261101083020_0002.mp4", 1.0, pattern="smptebars"),
        "odd": copy_clip(base, cam / "DCIM" / "警情 录像 (1).mp4"),
        "dup": copy_clip(base, root / "DSJ-ZZ9" / "again.mp4"),
        "corrupt": cam / "DSJ-A1B2C3_P012345_20261101090000.mp4",
        "empty": cam / "DSJ-A1B2C3_P012345_20261101091000.mp4",
        "text": cam / "notes.txt",
    }
    good = files["good"].read_bytes()
    files["corrupt"].write_bytes(good[: len(good) // 3])  # truncated: no moov atom
    files["empty"].write_bytes(b"")
    files["text"].write_text("not a video")
    (cam / ".hidden.mp4").write_bytes(b"x")
    (cam / "upload.tmp").write_bytes(b"x")
    (cam / "escape.mp4").symlink_to("/etc/hostname")
    (cam / "DCIM" / "DSJ-A1B2C3_P012345_20261101083015_0001.json").write_text(json.dumps({"case": "A-1"}))
    for p in root.rglob("*"):
        if not p.is_symlink():
            age(p)
    return files


def test_dock_ingest_end_to_end(bodycam_env: dict[str, str], tmp_path: Path, clip_bytes: Path, ffmpeg: str) -> None:
    run_bodycam("init", env=bodycam_env, check=True)
    files = dock_dump(tmp_path / "dock", clip_bytes, ffmpeg)
    hashes = {k: sha(p) for k, p in files.items()}

    proc = run_bodycam("ingest", "run", str(tmp_path / "dock"), "--format", "json", env=bodycam_env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert (summary["seen"], summary["ingested"], summary["duplicates"], summary["failed"]) == (7, 6, 1, 0)
    skipped = {Path(s["path"]).name: s["reason"] for s in summary["skipped"]}
    assert skipped == {".hidden.mp4": "hidden file", "upload.tmp": "temporary file",
                       "escape.mp4": "symlink (not followed)"}

    db = Database(bodycam_env["BODYCAM_DATABASE_URL"])
    flags = flags_of(db)
    assert "unreadable" in flags["DSJ-A1B2C3_P012345_20261101090000.mp4"]
    assert "empty" in flags["DSJ-A1B2C3_P012345_20261101091000.mp4"]
    assert "unreadable" in flags["notes.txt"]
    assert "late_upload" in flags["DSJ-A1B2C3_P012345_20261101083015_0001.mp4"]

    store = open_store(load_settings(environ=bodycam_env).settings)
    with db.read() as s:
        clips = {c.source_name: c for c in s.scalars(select(Clip))}
        sightings = s.scalars(select(ClipSighting)).all()
    assert len(clips) == 6  # the duplicate bytes were stored once
    assert [Path(x.source_path).name for x in sightings] == ["again.mp4"] or \
        [Path(x.source_path).name for x in sightings] == ["警情 录像 (1).mp4"]
    good = clips["DSJ-A1B2C3_P012345_20261101083015_0001.mp4"]
    assert good.sha256 == hashes["good"]
    assert good.officer_badge == "P012345" and good.device_serial == "DSJ-A1B2C3"
    assert good.time_source == "filename" and good.recorded_start.isoformat() == "2026-11-01T08:30:15+00:00"
    assert good.duration_seconds is not None and abs(good.duration_seconds - 2.0) < 0.2
    assert good.media["video_codec"] == "h264" and good.media["sidecar"] == {"case": "A-1"}
    assert good.retain_until >= good.recorded_end.replace() and (good.retain_until - good.recorded_end).days >= 180
    for clip in clips.values():
        assert store.verify(clip.store_key, clip.store_version, clip.sha256) == clip.size
        assert store.stat(clip.store_key, clip.store_version).retain_until is not None
    # release policy keep: every source is still there, untouched
    assert all(sha(p) == hashes[k] for k, p in files.items())

    again = json.loads(run_bodycam("ingest", "run", str(tmp_path / "dock"), "--format", "json",
                                   env=bodycam_env, check=True).stdout)
    assert (again["ingested"], again["already_indexed"]) == (0, 7)
    assert run_bodycam("audit", "verify", env=bodycam_env).returncode == 0


def test_release_delete_and_move(bodycam_env: dict[str, str], tmp_path: Path, clip_bytes: Path) -> None:
    run_bodycam("init", env=bodycam_env, check=True)
    copy_clip(clip_bytes, tmp_path / "dock" / "CAM1" / "CAM1_P1_20261101080000.mp4")
    (tmp_path / "dock" / "CAM1" / "CAM1_P1_20261101080000.json").write_text('{"officer": "P9"}')
    age(*(tmp_path / "dock" / "CAM1").iterdir())
    run_bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete", env=bodycam_env, check=True)
    assert list((tmp_path / "dock" / "CAM1").iterdir()) == []
    db = Database(bodycam_env["BODYCAM_DATABASE_URL"])
    with db.read() as s:
        clip = s.scalars(select(Clip)).one()
        assert clip.officer_badge == "P9"  # the sidecar outranks the file name

    b = make_clip(tmp_path / "dock2" / "CAM2" / "CAM2_P2_20261101080000.mp4", 1.0, pattern="smptebars")
    digest = sha(b)
    age(b)
    proc = run_bodycam("ingest", "run", str(tmp_path / "dock2"), "--release", "move", env=bodycam_env)
    assert proc.returncode == 50 and "--move-to" in proc.stderr
    assert b.exists()
    run_bodycam("ingest", "run", str(tmp_path / "dock2"), "--release", "move", "--move-to",
                str(tmp_path / "done"), env=bodycam_env, check=True)
    moved = tmp_path / "done" / "CAM2" / "CAM2_P2_20261101080000.mp4"
    assert not b.exists() and sha(moved) == digest


def test_officer_from_assignment_and_conflict(bodycam_env: dict[str, str], tmp_path: Path, clip_bytes: Path) -> None:
    from datetime import UTC, datetime

    run_bodycam("init", env=bodycam_env, check=True)
    db = Database(bodycam_env["BODYCAM_DATABASE_URL"])
    from bodycam.index.registry import device_by_serial, officer_by_badge

    with db.write() as s:
        cam = device_by_serial(s, "CAM7")
        officer = officer_by_badge(s, "P777")
        s.add(DeviceAssignment(device_id=cam.id, officer_id=officer.id, start=datetime(2026, 10, 1, tzinfo=UTC)))
    make_clip(tmp_path / "dock" / "CAM7" / "no-officer.mp4", 1.0, creation="2026-11-02T10:00:00Z")
    copy_clip(clip_bytes, tmp_path / "dock" / "CAM7" / "CAM7_P111_20261102100500.mp4")
    age(*(tmp_path / "dock" / "CAM7").iterdir())
    run_bodycam("ingest", "run", str(tmp_path / "dock"), env=bodycam_env, check=True)
    with db.read() as s:
        clips = {c.source_name: c for c in s.scalars(select(Clip))}
        by_assignment = clips["no-officer.mp4"]
        assert by_assignment.officer_badge == "P777" and by_assignment.time_source == "container"
        conflict = clips["CAM7_P111_20261102100500.mp4"]
        assert conflict.officer_badge == "P111"
    assert "officer_conflict" in flags_of(db)["CAM7_P111_20261102100500.mp4"]


def test_roster_imported_after_ingest_reattributes_clips(bodycam_env: dict[str, str], tmp_path: Path,
                                                         clip_bytes: Path) -> None:
    """Rosters often arrive after the footage: the clip the file does not name an officer
    for is attributed by the import; the one it names keeps its officer and is flagged."""
    run_bodycam("init", env=bodycam_env, check=True)
    make_clip(tmp_path / "dock" / "CAM8" / "no-officer.mp4", 1.0, creation="2026-11-02T10:00:00Z")
    copy_clip(clip_bytes, tmp_path / "dock" / "CAM8" / "CAM8_P111_20261102100500.mp4")
    age(*(tmp_path / "dock" / "CAM8").iterdir())
    run_bodycam("ingest", "run", str(tmp_path / "dock"), env=bodycam_env, check=True)
    db = Database(bodycam_env["BODYCAM_DATABASE_URL"])

    def officers() -> dict[str, tuple[str, str]]:
        with db.read() as s:
            return {c.source_name: (c.officer_badge, c.officer_source) for c in s.scalars(select(Clip))}

    assert officers() == {"no-officer.mp4": ("", ""), "CAM8_P111_20261102100500.mp4": ("P111", "named")}

    def import_roster(text: str) -> list[dict[str, object]]:
        roster = tmp_path / "roster.csv"
        roster.write_text("device,officer,start,end\n" + text)
        proc = run_bodycam("assignments", "import", str(roster), "--format", "json", env=bodycam_env, check=True)
        return list(json.loads(proc.stdout)["clips"])

    changed = import_roster("CAM8,P777,2026-10-01T00:00:00Z,\n")
    ids = {c.pop("clip_id"): c for c in changed}
    assert sorted(ids.values(), key=str) == sorted([
        {"change": "reattributed", "from": None, "to": "P777"},
        {"change": "officer_conflict", "from": "P111", "to": "P777"},
    ], key=str)
    assert officers() == {"no-officer.mp4": ("P777", "assignment"), "CAM8_P111_20261102100500.mp4": ("P111", "named")}
    assert "officer_conflict" in flags_of(db)["CAM8_P111_20261102100500.mp4"]
    found = run_bodycam("clips", "search", "--officer", "P777", "--format", "json", env=bodycam_env, check=True)
    assert [c["source_name"] for c in json.loads(found.stdout)] == ["no-officer.mp4"]
    shown = run_bodycam("clips", "show", str(json.loads(found.stdout)[0]["id"]), env=bodycam_env, check=True)
    assert "officer P777 (from the device assignment)" in shown.stdout
    assert import_roster("CAM8,P777,2026-10-01T00:00:00Z,\n") == []  # the same roster again changes nothing

    # the roster is corrected: the camera went back to the store before that recording
    changed = import_roster("CAM8,P777,2026-10-01T00:00:00Z,2026-11-01T00:00:00Z\n")
    assert [(c["change"], c["from"], c["to"]) for c in changed] == [("reattributed", "P777", None)]
    assert officers()["no-officer.mp4"] == ("", "")
    with db.read() as s:
        actions = [a for (a,) in s.execute(select(AuditEvent.action).order_by(AuditEvent.seq))]
    assert actions.count("clip.reattributed") == 2 and actions.count("clip.flag") == 1
    assert run_bodycam("audit", "verify", env=bodycam_env).returncode == 0


def test_interrogation_session(bodycam_env: dict[str, str], tmp_path: Path, clip_bytes: Path) -> None:
    run_bodycam("init", env=bodycam_env, check=True)
    root = tmp_path / "room"
    s1 = root / "S-2026-001"
    make_clip(s1 / "part1.mp4", 2.0)
    make_clip(s1 / "part2.mp4", 1.0, pattern="smptebars")
    copy_clip(clip_bytes, s1 / "extra.mp4")
    (s1 / "session.json").write_text(json.dumps({
        "session_id": "S-2026-001", "room": "ROOM-3", "case_id": "C-42", "start": "2026-11-20T09:00:00+08:00",
        "end": "2026-11-20T09:00:03+08:00", "interrogators": ["P1", "P2"],
        "files": [{"name": "part1.mp4", "start": "2026-11-20T09:00:00+08:00"}, "part2.mp4", "missing.mp4"],
    }))
    bad = root / "S-BAD"
    make_clip(bad / "only.mp4", 1.0, pattern="rgbtestsrc")
    (bad / "session.json").write_text('{"session_id": "S-BAD", "room": "ROOM-3"}')
    for p in root.rglob("*"):
        age(p)
    proc = run_bodycam("ingest", "run", "--kind", "interrogation", str(root), "--format", "json", env=bodycam_env)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["ingested"] == 4
    assert summary["manifest_errors"] == [f"{bad / 'session.json'}: key 'start': missing"]
    db = Database(bodycam_env["BODYCAM_DATABASE_URL"])
    with db.read() as s:
        session = s.scalars(select(InterrogationSession)).one()
        event = s.get(Event, session.event_id)
        assert event is not None and event.scenario == "interrogation"
        assert event.start.isoformat() == "2026-11-20T01:00:00+00:00"
        assert session.manifest["missing_files"] == ["missing.mp4"]
        clips = {c.source_name: c for c in s.scalars(select(Clip))}
        assert {n for n, c in clips.items() if c.session_id == session.id} == {"part1.mp4", "part2.mp4", "extra.mp4"}
        assert clips["part1.mp4"].time_source == "manifest" and clips["part1.mp4"].device_serial == "ROOM-3"
        assert clips["only.mp4"].kind == "interrogation" and clips["only.mp4"].session_id is None
        assert {o.badge for o in s.scalars(select(Officer))} >= {"P1", "P2"}
    flags = flags_of(db)
    assert "not_in_manifest" in flags["extra.mp4"] and "bad_manifest" in flags["only.mp4"]


def test_file_still_being_written_is_left_alone(bodycam_env: dict[str, str], tmp_path: Path, clip_bytes: Path) -> None:
    run_bodycam("init", env=bodycam_env, check=True)
    fresh = copy_clip(clip_bytes, tmp_path / "dock" / "CAM1" / "growing.mp4")
    env = {**bodycam_env, "BODYCAM_INGEST_STABLE_SECONDS": "30"}
    out = json.loads(run_bodycam("ingest", "run", str(tmp_path / "dock"), "--wait", "0", "--release", "delete",
                                 "--format", "json", env=env, check=True).stdout)
    assert (out["seen"], out["pending"], out["ingested"]) == (1, 1, 0)
    assert fresh.exists()


def test_store_unreachable_retries_then_fails_leaving_source(db_url: str, tmp_path: Path, clip_bytes: Path) -> None:
    """The real S3 store pointed at a dead endpoint: retries with backoff, the item is
    marked failed with the reason, the source is untouched, and a later pass succeeds."""
    import socket

    from bodycam.app import App
    from bodycam.ingest.claims import worker_id
    from bodycam.ingest.discover import walk_files
    from bodycam.ingest.pipeline import Context, ingest_file

    env = {"BODYCAM_DATABASE_URL": db_url, "BODYCAM_STORE_URL": "s3://evidence",
           "BODYCAM_STORE_ENDPOINT": "http://127.0.0.1:9", "BODYCAM_STORE_ACCESS_KEY": "k",
           "BODYCAM_STORE_SECRET_KEY": "s", "XDG_CONFIG_HOME": str(tmp_path)}
    app = App(load_settings(environ=env))
    from bodycam.db.schema import upgrade

    upgrade(app.db)
    src = copy_clip(clip_bytes, tmp_path / "dock" / "CAM1" / "CAM1_P1_20261101080000.mp4")
    age(src)
    digest = sha(src)
    ctx = Context(db=app.db, store=app.store, settings=app.settings, actor=app.actor, worker=worker_id(),
                  host=socket.gethostname(), release="delete", move_to=None, pattern=None,
                  zone=app.settings.zone, retries=2, backoff=0.05)
    (sf,) = list(walk_files(src.parent, "CAM1", src.parent))
    result = ingest_file(ctx, sf, "dock")
    assert result.outcome == "failed" and "cannot reach S3 endpoint http://127.0.0.1:9" in (result.error or "")
    assert src.exists() and sha(src) == digest

    status = json.loads(run_bodycam("ingest", "status", "--format", "json", env={**os.environ, **env},
                                    check=True).stdout)
    assert status["counts"]["failed"] == 1
    assert status["failed"][0]["path"] == str(src) and "cannot reach" in status["failed"][0]["error"]

    # the store comes back (here: the local store) and the next pass takes the failed item over
    good = {**env, "BODYCAM_STORE_URL": f"file://{tmp_path / 'objects'}"}
    run_bodycam("init", env={**os.environ, **good}, check=True)
    out = json.loads(run_bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete", "--format", "json",
                                 env={**os.environ, **good}, check=True).stdout)
    assert (out["ingested"], out["released"]) == (1, 1) and not src.exists()


def test_ingest_goes_on_when_the_store_refuses_housekeeping(s3_bucket: str, tmp_path: Path,  # s3_bucket: needs RGW
                                                          clip_bytes: Path) -> None:
    """A bucket policy may allow uploads but not listing unfinished ones: clearing
    litter is then skipped with a warning, and the footage is still ingested."""
    import uuid

    from bodycam.store.s3 import S3Store
    from tests.conftest import s3_env

    bucket = f"bodycam-nolist-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "BODYCAM_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}",
           "BODYCAM_STORE_URL": f"s3://{bucket}", "XDG_CONFIG_HOME": str(tmp_path), **s3_env()}
    run_bodycam("init", env=env, check=True)
    store = open_store(load_settings(environ=env).settings)
    assert isinstance(store, S3Store)
    store.client.set_bucket_policy(bucket, json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Principal": {"AWS": [f"arn:aws:iam:::user/{os.environ['S3_ACCESS_KEY']}"]},
                       "Action": ["s3:ListBucketMultipartUploads"], "Resource": [f"arn:aws:s3:::{bucket}"]}],
    }))
    copy_clip(clip_bytes, tmp_path / "dock" / "CAM1" / "CAM1_P1_20261101080000.mp4")
    age(*(tmp_path / "dock" / "CAM1").iterdir())
    proc = run_bodycam("ingest", "run", str(tmp_path / "dock"), "--format", "json", env=env)
    assert proc.returncode == 0, proc.stderr
    assert "WARNING bodycam.ingest.service: could not clear unfinished uploads" in proc.stderr
    assert "denied" in proc.stderr
    assert json.loads(proc.stdout)["ingested"] == 1


def test_a_worker_whose_claim_was_taken_over_stops_and_indexes_nothing(
        local_bodycam: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 16: a worker whose lease lapsed (and was taken over) must not index the file too."""
    from bodycam import faults
    from bodycam.db.models import IngestItem
    from bodycam.ingest.claims import ClaimLost, heartbeat
    from bodycam.ingest.discover import walk_files
    from bodycam.ingest.pipeline import ingest_file
    from bodycam.ingest.service import make_context

    local_bodycam("init")
    clip = make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20261101080000.mp4", 1.0)
    age(clip)
    app = local_bodycam.app()
    ctx = make_context(app, "delete")
    (sf,) = [f for f in walk_files(clip.parent, "CAM1", clip.parent) if not isinstance(f, str)]

    def taken_over(name: str) -> None:
        if name == "before_index":  # another host took the file over while this one was uploading
            with ctx.db.write() as s:
                item = s.scalars(select(IngestItem)).one()
                item.claimed_by = "other-host:1:0"
            with pytest.raises(ClaimLost):
                heartbeat(ctx.db, item.id, ctx.worker)

    monkeypatch.setattr(faults, "point", taken_over)
    result = ingest_file(ctx, sf, "dock")
    assert result.outcome == "busy" and clip.exists()  # not indexed, not released, not marked failed
    with ctx.db.read() as s:
        assert s.scalar(select(func.count()).select_from(Clip)) == 0
        assert s.scalars(select(IngestItem.state)).one() != "failed"
