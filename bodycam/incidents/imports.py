"""`bodycam incidents import`: write a dispatch export's incidents (all rows or none), the required
recordings their scenarios make, and the clips their rule links; one audit event for the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.clock import Clock
from bodycam.config import Settings
from bodycam.db.engine import Database
from bodycam.db.models import Case, Event, EventOfficer, Incident, IncidentOfficer, Officer, Unit
from bodycam.db.upsert import get_or_create
from bodycam.errors import InputError
from bodycam.incidents import linking
from bodycam.incidents.records import Record, read

SOURCE = "cad"
"""The source of the events an import makes (an event imported on its own is `import`)."""


@dataclass
class ImportSummary:
    file: str
    incidents: int = 0
    created: int = 0
    updated: int = 0
    required_recordings: int = 0
    links: list[linking.Candidate] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def import_file(db: Database, path: Path, settings: Settings, actor: str, clock: Clock,
                unknown: str = "refuse") -> ImportSummary:
    records = read(path, settings.incidents, settings.tz)
    summary = ImportSummary(str(path), incidents=len(records))
    now = clock.now()
    with db.write() as s:
        officers = _officers(s, records, unknown, summary)
        units = {u.code: u.id for u in s.scalars(select(Unit))}
        pks = []
        for r in records:
            if r.unit and r.unit not in units:
                if unknown == "refuse":
                    raise InputError(f"{r.where}: field '{settings.incidents.columns.get('unit', 'unit')}': unknown "
                                     f"unit {r.unit!r} (not in the registry); import it first, or --unknown warn")
                summary.warnings.append(f"{r.where}: unknown unit {r.unit!r}: imported without a unit")
            pks.append(_write(s, r, officers, units.get(r.unit or ""), now, summary))
        chain.record(s, actor, "incidents.import", "incidents", {
            "file": str(path), "incidents": summary.incidents, "created": summary.created,
            "updated": summary.updated, "required_recordings": summary.required_recordings,
            "warnings": summary.warnings[:100]})
        summary.links = linking.link(s, settings.incidents, actor, now, incidents=pks)
    return summary


def _officers(s: Session, records: list[Record], unknown: str, summary: ImportSummary) -> dict[str, int]:
    """Badge -> officer id; a badge nobody registered is refused (a typo would leave footage unlinked and
    make a false 'no footage'), or with --unknown warn registered with a warning."""
    known = {o.badge: o.id for o in s.scalars(select(Officer))}
    for r in records:
        for badge in r.officers:
            if badge in known:
                continue
            if unknown == "refuse":
                raise InputError(f"{r.where}: unknown badge {badge!r} (not in the officers registry); import the "
                                 "registry first, or --unknown warn")
            known[badge] = get_or_create(s, Officer, "badge", badge, name="").id
            summary.warnings.append(f"{r.where}: unknown badge {badge!r}: registered")
    return known


def _write(s: Session, r: Record, officers: dict[str, int], unit_id: int | None, now: datetime,
           summary: ImportSummary) -> int:
    case_id = get_or_create(s, Case, "number", r.case, title="registered from a dispatch import",
                            status="open").id if r.case else None
    incident = s.scalar(select(Incident).where(Incident.incident_id == r.incident_id))
    values = {"type": r.type, "scenario": r.scenario, "received_at": r.received, "start": r.start, "end": r.end,
              "unit_id": unit_id, "case_id": case_id, "location": r.location}
    if incident is None:
        incident = Incident(incident_id=r.incident_id, imported_at=now, **values)
        s.add(incident)
        s.flush()
        summary.created += 1
    else:
        changed = any(getattr(incident, k) != v for k, v in values.items())
        for k, v in values.items():
            setattr(incident, k, v)
        summary.updated += int(changed)
        s.execute(delete(IncidentOfficer).where(IncidentOfficer.incident_id == incident.id))
    for badge, w in r.officers.items():
        s.add(IncidentOfficer(incident_id=incident.id, officer_id=officers[badge], dispatched_at=w.dispatched,
                              arrived_at=w.arrived, cleared_at=w.cleared))
    incident.event_id = _required_recording(s, r, incident, officers, unit_id, case_id)
    summary.required_recordings += int(incident.event_id is not None)
    s.flush()
    return incident.id


def _required_recording(s: Session, r: Record, incident: Incident, officers: dict[str, int], unit_id: int | None,
                        case_id: int | None) -> int | None:
    """The event a scenario type makes, for the coverage report (none for a type mapped to no scenario)."""
    event = s.scalar(select(Event).where(Event.event_id == r.incident_id))
    if event is not None and event.source != SOURCE:
        raise InputError(f"{r.where}: incident {r.incident_id}: an event with this id was imported on its own "
                         "(`bodycam events import`); give one of them another id")
    if r.scenario is None:
        if event is not None:
            incident.event_id = None
            s.flush()
            s.execute(delete(EventOfficer).where(EventOfficer.event_id == event.id))
            s.delete(event)
        return None
    values = {"scenario": r.scenario, "start": r.start, "end": r.end, "unit_id": unit_id, "case_id": case_id,
              "location": r.location}
    if event is None:
        event = Event(event_id=r.incident_id, source=SOURCE, **values)
        s.add(event)
        s.flush()
    else:
        for k, v in values.items():
            setattr(event, k, v)
        s.execute(delete(EventOfficer).where(EventOfficer.event_id == event.id))
    for badge in r.officers:
        s.add(EventOfficer(event_id=event.id, officer_id=officers[badge]))
    return event.id
