"""The service's scheduled jobs. Each logs one line per outcome and never raises a user error:
a failing job is one ERROR line (a traceback only with --debug), and the next run tries again."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from bodycam.app import App
from bodycam.errors import BodycamError
from bodycam.ingest.claims import worker_id
from bodycam.service.metrics import failure_reason

if TYPE_CHECKING:
    from bodycam.service.metrics import Metrics

log = logging.getLogger(__name__)


def scheduled_reports(app: App) -> None:
    from bodycam.coverage.scheduled import write_reports

    try:
        for path in write_reports(app, app.clock.now().astimezone(app.settings.zone).date()):
            log.info("coverage report written: %s", path, extra={"file": str(path)})
    except BodycamError as exc:
        log.error("coverage reports failed: %s", exc)


def refresh_reports(app: App) -> None:
    """Reports already written whose period got late footage or late events are written again."""
    from bodycam.coverage.scheduled import refresh_reports as refresh

    try:
        for path in refresh(app):
            log.info("coverage report written again (late footage or events for its period): %s", path,
                     extra={"file": str(path)})
    except BodycamError as exc:
        log.error("coverage reports: refresh failed: %s", exc)


def nightly_sweep(app: App, metrics: Metrics | None = None) -> None:
    """The unattended sweep. A policy no plan has shown is planned tonight and applied
    tomorrow night: a change never deletes anything at once."""
    from bodycam.errors import PolicyNotPlanned, SweepBusy
    from bodycam.retention import sweep

    try:
        result = sweep.run(app.trusted_db(), app.store, app.settings.retention, app.actor, clock=app.clock)
        log.info("retention: deleted %d of %d due; %d kept by the store", result.deleted, result.due,
                 len(result.refused))
        if metrics:
            metrics.swept.inc(result.deleted)
            metrics.refused.inc(len(result.refused))
    except PolicyNotPlanned:
        p = sweep.plan(app.db, app.settings.retention, app.clock.now())
        sweep.record_plan(app.db, app.actor, p, what_if=False)
        log.warning("retention: new policy %s planned (%d due); it applies from the next sweep", p.policy, len(p.due))
    except SweepBusy as exc:
        log.warning("retention: %s", exc)
    except BodycamError as exc:
        log.error("retention: sweep failed: %s", exc)


def nightly_scrub(app: App, metrics: Metrics | None = None) -> None:
    """Re-read stored bytes for scrub.budget_minutes, resuming where the last night stopped."""
    from bodycam.audit.scrub import scrub

    try:
        r = scrub(app.ready_db(), app.store, app.actor, app.settings.scrub.budget_minutes * 60)
    except BodycamError as exc:
        log.error("scrub: failed: %s", exc)
        return
    left = "cycle complete" if r.complete else f"{r.remaining_bytes / 1e9:.1f} GB left in this cycle"
    log.info("scrub: verified %d clip(s), %.2f GB at %.2f GB/s; %s", r.verified, r.bytes / 1e9, r.gb_per_s, left)
    for line in r.failures:
        log.error("scrub: INTEGRITY FAILURE %s", line)
    if metrics:
        metrics.scrubbed.inc(r.bytes)
        metrics.scrub_failures.inc(len(r.failures))


def analysis_pass(app: App, stop: threading.Event, metrics: Metrics | None = None) -> None:
    """Take analysis jobs until the queue is empty (or a stop is asked for between clips). With ``metrics``
    (an analysis host), a pass that empties the queue counts for health as a source's pass does."""
    from bodycam.analysis import jobs

    try:
        summary = jobs.run(app.ready_db(), app.store, app.actor, worker_id(), app.clock,
                           workers=app.settings.analysis.workers, should_stop=stop.is_set,
                           lease=app.settings.analysis.lease)
    except BodycamError as exc:
        log.error("analysis: failed: %s", exc)
        if metrics:
            metrics.pass_errors.labels("analysis", failure_reason(str(exc))).inc()
        return
    if metrics and not stop.is_set():
        metrics.analysis_done(summary.analysed, len(summary.failed))
    if summary.analysed or summary.failed:
        log.info("analysis: %d clip(s) analysed, %d with discontinuities, %d failed", summary.analysed,
                 summary.with_findings, len(summary.failed))


def hourly_seal(app: App) -> None:
    """At least hourly, a seal in the write-once store (an idle store is sealed too)."""
    from bodycam.audit import seals

    try:
        seals.write(app.ready_db(), app.store, app.clock, app.actor, "hourly")
    except BodycamError as exc:
        log.error("seal: NOT SEALED: %s", exc)
