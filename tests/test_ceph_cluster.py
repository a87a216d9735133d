"""Issue 17: a Ceph cluster of three OSDs (three copies, writes go on with two) and two RGW endpoints.

`deploy/ceph-cluster.sh up` makes it (`.ci/run` does; S3_CLUSTER_ENDPOINTS names the endpoints).
The S3 contract suite and the S3 ingest tests run against it unchanged; an OSD killed mid-ingest
and an RGW endpoint killed mid-upload are survived with nothing lost.
"""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bodycam.config import load_settings
from bodycam.store import open_store
from bodycam.store.s3 import S3Store
from bodycam.timeutil import utcnow
from tests.conftest import Bodycam, require
from tests.media import distinct_dock

HERE = Path(__file__).parent.parent
CLUSTER = HERE / "deploy" / "ceph-cluster.sh"


@pytest.fixture(scope="module")
def endpoints() -> list[str]:
    found = [e for e in os.environ.get("S3_CLUSTER_ENDPOINTS", "").split(",") if e]
    require(len(found) >= 2, "the Ceph cluster of deploy/ceph-cluster.sh (S3_CLUSTER_ENDPOINTS)")
    return found


def _cluster(*args: str) -> None:
    subprocess.run(["bash", str(CLUSTER), *args], check=True, capture_output=True, timeout=300)


@pytest.fixture
def revive() -> Iterator[list[str]]:
    """Daemons a test stops are started again whatever happens, so that the next test has the whole cluster."""
    stopped: list[str] = []
    yield stopped
    for daemon in stopped:
        _cluster("start", daemon)


def _env(endpoints: list[str], tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BODYCAM_DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite'}", "XDG_CONFIG_HOME": str(tmp_path / "cfg"),
            "BODYCAM_STORE_URL": f"s3://bodycam-cluster-{uuid.uuid4().hex[:8]}",
            "BODYCAM_STORE_ENDPOINTS": ",".join(endpoints),
            "BODYCAM_STORE_ACCESS_KEY": os.environ.get("S3_ACCESS_KEY", ""),
            "BODYCAM_STORE_SECRET_KEY": os.environ.get("S3_SECRET_KEY", ""),
            "BODYCAM_STORE_REGION": os.environ.get("S3_REGION", "default"), **extra}


@pytest.mark.parametrize("suite", ["tests/test_store_contract.py", "tests/test_ingest.py"])
def test_the_s3_suites_pass_against_the_cluster(endpoints: list[str], suite: str) -> None:
    """The same tests as against the single daemon, with S3_ENDPOINT pointing at the cluster's first RGW."""
    env = {**os.environ, "S3_ENDPOINT": endpoints[0], "DATABASE_URL": os.environ.get("DATABASE_URL", "")}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", suite, "-k", "s3"],
                          env=env, cwd=HERE, capture_output=True, text=True, timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert " passed" in proc.stdout.splitlines()[-1]


def test_an_osd_killed_mid_ingest_loses_nothing(endpoints: list[str], tmp_path: Path, revive: list[str],
                                                ffmpeg: str) -> None:
    """Three copies, min_size two: the ingest goes on while osd.1 is dead, and every byte reads back."""
    bodycam = Bodycam(_env(endpoints, tmp_path))
    bodycam("init")
    dock = distinct_dock(tmp_path / "dock", 12)
    app = bodycam.app()
    store = app.store
    assert isinstance(store, S3Store)
    real_put = store.put
    calls = 0

    def put(*args: Any, **kw: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 4:
            _cluster("stop", "osd.1")
            revive.append("osd.1")
        return real_put(*args, **kw)

    store.put = put  # type: ignore[method-assign]
    from bodycam.ingest.runner import run_pass
    from bodycam.ingest.service import make_context

    summary = run_pass(make_context(app, "delete"), [dock], "dock", workers=2, wait_seconds=0)
    assert (summary.ingested, summary.failed) == (12, 0), summary.failures
    assert "osd.1" in revive and not list(dock.rglob("*.mp4"))
    check = bodycam("check", "--verify-data", check=False)
    assert check.exit_code == 0, check.stdout + check.stderr


def test_an_rgw_endpoint_killed_mid_upload_moves_to_the_other_and_the_upload_completes(
        endpoints: list[str], tmp_path: Path, revive: list[str]) -> None:
    """A 48 MiB object in 5 MiB parts; rgw.1 dies after the third part is read. The multipart upload lives in
    RADOS, not in the gateway: the other endpoint takes the rest of the parts and completes it."""
    env = _env(endpoints, tmp_path, BODYCAM_STORE_PART_SIZE_MB="5", BODYCAM_STORE_PARALLEL_PARTS="1")
    store = open_store(load_settings(environ=env).settings)
    assert isinstance(store, S3Store)
    store.ensure()
    data = hashlib.sha256(b"seed").digest() * (48 * 1024 * 1024 // 32)

    class Cut(io.BytesIO):
        reads = 0

        def read(self, n: int | None = -1) -> bytes:
            Cut.reads += 1
            if Cut.reads == 4:
                _cluster("stop", "rgw.1")
                revive.append("rgw.1")
            return super().read(n)

    put = store.put("big", Cut(data), retain_until=utcnow() + timedelta(days=1))
    assert put is not None and put.sha256 == hashlib.sha256(data).hexdigest() and put.size == len(data)
    assert "rgw.1" in revive and store.endpoint == endpoints[1]
    with store.open("big", put.version) as fh:
        assert hashlib.sha256(fh.read()).hexdigest() == put.sha256
