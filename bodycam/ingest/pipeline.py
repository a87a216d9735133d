"""One source file through the pipeline:

claim → probe → one read that hashes (SHA-256, MD5) while streaming into the
store under a COMPLIANCE lock → index row, flags and audit event in one
transaction → verify the stored object → release the source per policy.

Crash safety comes from the order: the source is touched only after its
object is stored, verified and its row committed; an attempt that dies
mid-way is taken over on the next pass, and any version it left is recorded
as abandoned on its ingest item, never lost from view.
"""

from __future__ import annotations

import io
import logging
import os
import re
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, cast

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from bodycam import faults
from bodycam.analysis import jobs
from bodycam.audit import chain
from bodycam.clock import Clock, SystemClock
from bodycam.config import Settings
from bodycam.db.engine import Database
from bodycam.db.models import Attachment, Case, CaseClip, Clip, ClipCorrection, ClipFlag, ClipSighting, IngestItem
from bodycam.errors import BodycamError, DatabaseUnreachable, IntegrityError, PermissionDenied, StoreUnreachable
from bodycam.index.registry import device_by_serial, holders, officer_by_badge
from bodycam.ingest.claims import Claim, ClaimLost, claim, give_back, heartbeat, source_key, still_ours
from bodycam.ingest.discover import SourceFile
from bodycam.ingest.naming import parse_name
from bodycam.ingest.probe import MediaFacts, probe, probe_isolated
from bodycam.ingest.recording import Recording, Sidecar, read_sidecar, resolve
from bodycam.ingest.release import move_no_clobber
from bodycam.ingest.timecheck import UNTRUSTED, judge
from bodycam.kinds import IMPORTANT
from bodycam.names import is_plain, raw_hex, shown
from bodycam.retention.policy import initial_lock
from bodycam.store import ObjectStore
from bodycam.store.base import LOCK_PRECISION

log = logging.getLogger(__name__)

AUDIO_ONLY = "audio_only"
"""A recording with sound and no pictures (WAV, M4A): marked; coverage counts it per scenario's setting."""

OUTCOMES = ("ingested", "flagged", "duplicate", "done", "busy", "failed")


@dataclass(frozen=True)
class SessionLink:
    """Where an interrogation file belongs: its session row and room recorder."""

    session_pk: int | None
    room: str
    start: datetime | None
    in_manifest: bool
    manifest_error: str | None = None
    case: str | None = None
    """The manifest's case: the session's files are linked to it as evidence."""


@dataclass
class Context:
    db: Database
    store: ObjectStore
    settings: Settings
    actor: str
    worker: str
    host: str
    release: str
    move_to: Path | None
    pattern: str | None
    zone: tzinfo
    clock: Clock = field(default_factory=SystemClock)
    retries: int = 3
    backoff: float = 1.0
    should_stop: Callable[[], bool] = field(default=lambda: False)
    """Checked between chunks of an upload: a stop request abandons the file mid-upload, untouched at
    its source, so that a multi-gigabyte file does not hold a service stop for minutes."""


@dataclass
class Result:
    path: Path
    outcome: str
    size: int = 0
    clip_id: int | None = None
    sha256: str | None = None
    flags: list[str] = field(default_factory=list)
    error: str | None = None
    released: bool = False


class Stopped(Exception):
    """A stop was asked for while this file was being uploaded: the upload is abandoned (nothing
    indexed, the source untouched) and the file is left for the next pass. Control flow, not an error."""


class _Hashing:
    """The source stream; counts what was read, renews the claim now and then, and gives up
    between chunks once a stop is asked for."""

    def __init__(self, fh: io.BufferedReader, beat: Any, should_stop: Callable[[], bool]) -> None:
        self.fh, self.beat, self.read_bytes, self._last = fh, beat, 0, time.monotonic()
        self.should_stop = should_stop

    def read(self, n: int = -1) -> bytes:
        data = self.fh.read(n)
        self._tick(len(data))
        return data

    def readinto(self, buf: bytearray) -> int:
        n = self.fh.readinto(buf)
        self._tick(n)
        return n

    def _tick(self, n: int) -> None:
        if self.should_stop():
            raise Stopped(f"stopped after {self.read_bytes} bytes")
        self.read_bytes += n
        if time.monotonic() - self._last > 60:
            self._last = time.monotonic()
            self.beat()
        faults.point("mid_upload")


