"""Everything known about one clip: metadata, storage, retention, links, custody."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.db.models import (
    Attachment,
    Case,
    CaseClip,
    Clip,
    ClipCorrection,
    ClipFlag,
    ClipSighting,
    Event,
    EventOfficer,
    Hold,
    InterrogationSession,
)
from bodycam.errors import NotFound
from bodycam.index.queries import clip_row, people
from bodycam.kinds import IMPORTANT, IMPORTANT_REVIEWED


def clip_details(s: Session, clip_id: int) -> dict[str, Any]:
    clip = s.get(Clip, clip_id)
    if clip is None:
        raise NotFound(f"clip {clip_id}: not found")
    flags = s.execute(select(ClipFlag.flag, ClipFlag.detail).where(ClipFlag.clip_id == clip.id)
                      .order_by(ClipFlag.flag)).all()
    links = s.execute(select(CaseClip, Case.number).join(Case, Case.id == CaseClip.case_id)
                      .where(CaseClip.clip_id == clip.id).order_by(CaseClip.linked_at)).all()
    holds = s.scalars(select(Hold).where(Hold.released_at.is_(None), or_(
        Hold.clip_id == clip.id,
        Hold.case_id.in_(select(CaseClip.case_id).where(CaseClip.clip_id == clip.id,
                                                        CaseClip.unlinked_at.is_(None)))))).all()
    events: list[dict[str, Any]] = []
    if clip.recorded_start is not None and clip.recorded_end is not None:
        overlap = and_(Event.start <= clip.recorded_end, Event.end >= clip.recorded_start)
        ids = set(s.scalars(select(EventOfficer.event_id).join(Event, Event.id == EventOfficer.event_id)
                            .where(EventOfficer.officer_id == clip.officer_id, overlap))) if clip.officer_id else set()
        if clip.session_id is not None:  # looked up apart: an OR of the two made PostgreSQL scan every event
            ids |= set(s.scalars(select(InterrogationSession.event_id)
                                 .where(InterrogationSession.id == clip.session_id)))
        for ev in s.scalars(select(Event).where(overlap, Event.id.in_(ids)).order_by(Event.start)):
            events.append({"event_id": ev.event_id, "scenario": ev.scenario, "start": ev.start, "end": ev.end})
    sightings = s.scalars(select(ClipSighting).where(ClipSighting.clip_id == clip.id)).all()
    active_links = [number for link, number in links if link.unlinked_at is None]
    why = ["floor: retention.floor_days after bodycam received it (and after a trusted recording end), "
           "and at least the grace period after ingest"]
    corrections = s.scalars(select(ClipCorrection).where(ClipCorrection.clip_id == clip.id)
                            .order_by(ClipCorrection.id)).all()
    attachments = s.scalars(select(Attachment).where(Attachment.clip_id == clip.id).order_by(Attachment.id)).all()
    if active_links:
        why.append(f"evidence in case {', '.join(active_links)}: legal hold on the object version")
    why += [f"hold #{h.id}: {h.reason}" for h in holds]
    marks = dict(flags)
    if IMPORTANT in marks and IMPORTANT_REVIEWED not in marks:
        why.append(f"marked important, not yet reviewed ({marks[IMPORTANT]}): kept as evidence until reviewed")
    history = chain.events(s, subject=f"clip:{clip.id}", limit=1000)
    row = clip_row(clip, [f for f, _ in flags], people(s, [clip]).get(clip.id, []))
    row.update({
        "flags": [{"flag": f, "detail": d} for f, d in flags],
        "media": clip.media, "probe_error": clip.probe_error, "source_path": clip.source_path,
        "source_host": clip.source_host, "etag": clip.etag,
        "retention": {"retain_until": clip.retain_until, "holds": [h.id for h in holds], "why": why,
                      "disposed_at": clip.disposed_at, "disposed_reason": clip.disposed_reason},
        "cases": [{"case": number, "linked_at": link.linked_at, "linked_by": link.linked_by, "reason": link.reason,
                   "unlinked_at": link.unlinked_at, "unlinked_by": link.unlinked_by,
                   "unlink_reason": link.unlink_reason} for link, number in links],
        "events": events,
        "discontinuities": clip.discontinuities,
        "corrections": [{"field": c.field, "old": c.old_value, "new": c.new_value, "reason": c.reason,
                         "source": c.source, "actor": c.actor, "at": c.at} for c in corrections],
        "attachments": [{"role": a.role, "name": a.name, "sha256": a.sha256, "size": a.size,
                         "store_key": a.store_key, "store_version": a.store_version,
                         "retain_until": a.retain_until, "disposed_at": a.disposed_at} for a in attachments],
        "sightings": [{"path": x.source_path, "host": x.source_host, "seen_at": x.seen_at} for x in sightings],
        "custody": [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "details": e.details}
                    for e in reversed(history)],
    })
    return row
