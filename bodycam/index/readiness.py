"""Case readiness: is every recording the case needs present, complete, analysed, intact and held?

What a legal review gates on (Jilin, 2014: a case whose required recordings are missing is not
given legal review). The case needs:
- for each of its events (dispatch events and interrogation sessions with the case's number), the
  recording the coverage rules require, without a finding (no footage, late start, early stop,
  interruption, a file listed in the manifest and never received, analysis pending...);
- every clip of that footage, of the case's incidents (linked by rule or by hand), and every clip
  linked to the case: kept, readable, analysed, its
  stored bytes hashing to the indexed SHA-256, linked to the case and under the store's legal hold.
Each problem is one line naming the event or clip and what is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.config import Settings
from bodycam.coverage.engine import analyse
from bodycam.db.engine import Database
from bodycam.db.models import Case, CaseClip, Clip, ClipFlag, Event, Incident, IncidentLink
from bodycam.errors import IntegrityError, NotFound, ObjectNotFound
from bodycam.store import ObjectStore

BLOCKING_FLAGS = {
    "analysis_pending": "not analysed yet (`bodycam analyse run`)",
    "analysis_failed": "its picture analysis failed",
    "unreadable": "the file cannot be read",
    "empty": "the file is empty",
}


@dataclass(frozen=True)
class Problem:
    subject: str
    """'event E1 (P012345)' or 'clip 42'."""
    what: str


@dataclass
class Readiness:
    case: str
    events: int = 0
    clips: int = 0
    verified_bytes: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return not self.problems


def check_case(db: Database, store: ObjectStore, settings: Settings, number: str, *, verify: bool = True) -> Readiness:
    """The case's readiness; ``verify`` reads every needed clip back from the store and hashes it."""
    result = Readiness(number)
    with db.read() as s:
        case = s.scalar(select(Case).where(Case.number == number))
        if case is None:
            raise NotFound(f"case {number!r}: not found")
        footage = _event_problems(s, settings, case, result)
        linked = set(s.scalars(select(CaseClip.clip_id).where(CaseClip.case_id == case.id,
                                                               CaseClip.unlinked_at.is_(None))))
        footage |= set(s.scalars(select(IncidentLink.clip_id).join(Incident, Incident.id == IncidentLink.incident_id)
                                 .where(Incident.case_id == case.id, IncidentLink.unlinked_at.is_(None))))
        needed = sorted(linked | footage)
        for clip_id in sorted(footage - linked):
            result.problems.append(Problem(f"clip {clip_id}", f"records an event of the case but is not linked to "
                                                              f"it (not evidence, not held): `bodycam cases link "
                                                              f"{number} {clip_id}`"))
        clips = {c.id: c for c in s.scalars(select(Clip).where(Clip.id.in_(needed)))}
        flags: dict[int, list[str]] = {}
        for clip_id, flag in s.execute(select(ClipFlag.clip_id, ClipFlag.flag).where(ClipFlag.clip_id.in_(needed))):
            flags.setdefault(clip_id, []).append(flag)
    result.clips = len(needed)
    for clip_id in needed:
        _clip_problems(store, clips[clip_id], flags.get(clip_id, []), clip_id in linked, verify, result)
    return result


def _event_problems(s: Session, settings: Settings, case: Case, result: Readiness) -> set[int]:
    """Coverage findings of the case's events; the clips that cover them."""
    events = list(s.scalars(select(Event).where(Event.case_id == case.id)))
    result.events = len(events)
    if not events:
        return set()
    ids = {e.event_id for e in events}
    report = analyse(s, settings, min(e.start for e in events) - timedelta(seconds=1),
                     max(e.end for e in events) + timedelta(seconds=1))
    footage: set[int] = set()
    seen: set[str] = set()
    for unit in report.units:
        if unit.event_id not in ids:
            continue
        seen.add(unit.event_id)
        footage.update(clip_id for clip_id, _, _ in unit.footage)
        for f in unit.all_findings:
            result.problems.append(Problem(f"event {unit.event_id} ({unit.officer})",
                                           f"{f.kind}: {f.detail}" if f.detail else f.kind))
    for event_id in sorted(ids - seen):
        result.problems.append(Problem(f"event {event_id}", "no officer or room the recording is required of"))
    return footage


def _clip_problems(store: ObjectStore, clip: Clip, flags: list[str], linked: bool, verify: bool,
                   result: Readiness) -> None:
    subject = f"clip {clip.id}"
    if clip.disposed_at is not None:
        result.problems.append(Problem(subject, f"disposed at {clip.disposed_at.isoformat()}"))
        return
    result.problems += [Problem(subject, why) for flag, why in BLOCKING_FLAGS.items() if flag in flags]
    try:
        info = store.stat(clip.store_key, clip.store_version)
    except ObjectNotFound:
        result.problems.append(Problem(subject, "its stored object is missing"))
        return
    if linked and not info.legal_hold:
        result.problems.append(Problem(subject, "evidence without the store's legal hold (`bodycam check` with "
                                                "the holds key puts it on)"))
    if verify:
        try:
            store.verify(clip.store_key, clip.store_version, clip.sha256)
            result.verified_bytes += clip.size
        except (IntegrityError, ObjectNotFound) as exc:
            result.problems.append(Problem(subject, f"stored bytes do not match the index: {exc}"))