def _safe(name: str) -> str:
    return re.sub(r"[\x00-\x1f/\\]", "_", name) or "_"


def store_key(item_id: int, device: str | None, name: str, when: datetime) -> str:
    return f"clips/{when:%Y/%m/%d}/{_safe(device or 'unknown')}/{item_id:010d}/{_safe(name)}"


def ingest_file(ctx: Context, sf: SourceFile, kind: str, session: SessionLink | None = None) -> Result:
    """Ingest one file, retrying with backoff while the store or database is unreachable."""
    delay = ctx.backoff
    for attempt in range(ctx.retries + 1):
        try:
            return _ingest_once(ctx, sf, kind, session)
        except ClaimLost as exc:  # another worker has it now: it finishes the file, this one stops
            log.warning("%s: %s; left to that worker", shown(sf.path), exc, extra={"file": shown(sf.path)})
            return Result(sf.path, "busy", sf.size)
        except Stopped as exc:
            log.info("%s: %s; left for the next pass", shown(sf.path), exc, extra={"file": shown(sf.path)})
            _give_back(ctx, sf)
            return Result(sf.path, "pending", sf.size)
        except (StoreUnreachable, DatabaseUnreachable) as exc:
            if attempt == ctx.retries:
                return _fail(ctx, sf, str(exc), record=isinstance(exc, StoreUnreachable))
            time.sleep(delay)
            delay *= 2
        except BodycamError as exc:
            return _fail(ctx, sf, str(exc))
        except OSError as exc:
            return _fail(ctx, sf, f"{shown(sf.path)}: {exc.strerror or exc}")
    raise AssertionError("unreachable")


def _give_back(ctx: Context, sf: SourceFile) -> None:
    """Let the next pass, here or on another host, take the file at once rather than after the lease."""
    try:
        give_back(ctx.db, source_key(ctx.host, sf), ctx.worker)
    except BodycamError as exc:  # the lease then lapses on its own
        log.warning("%s: claim not given back: %s", shown(sf.path), exc, extra={"file": shown(sf.path)})


def _fail(ctx: Context, sf: SourceFile, error: str, record: bool = True) -> Result:
    """Note the failure on the item (if the database answers); the source stays untouched."""
    error = shown(error)
    if record:
        try:
            with ctx.db.write() as s:
                item = s.scalar(select(IngestItem).where(IngestItem.source_key == source_key(ctx.host, sf)))
                if item is not None and item.state not in ("indexed", "released"):
                    item.state, item.last_error, item.updated_at = "failed", error[:2000], ctx.clock.now()
        except BodycamError:
            pass
    return Result(sf.path, "failed", sf.size, error=error)


def _ingest_once(ctx: Context, sf: SourceFile, kind: str, session: SessionLink | None) -> Result:
    got = claim(ctx.db, ctx.host, ctx.worker, sf)
    if got == "done":
        return _finish_done(ctx, sf)
    if isinstance(got, str):
        return Result(sf.path, got, sf.size)
    faults.point("after_claim")
    return _run_claimed(ctx, sf, kind, session, got)


def _finish_done(ctx: Context, sf: SourceFile) -> Result:
    """Indexed in an earlier pass (perhaps one that died before releasing)."""
    with ctx.db.read() as s:
        item = s.scalar(select(IngestItem).where(IngestItem.source_key == source_key(ctx.host, sf)))
    assert item is not None
    released = False
    if ctx.release != "keep":  # a release committed but not carried out before a crash
        with ctx.db.read() as s:
            sidecar_stored = sf.sidecar is not None and s.scalar(select(Attachment.id).where(
                Attachment.clip_id == item.clip_id, Attachment.role == "sidecar",
                Attachment.name == shown(sf.sidecar.name))) is not None
        released = _release(ctx, sf, item.id, item.clip_id, sidecar_stored)
    return Result(sf.path, "done", sf.size, clip_id=item.clip_id, sha256=item.sha256, released=released)


