"""Retention on the real stores: nothing early, holds survive, expired footage goes,
records stay. Time moves by an injected clock; on RGW, whose clock no test can move,
a fault-injecting store writes versions whose lock has already run out (legal holds
stay real)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject
from sqlalchemy import update

from bodycam.clock import ManualClock
from bodycam.config import FLOOR_DAYS, load_settings
from bodycam.db.engine import Database
from bodycam.db.models import Clip
from bodycam.errors import ObjectNotFound
from bodycam.retention.sweep import sweep_lock
from bodycam.store.s3 import S3Store
from tests.conftest import Bodycam
from tests.faults import expired_lock_store
from tests.media import age, make_clip


def test_retention_end_to_end(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    # recorded on 2026-01-01, long before the floor: only the floor after receipt holds them
    for hour, pattern in ((8, "testsrc"), (9, "smptebars")):
        age(make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_20260101{hour:02d}0000.mp4", 1.0, pattern=pattern))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    first, second = bodycam.json("clips", "search")
    store = bodycam.app().store

    result = bodycam("retention", "run", check=False)
    assert result.exit_code == 6 and "retention plan" in result.stderr
    plan = bodycam.json("retention", "plan")
    assert plan["due"] == [] and plan["kept"] == 2

    result = bodycam("retention", "dispose", str(first["id"]), "--reason", "tidy up", check=False)
    assert result.exit_code == 33 and "after bodycam received it" in result.stderr
    assert store.stat(first["store_key"], first["store_version"]).size == first["size"]
    if isinstance(store, S3Store):  # the store itself, with the service's credentials and the bypass flag
        raw = Minio(store.client._base_url.host, access_key=os.environ["S3_ACCESS_KEY"],
                    secret_key=os.environ["S3_SECRET_KEY"], region=os.environ.get("S3_REGION"), secure=False)
        errors = list(raw.remove_objects(store.bucket, [DeleteObject(store.prefix + first["store_key"],
                                                                     first["store_version"])],
                                         bypass_governance_mode=True))
        assert errors and store.stat(first["store_key"], first["store_version"]).size == first["size"]

    bodycam("retention", "hold", str(second["id"]), "--reason", "subpoena 42")
    assert store.stat(second["store_key"], second["store_version"]).legal_hold


def test_expired_footage_goes_held_footage_stays(bodycam: Bodycam, tmp_path: Path, ffmpeg: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bodycam.app.open_store", expired_lock_store)
    bodycam("init")
    for hour, pattern in ((8, "testsrc"), (9, "smptebars")):
        age(make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_20260101{hour:02d}0000.mp4", 1.0, pattern=pattern))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    first, second = bodycam.json("clips", "search")
    store = bodycam.app().store
    bodycam("retention", "hold", str(second["id"]), "--reason", "subpoena 42")

    bodycam.advance(days=FLOOR_DAYS - 1)
    bodycam("retention", "plan")
    assert "deleted 0 of 0 due" in bodycam("retention", "run").stdout

    bodycam.advance(days=2)
    later = (bodycam.clock.now() + timedelta(days=1)).isoformat()
    what_if = bodycam.json("retention", "plan", "--as-of", later)
    assert [d["clip"] for d in what_if["due"]] == [first["id"]]
    plan = bodycam.json("retention", "plan")
    assert [d["clip"] for d in plan["due"]] == [first["id"]] and "expired" in plan["due"][0]["reason"]

    assert "deleted 1 of 1" in bodycam("retention", "run").stdout
    with pytest.raises(ObjectNotFound):
        store.stat(first["store_key"], first["store_version"])
    assert store.stat(second["store_key"], second["store_version"]).legal_hold  # held: survived the sweep
    shown = bodycam.json("clips", "show", str(first["id"]))
    assert shown["sha256"] == first["sha256"] and shown["retention"]["disposed_at"]
    assert "expired" in shown["retention"]["disposed_reason"]
    assert "clip.dispose" in [c["action"] for c in shown["custody"]]
    result = bodycam("clips", "export", str(first["id"]), "--out", str(tmp_path / "x"), "--reason", "r", check=False)
    assert result.exit_code == 50 and "disposed" in result.stderr

    bodycam("retention", "release", str(second["id"]), "--reason", "case closed")
    assert not store.stat(second["store_key"], second["store_version"]).legal_hold
    assert "deleted 1 of 1" in bodycam("retention", "run").stdout
    assert bodycam("audit", "verify").exit_code == 0

    bodycam.env["BODYCAM_RETENTION_FLOOR_DAYS"] = "400"
    assert bodycam("retention", "run", check=False).exit_code == 6  # a changed policy deletes nothing unplanned


def test_one_sweep_at_a_time_and_resume(bodycam: Bodycam, tmp_path: Path, ffmpeg: str,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bodycam.app.open_store", expired_lock_store)
    bodycam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20260101080000.mp4", 1.0))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    (clip,) = bodycam.json("clips", "search")
    bodycam.advance(days=FLOOR_DAYS + 1)
    bodycam("retention", "plan")
    db = Database(bodycam.env["BODYCAM_DATABASE_URL"])
    with sweep_lock(db):
        result = bodycam("retention", "run", check=False)
    assert result.exit_code == 5 and "another retention sweep" in result.stderr

    # a sweep that died after deleting the object but before recording it: the next one finishes the job
    store = bodycam.app().store
    with db.write() as s:
        s.execute(update(Clip).where(Clip.id == clip["id"]).values(disposal_started_at=bodycam.clock.now()))
    store.delete(clip["store_key"], clip["store_version"])
    assert "deleted 1 of 1 due (resumed 1)" in bodycam("retention", "run").stdout
    shown = bodycam.json("clips", "show", str(clip["id"]))
    assert shown["retention"]["disposed_at"]
    if not isinstance(store, S3Store):  # S3 answers a delete of a missing version with success
        assert "already gone" in shown["retention"]["disposed_reason"]


def test_nightly_sweep_plans_a_new_policy_before_applying_it(tmp_path: Path, ffmpeg: str,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    from bodycam.app import App
    from bodycam.service.jobs import nightly_sweep

    env = {"PATH": os.environ["PATH"], "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    cam = Bodycam(env)
    cam("init")
    age(make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20260101080000.mp4", 1.0))
    cam("ingest", "run", str(tmp_path / "dock"))
    clock = ManualClock(cam.clock.now() + timedelta(days=FLOOR_DAYS + 1))
    app = App(load_settings(environ=env), clock)
    caplog.set_level("INFO", logger="bodycam")
    nightly_sweep(app)
    assert "planned (1 due)" in caplog.messages[-1]  # first night: the policy is shown, nothing deleted
    (clip,) = cam.json("clips", "search")
    assert clip["disposed_at"] is None
    nightly_sweep(app)
    assert caplog.messages[-1].startswith("retention: deleted 1 of 1 due")
