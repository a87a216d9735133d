"""The coverage engine: for each event and each required officer (or, for an
interrogation, the room recorder), the union of their clips over the event window,
and the findings an inspector looks for.

Clips are loaded once for the whole report window and grouped by officer and by
device, so each event costs a binary search, not a query.
"""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bodycam.analysis.jobs import FAILED, PENDING
from bodycam.config import Settings
from bodycam.coverage.intervals import holes, length, within
from bodycam.db.models import (
    Clip,
    ClipFlag,
    Device,
    Event,
    EventOfficer,
    FindingReview,
    InterrogationSession,
    Officer,
    Unit,
)
from bodycam.index import crews
from bodycam.kinds import DeviceKind

AUDIO_ONLY = "audio_only"
KINDS = ("no_footage", "late_start", "early_stop", "interrupted", "discontinuity", "missing_file", "late_upload",
         "unreadable", AUDIO_ONLY, PENDING, FAILED)
UNREADABLE = ("unreadable", "empty")
MAX_CLIP = timedelta(hours=24)


@dataclass(frozen=True)
class Finding:
    event_id: str
    scenario: str
    officer: str
    unit: str | None
    kind: str
    start: datetime
    end: datetime
    seconds: float
    clips: tuple[int, ...] = ()
    detail: str = ""
    review: str | None = None
    """The newest verdict of a supervisor (REVIEW_RESULTS), or None while unreviewed."""
    reviewed_by: str | None = None

    @property
    def id(self) -> str:
        """EVENT#hash: names its event (so a review finds it again) and stays the same while the finding
        is the same one (its officers, kind and start)."""
        key = f"{self.event_id}|{self.officer}|{self.kind}|{self.start.isoformat()}"
        return f"{self.event_id}#{hashlib.sha256(key.encode()).hexdigest()[:8]}"


@dataclass
class Unit_:
    """One required recording: an event and an officer (or a room)."""

    event_id: str
    scenario: str
    officer: str
    unit: str | None
    start: datetime
    end: datetime
    required: float
    covered: float
    findings: list[Finding] = field(default_factory=list)
    footage: list[tuple[int, float, float]] = field(default_factory=list)
    officers: tuple[str, ...] = ()
    """Every officer the recording is required of (an interrogation's interrogators); `officer` is their label."""
    all_findings: list[Finding] = field(default_factory=list)
    """Every finding, before a --kind filter: the summaries count these (a filter narrows the list, not the rates)."""


@dataclass
class Report:
    start: datetime
    end: datetime
    units: list[Unit_]
    names: dict[str, str] = field(default_factory=dict)
    """Officers' names by badge, for display."""
    events: int = 0
    """Events in the period (before the unit, officer and scenario filters)."""
    links: dict[str, Any] | None = None
    """The period's link rate and queues (bodycam.incidents.queues.summary), when the caller adds them."""

    @property
    def warnings(self) -> list[str]:
        """What makes an empty report not a clean one."""
        if self.events == 0:
            return ["no required-recording events were imported for this period: nothing was checked "
                    "(import them with `bodycam events import`)"]
        if not self.units:
            return ["no required recording matches the filters: nothing was checked"]
        return []

    @property
    def findings(self) -> list[Finding]:
        return [f for u in self.units for f in u.findings]

    def summary(self, by: str) -> list[dict[str, Any]]:
        """Per officer, unit or scenario: events, fully covered, activation rate, coverage, findings."""
        groups: dict[str, list[Unit_]] = defaultdict(list)
        for u in self.units:
            keys = u.officers if by == "officer" and u.officers else (str(getattr(u, by) or "-"),)
            for key in keys:  # an interrogation counts for each of its interrogators
                groups[key].append(u)
        rows = []
        for key in sorted(groups):
            us = groups[key]
            required = sum(u.required for u in us)
            covered = sum(u.covered for u in us)
            kinds: dict[str, int] = defaultdict(int)
            for u in us:
                for f in u.all_findings:
                    kinds[f.kind] += 1
            with_footage = sum(1 for u in us if u.covered > 0)
            reviewed = sum(1 for u in us for f in u.all_findings if f.review)
            total = sum(len(u.all_findings) for u in us)
            passed = sum(1 for u in us if all(f.review and f.review != "violation" for f in u.all_findings))
            rows.append({
                by: key, **({"name": self.names.get(key, "")} if by == "officer" else {}),
                "events": len(us), "fully_covered": sum(1 for u in us if not u.all_findings),
                "with_footage": with_footage, "activation_rate": round(with_footage / len(us), 4),
                "required_seconds": round(required, 1), "covered_seconds": round(covered, 1),
                "coverage": round(covered / required, 4) if required else 1.0, "findings": dict(sorted(kinds.items())),
                "reviewed": reviewed, "unreviewed": total - reviewed,
                "violations": sum(1 for u in us for f in u.all_findings if f.review == "violation"),
                "passed": passed, "pass_rate": round(passed / len(us), 4),
            })
        return rows


