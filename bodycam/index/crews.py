"""Patrol-car crews: an in-car camera records for everyone in the car.

A body camera has one holder at a time (its device assignment). A car's camera is bound to its
vehicle (`devices.vehicle`), and the vehicle has a crew by shift (`crew_shifts`): several officers at
once. Its clip is indexed under the crew's lead (the first on board, by shift start then badge) and
counts for every officer on board at the recording's start: coverage, incident links, search, queues.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session

from bodycam.db.models import Clip, CrewShift, Device, Officer


@dataclass(frozen=True)
class Shift:
    officer_id: int
    badge: str
    start: datetime
    end: datetime | None
    vehicle: str = ""

    def covers(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


def on_board(shifts: Sequence[Shift], at: datetime) -> list[Shift]:
    """The crew at ``at``: the lead (earliest on board, then lowest badge) first."""
    return sorted((sh for sh in shifts if sh.covers(at)), key=lambda sh: (sh.start, sh.badge))


def _during(start: datetime, end: datetime) -> ColumnElement[bool]:
    """Shifts that overlap [start, end)."""
    return and_(CrewShift.start < end, or_(CrewShift.end.is_(None), CrewShift.end > start))


def of_devices(s: Session, device_ids: Iterable[int] | None = None,
               between: tuple[datetime, datetime] | None = None) -> dict[int, list[Shift]]:
    """Each in-car device (one bound to a vehicle) -> its vehicle's crew shifts (those overlapping
    ``between``, if given)."""
    q = (select(Device.id, CrewShift.officer_id, Officer.badge, CrewShift.start, CrewShift.end, CrewShift.vehicle)
         .join(CrewShift, CrewShift.vehicle == Device.vehicle)
         .join(Officer, Officer.id == CrewShift.officer_id).where(Device.vehicle.is_not(None)))
    if device_ids is not None:
        q = q.where(Device.id.in_(list(device_ids)))
    if between is not None:
        q = q.where(_during(*between))
    out: dict[int, list[Shift]] = defaultdict(list)
    for did, oid, badge, start, end, vehicle in s.execute(q):
        out[did].append(Shift(oid, badge, start, end, vehicle))
    return dict(out)


def cameras_of(s: Session, officer_ids: Iterable[int], between: tuple[datetime, datetime]) -> list[int]:
    """The in-car cameras of the vehicles these officers rode in during ``between``."""
    return list(s.scalars(select(Device.id).distinct().join(CrewShift, CrewShift.vehicle == Device.vehicle).where(
        CrewShift.officer_id.in_(list(officer_ids)), _during(*between))))


def crew_at(s: Session, device_id: int, at: datetime) -> list[Officer]:
    """The officers on board the device's vehicle at ``at``, lead first (none if it is not in a car)."""
    shifts = on_board(of_devices(s, [device_id], (at, at + timedelta(seconds=1))).get(device_id, []), at)
    return [o for o in (s.get(Officer, sh.officer_id) for sh in shifts) if o is not None]


def clips_of(s: Session, officer_ids: Sequence[int], start: datetime | None = None,
             end: datetime | None = None) -> ColumnElement[bool] | None:
    """A clip condition: recorded by a car's camera while one of these officers was on board (of the
    shifts that overlap [start, end), when given; literal device ids and times, so PostgreSQL uses the
    (device_id, recorded_start) index), or None."""
    if not officer_ids:
        return None
    q = (select(Device.id, CrewShift.start, CrewShift.end).join(CrewShift, CrewShift.vehicle == Device.vehicle)
         .where(CrewShift.officer_id.in_(list(officer_ids))))
    if end is not None:
        q = q.where(CrewShift.start <= end)
    if start is not None:
        q = q.where(or_(CrewShift.end.is_(None), CrewShift.end > start - timedelta(hours=24)))
    rows = s.execute(q).all()
    if not rows:
        return None
    return or_(*(and_(Clip.device_id == did, Clip.recorded_start >= start,
                      *((Clip.recorded_start < end,) if end is not None else ()))
                 for did, start, end in rows))
