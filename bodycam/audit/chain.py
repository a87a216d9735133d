"""Append-only, hash-chained audit events.

Each event's hash covers the previous hash and its own fields, so altering,
removing or reordering any row breaks every hash after it. Appends are
serialised (a PostgreSQL advisory lock; SQLite's ``BEGIN IMMEDIATE``) and
``prev_hash`` is unique, so two writers can never fork the chain. Cutting off
the newest events cannot be seen from inside the database: keep the head hash
that ``bodycam audit verify`` prints somewhere else (a ticket, a log host).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from bodycam.db.models import AuditEvent
from bodycam.errors import AuditChainBroken
from bodycam.timeutil import utcnow

GENESIS = "0" * 64
ON_BEHALF = " on behalf of "
"""Between the authenticated identity and the caller's note, in an event's actor (migration 0006)."""
ADVISORY_LOCK_KEY = 0x0B0D_CA11  # any constant shared by every bodycam process


def canonical_details(details: dict[str, Any] | None) -> str:
    return json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(prev: str, seq: int, at: datetime, actor: str, action: str, subject: str, details: str) -> str:
    payload = json.dumps(
        [prev, seq, at.isoformat(timespec="microseconds"), actor, action, subject, details],
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def lock(session: Session) -> None:
    """Take the chain's single-writer lock for the rest of the caller's transaction (SQLite's write
    transactions are serial already). A writer that must decide from what is committed before it
    writes (the incident links) takes it first, so that two writers never decide the same thing."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_LOCK_KEY})


def record(
    session: Session,
    actor: str,
    action: str,
    subject: str,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event inside the caller's write transaction."""
    lock(session)
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq = (last.seq + 1) if last else 1
    prev = last.hash if last else GENESIS
    at = utcnow()
    body = canonical_details(details)
    row = AuditEvent(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        details=body,
        prev_hash=prev,
        hash=event_hash(prev, seq, at, actor, action, subject, body),
    )
    session.add(row)
    session.flush()
    return row


def record_many(session: Session, actor: str, entries: list[tuple[str, str, dict[str, Any]]]) -> None:
    """Append several events (action, subject, details) with one look-up and one insert."""
    if not entries:
        return
    lock(session)
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev = (last.seq, last.hash) if last else (0, GENESIS)
    rows = []
    for action, subject, details in entries:
        seq += 1
        at = utcnow()
        body = canonical_details(details)
        digest = event_hash(prev, seq, at, actor, action, subject, body)
        rows.append({"seq": seq, "at": at, "actor": actor, "action": action, "subject": subject,
                     "details": body, "prev_hash": prev, "hash": digest})
        prev = digest
    session.execute(insert(AuditEvent), rows)


@dataclass(frozen=True)
class ChainStatus:
    events: int
    head_seq: int
    head_hash: str


def verify(session: Session, progress: Callable[[int], None] | None = None) -> ChainStatus:
    """Recompute the whole chain; raise naming the first event that does not fit."""
    expected_prev, expected_seq, count = GENESIS, 1, 0
    rows: Iterator[AuditEvent] = session.scalars(
        select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=2000)
    )
    for ev in rows:
        if ev.seq != expected_seq:
            raise AuditChainBroken(
                f"audit event {expected_seq} is missing (next present is {ev.seq}): chain broken"
            )
        if ev.prev_hash != expected_prev:
            raise AuditChainBroken(f"audit event {ev.seq}: previous-hash link does not match event {ev.seq - 1}")
        want = event_hash(ev.prev_hash, ev.seq, ev.at, ev.actor, ev.action, ev.subject, ev.details)
        if want != ev.hash:
            raise AuditChainBroken(
                f"audit event {ev.seq} ({ev.action} {ev.subject}): contents altered, hash does not match"
            )
        expected_prev, expected_seq = ev.hash, ev.seq + 1
        count += 1
        if progress and count % 2000 == 0:
            progress(count)
    return ChainStatus(count, expected_seq - 1, expected_prev)


def events(
    session: Session,
    *,
    subject: str | None = None,
    action: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[AuditEvent]:
    """Newest first, filtered; ``subject`` matches exactly or as a ``prefix*``."""
    query = select(AuditEvent)
    if subject:
        if subject.endswith("*"):
            query = query.where(AuditEvent.subject.startswith(subject[:-1], autoescape=True))
        else:
            query = query.where(AuditEvent.subject == subject)
    if action:
        query = query.where(AuditEvent.action == action)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    query = query.order_by(AuditEvent.seq.desc()).limit(limit).offset(offset)
    return list(session.scalars(query))


def count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(AuditEvent)) or 0)
