"""An interrogation-room recorder's ``session.json``, validated."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from bodycam.db.models import BADGE_LEN, ID_LEN
from bodycam.errors import InputError
from bodycam.ingest.recording import MAX_SIDECAR, read_regular
from bodycam.timeutil import parse_time

REQUIRED = ("session_id", "room", "start", "end", "interrogators", "files")


@dataclass(frozen=True)
class ManifestFile:
    name: str
    start: datetime | None


@dataclass(frozen=True)
class Manifest:
    path: Path
    session_id: str
    room: str
    case_id: str | None
    start: datetime
    end: datetime
    interrogators: tuple[str, ...]
    files: tuple[ManifestFile, ...]
    raw: dict[str, Any]


def read_manifest(path: Path, zone: tzinfo) -> Manifest:
    """Parse and check a manifest; any fault names the file and the key."""
    try:
        raw = json.loads(read_regular(path, MAX_SIDECAR).decode("utf-8"))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    if not isinstance(raw, dict):
        raise InputError(f"{path}: expected a JSON object")
    for key in REQUIRED:
        if key not in raw:
            raise InputError(f"{path}: key '{key}': missing")
    for key in ("session_id", "room"):
        if not isinstance(raw[key], str) or not raw[key].strip():
            raise InputError(f"{path}: key '{key}': must be a non-empty string")
        if len(raw[key].strip()) > ID_LEN:
            raise InputError(f"{path}: key '{key}': longer than {ID_LEN} characters")
    start = _time(path, raw, "start", zone)
    end = _time(path, raw, "end", zone)
    if end < start:
        raise InputError(f"{path}: key 'end': {raw['end']} is before start {raw['start']}")
    officers = raw["interrogators"]
    if not isinstance(officers, list) or not officers or \
            not all(isinstance(o, str) and o and len(o) <= BADGE_LEN for o in officers):
        raise InputError(f"{path}: key 'interrogators': must be a non-empty list of badge numbers ({BADGE_LEN} "
                         "characters at most)")
    files = raw["files"]
    if not isinstance(files, list):
        raise InputError(f"{path}: key 'files': must be a list")
    parsed: list[ManifestFile] = []
    for i, entry in enumerate(files):
        if isinstance(entry, str) and entry:
            parsed.append(ManifestFile(entry, None))
        elif isinstance(entry, dict) and isinstance(entry.get("name"), str):
            when = _time(path, entry, "start", zone, f"files[{i}].start") if "start" in entry else None
            parsed.append(ManifestFile(entry["name"], when))
        else:
            raise InputError(f"{path}: key 'files[{i}]': must be a file name or {{\"name\": ..., \"start\": ...}}")
        if "/" in parsed[-1].name or parsed[-1].name in (".", ".."):
            raise InputError(f"{path}: key 'files[{i}]': must be a plain file name in the session folder")
    case = raw.get("case_id")
    if case is not None and (not isinstance(case, str) or len(case) > ID_LEN):
        raise InputError(f"{path}: key 'case_id': must be a string of {ID_LEN} characters at most")
    return Manifest(path, raw["session_id"].strip(), raw["room"].strip(), case, start, end,
                    tuple(officers), tuple(parsed), raw)


def _time(path: Path, raw: dict[str, Any], key: str, zone: tzinfo, label: str | None = None) -> datetime:
    value = raw.get(key)
    if not isinstance(value, str):
        raise InputError(f"{path}: key '{label or key}': must be an ISO 8601 time")
    try:
        return parse_time(value, zone)
    except InputError:
        raise InputError(f"{path}: key '{label or key}': not an ISO 8601 time: {value!r}") from None


def place_in_order(start: datetime, end: datetime, durations: list[float | None]) -> list[datetime | None]:
    """Starts of the listed files when the manifest gives none: one after the other from the
    session's start, by their probed durations; after a file of unknown length (missing, or
    unreadable), the rest are placed back from the session's end; files between two unknown
    ones cannot be placed (None). Pure: the durations come from the caller."""
    out: list[datetime | None] = [None] * len(durations)
    at = start
    first_unknown = len(durations)
    for i, d in enumerate(durations):
        if d is None:
            first_unknown = i
            break
        out[i] = at
        at += timedelta(seconds=d)
    at = end
    for i in range(len(durations) - 1, first_unknown, -1):
        d = durations[i]
        if d is None:
            break
        at -= timedelta(seconds=d)
        out[i] = at
    return out
