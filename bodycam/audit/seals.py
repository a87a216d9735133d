"""Seals: checkpoints of the audit chain and the clip index, kept in the write-once store.

An insider with database access can rewrite the whole audit chain with valid
hashes, or change a clip's hash and size and the chain with it; nothing inside
the database can tell. A seal, written as an object under a COMPLIANCE lock,
records the chain's head (sequence and hash) and a digest of the clip index
(id, SHA-256, size, object key and version, and whether it was disposed) at
that moment. Later, ``audit verify`` checks the chain at every seal, and the
index against the newest seal; a new seal is written only after the index
still matches the previous one, so a seal never vouches for a tampered state.

A clip counts as disposed at a seal when its ``clip.dispose`` audit event is at
or before the seal's head: a disposal without its event is never sealed.
"""

from __future__ import annotations

import hashlib
import io
import json
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.audit.records import dispose_event_seqs
from bodycam.clock import Clock
from bodycam.config import MAX_DAYS
from bodycam.db.engine import Database
from bodycam.db.models import AuditEvent, Clip
from bodycam.errors import AuditChainBroken, StoreError
from bodycam.store import ObjectStore

PREFIX = "seals/"
KIND = "bodycam-seal/1"
SEAL_DAYS = MAX_DAYS
"""Seals vouch for evidence kept for good: they are locked for a hundred years."""


@dataclass(frozen=True)
class Seal:
    key: str
    version: str
    at: datetime
    reason: str
    audit_seq: int
    audit_hash: str
    clips_max_id: int
    clips_count: int
    clips_digest: str

    @classmethod
    def from_json(cls, key: str, version: str, raw: bytes) -> Seal:
        d = json.loads(raw)
        if d.get("kind") != KIND:
            raise ValueError(f"not a bodycam seal: {d.get('kind')!r}")
        return cls(key, version, datetime.fromisoformat(d["at"]), str(d["reason"]), int(d["audit"]["seq"]),
                   str(d["audit"]["hash"]), int(d["clips"]["max_id"]), int(d["clips"]["count"]),
                   str(d["clips"]["digest"]))

    def to_json(self, host: str) -> bytes:
        return json.dumps({
            "kind": KIND, "at": self.at.isoformat(), "reason": self.reason, "host": host,
            "audit": {"seq": self.audit_seq, "hash": self.audit_hash},
            "clips": {"max_id": self.clips_max_id, "count": self.clips_count, "digest": self.clips_digest},
        }, sort_keys=True, indent=1).encode()


@dataclass
class _Digest:
    """The index digest as of one audit head: clips up to ``max_id``, disposed by then."""

    max_id: int
    head_seq: int
    count: int = 0

    def __post_init__(self) -> None:
        self.h = hashlib.sha256()

    def add(self, row: Any, disposed_seq: int | None) -> None:
        if row.id > self.max_id:
            return
        disposed = disposed_seq is not None and disposed_seq <= self.head_seq
        self.h.update(f"{row.id}\t{row.sha256}\t{row.size}\t{row.store_key}\t{row.store_version}\t"
                      f"{'disposed' if disposed else 'kept'}\n".encode())
        self.count += 1

    def hexdigest(self) -> str:
        return self.h.hexdigest()


def _digests(s: Session, targets: list[_Digest]) -> None:
    """One pass over the clip index feeding every digest."""
    disposed = dispose_event_seqs(s)
    rows: Iterator[Any] = s.execute(
        select(Clip.id, Clip.sha256, Clip.size, Clip.store_key, Clip.store_version)
        .order_by(Clip.id).execution_options(yield_per=20000))
    for row in rows:
        seq = disposed.get(row.id)
        for d in targets:
            d.add(row, seq)


def _read(store: ObjectStore, key: str, version: str) -> Seal:
    with store.open(key, version) as fh:
        raw = fh.read(1 << 20)
    try:
        return Seal.from_json(key, version, raw)
    except (ValueError, KeyError, TypeError) as exc:
        raise AuditChainBroken(f"seal {key} (version {version}) cannot be read: {exc}") from None


def _sealed_seq(key: str) -> int:
    """The audit sequence a seal's name carries (``.../<seq>-<id>.json``)."""
    head = key.rsplit("/", 1)[-1].partition("-")[0]
    return int(head) if head.isdigit() else -1


def list_seals(store: ObjectStore) -> list[Seal]:
    """Every seal in the store, oldest first; an unreadable one is a broken seal."""
    seals = [_read(store, key, version) for key, version, _size in store.list(PREFIX)]
    return sorted(seals, key=lambda x: (x.audit_seq, x.at))


