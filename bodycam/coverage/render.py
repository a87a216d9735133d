"""The coverage report in each format: table, JSON, CSV (findings or a summary), HTML.

Times are shown in the report's zone in every format but JSON (ISO 8601 with its
offset there too). Rates are fractions in JSON and percentages for people.
"""

from __future__ import annotations

from datetime import tzinfo
from typing import Any

from bodycam import output
from bodycam.coverage.engine import Finding, Report
from bodycam.timeutil import show

FINDING_COLUMNS = ["id", "event_id", "scenario", "officer", "names", "unit", "kind", "start", "end", "seconds",
                   "clips", "review", "detail"]
SUMMARIES = ("officer", "unit", "scenario")
SUMMARY_COLUMNS = ["events", "fully_covered", "with_footage", "activation", "required_seconds", "covered_seconds",
                   "coverage", "findings", "reviewed", "unreviewed", "violations", "pass"]


def percent(fraction: float) -> str:
    return f"{fraction * 100:.1f} %"


def names_of(label: str, names: dict[str, str]) -> str:
    """'Zhang Wei (P1), Li Na (P2)' for the label 'P1, P2' (a badge without a known name stays a badge)."""
    return ", ".join(f"{names[b]} ({b})" if names.get(b) else b for b in label.split(", ") if b and b != "-")


def finding_row(f: Finding, names: dict[str, str] | None = None) -> dict[str, Any]:
    return {"id": f.id, "event_id": f.event_id, "scenario": f.scenario, "officer": f.officer,
            "names": names_of(f.officer, names or {}), "unit": f.unit, "kind": f.kind, "start": f.start,
            "end": f.end, "seconds": f.seconds, "clips": list(f.clips), "review": f.review,
            "reviewed_by": f.reviewed_by, "detail": f.detail}


def as_json(r: Report) -> dict[str, Any]:
    return {
        "from": r.start, "to": r.end, "warnings": r.warnings,
        "findings": [finding_row(f, r.names) for f in r.findings],
        "events": [{"event_id": u.event_id, "scenario": u.scenario, "officer": u.officer, "officers": list(u.officers),
                    "unit": u.unit, "start": u.start, "end": u.end, "required_seconds": round(u.required, 3),
                    "covered_seconds": round(u.covered, 3), "findings": len(u.findings)} for u in r.units],
        "by_officer": r.summary("officer"), "by_unit": r.summary("unit"), "by_scenario": r.summary("scenario"),
        **({"links": r.links} if r.links is not None else {}),
    }


def summary_rows(r: Report, by: str) -> list[dict[str, Any]]:
    """A summary for people: percentages, findings as 'kind n, ...', an officer with their name."""
    out = []
    for row in r.summary(by):
        shown = {**row, "activation": percent(row["activation_rate"]), "coverage": percent(row["coverage"]),
                 "pass": percent(row["pass_rate"]),
                 "findings": ", ".join(f"{k} {n}" for k, n in row["findings"].items()) or "-"}
        if by == "officer":
            shown["officer"] = names_of(row["officer"], r.names) or row["officer"]
        out.append(shown)
    return out


def render(r: Report, fmt: str, zone: tzinfo, summary: str | None = None) -> str:
    """The report as text; ``summary`` (officer, unit or scenario) makes the CSV that summary, not the findings."""
    if fmt == "html":
        from bodycam.coverage.html import render_html

        return render_html(r, zone)
    if fmt == "json":
        return output.to_json(as_json(r))
    if fmt == "csv":
        if summary:
            return output.to_csv(summary_rows(r, summary), [summary, *SUMMARY_COLUMNS])
        return output.to_csv(_in_zone(r, zone), FINDING_COLUMNS)
    return _text(r, zone)


def _in_zone(r: Report, zone: tzinfo) -> list[dict[str, Any]]:
    return [{**x, "start": show(x["start"], zone), "end": show(x["end"], zone)}
            for x in (finding_row(f, r.names) for f in r.findings)]


def _text(r: Report, zone: tzinfo) -> str:
    rows = _in_zone(r, zone)
    parts = [f"coverage {show(r.start, zone)} .. {show(r.end, zone)}: {len(r.units)} required recording(s), "
             f"{len(rows)} finding(s)"]
    parts += [f"WARNING: {w}" for w in r.warnings]
    parts.append(output.table([{**x, "review": x["review"] or "unreviewed"} for x in rows],
                              [c for c in FINDING_COLUMNS if c != "officer"]))
    for by in SUMMARIES:
        parts += ["", f"by {by}:", output.table(summary_rows(r, by), [by, *SUMMARY_COLUMNS])]
    return "\n".join(parts)
