"""Plan and run the retention sweep.

``plan`` applies the pure policy to every kept clip as of any date. ``run``
deletes what is due as of the real current time only, after a plan has shown
the current policy (a changed policy never deletes at once), one sweep at a
time across all workers, and resumes a sweep that died. A clip's row stays,
marked disposed, with an audit event per deletion.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from bodycam.audit import chain, seals
from bodycam.clock import Clock, SystemClock
from bodycam.config import RetentionSettings
from bodycam.db.engine import Database
from bodycam.db.models import Attachment, AuditEvent, Clip
from bodycam.errors import PolicyNotPlanned, SweepBusy
from bodycam.retention.facts import load_facts
from bodycam.retention.policy import Decision, decide, fingerprint
from bodycam.store import ObjectStore

log = logging.getLogger(__name__)

SWEEP_LOCK_KEY = 0x0B0D_CA12
BATCH = 500


@dataclass
class Plan:
    as_of: datetime
    policy: str
    kept: int = 0
    kept_forever: int = 0
    due: list[Decision] = field(default_factory=list)


def plan(db: Database, policy: RetentionSettings, as_of: datetime) -> Plan:
    result = Plan(as_of, fingerprint(policy))
    with db.read() as s:
        for facts in load_facts(s):
            d = decide(facts, policy, as_of)
            if d.delete:
                result.due.append(d)
            else:
                result.kept += 1
                result.kept_forever += d.until is None
    return result


def record_plan(db: Database, actor: str, p: Plan, what_if: bool) -> None:
    with db.write() as s:
        chain.record(s, actor, "retention.plan", "retention", {
            "policy": p.policy, "as_of": p.as_of.isoformat(), "what_if": what_if, "due": len(p.due),
            "kept": p.kept, "kept_forever": p.kept_forever,
        })


def _last_planned_policy(db: Database) -> str | None:
    """The policy of the newest plan made as of the real time; a what-if plan shows
    another day's deletions, so it never counts as having shown the policy."""
    with db.read() as s:
        last = s.scalar(select(AuditEvent.details).where(
            AuditEvent.action == "retention.plan", AuditEvent.details.contains('"what_if":false'))
            .order_by(AuditEvent.seq.desc()).limit(1))
    return str(json.loads(last).get("policy")) if last else None


@contextmanager
def sweep_lock(db: Database) -> Iterator[None]:
    """One sweep at a time: a PostgreSQL advisory lock, or a file lock beside the SQLite file."""
    if db.dialect == "postgresql":
        with db.engine.connect() as conn:
            if not conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SWEEP_LOCK_KEY}).scalar():
                raise SweepBusy("another retention sweep is running (PostgreSQL advisory lock held)")
            try:
                yield
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SWEEP_LOCK_KEY})
                    conn.commit()
                except OperationalError:  # the server restarted under the sweep: its session, and the lock, ended
                    log.warning("retention sweep: the database connection holding the sweep lock was lost")
        return
    path = Path(make_url(db.url).database or "bodycam.db").with_suffix(".retention.lock")
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SweepBusy(f"another retention sweep is running (lock {path})") from None
        yield
    finally:
        os.close(fd)


@dataclass
class RunResult:
    due: int = 0
    deleted: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)
    dry_run: bool = False
    resumed: int = 0


def run(db: Database, store: ObjectStore, policy: RetentionSettings, actor: str, *, limit: int | None = None,
        dry_run: bool = False, progress: Callable[[int], None] | None = None,
        clock: Clock | None = None) -> RunResult:
    """Delete the object versions due now; never with another 'now' (``clock`` is
    bodycam's own: tests inject one, nothing else can)."""
    clock = clock or SystemClock()
    planned = _last_planned_policy(db)
    if planned != fingerprint(policy):
        raise PolicyNotPlanned("the retention policy in force has not been shown by `bodycam retention plan` "
                               "yet; run it, review what it would delete, then run again")
    result = RunResult(dry_run=dry_run)
    with sweep_lock(db):
        now = clock.now()
        with db.read() as s:
            started = list(s.scalars(select(Clip.id).where(Clip.disposal_started_at.isnot(None),
                                                           Clip.disposed_at.is_(None))))
        due = [d for d in (decide(f, policy, now) for f in _facts(db)) if d.delete]
        result.resumed = len(started)
        ids = list(dict.fromkeys([*started, *(d.clip_id for d in due)]))
        why = {d.clip_id: d.reasons[0] for d in due}
        if limit is not None:
            ids = ids[:limit]
        result.due = len(ids)
        if dry_run:
            return result
        for lo in range(0, len(ids), BATCH):
            _dispose_batch(db, store, ids[lo:lo + BATCH], why, actor, result, clock)
            if progress:
                progress(len(ids[lo:lo + BATCH]))
    with db.write() as s:
        chain.record(s, actor, "retention.run", "retention", {
            "policy": fingerprint(policy), "due": result.due, "deleted": result.deleted,
            "refused": len(result.refused), "resumed": result.resumed})
    if result.deleted:
        seals.write(db, store, clock, actor, "sweep")
    return result


