"""retention plan / run / hold / release."""

from __future__ import annotations

import sys
from typing import Any

import click

from bodycam import output
from bodycam.commands import get_app
from bodycam.retention import holds, sweep
from bodycam.timeutil import parse_time, show


@click.group()
def retention() -> None:
    """Keep footage at least six months, evidence for its case; delete nothing early."""


@retention.command("plan")
@click.option("--as-of", "as_of", help="What-if: the plan as of this future time (ISO 8601).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table", show_default=True)
@click.pass_context
def retention_plan(ctx: click.Context, as_of: str | None, fmt: str) -> None:
    """What would be deleted, and why; every other clip is kept (counts shown)."""
    app = get_app(ctx)
    db = app.ready_db()
    when = parse_time(as_of, app.settings.zone, what="--as-of") if as_of else app.clock.now()
    p = sweep.plan(db, app.settings.retention, when)
    sweep.record_plan(db, app.actor, p, what_if=as_of is not None)
    rows: list[dict[str, Any]] = [
        {"clip": d.clip_id, "delete_after": d.until, "reason": "; ".join(d.reasons)} for d in p.due
    ]
    if fmt == "json":
        click.echo(output.to_json({"as_of": p.as_of, "policy": p.policy, "due": rows, "kept": p.kept,
                                   "kept_indefinitely": p.kept_forever}))
    elif fmt == "csv":
        click.echo(output.to_csv(rows, ["clip", "delete_after", "reason"]))
    else:
        zone = app.settings.zone
        click.echo(f"as of {show(p.as_of, zone)} (policy {p.policy}): {len(p.due)} clip(s) due for deletion, "
                   f"{p.kept} kept ({p.kept_forever} indefinitely)")
        if rows:
            click.echo(output.table([{**r, "delete_after": show(r["delete_after"], zone)} for r in rows],
                                    ["clip", "delete_after", "reason"]))


@retention.command("run")
@click.option("--dry-run", is_flag=True, help="Count what is due now; delete nothing.")
@click.option("--limit", type=click.IntRange(1), help="Delete at most this many versions.")
@click.pass_context
def retention_run(ctx: click.Context, dry_run: bool, limit: int | None) -> None:
    """Delete object versions due as of now (the real time; there is no other 'now')."""
    app = get_app(ctx)
    db = app.trusted_db()
    with click.progressbar(length=0, label="disposing", file=sys.stderr) as bar:
        r = sweep.run(db, app.store, app.settings.retention, app.actor, limit=limit, dry_run=dry_run,
                      progress=bar.update, clock=app.clock)
    if dry_run:
        click.echo(f"dry run: {r.due} clip(s) due now; nothing deleted")
        return
    click.echo(f"deleted {r.deleted} of {r.due} due" + (f" (resumed {r.resumed})" if r.resumed else ""))
    for clip_id, why in r.refused:
        click.echo(f"kept clip {clip_id}: policy and store disagree: {why}")


@retention.command("hold")
@click.argument("clip", type=int, required=False)
@click.option("--case", help="Hold every clip of this case.")
@click.option("--reason", required=True)
@click.pass_context
def retention_hold(ctx: click.Context, clip: int | None, case: str | None, reason: str) -> None:
    """Place a legal hold on CLIP or on a whole --case (nothing held is ever deleted)."""
    app = get_app(ctx)
    hold_id = holds.place(app.ready_db(), app.store, clip, case, reason, app.actor, app.clock)
    click.echo(f"hold #{hold_id} placed on {'case ' + case if case else f'clip {clip}'}")


@retention.command("release")
@click.argument("clip", type=int, required=False)
@click.option("--case", help="Release the holds on this case.")
@click.option("--reason", required=True)
@click.pass_context
def retention_release(ctx: click.Context, clip: int | None, case: str | None, reason: str) -> None:
    """Release the holds on CLIP or --case; the object's legal hold comes off if nothing else holds it."""
    app = get_app(ctx)
    released = holds.release(app.ready_db(), app.store, clip, case, reason, app.actor, app.clock)
    click.echo(f"released hold(s) {', '.join(f'#{h}' for h in released)}")


@retention.command("dispose")
@click.argument("clip", type=int)
@click.option("--reason", required=True)
@click.pass_context
def retention_dispose(ctx: click.Context, clip: int, reason: str) -> None:
    """Delete one clip's footage now, if and only if its retention is over (else exit 33)."""
    app = get_app(ctx)
    sweep.dispose_one(app.trusted_db(), app.store, app.settings.retention, clip, reason, app.actor, app.clock)
    click.echo(f"clip {clip}: footage deleted; its record and hash remain")


COMMANDS = [retention]
