"""Supervision (考核): a verdict on a finding, and a random sample of recordings to review.

A finding is found again by its id (``EVENT#hash``): the report is recomputed for its
event alone, so a verdict is only ever recorded for a finding that exists now.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from bodycam.audit import chain
from bodycam.config import Settings
from bodycam.coverage.engine import Finding, Unit_, analyse
from bodycam.db.engine import Database
from bodycam.db.models import REVIEW_RESULTS, Event, FindingReview
from bodycam.errors import InputError, NotFound
from bodycam.text import one_line


def find(db: Database, settings: Settings, finding_id: str) -> Finding:
    event_id, sep, _ = finding_id.partition("#")
    if not sep:
        raise InputError(f"finding {finding_id!r}: not a finding id (EVENT#hash, as the report shows it)")
    with db.read() as s:
        event = s.scalar(select(Event).where(Event.event_id == event_id))
        if event is None:
            raise NotFound(f"finding {finding_id}: no event {event_id!r}")
        report = analyse(s, settings, event.start, event.end)
    found = next((f for u in report.units if u.event_id == event_id for f in u.all_findings
                  if f.id == finding_id), None)
    if found is None:
        raise NotFound(f"finding {finding_id}: not a finding of event {event_id} now (footage that arrived "
                       "since may have changed it: run the report again)")
    return found


def review(db: Database, settings: Settings, finding_id: str, result: str, note: str, actor: str,
           now: datetime) -> Finding:
    """Record a verdict (audited as finding.review); a later verdict supersedes, both are kept."""
    if result not in REVIEW_RESULTS:
        raise InputError(f"--result: {result!r} is not one of {', '.join(REVIEW_RESULTS)}")
    note = one_line(note, "--note")
    finding = find(db, settings, finding_id)
    with db.write() as s:
        s.add(FindingReview(finding_id=finding_id, event_id=finding.event_id, officer=finding.officer,
                            kind=finding.kind, result=result, note=note, reviewed_by=actor, reviewed_at=now))
        chain.record(s, actor, "finding.review", f"finding:{finding_id}", {
            "result": result, "note": note, "event": finding.event_id, "officer": finding.officer,
            "kind": finding.kind, "was": finding.review})
    return finding


@dataclass(frozen=True)
class Pick:
    officer: str
    unit: Unit_


def sample(units: list[Unit_], per_officer: int, seed: int) -> list[Pick]:
    """Up to ``per_officer`` required recordings of each officer, drawn at random (reproducible by seed). Pure."""
    rng = random.Random(seed)
    by_officer: dict[str, list[Unit_]] = defaultdict(list)
    for u in units:
        for badge in u.officers or (u.officer,):
            by_officer[badge].append(u)
    picks = []
    for badge in sorted(by_officer):
        pool = sorted(by_officer[badge], key=lambda u: (u.start, u.event_id))
        picks += [Pick(badge, u) for u in sorted(rng.sample(pool, min(per_officer, len(pool))),
                                                  key=lambda u: (u.start, u.event_id))]
    return picks
