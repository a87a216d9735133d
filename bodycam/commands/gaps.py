"""gaps report: the inspector's coverage-gap report."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from bodycam import output
from bodycam.app import App
from bodycam.commands import format_option, get_app
from bodycam.coverage import periods, review
from bodycam.coverage.engine import KINDS, analyse
from bodycam.coverage.render import SUMMARIES, render
from bodycam.db.models import REVIEW_RESULTS, SCENARIOS
from bodycam.errors import FINDINGS_EXIT, InputError
from bodycam.incidents import queues
from bodycam.timeutil import parse_time, show


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


def _period_options(fn: Any) -> Any:
    for option in reversed([
        click.option("--from", "start", help="From (ISO 8601; naive = --tz)."),
        click.option("--to", "end", help="Up to."),
        click.option("--day", help="yesterday, today or YYYY-MM-DD (midnight to midnight in --tz)."),
        click.option("--week", help="last, this or a date in the week (Monday to Sunday)."),
        click.option("--month", help="last, this or YYYY-MM."),
    ]):
        fn = option(fn)
    return fn


@gaps.command("report")
@_period_options
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
        if fmt in ("html", "json"):
            report.links = queues.summary(s, lo, hi, unit)
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


@gaps.command("review")
@click.argument("finding_id")
@click.option("--result", required=True, type=click.Choice(REVIEW_RESULTS),
              help="justified, violation, equipment_fault or not_required (only a violation fails the pass rate).")
@click.option("--note", required=True, help="Why (audited, shown in the report).")
@click.pass_context
def gaps_review(ctx: click.Context, finding_id: str, result: str, note: str) -> None:
    """A supervisor's verdict on FINDING_ID (EVENT#hash, as the report shows it); a later one supersedes."""
    app = get_app(ctx)
    finding = review.review(app.ready_db(), app.settings, finding_id, result, note, app.actor, app.clock.now())
    was = f" (was {finding.review})" if finding.review else ""
    click.echo(f"{finding_id}: {finding.kind} of {finding.officer} at {finding.event_id}: {result}{was}")


@gaps.command("sample")
@click.option("--per-officer", type=click.IntRange(1, 1000), required=True, help="Recordings per officer.")
@click.option("--period", type=click.Choice(["day", "week", "month"]),
              help="The last complete day, week or month (or give --day/--week/--month/--from/--to).")
@_period_options
@click.option("--unit", multiple=True, help="Unit code (repeatable).")
@click.option("--seed", type=int, help="Draw again the same sample (printed with every sample).")
@format_option
@click.pass_context
def gaps_sample(ctx: click.Context, per_officer: int, period: str | None, start: str | None, end: str | None,
                day: str | None, week: str | None, month: str | None, unit: tuple[str, ...], seed: int | None,
                fmt: str) -> None:
    """A random sample of each officer's required recordings for review (考核), with their findings."""
    app = get_app(ctx)
    if period:
        if start or end or day or week or month:
            raise InputError("--period goes alone: or give --day, --week, --month or --from/--to")
        day, week, month = {"day": ("yesterday", None, None), "week": (None, "last", None),
                            "month": (None, None, "last")}[period]
    lo, hi = window(app, start, end, day, week, month)
    seed = seed if seed is not None else secrets.randbits(31)
    with app.ready_db().read() as s:
        report = analyse(s, app.settings, lo, hi, units=unit)
    picks = review.sample(report.units, per_officer, seed)
    rows: list[dict[str, Any]] = [{
        "officer": p.officer, "event_id": p.unit.event_id, "scenario": p.unit.scenario, "start": p.unit.start,
             "end": p.unit.end, "clips": [c for c, _, _ in p.unit.footage],
             "findings": [{"id": f.id, "kind": f.kind, "review": f.review} for f in p.unit.all_findings]}
            for p in picks]
    app.audit("gaps.sample", "coverage", {"from": lo.isoformat(), "to": hi.isoformat(), "per_officer": per_officer,
                                          "seed": seed, "picked": [[r["officer"], r["event_id"]] for r in rows]})
    if fmt == "json":
        click.echo(output.to_json({"seed": seed, "from": lo, "to": hi, "sample": rows}))
        return
    zone = app.settings.zone
    click.echo(f"sample of {per_officer} per officer, {show(lo, zone)} .. {show(hi, zone)} (seed {seed})")
    click.echo(output.table([{**r, "start": show(r["start"], zone), "clips": r["clips"],
                              "findings": ", ".join(f"{f['id']} {f['kind']} {f['review'] or 'unreviewed'}"
                                                    for f in r["findings"]) or "-"} for r in rows],
                            ["officer", "event_id", "scenario", "start", "clips", "findings"]))


COMMANDS = [gaps]
