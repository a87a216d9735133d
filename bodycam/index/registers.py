"""The registries as people look them up: officers, devices, cases and events, listed and shown.

Rows are plain dicts in the stable JSON shape of docs/json.md; times stay datetimes
(the CLI shows them in --tz).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bodycam.db.models import (
    Case,
    CaseClip,
    Clip,
    CrewShift,
    Device,
    DeviceAssignment,
    Event,
    EventOfficer,
    Hold,
    InterrogationSession,
    Officer,
    Unit,
)
from bodycam.errors import NotFound

KINDS = ("officers", "devices", "crews", "cases", "events")


def _units(s: Session) -> dict[int, str]:
    return dict(s.execute(select(Unit.id, Unit.code)).all())


def _unit_id(s: Session, code: str | None) -> int | None:
    if code is None:
        return None
    found = s.scalar(select(Unit.id).where(Unit.code == code))
    if found is None:
        raise NotFound(f"unit {code!r}: not in the registry")
    return found


def officers(s: Session, unit: str | None = None, badge: str | None = None) -> list[dict[str, Any]]:
    units = _units(s)
    q = select(Officer).order_by(Officer.badge)
    if badge is not None:
        q = q.where(Officer.badge == badge)
    if unit is not None:
        q = q.where(Officer.unit_id == _unit_id(s, unit))
    counts = dict(s.execute(select(Clip.officer_id, func.count()).where(Clip.officer_id.is_not(None))
                            .group_by(Clip.officer_id)).all())
    return [{"badge": o.badge, "name": o.name or None, "unit": units.get(o.unit_id or 0),
             "clips": counts.get(o.id, 0)} for o in s.scalars(q)]


def devices(s: Session, unit: str | None = None, kind: str | None = None,
            serial: str | None = None) -> list[dict[str, Any]]:
    units = _units(s)
    q = select(Device).order_by(Device.serial)
    if serial is not None:
        q = q.where(Device.serial == serial)
    if unit is not None:
        q = q.where(Device.unit_id == _unit_id(s, unit))
    if kind is not None:
        q = q.where(Device.kind == kind)
    holder: dict[int, str] = {}
    for device_id, badge in s.execute(select(DeviceAssignment.device_id, Officer.badge)
                                      .join(Officer, Officer.id == DeviceAssignment.officer_id)
                                      .where(DeviceAssignment.end.is_(None))):
        holder[device_id] = badge
    return [{"serial": d.serial, "kind": d.kind, "unit": units.get(d.unit_id or 0), "room": d.room,
             "vehicle": d.vehicle, "description": d.description or None, "assigned_to": holder.get(d.id)}
            for d in s.scalars(q)]


def crews(s: Session, vehicle: str | None = None, unit: str | None = None) -> list[dict[str, Any]]:
    """Crew shifts by vehicle and start, with the vehicle's cameras."""
    q = (select(CrewShift.vehicle, Officer.badge, CrewShift.start, CrewShift.end)
         .join(Officer, Officer.id == CrewShift.officer_id).order_by(CrewShift.vehicle, CrewShift.start, Officer.badge))
    if vehicle is not None:
        q = q.where(CrewShift.vehicle == vehicle)
    if unit is not None:
        q = q.where(Officer.unit_id == _unit_id(s, unit))
    cameras: dict[str, list[str]] = defaultdict(list)
    for serial, car in s.execute(select(Device.serial, Device.vehicle).where(Device.vehicle.is_not(None))
                                 .order_by(Device.serial)):
        cameras[str(car)].append(serial)
    return [{"vehicle": car, "officer": badge, "start": start, "end": end, "cameras": cameras.get(car, [])}
            for car, badge, start, end in s.execute(q)]


def cases(s: Session, status: str | None = None, number: str | None = None) -> list[dict[str, Any]]:
    q = select(Case).order_by(Case.number)
    if number is not None:
        q = q.where(Case.number == number)
    if status is not None:
        q = q.where(Case.status == status)
    linked = dict(s.execute(select(CaseClip.case_id, func.count()).where(CaseClip.unlinked_at.is_(None))
                            .group_by(CaseClip.case_id)).all())
    return [{"number": c.number, "title": c.title or None, "status": c.status, "opened_at": c.opened_at,
             "closed_at": c.closed_at, "clips": linked.get(c.id, 0)} for c in s.scalars(q)]


