"""incidents import / list / show / link / unlink / relink / queue: dispatch records and their clips."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from sqlalchemy import func, select

from bodycam import output
from bodycam.commands import format_option, get_app
from bodycam.commands.gaps import _period_options, window
from bodycam.db.models import Clip, Incident, IncidentLink, IncidentOfficer, Officer
from bodycam.errors import NotFound
from bodycam.incidents import linking, queues
from bodycam.incidents.imports import import_file
from bodycam.index.imports import UNKNOWN
from bodycam.timeutil import parse_time, show


@click.group()
def incidents() -> None:
    """Calls for service (警情) from dispatch exports, and the clips that belong to them."""


@incidents.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--unknown", type=click.Choice(UNKNOWN), default="refuse", show_default=True,
              help="A badge or unit the registries do not know: refuse the file, or import with a warning.")
@format_option
@click.pass_context
def incidents_import(ctx: click.Context, file: Path, unknown: str, fmt: str) -> None:
    """Import a dispatch export (CSV or JSON) as it is: its columns, times and types are named in the
    settings ([incidents], docs/incidents.md). All rows or none; then the clips are linked by rule."""
    app = get_app(ctx)
    done = import_file(app.ready_db(), file, app.settings, app.actor, app.clock, unknown)
    data = {"file": done.file, "incidents": done.incidents, "created": done.created, "updated": done.updated,
            "required_recordings": done.required_recordings, "linked": len(done.links), "warnings": done.warnings}
    if fmt == "json":
        click.echo(output.to_json(data))
        return
    click.echo(f"{file}: {done.incidents} incident(s): {done.created} new, {done.updated} changed; "
               f"{done.required_recordings} required recording(s); {len(done.links)} clip link(s) by rule")
    for line in done.warnings:
        click.echo(f"warning: {line}")


@incidents.command("list")
@_period_options
@click.option("--no-footage", is_flag=True, help="Only incidents no clip is linked to.")
@format_option
@click.pass_context
def incidents_list(ctx: click.Context, start: str | None, end: str | None, day: str | None, week: str | None,
                   month: str | None, no_footage: bool, fmt: str) -> None:
    """Incidents dispatched in the period, with how many clips each has."""
    app = get_app(ctx)
    lo, hi = window(app, start, end, day, week, month)
    with app.ready_db().read() as s:
        linked = dict(s.execute(select(IncidentLink.incident_id, func.count()).where(
            IncidentLink.unlinked_at.is_(None)).group_by(IncidentLink.incident_id)).all())
        rows: list[dict[str, Any]] = []
        for inc in s.scalars(select(Incident).where(Incident.start >= lo, Incident.start < hi)
                             .order_by(Incident.start, Incident.id)):
            clips = int(linked.get(inc.id, 0))
            if no_footage and clips:
                continue
            rows.append({"incident": inc.incident_id, "type": inc.type, "scenario": inc.scenario,
                         "start": inc.start, "end": inc.end, "clips": clips})
    app.audit("incidents.list", "incidents", {"from": lo.isoformat(), "to": hi.isoformat(), "rows": len(rows)})
    if fmt == "json":
        click.echo(output.to_json(rows))
        return
    zone = app.settings.zone
    click.echo(output.table([{**r, "start": show(r["start"], zone), "end": show(r["end"], zone)} for r in rows],
                            ["incident", "type", "scenario", "start", "end", "clips"]))


@incidents.command("show")
@click.argument("incident")
@format_option
@click.pass_context
def incidents_show(ctx: click.Context, incident: str, fmt: str) -> None:
    """One incident: its officers' windows, and each clip linked, with its rule and reason."""
    app = get_app(ctx)
    with app.ready_db().read() as s:
        inc = s.scalar(select(Incident).where(Incident.incident_id == incident))
        if inc is None:
            raise NotFound(f"incident {incident!r}: not found")
        officers: list[dict[str, Any]] = [
            {"officer": badge, "dispatched": d, "arrived": a, "cleared": c} for badge, d, a, c in s.execute(
            select(Officer.badge, IncidentOfficer.dispatched_at, IncidentOfficer.arrived_at, IncidentOfficer.cleared_at)
            .join(Officer, Officer.id == IncidentOfficer.officer_id).where(IncidentOfficer.incident_id == inc.id)
            .order_by(Officer.badge))]
        links = [{"clip": link.clip_id, "officer": badge, "start": rec, "rule": link.rule, "reason": link.reason,
                  "linked_by": link.linked_by, "linked_at": link.linked_at, "unlinked_at": link.unlinked_at,
                  "unlinked_by": link.unlinked_by, "unlink_reason": link.unlink_reason}
                 for link, badge, rec in s.execute(
                     select(IncidentLink, Clip.officer_badge, Clip.recorded_start)
                     .join(Clip, Clip.id == IncidentLink.clip_id).where(IncidentLink.incident_id == inc.id)
                     .order_by(Clip.recorded_start))]
        data = {"incident": inc.incident_id, "type": inc.type, "scenario": inc.scenario, "received": inc.received_at,
                "start": inc.start, "end": inc.end, "location": inc.location, "officers": officers, "clips": links}
    app.audit("incidents.show", f"incident:{incident}")
    if fmt == "json":
        click.echo(output.to_json(data))
        return
    zone = app.settings.zone
    click.echo(f"incident {inc.incident_id} ({inc.type or '-'}; scenario {inc.scenario or 'none'}) "
               f"{show(inc.start, zone)} .. {show(inc.end, zone)} {inc.location}")
    for o in officers:
        click.echo(f"  officer {o['officer']}: dispatched {show(o['dispatched'], zone)}, "
                   f"cleared {show(o['cleared'], zone)}")
    for link in links:
        state = f"UNLINKED by {link['unlinked_by']}: {link['unlink_reason']}" if link["unlinked_at"] else link["rule"]
        click.echo(f"  clip {link['clip']} ({link['officer'] or '-'}): {state}: {link['reason']}")


