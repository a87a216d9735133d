"""Claims: no two workers, on one host or many, ever take the same source file.

A source file is identified by host, path, size and mtime. Claiming inserts its
row (the unique key decides races) or takes over a row whose claimant is gone:
a dead process on this host, or a lease not renewed in time elsewhere.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from bodycam.db.engine import Database
from bodycam.db.models import IngestItem
from bodycam.ingest.discover import SourceFile
from bodycam.names import shown
from bodycam.timeutil import utcnow

LEASE = timedelta(minutes=10)


_live_workers: set[str] = set()
"""Worker ids of this process whose passes are running (one per pass: bodycam.ingest.runner)."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


@contextmanager
def working(worker: str) -> Iterator[None]:
    """Mark ``worker`` live in this process for the length of a pass: its claims are busy to the others."""
    _live_workers.add(worker)
    try:
        yield
    finally:
        _live_workers.discard(worker)


def source_key(host: str, sf: SourceFile) -> str:
    ident = f"{host}\0{sf.path.absolute()}\0{sf.size}\0{sf.mtime_ns}"
    return hashlib.sha256(ident.encode("utf-8", "surrogateescape")).hexdigest()


def _claimant_gone(claimed_by: str, heartbeat_age: timedelta) -> bool:
    """A claim made by a process of this host that has ended, or by an earlier pass of this process (a pass
    that failed while the database was away leaves its claims behind: they are not busy), or a lease that
    another host has not renewed in time."""
    host, _, rest = claimed_by.partition(":")
    pid_text = rest.partition(":")[0]
    if host == socket.gethostname() and pid_text.isdigit():
        pid = int(pid_text)
        if pid == os.getpid():
            return claimed_by not in _live_workers
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False
    return heartbeat_age > LEASE


@dataclass(frozen=True)
class Claim:
    item_id: int
    state: str
    resumed: bool
    """True when an earlier attempt was taken over (it may have left a version)."""


def claim(db: Database, host: str, worker: str, sf: SourceFile) -> Claim | str:
    """A Claim, or the reason this worker must leave the file alone
    ('done' when already indexed, 'busy' when another live worker has it)."""
    key = source_key(host, sf)
    now = utcnow()
    try:
        with db.write() as s:
            item = s.scalar(select(IngestItem).where(IngestItem.source_key == key).with_for_update())
            if item is None:
                item = IngestItem(
                    source_key=key, host=host, source_path=shown(sf.path.absolute()), size=sf.size,
                    mtime_ns=sf.mtime_ns, state="claimed", claimed_by=worker, claimed_at=now,
                    heartbeat_at=now, attempts=1, abandoned=[], updated_at=now,
                )
                s.add(item)
                s.flush()
                return Claim(item.id, "claimed", False)
            if item.state in ("indexed", "released"):
                return "done"
            if item.state != "failed" and item.claimed_by != worker and not _claimant_gone(
                item.claimed_by, now - item.heartbeat_at
            ):
                return "busy"
            item.claimed_by, item.claimed_at, item.heartbeat_at = worker, now, now
            item.attempts += 1
            item.updated_at = now
            state = "stored" if item.store_version and item.sha256 else "claimed"
            item.state = state
            return Claim(item.id, state, True)
    except DBIntegrityError:  # another host inserted the same key first
        return "busy"


class ClaimLost(Exception):
    """Another worker took this file over (our lease lapsed): stop working on it, write nothing more.
    Control flow inside ingest, never shown to a user as an error."""


def heartbeat(db: Database, item_id: int, worker: str) -> None:
    """Renew the lease; ClaimLost when it is no longer ours."""
    with db.write() as s:
        item = s.get(IngestItem, item_id)
        if item is None or item.claimed_by != worker:
            raise ClaimLost(f"ingest item {item_id}: now claimed by {item.claimed_by if item else 'nobody'}")
        item.heartbeat_at = utcnow()


def give_back(db: Database, key: str, worker: str) -> None:
    """Hand a claim back unfinished (a stop mid-upload): its lease is made to look lapsed, so any
    worker may take the file over; the row keeps its attempts and any version left behind."""
    with db.write() as s:
        item = s.scalar(select(IngestItem).where(IngestItem.source_key == key).with_for_update())
        if item is not None and item.claimed_by == worker and item.state in ("claimed", "stored"):
            item.heartbeat_at = utcnow() - 2 * LEASE
            item.claimed_by = f"stopped:{worker}"


def still_ours(item: IngestItem, worker: str) -> None:
    """Inside the index transaction (the row locked): index only what this worker still holds."""
    if item.claimed_by != worker:
        raise ClaimLost(f"ingest item {item.id}: now claimed by {item.claimed_by}")