def events(s: Session, start: datetime | None = None, end: datetime | None = None, scenario: str | None = None,
           unit: str | None = None, limit: int = 1000, *, ids: list[str] | None = None,
           case: str | None = None) -> list[dict[str, Any]]:
    units = _units(s)
    q = select(Event).order_by(Event.start, Event.event_id).limit(limit)
    if ids is not None:
        q = q.where(Event.event_id.in_(ids))
    if case is not None:
        q = q.where(Event.case_id.in_(select(Case.id).where(Case.number == case)))
    if start is not None:
        q = q.where(Event.end > start)
    if end is not None:
        q = q.where(Event.start < end)
    if scenario is not None:
        q = q.where(Event.scenario == scenario)
    if unit is not None:
        q = q.where(Event.unit_id == _unit_id(s, unit))
    rows = list(s.scalars(q))
    team: dict[int, list[str]] = defaultdict(list)
    for event_id, badge in s.execute(select(EventOfficer.event_id, Officer.badge)
                                     .join(Officer, Officer.id == EventOfficer.officer_id)
                                     .where(EventOfficer.event_id.in_([e.id for e in rows])).order_by(Officer.badge)):
        team[event_id].append(badge)
    numbers = dict(s.execute(select(Case.id, Case.number).where(Case.id.in_({e.case_id for e in rows if e.case_id})))
                   .all())
    return [{"event_id": e.event_id, "scenario": e.scenario, "start": e.start, "end": e.end,
             "officers": team.get(e.id, []), "unit": units.get(e.unit_id or 0),
             "case": numbers.get(e.case_id or 0), "location": e.location or None, "source": e.source} for e in rows]


def show(s: Session, kind: str, key: str) -> dict[str, Any]:
    """One record with what hangs on it; NotFound names what was looked for."""
    if kind in ("officers", "devices"):
        officer = kind == "officers"
        found = officers(s, badge=key) if officer else devices(s, serial=key)
        if not found:
            raise NotFound(f"{kind[:-1]} {key!r}: not in the registry")
        other, mine = (Device.serial, Officer.badge) if officer else (Officer.badge, Device.serial)
        found[0]["assignments"] = [
            {"device" if officer else "officer": name, "start": a_start, "end": a_end}
            for name, a_start, a_end in s.execute(
                select(other, DeviceAssignment.start, DeviceAssignment.end)
                .join(Device, Device.id == DeviceAssignment.device_id)
                .join(Officer, Officer.id == DeviceAssignment.officer_id)
                .where(mine == key).order_by(DeviceAssignment.start))]
        return found[0]
    if kind == "crews":
        shifts = crews(s, vehicle=key)
        cameras = list(s.scalars(select(Device.serial).where(Device.vehicle == key).order_by(Device.serial)))
        if not shifts and not cameras:
            raise NotFound(f"vehicle {key!r}: no camera is bound to it and no crew shift names it")
        return {"vehicle": key, "cameras": cameras,
                "shifts": [{k: v for k, v in r.items() if k not in ("vehicle", "cameras")} for r in shifts]}
    if kind == "cases":
        rows = cases(s, number=key)
        if not rows:
            raise NotFound(f"case {key!r}: not in the registry")
        row = rows[0]
        case_id = s.scalar(select(Case.id).where(Case.number == key))
        row["linked_clips"] = [
            {"clip": cid, "linked_at": at, "linked_by": by, "reason": why} for cid, at, by, why in s.execute(
                select(CaseClip.clip_id, CaseClip.linked_at, CaseClip.linked_by, CaseClip.reason)
                .where(CaseClip.case_id == case_id, CaseClip.unlinked_at.is_(None)).order_by(CaseClip.clip_id))]
        row["holds"] = [{"hold": h.id, "placed_at": h.placed_at, "placed_by": h.placed_by, "reason": h.reason}
                        for h in s.scalars(select(Hold).where(Hold.case_id == case_id, Hold.released_at.is_(None)))]
        row["events"] = events(s, limit=100_000, case=key)
        return row
    event = s.scalar(select(Event).where(Event.event_id == key))
    if event is None:
        raise NotFound(f"event {key!r}: not in the registry")
    row = events(s, ids=[key])[0]
    session = s.scalar(select(InterrogationSession).where(InterrogationSession.event_id == event.id))
    if session is not None:
        row["session"] = {"manifest": session.manifest}
    return row
