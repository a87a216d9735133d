"""Retention policy as pure functions: no I/O, every answer explained."""

from __future__ import annotations

from datetime import datetime, timedelta

from bodycam.config import RetentionSettings


def initial_lock(recorded_end: datetime, ingested_at: datetime, policy: RetentionSettings) -> datetime:
    """Retain-until set at ingest: the floor after the recording ends, and never
    less than the grace period after ingest (late footage is still reviewable,
    and a lock is never set in the past)."""
    floor = recorded_end + timedelta(days=policy.floor_days)
    grace = ingested_at + timedelta(days=policy.grace_days)
    return max(floor, grace)