def _ts(t: datetime) -> float:
    return t.timestamp()


def _dt(x: float) -> datetime:
    return datetime.fromtimestamp(x, UTC)


class _Ev(NamedTuple):
    id: int
    event_id: str
    scenario: str
    start: datetime
    end: datetime
    unit_id: int | None


class _ClipRow(NamedTuple):
    start: float
    end: float
    id: int
    uploaded: float
    bad: str | None
    discontinuities: list[Any]
    pending: str | None = None  # analysis_pending or analysis_failed: its pictures are not checked
    """Its picture analysis has not run yet: black, frozen or jumping pictures are not checked."""
    audio: bool = False
    """Sound only, no pictures."""


def _epoch(column: Any, dialect: str) -> Any:
    """Seconds since 1970 computed by the database: a million clips load as floats,
    without building two million datetime objects. (Clips with discontinuities carry
    the ``discontinuity`` flag, so only their JSON is loaded.)"""
    if dialect == "postgresql":
        return func.round(func.extract("epoch", column), 3)
    # rounded to the millisecond: julianday arithmetic is off by microseconds at boundaries
    return func.round((func.julianday(column) - 2440587.5) * 86400.0, 3)


class _Index:
    """Clips by owner (officer or device), sorted by start, for quick overlap look-ups."""

    def __init__(self) -> None:
        self.rows: dict[int, list[_ClipRow]] = defaultdict(list)
        self.starts: dict[int, list[float]] = {}

    def add(self, owner: int, row: _ClipRow) -> None:
        self.rows[owner].append(row)

    def freeze(self) -> None:
        for owner, rows in self.rows.items():
            rows.sort()  # tuples: by start first
            self.starts[owner] = [r[0] for r in rows]

    def overlapping(self, owner: int, lo: float, hi: float) -> list[_ClipRow]:
        rows = self.rows.get(owner, [])
        if not rows:
            return []
        first = bisect.bisect_left(self.starts[owner], lo - MAX_CLIP.total_seconds())
        last = bisect.bisect_right(self.starts[owner], hi)
        return [r for r in rows[first:last] if r.end >= lo and r.start <= hi]


def _raw_rows(s: Session, query: Any) -> Iterator[tuple[Any, ...]]:
    """Plain DB-API tuples for the one big read: a million clips skip SQLAlchemy's Row
    machinery (parameters still go through the column types' bind processing)."""
    conn = s.connection()
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    processors = compiled._bind_processors
    values = {k: (processors[k](v) if k in processors else v) for k, v in params.items()}
    if compiled.positional:
        args: Any = tuple(values[k] for k in compiled.positiontup or ())
    else:
        args = values
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute(str(compiled), args)
        while batch := cursor.fetchmany(50000):
            yield from batch
    finally:
        cursor.close()


