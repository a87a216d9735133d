"""Who recorded what, when: resolving time, device and officer from the evidence
at hand, in order of trust, and saying which source was used."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bodycam.ingest.naming import NameFacts
from bodycam.ingest.probe import MediaFacts
from bodycam.timeutil import parse_time


@dataclass
class Sidecar:
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


def read_sidecar(path: Path | None) -> Sidecar:
    if path is None:
        return Sidecar()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return Sidecar(error=f"{path.name}: {exc}")
    if not isinstance(data, dict):
        return Sidecar(error=f"{path.name}: not a JSON object")
    return Sidecar(data)


@dataclass(frozen=True)
class Recording:
    start: datetime
    end: datetime
    time_source: str
    device: str | None
    officer: str | None
    flags: dict[str, str]


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
        flags["untrusted_time"] = "recording time taken from the file's modification time"
    if media.duration is None:
        flags.setdefault("no_duration", "duration unknown: end set to start")
    device = _str(sidecar.data.get("device")) or name.device or camera
    officer = _str(sidecar.data.get("officer")) or name.officer
    return Recording(start, start + duration, source, device, officer, flags)


def _str(value: object) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None
