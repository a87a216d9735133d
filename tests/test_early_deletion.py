"""Issue 10, tried as the people who broke it: a camera with a reset clock, bytes
docked again after disposal, a corrupt sidecar, a move onto a taken name, a
what-if plan passed off as a plan, an edited lock file. Every test runs on both
databases and both stores (real PostgreSQL, real Ceph RGW); time moves by an
injected clock, never by sleeping."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bodycam.clock import ManualClock
from bodycam.config import FLOOR_DAYS
from bodycam.db.models import Attachment, Clip
from bodycam.errors import ObjectNotFound, RetentionViolation
from bodycam.ingest.runner import run_pass
from bodycam.ingest.service import make_context
from bodycam.store.local import LocalStore
from bodycam.store.s3 import S3Store
from tests.conftest import Bodycam
from tests.faults import expired_lock_store, shorten_local_lock
from tests.media import age, make_clip

RECENT = datetime.now(UTC) - timedelta(hours=2)


def stamp(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S")


def clips(bodycam: Bodycam) -> list[dict[str, Any]]:
    return list(bodycam.json("clips", "search"))


def reset_clock_dock(root: Path) -> None:
    """What a camera writes after its battery ran flat: names dated 2000, a container dated 1970."""
    age(make_clip(root / "CAM1" / "CAM1_P1_20000101000000.mp4", 1.0),
        make_clip(root / "CAM2" / "MOV0001.mp4", 1.0, pattern="smptebars", creation="1970-01-01T00:00:05Z"))


def test_reset_camera_clock_is_kept_the_floor_after_receipt(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    reset_clock_dock(tmp_path / "dock")
    received = bodycam.clock.now()
    bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete")
    assert not list((tmp_path / "dock").rglob("*.mp4"))  # released: bodycam holds the only copy now
    found = clips(bodycam)
    assert len(found) == 2
    store = bodycam.app().store
    for clip in found:
        assert "untrusted_time" in clip["flags"]
        shown = bodycam.json("clips", "show", str(clip["id"]))
        detail = {f["flag"]: f["detail"] for f in shown["flags"]}["untrusted_time"]
        assert "clock was probably reset" in detail
        floor = received + timedelta(days=FLOOR_DAYS)
        assert datetime.fromisoformat(shown["retention"]["retain_until"]) >= floor
        info = store.stat(clip["store_key"], clip["store_version"])  # the store's own lock, read back
        assert info.retain_until is not None and info.retain_until >= floor - timedelta(seconds=1)

    for days in (0, FLOOR_DAYS - 1):
        if days:
            bodycam.advance(days=days)
        plan = bodycam.json("retention", "plan")
        assert plan["due"] == [] and plan["kept"] == 2
        assert "deleted 0 of 0 due" in bodycam("retention", "run").stdout
        for clip in found:
            assert store.stat(clip["store_key"], clip["store_version"]).size == clip["size"]

    bodycam.advance(days=2)  # past the floor after receipt: due by policy
    plan = bodycam.json("retention", "plan")
    assert sorted(d["clip"] for d in plan["due"]) == sorted(c["id"] for c in found)
    assert all("after bodycam received it" in d["reason"] for d in plan["due"])
    out = bodycam("retention", "run").stdout
    if isinstance(store, S3Store):  # the real server's clock has not moved: its COMPLIANCE lock still refuses
        assert "deleted 0 of 2 due" in out and out.count("policy and store disagree") == 2
        for clip in found:
            assert store.stat(clip["store_key"], clip["store_version"]).size == clip["size"]
    else:
        assert "deleted 2 of 2 due" in out
        for clip in found:
            with pytest.raises(ObjectNotFound):
                store.stat(clip["store_key"], clip["store_version"])


def test_grace_below_its_default_is_refused(bodycam: Bodycam) -> None:
    bodycam.env["BODYCAM_RETENTION_GRACE_DAYS"] = "0"
    result = bodycam("retention", "plan", check=False)
    assert result.exit_code == 12
    assert "BODYCAM_RETENTION_GRACE_DAYS" in result.stderr and "at least 30" in result.stderr


def test_bytes_docked_again_after_disposal_are_stored_again(bodycam: Bodycam, tmp_path: Path, ffmpeg: str,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bodycam.app.open_store", expired_lock_store)
    bodycam("init")
    clip_file = make_clip(tmp_path / "master.mp4", 1.0)
    dock = tmp_path / "dock" / "CAM1"
    first = dock / f"CAM1_P1_{stamp(RECENT)}.mp4"
    dock.mkdir(parents=True)
    first.write_bytes(clip_file.read_bytes())
    age(first)
    app = bodycam.app()
    summary = run_pass(make_context(app, "delete"), [tmp_path / "dock"], "dock", workers=1, wait_seconds=0)
    assert summary.ingested == 1 and summary.released == 1
    (old,) = clips(bodycam)

    bodycam.advance(days=FLOOR_DAYS + 1)
    app = bodycam.app()
    bodycam("retention", "plan")
    assert "deleted 1 of 1 due" in bodycam("retention", "run").stdout
    with pytest.raises(ObjectNotFound):
        app.store.stat(old["store_key"], old["store_version"])

    again = dock / f"CAM1_P1_{stamp(RECENT)}.mp4"  # the same bytes, docked again
    again.write_bytes(clip_file.read_bytes())
    age(again)
    summary = run_pass(make_context(app, "delete"), [tmp_path / "dock"], "dock", workers=1, wait_seconds=0)
    assert summary.duplicates == 0 and summary.ingested == 1 and summary.released == 1
    new = [c for c in clips(bodycam) if c["id"] != old["id"]]
    assert len(new) == 1 and new[0]["sha256"] == old["sha256"]
    assert "stored_again" in new[0]["flags"]
    with app.store.open(new[0]["store_key"], new[0]["store_version"]) as fh:
        assert fh.read() == clip_file.read_bytes()
    shown = bodycam.json("clips", "show", str(new[0]["id"]))
    ingest = [e for e in shown["custody"] if e["action"] == "clip.ingest"]
    assert json.loads(ingest[0]["details"])["stored_again_of"] == old["id"]
    assert bodycam("audit", "verify").exit_code == 0


def test_a_sighting_extends_the_kept_clip_to_the_floor_from_now(bodycam: Bodycam, tmp_path: Path,
                                                                 ffmpeg: str) -> None:
    bodycam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{stamp(RECENT)}.mp4", 1.0))
    bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "keep")
    (clip,) = clips(bodycam)
    bodycam.clock.advance(timedelta(days=100))  # still agrees with nothing: only a lock is compared below
    bodycam.check_clock = False
    other = tmp_path / "dock2" / "CAM9"
    other.mkdir(parents=True)
    (other / "copy.mp4").write_bytes(next((tmp_path / "dock").rglob("*.mp4")).read_bytes())
    age(other / "copy.mp4")
    bodycam("ingest", "run", str(tmp_path / "dock2"), "--release", "delete")
    assert not (other / "copy.mp4").exists()
    shown = bodycam.json("clips", "show", str(clip["id"]))
    floor = bodycam.clock.now() + timedelta(days=FLOOR_DAYS)
    assert datetime.fromisoformat(shown["retention"]["retain_until"]) >= floor - timedelta(seconds=1)
    info = bodycam.app().store.stat(clip["store_key"], clip["store_version"])
    if isinstance(bodycam.app().store, LocalStore):
        assert info.retain_until is not None and info.retain_until >= floor - timedelta(seconds=1)


def test_a_corrupt_sidecar_is_stored_before_it_is_released(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    media = make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{stamp(RECENT)}.mp4", 1.0)
    sidecar = media.with_name(media.name + ".json")
    garbage = b'{"officer": "P1", "start": \xff\xfe not json'
    sidecar.write_bytes(garbage)
    age(media, sidecar)
    bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete")
    assert not media.exists() and not sidecar.exists()
    (clip,) = clips(bodycam)
    assert "bad_sidecar" in clip["flags"]
    shown = bodycam.json("clips", "show", str(clip["id"]))
    (att,) = shown["attachments"]
    assert att["role"] == "sidecar" and att["name"] == sidecar.name and att["size"] == len(garbage)
    store = bodycam.app().store
    with store.open(att["store_key"], att["store_version"]) as fh:
        assert fh.read() == garbage
    info = store.stat(att["store_key"], att["store_version"])
    assert info.retain_until is not None and info.retain_until >= bodycam.clock.now() + timedelta(days=FLOOR_DAYS - 1)
    bodycam("retention", "hold", str(clip["id"]), "--reason", "appeal")  # a hold covers the sidecar too
    assert store.stat(att["store_key"], att["store_version"]).legal_hold
    bodycam("retention", "release", str(clip["id"]), "--reason", "appeal over")
    assert not store.stat(att["store_key"], att["store_version"]).legal_hold


def test_a_sidecar_that_cannot_be_stored_stays_at_the_source(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    media = make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{stamp(RECENT)}.mp4", 1.0)
    sidecar = media.with_name(media.name + ".json")
    sidecar.write_bytes(b" " * (2 << 20))  # two MiB: no dock writes such a sidecar
    age(media, sidecar)
    bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete")
    assert not media.exists() and sidecar.exists()
    (clip,) = clips(bodycam)
    assert "bad_sidecar" in clip["flags"]


def test_release_move_never_overwrites(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    src = make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{stamp(RECENT)}.mp4", 1.0)
    age(src)
    data = src.read_bytes()
    taken = tmp_path / "moved" / "CAM1" / src.name
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"someone else's file")
    bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "move", "--move-to", str(tmp_path / "moved"))
    assert taken.read_bytes() == b"someone else's file"
    moved = taken.with_name(f"{taken.stem}.1{taken.suffix}")
    assert moved.read_bytes() == data and not src.exists()
    log = bodycam.json("audit", "log", "--subject", "clip:*")
    aside = [e for e in log if e["action"] == "source.moved_aside"]
    assert aside and str(moved) in json.dumps(aside[0])


def test_a_what_if_plan_does_not_show_the_policy(bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam("init")
    later = (bodycam.clock.now() + timedelta(days=400)).isoformat()
    bodycam("retention", "plan", "--as-of", later)
    result = bodycam("retention", "run", check=False)
    assert result.exit_code == 6 and "retention plan" in result.stderr
    bodycam("retention", "plan")
    assert bodycam("retention", "run").exit_code == 0
    bodycam.env["BODYCAM_RETENTION_SWEEP_AT"] = "04:15"  # not a deciding setting: the plan still holds
    assert bodycam("retention", "run").exit_code == 0
    bodycam.env["BODYCAM_RETENTION_GRACE_DAYS"] = "45"
    assert bodycam("retention", "run", check=False).exit_code == 6


def test_an_edited_lock_file_does_not_allow_an_early_delete(local_bodycam: Bodycam, tmp_path: Path,
                                                          ffmpeg: str) -> None:
    """The lock file is the local store's own (on S3 the server holds the lock, tested above)."""
    bodycam = local_bodycam
    bodycam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{stamp(RECENT)}.mp4", 1.0))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    (clip,) = clips(bodycam)
    store = bodycam.app().store
    assert isinstance(store, LocalStore)
    shorten_local_lock(store, clip["store_version"])
    with pytest.raises(RetentionViolation, match="within 180 days"):
        store.delete(clip["store_key"], clip["store_version"])
    result = bodycam("retention", "dispose", str(clip["id"]), "--reason", "lock says so", check=False)
    assert result.exit_code == 33 and "after bodycam received it" in result.stderr
    assert store.stat(clip["store_key"], clip["store_version"]).size == clip["size"]


