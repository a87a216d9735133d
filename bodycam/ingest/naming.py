"""What a file name says: device, officer and start time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo

from bodycam.timeutil import as_utc, sane

DEFAULT_PATTERN = (
    r"^(?P<device>[A-Za-z0-9][A-Za-z0-9-]*)_(?P<officer>[A-Za-z0-9]+)_(?P<start>\d{14})(?:_(?P<seq>\d+))?\.[^.]+$"
)
"""``<DEVICE>_<OFFICER>_<YYYYMMDDhhmmss>[_<SEQ>].<ext>``, e.g. DSJ-A1B2C3_P012345_20261101083015_0001.mp4"""


@dataclass(frozen=True)
class NameFacts:
    device: str | None = None
    officer: str | None = None
    start: datetime | None = None
    seq: int | None = None
    """A segment's sequence number: segments of one recording share the start in their names."""
    recording: str | None = None
    """The start as the name spells it (digits): what the segments of one recording share."""


def parse_name(name: str, pattern: str | None, zone: tzinfo) -> NameFacts:
    """Facts from a file name; a name that does not match says nothing."""
    m = re.match(pattern or DEFAULT_PATTERN, name)
    if not m:
        return NameFacts()
    groups = m.groupdict()
    start = None
    raw = groups.get("start")
    if raw:
        digits = re.sub(r"\D", "", raw)
        try:
            start = as_utc(datetime.strptime(digits[:14], "%Y%m%d%H%M%S"), zone)
        except (ValueError, OverflowError):
            start = None
        if start is not None and not sane(start):  # year 9999 or 0001: no time at all, and flagged as such
            start = None
    seq = groups.get("seq")
    return NameFacts(groups.get("device") or None, groups.get("officer") or None, start,
                     int(seq) if seq and seq.isdigit() else None, re.sub(r"\D", "", raw) if raw else None)
