"""Build the ingest context, report status, and run the unattended watch service."""

from __future__ import annotations

import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bodycam.app import App
from bodycam.config import check_pattern, check_zone
from bodycam.db.models import IngestItem
from bodycam.errors import BodycamError, InputError
from bodycam.ingest.claims import worker_id
from bodycam.ingest.pipeline import Context
from bodycam.ingest.sessions import never_received
from bodycam.timeutil import utcnow


def make_context(app: App, release: str | None = None, move_to: Path | None = None,
                 pattern: str | None = None, tz: str | None = None, log: Callable[[str], None] | None = None,
                 ) -> Context:
    cfg = app.settings.ingest
    release = release or cfg.release
    move_to = move_to or cfg.move_to
    if release == "move" and move_to is None:
        raise InputError("--release move needs --move-to DIR (or ingest.move_to)")
    if pattern is not None:
        try:
            check_pattern(pattern)
        except ValueError as exc:
            raise InputError(f"--pattern: {exc}") from None
    if tz is not None:
        try:
            check_zone(tz)
        except ValueError as exc:
            raise InputError(f"--source-tz: {exc}") from None
    db = app.trusted_db()
    app.store.check()
    clear_litter(app, log)
    from zoneinfo import ZoneInfo

    return Context(
        db=db, store=app.store, settings=app.settings, actor=app.actor, worker=worker_id(),
        host=socket.gethostname(), release=release, move_to=move_to.absolute() if move_to else None,
        pattern=pattern, zone=ZoneInfo(tz) if tz else app.settings.zone, clock=app.clock,
    )


INCOMPLETE_AFTER = timedelta(hours=24)
"""An S3 multipart upload this old has no writer left (a 2 GiB file takes seconds)."""


def clear_litter(app: App, log: Callable[[str], None] | None = None) -> list[str]:
    """Remove what killed writers left in the store (partial files, unfinished
    multipart uploads): never an object, only bytes no index row points to.
    Housekeeping never stops ingest: a store that refuses it (say, a policy without
    ListBucketMultipartUploads) is reported and ingest goes on."""
    try:
        removed = app.store.sweep_incomplete(INCOMPLETE_AFTER)
    except BodycamError as exc:
        if log:
            log(f"warning: could not clear unfinished uploads: {exc}")
        return []
    if removed:
        app.audit("store.litter_removed", app.store.url, {"removed": removed})
    return removed


@dataclass(frozen=True)
class Status:
    counts: dict[str, int]
    in_flight: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    abandoned_versions: int
    missing_files: list[dict[str, Any]]


def status(app: App) -> Status:
    db = app.ready_db()
    now = utcnow()
    with db.read() as s:
        counts = {state: n for state, n in s.execute(
            select(IngestItem.state, func.count()).group_by(IngestItem.state))}
        flight = s.scalars(select(IngestItem).where(IngestItem.state.in_(("claimed", "stored")))
                           .order_by(IngestItem.claimed_at)).all()
        failed = s.scalars(select(IngestItem).where(IngestItem.state == "failed")
                           .order_by(IngestItem.updated_at.desc())).all()
        # only retaken attempts and duplicate races can leave abandoned versions
        abandoned = s.scalars(select(IngestItem.abandoned).where(
            (IngestItem.attempts > 1) | (IngestItem.outcome == "duplicate"))).all()
        missing = never_received(s)
    return Status(
        counts={k: counts.get(k, 0) for k in ("claimed", "stored", "indexed", "released", "failed")},
        in_flight=[{"path": i.source_path, "state": i.state, "worker": i.claimed_by, "since": i.claimed_at,
                    "heartbeat_age_s": round((now - i.heartbeat_at) / timedelta(seconds=1)), "attempts": i.attempts}
                   for i in flight],
        failed=[{"path": i.source_path, "error": i.last_error, "attempts": i.attempts, "at": i.updated_at}
                for i in failed],
        abandoned_versions=sum(len(a or []) for a in abandoned),
        missing_files=missing,
    )


def scheduled_reports(app: App, log: Any) -> None:
    from bodycam.coverage.scheduled import write_reports

    try:
        for path in write_reports(app, utcnow().astimezone(app.settings.zone).date()):
            log(f"coverage report written: {path}")
    except BodycamError as exc:
        log(f"coverage reports failed: {exc}")


def refresh_reports(app: App, log: Any) -> None:
    """Reports already written whose period got late footage or late events are written again."""
    from bodycam.coverage.scheduled import refresh_reports as refresh

    try:
        for path in refresh(app):
            log(f"coverage report written again (late footage or events for its period): {path}")
    except BodycamError as exc:
        log(f"coverage reports: refresh failed: {exc}")


def nightly_sweep(app: App, log: Any) -> None:
    """The unattended sweep. A policy no plan has shown is planned tonight and applied
    tomorrow night: a change never deletes anything at once."""
    from bodycam.errors import PolicyNotPlanned, SweepBusy
    from bodycam.retention import sweep

    try:
        result = sweep.run(app.trusted_db(), app.store, app.settings.retention, app.actor, clock=app.clock)
        log(f"retention: deleted {result.deleted} of {result.due} due; {len(result.refused)} kept by the store")
    except PolicyNotPlanned:
        p = sweep.plan(app.db, app.settings.retention, app.clock.now())
        sweep.record_plan(app.db, app.actor, p, what_if=False)
        log(f"retention: new policy {p.policy} planned ({len(p.due)} due); it applies from the next sweep")
    except SweepBusy as exc:
        log(f"retention: {exc}")
    except BodycamError as exc:
        log(f"retention: sweep failed: {exc}")


