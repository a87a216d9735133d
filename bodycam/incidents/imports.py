"""`bodycam incidents import`: write a dispatch export's incidents (all rows or none), the required
recordings their scenarios make, and the clips their rule links; one audit event for the file."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
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
        for r in records:
            if r.unit and r.unit not in units:
                if unknown == "refuse":
                    raise InputError(f"{r.where}: field '{settings.incidents.columns.get('unit', 'unit')}': unknown "
                                     f"unit {r.unit!r} (not in the registry); import it first, or --unknown warn")
                summary.warnings.append(f"{r.where}: unknown unit {r.unit!r}: imported without a unit")
        incidents = _Writer(s, records, officers, units, now, summary).write()
        chain.record(s, actor, "incidents.import", "incidents", {
            "file": str(path), "incidents": summary.incidents, "created": summary.created,
            "updated": summary.updated, "required_recordings": summary.required_recordings,
            "warnings": summary.warnings[:100]})
        summary.links = linking.link(s, settings.incidents, actor, now, incidents=[i.id for i in incidents])
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


def _by_key(s: Session, column: Any, keys: list[str]) -> dict[str, Any]:
    """Rows whose unique ``column`` is one of ``keys``, looked up a batch at a time."""
    model = column.class_
    out: dict[str, Any] = {}
    for lo in range(0, len(keys), linking.BATCH):
        out.update({getattr(row, column.key): row for row in s.scalars(select(model).where(
            column.in_(keys[lo:lo + linking.BATCH])))})
    return out


class _Writer:
    """An export's incidents, officers' windows and required recordings, written a phase at a time (a
    day of a city's calls is 8,000 incidents: one flush per phase, not four statements per incident)."""

    def __init__(self, s: Session, records: list[Record], officers: dict[str, int], units: dict[str, int],
                 now: datetime, summary: ImportSummary) -> None:
        self.s, self.records, self.officers, self.units, self.now, self.summary = (
            s, records, officers, units, now, summary)

    def write(self) -> list[Incident]:
        s, records = self.s, self.records
        cases = self._cases()
        known = _by_key(s, Incident.incident_id, [r.incident_id for r in records])
        incidents, replaced = [], []
        for r in records:
            values = {"type": r.type, "scenario": r.scenario, "received_at": r.received, "start": r.start,
                      "end": r.end, "unit_id": self.units.get(r.unit or ""), "case_id": cases.get(r.case or ""),
                      "location": r.location}
            incident = known.get(r.incident_id)
            if incident is None:
                incident = Incident(incident_id=r.incident_id, imported_at=self.now, **values)
                s.add(incident)
                self.summary.created += 1
            else:
                self.summary.updated += int(any(getattr(incident, k) != v for k, v in values.items()))
                for k, v in values.items():
                    setattr(incident, k, v)
                replaced.append(incident.id)
            incidents.append(incident)
        s.flush()
        self._replace(IncidentOfficer, IncidentOfficer.incident_id, replaced, [
            {"incident_id": i.id, "officer_id": self.officers[badge], "dispatched_at": w.dispatched,
             "arrived_at": w.arrived, "cleared_at": w.cleared}
            for r, i in zip(records, incidents, strict=True) for badge, w in r.officers.items()])
        self._required_recordings(incidents)
        return incidents

    def _cases(self) -> dict[str, int]:
        numbers = sorted({r.case for r in self.records if r.case})
        found = {n: c.id for n, c in _by_key(self.s, Case.number, numbers).items()}
        for n in numbers:
            if n not in found:
                found[n] = get_or_create(self.s, Case, "number", n, title="registered from a dispatch import",
                                         status="open").id
        return found

    def _replace(self, model: Any, owner: Any, owners: list[int], rows: list[dict[str, Any]]) -> None:
        """Delete the child rows of ``owners`` (an update replaces them), then insert ``rows`` in one statement."""
        for lo in range(0, len(owners), linking.BATCH):
            self.s.execute(delete(model).where(owner.in_(owners[lo:lo + linking.BATCH])))
        if rows:
            self.s.execute(insert(model), rows)

    def _required_recordings(self, incidents: list[Incident]) -> None:
        """The event a scenario type makes, for the coverage report (none for a type mapped to no scenario)."""
        s = self.s
        events = _by_key(s, Event.event_id, [r.incident_id for r in self.records])
        for r in self.records:
            event = events.get(r.incident_id)
            if event is not None and event.source != SOURCE:
                raise InputError(f"{r.where}: incident {r.incident_id}: an event with this id was imported on its "
                                 "own (`bodycam events import`); give one of them another id")
        replaced, dropped = [], []
        for r, incident in zip(self.records, incidents, strict=True):
            event = events.get(r.incident_id)
            if r.scenario is None:
                if event is not None:
                    incident.event_id = None
                    dropped.append(event)
                continue
            values = {"scenario": r.scenario, "start": r.start, "end": r.end, "unit_id": incident.unit_id,
                      "case_id": incident.case_id, "location": r.location}
            if event is None:
                events[r.incident_id] = Event(event_id=r.incident_id, source=SOURCE, **values)
                s.add(events[r.incident_id])
            else:
                for k, v in values.items():
                    setattr(event, k, v)
                replaced.append(event.id)
        s.flush()
        self._replace(EventOfficer, EventOfficer.event_id, replaced + [e.id for e in dropped], [
            {"event_id": events[r.incident_id].id, "officer_id": self.officers[badge]}
            for r in self.records if r.scenario is not None for badge in r.officers])
        for event in dropped:
            s.delete(event)
        for r, incident in zip(self.records, incidents, strict=True):
            incident.event_id = events[r.incident_id].id if r.scenario is not None else None
            self.summary.required_recordings += int(r.scenario is not None)
        s.flush()