@incidents.command("link")
@click.argument("incident")
@click.argument("clip", type=int)
@click.option("--reason", required=True, help="Why the clip belongs to the incident (audited).")
@click.pass_context
def incidents_link(ctx: click.Context, incident: str, clip: int, reason: str) -> None:
    """Link a clip to an incident by hand."""
    app = get_app(ctx)
    new = linking.by_hand(app.ready_db(), incident, clip, reason, app.actor, app.clock.now())
    click.echo(f"incident {incident}: clip {clip} " + ("linked" if new else "was already linked"))


@incidents.command("unlink")
@click.argument("incident")
@click.argument("clip", type=int)
@click.option("--reason", required=True, help="Why the clip does not belong to it (audited).")
@click.pass_context
def incidents_unlink(ctx: click.Context, incident: str, clip: int, reason: str) -> None:
    """Take a clip off an incident (kept as unlinked; no rule links it again)."""
    app = get_app(ctx)
    linking.unlink(app.ready_db(), incident, clip, reason, app.actor, app.clock.now())
    click.echo(f"incident {incident}: clip {clip} unlinked")


@incidents.command("relink")
@click.option("--from", "start", help="Incidents dispatched from (ISO 8601; default: the first).")
@click.option("--to", "end", help="Up to (default: the last).")
@click.pass_context
def incidents_relink(ctx: click.Context, start: str | None, end: str | None) -> None:
    """Apply the linking rule to every incident again (after the buffers changed, or a failed pass), a
    day's incidents at a time."""
    app = get_app(ctx)
    zone = app.settings.zone
    lo = parse_time(start, zone, what="--from") if start else None
    hi = parse_time(end, zone, what="--to") if end else None
    db = app.ready_db()
    period = linking.span(db, lo, hi)
    with click.progressbar(length=linking.days(period) if period else 0, label="linking, day by day",
                           file=sys.stderr) as bar:
        new = linking.relink(db, app.settings.incidents, app.actor, app.clock.now(), *period,
                             progress=bar.update) if period else 0
    click.echo(f"{new} new link(s) by rule")


@incidents.command("queue")
@_period_options
@click.option("--unit", help="Only this unit's officers and incidents.")
@format_option
@click.pass_context
def incidents_queue(ctx: click.Context, start: str | None, end: str | None, day: str | None, week: str | None,
                    month: str | None, unit: str | None, fmt: str) -> None:
    """Footage linked to no incident and no case, incidents without footage, and the link rate per unit
    and officer (关联率)."""
    app = get_app(ctx)
    lo, hi = window(app, start, end, day, week, month)
    with app.ready_db().read() as s:
        q = queues.build(s, lo, hi, unit)
    app.audit("incidents.queue", "incidents", {"from": lo.isoformat(), "to": hi.isoformat(), "unit": unit})
    data = {"from": lo, "to": hi, "clips": q.clips, "link_rate": q.link_rate, "by_unit": q.by_unit,
            "by_officer": q.by_officer, "unlinked_clips": q.unlinked_clips,
            "incidents_without_footage": q.incidents_without_footage}
    if fmt == "json":
        click.echo(output.to_json(data))
        return
    zone = app.settings.zone
    click.echo(f"{q.clips} clip(s) from {show(lo, zone)} to {show(hi, zone)}: link rate {q.link_rate:.1%} "
               f"({len(q.unlinked_clips)} linked to no incident and no case)")
    click.echo(output.table([{**r, "link_rate": f"{r['link_rate']:.1%}"} for r in q.by_unit],
                            ["unit", "clips", "to_incident", "to_case", "unlinked", "link_rate"]))
    if q.unlinked_clips:
        click.echo("\nnot linked to any incident or case:")
        click.echo(output.table([{**c, "start": show(c["start"], zone)} for c in q.unlinked_clips],
                                ["clip", "officer", "device", "unit", "start"]))
    if q.incidents_without_footage:
        click.echo("\nincidents without footage:")
        click.echo(output.table([{**i, "start": show(i["start"], zone), "officers": ", ".join(i["officers"])}
                                 for i in q.incidents_without_footage], ["incident", "type", "start", "officers"]))


COMMANDS = [incidents]