def _run_claimed(ctx: Context, sf: SourceFile, kind: str, session: SessionLink | None, got: Claim) -> Result:
    reader = probe_isolated if got.resumed else probe  # its last reader may have died on it: not in this process
    media = reader(sf.path) if sf.size else MediaFacts(error="empty file (zero bytes)")
    side = read_sidecar(sf.sidecar)
    now = ctx.clock.now()  # receipt, by our clock: what the floor counts from
    written = datetime.fromtimestamp(sf.mtime_ns / 1e9, UTC)
    rec = resolve(
        sidecar=side,
        name=parse_name(shown(sf.path.name), ctx.pattern, ctx.zone),
        media=media,
        mtime=written,
        camera=session.room if session else sf.camera,
        manifest_start=session.start if session else None,
        zone=ctx.zone,
    )
    if session:  # the room recorder is the device, whatever the name says
        rec = replace(rec, device=session.room)
    untrusted = judge(rec.start, rec.end, rec.time_source, now, written, ctx.settings.ingest)
    if untrusted:
        rec = replace(rec, flags={**rec.flags, UNTRUSTED: untrusted})
    retain = initial_lock(now, rec.end, ctx.settings.retention, time_trusted=untrusted is None)
    with ctx.db.read() as s:
        item = s.get(IngestItem, got.item_id)
        assert item is not None
        key = item.store_key or store_key(item.id, rec.device, shown(sf.path.name), now)
        stored = (item.store_version, item.sha256) if got.state == "stored" else None
    if stored is None:
        put = _upload(ctx, sf, got, key, retain)
        if isinstance(put, _Duplicate):
            return _duplicate(ctx, sf, got, key, put, side, now)
        version, sha, etag = put
    else:
        version, sha = stored[0] or "", stored[1] or ""
        etag = ""
    _verify_stored(ctx, sf, key, version, sha, retain)
    sidecar = _store_sidecar(ctx, got, key, sf, side, retain)
    faults.point("before_index")
    clip_id, outcome, flags = _index(ctx, sf, got.item_id, kind, session, rec, media, key, version, sha, etag, now,
                                     retain, sidecar)
    faults.point("after_index")
    held = (session is not None and session.case and session.in_manifest) or IMPORTANT in flags
    if held and outcome != "duplicate":
        _hold_evidence(ctx, clip_id)
    released = _release(ctx, sf, got.item_id, clip_id, sidecar is not None) if ctx.release != "keep" else False
    return Result(sf.path, outcome, sf.size, clip_id, sha, flags, released=released)


def _link_to_case(s: Session, ctx: Context, clip_id: int, number: str, now: datetime) -> None:
    """A file listed in a session's manifest is evidence in the manifest's case (registered with the session)."""
    case = s.scalar(select(Case).where(Case.number == number))
    if case is None:
        return
    reason = "listed in the interrogation manifest of its case"
    s.add(CaseClip(case_id=case.id, clip_id=clip_id, linked_at=now, linked_by=ctx.actor, reason=reason))
    chain.record(s, ctx.actor, "case.link", f"clip:{clip_id}", {"case": number, "reason": reason,
                                                                "legal_hold": True})


def _hold_evidence(ctx: Context, clip_id: int) -> None:
    """The store's legal hold on a clip just linked as evidence. An ingest key may not set holds (its
    bucket policy): the link stands, the store's retention lock keeps the object meanwhile, and
    `bodycam check` with the holds key puts the hold on (it reports the difference until then)."""
    from bodycam.index.evidence import set_hold

    with ctx.db.read() as s:
        clip = s.get(Clip, clip_id)
    if clip is None:
        return
    try:
        set_hold(ctx.db, ctx.store, [clip], True)
    except PermissionDenied as exc:
        log.warning("clip %s: evidence (a case link or the important mark); the store's legal hold waits for "
                    "`bodycam check` with the holds key (%s)", clip_id, exc)


