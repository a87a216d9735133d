"""Segments of one recording, and clips of one camera that overlap.

A camera that splits a long recording names every segment with the recording's
start and a sequence number (``CAM_P1_20261125220000_0001``, ``_0002``, ...). Each
segment starts where the one before ends, not at the recording's start. And two
clips of one camera cannot overlap: when they do, a clock or a file is wrong, and
both are flagged ``overlap`` for a person to look at.

Placement is a pure function of the segments present; :func:`settle` applies it
(audited, the original time kept as a correction, like a clerk's) and flags the
overlaps, after each ingest pass, for the cameras the pass touched.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bodycam.audit import chain
from bodycam.clock import Clock
from bodycam.config import RetentionSettings
from bodycam.db.engine import Database
from bodycam.db.models import Attachment, Clip, ClipCorrection, ClipFlag
from bodycam.kinds import TimeSource
from bodycam.store import ObjectStore

SEGMENT = TimeSource.SEGMENT
"""The time source of a segment placed after the one before it."""
OVERLAP = "overlap"
OVERLAP_SECONDS = 1.0
"""Clips of one camera may touch or overlap by a frame or so (rounding of durations); more is a finding."""


@dataclass(frozen=True)
class Segment:
    clip_id: int
    device: str
    recording: str
    """The recording's start as the file name gives it: segments of one recording share it."""
    seq: int
    start: datetime
    seconds: float


def place(segments: list[Segment]) -> dict[int, datetime]:
    """The start each segment should have: the first (seq 0 or 1) keeps its own, each next one starts at
    the end of the one before. A recording missing an earlier segment is placed only up to the gap."""
    groups: dict[tuple[str, str], list[Segment]] = defaultdict(list)
    for seg in segments:
        groups[(seg.device, seg.recording)].append(seg)
    out: dict[int, datetime] = {}
    for group in groups.values():
        group.sort(key=lambda g: g.seq)
        if group[0].seq not in (0, 1):
            continue
        at = group[0].start
        expected = group[0].seq
        for seg in group:
            if seg.seq != expected:
                break
            out[seg.clip_id] = at
            at += timedelta(seconds=seg.seconds)
            expected += 1
    return out


def overlaps(clips: list[tuple[int, datetime, datetime]]) -> list[tuple[int, int, float]]:
    """(earlier clip, later clip, seconds) for clips of one camera that overlap by more than OVERLAP_SECONDS."""
    found = []
    ordered = sorted(clips, key=lambda c: (c[1], c[0]))
    for i, (a, _, a_end) in enumerate(ordered):
        for b, b_start, b_end in ordered[i + 1:]:
            if b_start >= a_end:
                break
            seconds = (min(a_end, b_end) - b_start).total_seconds()
            if seconds > OVERLAP_SECONDS:
                found.append((a, b, round(seconds, 3)))
    return found


@dataclass(frozen=True)
class Settled:
    placed: list[int]
    overlapping: list[tuple[int, int, float]]


NEIGHBOURS = timedelta(days=1)
"""How far around a pass's new clips their camera's other clips are looked at (a recording's segments, overlaps)."""


def _neighbourhood(db: Database, clip_ids: list[int]) -> list[Clip]:
    """The kept clips of the cameras of these clips, within NEIGHBOURS of them: a pass costs its own
    clips' cameras' day, not their whole history."""
    with db.read() as s:
        spans = s.execute(select(Clip.device_id, func.min(Clip.recorded_start), func.max(Clip.recorded_end))
                          .where(Clip.id.in_(clip_ids), Clip.device_id.is_not(None))
                          .group_by(Clip.device_id)).all()
        rows: list[Clip] = []
        for device_id, lo, hi in spans:
            if lo is None or hi is None:
                continue
            rows += s.scalars(select(Clip).where(Clip.device_id == device_id, Clip.disposed_at.is_(None),
                                                 Clip.recorded_start < hi + NEIGHBOURS,
                                                 Clip.recorded_end > lo - NEIGHBOURS))
    return rows


