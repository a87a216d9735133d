"""analyse run, analyse status."""

from __future__ import annotations

import click

from bodycam import output
from bodycam.analysis import jobs
from bodycam.commands import format_option, get_app
from bodycam.ingest.claims import worker_id
from bodycam.service.watch import watch


@click.group()
def analyse() -> None:
    """Find black, frozen and jumping pictures in stored clips, behind ingest."""


@analyse.command("run")
@click.option("--limit", type=click.IntRange(1), help="Analyse at most this many clips.")
@click.option("--workers", type=click.IntRange(1, 64), help="Clips analysed at once (default: analysis.workers).")
@format_option
@click.pass_context
def analyse_run(ctx: click.Context, limit: int | None, workers: int | None, fmt: str) -> None:
    """Take pending analysis jobs until none is left (any number of workers, on any hosts)."""
    app = get_app(ctx)
    summary = jobs.run(app.ready_db(), app.store, app.actor, worker_id(), app.clock, limit=limit,
                       workers=workers or app.settings.analysis.workers, lease=app.settings.analysis.lease)
    data = {"analysed": summary.analysed, "with_findings": summary.with_findings, "failed": summary.failed,
            "taken_over": summary.lost, "queue": jobs.counts(app.db)}
    if fmt == "json":
        click.echo(output.to_json(data))
        return
    click.echo(f"analysed {summary.analysed} clip(s), {summary.with_findings} with discontinuities; "
               f"{len(summary.failed)} failed" + (f"; {summary.lost} taken over by another worker" if summary.lost
                                                  else ""))
    for line in summary.failed:
        click.echo(f"failed: {line}")


@analyse.command("watch")
@click.pass_context
def analyse_watch(ctx: click.Context) -> None:
    """The analysis host's service: take analysis jobs as they come; SIGTERM stops between clips."""
    watch(get_app(ctx), analysis_only=True)


@analyse.command("status")
@format_option
@click.pass_context
def analyse_status(ctx: click.Context, fmt: str) -> None:
    """Analysis jobs by state."""
    app = get_app(ctx)
    counts = jobs.counts(app.ready_db())
    click.echo(output.to_json(counts) if fmt == "json" else "  ".join(f"{k} {v}" for k, v in counts.items()))


COMMANDS = [analyse]
