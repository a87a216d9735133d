"""Fault-injecting stores for tests (as restic does): the real backend, one behaviour changed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bodycam.clock import Clock
from bodycam.config import Settings
from bodycam.store import ObjectStore, open_store
from bodycam.store.s3 import S3Store


class ExpiredLockS3(S3Store):
    """Real RGW, but versions are written with no lock at all, standing in for a lock
    that ran out 180 days ago (the server's clock cannot be moved by a test).
    Legal holds and everything else stay real."""

    def _headers(self, meta: dict[str, str], retain_until: datetime, legal_hold: bool) -> dict[str, Any]:
        headers = super()._headers(meta, retain_until, legal_hold)
        return {k: v for k, v in headers.items() if not k.lower().startswith("x-amz-object-lock-")}

    def extend_retention(self, key: str, version: str, until: datetime) -> None:
        return None


def expired_lock_store(settings: Settings, clock: Clock | None = None) -> ObjectStore:
    """``open_store`` with S3 locks that have already run out; a local store is left as it is
    (it judges its locks by the injected clock)."""
    store = open_store(settings, clock)
    if isinstance(store, S3Store):
        return ExpiredLockS3(store.bucket, store.prefix, store.client, store.endpoint, store.part_size,
                             store.parallel_parts)
    return store


def shorten_local_lock(store: ObjectStore, version: str, until: str = "2001-01-01T00:00:00+00:00") -> None:
    """What the owner of a local store folder can do: edit a version's lock file by hand."""
    import json

    from bodycam.store.local import LocalStore

    assert isinstance(store, LocalStore)
    lock = next(store.root.rglob(f"{version}.lock.json"))
    record = json.loads(lock.read_text())
    record["retain_until"] = until
    lock.write_text(json.dumps(record))
