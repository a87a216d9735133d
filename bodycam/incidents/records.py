"""A dispatch export, read as it is: the settings name its columns, its time format and its types.

One row per incident (officers separated) or one row per officer on an incident (Axon's shape): rows
with one incident id are one incident, each officer with their own dispatch and clear. Every row is
checked before anything is written; a fault names the file, the line and the export's own column.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from bodycam.config import IncidentSettings
from bodycam.db.models import BADGE_LEN, ID_LEN, UNIT_LEN
from bodycam.errors import InputError
from bodycam.index.tabular import Field, Row, read_rows
from bodycam.timeutil import parse_time

LONGEST = timedelta(hours=24)
"""A dispatch-to-clear window longer than a day is a typo in the export, not a call."""


@dataclass(frozen=True)
class Window:
    badge: str
    dispatched: datetime
    arrived: datetime | None
    cleared: datetime


@dataclass
class Record:
    incident_id: str
    type: str
    scenario: str | None
    received: datetime | None
    unit: str | None
    location: str
    case: str | None
    where: str
    officers: dict[str, Window] = field(default_factory=dict)

    @property
    def start(self) -> datetime:
        return min(w.dispatched for w in self.officers.values())

    @property
    def end(self) -> datetime:
        return max(w.cleared for w in self.officers.values())


def _parser(cfg: IncidentSettings, zone: tzinfo) -> Callable[[str], datetime]:
    def parse(text: str) -> datetime:
        if cfg.time_format is None:
            try:
                return parse_time(text, zone)
            except InputError as exc:  # named by the row and the export's column, like every other fault
                raise ValueError(str(exc).removeprefix("time: ")) from None
        try:
            value = datetime.strptime(text, cfg.time_format)
        except ValueError:
            raise ValueError(f"{text!r} does not match the time format {cfg.time_format!r}") from None
        return (value if value.tzinfo else value.replace(tzinfo=zone)).astimezone(UTC)
    return parse


def fields(cfg: IncidentSettings, zone: tzinfo) -> list[Field]:
    when = _parser(cfg, zone)
    return [Field("incident_id", max_len=ID_LEN), Field("type", False, max_len=200), Field("received", False, when),
            Field("dispatched", False, when), Field("arrived", False, when), Field("cleared", True, when),
            Field("officers", max_len=10_000), Field("unit", False, max_len=UNIT_LEN), Field("location", False),
            Field("case", False, max_len=ID_LEN)]


def read(path: Path, cfg: IncidentSettings, default_zone: str) -> list[Record]:
    """The export's incidents, or InputError naming the first bad row and column."""
    zone = ZoneInfo(cfg.tz or default_zone)
    rows = read_rows(path, fields(cfg, zone), cfg.columns)
    label = {name: cfg.columns.get(name, name) for name in ("dispatched", "cleared", "officers", "type")}
    out: dict[str, Record] = {}
    for row in rows:
        record = _record(row, cfg, label)
        known = out.get(record.incident_id)
        if known is None:
            out[record.incident_id] = record
            continue
        for badge, window in record.officers.items():  # one row per officer (Axon's shape)
            if badge in known.officers and known.officers[badge] != window:
                raise _fail(row, label["officers"], f"officer {badge} of incident {record.incident_id} appears "
                                                     f"twice with different times (first at {known.where})")
            known.officers[badge] = window
    return list(out.values())


def _fail(row: Row, column: str, why: str) -> InputError:
    return InputError(f"{row.where}: field '{column}': {why}")


def _record(row: Row, cfg: IncidentSettings, label: dict[str, str]) -> Record:
    v = row.values
    start = v["dispatched"] or v["received"]
    if start is None:
        raise _fail(row, label["dispatched"], "required (or a received time)")
    if v["cleared"] <= start:
        raise _fail(row, label["cleared"], f"{v['cleared'].isoformat()} is not after the dispatch "
                                           f"{start.isoformat()}")
    if v["cleared"] - start > LONGEST:
        raise _fail(row, label["cleared"], f"{(v['cleared'] - start)} after the dispatch: more than a day")
    badges = [b.strip() for b in v["officers"].split(cfg.officer_separator) if b.strip()]
    if not badges:
        raise _fail(row, label["officers"], f"at least one badge number, separated by {cfg.officer_separator!r}")
    long = next((b for b in badges if len(b) > BADGE_LEN), None)
    if long is not None:
        raise _fail(row, label["officers"], f"badge {long[:20]!r}... is longer than {BADGE_LEN} characters")
    kind = v["type"] or ""
    return Record(v["incident_id"], kind, cfg.types.get(kind), v["received"], v["unit"], v["location"] or "",
                  v["case"], row.where, {b: Window(b, start, v["arrived"], v["cleared"]) for b in badges})
