"""Issue 14: store keys per role, refused by the object store itself (real Ceph RGW).

The bucket policy of ``bodycam roles store-policy`` is applied to a fresh bucket, four RGW
users are made with ``radosgw-admin``, and each key tries what its role may and may not do.
"""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from minio import Minio
from minio.error import S3Error

from bodycam.config import load_settings
from bodycam.errors import PermissionDenied, RetentionViolation
from bodycam.store import open_store
from bodycam.store.policy import STORE_ROLES, bucket_policy
from bodycam.store.s3 import S3Store
from bodycam.timeutil import utcnow
from tests.conftest import RUN_ID, Bodycam, require, s3_env
from tests.media import age, make_clip

DEPLOY = Path(__file__).parent.parent / "deploy"


def radosgw_admin() -> list[str]:
    cmd = shlex.split(os.environ.get("RGW_ADMIN", "radosgw-admin -c /tmp/bodycam-rgw/ceph.conf"))
    try:
        ok = subprocess.run([*cmd, "user", "list"], capture_output=True, timeout=60).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    require(ok, "radosgw-admin for the test RGW (RGW_ADMIN)")
    return cmd


def rgw_user(uid: str) -> tuple[str, str]:
    cmd = radosgw_admin()
    info = subprocess.run([*cmd, "user", "info", f"--uid={uid}"], capture_output=True, text=True, timeout=60)
    if info.returncode != 0:
        info = subprocess.run([*cmd, "user", "create", f"--uid={uid}", f"--display-name={uid}",
                               f"--access-key={uid}", f"--secret-key={uid}-secret"],
                              capture_output=True, text=True, timeout=60, check=True)
    key = json.loads(info.stdout)["keys"][0]
    return key["access_key"], key["secret_key"]


def test_the_shipped_policy_is_the_generated_one() -> None:
    shipped = json.loads((DEPLOY / "s3-policy.json").read_text())
    assert shipped == bucket_policy("evidence")


@dataclass
class Keyed:
    owner: Bodycam
    """bodycam on a SQLite database and the fresh bucket, with the owner's key."""
    users: dict[str, str]
    stores: dict[str, S3Store]

    def as_(self, role: str) -> Bodycam:
        return Bodycam(key_env(self.owner.env, self.users[role]), self.owner.clock)


def key_env(env: dict[str, str], uid: str) -> dict[str, str]:
    access, secret = rgw_user(uid)
    return {**env, "BODYCAM_STORE_ACCESS_KEY": access, "BODYCAM_STORE_SECRET_KEY": secret}


@pytest.fixture
def keyed(tmp_path: Path) -> Keyed:
    """A fresh locked bucket with the role policy applied, and a store per role (plus 'owner')."""
    require(bool(os.environ.get("S3_ENDPOINT")), "S3 with Object Lock (S3_ENDPOINT)")
    users = {r: f"t{RUN_ID}-{r}" for r in STORE_ROLES}
    bucket = f"bodycam-pol-{uuid.uuid4().hex[:10]}"
    owner_env = {"BODYCAM_STORE_URL": f"s3://{bucket}/p", **s3_env()}
    owner = Bodycam({**owner_env, "BODYCAM_DATABASE_URL": f"sqlite:///{tmp_path / 'db'}",
                     "XDG_CONFIG_HOME": str(tmp_path)})
    owner("init")
    args = [a for r, name in users.items() for a in ("--user", f"{r}={name}")]
    printed = json.loads(owner("roles", "store-policy", *args, "--apply").stdout)
    assert printed == bucket_policy(bucket, users, "p")
    stores = {"owner": open_store(load_settings(environ=owner_env).settings)}
    stores.update({role: open_store(load_settings(environ=key_env(owner_env, uid)).settings)
                   for role, uid in users.items()})
    return Keyed(owner, users, {k: v for k, v in stores.items() if isinstance(v, S3Store)})


def refused(fn: Callable[[], object]) -> bool:
    try:
        fn()
    except (PermissionDenied, RetentionViolation):
        return True
    return False


