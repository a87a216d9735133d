"""Case links: linking makes a clip evidence; its object version gets a legal hold
so that not even a storage administrator can delete it while it is evidence.
Unlinking removes the hold only when nothing else holds the clip."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.clock import Clock, SystemClock
from bodycam.db.engine import Database
from bodycam.db.models import (
    Attachment,
    Case,
    CaseClip,
    Clip,
    ClipFlag,
    Event,
    EventOfficer,
    Hold,
    InterrogationSession,
    Officer,
)
from bodycam.errors import InputError, NotFound
from bodycam.kinds import IMPORTANT, IMPORTANT_REVIEWED
from bodycam.store import ObjectStore


def get_case(s: Session, number: str) -> Case:
    case = s.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise NotFound(f"case {number!r}: not found (import it with `bodycam cases import`)")
    return case


def get_clips(s: Session, ids: list[int]) -> list[Clip]:
    clips = {c.id: c for c in s.scalars(select(Clip).where(Clip.id.in_(ids)))}
    missing = [i for i in ids if i not in clips]
    if missing:
        raise NotFound(f"clip {missing[0]}: not found")
    return [clips[i] for i in ids]


def unreviewed(s: Session) -> set[int]:
    """Clips marked important that no one has reviewed yet (bodycam.index.important)."""
    marked = set(s.scalars(select(ClipFlag.clip_id).where(ClipFlag.flag == IMPORTANT)))
    return marked - set(s.scalars(select(ClipFlag.clip_id).where(ClipFlag.flag == IMPORTANT_REVIEWED)))


def is_unreviewed(s: Session, clip_id: int) -> bool:
    flags = set(s.scalars(select(ClipFlag.flag).where(ClipFlag.clip_id == clip_id,
                                                      ClipFlag.flag.in_((IMPORTANT, IMPORTANT_REVIEWED)))))
    return flags == {IMPORTANT}


def is_held(s: Session, clip: Clip) -> bool:
    """Evidence in any case, under an explicit hold on the clip or its case, or marked important and not
    yet reviewed."""
    linked = s.scalar(select(CaseClip.id).where(CaseClip.clip_id == clip.id, CaseClip.unlinked_at.is_(None)))
    if linked is not None or is_unreviewed(s, clip.id):
        return True
    case_ids = select(CaseClip.case_id).where(CaseClip.clip_id == clip.id, CaseClip.unlinked_at.is_(None))
    hold = s.scalar(select(Hold.id).where(Hold.released_at.is_(None),
                                          or_(Hold.clip_id == clip.id, Hold.case_id.in_(case_ids))))
    return hold is not None


def objects_of(s: Session, clip: Clip) -> list[tuple[str, str]]:
    """Every stored version that is this clip's evidence: its media and its sidecars."""
    sidecars = s.execute(select(Attachment.store_key, Attachment.store_version).where(
        Attachment.clip_id == clip.id, Attachment.disposed_at.is_(None)).order_by(Attachment.id)).all()
    return [(clip.store_key, clip.store_version), *((k, v) for k, v in sidecars)]


def set_hold(db: Database, store: ObjectStore, clips: list[Clip], on: bool) -> None:
    """Put on (or take off) the legal hold of each clip's media and sidecars."""
    with db.read() as s:
        hold_in(s, store, clips, on)


def hold_in(s: Session, store: ObjectStore, clips: list[Clip], on: bool) -> None:
    """The same, inside the caller's transaction. Called after its rows are flushed and before its commit,
    a refusal (of the database or the store) leaves nothing behind, and a crash at most an extra hold."""
    targets = [kv for clip in clips if clip.disposed_at is None for kv in objects_of(s, clip)]
    for key, version in targets:
        store.set_legal_hold(key, version, on)


@dataclass(frozen=True)
class LinkResult:
    linked: list[int]
    already: list[int]


