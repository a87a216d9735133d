"""Who recorded what, when: resolving time, device and officer from the evidence
at hand, in order of trust, and saying which source was used."""

from __future__ import annotations

import json
import math
import os
import stat
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bodycam.db.models import BADGE_LEN, SERIAL_LEN
from bodycam.errors import InputError
from bodycam.ingest.naming import NameFacts
from bodycam.ingest.probe import MediaFacts
from bodycam.ingest.timecheck import CAMERA_SOURCES
from bodycam.kinds import IMPORTANT
from bodycam.timeutil import parse_time

MAX_SIDECAR = 1 << 20
"""A dock's sidecar is a few hundred bytes; anything over a MiB is not one."""
MAX_OFFSET_SECONDS = 100 * 365 * 86400


@dataclass
class Sidecar:
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    raw: bytes | None = None
    """The bytes as read (kept as evidence, parsed or not); None when they could not be read."""


def read_regular(path: Path, limit: int) -> bytes:
    """A small file's bytes: only a regular file (never a FIFO, a device or a link,
    which could hang or leak), at most ``limit`` bytes; else InputError naming it."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        raise InputError(f"{path.name}: cannot open: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as fh:
        st = os.fstat(fh.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise InputError(f"{path.name}: not a regular file")
        if st.st_size > limit:
            raise InputError(f"{path.name}: {st.st_size} bytes, more than the {limit} such a file may have")
        try:
            return fh.read(limit + 1)[:limit]
        except OSError as exc:
            raise InputError(f"{path.name}: cannot read: {exc.strerror or exc}") from None


def read_sidecar(path: Path | None) -> Sidecar:
    """Read a sidecar once, safely (see :func:`read_regular`)."""
    if path is None:
        return Sidecar()
    try:
        raw = read_regular(path, MAX_SIDECAR)
    except InputError as exc:
        return Sidecar(error=str(exc))
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Sidecar(error=f"{path.name}: {exc}", raw=raw)
    if not isinstance(data, dict):
        return Sidecar(error=f"{path.name}: not a JSON object", raw=raw)
    return Sidecar(data, raw=raw)


def clock_offset(sidecar: Sidecar) -> tuple[float | None, str | None]:
    """The camera's clock minus the true time, as the dock measured it at docking
    (``clock_offset_seconds``), or why the value is unusable."""
    raw = sidecar.data.get("clock_offset_seconds")
    if raw is None:
        return None, None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw) \
            or abs(raw) > MAX_OFFSET_SECONDS:
        return None, f"clock_offset_seconds: not a number of seconds: {raw!r}"
    return float(raw), None


@dataclass(frozen=True)
class Recording:
    start: datetime
    end: datetime
    time_source: str
    device: str | None
    officer: str | None
    flags: dict[str, str]
    camera_start: datetime | None = None
    """The start by the camera's clock, when a dock's measured offset corrected it."""
    clock_offset: float | None = None
    segment: tuple[str, int] | None = None
    """(recording, seq) when the start came from a segment's file name: placed after the pass."""


def resolve(
    *,
    sidecar: Sidecar,
    name: NameFacts,
    media: MediaFacts,
    mtime: datetime,
    camera: str | None,
    manifest_start: datetime | None,
    zone: tzinfo,
) -> Recording:
    """Start from sidecar, manifest, file name, container, then mtime (the end of
    writing, so minus the duration); end = start + probed duration."""
    flags: dict[str, str] = {}
    if sidecar.error:
        flags["bad_sidecar"] = sidecar.error
    start: datetime | None = None
    source = ""
    raw = sidecar.data.get("start")
    if isinstance(raw, str):
        try:
            start, source = parse_time(raw, zone), "sidecar"
        except Exception:
            flags["bad_sidecar"] = f"start: not an ISO 8601 time: {raw!r}"
    if start is None and manifest_start is not None:
        start, source = manifest_start, "manifest"
    if start is None and name.start is not None:
        start, source = name.start, "filename"
    if start is None and media.creation_time is not None:
        start, source = media.creation_time, "container"
    duration = timedelta(seconds=media.duration or 0)
    if start is None:
        start, source = mtime - duration, "mtime"
    if media.duration is None:
        flags.setdefault("no_duration", "duration unknown: end set to start")
    if sidecar.data.get("important") is True:  # the officer's 重要标记 at the camera or the dock (GA/T 947)
        flags[IMPORTANT] = "marked important at the dock (sidecar)"
    elif sidecar.data.get("important") not in (None, False):
        flags["bad_sidecar"] = f"important: {sidecar.data['important']!r} is not true or false"
    offset, bad_offset = clock_offset(sidecar)
    if bad_offset:
        flags["bad_sidecar"] = bad_offset
    camera_start = None
    if offset and source in CAMERA_SOURCES:
        camera_start, start = start, start - timedelta(seconds=offset)
    device = _fits(_str(sidecar.data.get("device")), SERIAL_LEN, "sidecar device", flags) \
        or _fits(name.device, SERIAL_LEN, "file name's device", flags) or _fits(camera, SERIAL_LEN, "camera", flags)
    officer = _fits(_str(sidecar.data.get("officer")), BADGE_LEN, "sidecar officer", flags) \
        or _fits(name.officer, BADGE_LEN, "file name's officer", flags)
    segment = (name.recording, name.seq) if source == "filename" and name.recording and name.seq is not None \
        else None
    return Recording(start, start + duration, source, device, officer, flags, camera_start,
                     offset if camera_start else None, segment)


def _fits(value: str | None, limit: int, what: str, flags: dict[str, str]) -> str | None:
    """``value`` if it fits its registry column; else None, flagged (the file is still stored)."""
    if value is None or len(value) <= limit:
        return value
    flag = "bad_sidecar" if what.startswith("sidecar") else "bad_name"
    flags[flag] = f"{what}: {len(value)} characters, more than {limit}: ignored"
    return None


def _str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
