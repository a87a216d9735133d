"""Register an interrogation session (an event with its room recorder) from its manifest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.db.models import Attachment, Case, Clip, Device, Event, EventOfficer, InterrogationSession
from bodycam.errors import InputError
from bodycam.index.registry import officer_by_badge, room_recorder
from bodycam.ingest.discover import MANIFEST
from bodycam.ingest.manifest import Manifest, place_in_order, read_manifest
from bodycam.ingest.pipeline import Context, SessionLink
from bodycam.ingest.probe import probe_isolated
from bodycam.ingest.recording import MAX_SIDECAR, read_regular
from bodycam.timeutil import parse_time


@dataclass(frozen=True)
class Registered:
    pk: int
    recorder: str
    """The serial of the room's registered recorder: the device of every file of the session."""
    case: str | None


@dataclass(frozen=True)
class SessionFolder:
    links: dict[str, SessionLink]
    """A link per listed file name."""
    other: SessionLink
    """The link of files in the folder the manifest does not list."""
    error: str | None = None
    session_id: str | None = None
    missing: tuple[str, ...] = ()
    """Listed files neither in the folder nor stored: never received (so far)."""


def session_folder(ctx: Context, folder: Path) -> SessionFolder:
    """Read, check and register one session folder's manifest."""
    try:
        manifest = read_manifest(folder / MANIFEST, ctx.zone)
        reg = register(ctx, manifest)
    except InputError as exc:
        error = str(exc) if (folder / MANIFEST).exists() else f"{folder}: no {MANIFEST}"
        return SessionFolder({}, SessionLink(None, folder.name, None, False, error), error)
    store_manifest(ctx, reg.pk, manifest.path)
    starts = file_starts(ctx, manifest, folder, reg.pk)
    links = {f.name: SessionLink(reg.pk, reg.recorder, starts[f.name], True, case=reg.case) for f in manifest.files}
    with ctx.db.read() as s:
        stored = set(s.scalars(select(Clip.source_name).where(Clip.session_id == reg.pk)))
    missing = tuple(f.name for f in manifest.files if f.name not in stored and not (folder / f.name).exists())
    return SessionFolder(links, SessionLink(reg.pk, reg.recorder, None, False, case=reg.case), None,
                         manifest.session_id, missing)


def never_received(s: Session, limit: int = 1000) -> list[dict[str, Any]]:
    """Sessions whose manifest lists files no clip of the session came from, newest first."""
    rows = s.execute(select(InterrogationSession.id, InterrogationSession.session_id, InterrogationSession.manifest)
                     .order_by(InterrogationSession.id.desc()).limit(limit)).all()
    names: dict[int, set[str]] = {}
    for sid, name in s.execute(select(Clip.session_id, Clip.source_name)
                               .where(Clip.session_id.in_([r.id for r in rows]))):
        if sid is not None:
            names.setdefault(sid, set()).add(name)
    out = []
    for pk, session_id, manifest in rows:
        files = manifest.get("files", []) if isinstance(manifest, dict) else []
        listed = [f if isinstance(f, str) else str(f.get("name", "")) for f in files if isinstance(f, str | dict)]
        missing = [n for n in listed if n not in names.get(pk, set())]
        if missing:
            out.append({"session": session_id, "missing": missing})
    return out


def file_starts(ctx: Context, m: Manifest, folder: Path, session_pk: int) -> dict[str, datetime | None]:
    """Each listed file's start: its own in the manifest, else placed in listed order from the session's
    start by the files' durations (probed in a child process, or of files already stored)."""
    if all(f.start is not None for f in m.files):
        return {f.name: f.start for f in m.files}
    with ctx.db.read() as s:
        stored = dict(s.execute(select(Clip.source_name, Clip.duration_seconds)
                                .where(Clip.session_id == session_pk)).all())
    durations: list[float | None] = []
    for f in m.files:
        path = folder / f.name
        if f.name in stored:
            durations.append(stored[f.name])
        elif path.is_file() and path.stat().st_size:
            durations.append(probe_isolated(path).duration)  # a poison file kills the child, not the pass
        else:
            durations.append(None)
    placed = place_in_order(m.start, m.end, durations)
    return {f.name: f.start or at for f, at in zip(m.files, placed, strict=True)}


def register(ctx: Context, m: Manifest) -> Registered:
    """Create the session's event, officers and recorder once; a re-run changes nothing."""
    with ctx.db.write() as s:
        existing = s.scalar(select(InterrogationSession).where(InterrogationSession.session_id == m.session_id))
        if existing is not None:
            was = existing.manifest or {}
            if str(was.get("room", "")).strip() != m.room or not _same_time(was.get("start"), m.start, ctx):
                raise InputError(f"{m.path}: key 'session_id': {m.session_id!r} is already the session of room "
                                 f"{was.get('room')!r} starting {was.get('start')!r}: not merged; its files are "
                                 "ingested unlinked and flagged")
            recorder = s.get(Device, existing.room_device_id)
            event_case = s.scalar(select(Case.number).join(Event, Event.case_id == Case.id)
                                  .where(Event.id == existing.event_id))
            return Registered(existing.id, recorder.serial if recorder else m.room, event_case)
        room = room_recorder(s, m.room)
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
            "room": m.room, "recorder": room.serial, "start": m.start.isoformat(), "end": m.end.isoformat(),
            "interrogators": list(m.interrogators), "files": [f.name for f in m.files],
            "missing_files": missing, "case": m.case_id, "registered_at": ctx.clock.now().isoformat(),
        })
        return Registered(session.id, room.serial, m.case_id)


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
