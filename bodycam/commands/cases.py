"""cases link / unlink / suggest (added to the `cases` registry group)."""

from __future__ import annotations

from datetime import timedelta

import click
from sqlalchemy import select

from bodycam import output
from bodycam.commands import format_option, get_app
from bodycam.commands.registry import cases
from bodycam.db.models import Case
from bodycam.errors import FINDINGS_EXIT, InputError
from bodycam.index.evidence import link, set_case_status, suggest, unlink
from bodycam.index.readiness import check_case
from bodycam.timeutil import show


@cases.command("link")
@click.argument("case")
@click.argument("clips", nargs=-1, required=True, type=int)
@click.option("--reason", required=True, help="Why these clips are evidence (audited).")
@click.pass_context
def cases_link(ctx: click.Context, case: str, clips: tuple[int, ...], reason: str) -> None:
    """Make CLIPS evidence in CASE: a legal hold goes on each object version."""
    app = get_app(ctx)
    result = link(app.ready_db(), app.store, case, list(clips), reason, app.actor, app.clock)
    click.echo(f"case {case}: linked {len(result.linked)} clip(s)"
               + (f"; already linked: {', '.join(map(str, result.already))}" if result.already else ""))


@cases.command("unlink")
@click.argument("case")
@click.argument("clips", nargs=-1, required=True, type=int)
@click.option("--reason", required=True, help="Why these clips are no longer evidence in CASE (audited).")
@click.pass_context
def cases_unlink(ctx: click.Context, case: str, clips: tuple[int, ...], reason: str) -> None:
    """Remove CLIPS from CASE; the legal hold comes off only if nothing else holds a clip."""
    app = get_app(ctx)
    done = unlink(app.ready_db(), app.store, case, list(clips), reason, app.actor, app.clock)
    click.echo(f"case {case}: unlinked {len(done)} clip(s)")


@cases.command("suggest")
@click.argument("case")
@click.option("--margin", type=click.IntRange(0), default=120, show_default=True,
              help="Seconds around each event window.")
@format_option
@click.pass_context
def cases_suggest(ctx: click.Context, case: str, margin: int, fmt: str) -> None:
    """Clips of the officers on CASE's events that overlap them, each with its reason."""
    app = get_app(ctx)
    with app.ready_db().read() as s:
        rows = [s_.__dict__ for s_ in suggest(s, case, timedelta(seconds=margin))]
    app.audit("case.suggest", f"case:{case}", {"suggestions": len(rows)})
    click.echo(output.to_json(rows) if fmt == "json" else output.table(rows, ["clip_id", "event_id", "officer",
                                                                               "reason"]))


@cases.command("close")
@click.argument("case")
@click.option("--reason", required=True)
@click.pass_context
def cases_close(ctx: click.Context, case: str, reason: str) -> None:
    """Close CASE (audited)."""
    app = get_app(ctx)
    c = set_case_status(app.ready_db(), case, "closed", reason, app.actor, app.clock)
    click.echo(f"case {case}: closed at {show(c.closed_at, app.settings.zone)}")


@cases.command("reopen")
@click.argument("case")
@click.option("--reason", required=True)
@click.pass_context
def cases_reopen(ctx: click.Context, case: str, reason: str) -> None:
    """Reopen a closed CASE (audited)."""
    app = get_app(ctx)
    set_case_status(app.ready_db(), case, "open", reason, app.actor, app.clock)
    click.echo(f"case {case}: open")


@cases.command("check")
@click.argument("case", required=False)
@click.option("--all", "every", is_flag=True, help="Every case (with --open: every open case).")
@click.option("--open", "only_open", is_flag=True, help="With --all: only open cases.")
@click.option("--no-verify", is_flag=True, help="Do not read the clips back to compare their SHA-256.")
@format_option
@click.pass_context
def cases_check(ctx: click.Context, case: str | None, every: bool, only_open: bool, no_verify: bool,
                fmt: str) -> None:
    """Is the case ready for legal review: every required recording present, complete, analysed, intact and
    held? Exit 4 with the list of what is missing (a review workflow can gate on it)."""
    app = get_app(ctx)
    if bool(case) == every:
        raise InputError("give a CASE or --all")
    if only_open and not every:
        raise InputError("--open goes with --all")
    db = app.ready_db()
    if every:
        with db.read() as s:
            query = select(Case.number).order_by(Case.number)
            numbers = list(s.scalars(query.where(Case.status == "open") if only_open else query))
    else:
        numbers = [str(case)]
    results = [check_case(db, app.store, app.settings, n, verify=not no_verify) for n in numbers]
    app.audit("case.check", "cases", {"cases": numbers[:100], "not_ready": [r.case for r in results if not r.ready]})
    rows = [{"case": r.case, "ready": r.ready, "events": r.events, "clips": r.clips,
             "verified_bytes": r.verified_bytes, "problems": [{"subject": p.subject, "what": p.what}
                                                              for p in r.problems]} for r in results]
    if fmt == "json":
        click.echo(output.to_json(rows if every else rows[0]))
    else:
        for r in results:
            state = "ready" if r.ready else f"NOT READY: {len(r.problems)} problem(s)"
            click.echo(f"case {r.case}: {state} ({r.events} event(s), {r.clips} clip(s) checked"
                       + ("" if no_verify else f", {r.verified_bytes / 1e6:.1f} MB read back and verified") + ")")
            for p in r.problems:
                click.echo(f"  {p.subject}: {p.what}")
    if any(not r.ready for r in results):
        ctx.exit(FINDINGS_EXIT)
