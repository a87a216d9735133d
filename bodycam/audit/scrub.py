"""Scrub: re-read stored bytes within a time budget, resuming where the last pass
stopped, so the whole store is verified every few weeks without a night of I/O.

Where a pass stopped is the ``scrub.pass`` audit event it records (the last clip
it verified), so progress is on record and survives restarts on any host.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from bodycam.audit import chain
from bodycam.db.engine import Database
from bodycam.db.models import AuditEvent, Clip
from bodycam.errors import IntegrityError, ObjectNotFound
from bodycam.store import ObjectStore


@dataclass
class ScrubResult:
    started_after: int
    last_id: int = 0
    verified: int = 0
    bytes: int = 0
    seconds: float = 0.0
    complete: bool = False
    """True when this pass reached the newest clip: the next one starts a new cycle."""
    failures: list[str] = field(default_factory=list)
    failed_ids: list[int] = field(default_factory=list)
    remaining_bytes: int = 0

    @property
    def gb_per_s(self) -> float:
        return self.bytes / 1e9 / self.seconds if self.seconds > 0 else 0.0


def resume_point(db: Database) -> int:
    """The last clip the previous pass verified (0: start a new cycle)."""
    with db.read() as s:
        last = s.scalar(select(AuditEvent.details).where(AuditEvent.action == "scrub.pass")
                        .order_by(AuditEvent.seq.desc()).limit(1))
    if last is None:
        return 0
    d = json.loads(last)
    return 0 if d.get("complete") else int(d.get("last_clip", 0))


def scrub(db: Database, store: ObjectStore, actor: str, budget_seconds: float,
          progress: Callable[[int], None] | None = None, *, monotonic: Callable[[], float] = time.monotonic
          ) -> ScrubResult:
    """Verify kept clips after the resume point until the budget is spent (checked between clips)."""
    after = resume_point(db)
    result = ScrubResult(started_after=after, last_id=after)
    started = monotonic()
    with db.read() as s:
        rows = s.execute(select(Clip.id, Clip.store_key, Clip.store_version, Clip.sha256, Clip.size)
                         .where(Clip.id > after, Clip.disposed_at.is_(None)).order_by(Clip.id)).all()
    for i, c in enumerate(rows):
        if monotonic() - started >= budget_seconds:
            result.remaining_bytes = sum(r.size for r in rows[i:])
            break
        try:
            store.verify(c.store_key, c.store_version, c.sha256, progress=progress)
        except (IntegrityError, ObjectNotFound) as exc:
            result.failures.append(f"clip {c.id}: {exc}")
            result.failed_ids.append(c.id)
        result.verified += 1
        result.bytes += c.size
        result.last_id = c.id
    else:
        result.complete = True
    result.seconds = monotonic() - started
    with db.write() as s:
        events: list[tuple[str, str, dict[str, Any]]] = [
            ("clip.integrity_failure", f"clip:{clip_id}", {"during": "scrub", "error": line})
            for clip_id, line in zip(result.failed_ids, result.failures, strict=True)]
        total = s.scalar(select(func.count()).select_from(Clip).where(Clip.disposed_at.is_(None))) or 0
        events.append(("scrub.pass", "store", {
            "after_clip": after, "last_clip": result.last_id, "verified": result.verified, "bytes": result.bytes,
            "seconds": round(result.seconds, 3), "complete": result.complete, "failures": len(result.failures),
            "kept_clips": total}))
        chain.record_many(s, actor, events)
    return result
