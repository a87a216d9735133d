"""gaps report: the inspector's coverage-gap report."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bodycam.app import App
from bodycam.commands import get_app
from bodycam.coverage import periods
from bodycam.coverage.engine import KINDS, analyse
from bodycam.coverage.render import SUMMARIES, render
from bodycam.db.models import SCENARIOS
from bodycam.errors import FINDINGS_EXIT, InputError
from bodycam.timeutil import parse_time


@click.group()
def gaps() -> None:
    """Coverage gaps in the situations that must be recorded."""


def window(app: App, start: str | None, end: str | None, day: str | None, week: str | None,
           month: str | None) -> tuple[datetime, datetime]:
    """--from/--to, or one of --day, --week, --month (in --tz)."""
    zone = app.settings.zone
    given = [o for o, v in (("--from/--to", start or end), ("--day", day), ("--week", week), ("--month", month)) if v]
    if len(given) != 1:
        raise InputError("give the period once: --from and --to, or --day, --week or --month")
    if start or end:
        if not (start and end):
            raise InputError("--from and --to go together")
        return parse_time(start, zone, what="--from"), parse_time(end, zone, what="--to")
    today = app.clock.now().astimezone(zone).date()
    span = (periods.day_span(day, today) if day else periods.week_span(week, today) if week
            else periods.month_span(month or "", today))
    return periods.bounds(*span, zone)


@gaps.command("report")
@click.option("--from", "start", help="Events from (ISO 8601; naive = --tz).")
@click.option("--to", "end", help="Events up to.")
@click.option("--day", help="yesterday, today or YYYY-MM-DD (midnight to midnight in --tz).")
@click.option("--week", help="last, this or a date in the week (Monday to Sunday).")
@click.option("--month", help="last, this or YYYY-MM.")
@click.option("--unit", multiple=True, help="Unit code (repeatable).")
@click.option("--officer", multiple=True, help="Badge number (repeatable).")
@click.option("--scenario", multiple=True, type=click.Choice(SCENARIOS))
@click.option("--kind", multiple=True, type=click.Choice(KINDS),
              help="List only findings of this kind (the summaries still count every finding).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "html"]), default="table",
              show_default=True, help="html: one self-contained file with timelines (use with --out).")
@click.option("--summary", type=click.Choice(SUMMARIES), help="CSV: this summary instead of the findings.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.pass_context
def gaps_report(ctx: click.Context, start: str | None, end: str | None, day: str | None, week: str | None,
                month: str | None, unit: tuple[str, ...], officer: tuple[str, ...], scenario: tuple[str, ...],
                kind: tuple[str, ...], fmt: str, summary: str | None, out: Path | None) -> None:
    """Findings per event and officer, and per-officer, unit and scenario summaries.

    Exit 0 with no findings, 4 with findings. A period with no required recordings is a
    warning, never a clean report."""
    app = get_app(ctx)
    zone = app.settings.zone
    if summary and fmt != "csv":
        raise InputError("--summary goes with --format csv (the other formats hold every summary)")
    lo, hi = window(app, start, end, day, week, month)
    with app.ready_db().read() as s:
        report = analyse(s, app.settings, lo, hi, units=unit, officers=officer, scenarios=scenario, kinds=kind)
    text = render(report, fmt, zone, summary)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"report: {out} ({len(report.findings)} finding(s))", err=True)
    else:
        click.echo(text)
    for warning in report.warnings:
        click.echo(f"bodycam: warning: {warning}", err=True)
    app.audit("gaps.report", "coverage", {"from": lo.isoformat(), "to": hi.isoformat(), "findings":
                                          len(report.findings), "out": str(out) if out else None,
                                          "warnings": report.warnings})
    if report.findings:
        ctx.exit(FINDINGS_EXIT)


COMMANDS = [gaps]
