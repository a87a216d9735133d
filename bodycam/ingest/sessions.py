"""Register an interrogation session (an event with its room recorder) from its manifest."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bodycam.audit import chain
from bodycam.db.models import Attachment, Case, Event, EventOfficer, InterrogationSession
from bodycam.errors import InputError
from bodycam.index.registry import device_by_serial, officer_by_badge
from bodycam.ingest.discover import MANIFEST
from bodycam.ingest.manifest import Manifest, read_manifest
from bodycam.ingest.pipeline import Context, SessionLink
from bodycam.ingest.recording import MAX_SIDECAR, read_regular
from bodycam.timeutil import parse_time, utcnow


def session_links(ctx: Context, folder: Path) -> tuple[dict[str, SessionLink], SessionLink, str | None]:
    """(link per listed file name, link for unlisted files, manifest error)."""
    try:
        manifest = read_manifest(folder / MANIFEST, ctx.zone)
        pk = register(ctx, manifest)
    except InputError as exc:
        error = str(exc) if (folder / MANIFEST).exists() else f"{folder}: no {MANIFEST}"
        fallback = SessionLink(None, folder.name, None, False, error)
        return {}, fallback, error
    store_manifest(ctx, pk, manifest.path)
    links = {f.name: SessionLink(pk, manifest.room, f.start, True) for f in manifest.files}
    return links, SessionLink(pk, manifest.room, None, False), None


def register(ctx: Context, m: Manifest) -> int:
    """Create the session's event, officers and recorder once; a re-run changes nothing."""
    with ctx.db.write() as s:
        existing = s.scalar(select(InterrogationSession).where(InterrogationSession.session_id == m.session_id))
        if existing is not None:
            was = existing.manifest or {}
            if str(was.get("room", "")).strip() != m.room or not _same_time(was.get("start"), m.start, ctx):
                raise InputError(f"{m.path}: key 'session_id': {m.session_id!r} is already the session of room "
                                 f"{was.get('room')!r} starting {was.get('start')!r}: not merged; its files are "
                                 "ingested unlinked and flagged")
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


def _same_time(raw: object, when: object, ctx: Context) -> bool:
    try:
        return isinstance(raw, str) and parse_time(raw, ctx.zone) == when
    except InputError:
        return False


def store_manifest(ctx: Context, session_pk: int, path: Path) -> None:
    """Keep the manifest's bytes as evidence beside the session's media, once per
    distinct content (a recorder that rewrites it leaves every version stored)."""
    import hashlib
    import io

    from bodycam.retention.policy import initial_lock

    raw = read_regular(path, MAX_SIDECAR)
    sha = hashlib.sha256(raw).hexdigest()
    with ctx.db.read() as s:
        known = s.scalar(select(Attachment.id).where(Attachment.session_id == session_pk, Attachment.sha256 == sha))
    if known is not None:
        return
    now = ctx.clock.now()
    retain = initial_lock(now, None, ctx.settings.retention, time_trusted=False)
    key = f"sessions/{session_pk:010d}/{sha[:16]}/{MANIFEST}"
    res = ctx.store.put(key, io.BytesIO(raw), retain_until=retain, sha256=sha, metadata={"bodycam-role": "manifest"})
    assert res is not None
    with ctx.db.write() as s:
        s.add(Attachment(session_id=session_pk, role="manifest", name=MANIFEST, sha256=sha, size=len(raw),
                         store_key=key, store_version=res.version, uploaded_at=now, retain_until=retain))
        chain.record(s, ctx.actor, "session.manifest_stored", f"session:{session_pk}", {
            "sha256": sha, "size": len(raw), "key": key, "version": res.version, "source": str(path)})
