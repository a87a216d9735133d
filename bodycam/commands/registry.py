"""officers / devices / assignments / crews / cases / events: import, list, show."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from bodycam import output
from bodycam.commands import format_option, get_app
from bodycam.db.models import SCENARIOS
from bodycam.index import registers
from bodycam.index.imports import UNKNOWN, run_import
from bodycam.timeutil import parse_time, show

COLUMNS = {
    "officers": "badge, name, unit",
    "devices": "serial, kind (body_camera|interrogation_recorder|fixed_camera|in_car_camera), unit, room, "
               "description, vehicle",
    "assignments": "device, officer, start, end (empty = open-ended)",
    "crews": "vehicle, officer, start, end (empty = open-ended); several officers may share a vehicle",
    "cases": "number, title, status (open|closed), opened_at, closed_at",
    "events": "event_id, scenario, start, end, officers (badges separated by ';'), unit, case_id, location",
}


def _group(kind: str) -> click.Group:
    @click.group(name=kind, help=f"The {kind} registry.")
    def group() -> None:
        pass

    @group.command("import", help=f"Import {kind} from CSV or JSON (columns: {COLUMNS[kind]}). "
                                  "All rows or none; re-importing the same file changes nothing.")
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @click.option("--unknown", type=click.Choice(UNKNOWN), default="refuse", show_default=True,
                  hidden=kind not in ("events", "crews"),
                  help="A row naming a badge (or unit) the registries do not know: refuse the file, or "
                       "import it with a warning per row.")
    @format_option
    @click.pass_context
    def import_(ctx: click.Context, file: Path, unknown: str, fmt: str) -> None:
        app = get_app(ctx)
        result = run_import(app.ready_db(), kind, file, app.settings.zone, app.actor, unknown=unknown)
        data = {"kind": kind, "rows": result.rows, "created": result.created, "updated": result.updated,
                "unchanged": result.unchanged, "changes": result.changes, "warnings": result.warnings,
                "clips": [{"clip_id": c.clip_id, "change": c.note, "from": c.before or None, "to": c.after or None}
                          for c in result.clip_changes]}
        if fmt == "json":
            click.echo(output.to_json(data))
        else:
            click.echo(f"{kind}: {result.rows} rows: {result.created} created, {result.updated} updated, "
                       f"{result.unchanged} unchanged")
            for change in result.changes:
                click.echo(f"  changed {change}")
            for warning in result.warnings:
                click.echo(f"  warning: {warning}")
            for c in result.clip_changes:
                if c.note == "reattributed":
                    click.echo(f"  clip {c.clip_id}: officer {c.before or '(none)'} -> {c.after or '(none)'}")
                else:
                    click.echo(f"  clip {c.clip_id}: flagged officer_conflict (file names {c.before}, "
                               f"assignment says {c.after})")

    if kind in registers.KINDS:
        _listing(group, kind)
    return group


LIST_COLUMNS = {
    "officers": ["badge", "name", "unit", "clips"],
    "devices": ["serial", "kind", "unit", "room", "vehicle", "assigned_to", "description"],
    "crews": ["vehicle", "officer", "start", "end", "cameras"],
    "cases": ["number", "title", "status", "opened_at", "closed_at", "clips"],
    "events": ["event_id", "scenario", "start", "end", "officers", "unit", "case", "location"],
}
KEYS = {"officers": "BADGE", "devices": "SERIAL", "crews": "VEHICLE", "cases": "NUMBER", "events": "EVENT_ID"}


def _listing(group: click.Group, kind: str) -> None:
    """``KIND list`` and ``KIND show KEY``: looking up is an access, and audited."""

    @group.command("list", help=f"The {kind} registry (--format json for scripts).")
    @click.option("--unit", help="Only this unit's." if kind != "cases" else "Ignored for cases.",
                  hidden=kind == "cases")
    @click.option("--status", type=click.Choice(["open", "closed"]), hidden=kind != "cases")
    @click.option("--scenario", type=click.Choice(SCENARIOS), hidden=kind != "events")
    @click.option("--from", "start", hidden=kind != "events", help="Events overlapping from (ISO 8601).")
    @click.option("--to", "end", hidden=kind != "events", help="Events overlapping up to.")
    @format_option
    @click.pass_context
    def list_(ctx: click.Context, unit: str | None, status: str | None, scenario: str | None, start: str | None,
              end: str | None, fmt: str) -> None:
        app = get_app(ctx)
        zone = app.settings.zone
        with app.ready_db().read() as s:
            if kind == "officers":
                rows = registers.officers(s, unit)
            elif kind == "devices":
                rows = registers.devices(s, unit)
            elif kind == "crews":
                rows = registers.crews(s, unit=unit)
            elif kind == "cases":
                rows = registers.cases(s, status)
            else:
                rows = registers.events(s, parse_time(start, zone, what="--from") if start else None,
                                        parse_time(end, zone, what="--to") if end else None, scenario, unit)
        app.audit(f"{kind}.list", f"registry:{kind}", {"count": len(rows)})
        if fmt == "json":
            click.echo(output.to_json(rows))
            return
        shown = [{k: show(v, zone) if isinstance(v, datetime) else ";".join(v) if isinstance(v, list) else v
                  for k, v in r.items()} for r in rows]
        click.echo(output.table(shown, LIST_COLUMNS[kind]))

    @group.command("show", help=f"One of the {kind} and what hangs on it.")
    @click.argument("key", metavar=KEYS[kind])
    @format_option
    @click.pass_context
    def show_(ctx: click.Context, key: str, fmt: str) -> None:
        app = get_app(ctx)
        with app.ready_db().read() as s:
            row = registers.show(s, kind, key)
        app.audit(f"{kind}.show", f"{kind[:-1]}:{key}", {})
        if fmt == "json":
            click.echo(output.to_json(row))
            return
        zone = app.settings.zone
        for k, v in row.items():
            if isinstance(v, list) and v and isinstance(v[0], dict):
                click.echo(f"{k}:")
                click.echo(output.table([{c: show(x, zone) if isinstance(x, datetime) else x for c, x in r.items()}
                                         for r in v], list(v[0])))
            elif isinstance(v, list):
                click.echo(f"{k}: {', '.join(map(str, v)) or '-'}")
            else:
                click.echo(f"{k}: {show(v, zone) if isinstance(v, datetime) else v}")


officers, devices, assignments, crews, cases, events = (
    _group(k) for k in ("officers", "devices", "assignments", "crews", "cases", "events")
)

COMMANDS = [officers, devices, assignments, crews, cases, events]
