"""Times are stored in UTC and shown with their zone."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from bodycam.errors import InputError


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime, naive_zone: tzinfo = UTC) -> datetime:
    """An aware UTC datetime; a naive one is read in ``naive_zone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_zone)
    return value.astimezone(UTC)


def parse_time(text: str, naive_zone: tzinfo = UTC, *, what: str = "time") -> datetime:
    """Parse ISO 8601 (``Z`` allowed); naive times are in ``naive_zone``."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = datetime.fromisoformat(raw)
    except ValueError:
        raise InputError(f"{what}: not an ISO 8601 time: {text!r}") from None
    return as_utc(value, naive_zone)


def show(value: datetime | None, zone: tzinfo = UTC) -> str:
    """ISO 8601 with its offset, in ``zone``; '-' for none."""
    if value is None:
        return "-"
    if value.tzinfo is None:  # SQLite hands back naive values: they are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).isoformat(timespec="seconds")
