"""Register an interrogation session (an event with its room recorder) from its manifest."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bodycam.audit import chain
from bodycam.db.models import Case, Event, EventOfficer, InterrogationSession
from bodycam.errors import InputError
from bodycam.index.registry import device_by_serial, officer_by_badge
from bodycam.ingest.discover import MANIFEST
from bodycam.ingest.manifest import Manifest, read_manifest
from bodycam.ingest.pipeline import Context, SessionLink
from bodycam.timeutil import utcnow


def session_links(ctx: Context, folder: Path) -> tuple[dict[str, SessionLink], SessionLink, str | None]:
    """(link per listed file name, link for unlisted files, manifest error)."""
    try:
        manifest = read_manifest(folder / MANIFEST, ctx.zone)
    except InputError as exc:
        error = str(exc) if (folder / MANIFEST).exists() else f"{folder}: no {MANIFEST}"
        fallback = SessionLink(None, folder.name, None, False, error)
        return {}, fallback, error
    pk = register(ctx, manifest)
    links = {f.name: SessionLink(pk, manifest.room, f.start, True) for f in manifest.files}
    return links, SessionLink(pk, manifest.room, None, False), None


def register(ctx: Context, m: Manifest) -> int:
    """Create the session's event, officers and recorder once; a re-run changes nothing."""
    with ctx.db.write() as s:
        existing = s.scalar(select(InterrogationSession).where(InterrogationSession.session_id == m.session_id))
        if existing is not None:
            return existing.id
        room = device_by_serial(s, m.room, "interrogation_recorder")
        case_id = None
        if m.case_id:
            case = s.scalar(select(Case).where(Case.number == m.case_id))
            if case is None:
                case = Case(number=m.case_id, title="registered from an interrogation manifest",
                            status="open", opened_at=m.start)
                s.add(case)
                s.flush()
            case_id = case.id
        event = s.scalar(select(Event).where(Event.event_id == m.session_id))
        if event is None:
            event = Event(event_id=m.session_id, scenario="interrogation", start=m.start, end=m.end,
                          unit_id=room.unit_id, case_id=case_id, location=room.room or m.room, source="manifest")
            s.add(event)
            s.flush()
        for badge in m.interrogators:
            officer = officer_by_badge(s, badge)
            if s.get(EventOfficer, (event.id, officer.id)) is None:
                s.add(EventOfficer(event_id=event.id, officer_id=officer.id))
        present = {p.name for p in m.path.parent.iterdir()}
        missing = [f.name for f in m.files if f.name not in present]
        record = dict(m.raw)
        record["missing_files"] = missing
        session = InterrogationSession(event_id=event.id, session_id=m.session_id, room_device_id=room.id,
                                       manifest=record)
        s.add(session)
        s.flush()
        chain.record(s, ctx.actor, "session.register", f"session:{m.session_id}", {
            "room": m.room, "start": m.start.isoformat(), "end": m.end.isoformat(),
            "interrogators": list(m.interrogators), "files": [f.name for f in m.files],
            "missing_files": missing, "case": m.case_id, "registered_at": utcnow().isoformat(),
        })
        return session.id
