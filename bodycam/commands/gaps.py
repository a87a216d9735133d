"""gaps report: the inspector's coverage-gap report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from bodycam import output
from bodycam.commands import get_app
from bodycam.coverage.engine import KINDS, Report, analyse
from bodycam.db.models import SCENARIOS
from bodycam.errors import FINDINGS_EXIT
from bodycam.timeutil import parse_time, show

FINDING_COLUMNS = ["event_id", "scenario", "officer", "unit", "kind", "start", "end", "seconds", "clips", "detail"]


@click.group()
def gaps() -> None:
    """Coverage gaps in the situations that must be recorded."""


@gaps.command("report")
@click.option("--from", "start", required=True, help="Events from (ISO 8601; naive = --tz).")
@click.option("--to", "end", required=True, help="Events up to.")
@click.option("--unit", multiple=True, help="Unit code (repeatable).")
@click.option("--officer", multiple=True, help="Badge number (repeatable).")
@click.option("--scenario", multiple=True, type=click.Choice(SCENARIOS))
@click.option("--kind", multiple=True, type=click.Choice(KINDS), help="Only findings of this kind.")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv", "html"]), default="table",
              show_default=True, help="html: one self-contained file with timelines (use with --out).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to this file.")
@click.pass_context
def gaps_report(ctx: click.Context, start: str, end: str, unit: tuple[str, ...], officer: tuple[str, ...],
                scenario: tuple[str, ...], kind: tuple[str, ...], fmt: str, out: Path | None) -> None:
    """Findings per event and officer, and per-officer, unit and scenario summaries.

    Exit 0 with no findings, 4 with findings."""
    app = get_app(ctx)
    zone = app.settings.zone
    lo, hi = parse_time(start, zone, what="--from"), parse_time(end, zone, what="--to")
    with app.ready_db().read() as s:
        report = analyse(s, app.settings, lo, hi, units=unit, officers=officer, scenarios=scenario, kinds=kind)
    text = render(report, fmt, zone)
    if out:
        out.write_text(text + "\n", encoding="utf-8")
        click.echo(f"report: {out} ({len(report.findings)} finding(s))", err=True)
    else:
        click.echo(text)
    app.audit("gaps.report", "coverage", {"from": lo.isoformat(), "to": hi.isoformat(), "findings":
                                          len(report.findings), "out": str(out) if out else None})
    if report.findings:
        ctx.exit(FINDINGS_EXIT)


def as_json(r: Report) -> dict[str, Any]:
    return {
        "from": r.start, "to": r.end,
        "findings": [finding_row(f) for f in r.findings],
        "events": [{"event_id": u.event_id, "scenario": u.scenario, "officer": u.officer, "unit": u.unit,
                    "start": u.start, "end": u.end, "required_seconds": round(u.required, 3),
                    "covered_seconds": round(u.covered, 3), "findings": len(u.findings)} for u in r.units],
        "by_officer": r.summary("officer"), "by_unit": r.summary("unit"), "by_scenario": r.summary("scenario"),
    }


def finding_row(f: Any) -> dict[str, Any]:
    return {"event_id": f.event_id, "scenario": f.scenario, "officer": f.officer, "unit": f.unit,
            "kind": f.kind, "start": f.start, "end": f.end, "seconds": f.seconds, "clips": list(f.clips),
            "detail": f.detail}


def render(r: Report, fmt: str, zone: Any) -> str:
    if fmt == "html":
        from bodycam.coverage.html import render_html

        return render_html(r, zone)
    if fmt == "json":
        return output.to_json(as_json(r))
    rows = [finding_row(f) for f in r.findings]
    if fmt == "csv":
        return output.to_csv(rows, FINDING_COLUMNS)
    shown = [{**x, "start": show(x["start"], zone), "end": show(x["end"], zone)} for x in rows]
    parts = [f"coverage {show(r.start, zone)} .. {show(r.end, zone)}: {len(r.units)} required recording(s), "
             f"{len(rows)} finding(s)", output.table(shown, FINDING_COLUMNS), "", "by officer:"]
    summary = [{**x, "findings": ", ".join(f"{k} {v}" for k, v in x["findings"].items()) or "-"}
               for x in r.summary("officer")]
    parts.append(output.table(summary, ["officer", "events", "fully_covered", "activation_rate", "required_seconds",
                                        "covered_seconds", "coverage", "findings"]))
    return "\n".join(parts)


COMMANDS = [gaps]
