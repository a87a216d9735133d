"""Correcting what a camera got wrong: a clip's recorded time, officer or device.

The original value is kept (``clip_corrections``) and shown beside the new one;
each correction is audited with its reason. Coverage, search and retention read
the corrected values. A correction can lengthen a clip's lock, never shorten it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.clock import Clock
from bodycam.config import RetentionSettings
from bodycam.db.engine import Database
from bodycam.db.models import Attachment, Clip, ClipCorrection, ClipFlag
from bodycam.errors import InputError, NotFound
from bodycam.index.registry import device_by_serial, officer_by_badge
from bodycam.ingest.timecheck import UNTRUSTED
from bodycam.store import ObjectStore
from bodycam.text import one_line


@dataclass(frozen=True)
class Change:
    field: str
    old: str
    new: str


@dataclass(frozen=True)
class Correction:
    """What to change; None leaves a value as it is."""

    start: datetime | None = None
    officer: str | None = None
    device: str | None = None


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def _apply(s: Session, clip: Clip, c: Correction) -> list[Change]:
    changes: list[Change] = []
    if c.start is not None and c.start != clip.recorded_start:
        length = (clip.recorded_end - clip.recorded_start) if clip.recorded_start and clip.recorded_end \
            else timedelta(seconds=clip.duration_seconds or 0)
        changes += [Change("recorded_start", _iso(clip.recorded_start), _iso(c.start)),
                    Change("time_source", clip.time_source, "corrected")]
        clip.recorded_start, clip.recorded_end, clip.time_source = c.start, c.start + length, "corrected"
        s.execute(delete(ClipFlag).where(ClipFlag.clip_id == clip.id, ClipFlag.flag == UNTRUSTED))
    if c.officer is not None and c.officer != clip.officer_badge:
        officer = officer_by_badge(s, c.officer)
        changes.append(Change("officer", clip.officer_badge, officer.badge))
        clip.officer_id, clip.officer_badge, clip.officer_source = officer.id, officer.badge, "corrected"
    if c.device is not None and c.device != clip.device_serial:
        kind = "interrogation_recorder" if clip.kind == "interrogation" else "body_camera"
        device = device_by_serial(s, c.device, kind)
        changes.append(Change("device", clip.device_serial, device.serial))
        clip.device_id, clip.device_serial = device.id, device.serial
    return changes


def correct(db: Database, store: ObjectStore, policy: RetentionSettings, clip_id: int, c: Correction, reason: str,
            actor: str, clock: Clock) -> list[Change]:
    """Apply a correction; the store's lock is lengthened first when the corrected
    recording ends later than the lock allows for (a crash leaves a longer lock)."""
    reason = one_line(reason, "--reason")
    if c == Correction():
        raise InputError("nothing to correct: give --start, --shift, --officer or --device")
    with db.read() as s:
        clip = s.get(Clip, clip_id)
        if clip is None:
            raise NotFound(f"clip {clip_id}: not found")
        if clip.disposed_at is not None:
            raise InputError(f"clip {clip_id}: disposed at {clip.disposed_at.isoformat()}; nothing to correct")
        sidecars = list(s.scalars(select(Attachment).where(Attachment.clip_id == clip_id,
                                                           Attachment.disposed_at.is_(None))))
    until = None
    if c.start is not None and clip.recorded_start is not None and clip.recorded_end is not None:
        end = c.start + (clip.recorded_end - clip.recorded_start)
        if end + timedelta(days=policy.floor_days) > clip.retain_until:
            until = end + timedelta(days=policy.floor_days)
            for key, version in [(clip.store_key, clip.store_version),
                                 *((a.store_key, a.store_version) for a in sidecars)]:
                store.extend_retention(key, version, until)
    now = clock.now()
    with db.write() as s:
        fresh = s.get(Clip, clip_id)
        assert fresh is not None
        changes = _apply(s, fresh, c)
        if not changes:
            raise InputError(f"clip {clip_id}: already has those values; nothing changed")
        if until is not None:
            fresh.retain_until = until
            for a in s.scalars(select(Attachment).where(Attachment.clip_id == clip_id)):
                a.retain_until = max(a.retain_until, until)
        for ch in changes:
            s.add(ClipCorrection(clip_id=clip_id, field=ch.field, old_value=ch.old, new_value=ch.new, reason=reason,
                                 source="clerk", actor=actor, at=now))
        chain.record(s, actor, "clip.correct", f"clip:{clip_id}", {
            "changes": [{"field": ch.field, "old": ch.old, "new": ch.new} for ch in changes], "reason": reason,
            **({"retain_until": until.isoformat()} if until else {})})
    return changes
