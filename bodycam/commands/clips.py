"""clips search (the clerk's finder)."""

from __future__ import annotations

from datetime import datetime

import click

from bodycam import output
from bodycam.commands import get_app
from bodycam.index.queries import ClipFilter, search
from bodycam.timeutil import parse_time, show

COLUMNS = ["id", "officer", "device", "start", "end", "duration", "sha256", "flags", "source_name"]


@click.group()
def clips() -> None:
    """Find clips."""


@clips.command("search")
@click.option("--officer", multiple=True, help="Badge number (repeatable).")
@click.option("--device", multiple=True, help="Device serial (repeatable).")
@click.option("--unit", help="Unit code.")
@click.option("--from", "start", help="Clips overlapping from this time (ISO 8601; naive = --tz).")
@click.option("--to", "end", help="Clips overlapping up to this time.")
@click.option("--sha256", help="SHA-256 or a prefix of it.")
@click.option("--flag", help="Only clips with this flag (late_upload, unreadable, ...).")
@click.option("--kind", type=click.Choice(["dock", "interrogation"]))
@click.option("--limit", type=click.IntRange(1, 100000), default=100, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def clips_search(ctx: click.Context, officer: tuple[str, ...], device: tuple[str, ...], unit: str | None,
                 start: str | None, end: str | None, sha256: str | None, flag: str | None, kind: str | None,
                 limit: int, offset: int, fmt: str) -> None:
    """Clips matching every filter given, by recording start."""
    app = get_app(ctx)
    zone = app.settings.zone

    def when(text: str | None, what: str) -> datetime | None:
        return parse_time(text, zone, what=what) if text else None

    f = ClipFilter(officers=officer, devices=device, unit=unit, start=when(start, "--from"), end=when(end, "--to"),
                   sha256=sha256, flag=flag, kind=kind, limit=limit, offset=offset)
    db = app.ready_db()
    with db.read() as s:
        rows = search(s, f)
    app.audit("clip.search", "clips", {"filter": {k: v for k, v in f.__dict__.items() if v not in (None, (), {})},
                                        "results": len(rows)})
    if fmt == "json":
        click.echo(output.to_json(rows))
    elif fmt == "csv":
        click.echo(output.to_csv(rows, list(rows[0]) if rows else COLUMNS))
    else:
        shown = [{**r, "start": show(r["start"], zone), "end": show(r["end"], zone), "sha256": r["sha256"][:12],
                  "duration": f"{r['duration']:.1f}" if r["duration"] is not None else None} for r in rows]
        click.echo(output.table(shown, COLUMNS))


COMMANDS = [clips]