def _facts(db: Database) -> list[Any]:
    with db.read() as s:
        return list(load_facts(s))


def _dispose_batch(db: Database, store: ObjectStore, ids: list[int], why: dict[int, str], actor: str,
                   result: RunResult, clock: Clock) -> None:
    now = clock.now()
    with db.write() as s:  # intent first: a sweep that dies after the delete finishes the job next time
        clips = list(s.scalars(select(Clip).where(Clip.id.in_(ids))))
        kept = {c.id: c.retain_until for c in clips if c.retain_until > now}  # the index's own lock says keep
        for c in clips:
            if c.id not in kept:
                c.disposal_started_at = c.disposal_started_at or now
        targets = {(c.store_key, c.store_version): c.id for c in clips if c.id not in kept}
        sidecars: dict[int, list[tuple[str, str]]] = {}
        attached = select(Attachment.clip_id, Attachment.store_key, Attachment.store_version).where(
            Attachment.clip_id.in_(targets.values()), Attachment.disposed_at.is_(None))
        for clip_id, key, version in s.execute(attached):
            sidecars.setdefault(int(clip_id or 0), []).append((key, version))
    outcome = store.delete_many(list(targets))
    if kept:
        with db.write() as s:
            for clip_id, until in kept.items():
                result.refused.append((clip_id, f"the index locks it until {until.isoformat()}"))
            chain.record_many(s, actor, [("retention.disagreement", f"clip:{clip_id}", {
                "policy": "delete", "index": f"retain_until {until.isoformat()}"}) for clip_id, until in kept.items()])
    gone = [targets[kv] for kv, error in outcome.items() if error is None or error == "missing"]
    side_outcome = store.delete_many([kv for clip_id in gone for kv in sidecars.get(clip_id, [])])
    with db.write() as s:
        # the audit events go first: the database refuses a disposal that has none
        events: list[tuple[str, str, dict[str, Any]]] = []
        outcomes: list[tuple[Clip, str | None]] = []
        for (key, version), error in outcome.items():
            clip = s.get(Clip, targets[(key, version)])
            assert clip is not None
            outcomes.append((clip, error))
            if error is None or error == "missing":
                reason = why.get(clip.id, "resumed disposal") + (
                    "" if error is None else " (object already gone: an interrupted sweep had deleted it)")
                events.append(("clip.dispose", f"clip:{clip.id}", {
                    "sha256": clip.sha256, "key": key, "version": version, "reason": reason}))
            else:
                events.append(("retention.disagreement", f"clip:{clip.id}", {"policy": "delete", "store": error}))
        chain.record_many(s, actor, events)
        for (key, version), error in side_outcome.items():
            if error is None or error == "missing":
                for a in s.scalars(select(Attachment).where(Attachment.store_key == key,
                                                            Attachment.store_version == version)):
                    a.disposed_at = clock.now()
        for (clip, error), (_, _, details) in zip(outcomes, events, strict=True):
            if error is None or error == "missing":
                clip.disposed_at, clip.disposed_reason = clock.now(), details["reason"]
                result.deleted += 1
            else:
                clip.disposal_started_at = None
                result.refused.append((clip.id, error))


def dispose_one(db: Database, store: ObjectStore, policy: RetentionSettings, clip_id: int, reason: str,
                actor: str, clock: Clock | None = None) -> None:
    """Delete one clip's object now, only if the policy says so and the store agrees."""
    clock = clock or SystemClock()
    from bodycam.errors import InputError, NotFound, RetentionViolation

    if not reason.strip():
        raise InputError("--reason: required")
    with db.read() as s:
        facts = list(load_facts(s, [clip_id]))
        if not facts:
            clip = s.get(Clip, clip_id)
            raise NotFound(f"clip {clip_id}: not found") if clip is None else InputError(
                f"clip {clip_id}: already disposed at {clip.disposed_at}")
    d = decide(facts[0], policy, clock.now())
    if not d.delete:
        until = d.until.isoformat() if d.until else "indefinitely"
        with db.write() as s:
            chain.record(s, actor, "clip.dispose_refused", f"clip:{clip_id}", {"reason": reason, "kept_until": until,
                                                                             "why": list(d.reasons)})
        raise RetentionViolation(f"clip {clip_id}: kept until {until}: {'; '.join(d.reasons)}; not deleted")
    result = RunResult()
    with sweep_lock(db):
        _dispose_batch(db, store, [clip_id], {clip_id: f"{d.reasons[0]}; requested: {reason}"}, actor, result,
                       clock)
    if result.refused:
        raise RetentionViolation(f"clip {clip_id}: the store refused the delete: {result.refused[0][1]}")