def nightly_scrub(app: App, log: Any) -> None:
    """Re-read stored bytes for scrub.budget_minutes, resuming where the last night stopped."""
    from bodycam.audit.scrub import scrub

    try:
        r = scrub(app.ready_db(), app.store, app.actor, app.settings.scrub.budget_minutes * 60)
    except BodycamError as exc:
        log(f"scrub: failed: {exc}")
        return
    left = "cycle complete" if r.complete else f"{r.remaining_bytes / 1e9:.1f} GB left in this cycle"
    log(f"scrub: verified {r.verified} clip(s), {r.bytes / 1e9:.2f} GB at {r.gb_per_s:.2f} GB/s; {left}")
    for line in r.failures:
        log(f"scrub: INTEGRITY FAILURE {line}")


def analysis_pass(app: App, log: Any, stop: threading.Event) -> None:
    """Take analysis jobs until the queue is empty (or a stop is asked for between clips)."""
    from bodycam.analysis import jobs

    try:
        summary = jobs.run(app.ready_db(), app.store, app.actor, worker_id(), app.clock,
                           workers=app.settings.analysis.workers, should_stop=stop.is_set)
    except BodycamError as exc:
        log(f"analysis: failed: {exc}")
        return
    if summary.analysed or summary.failed:
        log(f"analysis: {summary.analysed} clip(s) analysed, {summary.with_findings} with discontinuities, "
            f"{len(summary.failed)} failed")


def hourly_seal(app: App, log: Any) -> None:
    """At least hourly, a seal in the write-once store (an idle store is sealed too)."""
    from bodycam.audit import seals

    try:
        seals.write(app.ready_db(), app.store, app.clock, app.actor, "hourly")
    except BodycamError as exc:
        log(f"seal: NOT SEALED: {exc}")


def watch(app: App, log: Any, once_event: threading.Event | None = None) -> None:
    """Poll each configured source on its own interval until SIGTERM or SIGINT.

    APScheduler runs one job per source (never two at once for the same source);
    files inside a pass ingest in a bounded pool. A stop lets running files finish.
    """
    from apscheduler.schedulers.background import BackgroundScheduler

    from bodycam.ingest.runner import run_pass

    cfg = app.settings.ingest
    if not cfg.sources:
        raise InputError("no sources to watch: add [[ingest.sources]] entries (name, path, kind) to the settings")
    stop = once_event or threading.Event()

    def job(source: Any) -> None:
        try:
            one_pass(source)
        except BodycamError as exc:  # one line; the next poll tries again
            log(f"{source.name}: pass failed: {exc}")
        except Exception as exc:  # a bug: one line here too (the service keeps polling the other sources)
            log(f"{source.name}: internal error: {type(exc).__name__}: {exc}")

    def one_pass(source: Any) -> None:
        ctx = make_context(app, source.release, pattern=source.pattern, tz=source.tz, log=log)
        summary = run_pass(ctx, [Path(source.path)], source.kind, workers=cfg.workers, wait_seconds=0)
        for path, reason in summary.skipped:
            if reason.startswith("no such folder"):
                log(f"{source.name}: {path}: {reason}")
        if summary.seen or summary.failed:
            log(f"{source.name}: seen {summary.seen}, ingested {summary.ingested}, duplicates "
                f"{summary.duplicates}, flagged {summary.flagged}, failed {summary.failed}, "
                f"pending {summary.pending}, {summary.mb_per_s:.1f} MB/s")
        for path, error in summary.failures:
            log(f"{source.name}: failed {path}: {error}")
        if summary.seal_error:
            log(f"{source.name}: NOT SEALED: {summary.seal_error}")

    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    reports = app.settings.coverage.reports
    if reports.daily or reports.weekly or reports.monthly:
        hour, minute = (int(x) for x in reports.at.split(":"))
        scheduler.add_job(scheduled_reports, "cron", hour=hour, minute=minute, timezone=app.settings.tz,
                          args=[app, log], id="coverage-reports")
        scheduler.add_job(refresh_reports, "interval", minutes=15, args=[app, log], id="coverage-refresh")
    if app.settings.retention.sweep_at:
        hour, minute = (int(x) for x in app.settings.retention.sweep_at.split(":"))
        scheduler.add_job(nightly_sweep, "cron", hour=hour, minute=minute, timezone=app.settings.tz,
                          args=[app, log], id="retention-sweep")
    scheduler.add_job(hourly_seal, "interval", hours=1, args=[app, log], id="seal")
    scheduler.add_job(analysis_pass, "interval", seconds=cfg.poll_seconds, args=[app, log, stop], id="analysis",
                      next_run_time=utcnow())
    if app.settings.scrub.at:
        hour, minute = (int(x) for x in app.settings.scrub.at.split(":"))
        scheduler.add_job(nightly_scrub, "cron", hour=hour, minute=minute, timezone=app.settings.tz,
                          args=[app, log], id="scrub")
    for source in cfg.sources:
        if not Path(source.path).is_dir():
            log(f"{source.name}: {source.path} is not a folder yet; will keep polling")
        scheduler.add_job(job, "interval", seconds=cfg.poll_seconds, args=[source], id=source.name,
                          next_run_time=utcnow())
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    log(f"watching {len(cfg.sources)} source(s) every {cfg.poll_seconds:g} s; SIGTERM stops")
    stop.wait()
    log("stopping: letting running files finish")
    scheduler.shutdown(wait=True)
    log("stopped")
