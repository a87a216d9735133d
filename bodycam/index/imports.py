"""Registry imports: officers, devices, assignments, crews, cases, events.

Each import validates the whole file first, then writes it in one transaction
with one audit event. Re-importing the same file changes nothing; a changed
row updates the record and says so.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.db.engine import Database
from bodycam.db.models import (
    BADGE_LEN,
    DEVICE_KINDS,
    ID_LEN,
    SCENARIOS,
    SERIAL_LEN,
    UNIT_LEN,
    Case,
    CrewShift,
    Device,
    DeviceAssignment,
    Event,
    EventOfficer,
    Officer,
    Unit,
)
from bodycam.db.upsert import get_or_create
from bodycam.errors import InputError
from bodycam.index.attribution import Change, Span, reattribute
from bodycam.index.tabular import Field, Row, choice, read_rows
from bodycam.timeutil import parse_time

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass
class ImportResult:
    kind: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    changes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    """Rows imported although they name what the registries do not know (--unknown warn)."""
    clip_changes: list[Change] = field(default_factory=list)
    """Clips re-attributed (or flagged) because the assignment history changed."""


def _time(zone: tzinfo) -> Callable[[str], datetime]:
    def parse(text: str) -> datetime:
        try:
            return parse_time(text, zone)
        except InputError as exc:  # "not an ISO 8601 time", or outside the sane years
            raise ValueError(str(exc).removeprefix("time: ")) from None

    return parse


def _apply(obj: Any, values: dict[str, Any], result: ImportResult, label: str, extra: tuple[str, ...] = ()) -> None:
    """Set what differs; count the row as updated (naming the fields) or unchanged."""
    changed = [k for k, v in values.items() if getattr(obj, k) != v] + list(extra)
    for k in changed:
        if k in values:
            setattr(obj, k, values[k])
    if changed:
        result.updated += 1
        result.changes.append(f"{label}: {', '.join(changed)}")
    else:
        result.unchanged += 1


def _upsert(s: Session, model: Any, key: str, value: str, values: dict[str, Any], result: ImportResult) -> None:
    """Create the row with this unique key, or update what differs."""
    row = s.scalar(select(model).where(getattr(model, key) == value))
    if row is None:
        s.add(model(**{key: value}, **values))
        result.created += 1
    else:
        _apply(row, values, result, value)


def _unit(s: Session, code: str | None) -> int | None:
    return get_or_create(s, Unit, "code", code, name="").id if code else None


def officers(s: Session, rows: list[Row], zone: tzinfo, result: ImportResult) -> None:
    for row in rows:
        v = row.values
        _upsert(s, Officer, "badge", v["badge"], {"name": v["name"] or "", "unit_id": _unit(s, v["unit"])}, result)


def devices(s: Session, rows: list[Row], zone: tzinfo, result: ImportResult) -> None:
    for row in rows:
        v = row.values
        values = {"kind": v["kind"] or "body_camera", "unit_id": _unit(s, v["unit"]), "room": v["room"],
                  "vehicle": v["vehicle"], "description": v["description"] or ""}
        device = s.scalar(select(Device).where(Device.serial == v["serial"]))
        moved = device is not None and device.vehicle != v["vehicle"]
        _upsert(s, Device, "serial", v["serial"], values, result)
        if moved and device is not None:  # a camera moved to another car: its footage has another crew
            s.flush()
            result.clip_changes += reattribute(s, [(device.id, EPOCH, None)])


def assignments(s: Session, rows: list[Row], zone: tzinfo, result: ImportResult) -> None:
    seen: dict[tuple[str, datetime], str] = {}
    for row in rows:
        v = row.values
        if v["end"] is not None and v["end"] <= v["start"]:
            raise row.fail("end", "must be after start")
        first = seen.setdefault((v["device"], v["start"]), row.where)
        if first != row.where:
            raise row.fail("start", f"device {v['device']} already has an assignment starting then ({first})")
    touched: list[Span] = []  # old and new spans of every created or changed assignment
    for row in rows:
        v = row.values
        device = get_or_create(s, Device, "serial", v["device"], kind="body_camera", description="")
        officer = get_or_create(s, Officer, "badge", v["officer"], name="")
        existing = s.scalar(select(DeviceAssignment).where(DeviceAssignment.device_id == device.id,
                                                           DeviceAssignment.start == v["start"]))
        if existing is None:
            s.add(DeviceAssignment(device_id=device.id, officer_id=officer.id, start=v["start"], end=v["end"]))
            s.flush()
            result.created += 1
            touched.append((device.id, v["start"], v["end"]))
        else:
            before = (existing.officer_id, existing.end)
            _apply(existing, {"officer_id": officer.id, "end": v["end"]}, result, f"{v['device']}@{v['start']}")
            if (existing.officer_id, existing.end) != before:
                touched += [(device.id, v["start"], before[1]), (device.id, v["start"], v["end"])]
        _no_overlap(s, row, device.id)
    s.flush()
    result.clip_changes = reattribute(s, touched)


def _first_overlap(spans: Any) -> Any | None:
    """The first of ``spans`` (rows with start and end, None open-ended) that the next one overlaps."""
    ordered = sorted(spans, key=lambda x: x.start)
    return next((a for a, b in itertools.pairwise(ordered) if a.end is None or a.end > b.start), None)


def _until(span: Any) -> str:
    return f"from {span.start.isoformat()} to {span.end.isoformat() if span.end else 'open end'}"


def _no_overlap(s: Session, row: Row, device_id: int) -> None:
    held = _first_overlap(s.scalars(select(DeviceAssignment).where(DeviceAssignment.device_id == device_id)))
    if held is not None:
        raise row.fail("start", f"device {row.values['device']} is already assigned {_until(held)}")


def crews(s: Session, rows: list[Row], zone: tzinfo, result: ImportResult, unknown: str = "refuse") -> None:
    """Who rode in which vehicle when: several officers at once, but no officer in two places at once.
    A badge nobody registered is refused (a typo would give the car's footage to no one real)."""
    seen: dict[tuple[str, str, datetime], str] = {}
    badges = set(s.scalars(select(Officer.badge)))
    for row in rows:
        if row.values["officer"] not in badges:
            why = f"unknown badge {row.values['officer']!r} (not in the officers registry)"
            if unknown == "refuse":
                raise row.fail("officer", f"{why}; import the registry first, or --unknown warn")
            result.warnings.append(f"{row.where}: field 'officer': {why}: imported")
        v = row.values
        if v["end"] is not None and v["end"] <= v["start"]:
            raise row.fail("end", "must be after start")
        first = seen.setdefault((v["vehicle"], v["officer"], v["start"]), row.where)
        if first != row.where:
            raise row.fail("start", f"officer {v['officer']} already has a shift in {v['vehicle']} starting then "
                                    f"({first})")
    touched: list[tuple[str, datetime, datetime | None]] = []
    for row in rows:
        v = row.values
        officer = get_or_create(s, Officer, "badge", v["officer"], name="")
        existing = s.scalar(select(CrewShift).where(CrewShift.vehicle == v["vehicle"],
                                                    CrewShift.officer_id == officer.id, CrewShift.start == v["start"]))
        if existing is None:
            s.add(CrewShift(vehicle=v["vehicle"], officer_id=officer.id, start=v["start"], end=v["end"]))
            s.flush()
            result.created += 1
            touched.append((v["vehicle"], v["start"], v["end"]))
        else:
            before = existing.end
            _apply(existing, {"end": v["end"]}, result, f"{v['vehicle']}/{v['officer']}@{v['start']}")
            if before != v["end"]:
                touched += [(v["vehicle"], v["start"], before), (v["vehicle"], v["start"], v["end"])]
        _one_place(s, row, officer.id)
    s.flush()
    cameras: dict[str, list[int]] = {}
    for vehicle, _, _ in touched:
        cameras.setdefault(vehicle, list(s.scalars(select(Device.id).where(Device.vehicle == vehicle))))
    result.clip_changes = reattribute(s, [(did, start, end) for vehicle, start, end in touched
                                          for did in cameras[vehicle]])


def _one_place(s: Session, row: Row, officer_id: int) -> None:
    shift = _first_overlap(s.scalars(select(CrewShift).where(CrewShift.officer_id == officer_id)))
    if shift is not None:
        raise row.fail("start", f"officer {row.values['officer']} is already on a crew ({shift.vehicle}) "
                                f"{_until(shift)}")


def cases(s: Session, rows: list[Row], zone: tzinfo, result: ImportResult) -> None:
    for row in rows:
        v = row.values
        status = v["status"] or "open"
        if status == "closed" and v["closed_at"] is None:
            raise row.fail("closed_at", "required when status is closed")
        values = {"title": v["title"] or "", "status": status, "opened_at": v["opened_at"],
                  "closed_at": v["closed_at"] if status == "closed" else None}
        _upsert(s, Case, "number", v["number"], values, result)


UNKNOWN = ("refuse", "warn")
"""What an events import does with a badge or unit the registries do not know."""


def _check_known(s: Session, rows: list[Row], unknown: str, result: ImportResult) -> None:
    """An event naming an officer or unit nobody registered is refused (the default: a typo would make a
    false no_footage), or imported with a warning naming the row and field."""
    badges = set(s.scalars(select(Officer.badge)))
    units = set(s.scalars(select(Unit.code)))
    for row in rows:
        v = row.values
        named = [b.strip() for b in v["officers"].split(";") if b.strip()]
        problems = [("officers", f"unknown badge {b!r} (not in the officers registry)") for b in named
                    if b not in badges]
        if v["unit"] and v["unit"] not in units:
            problems.append(("unit", f"unknown unit {v['unit']!r} (no officer or device of it is registered)"))
        for name, why in problems:
            if unknown == "refuse":
                raise row.fail(name, f"{why}; import the registry first, or --unknown warn")
            result.warnings.append(f"{row.where}: field '{name}': {why}: imported")


def events(s: Session, rows: list[Row], zone: tzinfo, result: ImportResult, unknown: str = "refuse") -> None:
    for row in rows:
        v = row.values
        if v["end"] < v["start"]:
            raise row.fail("end", f"{v['end'].isoformat()} precedes start {v['start'].isoformat()}")
        badges = [b.strip() for b in v["officers"].split(";") if b.strip()]
        if not badges:
            raise row.fail("officers", "at least one badge number, separated by ';'")
        long = next((b for b in badges if len(b) > BADGE_LEN), None)
        if long is not None:
            raise row.fail("officers", f"badge {long[:20]!r}... is longer than {BADGE_LEN} characters")
    _check_known(s, rows, unknown, result)
    for row in rows:
        v = row.values
        case_id = None
        if v["case_id"]:
            case_id = get_or_create(s, Case, "number", v["case_id"], title="registered from an event import",
                                    status="open").id
        values = {"scenario": v["scenario"], "start": v["start"], "end": v["end"], "unit_id": _unit(s, v["unit"]),
                  "case_id": case_id, "location": v["location"] or ""}
        event = s.scalar(select(Event).where(Event.event_id == v["event_id"]))
        badges = sorted({b.strip() for b in v["officers"].split(";") if b.strip()})
        before: list[str] = []
        if event is None:
            event = Event(event_id=v["event_id"], source="import", **values)
            s.add(event)
            s.flush()
            result.created += 1
        else:
            before = sorted(s.scalars(select(Officer.badge).join(EventOfficer, EventOfficer.officer_id == Officer.id)
                                      .where(EventOfficer.event_id == event.id)))
            _apply(event, values, result, v["event_id"], ("officers",) if before != badges else ())
        if before != badges:
            for old in s.scalars(select(EventOfficer).where(EventOfficer.event_id == event.id)):
                s.delete(old)
            s.flush()
            for badge in badges:
                s.add(EventOfficer(event_id=event.id, officer_id=get_or_create(s, Officer, "badge", badge,
                                                                                name="").id))


def fields_for(kind: str, zone: tzinfo) -> list[Field]:
    when = _time(zone)
    return {
        "officers": [Field("badge", max_len=BADGE_LEN), Field("name", False, max_len=200),
                     Field("unit", False, max_len=UNIT_LEN)],
        "devices": [Field("serial", max_len=SERIAL_LEN), Field("kind", False, choice(*DEVICE_KINDS)),
                    Field("unit", False, max_len=UNIT_LEN), Field("room", False, max_len=SERIAL_LEN),
                    Field("description", False), Field("vehicle", False, max_len=SERIAL_LEN)],
        "assignments": [Field("device", max_len=SERIAL_LEN), Field("officer", max_len=BADGE_LEN),
                        Field("start", True, when), Field("end", False, when)],
        "crews": [Field("vehicle", max_len=SERIAL_LEN), Field("officer", max_len=BADGE_LEN),
                  Field("start", True, when), Field("end", False, when)],
        "cases": [Field("number", max_len=ID_LEN), Field("title", False),
                  Field("status", False, choice("open", "closed")), Field("opened_at", False, when),
                  Field("closed_at", False, when)],
        "events": [Field("event_id", max_len=ID_LEN), Field("scenario", True, choice(*SCENARIOS)),
                   Field("start", True, when), Field("end", True, when), Field("officers", max_len=10_000),
                   Field("unit", False, max_len=UNIT_LEN), Field("case_id", False, max_len=ID_LEN),
                   Field("location", False)],
    }[kind]


WRITERS: dict[str, Callable[[Session, list[Row], tzinfo, ImportResult], None]] = {
    "officers": officers, "devices": devices, "assignments": assignments, "crews": crews, "cases": cases,
    "events": events,
}


def run_import(db: Database, kind: str, path: Path, zone: tzinfo, actor: str, *,
               unknown: str = "refuse") -> ImportResult:
    """Validate every row, then write all of them (or none) with one audit event."""
    rows = read_rows(path, fields_for(kind, zone))
    keys = [r.values[fields_for(kind, zone)[0].name] for r in rows]
    if kind not in ("assignments", "crews") and len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        where = [r.where for r in rows if r.values[fields_for(kind, zone)[0].name] == dup][1]
        raise InputError(f"{where}: field '{fields_for(kind, zone)[0].name}': {dup!r} appears twice in the file")
    result = ImportResult(kind, rows=len(rows))
    with db.write() as s:
        if kind == "events":
            events(s, rows, zone, result, unknown)
        elif kind == "crews":
            crews(s, rows, zone, result, unknown)
        else:
            WRITERS[kind](s, rows, zone, result)
        if result.created or result.updated:
            chain.record(s, actor, f"{kind}.import", f"registry:{kind}", {
                "file": str(path), "rows": result.rows, "created": result.created, "updated": result.updated,
                "warnings": result.warnings[:100],
                "changes": result.changes[:100], "clips_changed": len(result.clip_changes),
            })
            chain.record_many(s, actor, [c.audit_entry() for c in result.clip_changes])
    return result
