"""Gather what the policy needs about every kept clip, in a few bulk queries."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from bodycam.db.models import Case, CaseClip, Clip, ClipFlag, Event, EventOfficer, Hold
from bodycam.index.evidence import unreviewed
from bodycam.ingest.timecheck import UNTRUSTED
from bodycam.kinds import IMPORTANT
from bodycam.retention.policy import CaseLink, ClipFacts

OBSTRUCTION = "obstruction"


def load_facts(s: Session, clip_ids: list[int] | None = None) -> Iterator[ClipFacts]:
    """Facts for every clip not yet disposed (or for ``clip_ids``)."""
    cases: dict[int, list[CaseLink]] = defaultdict(list)
    case_of_clip: dict[int, list[int]] = defaultdict(list)
    for clip_id, case_id, number, status, closed_at in s.execute(
        select(CaseClip.clip_id, Case.id, Case.number, Case.status, Case.closed_at)
        .join(Case, Case.id == CaseClip.case_id).where(CaseClip.unlinked_at.is_(None))
    ):
        cases[clip_id].append(CaseLink(number, status, closed_at))
        case_of_clip[clip_id].append(case_id)
    clip_holds: dict[int, list[str]] = defaultdict(list)
    case_holds: dict[int, list[str]] = defaultdict(list)
    for hold_id, held_clip, held_case, reason in s.execute(
        select(Hold.id, Hold.clip_id, Hold.case_id, Hold.reason).where(Hold.released_at.is_(None))
    ):
        if held_clip is not None:
            clip_holds[held_clip].append(f"#{hold_id} {reason}")
        if held_case is not None:
            case_holds[held_case].append(f"#{hold_id} (case) {reason}")
    obstruction = set(s.scalars(select(ClipFlag.clip_id).where(ClipFlag.flag == OBSTRUCTION)))
    untrusted = set(s.scalars(select(ClipFlag.clip_id).where(ClipFlag.flag == UNTRUSTED)))
    waiting = unreviewed(s)
    important = {clip_id: detail for clip_id, detail in s.execute(
        select(ClipFlag.clip_id, ClipFlag.detail).where(ClipFlag.flag == IMPORTANT)) if clip_id in waiting}
    major: dict[int, list[str]] = defaultdict(list)
    for ev in s.scalars(select(Event).where(Event.scenario == "major_incident")):
        officers = select(EventOfficer.officer_id).where(EventOfficer.event_id == ev.id)
        for clip_id in s.scalars(select(Clip.id).where(
            Clip.officer_id.in_(officers), and_(Clip.recorded_start <= ev.end, Clip.recorded_end >= ev.start)
        )):
            major[clip_id].append(ev.event_id)
    query = select(Clip.id, Clip.recorded_end, Clip.uploaded_at, Clip.retain_until).where(Clip.disposed_at.is_(None))
    if clip_ids is not None:
        query = query.where(Clip.id.in_(clip_ids))
    for clip_id, end, uploaded, locked in s.execute(query.order_by(Clip.id).execution_options(yield_per=20000)):
        held = list(clip_holds.get(clip_id, ()))
        for case_id in case_of_clip.get(clip_id, ()):
            held += case_holds.get(case_id, [])
        yield ClipFacts(clip_id, end, uploaded, locked, clip_id not in untrusted, tuple(cases.get(clip_id, ())),
                        tuple(held), tuple(major.get(clip_id, ())), clip_id in obstruction, important.get(clip_id))
