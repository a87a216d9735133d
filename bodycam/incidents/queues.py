"""The work queues and the link rate (关联率): footage that belongs to no incident and no case
(未关联警情 / 未关联案件), incidents without footage, and per unit and officer how much is linked."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from bodycam.db.models import (
    CaseClip,
    Clip,
    Device,
    Incident,
    IncidentLink,
    IncidentOfficer,
    Officer,
    Unit,
)
from bodycam.incidents.linking import BATCH, LONGEST_CLIP
from bodycam.index import crews
from bodycam.index.queries import interrogators


@dataclass
class Queues:
    start: datetime
    end: datetime
    unlinked_clips: list[dict[str, Any]] = field(default_factory=list)
    incidents_without_footage: list[dict[str, Any]] = field(default_factory=list)
    by_unit: list[dict[str, Any]] = field(default_factory=list)
    by_officer: list[dict[str, Any]] = field(default_factory=list)
    unlinked: int = 0

    @property
    def clips(self) -> int:
        return sum(r["clips"] for r in self.by_unit)

    @property
    def link_rate(self) -> float:
        linked = sum(r["linked"] for r in self.by_unit)
        return round(linked / self.clips, 4) if self.clips else 1.0


def build(s: Session, start: datetime, end: datetime, unit: str | None = None, *,
          units: Collection[str] = (), detail: bool = True) -> Queues:
    """Clips recorded in [start, end) and incidents dispatched in it (of ``unit``'s, or ``units``', if
    given). A clip's unit is its officer's, else another of its people's, else its device's. Without
    ``detail`` (the coverage report's summary) the unlinked clips are counted, not listed."""
    q = Queues(start, end)
    wanted = {*units, *((unit,) if unit else ())}
    live: tuple[ColumnElement[bool], ...] = (Clip.disposed_at.is_(None), Clip.recorded_start >= start,
                                             Clip.recorded_start < end)
    if wanted:  # a clip whose officer has another unit is that unit's: read only the rest
        theirs = select(Officer.id).outerjoin(Unit, Unit.id == Officer.unit_id).where(
            or_(Unit.code.in_(wanted), Officer.unit_id.is_(None)))
        live = (*live, or_(Clip.officer_id.is_(None), Clip.officer_id.in_(theirs)))
    in_window = select(Clip.id).where(*live)  # the links of this period's clips only
    incident_linked = set(s.scalars(select(IncidentLink.clip_id).where(IncidentLink.unlinked_at.is_(None),
                                                                       IncidentLink.clip_id.in_(in_window))))
    case_linked = set(s.scalars(select(CaseClip.clip_id).where(CaseClip.unlinked_at.is_(None),
                                                               CaseClip.clip_id.in_(in_window))))
    rows = s.execute(select(Clip.id, Clip.officer_badge, Clip.device_serial, Clip.device_id, Clip.session_id,
                            Clip.recorded_start, Clip.recorded_end)
                     .where(*live).order_by(Clip.recorded_start, Clip.id))
    people = _People(s, start, end)
    per_unit: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    per_officer: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    unlinked = 0
    for clip_id, badge, device, device_id, session_id, rec_start, rec_end in rows:
        badges = people.of(badge, device_id, session_id, rec_start)
        unit_code = people.unit_of(badges, device_id)
        if wanted and unit_code not in wanted:
            continue
        to_incident, to_case = clip_id in incident_linked, clip_id in case_linked
        counts = (1, int(to_incident or to_case), int(to_incident), int(to_case))
        for bucket in (per_unit[unit_code or "-"], *(per_officer[b] for b in badges or ["-"])):
            for i, n in enumerate(counts):
                bucket[i] += n
        if not (to_incident or to_case):
            unlinked += 1
            if detail:
                q.unlinked_clips.append({"clip": clip_id, "officer": badge or None, "officers": badges,
                                         "device": device or None, "unit": unit_code, "start": rec_start,
                                         "end": rec_end})
    q.unlinked = unlinked
    q.by_unit = [_rate("unit", k, v) for k, v in sorted(per_unit.items())]
    q.by_officer = [_rate("officer", k, v) for k, v in sorted(per_officer.items())]
    q.incidents_without_footage = _without_footage(s, start, end, wanted)
    return q


class _People:
    """Whose footage a clip is: its officer, the rest of a car's crew on board, an interrogation's
    interrogators; and their units."""

    def __init__(self, s: Session, start: datetime, end: datetime) -> None:
        self.shifts = crews.of_devices(s, between=(start - LONGEST_CLIP, end))  # every car's, however many clips
        sessions = select(Clip.session_id).where(Clip.recorded_start >= start, Clip.recorded_start < end,
                                                 Clip.session_id.is_not(None))
        self.interrogators = interrogators(s, sessions)
        self.unit: dict[str, str] = dict(s.execute(select(Officer.badge, Unit.code)
                                                   .join(Unit, Unit.id == Officer.unit_id)).all())
        self.device_unit: dict[int | None, str] = dict(s.execute(select(Device.id, Unit.code)
                                                                 .join(Unit, Unit.id == Device.unit_id)).all())

    def of(self, badge: str, device_id: int | None, session_id: int | None, at: datetime | None) -> list[str]:
        out = [badge] if badge else []
        if session_id is None and device_id not in self.shifts:  # most clips: a body camera's
            return out
        more = [sh.badge for sh in crews.on_board(self.shifts.get(device_id or 0, []), at)] if at else []
        more += self.interrogators.get(session_id or 0, [])
        return out + [b for b in dict.fromkeys(more) if b not in out]


    def unit_of(self, badges: list[str], device_id: int | None) -> str | None:
        for b in badges:
            if b in self.unit:
                return self.unit[b]
        return self.device_unit.get(device_id)


def _rate(by: str, key: str, counts: list[int]) -> dict[str, Any]:
    clips, linked, to_incident, to_case = counts
    return {by: key, "clips": clips, "linked": linked, "to_incident": to_incident, "to_case": to_case,
            "unlinked": clips - linked, "link_rate": round(linked / clips, 4) if clips else 1.0}


def _without_footage(s: Session, start: datetime, end: datetime, units: set[str]) -> list[dict[str, Any]]:
    """Incidents dispatched in the period that no clip is linked to; of a unit: the incident's unit, or (an
    export without units, as Axon's) one of its officers'."""
    query = (select(Incident).where(Incident.start >= start, Incident.start < end,
                                    ~select(IncidentLink.id).where(IncidentLink.incident_id == Incident.id,
                                                                   IncidentLink.unlinked_at.is_(None)).exists())
             .order_by(Incident.start, Incident.id))
    if units:
        unit_ids = select(Unit.id).where(Unit.code.in_(units))
        theirs = select(IncidentOfficer.incident_id).join(Officer, Officer.id == IncidentOfficer.officer_id).where(
            Officer.unit_id.in_(unit_ids))
        query = query.where(or_(Incident.unit_id.in_(unit_ids), Incident.id.in_(theirs)))
    incidents = list(s.scalars(query))
    badges: dict[int, list[str]] = defaultdict(list)
    for lo in range(0, len(incidents), BATCH):
        for incident_id, badge in s.execute(
                select(IncidentOfficer.incident_id, Officer.badge)
                .join(Officer, Officer.id == IncidentOfficer.officer_id)
                .where(IncidentOfficer.incident_id.in_([i.id for i in incidents[lo:lo + BATCH]]))
                .order_by(Officer.badge)):
            badges[incident_id].append(badge)
    return [{"incident": i.incident_id, "type": i.type, "scenario": i.scenario, "start": i.start, "end": i.end,
             "officers": badges.get(i.id, [])} for i in incidents]


def summary(s: Session, start: datetime, end: datetime, units: Collection[str] = ()) -> dict[str, Any]:
    """What the coverage report shows of the queues (of its units, if it has some): the link rate per
    unit, and how many wait."""
    q = build(s, start, end, units=units, detail=False)
    return {"clips": q.clips, "link_rate": q.link_rate, "unlinked_clips": q.unlinked,
            "incidents_without_footage": len(q.incidents_without_footage), "by_unit": q.by_unit}
