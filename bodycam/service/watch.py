"""`bodycam ingest watch`: poll every configured source, run the scheduled jobs, stop cleanly.

APScheduler runs one job per source (never two passes of one source at once); files of a
pass ingest in a bounded pool. SIGTERM or SIGINT sets the stop: no new file, batch or
clip is started, the ones in flight finish (everything else stays resumable), and the
process exits. Under systemd (Type=notify) it says READY once polling, keeps the watchdog
fed, and says STOPPING on the way out.
"""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

from bodycam import sdnotify
from bodycam.app import App
from bodycam.errors import BodycamError, InputError
from bodycam.service import jobs
from bodycam.service.metrics import Metrics, failure_reason, serve
from bodycam.timeutil import utcnow

log = logging.getLogger(__name__)


def one_pass(app: App, source: Any, stop: threading.Event, metrics: Metrics | None = None) -> None:
    """One pass over one source; a failure is one line, and the next poll tries again."""
    from bodycam.ingest.runner import run_pass
    from bodycam.ingest.service import make_context

    where = {"source": source.name}
    try:
        ctx = make_context(app, source.release, pattern=source.pattern, tz=source.tz)
        summary = run_pass(ctx, [Path(source.path)], source.kind, workers=app.settings.ingest.workers,
                           wait_seconds=0, should_stop=stop.is_set)
    except BodycamError as exc:
        log.error("%s: pass failed: %s", source.name, exc, extra=where)
        if metrics:
            metrics.pass_errors.labels(source.name, failure_reason(str(exc))).inc()
        return
    except Exception:  # a bug: one line (a traceback with --debug); the other sources keep polling
        log.exception("%s: internal error", source.name, extra=where)
        return
    if metrics:
        metrics.pass_done(source.name, summary)
    for path, reason in summary.skipped:
        if reason.startswith("no such folder"):
            log.warning("%s: %s: %s", source.name, path, reason, extra=where)
    if summary.seen or summary.failed:
        log.info("%s: seen %d, ingested %d, duplicates %d, flagged %d, failed %d, pending %d, %.1f MB/s",
                 source.name, summary.seen, summary.ingested, summary.duplicates, summary.flagged, summary.failed,
                 summary.pending, summary.mb_per_s, extra=where)
    for path, error in summary.failures:
        log.error("%s: failed %s: %s", source.name, path, error, extra={**where, "file": path})
    if summary.seal_error:
        log.error("%s: NOT SEALED: %s", source.name, summary.seal_error, extra=where)


ANALYSIS = "analysis"
"""The health and metrics name of the analysis loop (an analysis host's only "source")."""


def watch(app: App, stop: threading.Event | None = None, *, analysis_only: bool = False) -> None:
    """Poll each configured source on its own interval until SIGTERM or SIGINT (or ``stop``).
    ``analysis_only``: an analysis host, which takes analysis jobs and nothing else."""
    from apscheduler.schedulers.background import BackgroundScheduler

    cfg = app.settings.ingest
    sources = [] if analysis_only else cfg.sources
    if not analysis_only and not sources:
        raise InputError("no sources to watch: add [[ingest.sources]] entries (name, path, kind) to the settings")
    stop = stop or threading.Event()
    metrics = Metrics([ANALYSIS] if analysis_only else [s.name for s in sources])
    server = serve(app, metrics, app.settings.service.listen) if app.settings.service.listen else None
    logging.getLogger("apscheduler.scheduler").addFilter(_still_running)
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    if analysis_only or app.settings.service.analysis:
        scheduler.add_job(jobs.analysis_pass, "interval", seconds=cfg.poll_seconds,
                          args=[app, stop, metrics if analysis_only else None], id=ANALYSIS, next_run_time=utcnow())
    if not analysis_only:
        _schedule(scheduler, app, metrics)
    for source in sources:
        if not Path(source.path).is_dir():
            log.warning("%s: %s is not a folder yet; will keep polling", source.name, source.path,
                        extra={"source": source.name})
        scheduler.add_job(one_pass, "interval", seconds=cfg.poll_seconds, args=[app, source, stop, metrics],
                          id=source.name, next_run_time=utcnow())
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    scheduler.start()
    what = "the analysis queue" if analysis_only else f"{len(sources)} source(s)"
    log.info("watching %s every %g s; SIGTERM stops", what, cfg.poll_seconds)
    sdnotify.notify("READY=1", f"STATUS=watching {what}")
    beat = sdnotify.watchdog_interval()
    while not stop.wait(beat or 3600):
        sdnotify.notify("WATCHDOG=1")
    log.info("stopping: work in flight finishes, nothing new starts")
    sdnotify.notify("STOPPING=1", "STATUS=stopping")
    scheduler.shutdown(wait=True)
    if server is not None:
        server.shutdown()
    log.info("stopped")


def _still_running(record: logging.LogRecord) -> bool:
    """Drop APScheduler's warning that a poll came while the last pass was still running: that is how a
    long pass looks (one pass of a source at a time), not a fault, and it came every poll."""
    return "maximum number of running instances reached" not in record.getMessage()


def _schedule(scheduler: Any, app: App, metrics: Metrics) -> None:
    reports = app.settings.coverage.reports
    tz = app.settings.tz
    if reports.daily or reports.weekly or reports.monthly:
        hour, minute = (int(x) for x in reports.at.split(":"))
        scheduler.add_job(jobs.scheduled_reports, "cron", hour=hour, minute=minute, timezone=tz, args=[app],
                          id="coverage-reports")
        scheduler.add_job(jobs.refresh_reports, "interval", minutes=15, args=[app], id="coverage-refresh")
    if app.settings.retention.sweep_at:
        hour, minute = (int(x) for x in app.settings.retention.sweep_at.split(":"))
        scheduler.add_job(jobs.nightly_sweep, "cron", hour=hour, minute=minute, timezone=tz, args=[app, metrics],
                          id="retention-sweep")
    scheduler.add_job(jobs.hourly_seal, "interval", hours=1, args=[app], id="seal")
    if app.settings.scrub.at:
        hour, minute = (int(x) for x in app.settings.scrub.at.split(":"))
        scheduler.add_job(jobs.nightly_scrub, "cron", hour=hour, minute=minute, timezone=tz, args=[app, metrics],
                          id="scrub")
