"""The inspectors' routine (日巡查、周通报、月讲评): daily, weekly and monthly reports,
written by the unattended service to a reports folder and audited."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path

from bodycam.app import App
from bodycam.config import data_home
from bodycam.coverage.engine import analyse
from bodycam.coverage.periods import scheduled
from bodycam.coverage.render import render


def write_reports(app: App, today: date) -> list[Path]:
    cfg = app.settings.coverage.reports
    folder = cfg.folder or data_home() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    zone = app.settings.zone
    written = []
    for name, first, end in scheduled(today, cfg.daily, cfg.weekly, cfg.monthly):
        lo = datetime.combine(first, time(), zone)
        hi = datetime.combine(end, time(), zone)
        with app.ready_db().read() as s:
            report = analyse(s, app.settings, lo, hi)
        stem = folder / f"coverage-{name}-{first.isoformat()}"
        for fmt in ("html", "json"):
            path = stem.with_suffix(f".{fmt}")
            tmp = path.with_suffix(path.suffix + ".partial")
            tmp.write_text(render(report, fmt, zone) + "\n", encoding="utf-8")
            tmp.replace(path)
            written.append(path)
        app.audit("gaps.report.scheduled", "coverage", {"period": name, "from": lo.isoformat(), "to": hi.isoformat(),
                                                        "findings": len(report.findings), "file": str(stem)})
    return written