def newest_seal(store: ObjectStore) -> Seal | None:
    """The seal with the highest audit sequence, reading only that one."""
    found = sorted(((_sealed_seq(k), k, v) for k, v, _ in store.list(PREFIX)), reverse=True)
    return _read(store, found[0][1], found[0][2]) if found else None


def chain_problems(s: Session, seals: list[Seal]) -> list[str]:
    """Where the audit chain disagrees with a seal: rewritten, truncated or missing."""
    problems: list[str] = []
    last = s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1)) or 0
    for seal in seals:
        if seal.audit_seq == 0:
            continue
        got = s.scalar(select(AuditEvent.hash).where(AuditEvent.seq == seal.audit_seq))
        if got is None:
            problems.append(f"seal {seal.key}: audit event {seal.audit_seq} is missing (the log ends at {last}): "
                            "the chain was truncated or cut")
        elif got != seal.audit_hash:
            problems.append(f"seal {seal.key}: audit event {seal.audit_seq} has hash {got[:16]}, the seal says "
                            f"{seal.audit_hash[:16]}: the chain up to it was rewritten")
    return problems


def index_problem(s: Session, seal: Seal) -> str | None:
    """Whether the clip index still matches what ``seal`` recorded of it."""
    d = _Digest(seal.clips_max_id, seal.audit_seq)
    _digests(s, [d])
    if (d.count, d.hexdigest()) != (seal.clips_count, seal.clips_digest):
        return (f"seal {seal.key}: the clip index up to clip {seal.clips_max_id} no longer matches it "
                f"({d.count} clips, digest {d.hexdigest()[:16]}; sealed {seal.clips_count}, "
                f"{seal.clips_digest[:16]}): a clip's hash, size, object or disposal was changed")
    return None


def verify(db: Database, store: ObjectStore) -> tuple[list[Seal], list[str]]:
    """The seals, and every way the database disagrees with them."""
    seals = list_seals(store)
    with db.read() as s:
        problems = chain_problems(s, seals)
        newest = seals[-1] if seals else None
        if newest is not None and (p := index_problem(s, newest)):
            problems.append(p)
    return seals, problems


def write(db: Database, store: ObjectStore, clock: Clock, actor: str, reason: str,
          progress: Callable[[str], None] | None = None) -> Seal:
    """Seal the current state, after checking it against the newest seal; refuse
    (AuditChainBroken) rather than vouch for a state that contradicts it."""
    previous = newest_seal(store)
    with db.read() as s:
        if previous is not None:
            problems = chain_problems(s, [previous])
            if problems:
                raise AuditChainBroken(f"not sealed: {problems[0]}")
        head = s.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
        seq, digest_of_head = (head.seq, head.hash) if head else (0, chain.GENESIS)
        max_id = s.scalar(select(Clip.id).order_by(Clip.id.desc()).limit(1)) or 0
        now_d = _Digest(max_id, seq)
        prev_d = _Digest(previous.clips_max_id, previous.audit_seq) if previous else None
        _digests(s, [now_d, *([prev_d] if prev_d else [])])
    if previous is not None and prev_d is not None and \
            (prev_d.count, prev_d.hexdigest()) != (previous.clips_count, previous.clips_digest):
        raise AuditChainBroken(f"not sealed: the clip index no longer matches seal {previous.key}: a clip's hash, "
                               "size, object or disposal was changed since")
    at = clock.now()
    key = f"{PREFIX}{at:%Y/%m/%d}/{seq:012d}-{uuid.uuid4().hex[:8]}.json"
    seal = Seal(key, "", at, reason, seq, digest_of_head, max_id, now_d.count, now_d.hexdigest())
    try:
        res = store.put(key, io.BytesIO(seal.to_json(socket.gethostname())),
                        retain_until=at + timedelta(days=SEAL_DAYS), metadata={"bodycam-role": "seal"})
    except StoreError as exc:
        raise StoreError(f"sealing failed: {exc}") from None
    assert res is not None
    with db.write() as s:
        chain.record(s, actor, "audit.seal", "audit", {"key": key, "version": res.version, "reason": reason,
                                                      "audit_seq": seq, "clips": now_d.count})
    if progress:
        progress(f"sealed {reason}: audit #{seq}, {now_d.count} clip(s) ({key})")
    return Seal(key, res.version, at, reason, seq, digest_of_head, max_id, now_d.count, now_d.hexdigest())