def test_the_index_lock_is_honoured_by_the_sweep(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    """A disposal already begun (say, marked by an insider) is still refused while the index's lock holds."""
    bodycam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{stamp(RECENT)}.mp4", 1.0))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    (clip,) = clips(bodycam)
    app = bodycam.app()
    with app.db.write() as s:
        row = s.get(Clip, clip["id"])
        assert row is not None
        row.disposal_started_at = app.clock.now()
    bodycam("retention", "plan")
    out = bodycam("retention", "run").stdout
    assert "deleted 0 of 1 due (resumed 1)" in out and "the index locks it until" in out
    assert app.store.stat(clip["store_key"], clip["store_version"]).size == clip["size"]


def test_clips_correct_keeps_the_original_and_coverage_uses_the_new(bodycam: Bodycam, tmp_path: Path,
                                                                    ffmpeg: str) -> None:
    bodycam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20000101000000.mp4", 1.0))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    (clip,) = clips(bodycam)
    assert "untrusted_time" in clip["flags"]
    listed = bodycam.json("clips", "search", "--flag", "untrusted_time")
    assert [c["id"] for c in listed] == [clip["id"]]

    bad = bodycam("clips", "correct", str(clip["id"]), "--start", "2026-11-25T08:00:00+08:00",
                  "--reason", "line one\nforged line two", check=False)
    assert bad.exit_code == 50 and "one printable line" in bad.stderr
    changes = bodycam.json("clips", "correct", str(clip["id"]), "--start", "2026-11-25T08:00:00+08:00",
                           "--officer", "P2", "--reason", "dock log: clock reset, carried by P2")
    assert {c["field"] for c in changes["changes"]} == {"recorded_start", "time_source", "officer"}
    shown = bodycam.json("clips", "show", str(clip["id"]))
    assert shown["start"].startswith("2026-11-25T00:00:00") and shown["officer"] == "P2"
    assert "untrusted_time" not in [f["flag"] for f in shown["flags"]]
    start = {c["field"]: c for c in shown["corrections"]}["recorded_start"]
    assert start["old"].startswith("2000-01-01T00:00:00") and start["source"] == "clerk"
    assert "clip.correct" in [e["action"] for e in shown["custody"]]
    window = bodycam.json("clips", "search", "--officer", "P2", "--from", "2026-11-24T23:59:00Z",
                          "--to", "2026-11-25T00:01:00Z")
    assert [c["id"] for c in window] == [clip["id"]]
    assert bodycam("audit", "verify").exit_code == 0


def test_a_dock_measured_clock_offset_is_applied_and_recorded(bodycam: Bodycam, tmp_path: Path,
                                                              ffmpeg: str) -> None:
    bodycam("init")
    camera_time = RECENT.replace(microsecond=0) + timedelta(hours=1)  # the camera runs an hour fast
    media = make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{stamp(camera_time)}.mp4", 1.0)
    sidecar = media.with_name(media.name + ".json")
    sidecar.write_text(json.dumps({"clock_offset_seconds": 3600}))
    age(media, sidecar)
    bodycam("ingest", "run", str(tmp_path / "dock"))
    (clip,) = clips(bodycam)
    shown = bodycam.json("clips", "show", str(clip["id"]))
    assert datetime.fromisoformat(shown["start"]) == camera_time - timedelta(hours=1)
    (fix,) = shown["corrections"]
    assert fix["source"] == "dock" and datetime.fromisoformat(fix["old"]) == camera_time
    assert "+3600" in fix["reason"]


def test_the_session_manifest_is_stored_as_evidence(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    folder = tmp_path / "room" / "S-1"
    make_clip(folder / "part1.mp4", 1.0)
    manifest = {"session_id": "S-1", "room": "ROOM-1", "start": RECENT.isoformat(),
                "end": (RECENT + timedelta(seconds=1)).isoformat(), "interrogators": ["P1"],
                "files": ["part1.mp4"]}
    (folder / "session.json").write_text(json.dumps(manifest))
    age(*folder.iterdir())
    bodycam("ingest", "run", "--kind", "interrogation", str(tmp_path / "room"))
    app = bodycam.app()
    with app.db.read() as s:
        (att,) = s.scalars(select(Attachment).where(Attachment.role == "manifest")).all()
    with app.store.open(att.store_key, att.store_version) as fh:
        assert fh.read() == (folder / "session.json").read_bytes()
    bodycam("ingest", "run", "--kind", "interrogation", str(tmp_path / "room"))  # again: stored once
    with app.db.read() as s:
        assert len(s.scalars(select(Attachment).where(Attachment.role == "manifest")).all()) == 1


def test_ingest_refuses_a_clock_that_disagrees_with_the_database_server(pg_base_url: str, tmp_path: Path,
                                                                       ffmpeg: str) -> None:
    from tests.conftest import _pg_schema_url

    for url in _pg_schema_url(pg_base_url):
        env = {"BODYCAM_DATABASE_URL": url, "BODYCAM_STORE_URL": f"file://{tmp_path / 'objects'}",
               "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
        cam = Bodycam(env, ManualClock(datetime.now(UTC) + timedelta(minutes=5)))
        cam("init")
        age(make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{stamp(RECENT)}.mp4", 1.0))
        result = cam("ingest", "run", str(tmp_path / "dock"), check=False)
        assert result.exit_code == 23 and "(more than 60 s)" in result.stderr  # about +300 s, less the set-up time
        assert cam("retention", "run", check=False).exit_code == 23
        cam.clock.at = datetime.now(UTC)
        cam("ingest", "run", str(tmp_path / "dock"))


def test_store_lock_floor_on_the_local_store_itself(tmp_path: Path) -> None:
    clock = ManualClock()
    store = LocalStore(tmp_path / "objects", clock)
    store.ensure()
    res = store.put("k", io.BytesIO(b"evidence"), retain_until=clock.now() + timedelta(seconds=1))
    assert res is not None
    clock.advance(timedelta(days=FLOOR_DAYS - 1))
    with pytest.raises(RetentionViolation):
        store.delete(res.key, res.version)
    clock.advance(timedelta(days=1, seconds=1))
    store.delete(res.key, res.version)
