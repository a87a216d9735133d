"""The object-store contract, run on the local folder and on real Ceph RGW."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from minio import Minio
from minio.deleteobjects import DeleteObject

from bodycam.clock import ManualClock
from bodycam.config import FLOOR_DAYS
from bodycam.errors import IntegrityError, ObjectNotFound, RetentionViolation
from bodycam.store import ObjectStore
from bodycam.store.local import LocalStore
from bodycam.store.s3 import S3Store, parse_s3_time
from bodycam.timeutil import utcnow

MiB = 1024 * 1024


def blob(n: int, seed: int = 1) -> bytes:
    return (hashlib.sha256(str(seed).encode()).digest() * (n // 32 + 1))[:n]


def put(store: ObjectStore, key: str, data: bytes, seconds: float = 3600, **kw: object):
    return store.put(key, io.BytesIO(data), retain_until=utcnow() + timedelta(seconds=seconds), **kw)


def pass_time(store: ObjectStore, seconds: float) -> None:
    """Let a short lock run out: the local folder judges by an injected clock (and
    keeps everything for the legal floor after it was written, whatever its lock
    says); a real S3 server judges by its own clock, which only real time moves."""
    if isinstance(store, LocalStore):
        assert isinstance(store.clock, ManualClock)
        store.clock.advance(timedelta(days=FLOOR_DAYS, seconds=seconds))
    else:
        time.sleep(seconds)


def test_round_trip_with_hash(store: ObjectStore) -> None:
    data = blob(100_000)
    res = put(store, "clips/a b/ünïcode.mp4", data)
    assert res.sha256 == hashlib.sha256(data).hexdigest()
    assert res.size == len(data)
    info = store.stat(res.key, res.version)
    assert (info.size, info.sha256, info.legal_hold) == (len(data), res.sha256, False)
    assert info.mode == "COMPLIANCE"
    with store.open(res.key, res.version) as fh:
        assert fh.read() == data
    assert store.verify(res.key, res.version, res.sha256) == len(data)
    assert (res.key, res.version, len(data)) in list(store.list("clips/"))


def test_second_put_is_a_new_version(store: ObjectStore) -> None:
    a = put(store, "k", b"one")
    b = put(store, "k", b"two")
    assert a.version != b.version
    with store.open("k", a.version) as fh:
        assert fh.read() == b"one"


def test_expected_hash_mismatch_stores_nothing(store: ObjectStore) -> None:
    with pytest.raises(IntegrityError):
        put(store, "bad/small", b"abc", sha256="0" * 64)
    with pytest.raises(IntegrityError):
        put(store, "bad/large", blob(11 * MiB), sha256="0" * 64)
    assert list(store.list("bad/")) == []


def test_verify_detects_a_wrong_recorded_hash(store: ObjectStore) -> None:
    res = put(store, "v", b"evidence")
    with pytest.raises(IntegrityError):
        store.verify(res.key, res.version, hashlib.sha256(b"other").hexdigest())


def test_early_delete_refused(store: ObjectStore) -> None:
    res = put(store, "locked", b"keep me")
    with pytest.raises(RetentionViolation):
        store.delete(res.key, res.version)
    assert store.stat(res.key, res.version).size == 7


def test_store_itself_refuses_early_delete_even_with_governance_bypass(s3_store: S3Store) -> None:
    """Not even the service's own credentials get past COMPLIANCE (a folder cannot promise this)."""
    store = s3_store
    res = put(store, "raw", b"locked by the store")
    raw = Minio(
        store.client._base_url.host,
        access_key=os.environ["S3_ACCESS_KEY"],
        secret_key=os.environ["S3_SECRET_KEY"],
        region=os.environ.get("S3_REGION", "us-east-1"),
        secure=False,
    )
    name = store.prefix + res.key
    errors = list(raw.remove_objects(store.bucket, [DeleteObject(name, res.version)],
                                     bypass_governance_mode=True))
    assert errors, "the store accepted a delete of a COMPLIANCE-locked version"
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do; we check it survived
        raw.remove_object(store.bucket, name, version_id=res.version)
    assert store.stat(res.key, res.version).size == len(b"locked by the store")


def test_shortening_refused_extending_allowed(store: ObjectStore) -> None:
    res = put(store, "ret", b"x", seconds=3600)
    before = store.stat(res.key, res.version).retain_until
    assert before is not None
    with pytest.raises(RetentionViolation):
        store.extend_retention(res.key, res.version, before - timedelta(minutes=10))
    assert store.stat(res.key, res.version).retain_until == before
    later = before + timedelta(days=1)
    store.extend_retention(res.key, res.version, later)
    after = store.stat(res.key, res.version).retain_until
    assert after is not None and abs((after - later).total_seconds()) < 1


def test_legal_hold_blocks_delete_until_released(store: ObjectStore) -> None:
    res = put(store, "held", b"hold me", seconds=2, legal_hold=True)
    assert store.stat(res.key, res.version).legal_hold
    pass_time(store, 3)
    with pytest.raises(RetentionViolation):
        store.delete(res.key, res.version)
    store.set_legal_hold(res.key, res.version, False)
    assert not store.stat(res.key, res.version).legal_hold
    store.delete(res.key, res.version)
    with pytest.raises(ObjectNotFound):
        store.stat(res.key, res.version)