def link(db: Database, store: ObjectStore, number: str, clip_ids: list[int], reason: str, actor: str,
         clock: Clock | None = None) -> LinkResult:
    if not reason.strip():
        raise InputError("--reason: required: say why these clips are evidence")
    with db.read() as s:
        case = get_case(s, number)
        clips = get_clips(s, clip_ids)
    linked, already = [], []
    with db.write() as s:
        now = (clock or SystemClock()).now()
        for clip in clips:
            active = s.scalar(select(CaseClip).where(CaseClip.case_id == case.id, CaseClip.clip_id == clip.id,
                                                     CaseClip.unlinked_at.is_(None)))
            if active is not None:
                already.append(clip.id)
                continue
            s.add(CaseClip(case_id=case.id, clip_id=clip.id, linked_at=now, linked_by=actor, reason=reason))
            chain.record(s, actor, "case.link", f"clip:{clip.id}", {"case": number, "reason": reason,
                                                                    "legal_hold": True})
            linked.append(clip.id)
        s.flush()
        hold_in(s, store, clips, True)  # before the commit: never a link without its hold
    return LinkResult(linked, already)


def unlink(db: Database, store: ObjectStore, number: str, clip_ids: list[int], reason: str, actor: str,
           clock: Clock | None = None) -> list[int]:
    if not reason.strip():
        raise InputError("--reason: required: say why these clips are no longer evidence")
    done = []
    with db.write() as s:
        case = get_case(s, number)
        now = (clock or SystemClock()).now()
        for clip in get_clips(s, clip_ids):
            active = s.scalar(select(CaseClip).where(CaseClip.case_id == case.id, CaseClip.clip_id == clip.id,
                                                     CaseClip.unlinked_at.is_(None)))
            if active is None:
                raise InputError(f"clip {clip.id}: not linked to case {number}")
            active.unlinked_at, active.unlinked_by, active.unlink_reason = now, actor, reason
            s.flush()
            release = not is_held(s, clip) and clip.disposed_at is None
            chain.record(s, actor, "case.unlink", f"clip:{clip.id}", {"case": number, "reason": reason,
                                                                      "legal_hold_removed": release})
            done.append((clip, release))
    # after the commit: a crash leaves an extra hold, never a missing one
    set_hold(db, store, [clip for clip, release in done if release], False)
    return [c.id for c, _ in done]


@dataclass(frozen=True)
class Suggestion:
    clip_id: int
    event_id: str
    officer: str
    reason: str


def suggest(s: Session, number: str, margin: timedelta) -> list[Suggestion]:
    """Clips of the officers on the case's events that overlap an event (± margin)."""
    case = get_case(s, number)
    out: list[Suggestion] = []
    seen: set[int] = set()
    linked = set(s.scalars(select(CaseClip.clip_id).where(CaseClip.case_id == case.id,
                                                          CaseClip.unlinked_at.is_(None))))
    for event in s.scalars(select(Event).where(Event.case_id == case.id).order_by(Event.start)):
        officers = s.execute(select(Officer.id, Officer.badge).join(EventOfficer, EventOfficer.officer_id == Officer.id)
                             .where(EventOfficer.event_id == event.id)).all()
        lo, hi = event.start - margin, event.end + margin
        by_officer = {oid: badge for oid, badge in officers}
        conditions = [Clip.officer_id.in_(list(by_officer))]
        if event.scenario == "interrogation":  # the room recorder's files of this session
            conditions.append(Clip.session_id.in_(
                select(InterrogationSession.id).where(InterrogationSession.event_id == event.id)))
        q = select(Clip).where(or_(*conditions), and_(Clip.recorded_start <= hi, Clip.recorded_end >= lo))
        for clip in s.scalars(q.order_by(Clip.recorded_start)):
            if clip.id in seen or clip.id in linked:
                continue
            seen.add(clip.id)
            badge = by_officer.get(clip.officer_id or -1, clip.officer_badge)
            out.append(Suggestion(clip.id, event.event_id, badge, (
                f"officer {badge} on event {event.event_id} ({event.scenario}); clip "
                f"{clip.recorded_start.isoformat() if clip.recorded_start else '?'} overlaps the event "
                f"window ±{int(margin.total_seconds())} s")))
    return out


def set_case_status(db: Database, number: str, status: str, reason: str, actor: str,
                    clock: Clock | None = None) -> Case:
    """Close or reopen a case (audited); closing starts the evidence hold's after-close clock."""
    if not reason.strip():
        raise InputError("--reason: required")
    with db.write() as s:
        case = get_case(s, number)
        if case.status == status:
            raise InputError(f"case {number}: already {status}")
        case.status = status
        case.closed_at = (clock or SystemClock()).now() if status == "closed" else None
        chain.record(s, actor, f"case.{'close' if status == 'closed' else 'reopen'}", f"case:{number}",
                     {"reason": reason})
        return case
