"""Build a fresh embedded instance, fill it with the synthetic unit, ingest it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bodycam.analysis import jobs
from bodycam.app import App
from bodycam.audit import chain
from bodycam.config import load_settings
from bodycam.coverage import review
from bodycam.coverage.engine import Report, analyse
from bodycam.db.models import (
    ClipFlag,
    CrewShift,
    DeviceAssignment,
    Incident,
    IncidentLink,
    InterrogationSession,
    Unit,
)
from bodycam.db.schema import upgrade
from bodycam.db.upsert import get_or_create
from bodycam.demo import synth
from bodycam.incidents import queues
from bodycam.incidents.imports import import_file
from bodycam.index.imports import run_import
from bodycam.index.queries import ClipFilter, search
from bodycam.index.readiness import Readiness, check_case
from bodycam.index.registry import device_by_serial, officer_by_badge
from bodycam.ingest.runner import Summary, run_pass
from bodycam.ingest.service import make_context
from bodycam.kinds import DeviceKind
from bodycam.timeutil import utcnow


@dataclass
class DemoResult:
    folder: Path
    app: App
    summaries: dict[str, Summary]
    clerk: list[dict[str, Any]]
    flags: list[dict[str, Any]]
    sessions: list[dict[str, Any]]
    audit_events: int
    files: dict[str, Path]
    gaps: Report
    incidents: list[dict[str, Any]]
    links: list[dict[str, Any]]
    queue: queues.Queues
    before: Readiness
    after: Readiness


def run_demo(folder: Path, log: Any) -> DemoResult:
    folder.mkdir(parents=True, exist_ok=False)
    app = App(load_settings(cli={
        "database.url": f"sqlite:///{folder / 'bodycam.db'}", "store.url": f"file://{folder / 'objects'}",
        "tz": "Asia/Shanghai", "actor": "demo", "ingest.stable_seconds": 0,
        # the day is yesterday, recorded 09:00-15:00: with the default 24 h deadline it would
        # count as late when the demo runs after 09:00 (Shanghai). 48 h keeps it on time at
        # any hour; P100003's footage, docked three days late, is always late.
        "ingest.upload_deadline_hours": 48,
        # the dispatch system's 警情 export, read as it comes (docs/incidents.md)
        "incidents.preset": "jingqing",
    }))
    log(f"instance: {folder} (SQLite + local write-once folder)")
    upgrade(app.db)
    app.store.ensure()
    app.audit("system.init", "system", {"demo": True})
    day = (utcnow().astimezone(synth.ZONE) - timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    _registries(app, day)
    log("synthesizing a day of footage with ffmpeg ...")
    files = synth.build(folder / "sources", day)
    summaries = {}
    for kind in ("dock", "interrogation"):
        ctx = make_context(app, "keep")
        summaries[kind] = run_pass(ctx, [files[kind]], kind, workers=app.settings.ingest.workers, wait_seconds=0)
        done = summaries[kind]
        log(f"ingest {kind}: {done.seen} files, {done.ingested} stored, {done.duplicates} duplicates, "
            f"{done.flagged} flagged, {done.failed} failed, {done.bytes / 1e6:.1f} MB in {done.seconds:.1f} s")
        analysed = jobs.run(ctx.db, ctx.store, ctx.actor, ctx.worker, ctx.clock)
        log(f"analysis {kind} (after the cameras were released): {analysed.analysed} clip(s), "
            f"{analysed.with_findings} with black, frozen or jumping pictures")
    run_import(app.db, "events", files["events"], app.settings.zone, "demo")
    imported = import_file(app.db, files["cad"], app.settings, "demo", app.clock)
    log(f"dispatch export {files['cad'].name}: {imported.incidents} incident(s), {len(imported.links)} clip(s) "
        "linked by officer and time")
    before, after = _readiness(app, folder, day, log)
    lo, hi = day - timedelta(days=4), day + timedelta(days=1)
    with app.db.read() as s:
        first = analyse(s, app.settings, lo, hi).findings
    reviewed = next((f for f in first if f.kind == "late_start"), first[0] if first else None)
    if reviewed is not None:  # a supervisor's verdict, as the report then shows it
        review.review(app.db, app.settings, reviewed.id, "justified",
                      "started on arrival: the camera was switched on as the officer got out of the car",
                      app.actor, app.clock.now())
        log(f"supervisor reviewed finding {reviewed.id} ({reviewed.kind} of {reviewed.officer}): justified")
    with app.db.read() as s:
        gaps = analyse(s, app.settings, lo, hi)
        clerk = search(s, ClipFilter(officers=("P100001",)))
        flags = [{"clip": f.clip_id, "file": f.clip.source_name, "flag": f.flag, "detail": f.detail}
                 for f in s.scalars(select(ClipFlag).order_by(ClipFlag.flag, ClipFlag.clip_id))]
        sessions = [{"session": x.session_id, "listed": len(x.manifest.get("files", [])),
                     "missing": ", ".join(x.manifest.get("missing_files", [])) or "-"}
                    for x in s.scalars(select(InterrogationSession))]
        audit_events = chain.verify(s).events
        queue = queues.build(s, day, day + timedelta(days=1))
        links = [{"incident": number, "clip": link.clip_id, "reason": link.reason} for link, number in s.execute(
            select(IncidentLink, Incident.incident_id).join(Incident, Incident.id == IncidentLink.incident_id)
            .order_by(Incident.incident_id, IncidentLink.clip_id))]
        incidents = [{"incident": i.incident_id, "type": i.type, "start": i.start,
                      "clips": sum(1 for x in links if x["incident"] == i.incident_id)}
                     for i in s.scalars(select(Incident).order_by(Incident.start))]
    return DemoResult(folder, app, summaries, clerk, flags, sessions, audit_events, files, gaps,
                      incidents, links, queue, before, after)


def _readiness(app: App, folder: Path, day: datetime, log: Any) -> tuple[Readiness, Readiness]:
    """Case XS-2026-0077 before and after its interrogation's second file reaches the recorder's folder."""
    before = check_case(app.db, app.store, app.settings, "XS-2026-0077")
    synth.arrive_late(folder / "sources", day)
    ctx = make_context(app, "keep")
    late = run_pass(ctx, [folder / "sources" / "interrogation"], "interrogation",
                    workers=app.settings.ingest.workers, wait_seconds=0)
    jobs.run(ctx.db, ctx.store, ctx.actor, ctx.worker, ctx.clock)
    log(f"ingest interrogation again: the late file arrived ({late.ingested} stored)")
    return before, check_case(app.db, app.store, app.settings, "XS-2026-0077")


def _registries(app: App, day: datetime) -> None:
    with app.db.write() as s:
        unit = get_or_create(s, Unit, "code", synth.UNIT, name="城关派出所")
        for badge, name in synth.OFFICERS.items():
            officer = officer_by_badge(s, badge)
            officer.name, officer.unit_id = name, unit.id
        for serial, badge in synth.CAMERAS.items():
            cam = device_by_serial(s, serial)
            cam.unit_id, cam.description = unit.id, "body camera"
            s.add(DeviceAssignment(device_id=cam.id, officer_id=officer_by_badge(s, badge).id,
                                   start=day - timedelta(days=30)))
        car = device_by_serial(s, synth.CAR_CAMERA, DeviceKind.IN_CAR)
        car.unit_id, car.vehicle, car.description = unit.id, synth.CAR, "patrol car camera"
        for badge in synth.CREW:  # the car's crew for the day: its camera records for both
            s.add(CrewShift(vehicle=synth.CAR, officer_id=officer_by_badge(s, badge).id,
                            start=day.replace(hour=8), end=day.replace(hour=18)))
        room = device_by_serial(s, synth.ROOM, "interrogation_recorder")
        room.unit_id, room.room = unit.id, "讯问室 1"
        chain.record(s, "demo", "registry.seed", "registry", {"officers": list(synth.OFFICERS),
                                                               "devices": [*synth.CAMERAS, synth.CAR_CAMERA,
                                                                           synth.ROOM],
                                                               "crews": {synth.CAR: list(synth.CREW)}})
