"""officers / devices / assignments / cases import."""

from __future__ import annotations

from pathlib import Path

import click

from bodycam import output
from bodycam.commands import format_option, get_app
from bodycam.index.imports import UNKNOWN, run_import

COLUMNS = {
    "officers": "badge, name, unit",
    "devices": "serial, kind (body_camera|interrogation_recorder), unit, room, description",
    "assignments": "device, officer, start, end (empty = open-ended)",
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
                  hidden=kind != "events",
                  help="An event naming a badge or unit the registries do not know: refuse the file, or "
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

    return group


officers, devices, assignments, cases, events = (
    _group(k) for k in ("officers", "devices", "assignments", "cases", "events")
)

COMMANDS = [officers, devices, assignments, cases, events]