def analyse(s: Session, settings: Settings, start: datetime, end: datetime, *, units: tuple[str, ...] = (),
            officers: tuple[str, ...] = (), scenarios: tuple[str, ...] = (), kinds: tuple[str, ...] = ()) -> Report:
    events = [_Ev(*row) for row in s.execute(
        select(Event.id, Event.event_id, Event.scenario, Event.start, Event.end, Event.unit_id)
        .where(Event.start < end, Event.end > start).order_by(Event.start))]
    events_in_period = len(events)
    if scenarios:
        events = [e for e in events if e.scenario in scenarios]
    unit_code = dict(s.execute(select(Unit.id, Unit.code)).all())
    people: dict[int, list[tuple[int, str, str | None]]] = defaultdict(list)
    for event_id, officer_id, badge, unit_id in s.execute(
        select(EventOfficer.event_id, Officer.id, Officer.badge, Officer.unit_id)
        .join(Officer, Officer.id == EventOfficer.officer_id)
    ):
        people[event_id].append((officer_id, badge, unit_code.get(unit_id) if unit_id is not None else None))
    rooms: dict[int, int] = {}
    listed: dict[int, tuple[int, list[str]]] = {}
    for event_pk, session_pk, room, manifest in s.execute(select(
            InterrogationSession.event_id, InterrogationSession.id, InterrogationSession.room_device_id,
            InterrogationSession.manifest)):
        rooms[event_pk] = room
        listed[event_pk] = (session_pk, _listed_names(manifest))

    lo, hi = start - MAX_CLIP, end + MAX_CLIP
    flags: dict[int, str] = {}
    for clip_id, flag in s.execute(select(ClipFlag.clip_id, ClipFlag.flag).where(ClipFlag.flag.in_(UNREADABLE))):
        flags[clip_id] = flag
    pending = dict(s.execute(select(ClipFlag.clip_id, ClipFlag.flag).where(ClipFlag.flag.in_((PENDING, FAILED)))).all())
    audio = set(s.scalars(select(ClipFlag.clip_id).where(ClipFlag.flag == AUDIO_ONLY)))
    broken = select(ClipFlag.clip_id).where(ClipFlag.flag == "discontinuity")
    breaks: dict[int, list[Any]] = {
        cid: disc for cid, disc in s.execute(select(Clip.id, Clip.discontinuities).where(Clip.id.in_(broken)))
    }
    dialect = s.get_bind().dialect.name
    room_devices = _room_devices(s, set(rooms.values()))
    in_car = crews.of_devices(s, between=(lo, hi))
    by_officer, by_device = _Index(), _Index()
    no_breaks: list[Any] = []
    query = (select(Clip.id, Clip.officer_id, Clip.device_id, _epoch(Clip.recorded_start, dialect),
                    _epoch(Clip.recorded_end, dialect), _epoch(Clip.uploaded_at, dialect))
             .where(Clip.recorded_start < hi, Clip.recorded_end > lo))
    for cid, oid, did, cs, ce, up in _raw_rows(s, query):
        row = _ClipRow(float(cs), float(ce), cid, float(up), flags.get(cid), breaks.get(cid, no_breaks),
                       pending.get(cid), cid in audio)
        if oid is not None:
            by_officer.add(oid, row)
        if did in in_car:  # a car's camera: the footage of everyone on board
            for shift in crews.on_board(in_car[did], datetime.fromtimestamp(float(cs), UTC)):
                if shift.officer_id != oid:
                    by_officer.add(shift.officer_id, row)
        if did in room_devices:  # a room's recorder and its fixed cameras: one room's footage
            by_device.add(room_devices[did], row)
    by_officer.freeze()
    by_device.freeze()
    session_names: dict[int, set[str]] = defaultdict(set)
    for session_pk, name in s.execute(select(Clip.session_id, Clip.source_name).where(Clip.session_id.is_not(None))):
        if session_pk is not None:
            session_names[session_pk].add(name)

    deadline = timedelta(hours=settings.ingest.upload_deadline_hours)
    result: list[Unit_] = []
    for ev in events:
        tol = settings.coverage.for_scenario(ev.scenario)
        event_unit = unit_code.get(ev.unit_id) if ev.unit_id is not None else None
        if ev.scenario == "interrogation" and ev.id in rooms:
            team = tuple(sorted(b for _, b, _ in people.get(ev.id, [])))
            unit = event_unit or next((u for _, _, u in people.get(ev.id, []) if u), None)
            owners = [(by_device, rooms[ev.id], team, unit)]
        else:  # the event's unit first: the finding belongs to the unit that had the event
            owners = [(by_officer, oid, (badge,), event_unit or unit) for oid, badge, unit in people.get(ev.id, [])]
        for index, owner, team, unit in owners:
            if officers and not set(officers) & set(team):
                continue
            if units and unit not in units:
                continue
            u = _cover(ev, index.overlapping(owner, _ts(ev.start), _ts(ev.end)), ", ".join(team) or "-", unit,
                       tol, deadline)
            u.officers = team
            if ev.id in listed:
                _missing_files(u, ev, *listed[ev.id], session_names)
            u.all_findings = list(u.findings)
            if kinds:
                u.findings = [f for f in u.findings if f.kind in kinds]
            result.append(u)
    _attach_reviews(s, result)
    names = {badge: name for badge, name in s.execute(
        select(Officer.badge, Officer.name).where(Officer.badge.in_({b for u in result for b in u.officers})))
        if name}
    return Report(start, end, result, names, events_in_period)


def _room_devices(s: Session, ids: set[int]) -> dict[int, int]:
    """Every device of the rooms of these recorders (the recorder, and the fixed cameras of a case-handling
    area registered with the same `room`) -> its room's recorder: an event in a room is covered by all."""
    if not ids:
        return {}
    names = {did: room for did, room in s.execute(select(Device.id, Device.room).where(Device.id.in_(ids))) if room}
    devices = {did: did for did in ids}
    by_name = {room: did for did, room in names.items()}
    for did, room in s.execute(select(Device.id, Device.room).where(Device.kind == DeviceKind.FIXED_CAMERA,
                                                                    Device.room.in_(by_name))):
        devices[did] = by_name[str(room)]
    return devices


