"""Which clips belong to which incident: an officer's clip within that officer's dispatch-to-clear window.

The rule (as Axon's Auto-Tagging and Getac's CAD Sync do it): a clip of an officer on the incident that
overlaps the officer's window, widened by `incidents.buffer_before_minutes` (a self-initiated stop is
recorded before the call is entered) and `buffer_after_minutes`. Each link keeps its rule and its reason.
It runs after an import (for its incidents) and after each ingest pass (for the pass's clips: late
footage), never links again a pair a person unlinked, and never removes a link.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.config import IncidentSettings
from bodycam.db.engine import Database
from bodycam.db.models import Clip, Incident, IncidentLink, IncidentOfficer, Officer
from bodycam.errors import InputError, NotFound
from bodycam.index import crews

RULE = "officer_window"
LONGEST_CLIP = timedelta(hours=24)
"""A clip that ends inside a window started at most this long before it."""
ONE_SECOND = timedelta(seconds=1)
MANUAL = "manual"


@dataclass(frozen=True)
class OfficerWindow:
    incident_pk: int
    incident_id: str
    officer_id: int
    badge: str
    dispatched: datetime
    cleared: datetime


@dataclass(frozen=True)
class ClipSpan:
    clip_id: int
    officer_id: int
    start: datetime
    end: datetime
    vehicle: str = ""
    """Set when the clip is this officer's as one of a car's crew on board (its camera's vehicle)."""


@dataclass(frozen=True)
class Candidate:
    incident_pk: int
    incident_id: str
    clip_id: int
    reason: str


def by_rule(windows: Iterable[OfficerWindow], clips: Iterable[ClipSpan], before: timedelta,
            after: timedelta) -> list[Candidate]:
    """Every (incident, clip) the rule links, with its reason; a pure function of the times."""
    of_officer: dict[int, list[ClipSpan]] = {}
    for c in clips:
        of_officer.setdefault(c.officer_id, []).append(c)
    out = []
    for w in windows:
        lo, hi = w.dispatched - before, w.cleared + after
        for c in of_officer.get(w.officer_id, ()):
            if c.start <= hi and c.end >= lo:
                out.append(Candidate(w.incident_pk, w.incident_id, c.clip_id, (
                    f"officer {w.badge}'s recording{f' (on board {c.vehicle})' if c.vehicle else ''} "
                    f"{c.start:%Y-%m-%d %H:%M:%S}Z-{c.end:%H:%M:%S}Z overlaps their "
                    f"dispatch-to-clear {w.dispatched:%Y-%m-%d %H:%M:%S}Z-{w.cleared:%H:%M:%S}Z (widened "
                    f"{before.total_seconds() / 60:g} min before, {after.total_seconds() / 60:g} min after)")))
    return out


def link(s: Session, cfg: IncidentSettings, actor: str, now: datetime, *, incidents: list[int] | None = None,
         clips: list[int] | None = None) -> list[Candidate]:
    """Apply the rule to ``incidents`` (their windows against every clip; default: every incident) or
    ``clips`` (against every incident); write and audit the new links; return them."""
    before, after = timedelta(minutes=cfg.buffer_before_minutes), timedelta(minutes=cfg.buffer_after_minutes)
    if clips is not None:
        new = []
        for part in _chunks(clips):
            spans = _spans(s, Clip.id.in_(part), *LIVE)
            if spans:
                new += _write(s, actor, now, by_rule(_windows(s, IncidentOfficer.officer_id.in_(
                    {c.officer_id for c in spans}), IncidentOfficer.dispatched_at <= max(c.end for c in spans) + before,
                    IncidentOfficer.cleared_at >= min(c.start for c in spans) - after), spans, before, after))
        return new
    new = []
    for batch in _by_start(s, incidents):  # incidents close in time: one span of clips to read per batch
        windows = _windows(s, IncidentOfficer.incident_id.in_(batch))
        if not windows:
            continue
        lo = min(w.dispatched for w in windows) - before
        hi = max(w.cleared for w in windows) + after
        officers = {w.officer_id for w in windows}
        cars = crews.cameras_of(s, officers, (lo - LONGEST_CLIP, hi))
        whose = or_(Clip.officer_id.in_(officers), Clip.device_id.in_(cars)) if cars else \
            Clip.officer_id.in_(officers)
        spans = _spans(s, whose, Clip.recorded_start <= hi, Clip.recorded_end >= lo, *LIVE)
        new += _write(s, actor, now, by_rule(windows, spans, before, after))
    return new


LIVE = (Clip.disposed_at.is_(None), Clip.recorded_start.isnot(None))
BATCH = 2000
"""Incidents (or clips) per look-up: every IN list stays far below the drivers' parameter limits
(PostgreSQL 65,535; SQLite 32,766), and a batch of incidents spans hours, not the whole history."""


def _chunks(ids: list[int], size: int | None = None) -> Iterator[list[int]]:
    size = size or BATCH
    for lo in range(0, len(ids), size):
        yield ids[lo:lo + size]


def _by_start(s: Session, incidents: list[int] | None) -> Iterator[list[int]]:
    """The incidents (default: all) in batches, in dispatch order."""
    if incidents is None:
        ordered = list(s.scalars(select(Incident.id).order_by(Incident.start, Incident.id)))
    else:
        starts: list[tuple[datetime, int]] = []
        for part in _chunks(incidents, 10 * BATCH):
            starts += [(start, pk) for pk, start in s.execute(select(Incident.id, Incident.start)
                                                              .where(Incident.id.in_(part)))]
        ordered = [pk for _, pk in sorted(starts)]
    yield from _chunks(ordered)


def _windows(s: Session, *where: Any) -> list[OfficerWindow]:
    return [OfficerWindow(*r) for r in s.execute(
        select(IncidentOfficer.incident_id, Incident.incident_id, IncidentOfficer.officer_id, Officer.badge,
               IncidentOfficer.dispatched_at, IncidentOfficer.cleared_at)
        .join(Incident, Incident.id == IncidentOfficer.incident_id)
        .join(Officer, Officer.id == IncidentOfficer.officer_id).where(*where))]


def _write(s: Session, actor: str, now: datetime, found: list[Candidate]) -> list[Candidate]:
    """Write and audit the links not yet made (nor unmade by a person): one per incident and clip."""
    if not found:
        return []
    found = list({(c.incident_pk, c.clip_id): c for c in reversed(found)}.values())[::-1]  # a crew: one link
    chain.lock(s)  # before reading what is linked: an import and an ingest pass may link the same clip at once
    known: set[tuple[int, int]] = set()
    for part in _chunks(sorted({c.clip_id for c in found})):
        known |= {(i, c) for i, c in s.execute(select(IncidentLink.incident_id, IncidentLink.clip_id)
                                               .where(IncidentLink.clip_id.in_(part)))}
    new = [c for c in found if (c.incident_pk, c.clip_id) not in known]
    for c in new:
        s.add(IncidentLink(incident_id=c.incident_pk, clip_id=c.clip_id, rule=RULE, reason=c.reason, linked_at=now,
                           linked_by=actor))
    chain.record_many(s, actor, [
        ("incident.link", f"clip:{c.clip_id}", {"incident": c.incident_id, "rule": RULE, "reason": c.reason})
        for c in new])
    s.flush()  # the next batch sees these
    return new


def span(db: Database, start: datetime | None = None, end: datetime | None = None) -> tuple[datetime, datetime] | None:
    """The dispatch times [start, end) a relink covers: as given, else from the first incident to just after
    the last; None when there is nothing to link."""
    with db.read() as s:
        first = start or s.scalar(select(func.min(Incident.start)))
        last = end or s.scalar(select(func.max(Incident.start)))
    if first is None or last is None:
        return None
    return first, last if end is not None else last + ONE_SECOND


def relink(db: Database, cfg: IncidentSettings, actor: str, now: datetime, start: datetime | None = None,
           end: datetime | None = None, progress: Callable[[int], None] | None = None) -> int:
    """The rule over every incident dispatched in [start, end) (default: all), one day's incidents per
    transaction: a city's year is not one transaction, and an interruption keeps the days done."""
    period = span(db, start, end) if start is None or end is None else (start, end)
    if period is None:
        return 0
    total, day = 0, period[0]
    while day < period[1]:
        until = min(day + timedelta(days=1), period[1])
        with db.write() as s:
            ids = list(s.scalars(select(Incident.id).where(Incident.start >= day, Incident.start < until)))
            total += len(link(s, cfg, actor, now, incidents=ids)) if ids else 0
        if progress:
            progress(1)
        day = until
    return total


def days(period: tuple[datetime, datetime]) -> int:
    """How many transactions relink takes over the period."""
    return max(1, -(-int((period[1] - period[0]).total_seconds()) // 86400))


def _spans(s: Session, *where: Any) -> list[ClipSpan]:
    """The clips matching ``where``, once for their officer and once for each other crew member on board
    (a car's camera records for everyone in the car)."""
    rows: list[tuple[int, int | None, int | None, datetime, datetime | None]] = [
        (r[0], r[1], r[2], r[3], r[4]) for r in s.execute(
            select(Clip.id, Clip.officer_id, Clip.device_id, Clip.recorded_start, Clip.recorded_end).where(*where))
        if r[3] is not None]
    if not rows:
        return []
    starts = [r[3] for r in rows]
    shifts = crews.of_devices(s, {r[2] for r in rows if r[2] is not None}, (min(starts), max(starts) + ONE_SECOND))
    out = []
    for clip_id, officer_id, device_id, start, end in rows:
        aboard = {sh.officer_id: sh.vehicle for sh in crews.on_board(shifts.get(device_id or 0, []), start)}
        people = ([officer_id] if officer_id is not None else []) + [o for o in aboard if o != officer_id]
        out += [ClipSpan(int(clip_id), int(oid), start, end or start, aboard.get(oid, "")) for oid in people]
    return out


def by_hand(db: Database, number: str, clip_id: int, reason: str, actor: str, now: datetime) -> bool:
    """Link a clip to an incident by hand (again, after an unlink); False when it was already linked."""
    with db.write() as s:
        chain.lock(s)  # as the rule's writers do
        incident, clip = _pair(s, number, clip_id, reason, "belongs to")
        row = s.scalar(select(IncidentLink).where(IncidentLink.incident_id == incident.id,
                                                  IncidentLink.clip_id == clip.id))
        if row is not None and row.unlinked_at is None:
            return False
        if row is None:
            s.add(IncidentLink(incident_id=incident.id, clip_id=clip.id, rule=MANUAL, reason=reason, linked_at=now,
                               linked_by=actor))
        else:
            row.rule, row.reason, row.linked_at, row.linked_by = MANUAL, reason, now, actor
            row.unlinked_at = row.unlinked_by = row.unlink_reason = None
        chain.record(s, actor, "incident.link", f"clip:{clip.id}", {"incident": number, "rule": MANUAL,
                                                                    "reason": reason})
    return True


def unlink(db: Database, number: str, clip_id: int, reason: str, actor: str, now: datetime) -> None:
    """Take a clip off an incident; the link is kept as unlinked (who, when, why) and no rule links it again."""
    with db.write() as s:
        incident, clip = _pair(s, number, clip_id, reason, "does not belong to")
        row = s.scalar(select(IncidentLink).where(IncidentLink.incident_id == incident.id,
                                                  IncidentLink.clip_id == clip.id,
                                                  IncidentLink.unlinked_at.is_(None)))
        if row is None:
            raise InputError(f"clip {clip_id} is not linked to incident {number}")
        row.unlinked_at, row.unlinked_by, row.unlink_reason = now, actor, reason
        chain.record(s, actor, "incident.unlink", f"clip:{clip.id}", {"incident": number, "reason": reason,
                                                                      "was": row.rule})


def _pair(s: Session, number: str, clip_id: int, reason: str, why: str) -> tuple[Incident, Clip]:
    """The incident and the clip a person links or unlinks, with the reason they must give."""
    if not reason.strip():
        raise InputError(f"--reason: required: say why the clip {why} the incident")
    incident = s.scalar(select(Incident).where(Incident.incident_id == number))
    if incident is None:
        raise NotFound(f"incident {number!r}: not found (import it with `bodycam incidents import`)")
    clip = s.get(Clip, clip_id)
    if clip is None:
        raise NotFound(f"clip {clip_id}: not found")
    return incident, clip
