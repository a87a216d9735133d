"""init, config show, check, audit verify, audit log."""

from __future__ import annotations

import json
import sys

import click
from sqlalchemy import select

from bodycam import output
from bodycam.audit import chain
from bodycam.commands import format_option, get_app
from bodycam.config import mask_url
from bodycam.db.models import Clip
from bodycam.db.schema import upgrade
from bodycam.errors import IntegrityError, ObjectNotFound
from bodycam.timeutil import show


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Create or upgrade the schema and the object store (safe to run again)."""
    app = get_app(ctx)
    before, after = upgrade(app.db)
    app.store.ensure()
    app.audit("system.init", "system", {"schema_before": before, "schema_after": after,
                                        "store": app.store.url})
    state = "up to date" if before == after else f"upgraded {before or '(empty)'} -> {after}"
    click.echo(f"database: {mask_url(app.db.url)} ({state})")
    click.echo(f"store:    {app.store.url} (write-once, locked)")


@click.group()
def config() -> None:
    """Inspect the effective settings."""


@config.command("show")
@format_option
@click.pass_context
def config_show(ctx: click.Context, fmt: str) -> None:
    """Every setting, its value (secrets masked) and where it came from."""
    app = get_app(ctx)
    rows = [{"key": k, "value": v, "origin": o} for k, v, o in app.loaded.show()]
    if fmt == "json":
        click.echo(output.to_json(rows))
    else:
        if app.loaded.config_file:
            click.echo(f"config file: {app.loaded.config_file}")
        click.echo(output.table(rows, ["key", "value", "origin"]))


@click.command()
@click.option("--verify-data", is_flag=True, help="Also read every kept clip back and compare its SHA-256.")
@click.pass_context
def check(ctx: click.Context, verify_data: bool) -> None:
    """Self-check: database and schema, object store and its lock, audit chain (and the data)."""
    app = get_app(ctx)
    db = app.ready_db()
    click.echo("database: ok (schema current)")
    app.store.check()
    click.echo(f"store:    ok ({app.store.url})")
    with db.read() as session:
        status = chain.verify(session)
    click.echo(f"audit:    ok ({status.events} events, head {status.head_hash[:16]})")
    bad: list[str] = []
    if verify_data:
        with db.read() as session:
            clips = session.execute(select(Clip.id, Clip.store_key, Clip.store_version, Clip.sha256, Clip.size)
                                    .where(Clip.disposed_at.is_(None)).order_by(Clip.id)).all()
        with click.progressbar(length=sum(c.size for c in clips), label="verifying", file=sys.stderr) as bar:
            for c in clips:
                try:
                    app.store.verify(c.store_key, c.store_version, c.sha256, progress=bar.update)
                except (IntegrityError, ObjectNotFound) as exc:
                    bad.append(f"clip {c.id}: {exc}")
        for line in bad:
            click.echo(f"data:     FAILED {line}")
        click.echo(f"data:     {len(clips) - len(bad)} of {len(clips)} clip(s) verified")
    app.audit("system.check", "system", {"audit_events": status.events, "verify_data": verify_data,
                                         "data_failures": bad[:100]})
    if bad:
        raise IntegrityError(f"{len(bad)} clip(s) failed verification; the first: {bad[0]}")


@click.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@format_option
@click.pass_context
def audit_verify(ctx: click.Context, fmt: str) -> None:
    """Recompute the hash chain; name the first broken event (exit 40)."""
    app = get_app(ctx)
    db = app.ready_db()
    with db.read() as session:
        status = chain.verify(session)
    app.audit("audit.verify", "audit", {"events": status.events, "head": status.head_hash})
    if fmt == "json":
        click.echo(output.to_json({"ok": True, "events": status.events, "head_seq": status.head_seq,
                                   "head_hash": status.head_hash}))
    else:
        click.echo(f"audit chain ok: {status.events} events; head #{status.head_seq} {status.head_hash}")
        click.echo("keep the head hash elsewhere to detect later truncation")


@audit.command("log")
@click.option("--subject", help="Exact subject, or a prefix ending in '*' (e.g. 'clip:*').")
@click.option("--action", help="Only this action (e.g. clip.export).")
@click.option("--actor", "who", help="Only this actor.")
@click.option("--limit", type=click.IntRange(1, 100000), default=50, show_default=True)
@click.option("--offset", type=click.IntRange(0), default=0)
@format_option
@click.pass_context
def audit_log(ctx: click.Context, subject: str | None, action: str | None, who: str | None,
              limit: int, offset: int, fmt: str) -> None:
    """Audit events, newest first."""
    app = get_app(ctx)
    db = app.ready_db()
    with db.read() as session:
        rows = chain.events(session, subject=subject, action=action, actor=who, limit=limit, offset=offset)
    app.audit("audit.read", "audit", {"subject": subject, "action": action, "actor": who, "rows": len(rows)})
    as_json = fmt == "json"
    data = [
        {"seq": e.seq, "at": e.at if as_json else show(e.at, app.settings.zone), "actor": e.actor,
         "action": e.action, "subject": e.subject,
         "details": json.loads(e.details) if as_json else e.details, "hash": e.hash}
        for e in rows
    ]
    if as_json:
        click.echo(output.to_json(data))
    else:
        click.echo(output.table(data, ["seq", "at", "actor", "action", "subject", "details"]))


COMMANDS = [init, config, check, audit]