@dataclass(frozen=True)
class _Duplicate:
    clip_id: int
    sha256: str


def _note_left_versions(ctx: Context, item_id: int, key: str) -> None:
    """Versions an interrupted attempt left under ``key``: accounted for as abandoned, never lost from view."""
    left = [v for k, v, _ in ctx.store.list(key) if k == key]
    if not left:
        return
    with ctx.db.write() as s:
        item = s.get(IngestItem, item_id)
        assert item is not None
        known = list(item.abandoned or [])
        item.abandoned = known + [{"key": key, "version": v} for v in left
                                  if {"key": key, "version": v} not in known]


def _upload(ctx: Context, sf: SourceFile, got: Claim, key: str, retain: datetime) -> tuple[str, str, str] | _Duplicate:
    if got.resumed:  # an earlier attempt may have left versions under this key
        _note_left_versions(ctx, got.item_id, key)
    with ctx.db.write() as s:
        item = s.get(IngestItem, got.item_id)
        assert item is not None
        item.store_key = key
    fd = os.open(sf.path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise BodycamError(f"{shown(sf.path)}: no longer a regular file; not read")
        if st.st_size != sf.size or st.st_mtime_ns != sf.mtime_ns:
            raise BodycamError(f"{shown(sf.path)}: changed since discovery; will retry when stable")
        reader = _Hashing(cast(io.BufferedReader, fh), lambda: heartbeat(ctx.db, got.item_id, ctx.worker),
                          ctx.should_stop)
        duplicate: list[_Duplicate] = []

        def keep(sha: str) -> bool:
            """Called by the store before the object becomes durable: identical bytes
            already stored, and still kept, mean no second object. Bytes whose clip
            was disposed are new evidence and are stored again."""
            with ctx.db.read() as s:
                existing = _live_clip(s, sha)
            if existing is not None:
                duplicate.append(_Duplicate(existing, sha))
            return existing is None

        res = ctx.store.put(
            key, reader, retain_until=retain, commit=keep,
            metadata={"bodycam-source": shown(sf.path.name).encode("ascii", "backslashreplace").decode()},
        )
    if res is None:
        return duplicate[0]
    faults.point("after_store")
    st2 = os.stat(sf.path, follow_symlinks=False)
    if res.size != sf.size or st2.st_size != sf.size or st2.st_mtime_ns != sf.mtime_ns:
        raise BodycamError(f"{shown(sf.path)}: changed while being stored; version {res.version} kept as abandoned")
    # No commit of its own: the version is recorded with the clip, in the index transaction. A crash before
    # that uploads again; this version is then found under the item's store_key and recorded as abandoned.
    return res.version, res.sha256, res.etag


def _live_clip(s: Any, sha: str) -> int | None:
    """The clip that keeps these bytes now; a clip whose disposal has begun does not,
    and new bytes must wait until it is finished (then they are stored again)."""
    row = s.execute(select(Clip.id, Clip.disposal_started_at).where(Clip.sha256 == sha,
                                                                   Clip.disposed_at.is_(None))).first()
    if row is None:
        return None
    if row.disposal_started_at is not None:
        raise BodycamError(f"clip {row.id} with the same bytes is being disposed; will store these again next pass")
    return int(row.id)


def _verify_stored(ctx: Context, sf: SourceFile, key: str, version: str, sha: str, retain: datetime) -> None:
    """The store holds our bytes under a lock at least as long as the policy asks
    (a resumed attempt may have locked it a little earlier: the lock is extended)."""
    info = ctx.store.stat(key, version)
    if info.size != sf.size:
        raise IntegrityError(f"{key} version {version}: stored size {info.size} != source size {sf.size}")
    if info.sha256 is not None and info.sha256 != sha:
        raise IntegrityError(f"{key} version {version}: stored SHA-256 {info.sha256} != computed {sha}")
    if info.retain_until is None or info.retain_until < retain - LOCK_PRECISION:
        ctx.store.extend_retention(key, version, retain)


@dataclass(frozen=True)
class _Stored:
    """A sidecar stored beside its media."""

    name: str
    sha256: str
    size: int
    key: str
    version: str
    retain_until: datetime


def _store_sidecar(ctx: Context, got: Claim, media_key: str, sf: SourceFile, side: Sidecar,
                   retain: datetime) -> _Stored | None:
    """Store the sidecar's bytes as read (parsed or not: a corrupt one is evidence
    too) under the media's lock; None when there is none or it could not be read."""
    if sf.sidecar is None or side.raw is None:
        return None
    key = media_key.rsplit("/", 1)[0] + "/" + _safe(shown(sf.sidecar.name))
    if got.resumed:
        _note_left_versions(ctx, got.item_id, key)
    res = ctx.store.put(key, io.BytesIO(side.raw), retain_until=retain,
                        metadata={"bodycam-role": "sidecar"})
    assert res is not None
    info = ctx.store.stat(key, res.version)
    if info.size != len(side.raw) or (info.sha256 is not None and info.sha256 != res.sha256):
        raise IntegrityError(f"{key} version {res.version}: the stored sidecar does not match what was read")
    return _Stored(shown(sf.sidecar.name), res.sha256, res.size, key, res.version, retain)


def _attach(s: Any, clip_id: int, stored: _Stored | None, now: datetime) -> None:
    if stored is not None:
        s.add(Attachment(clip_id=clip_id, role="sidecar", name=stored.name, sha256=stored.sha256, size=stored.size,
                         store_key=stored.key, store_version=stored.version, uploaded_at=now,
                         retain_until=stored.retain_until))


def _flags_for(ctx: Context, sf: SourceFile, rec: Recording, media: MediaFacts, session: SessionLink | None,
               uploaded: datetime) -> dict[str, str]:
    flags = dict(rec.flags)
    if sf.size == 0:
        flags["empty"] = "zero-byte file"
    elif media.error:
        flags["unreadable"] = media.error
    elif media.audio_codec and not media.video_codec:
        flags[AUDIO_ONLY] = f"sound only ({media.audio_codec}), no pictures"
    deadline = timedelta(hours=ctx.settings.ingest.upload_deadline_hours)
    if UNTRUSTED not in flags and uploaded - rec.end > deadline:  # an untrusted time says nothing of lateness
        hours = (uploaded - rec.end).total_seconds() / 3600
        limit = ctx.settings.ingest.upload_deadline_hours
        flags["late_upload"] = f"uploaded {hours:.1f} h after the recording ended (deadline {limit:g} h)"
    if session is not None:
        if not session.in_manifest:
            flags["not_in_manifest"] = "file in the session folder but not listed in session.json"
        if session.manifest_error:
            flags["bad_manifest"] = session.manifest_error
    return flags


def _index(ctx: Context, sf: SourceFile, item_id: int, kind: str, session: SessionLink | None, rec: Recording,
           media: MediaFacts, key: str, version: str, sha: str, etag: str, now: datetime, retain: datetime,
           sidecar: _Stored | None) -> tuple[int, str, list[str]]:
    analyse = bool(media.video_codec) and not media.error  # the decode runs behind release (analysis jobs)
    flags = _flags_for(ctx, sf, rec, media, session, now)
    with ctx.db.write() as s:
        if ctx.db.dialect == "postgresql":  # two workers with identical bytes: one indexes, one records a sighting
            s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": int(sha[:15], 16)})
        existing = _live_clip(s, sha)
        item = s.get(IngestItem, item_id, with_for_update=True)
        assert item is not None
        still_ours(item, ctx.worker)
        item.sha256, item.store_version = sha, version
        if existing is not None:  # raced with another worker holding identical bytes
            s.add(ClipSighting(clip_id=existing, source_path=shown(sf.path), source_host=ctx.host, seen_at=now))
            item.abandoned = [*(item.abandoned or []), {"key": key, "version": version, "why": "duplicate"}]
            item.state, item.clip_id, item.outcome, item.updated_at = "indexed", existing, "duplicate", now
            _attach(s, existing, sidecar, now)
            chain.record(s, ctx.actor, "clip.sighting", f"clip:{existing}",
                         {"sha256": sha, "source": shown(sf.path), "host": ctx.host})
            return existing, "duplicate", []
        disposed = s.execute(select(Clip.id, Clip.disposed_at).where(Clip.sha256 == sha)
                             .order_by(Clip.id.desc()).limit(1)).first()
        if disposed is not None:
            flags["stored_again"] = (f"the same bytes as clip {disposed.id}, disposed {disposed.disposed_at}, "
                                     "were docked again: stored as new evidence")
        device = device_by_serial(s, rec.device, "interrogation_recorder" if kind == "interrogation"
                                  else "body_camera") if rec.device else None
        named = officer_by_badge(s, rec.officer) if rec.officer else None
        had = holders(s, device.id, rec.start) if device else []
        assigned = had[0] if had else None
        if named and assigned and named.id not in {o.id for o in had}:  # a car's crew member names themself
            flags["officer_conflict"] = f"file names {named.badge}, assignment says {assigned.badge}"
        officer = named or assigned
        info = media.as_dict()
        if not is_plain(sf.path.name):
            info["source_name_bytes_hex"] = raw_hex(sf.path.name)
        if rec.segment is not None:
            info["segment"] = {"recording": rec.segment[0], "seq": rec.segment[1]}
        side = read_sidecar(sf.sidecar).data if sf.sidecar else None
        if side:
            info["sidecar"] = side
        clip = Clip(
            sha256=sha, size=sf.size, store_key=key, store_version=version, etag=etag, kind=kind,
            device_id=device.id if device else None, officer_id=officer.id if officer else None,
            device_serial=rec.device or "", officer_badge=officer.badge if officer else "",
            officer_source="named" if named else "assignment" if assigned else "",
            recorded_start=rec.start, recorded_end=rec.end, time_source=rec.time_source,
            duration_seconds=media.duration, media=info, discontinuities=[], probe_error=media.error,
            source_name=shown(sf.path.name), source_path=shown(sf.path), source_host=ctx.host,
            session_id=session.session_pk if session else None, uploaded_at=now, retain_until=retain,
        )
        s.add(clip)
        s.flush()
        _attach(s, clip.id, sidecar, now)
        if rec.camera_start is not None:
            s.add(ClipCorrection(
                clip_id=clip.id, field="recorded_start", old_value=rec.camera_start.isoformat(),
                new_value=rec.start.isoformat(), source="dock", actor=ctx.actor, at=now,
                reason=f"the dock measured the camera's clock {rec.clock_offset:+g} s off at docking"))
        for flag, detail in sorted(flags.items()):
            s.add(ClipFlag(clip_id=clip.id, flag=flag, detail=shown(detail), created_at=now))
        if session is not None and session.case and session.in_manifest:
            _link_to_case(s, ctx, clip.id, session.case, now)
        if analyse:
            jobs.enqueue(s, clip.id, now)
        outcome = "flagged" if flags else "ingested"
        item.state, item.clip_id, item.outcome, item.last_error = "indexed", clip.id, outcome, None
        item.updated_at = now
        chain.record(s, ctx.actor, "clip.ingest", f"clip:{clip.id}", {
            "sha256": sha, "size": sf.size, "key": key, "version": version, "source": shown(sf.path),
            "host": ctx.host, "flags": sorted(flags), "recorded_start": rec.start.isoformat(),
            "time_source": rec.time_source, "retain_until": retain.isoformat(), "analysis": analyse,
            **({"sidecar": {"sha256": sidecar.sha256, "key": sidecar.key, "version": sidecar.version}}
               if sidecar else {}),
            **({"camera_start": rec.camera_start.isoformat(), "clock_offset_seconds": rec.clock_offset}
               if rec.camera_start else {}),
            **({"stored_again_of": disposed.id} if disposed is not None else {}),
        })
        return clip.id, outcome, sorted(flags)


def _duplicate(ctx: Context, sf: SourceFile, got: Claim, media_key: str, dup: _Duplicate, side: Sidecar,
               now: datetime) -> Result:
    """Bytes already stored and kept: no second object, a sighting instead, then
    release. Receiving them again counts as receipt: the kept clip's lock is
    extended to the floor from now, in the store first, before the source goes."""
    until = initial_lock(now, None, ctx.settings.retention, time_trusted=False)
    with ctx.db.read() as s:
        clip = s.get(Clip, dup.clip_id)
        assert clip is not None
    if clip.retain_until < until:
        ctx.store.extend_retention(clip.store_key, clip.store_version, until)
    sidecar = _store_sidecar(ctx, got, media_key, sf, side, max(until, clip.retain_until))
    with ctx.db.write() as s:
        item = s.get(IngestItem, got.item_id)
        assert item is not None
        kept = s.get(Clip, dup.clip_id)
        assert kept is not None
        extended = kept.retain_until < until
        if extended:
            kept.retain_until = until
        s.add(ClipSighting(clip_id=dup.clip_id, source_path=shown(sf.path), source_host=ctx.host, seen_at=now))
        _attach(s, dup.clip_id, sidecar, now)
        item.state, item.clip_id, item.sha256, item.outcome, item.updated_at = (
            "indexed", dup.clip_id, dup.sha256, "duplicate", now)
        chain.record(s, ctx.actor, "clip.sighting", f"clip:{dup.clip_id}",
                     {"sha256": dup.sha256, "source": shown(sf.path), "host": ctx.host,
                      **({"retain_until": until.isoformat()} if extended else {})})
    released = _release(ctx, sf, got.item_id, dup.clip_id, sidecar is not None) if ctx.release != "keep" else False
    return Result(sf.path, "duplicate", sf.size, dup.clip_id, dup.sha256, released=released)


def _release(ctx: Context, sf: SourceFile, item_id: int, clip_id: int | None, sidecar_stored: bool) -> bool:
    """Delete or move the source (and its sidecar, once that is stored too), only
    if it is the file we stored; a move never overwrites anything.

    The release is committed and audited first, then carried out: a crash in
    between leaves an indexed file at the source, which the next pass releases.
    """
    try:
        st = os.stat(sf.path, follow_symlinks=False)
    except FileNotFoundError:
        return False
    if st.st_size != sf.size or st.st_mtime_ns != sf.mtime_ns:
        return False
    paths = [sf.path, *([sf.sidecar] if sf.sidecar and sidecar_stored and sf.sidecar.exists() else [])]
    targets: list[Path | None] = [None] * len(paths)
    if ctx.release == "move":
        assert ctx.move_to is not None
        targets = [ctx.move_to / p.relative_to(sf.root.parent) for p in paths]
    with ctx.db.write() as s:
        item = s.get(IngestItem, item_id)
        assert item is not None
        if item.state != "released":
            item.state, item.released_at, item.updated_at = "released", ctx.clock.now(), ctx.clock.now()
            chain.record(s, ctx.actor, "source.release", f"clip:{clip_id}", {
                "policy": ctx.release, "source": shown(sf.path), "host": ctx.host,
                "moved_to": shown(targets[0]) if targets[0] else None,
            })
    faults.point("before_release")
    for path, target in zip(paths, targets, strict=True):
        if target is None:
            path.unlink(missing_ok=True)
        else:
            moved = move_no_clobber(path, target)
            if moved != target:
                with ctx.db.write() as s:
                    chain.record(s, ctx.actor, "source.moved_aside", f"clip:{clip_id}", {
                        "source": shown(path), "wanted": shown(target), "moved_to": shown(moved),
                        "why": "a file of that name was already there; it was left as it was"})
    return True
