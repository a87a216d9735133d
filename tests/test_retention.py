"""Retention on the real stores: nothing early, holds survive, expired footage goes, records stay."""

from __future__ import annotations

import json
import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject

from bodycam.config import load_settings
from bodycam.db.engine import Database
from bodycam.errors import ObjectNotFound
from bodycam.retention.sweep import sweep_lock
from bodycam.store import open_store
from bodycam.store.s3 import S3Store
from bodycam.timeutil import utcnow
from tests.conftest import run_bodycam
from tests.media import age, make_clip

GRACE_SECONDS = 6


def test_retention_end_to_end(bodycam_env: dict[str, str], tmp_path: Path, ffmpeg: str) -> None:
    env = {**bodycam_env, "BODYCAM_RETENTION_GRACE_DAYS": str(GRACE_SECONDS / 86400)}
    run_bodycam("init", env=env, check=True)
    # recorded on 2026-01-01: more than 180 days ago, so only the grace period holds them
    for hour, pattern in ((8, "testsrc"), (9, "smptebars")):
        age(make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_2026010{1}{hour:02d}0000.mp4", 1.0, pattern=pattern))
    run_bodycam("ingest", "run", str(tmp_path / "dock"), env=env, check=True)
    ingested = time.monotonic()
    clips = json.loads(run_bodycam("clips", "search", "--format", "json", env=env, check=True).stdout)
    first, second = clips
    store = open_store(load_settings(environ=env).settings)

    proc = run_bodycam("retention", "run", env=env)
    assert proc.returncode == 6 and "retention plan" in proc.stderr
    plan = json.loads(run_bodycam("retention", "plan", "--format", "json", env=env, check=True).stdout)
    assert plan["due"] == [] and plan["kept"] == 2

    proc = run_bodycam("retention", "dispose", str(first["id"]), "--reason", "tidy up", env=env)
    assert proc.returncode == 33 and "grace" in proc.stderr
    assert store.stat(first["store_key"], first["store_version"]).size == first["size"]
    if isinstance(store, S3Store):  # the store itself, with the service's credentials and the bypass flag
        raw = Minio(store.client._base_url.host, access_key=os.environ["S3_ACCESS_KEY"],
                    secret_key=os.environ["S3_SECRET_KEY"], region=os.environ.get("S3_REGION"), secure=False)
        errors = list(raw.remove_objects(store.bucket, [DeleteObject(store.prefix + first["store_key"],
                                                                     first["store_version"])],
                                         bypass_governance_mode=True))
        assert errors and store.stat(first["store_key"], first["store_version"]).size == first["size"]

    run_bodycam("retention", "hold", str(second["id"]), "--reason", "subpoena 42", env=env, check=True)
    assert store.stat(second["store_key"], second["store_version"]).legal_hold
    time.sleep(max(0.0, GRACE_SECONDS + 1 - (time.monotonic() - ingested)))

    later = (utcnow() + timedelta(days=1)).isoformat()
    what_if = json.loads(run_bodycam("retention", "plan", "--as-of", later, "--format", "json", env=env,
                                     check=True).stdout)
    assert [d["clip"] for d in what_if["due"]] == [first["id"]]
    plan = json.loads(run_bodycam("retention", "plan", "--format", "json", env=env, check=True).stdout)
    assert [d["clip"] for d in plan["due"]] == [first["id"]] and "expired" in plan["due"][0]["reason"]

    out = run_bodycam("retention", "run", env=env, check=True).stdout
    assert "deleted 1 of 1" in out
    with pytest.raises(ObjectNotFound):
        store.stat(first["store_key"], first["store_version"])
    assert store.stat(second["store_key"], second["store_version"]).legal_hold  # held: survived the sweep
    shown = json.loads(run_bodycam("clips", "show", str(first["id"]), "--format", "json", env=env, check=True).stdout)
    assert shown["sha256"] == first["sha256"] and shown["retention"]["disposed_at"]
    assert "expired" in shown["retention"]["disposed_reason"]
    assert "clip.dispose" in [c["action"] for c in shown["custody"]]
    proc = run_bodycam("clips", "export", str(first["id"]), "--out", str(tmp_path / "x"), "--reason", "r", env=env)
    assert proc.returncode == 50 and "disposed" in proc.stderr

    run_bodycam("retention", "release", str(second["id"]), "--reason", "case closed", env=env, check=True)
    assert not store.stat(second["store_key"], second["store_version"]).legal_hold
    assert "deleted 1 of 1" in run_bodycam("retention", "run", env=env, check=True).stdout
    assert run_bodycam("audit", "verify", env=env).returncode == 0

    changed = {**env, "BODYCAM_RETENTION_FLOOR_DAYS": "400"}
    proc = run_bodycam("retention", "run", env=changed)
    assert proc.returncode == 6  # a changed policy deletes nothing before a plan has shown it


def test_one_sweep_at_a_time_and_resume(bodycam_env: dict[str, str], tmp_path: Path, ffmpeg: str) -> None:
    env = {**bodycam_env, "BODYCAM_RETENTION_GRACE_DAYS": "0"}
    run_bodycam("init", env=env, check=True)
    age(make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20260101080000.mp4", 1.0))
    run_bodycam("ingest", "run", str(tmp_path / "dock"), env=env, check=True)
    (clip,) = json.loads(run_bodycam("clips", "search", "--format", "json", env=env, check=True).stdout)
    time.sleep(6)  # the minimum lock after ingest
    run_bodycam("retention", "plan", env=env, check=True)
    db = Database(env["BODYCAM_DATABASE_URL"])
    with sweep_lock(db):
        proc = run_bodycam("retention", "run", env=env)
    assert proc.returncode == 5 and "another retention sweep" in proc.stderr

    # a sweep that died after deleting the object but before recording it: the next one finishes the job
    store = open_store(load_settings(environ=env).settings)
    from sqlalchemy import update

    from bodycam.db.models import Clip

    with db.write() as s:
        s.execute(update(Clip).where(Clip.id == clip["id"]).values(disposal_started_at=utcnow()))
    store.delete(clip["store_key"], clip["store_version"])
    out = run_bodycam("retention", "run", env=env, check=True).stdout
    assert "deleted 1 of 1 due (resumed 1)" in out
    shown = json.loads(run_bodycam("clips", "show", str(clip["id"]), "--format", "json", env=env, check=True).stdout)
    assert shown["retention"]["disposed_at"]
    if not isinstance(store, S3Store):  # S3 answers a delete of a missing version with success
        assert "already gone" in shown["retention"]["disposed_reason"]


def test_nightly_sweep_plans_a_new_policy_before_applying_it(tmp_path: Path, ffmpeg: str) -> None:
    from bodycam.app import App
    from bodycam.ingest.service import nightly_sweep

    env = {"PATH": os.environ["PATH"], "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path),
           "BODYCAM_RETENTION_GRACE_DAYS": "0"}
    run_bodycam("init", env=env, check=True)
    age(make_clip(tmp_path / "dock" / "CAM1" / "CAM1_P1_20260101080000.mp4", 1.0))
    run_bodycam("ingest", "run", str(tmp_path / "dock"), env=env, check=True)
    time.sleep(6)
    app = App(load_settings(environ=env))
    said: list[str] = []
    nightly_sweep(app, said.append)
    assert "planned (1 due)" in said[-1]  # first night: the policy is shown, nothing deleted
    (clip,) = json.loads(run_bodycam("clips", "search", "--format", "json", env=env, check=True).stdout)
    assert clip["disposed_at"] is None
    nightly_sweep(app, said.append)
    assert said[-1].startswith("retention: deleted 1 of 1 due")