def _attach_reviews(s: Session, units: list[Unit_]) -> None:
    """Each finding's newest verdict (reviews are append-only; a later one supersedes)."""
    newest: dict[str, tuple[str, str]] = {}
    events = sorted({u.event_id for u in units if u.all_findings})
    for chunk in (events[i:i + 1000] for i in range(0, len(events), 1000)):
        for fid, result, by in s.execute(select(FindingReview.finding_id, FindingReview.result,
                                                FindingReview.reviewed_by)
                                         .where(FindingReview.event_id.in_(chunk)).order_by(FindingReview.id)):
            newest[fid] = (result, by)
    if not newest:
        return
    def verdict(f: Finding) -> Finding:
        return replace(f, review=newest[f.id][0], reviewed_by=newest[f.id][1]) if f.id in newest else f

    for u in units:
        u.all_findings = [verdict(f) for f in u.all_findings]
        u.findings = [verdict(f) for f in u.findings]


def _listed_names(manifest: Any) -> list[str]:
    files = manifest.get("files", []) if isinstance(manifest, dict) else []
    return [f if isinstance(f, str) else str(f.get("name", "")) for f in files if isinstance(f, str | dict)]


def _missing_files(u: Unit_, ev: _Ev, session_pk: int, names: list[str], stored: dict[int, set[str]]) -> None:
    """Files the session's manifest lists that bodycam never received: named, not just a shorter coverage."""
    missing = [n for n in names if n not in stored.get(session_pk, set())]
    if missing:
        u.findings.append(Finding(ev.event_id, ev.scenario, u.officer, u.unit, "missing_file", ev.start, ev.end, 0.0,
                                  (), f"listed in session.json, never received: {', '.join(missing)}"))


def _cover(ev: _Ev, clips: list[_ClipRow], who: str, unit: str | None, tol: Any, deadline: timedelta) -> Unit_:
    es, ee = _ts(ev.start), _ts(ev.end)
    counted = [c for c in clips if tol.audio_only_counts or not c.audio]
    covered = within([(c.start, c.end) for c in counted], (es, ee))
    u = Unit_(ev.event_id, ev.scenario, who, unit, ev.start, ev.end, ee - es, length(covered),
              footage=[(c.id, c.start, c.end) for c in clips])

    def add(kind: str, a: float, b: float, ids: list[int] | tuple[int, ...] = (), detail: str = "") -> None:
        u.findings.append(Finding(ev.event_id, ev.scenario, who, unit, kind, _dt(a), _dt(b), round(b - a, 3),
                                  tuple(ids), detail))

    if not covered:
        add("no_footage", es, ee)
    else:
        first, last = covered[0][0], covered[-1][1]
        if first - es > tol.start_seconds:
            add("late_start", es, first, [c.id for c in counted if c.start == first])
        if ee - last > tol.end_seconds:
            add("early_stop", last, ee, [c.id for c in counted if c.end == last])
        for a, b in holes((es, ee), covered):
            if a > es and b < ee and b - a > tol.gap_seconds:
                add("interrupted", a, b, [c.id for c in counted if c.end == a or c.start == b])
    limit = ev.end + deadline
    late = [c for c in clips if c.uploaded > limit.timestamp()]
    if late:
        add("late_upload", es, ee, [c.id for c in late],
            f"uploaded after {limit.isoformat()} ({deadline.total_seconds() / 3600:g} h after the event)")
    sound = [c for c in clips if c.audio]
    if sound:
        add(AUDIO_ONLY, es, ee, [c.id for c in sound],
            f"sound only, no pictures: {'counted' if tol.audio_only_counts else 'not counted'} as coverage "
            f"(audio_only_counts of {ev.scenario})")
    bad = [c for c in clips if c.bad]
    if bad:
        add("unreadable", es, ee, [c.id for c in bad], ", ".join(sorted({c.bad or "" for c in bad})))
    for kind, why in ((PENDING, "picture analysis not done yet"), (FAILED, "picture analysis failed")):
        waiting = [c for c in clips if c.pending == kind]
        if waiting:
            add(kind, es, ee, [c.id for c in waiting], f"{why}: black, frozen or jumping pictures not checked")
    any_counts = ev.scenario == "interrogation"  # an interrogation must have none at all
    for c in clips:
        for d in c.discontinuities:
            at, seconds = c.start + float(d.get("at", 0)), float(d.get("seconds", 0))
            a, b = max(es, at), min(ee, at + seconds)
            if b > a and (any_counts or seconds > tol.gap_seconds):
                add("discontinuity", a, b, [c.id], f"{d.get('kind', '')} for {seconds:g} s inside the file")
    return u
