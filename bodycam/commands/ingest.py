"""ingest run, ingest status, ingest watch."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from bodycam import output
from bodycam.analysis import jobs
from bodycam.commands import format_option, get_app
from bodycam.errors import IngestIncomplete
from bodycam.ingest.pipeline import Result
from bodycam.ingest.runner import Summary, run_pass
from bodycam.ingest.service import make_context, status
from bodycam.names import shown
from bodycam.service.watch import watch
from bodycam.timeutil import show


@click.group()
def ingest() -> None:
    """Bring footage from dock stations and interrogation recorders into the store."""


@ingest.command("run")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--kind", type=click.Choice(["dock", "interrogation"]), default="dock", show_default=True,
              help="dock: a dock root or one camera's folder; interrogation: session folder(s).")
@click.option("--release", type=click.Choice(["keep", "delete", "move"]),
              help="What to do with a source once stored, verified and indexed (default: ingest.release).")
@click.option("--move-to", type=click.Path(file_okay=False, path_type=Path), help="Folder for --release move.")
@click.option("--pattern", help="File-name regex with groups device, officer, start (default: the dock convention).")
@click.option("--source-tz", help="Zone of times in file names and manifests (default: tz).")
@click.option("--wait", "wait_seconds", type=click.FloatRange(0), default=None,
              help="Seconds to wait for files still being written (default: 3 × ingest.stable_seconds).")
@click.option("--analyse/--no-analyse", default=True, show_default=True,
              help="After the pass (sources already released), analyse the pictures here; "
                   "--no-analyse leaves it to `bodycam analyse run` workers.")
@format_option
@click.pass_context
def ingest_run(ctx: click.Context, paths: tuple[Path, ...], kind: str, release: str | None, move_to: Path | None,
               pattern: str | None, source_tz: str | None, wait_seconds: float | None, analyse: bool,
               fmt: str) -> None:
    """One pass: every stable file under PATHS, then a summary (exit 3 if any failed)."""
    app = get_app(ctx)
    context = make_context(app, release, move_to, pattern, source_tz)
    wait = wait_seconds if wait_seconds is not None else 3 * app.settings.ingest.stable_seconds
    bar: list[object] = []
    tty = sys.stderr.isatty() and fmt == "table"

    def on_total(files: int, nbytes: int) -> None:
        if tty and files:
            b = click.progressbar(length=nbytes, label=f"ingesting {files} files", file=sys.stderr,
                                  show_pos=False, show_percent=True, show_eta=True)
            b.__enter__()
            bar.append(b)

    def on_done(r: Result) -> None:
        if bar:
            bar[0].update(r.size)  # type: ignore[attr-defined]
        elif r.outcome == "failed" and fmt == "table":
            click.echo(f"failed: {shown(r.path)}: {r.error}", err=True)

    summary = run_pass(context, list(paths), kind, workers=app.settings.ingest.workers, wait_seconds=wait,
                       on_total=on_total, on_done=on_done)
    if bar:
        bar[0].__exit__(None, None, None)  # type: ignore[attr-defined]
    _print_summary(summary, fmt)
    if analyse and summary.ingested:
        done = jobs.run(context.db, context.store, context.actor, context.worker, context.clock,
                        workers=app.settings.analysis.workers, lease=app.settings.analysis.lease)
        if fmt != "json":
            click.echo(f"analysed {done.analysed} clip(s) after release: {done.with_findings} with discontinuities"
                       + (f", {len(done.failed)} failed (see `bodycam analyse status`)" if done.failed else ""))
    if summary.seal_error:  # after the summary: the pass itself stands
        raise summary.seal_error
    if summary.failed:
        raise IngestIncomplete(f"{summary.failed} of {summary.seen} files failed; sources left untouched "
                               "(see `bodycam ingest status`)")


def _print_summary(s: Summary, fmt: str) -> None:
    data = {
        "seen": s.seen, "ingested": s.ingested, "duplicates": s.duplicates, "flagged": s.flagged,
        "failed": s.failed, "already_indexed": s.already, "busy_elsewhere": s.busy, "pending": s.pending,
        "released": s.released, "bytes": s.bytes, "seconds": round(s.seconds, 3),
        "mb_per_s": round(s.mb_per_s, 1),
        "failures": [{"path": p, "error": e} for p, e in s.failures],
        "flagged_files": [{"path": p, "flags": f} for p, f in s.flagged_files],
        "skipped": [{"path": p, "reason": r} for p, r in s.skipped],
        "manifest_errors": s.manifest_errors,
        "missing_files": [{"session": sid, "files": names} for sid, names in s.missing_files],
        "overlaps": [{"clips": [a, b], "seconds": sec} for a, b, sec in s.overlaps],
        "incident_links": s.incident_links,
        "seal_error": str(s.seal_error) if s.seal_error else None,
    }
    if fmt == "json":
        click.echo(output.to_json(data))
        return
    click.echo(f"files seen {s.seen}: ingested {s.ingested}, duplicates {s.duplicates}, flagged {s.flagged}, "
               f"failed {s.failed}, already indexed {s.already}, pending {s.pending}, released {s.released}")
    click.echo(f"{s.bytes / 1e6:.1f} MB in {s.seconds:.1f} s ({s.mb_per_s:.1f} MB/s)")
    for path, flags in s.flagged_files:
        click.echo(f"flagged: {path}: {', '.join(flags)}")
    for path, reason in s.skipped:
        click.echo(f"skipped: {path}: {reason}")
    for err in s.manifest_errors:
        click.echo(f"manifest: {err}")
    for a, b, sec in s.overlaps:
        click.echo(f"overlap: clips {a} and {b} of one camera overlap by {sec:g} s (both flagged overlap)")
    for sid, names in s.missing_files:
        click.echo(f"missing: session {sid}: listed in session.json, not received: {', '.join(names)}")
    if s.incident_links:
        click.echo(f"linked {s.incident_links} clip(s) to their incidents (`bodycam incidents show ID`)")


@ingest.command("status")
@format_option
@click.pass_context
def ingest_status(ctx: click.Context, fmt: str) -> None:
    """Pending, in-flight and failed items, with reasons."""
    app = get_app(ctx)
    st = status(app)
    if fmt == "json":
        click.echo(output.to_json({"counts": st.counts, "in_flight": st.in_flight, "failed": st.failed,
                                   "abandoned_versions": st.abandoned_versions,
                                   "missing_files": st.missing_files}))
        return
    click.echo("  ".join(f"{k} {v}" for k, v in st.counts.items()) +
               f"  abandoned-versions {st.abandoned_versions}")
    zone = app.settings.zone
    if st.in_flight:
        click.echo("\nin flight:")
        rows = [{**r, "since": show(r["since"], zone)} for r in st.in_flight]
        click.echo(output.table(rows, ["path", "state", "worker", "since", "heartbeat_age_s", "attempts"]))
    if st.failed:
        click.echo("\nfailed:")
        rows = [{**r, "at": show(r["at"], zone)} for r in st.failed]
        click.echo(output.table(rows, ["path", "attempts", "at", "error"]))
    if st.missing_files:
        click.echo("\ninterrogation files listed in session.json, never received:")
        click.echo(output.table([{"session": m["session"], "files": ", ".join(m["missing"])}
                                 for m in st.missing_files], ["session", "files"]))


@ingest.command("watch")
@click.pass_context
def ingest_watch(ctx: click.Context) -> None:
    """The unattended service: poll every configured source; SIGTERM stops cleanly."""
    app = get_app(ctx)
    watch(app)


COMMANDS = [ingest]