def test_delete_allowed_after_short_retention_expires(store: ObjectStore) -> None:
    res = put(store, "short", b"short-lived", seconds=2)
    with pytest.raises(RetentionViolation):
        store.delete(res.key, res.version)
    pass_time(store, 3)
    store.delete(res.key, res.version)
    with pytest.raises(ObjectNotFound):
        store.stat(res.key, res.version)


def test_multipart_object_larger_than_part_size(store: ObjectStore) -> None:
    data = blob(12 * MiB + 12345, seed=7)
    seen: list[int] = []
    res = put(store, "big/clip.mp4", data, progress=seen.append)
    assert res.sha256 == hashlib.sha256(data).hexdigest()
    assert sum(seen) == len(data)
    info = store.stat(res.key, res.version)
    assert info.size == len(data)
    if isinstance(store, S3Store):
        assert info.etag.endswith("-3"), info.etag  # 5 MiB parts: really multipart
    assert store.verify(res.key, res.version, res.sha256) == len(data)


def test_multipart_with_known_hash_keeps_it_in_metadata(store: ObjectStore) -> None:
    data = blob(11 * MiB, seed=3)
    sha = hashlib.sha256(data).hexdigest()
    res = put(store, "big/known", data, sha256=sha)
    assert store.stat(res.key, res.version).sha256 == sha


def test_missing_version_is_not_found(store: ObjectStore) -> None:
    res = put(store, "present", b"1")
    with pytest.raises(ObjectNotFound):
        store.stat("absent", res.version)


def test_rgw_date_parsing() -> None:
    t = parse_s3_time("2026-11-23T20:00:00.123456789Z")
    assert t.isoformat() == "2026-11-23T20:00:00.123456+00:00"


# -- litter from killed writers ------------------------------------------------------
WRITER = """
import sys
from datetime import timedelta
from pathlib import Path
from bodycam.store.local import LocalStore
from bodycam.timeutil import utcnow
LocalStore(sys.argv[1]).put("k/clip.mp4", sys.stdin.buffer, retain_until=utcnow() + timedelta(days=1))
"""


def test_local_sweep_removes_a_killed_writers_partial_but_not_a_live_ones(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "objects")
    store.ensure()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store.root)], stdin=subprocess.PIPE)
    assert writer.stdin is not None
    writer.stdin.write(os.urandom(3 * MiB))  # mid-copy: stdin stays open
    writer.stdin.flush()
    deadline = time.monotonic() + 30
    while not (partials := list((store.root / "tmp").glob("*.partial"))) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(partials) == 1
    old = time.time() - 3600
    os.utime(partials[0], (old, old))  # past the grace minute: only the lock protects it now
    try:
        assert store.sweep_incomplete(timedelta(0)) == []
        assert partials[0].exists()
    finally:
        writer.kill()
        writer.wait()
    removed = store.sweep_incomplete(timedelta(0))
    assert len(removed) == 1 and removed[0].startswith(partials[0].name)
    assert not partials[0].exists()
    assert list(store.list()) == []
    res = put(store, "k/clip.mp4", b"after the crash")  # the store still works
    assert store.verify(res.key, res.version, res.sha256) == len(b"after the crash")


def test_s3_sweep_aborts_only_old_unfinished_uploads(s3_store: S3Store) -> None:
    name = f"{s3_store.prefix}abandoned/clip.mp4"
    upload_id = s3_store.client._create_multipart_upload(s3_store.bucket, name, {})

    def unfinished() -> list[str]:
        page = s3_store.client._list_multipart_uploads(s3_store.bucket, prefix=s3_store.prefix or None)
        return [u.upload_id for u in page.uploads if u.upload_id]

    assert upload_id in unfinished()
    assert s3_store.sweep_incomplete(timedelta(hours=1)) == []  # might still be in progress
    assert upload_id in unfinished()
    time.sleep(1.1)
    removed = s3_store.sweep_incomplete(timedelta(seconds=1))
    assert len(removed) == 1 and upload_id in removed[0] and name in removed[0]
    assert upload_id not in unfinished()


def test_s3_part_memory_is_bounded_across_concurrent_uploads(s3_bucket: str, tmp_path: Path,
                                                             request: pytest.FixtureRequest) -> None:
    """Four large uploads at once still hold at most (parallel_parts + 1) parts in memory."""
    import threading
    import tracemalloc

    from bodycam.config import load_settings
    from bodycam.store import open_store
    from tests.conftest import store_env

    env = {**store_env("s3", tmp_path, request), "BODYCAM_STORE_PART_SIZE_MB": "5",
           "BODYCAM_STORE_PARALLEL_PARTS": "2"}
    store = open_store(load_settings(environ=env).settings)
    datas = [blob(4 * 5 * MiB + 1000, seed=n) for n in range(4)]  # made before tracing starts
    results: list[object] = []
    tracemalloc.start()
    try:
        threads = [threading.Thread(target=lambda d=d: results.append(put(store, "mem/clip", d))) for d in datas]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(results) == 4 and all(r is not None for r in results)
    assert peak < (2 + 1) * 5 * MiB + 4 * MiB, f"{peak / MiB:.1f} MiB of parts at once"
