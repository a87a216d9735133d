"""Apply a file-name pattern to clips already stored (a vendor's naming learnt after the fact).

Ingest fell back to the container's time or the file's mtime when a file's name did not
match; re-ingesting the same bytes is a duplicate, so nothing changed. Here the pattern
is applied to the stored clips' names; what it says that is better than what the clip
has becomes a correction (audited, the old value kept): the start, when the clip's time
came from the container or the mtime; the officer, when the clip has none or only the
device's assignment. Sidecar, manifest, corrected and segment times, and officers named
or corrected, are never replaced. The plan is a pure function of the clips and the pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy import select

from bodycam.clock import Clock
from bodycam.config import RetentionSettings
from bodycam.db.engine import Database
from bodycam.db.models import Clip, Device
from bodycam.errors import InputError
from bodycam.index.corrections import Change, Correction, correct
from bodycam.ingest.naming import parse_name
from bodycam.kinds import TimeSource
from bodycam.store import ObjectStore

WEAK_TIMES = (TimeSource.CONTAINER, TimeSource.MTIME)
WEAK_OFFICERS = ("", "assignment")


@dataclass(frozen=True)
class Planned:
    clip_id: int
    source_name: str
    correction: Correction


def plan(clips: list[Clip], pattern: str, zone: tzinfo) -> list[Planned]:
    """What the pattern would change, clip by clip (only clips it improves)."""
    out = []
    for clip in clips:
        facts = parse_name(clip.source_name, pattern, zone)
        start: datetime | None = None
        officer: str | None = None
        if facts.start is not None and clip.time_source in WEAK_TIMES and facts.start != clip.recorded_start:
            start = facts.start
        if facts.officer and clip.officer_source in WEAK_OFFICERS and facts.officer != clip.officer_badge:
            officer = facts.officer
        if start is not None or officer is not None:
            out.append(Planned(clip.id, clip.source_name, Correction(start, officer)))
    return out


def compile_pattern(pattern: str) -> str:
    try:
        groups = re.compile(pattern).groupindex
    except re.error as exc:
        raise InputError(f"--pattern: not a regular expression: {exc}") from None
    if not {"start", "officer"} & set(groups):
        raise InputError("--pattern: needs a named group 'start' or 'officer' (e.g. (?P<start>\\d{14}))")
    return pattern


def reresolve(db: Database, store: ObjectStore, policy: RetentionSettings, pattern: str, zone: tzinfo,
              devices: tuple[str, ...], actor: str, clock: Clock, *, dry_run: bool = False,
              ) -> list[tuple[Planned, list[Change]]]:
    """Plan, then (unless dry_run) apply each clip's correction in its own audited transaction."""
    compile_pattern(pattern)
    with db.read() as s:
        q = select(Clip).where(Clip.disposed_at.is_(None)).order_by(Clip.id)
        if devices:
            q = q.where(Clip.device_id.in_(select(Device.id).where(Device.serial.in_(devices))))
        planned = plan(list(s.scalars(q)), pattern, zone)
    if dry_run:
        return [(p, []) for p in planned]
    reason = f"file name read with the pattern {pattern!r} (clips reresolve)"
    return [(p, correct(db, store, policy, p.clip_id, p.correction, reason, actor, clock)) for p in planned]
