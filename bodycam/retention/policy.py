"""Retention policy as pure functions: no I/O, every answer explained (as in borg's prune).

The longest hold wins: the six-month floor after bodycam received the footage
(by bodycam's own clock, whatever the camera's said), the same floor after a
trusted recording ended, the grace period after ingest, evidence (kept while its case is open and for a time after
it closes, by default for good), major incidents and obstruction (for good), and
explicit legal holds (while on).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bodycam.config import RetentionSettings


def initial_lock(received_at: datetime, recorded_end: datetime | None, policy: RetentionSettings, *,
                 time_trusted: bool) -> datetime:
    """Retain-until set at ingest: never less than the floor after bodycam received
    the footage (whatever the camera's clock says), nor the grace period after it;
    a trusted recording time can only lengthen that."""
    rules = [received_at + timedelta(days=policy.floor_days), received_at + timedelta(days=policy.grace_days)]
    if time_trusted and recorded_end is not None:
        rules.append(recorded_end + timedelta(days=policy.floor_days))
    return max(rules)


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
    """When bodycam received the bytes, by its own clock."""
    locked_until: datetime
    """The retain-until the store was given (never shortened)."""
    time_trusted: bool = True
    """False for an ``untrusted_time`` clip: its recording time never decides anything."""
    cases: tuple[CaseLink, ...] = ()
    holds: tuple[str, ...] = ()
    major_incident: tuple[str, ...] = ()
    obstruction: bool = False
    important: str | None = None
    """The important mark not yet reviewed (who marked it and why): kept as evidence until reviewed."""


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
    holds: list[tuple[datetime | None, str]] = [
        (f.uploaded_at + timedelta(days=policy.floor_days),
         f"floor: {policy.floor_days} days after bodycam received it"),
        (f.uploaded_at + timedelta(days=policy.grace_days), f"grace: {policy.grace_days:g} days after ingest"),
        (f.locked_until, "store lock: the retain-until set at ingest"),
    ]
    if f.time_trusted and f.recorded_end is not None:
        holds.append((f.recorded_end + timedelta(days=policy.floor_days),
                      f"floor: {policy.floor_days} days after the recording ended"))
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
    if f.important is not None:
        holds.append((FOREVER, f"marked important, not yet reviewed ({f.important})"))
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
    """A short, stable name for what decides deletions (not, say, the sweep's hour):
    a run refuses a policy no plan has shown."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(policy.deciding(), sort_keys=True).encode()).hexdigest()[:16]
