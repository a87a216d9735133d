"""Retention policy as pure functions: no I/O, every answer explained (as in borg's prune).

The longest hold wins: the six-month floor after the recording ends, the grace
period after ingest, evidence (kept while its case is open and for a time after
it closes, by default for good), major incidents and obstruction (for good), and
explicit legal holds (while on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bodycam.config import RetentionSettings

MIN_LOCK = timedelta(seconds=5)
"""Even with no grace period, a lock ends after the upload completes (S3 refuses past dates)."""


def initial_lock(recorded_end: datetime, ingested_at: datetime, policy: RetentionSettings) -> datetime:
    """Retain-until set at ingest: the floor after the recording ends, and never
    less than the grace period after ingest (late footage is still reviewable,
    and a lock is never set in the past)."""
    floor = recorded_end + timedelta(days=policy.floor_days)
    grace = ingested_at + timedelta(days=policy.grace_days)
    return max(floor, grace, ingested_at + MIN_LOCK)


@dataclass(frozen=True)
class CaseLink:
    number: str
    status: str
    closed_at: datetime | None


@dataclass(frozen=True)
class ClipFacts:
    clip_id: int
    recorded_end: datetime | None
    uploaded_at: datetime
    locked_until: datetime
    """The retain-until the store was given (never shortened)."""
    cases: tuple[CaseLink, ...] = ()
    holds: tuple[str, ...] = ()
    major_incident: tuple[str, ...] = ()
    obstruction: bool = False


@dataclass(frozen=True)
class Decision:
    clip_id: int
    delete: bool
    until: datetime | None
    """None: kept indefinitely (until a case closes or a hold is released)."""
    reasons: tuple[str, ...] = field(default_factory=tuple)


FOREVER = None


def decide(f: ClipFacts, policy: RetentionSettings, now: datetime) -> Decision:
    """Keep or delete one clip as of ``now``, until when, and every reason."""
    end = f.recorded_end or f.uploaded_at
    holds: list[tuple[datetime | None, str]] = [
        (end + timedelta(days=policy.floor_days), f"floor: {policy.floor_days} days after the recording ended"),
        (f.uploaded_at + timedelta(days=policy.grace_days), f"grace: {policy.grace_days:g} days after ingest"),
        (f.locked_until, "store lock: the retain-until set at ingest"),
    ]
    for case in f.cases:
        if case.status != "closed" or case.closed_at is None:
            holds.append((FOREVER, f"evidence in open case {case.number}"))
        elif policy.evidence_after_close_days is None:
            holds.append((FOREVER, f"evidence in case {case.number} (closed; evidence is kept for good)"))
        else:
            holds.append((case.closed_at + timedelta(days=policy.evidence_after_close_days),
                          f"evidence in case {case.number}: {policy.evidence_after_close_days} days after it closed"))
    holds += [(FOREVER, f"legal hold: {reason}") for reason in f.holds]
    holds += [(FOREVER, f"covers major incident {event}") for event in f.major_incident]
    if f.obstruction:
        holds.append((FOREVER, "shows obstruction of officers"))
    forever = [why for until, why in holds if until is FOREVER]
    if forever:
        return Decision(f.clip_id, False, None, tuple(forever))
    dated = [(until, why) for until, why in holds if until is not None]
    latest = max(until for until, _ in dated)
    deciding = tuple(why for until, why in dated if until == latest)
    if latest <= now:
        return Decision(f.clip_id, True, latest, ("expired: " + "; ".join(deciding),))
    return Decision(f.clip_id, False, latest, deciding)


def fingerprint(policy: RetentionSettings) -> str:
    """A short, stable name for a policy: a run refuses a policy no plan has shown."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(policy.model_dump(), sort_keys=True).encode()).hexdigest()[:16]
