"""The important mark (重要标记, GA/T 947): an officer at the dock (sidecar ``"important": true``) or a
clerk says a clip matters. Until a supervisor reviews it, the clip is kept as evidence is: the
retention policy keeps it indefinitely, the index counts it as held (so the store's legal hold is
put on, and `bodycam check` puts it back), and it waits in the clerk's queue.

The marks are clip flags (``important``, then ``important_reviewed``); who marked, who reviewed,
and why are in the audit chain.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.clock import Clock
from bodycam.db.engine import Database
from bodycam.db.models import Clip, ClipFlag
from bodycam.errors import InputError, NotFound, PermissionDenied
from bodycam.index.evidence import hold_in, is_held, is_unreviewed, unreviewed
from bodycam.kinds import IMPORTANT
from bodycam.kinds import IMPORTANT_REVIEWED as REVIEWED
from bodycam.store import ObjectStore

log = logging.getLogger(__name__)

SIDECAR_KEY = "important"




@dataclass(frozen=True)
class Marked:
    clip_id: int
    already: bool
    store_hold: bool
    """False when this key may not set the store's legal hold (`bodycam check` with the holds key does)."""


def _clip(s: Session, clip_id: int) -> Clip:
    clip = s.get(Clip, clip_id)
    if clip is None:
        raise NotFound(f"clip {clip_id}: not found")
    if clip.disposed_at is not None:
        raise InputError(f"clip {clip_id}: disposed at {clip.disposed_at.isoformat()}; nothing to keep")
    return clip


def mark(db: Database, store: ObjectStore, clip_id: int, reason: str, actor: str, clock: Clock) -> Marked:
    """Mark a clip important (again, after a review: the earlier review no longer counts)."""
    if not reason.strip():
        raise InputError("--reason: required: say why the clip is important")
    now = clock.now()
    with db.write() as s:
        clip = _clip(s, clip_id)
        if is_unreviewed(s, clip_id):
            return Marked(clip_id, True, True)
        for old in s.scalars(select(ClipFlag).where(ClipFlag.clip_id == clip_id,
                                                    ClipFlag.flag.in_((IMPORTANT, REVIEWED)))):
            s.delete(old)
        s.flush()
        s.add(ClipFlag(clip_id=clip_id, flag=IMPORTANT, detail=f"marked by {actor}: {reason}", created_at=now))
        chain.record(s, actor, "clip.important", f"clip:{clip_id}", {"reason": reason})
        s.flush()
        return Marked(clip_id, False, _hold(s, store, clip, True))


def review(db: Database, store: ObjectStore, clip_id: int, note: str, actor: str, clock: Clock) -> bool:
    """A supervisor has looked at it: the mark no longer keeps the clip (a case link or a hold still does).
    True when the store's legal hold came off (nothing else holds the clip)."""
    if not note.strip():
        raise InputError("--note: required: say what the review found")
    with db.write() as s:
        clip = _clip(s, clip_id)
        if not is_unreviewed(s, clip_id):
            raise InputError(f"clip {clip_id}: not marked important, or already reviewed")
        s.add(ClipFlag(clip_id=clip_id, flag=REVIEWED, detail=f"reviewed by {actor}: {note}",
                       created_at=clock.now()))
        chain.record(s, actor, "clip.important_reviewed", f"clip:{clip_id}", {"note": note})
        s.flush()
        if is_held(s, clip):
            return False
        return _hold(s, store, clip, False)


def _hold(s: Session, store: ObjectStore, clip: Clip, on: bool) -> bool:
    try:
        hold_in(s, store, [clip], on)
    except PermissionDenied as exc:
        log.warning("clip %s: the store's legal hold is left for `bodycam check` with the holds key: %s",
                    clip.id, exc)
        return False
    return True


def queue(s: Session) -> list[dict[str, object]]:
    """The clerk's queue: clips marked important and not yet reviewed, oldest mark first."""
    waiting = unreviewed(s)
    rows = s.execute(select(Clip.id, Clip.officer_badge, Clip.device_serial, Clip.recorded_start, ClipFlag.detail,
                            ClipFlag.created_at).join(ClipFlag, ClipFlag.clip_id == Clip.id)
                     .where(ClipFlag.flag == IMPORTANT, Clip.id.in_(waiting), Clip.disposed_at.is_(None))
                     .order_by(ClipFlag.created_at, Clip.id)).all()
    return [{"clip": r[0], "officer": r[1], "device": r[2], "recorded_start": r[3], "marked": r[4],
             "marked_at": r[5]} for r in rows]


def marked_at_dock(data: dict[str, object]) -> bool:
    """The dock's sidecar says so (``"important": true``; anything else is not a mark)."""
    return data.get(SIDECAR_KEY) is True
