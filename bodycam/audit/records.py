"""Three records of one clip, which must tell one story: its index row, the
``clip.ingest`` audit event written in the same transaction, and the stored
object (its size and the SHA-256 in its metadata; its bytes when read back).

An insider who swaps an object and edits the row must also rewrite the audit
chain, which the seals in the write-once store catch; these comparisons make
every other combination visible at once, naming the clip and the values.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.db.models import AuditEvent, Clip

FIELDS = (("sha256", "sha256"), ("size", "size"), ("store_key", "key"), ("store_version", "version"))
"""(row column, ``clip.ingest`` detail) pairs that must agree."""


def ingest_events(s: Session, clip_ids: Iterable[int] | None = None) -> dict[int, dict[str, Any]]:
    """clip id -> details of its ``clip.ingest`` event."""
    query = select(AuditEvent.subject, AuditEvent.details).where(AuditEvent.action == "clip.ingest")
    if clip_ids is not None:
        query = query.where(AuditEvent.subject.in_([f"clip:{i}" for i in clip_ids]))
    out: dict[int, dict[str, Any]] = {}
    for subject, details in s.execute(query.execution_options(yield_per=20000)):
        ident = subject.removeprefix("clip:")
        if ident.isdigit():
            out.setdefault(int(ident), json.loads(details))
    return out


def row_vs_event(clip: Clip | Any, event: dict[str, Any] | None) -> list[str]:
    """How a clip row disagrees with its ingest event (one line each)."""
    if event is None:
        return [f"clip {clip.id}: no clip.ingest audit event: the row was added outside bodycam"]
    return [f"clip {clip.id}: {column} is {getattr(clip, column)!r} in the index but {event.get(detail)!r} "
            f"in its clip.ingest audit event"
            for column, detail in FIELDS if str(getattr(clip, column)) != str(event.get(detail))]


def dispose_event_seqs(s: Session) -> dict[int, int]:
    """clip id -> sequence of its first ``clip.dispose`` audit event."""
    out: dict[int, int] = {}
    for seq, subject in s.execute(select(AuditEvent.seq, AuditEvent.subject)
                                  .where(AuditEvent.action == "clip.dispose").order_by(AuditEvent.seq)):
        ident = subject.removeprefix("clip:")
        if ident.isdigit():
            out.setdefault(int(ident), seq)
    return out
