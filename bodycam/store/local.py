"""A local write-once folder: the embedded default.

Each version is a read-only data file with a JSON lock record beside it:
``objects/<key>/<version>.data`` and ``<version>.lock.json``. Bytes are written
to a temporary name, fsynced and renamed, so a crash leaves either a whole
version or none. What a folder cannot promise: anyone with root (or the folder's
owner) can still delete or chmod the files; only S3 Object Lock in COMPLIANCE
mode stops an administrator. The audit chain and ``check`` detect such loss.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import stat as stat_mod
import time
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, cast

from bodycam.clock import Clock, SystemClock
from bodycam.config import FLOOR_DAYS
from bodycam.errors import (
    ConfigError,
    IntegrityError,
    ObjectNotFound,
    RetentionViolation,
    StoreError,
)
from bodycam.store.base import Commit, ObjectInfo, ObjectStore, Progress, PutResult, Readable
from bodycam.store.copying import copy_hashing

SCRATCH_GRACE_SECONDS = 60


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def created_at(version: str) -> datetime | None:
    """When a local version was written: its name begins with the nanoseconds."""
    head = version.partition("-")[0]
    return datetime.fromtimestamp(int(head) / 1e9, UTC) if head.isdigit() and len(head) == 20 else None


class LocalStore(ObjectStore):
    def __init__(self, root: str | Path, clock: Clock | None = None) -> None:
        if not str(root):
            raise ConfigError("store.url: file:// needs a folder, e.g. file:///srv/bodycam/objects")
        self.clock: Clock = clock or SystemClock()
        self.root = Path(root).expanduser().absolute()
        self.url = f"file://{self.root}"
        self._objects = self.root / "objects"
        self._tmp = self.root / "tmp"

    # -- set-up -------------------------------------------------------------
    def ensure(self) -> None:
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)  # a new store is its owner's only
            self._objects.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(parents=True, exist_ok=True)
            (self.root / "BODYCAM-STORE").write_text(
                "bodycam write-once object store: do not edit or delete files here.\n"
            )
        except OSError as exc:
            raise StoreError(f"{self.root}: cannot create the object folder: {exc.strerror}") from None
        self.check()

    def check(self) -> None:
        if not self._objects.is_dir():
            raise StoreError(f"{self.root}: no object store here: run `bodycam init`")
        if not os.access(self._tmp, os.W_OK):
            raise StoreError(f"{self._tmp}: not writable")

    # -- paths ----------------------------------------------------------------
    def _dir(self, key: str) -> Path:
        parts = [p for p in key.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise StoreError(f"invalid object key {key!r}")
        return self._objects.joinpath(*parts)

    def _paths(self, key: str, version: str) -> tuple[Path, Path]:
        if not version or "/" in version or version.startswith("."):
            raise ObjectNotFound(f"{key}: invalid version {version!r}")
        base = self._dir(key)
        return base / f"{version}.data", base / f"{version}.lock.json"

    def _read_lock(self, key: str, version: str) -> dict[str, Any]:
        data, lock = self._paths(key, version)
        if not data.exists() or not lock.exists():
            raise ObjectNotFound(f"{key} version {version}: not in {self.url}")
        return cast(dict[str, Any], json.loads(lock.read_text()))

    def _write_lock(self, key: str, version: str, record: dict[str, Any]) -> None:
        _, lock = self._paths(key, version)
        with self._scratch(f"{uuid.uuid4().hex}.lock") as (tmp, fd):
            data = memoryview(json.dumps(record, sort_keys=True).encode())
            while data:
                data = data[os.write(fd, data):]
            os.fsync(fd)
            os.replace(tmp, lock)
        _fsync_dir(lock.parent)

    @contextmanager
    def _scratch(self, name: str) -> Iterator[tuple[Path, int]]:
        """A new file in tmp/, flock-ed while we live: a crash drops the lock, and
        :meth:`sweep_incomplete` then knows the file is litter, not work in progress."""
        tmp = self._tmp / name
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            yield tmp, fd
        finally:
            with suppress(FileNotFoundError):  # renamed into place, or never got that far
                tmp.unlink()
            os.close(fd)

    def sweep_incomplete(self, older_than: timedelta) -> list[str]:
        """Remove scratch files whose writer is gone: their flock is free (the kernel
        drops it when a process dies) and they are over a minute old."""
        removed: list[str] = []
        for path in sorted(self._tmp.glob("*")):
            if path.suffix not in (".partial", ".lock") or not path.is_file():
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:  # a live writer holds it (or the filesystem cannot say)
                os.close(fd)
                continue
            try:
                st = os.fstat(fd)
                if time.time() - st.st_mtime < SCRATCH_GRACE_SECONDS:  # may be between create and flock
                    continue
                path.unlink()
                size = st.st_size
                removed.append(f"{path.name} ({size} bytes)")
            except FileNotFoundError:
                pass
            finally:
                os.close(fd)
        return removed

    # -- operations -----------------------------------------------------------
    def put(
        self,
        key: str,
        stream: Readable,
        *,
        retain_until: datetime,
        legal_hold: bool = False,
        sha256: str | None = None,
        metadata: dict[str, str] | None = None,
        progress: Progress | None = None,
        commit: Commit | None = None,
    ) -> PutResult | None:
        self.check()
        target = self._dir(key)
        now = self.clock.now()
        version = f"{int(now.timestamp() * 1e9):020d}-{uuid.uuid4().hex[:8]}"
        digest, size = hashlib.sha256(), 0
        try:
            with self._scratch(f"{version}.partial") as (tmp, fd):
                size = copy_hashing(stream, fd, digest, progress)
                os.fsync(fd)
                got = digest.hexdigest()
                if sha256 is not None and got != sha256:
                    raise IntegrityError(f"{key}: streamed SHA-256 {got} != expected {sha256}; nothing stored")
                if commit is not None and not commit(got):
                    return None
                os.fchmod(fd, stat_mod.S_IRUSR | stat_mod.S_IRGRP)
                target.mkdir(parents=True, exist_ok=True)
                record = {
                    "key": key,
                    "version": version,
                    "size": size,
                    "sha256": got,
                    "etag": got[:32],
                    "mode": "COMPLIANCE",
                    "retain_until": retain_until.isoformat(),
                    "legal_hold": legal_hold,
                    "metadata": metadata or {},
                    "created": now.isoformat(),
                }
                self._write_lock(key, version, record)
                os.rename(tmp, target / f"{version}.data")
                _fsync_dir(target)
        except OSError as exc:
            raise StoreError(f"{self.url}: writing {key}: {exc.strerror or exc}") from None
        return PutResult(key, version, got[:32], got, size)

    def open(self, key: str, version: str) -> AbstractContextManager[BinaryIO]:
        self._read_lock(key, version)
        data, _ = self._paths(key, version)
        return open(data, "rb")

    def local_path(self, key: str, version: str) -> Path | None:
        self._read_lock(key, version)
        return self._paths(key, version)[0]

    def stat(self, key: str, version: str) -> ObjectInfo:
        rec = self._read_lock(key, version)
        data, _ = self._paths(key, version)
        return ObjectInfo(
            key=key,
            version=version,
            size=data.stat().st_size,
            etag=rec["etag"],
            sha256=rec["sha256"],
            retain_until=datetime.fromisoformat(rec["retain_until"]),
            legal_hold=bool(rec["legal_hold"]),
            mode=rec["mode"],
        )

    def extend_retention(self, key: str, version: str, until: datetime) -> None:
        rec = self._read_lock(key, version)
        current = datetime.fromisoformat(rec["retain_until"])
        if until < current:
            raise RetentionViolation(
                f"{key} version {version}: retention ends {current.isoformat()}; "
                f"refusing to shorten it to {until.isoformat()}"
            )
        rec["retain_until"] = until.isoformat()
        self._write_lock(key, version, rec)

    def set_legal_hold(self, key: str, version: str, on: bool) -> None:
        rec = self._read_lock(key, version)
        rec["legal_hold"] = on
        self._write_lock(key, version, rec)

    def delete(self, key: str, version: str) -> None:
        """Refused while locked or held, and, whatever the lock file says (it is a
        file anyone with access could edit), before the legal floor after the
        version was written."""
        info = self.stat(key, version)
        now = self.clock.now()
        written = created_at(version)
        if written is None or written + timedelta(days=FLOOR_DAYS) > now:
            raise RetentionViolation(
                f"{key} version {version}: written {written.isoformat() if written else 'at an unknown time'}; "
                f"nothing is deleted within {FLOOR_DAYS} days of being stored; not deleted"
            )
        if info.legal_hold:
            raise RetentionViolation(f"{key} version {version}: under legal hold; not deleted")
        if info.retain_until is not None and info.retain_until > now:
            raise RetentionViolation(
                f"{key} version {version}: locked until {info.retain_until.isoformat()}; not deleted"
            )
        data, lock = self._paths(key, version)
        os.chmod(data, stat_mod.S_IRUSR | stat_mod.S_IWUSR)
        data.unlink()
        lock.unlink()
        _fsync_dir(data.parent)

    def list(self, prefix: str = "") -> Iterator[tuple[str, str, int]]:
        top = self._dir(prefix) if prefix.endswith("/") and prefix.strip("/") else self._objects
        if not top.is_dir():
            return
        for data in sorted(top.rglob("*.data")):
            key = data.parent.relative_to(self._objects).as_posix()
            if key.startswith(prefix) and data.with_name(data.stem + ".lock.json").exists():
                yield key, data.stem, data.stat().st_size
