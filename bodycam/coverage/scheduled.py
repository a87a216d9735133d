"""The inspectors' routine (日巡查、周通报、月讲评): daily, weekly and monthly reports,
written by the unattended service to a reports folder and audited."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path

from bodycam.app import App
from bodycam.config import data_home
from bodycam.coverage.engine import analyse


def periods(today: date, daily: bool, weekly: bool, monthly: bool) -> list[tuple[str, date, date]]:
    """(name, first day, day after the last) of each report due on ``today``: yesterday;
    last week (Monday to Sunday) on Mondays; last month on the 1st."""
    out = []
    if daily:
        out.append(("daily", today - timedelta(days=1), today))
    if weekly and today.weekday() == 0:
        out.append(("weekly", today - timedelta(days=7), today))
    if monthly and today.day == 1:
        first = (today - timedelta(days=1)).replace(day=1)
        out.append(("monthly", first, today))
    return out


def write_reports(app: App, today: date) -> list[Path]:
    from bodycam.commands.gaps import render

    cfg = app.settings.coverage.reports
    folder = cfg.folder or data_home() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    zone = app.settings.zone
    written = []
    for name, first, end in periods(today, cfg.daily, cfg.weekly, cfg.monthly):
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
