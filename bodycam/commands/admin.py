"""init, config show, check, audit verify, audit log."""

from __future__ import annotations

import json
import math
import sys

import click
from sqlalchemy import select

from bodycam import output
from bodycam.audit import chain, seals
from bodycam.audit.crosscheck import crosscheck
from bodycam.audit.scrub import scrub
from bodycam.commands import format_option, get_app
from bodycam.config import mask_url
from bodycam.db.models import Clip
from bodycam.db.schema import upgrade
from bodycam.errors import AuditChainBroken, InputError, IntegrityError, RecordsDisagree
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
@click.option("--budget", type=click.FloatRange(min=0, min_open=True),
              help="With --verify-data: read for at most this many minutes, resuming where the last scrub stopped.")
@click.pass_context
def check(ctx: click.Context, verify_data: bool, budget: float | None) -> None:
    """Self-check: database, store, audit chain and seals, and every clip's index row, audit
    record and stored object against each other (exit 37 on a disagreement, 35 on bad data)."""
    app = get_app(ctx)
    db = app.ready_db()
    if budget is not None and not verify_data:
        raise InputError("--budget goes with --verify-data")
    click.echo("database: ok (schema current)")
    app.store.check()
    click.echo(f"store:    ok ({app.store.url})")
    with db.read() as session:
        status = chain.verify(session)
    click.echo(f"audit:    ok ({status.events} events, head {status.head_hash[:16]})")
    with db.read() as session:
        total = sum(session.scalars(select(Clip.size).where(Clip.disposed_at.is_(None)))) if verify_data else 0
    report = crosscheck(db, app.store, app.actor)
    if verify_data:
        with click.progressbar(length=total, label="verifying", file=sys.stderr) as bar:
            scrubbed = scrub(db, app.store, app.actor, budget * 60 if budget else math.inf, progress=bar.update)
        report.verified, report.data_failures = scrubbed.verified - len(scrubbed.failures), scrubbed.failures
        if not scrubbed.complete:
            click.echo(f"data:     budget spent: {scrubbed.remaining_bytes / 1e9:.2f} GB left; "
                       "the next --budget run (or the nightly scrub) goes on from clip "
                       f"{scrubbed.last_id + 1}")
    click.echo(f"seals:    {report.seals} in the store")
    click.echo(f"records:  {report.clips} clip(s), {report.objects} object version(s) compared")
    for line in report.disagreements:
        click.echo(f"DISAGREE  {line}")
    for line in report.data_failures:
        click.echo(f"data:     FAILED {line}")
    if verify_data:
        click.echo(f"data:     {report.verified} of {report.verified + len(report.data_failures)} clip(s) verified"
                   f" ({scrubbed.bytes / 1e6:.1f} MB in {scrubbed.seconds:.1f} s)")
    if report.data_failures:
        raise IntegrityError(f"{len(report.data_failures)} clip(s) failed verification; "
                             f"the first: {report.data_failures[0]}")
    if report.disagreements:
        raise RecordsDisagree(f"{len(report.disagreements)} disagreement(s); the first: {report.disagreements[0]}")


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
    found, problems = seals.verify(db, app.store)
    app.audit("audit.verify", "audit", {"events": status.events, "head": status.head_hash, "seals": len(found),
                                        "problems": problems[:100]})
    if fmt == "json":
        click.echo(output.to_json({"ok": not problems, "events": status.events, "head_seq": status.head_seq,
                                   "head_hash": status.head_hash, "seals": len(found), "problems": problems}))
    else:
        for line in problems:
            click.echo(f"MISMATCH {line}")
        click.echo(f"audit chain: {status.events} events; head #{status.head_seq} {status.head_hash}")
        newest = f", newest at event #{found[-1].audit_seq}" if found else " (none yet: run `bodycam audit seal`)"
        click.echo(f"seals: {len(found)} in the write-once store{newest}")
    if problems:
        raise AuditChainBroken(f"the audit log or the index contradicts {len(problems)} seal check(s); "
                               f"the first: {problems[0]}")


@audit.command("seal")
@click.pass_context
def audit_seal(ctx: click.Context) -> None:
    """Write a seal now: the audit head and the clip index, locked in the store."""
    app = get_app(ctx)
    seal = seals.write(app.ready_db(), app.store, app.clock, app.actor, "manual")
    click.echo(f"sealed audit event #{seal.audit_seq} and {seal.clips_count} clip(s): {seal.key} "
               f"(version {seal.version})")


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
