"""Who carried the camera: re-attributing clips when the assignment history changes.

A clip's officer comes from the file (its name, sidecar or manifest) or, failing
that, from the device's assignment at the recording's start. Rosters are often
imported after the footage has arrived, so an assignments import re-resolves the
clips whose officer did not come from the file, inside the spans it touched. An
officer named by the file is never overwritten; when the roster disagrees with
it, the clip is flagged ``officer_conflict`` for review.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.db.models import Clip, ClipFlag
from bodycam.index.registry import holders
from bodycam.timeutil import utcnow

Span = tuple[int, datetime, datetime | None]
"""(device id, start, end or None for open-ended)."""


@dataclass(frozen=True)
class Change:
    clip_id: int
    before: str  # badge, or "" for none
    after: str
    note: str  # "reattributed" | "officer_conflict"

    def audit_entry(self) -> tuple[str, str, dict[str, Any]]:
        if self.note == "officer_conflict":
            return ("clip.flag", f"clip:{self.clip_id}",
                    {"flag": "officer_conflict", "named": self.before, "assignment": self.after})
        return ("clip.reattributed", f"clip:{self.clip_id}", {"from": self.before or None, "to": self.after or None})


def reattribute(s: Session, spans: list[Span]) -> list[Change]:
    """Re-resolve the officer of every clip recorded inside ``spans`` (call after the
    assignment rows are written, in the same transaction)."""
    changes: list[Change] = []
    seen: set[int] = set()

    for device_id, start, end in spans:
        query = select(Clip).where(Clip.device_id == device_id, Clip.recorded_start >= start)
        if end is not None:
            query = query.where(Clip.recorded_start < end)
        for clip in s.scalars(query.order_by(Clip.id)):
            if clip.id in seen or clip.recorded_start is None:
                continue
            seen.add(clip.id)
            had = holders(s, device_id, clip.recorded_start)
            now_id, now_badge = (had[0].id, had[0].badge) if had else (None, "")
            if clip.officer_source in ("named", "corrected"):
                if had and clip.officer_id not in {o.id for o in had} and not _flagged(s, clip.id):
                    s.add(ClipFlag(clip_id=clip.id, flag="officer_conflict",
                                   detail=f"file names {clip.officer_badge}, assignment says {now_badge}",
                                   created_at=utcnow()))
                    changes.append(Change(clip.id, clip.officer_badge, now_badge, "officer_conflict"))
                continue
            if now_id == clip.officer_id:
                continue
            changes.append(Change(clip.id, clip.officer_badge, now_badge, "reattributed"))
            clip.officer_id, clip.officer_badge = now_id, now_badge
            clip.officer_source = "assignment" if now_id is not None else ""
    return changes


def _flagged(s: Session, clip_id: int) -> bool:
    return s.scalar(select(ClipFlag.id).where(ClipFlag.clip_id == clip_id, ClipFlag.flag == "officer_conflict")
                    .limit(1)) is not None