def test_each_store_key_may_do_its_job_and_the_store_refuses_the_rest(keyed: Keyed) -> None:
    ingest, reader, holds, retention, owner = (keyed.stores[k]
                                               for k in ("ingest", "reader", "holds", "retention", "owner"))
    until = utcnow() + timedelta(days=1)
    put = ingest.put("clips/a.mp4", io.BytesIO(b"footage" * 1000), retain_until=until)
    assert put is not None
    key, version = "clips/a.mp4", put.version
    assert ingest.stat(key, version).retain_until is not None
    with reader.open(key, version) as f:
        assert f.read() == b"footage" * 1000
    ingest.extend_retention(key, version, until + timedelta(days=1))

    assert refused(lambda: reader.put("clips/b.mp4", io.BytesIO(b"x"), retain_until=until))
    assert not refused(lambda: reader.put("seals/s1.json", io.BytesIO(b"{}"), retain_until=until))
    for store in (ingest, reader, retention):
        assert refused(lambda store=store: store.set_legal_hold(key, version, True))  # type: ignore[misc]
    holds.set_legal_hold(key, version, True)
    assert ingest.stat(key, version).legal_hold
    for store in (ingest, reader, retention):
        assert refused(lambda store=store: store.set_legal_hold(key, version, False))  # type: ignore[misc]
    assert ingest.stat(key, version).legal_hold
    holds.set_legal_hold(key, version, False)

    # a version with no lock: only the retention key may delete it
    plain = Minio(owner.endpoint.split("://", 1)[1], os.environ["S3_ACCESS_KEY"], os.environ["S3_SECRET_KEY"],
                  secure=False, region=os.environ.get("S3_REGION", "us-east-1"))
    res = plain.put_object(owner.bucket, owner.prefix + "clips/unlocked.bin", io.BytesIO(b"x"), 1)
    assert res.version_id is not None
    for store in (ingest, reader, holds):
        assert refused(lambda store=store: store.delete("clips/unlocked.bin", res.version_id))  # type: ignore[misc]
        one = ("clips/unlocked.bin", res.version_id)
        assert refused(lambda store=store, one=one: store.delete_many([one]))  # type: ignore[misc]
    retention.delete("clips/unlocked.bin", res.version_id)
    # and the store's own lock still refuses the retention key what is not due (asked directly, past bodycam)
    with pytest.raises(S3Error, match="AccessDenied"):
        retention.client.remove_object(retention.bucket, retention.prefix + key, version_id=version)
    for store in (ingest, reader, holds, retention):
        assert refused(lambda store=store: store.set_policy({"Version": "2012-10-17", "Statement": []}))  # type: ignore[misc]


def test_the_commands_work_with_their_roles_keys_and_a_refusal_leaves_nothing(keyed: Keyed, tmp_path: Path) -> None:
    dock = tmp_path / "dock"
    age(make_clip(dock / "CAM1" / "CAM1_P1_20261101080000.mp4", 1.0))
    keyed.owner("cases", "import", str(_write(tmp_path / "cases.csv", "number,title,status,opened_at,closed_at\n"
                                              "C-1,theft,open,2026-11-01T00:00:00Z,\n")))
    keyed.as_("ingest")("ingest", "run", str(dock))
    clerk = keyed.as_("reader")
    clip = str(clerk.json("clips", "search")[0]["id"])
    clerk("clips", "export", clip, "--out", str(tmp_path / "usb"), "--reason", "court")
    assert len(list((tmp_path / "usb").glob("custody-*"))) == 1
    before = len(clerk.json("audit", "log", "--limit", "1000"))
    result = clerk("cases", "link", "C-1", clip, "--reason", "arrest", check=False)
    assert result.exit_code == 25 and "legal hold" in result.stderr
    after = clerk.json("audit", "log", "--limit", "1000")
    new = [e["action"] for e in after[:len(after) - before]]
    assert sorted(new) == ["access.denied", "audit.read"]  # the refusal, and the first read of the log
    assert clerk.json("clips", "show", clip)["cases"] == []
    keyed.as_("holds")("cases", "link", "C-1", clip, "--reason", "arrest")
    assert keyed.stores["reader"].stat(*_object(keyed.owner, clip)).legal_hold


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _object(bodycam: Bodycam, clip: str) -> tuple[str, str]:
    shown = bodycam.json("clips", "show", clip)
    return shown["store_key"], shown["store_version"]
