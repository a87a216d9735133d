"""Clip search: filters that combine, sorted by recording start."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, or_, select
from sqlalchemy.orm import Session

from bodycam.db.models import (
    Case,
    CaseClip,
    Clip,
    ClipFlag,
    Device,
    Event,
    EventOfficer,
    InterrogationSession,
    Officer,
    Unit,
)
from bodycam.index import crews


@dataclass(frozen=True)
class ClipFilter:
    officers: tuple[str, ...] = ()
    devices: tuple[str, ...] = ()
    unit: str | None = None
    case: str | None = None
    event: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    sha256: str | None = None
    flag: str | None = None
    kind: str | None = None
    limit: int = 100
    offset: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def _sessions_of(officer_ids: Any) -> Any:
    """Interrogation sessions whose interrogators include these officers: their clips are theirs too."""
    return (select(InterrogationSession.id)
            .join(EventOfficer, EventOfficer.event_id == InterrogationSession.event_id)
            .where(EventOfficer.officer_id.in_(officer_ids)))


def _whose(s: Session, officer_ids: Any, cars: tuple[datetime | None, datetime | None] | None = None) -> Any:
    """Clips of these officers, of the interrogations they conducted, or of the cars they rode in: as literal
    id lists, looked up first,
    so that PostgreSQL combines the (officer_id, recorded_start) and session_id indexes (a subquery inside
    the OR made it scan every clip in the window: 10 s at 10,000,000 clips)."""
    officers = list(s.scalars(officer_ids))
    sessions = list(s.scalars(_sessions_of(officers))) if officers else []
    either: list[ColumnElement[bool]] = [Clip.officer_id.in_(officers)]
    if sessions:
        either.append(Clip.session_id.in_(sessions))
    in_car = crews.clips_of(s, officers, *cars) if cars else None  # a car's camera while they were on board
    if in_car is not None:
        either.append(in_car)
    return either[0] if len(either) == 1 else or_(*either)


def _query(s: Session, f: ClipFilter) -> Select[Any]:
    q = select(Clip)
    if f.officers:  # by id, so the (officer_id, recorded_start) index serves the window too
        q = q.where(_whose(s, select(Officer.id).where(Officer.badge.in_(f.officers)), (f.start, f.end)))
    if f.devices:
        q = q.where(Clip.device_id.in_(select(Device.id).where(Device.serial.in_(f.devices))))
    if f.case:
        q = q.where(Clip.id.in_(select(CaseClip.clip_id).join(Case, Case.id == CaseClip.case_id)
                                .where(Case.number == f.case, CaseClip.unlinked_at.is_(None))))
    if f.event:
        ev = select(Event).where(Event.event_id == f.event).subquery()
        officers = select(EventOfficer.officer_id).join(ev, ev.c.id == EventOfficer.event_id)
        session = select(InterrogationSession.id).join(ev, ev.c.id == InterrogationSession.event_id)
        found = s.execute(select(Event.id, Event.start, Event.end).where(Event.event_id == f.event)).first()
        in_car = crews.clips_of(s, list(s.scalars(select(EventOfficer.officer_id).where(
            EventOfficer.event_id == found[0]))), found[1], found[2]) if found else None
        q = q.where(or_(Clip.officer_id.in_(officers), Clip.session_id.in_(session),
                        *((in_car,) if in_car is not None else ())),
                    Clip.recorded_start <= select(ev.c.end).scalar_subquery(),
                    Clip.recorded_end >= select(ev.c.start).scalar_subquery())
    if f.unit:
        members = select(Officer.id).join(Unit, Officer.unit_id == Unit.id).where(Unit.code == f.unit)
        devices = list(s.scalars(select(Device.id).join(Unit, Device.unit_id == Unit.id).where(Unit.code == f.unit)))
        q = q.where(or_(_whose(s, members), Clip.device_id.in_(devices)))  # the unit's cars: by their devices
    if f.start is not None:  # clips overlapping the window
        q = q.where(Clip.recorded_end >= f.start)
    if f.end is not None:
        q = q.where(Clip.recorded_start <= f.end)
    if f.sha256:  # a range, not LIKE, so the unique index serves it under any collation
        prefix = f.sha256.lower()
        q = q.where(Clip.sha256 >= prefix, Clip.sha256 < prefix + "g")
    if f.flag:
        q = q.where(Clip.id.in_(select(ClipFlag.clip_id).where(ClipFlag.flag == f.flag)))
    if f.kind:
        q = q.where(Clip.kind == f.kind)
    return q.order_by(Clip.recorded_start, Clip.id).limit(f.limit).offset(f.offset)


def search(session: Session, f: ClipFilter) -> list[dict[str, Any]]:
    """Rows in the stable JSON shape documented in docs/json.md."""
    clips: list[Clip] = list(session.scalars(_query(session, f)))
    flags: dict[int, list[str]] = {}
    if clips:
        for clip_id, flag in session.execute(
            select(ClipFlag.clip_id, ClipFlag.flag).where(ClipFlag.clip_id.in_([c.id for c in clips]))
        ):
            flags.setdefault(clip_id, []).append(flag)
    team = people(session, clips)
    return [clip_row(c, sorted(flags.get(c.id, [])), team.get(c.id, [])) for c in clips]


def people(session: Session, clips: list[Clip]) -> dict[int, list[str]]:
    """Each clip's other officers: an interrogation's interrogators, a car's crew on board."""
    team = interrogators(session, {c.session_id for c in clips if c.session_id is not None})
    starts = [c.recorded_start for c in clips if c.recorded_start is not None and c.device_id is not None]
    shifts = crews.of_devices(session, {c.device_id for c in clips if c.device_id is not None},
                              (min(starts), max(starts) + timedelta(seconds=1))) if starts else {}
    out: dict[int, list[str]] = {}
    for c in clips:
        crew = [sh.badge for sh in crews.on_board(shifts.get(c.device_id or 0, []), c.recorded_start)] \
            if c.recorded_start else []
        out[c.id] = [*team.get(c.session_id or 0, []), *crew]
    return out


def interrogators(session: Session, session_ids: set[int] | Select[Any]) -> dict[int, list[str]]:
    """Badges of each interrogation session's interrogators (of the ids, or of those a query selects)."""
    out: dict[int, list[str]] = {}
    if isinstance(session_ids, Select) or session_ids:
        for sid, badge in session.execute(
                select(InterrogationSession.id, Officer.badge)
                .join(EventOfficer, EventOfficer.event_id == InterrogationSession.event_id)
                .join(Officer, Officer.id == EventOfficer.officer_id)
                .where(InterrogationSession.id.in_(session_ids)).order_by(Officer.badge)):
            out.setdefault(sid, []).append(badge)
    return out


def clip_row(c: Clip, flags: list[str], team: list[str] | None = None) -> dict[str, Any]:
    officers = sorted({*([c.officer_badge] if c.officer_badge else []), *(team or [])})
    return {
        "id": c.id,
        "sha256": c.sha256,
        "size": c.size,
        "kind": c.kind,
        "officer": c.officer_badge or (officers[0] if officers else None),
        "officers": officers,
        "officer_source": c.officer_source or None,
        "device": c.device_serial or None,
        "start": c.recorded_start,
        "end": c.recorded_end,
        "duration": c.duration_seconds,
        "time_source": c.time_source,
        "flags": flags,
        "source_name": c.source_name,
        "uploaded_at": c.uploaded_at,
        "store_key": c.store_key,
        "store_version": c.store_version,
        "retain_until": c.retain_until,
        "disposed_at": c.disposed_at,
    }
