"""Explicit legal holds on a clip or a whole case, mirrored as S3 legal holds."""

from __future__ import annotations

from sqlalchemy import select

from bodycam.audit import chain
from bodycam.clock import Clock, SystemClock
from bodycam.db.engine import Database
from bodycam.db.models import CaseClip, Clip, Hold
from bodycam.errors import InputError, NotFound
from bodycam.index.evidence import get_case, get_clips, hold_in, is_held, set_hold
from bodycam.store import ObjectStore


def _clips_of(db: Database, clip_id: int | None, case: str | None) -> tuple[list[Clip], int | None]:
    with db.read() as s:
        if case is not None:
            c = get_case(s, case)
            ids = list(s.scalars(select(CaseClip.clip_id).where(CaseClip.case_id == c.id,
                                                                CaseClip.unlinked_at.is_(None))))
            return get_clips(s, ids), c.id
        assert clip_id is not None
        return get_clips(s, [clip_id]), None


def place(db: Database, store: ObjectStore, clip_id: int | None, case: str | None, reason: str, actor: str,
          clock: Clock | None = None) -> int:
    """The record, then the hold on the objects, then the commit: a crash leaves an extra hold, never a
    missing one, and a refusal leaves neither."""
    if not reason.strip():
        raise InputError("--reason: required")
    if (clip_id is None) == (case is None):
        raise InputError("give a CLIP or --case CASE (one of them)")
    clips, case_id = _clips_of(db, clip_id, case)
    with db.write() as s:
        hold = Hold(clip_id=clip_id, case_id=case_id, reason=reason, placed_by=actor,
                    placed_at=(clock or SystemClock()).now())
        s.add(hold)
        s.flush()
        subject = f"case:{case}" if case else f"clip:{clip_id}"
        chain.record(s, actor, "hold.place", subject, {"hold": hold.id, "reason": reason,
                                                       "clips": [c.id for c in clips]})
        s.flush()
        hold_in(s, store, clips, True)
        return hold.id


def release(db: Database, store: ObjectStore, clip_id: int | None, case: str | None, reason: str,
            actor: str, clock: Clock | None = None) -> list[int]:
    """Release the active holds on a clip or case; objects nothing else holds lose their legal hold."""
    if not reason.strip():
        raise InputError("--reason: required")
    if (clip_id is None) == (case is None):
        raise InputError("give a CLIP or --case CASE (one of them)")
    clips, case_id = _clips_of(db, clip_id, case)
    freed: list[Clip] = []
    with db.write() as s:
        q = select(Hold).where(Hold.released_at.is_(None))
        q = q.where(Hold.case_id == case_id) if case else q.where(Hold.clip_id == clip_id)
        holds = list(s.scalars(q))
        if not holds:
            raise NotFound(f"no active hold on {'case ' + case if case else f'clip {clip_id}'}")
        now = (clock or SystemClock()).now()
        for h in holds:
            h.released_at, h.released_by, h.release_reason = now, actor, reason
        s.flush()
        for clip in clips:
            fresh = s.get(Clip, clip.id)
            if fresh is not None and fresh.disposed_at is None and not is_held(s, fresh):
                freed.append(fresh)
        subject = f"case:{case}" if case else f"clip:{clip_id}"
        chain.record(s, actor, "hold.release", subject, {"holds": [h.id for h in holds], "reason": reason,
                                                         "legal_hold_removed": [c.id for c in freed]})
    set_hold(db, store, freed, False)
    return [h.id for h in holds]
