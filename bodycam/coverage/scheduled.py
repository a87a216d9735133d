"""The inspectors' routine (日巡查、周通报、月讲评): daily, weekly and monthly reports,
written by the unattended service to a reports folder and audited; written again when
late footage or late events arrive for their period.

Each report's JSON records what it was computed from (``basis``: the newest clip and
event ids then). :func:`refresh_reports` looks for clips or events newer than that which
fall in the report's period and, if there are any, writes the report again; the previous
version is kept beside it (``.v1``, ``.v2`` ...), so a report once sent is never lost.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bodycam import output
from bodycam.app import App
from bodycam.config import data_home
from bodycam.coverage.engine import analyse
from bodycam.coverage.periods import scheduled
from bodycam.coverage.render import as_json, render
from bodycam.db.models import Clip, Event
from bodycam.incidents import queues


def folder_of(app: App) -> Path:
    return app.settings.coverage.reports.folder or data_home() / "reports"


def write_reports(app: App, today: date) -> list[Path]:
    cfg = app.settings.coverage.reports
    written = []
    for name, first, end in scheduled(today, cfg.daily, cfg.weekly, cfg.monthly):
        written += _write(app, name, first, end, "scheduled")
    return written


def _basis(app: App) -> dict[str, int]:
    with app.ready_db().read() as s:
        return {"clip_id": int(s.scalar(select(func.max(Clip.id))) or 0),
                "event_id": int(s.scalar(select(func.max(Event.id))) or 0)}


def _write(app: App, name: str, first: date, end: date, why: str) -> list[Path]:
    folder = folder_of(app)
    folder.mkdir(parents=True, exist_ok=True)
    zone = app.settings.zone
    lo, hi = datetime.combine(first, time(), zone), datetime.combine(end, time(), zone)
    basis = _basis(app)  # before the report: data arriving meanwhile is newer than the basis
    with app.ready_db().read() as s:
        report = analyse(s, app.settings, lo, hi)
        report.links = queues.summary(s, lo, hi)
    stem = folder / f"coverage-{name}-{first.isoformat()}"
    texts = {"html": render(report, "html", zone),
             "json": output.to_json({**as_json(report), "period": name, "generated_at": app.clock.now(),
                                     "basis": basis})}
    written = []
    for fmt, text in texts.items():
        path = stem.with_suffix(f".{fmt}")
        if why != "scheduled" and path.exists():
            path.replace(_free_version(path))
        tmp = path.with_suffix(path.suffix + ".partial")
        tmp.write_text(text + "\n", encoding="utf-8")
        tmp.replace(path)
        written.append(path)
    app.audit(f"gaps.report.{why}", "coverage", {"period": name, "from": lo.isoformat(), "to": hi.isoformat(),
                                                 "findings": len(report.findings), "file": str(stem),
                                                 "basis": basis})
    return written


def _free_version(path: Path) -> Path:
    n = 1
    while (candidate := path.with_name(f"{path.stem}.v{n}{path.suffix}")).exists():
        n += 1
    return candidate


def late_arrivals(app: App, report: dict[str, Any]) -> dict[str, int]:
    """Clips and events newer than the report's basis that fall in its period."""
    lo, hi = datetime.fromisoformat(report["from"]), datetime.fromisoformat(report["to"])
    basis = report.get("basis") or {}
    with app.ready_db().read() as s:
        clips = s.scalar(select(func.count()).select_from(Clip).where(
            Clip.id > int(basis.get("clip_id", 0)), Clip.recorded_start < hi, Clip.recorded_end > lo))
        events = s.scalar(select(func.count()).select_from(Event).where(
            Event.id > int(basis.get("event_id", 0)), Event.start < hi, Event.end > lo))
    return {"clips": int(clips or 0), "events": int(events or 0)}


def refresh_reports(app: App) -> list[Path]:
    """Write again every scheduled report whose period received late footage or late events."""
    folder = folder_of(app)
    if not folder.is_dir():
        return []
    written = []
    for path in sorted(folder.glob("coverage-*-*.json")):
        if ".v" in path.stem:
            continue
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            name, first = report["period"], datetime.fromisoformat(report["from"]).astimezone(app.settings.zone)
            end = datetime.fromisoformat(report["to"]).astimezone(app.settings.zone)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not a scheduled report of this version: left as it is
        late = late_arrivals(app, report)
        if late["clips"] or late["events"]:
            written += _write(app, name, first.date(), end.date(), "regenerated")
    return written
