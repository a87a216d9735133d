"""The contract every object store keeps; the contract tests run it on each store."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

LOCK_PRECISION = timedelta(seconds=1)
"""Stores keep a retain-until to the millisecond (RGW) or the second: compare locks within this."""

Progress = Callable[[int], None]
"""Called with the number of bytes just read."""

Commit = Callable[[str], bool]
"""Called with the streamed SHA-256; False discards the upload."""


class Readable(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class PutResult:
    key: str
    version: str
    etag: str
    sha256: str
    size: int


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    version: str
    size: int
    etag: str
    sha256: str | None
    retain_until: datetime | None
    legal_hold: bool
    mode: str | None


class ObjectStore(ABC):
    """Write-once objects with a retain-until date and an optional legal hold.

    Nothing here can shorten a retention or delete a version before its lock
    has expired and its hold is off; :class:`bodycam.errors.RetentionViolation`
    says so. The SHA-256 is computed by us while the bytes stream in, kept in
    object metadata where the store allows, and verified by us on read.
    """

    url: str

    @abstractmethod
    def ensure(self) -> None:
        """Create the bucket or folder (with Object Lock) if missing; then check it."""

    @abstractmethod
    def check(self) -> None:
        """Raise a specific error if the store is unreachable, refuses us, or lacks locking."""

    @abstractmethod
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
        """Store a new version; if ``sha256`` is given, a mismatch stores nothing.

        ``commit`` is called with the SHA-256 once all bytes are read and before the
        version becomes durable; if it returns False nothing is stored and the
        result is None (ingest uses it to store identical bytes only once)."""

    @abstractmethod
    def open(self, key: str, version: str) -> AbstractContextManager[BinaryIO]:
        """A readable stream of one version."""

    @abstractmethod
    def stat(self, key: str, version: str) -> ObjectInfo: ...

    def local_path(self, key: str, version: str) -> Path | None:
        """A file on this host holding the version's bytes, where the store has one (read-only use)."""
        return None

    @abstractmethod
    def extend_retention(self, key: str, version: str, until: datetime) -> None:
        """Move retain-until later; an earlier date is a RetentionViolation."""

    @abstractmethod
    def set_legal_hold(self, key: str, version: str, on: bool) -> None: ...

    @abstractmethod
    def delete(self, key: str, version: str) -> None:
        """Delete one version, only once its lock has expired and no hold is on."""

    def delete_many(self, versions: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        """Delete versions whose locks have expired; per version None (deleted),
        'missing', or why the store refused. The store, not we, has the last word."""
        from bodycam.errors import ObjectNotFound, RetentionViolation

        out: dict[tuple[str, str], str | None] = {}
        for key, version in versions:
            try:
                self.delete(key, version)
                out[(key, version)] = None
            except ObjectNotFound:
                out[(key, version)] = "missing"
            except RetentionViolation as exc:
                out[(key, version)] = str(exc)
        return out

    @abstractmethod
    def sweep_incomplete(self, older_than: timedelta) -> list[str]:
        """Remove what a killed writer left behind that is not an object (a partial
        file, an unfinished multipart upload); return what was removed. Never
        touches a stored version, and never work that may still be in progress."""

    @abstractmethod
    def list(self, prefix: str = "") -> Iterator[tuple[str, str, int]]:
        """(key, version, size) of every stored version under ``prefix``."""

    def verify(self, key: str, version: str, sha256: str, progress: Progress | None = None) -> int:
        """Read a version back and compare its SHA-256; return its size."""
        from bodycam.errors import IntegrityError

        digest = hashlib.sha256()
        size = 0
        with self.open(key, version) as stream:
            while chunk := stream.read(1 << 20):
                digest.update(chunk)
                size += len(chunk)
                if progress:
                    progress(len(chunk))
        if digest.hexdigest() != sha256:
            raise IntegrityError(
                f"{key} version {version}: stored SHA-256 {digest.hexdigest()} != recorded {sha256}"
            )
        return size


def read_full(stream: Readable, size: int) -> bytes:
    """Read up to ``size`` bytes, looping over short reads."""
    parts: list[bytes] = []
    remaining = size
    while remaining > 0:
        chunk = stream.read(remaining)
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    return b"".join(parts)
