"""Times are stored in UTC and shown with their zone."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from bodycam.errors import InputError


def utcnow() -> datetime:
    return datetime.now(UTC)


SANE_YEARS = (1900, 2200)
"""Times outside these years are refused as input and never taken from a file:
arithmetic on them (a duration, a zone, a six-month hold) would overflow."""


def as_utc(value: datetime, naive_zone: tzinfo = UTC) -> datetime:
    """An aware UTC datetime; a naive one is read in ``naive_zone``."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=naive_zone)
    return value.astimezone(UTC)


def sane(value: datetime) -> bool:
    return SANE_YEARS[0] <= value.year <= SANE_YEARS[1]


def parse_time(text: str, naive_zone: tzinfo = UTC, *, what: str = "time") -> datetime:
    """Parse ISO 8601 (``Z`` allowed); naive times are in ``naive_zone``."""
    raw = text.strip()
    if raw.endswith(("Z", "z")):
        raw = raw[:-1] + "+00:00"
    try:
        value = as_utc(datetime.fromisoformat(raw), naive_zone)
    except ValueError:
        raise InputError(f"{what}: not an ISO 8601 time: {text!r}") from None
    except OverflowError:
        value = datetime.min.replace(tzinfo=UTC)
    if not sane(value):
        raise InputError(f"{what}: {text!r} is outside the years {SANE_YEARS[0]} to {SANE_YEARS[1]}")
    return value


def show(value: datetime | None, zone: tzinfo = UTC) -> str:
    """ISO 8601 with its offset, in ``zone``; '-' for none."""
    if value is None:
        return "-"
    if value.tzinfo is None:  # SQLite hands back naive values: they are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).isoformat(timespec="seconds")