def settle(db: Database, store: ObjectStore, policy: RetentionSettings, clip_ids: list[int], actor: str,
           clock: Clock) -> Settled:
    """Place the segments and flag the overlaps around these (newly stored) clips."""
    if not clip_ids:
        return Settled([], [])
    rows = _neighbourhood(db, clip_ids)
    segments = [Segment(c.id, c.device_serial, str(c.media["segment"]["recording"]), int(c.media["segment"]["seq"]),
                        c.recorded_start, c.duration_seconds or 0.0)
                for c in rows if c.time_source in (TimeSource.FILENAME, SEGMENT) and c.recorded_start is not None
                and isinstance((c.media or {}).get("segment"), dict)]
    by_id = {c.id: c for c in rows}
    moves = {cid: at for cid, at in place(segments).items() if by_id[cid].recorded_start != at}
    if moves:
        _move(db, store, policy, moves, actor, clock)
        rows = _neighbourhood(db, clip_ids)
    per_device: dict[str, list[tuple[int, datetime, datetime]]] = defaultdict(list)
    for c in rows:
        if c.recorded_start is not None and c.recorded_end is not None:
            per_device[c.device_serial].append((c.id, c.recorded_start, c.recorded_end))
    found = [o for clips in per_device.values() for o in overlaps(clips)]
    _flag_overlaps(db, found, actor, clock)
    return Settled(sorted(moves), found)


def _move(db: Database, store: ObjectStore, policy: RetentionSettings, moves: dict[int, datetime], actor: str,
          clock: Clock) -> None:
    """Each move is a correction (source 'segments'); a later end lengthens the lock first, never shortens it."""
    now = clock.now()
    with db.read() as s:
        clips = {c.id: c for c in s.scalars(select(Clip).where(Clip.id.in_(moves)))}
        sidecars = list(s.scalars(select(Attachment).where(Attachment.clip_id.in_(moves),
                                                           Attachment.disposed_at.is_(None))))
    longer: dict[int, datetime] = {}
    for cid, at in moves.items():
        clip = clips[cid]
        end = at + timedelta(seconds=clip.duration_seconds or 0)
        if end + timedelta(days=policy.floor_days) > clip.retain_until:
            until = end + timedelta(days=policy.floor_days)
            for key, version in [(clip.store_key, clip.store_version),
                                 *((a.store_key, a.store_version) for a in sidecars if a.clip_id == cid)]:
                store.extend_retention(key, version, until)
            longer[cid] = until
    with db.write() as s:
        for cid, at in sorted(moves.items()):
            row = s.get(Clip, cid)
            assert row is not None
            old = row.recorded_start
            row.recorded_start = at
            row.recorded_end = at + timedelta(seconds=row.duration_seconds or 0)
            row.time_source = SEGMENT
            if cid in longer:
                row.retain_until = longer[cid]
            reason = (f"segment {row.media['segment']['seq']} of the recording that starts "
                      f"{row.media['segment']['recording']}: placed at the end of the segment before it")
            s.add(ClipCorrection(clip_id=cid, field="recorded_start", old_value=old.isoformat() if old else "",
                                 new_value=at.isoformat(), reason=reason, source="segments", actor=actor, at=now))
            chain.record(s, actor, "clip.place_segment", f"clip:{cid}", {
                "old": old.isoformat() if old else None, "new": at.isoformat(), "reason": reason,
                **({"retain_until": longer[cid].isoformat()} if cid in longer else {})})


def _flag_overlaps(db: Database, found: list[tuple[int, int, float]], actor: str, clock: Clock) -> None:
    if not found:
        return
    now = clock.now()
    with db.write() as s:
        have = {(cid, detail) for cid, detail in s.execute(
            select(ClipFlag.clip_id, ClipFlag.detail).where(ClipFlag.flag == OVERLAP))}
        for a, b, seconds in found:
            for this, other in ((a, b), (b, a)):
                detail = f"overlaps clip {other} of the same camera by {seconds:g} s"
                if (this, detail) in have:
                    continue
                s.add(ClipFlag(clip_id=this, flag=OVERLAP, detail=detail, created_at=now))
                chain.record(s, actor, "clip.flag", f"clip:{this}", {"flag": OVERLAP, "detail": detail})
