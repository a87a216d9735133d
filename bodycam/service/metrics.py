"""The watch service's metrics (Prometheus exposition format) and health, on one small HTTP server.

Counters and gauges the service updates as it works live in one registry per service
(never the library's global one); what the database and the disks know (ingest in flight,
the analysis backlog, free space) is read at each scrape. ``/healthz`` answers 200 while
every source has completed a pass within ``service.stale_seconds``, else 503 naming them.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from bodycam.app import App
from bodycam.db.models import AnalysisJob, IngestItem
from bodycam.errors import BodycamError, ConfigError
from bodycam.kinds import AnalysisState, IngestState

log = logging.getLogger(__name__)


class Metrics:
    """What the service counts as it goes; one instance per watch."""

    def __init__(self, sources: list[str]) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.files = Counter("bodycam_files_ingested", "Files stored, verified and indexed", ["source"], registry=r)
        self.bytes = Counter("bodycam_bytes_ingested", "Bytes of the files ingested", ["source"], registry=r)
        self.duplicates = Counter("bodycam_files_duplicate", "Files whose bytes were already stored", ["source"],
                                  registry=r)
        self.failures = Counter("bodycam_ingest_failures", "Files that failed, by reason", ["source", "reason"],
                                registry=r)
        self.pending = Gauge("bodycam_pending_files", "Files left for the next pass (still being written, or a "
                             "stop)", ["source"], registry=r)
        self.last_pass = Gauge("bodycam_last_pass_success_timestamp_seconds", "When a pass over the source last "
                               "completed", ["source"], registry=r)
        self.pass_errors = Counter("bodycam_pass_errors", "Passes that failed as a whole, by component",
                                   ["source", "component"], registry=r)
        self.swept = Counter("bodycam_sweep_deleted", "Object versions the retention sweep deleted", registry=r)
        self.refused = Counter("bodycam_sweep_refused", "Deletions the store refused (still locked or held)",
                               registry=r)
        self.scrubbed = Counter("bodycam_scrub_verified_bytes", "Stored bytes read back and verified", registry=r)
        self.scrub_failures = Counter("bodycam_scrub_integrity_failures", "Clips whose stored bytes did not match",
                                      registry=r)
        self.analysed = Counter("bodycam_clips_analysed", "Clips this process analysed", registry=r)
        self.analysis_failures = Counter("bodycam_analysis_failures", "Clips whose analysis failed", registry=r)
        self.started = time.time()
        self.passed: dict[str, float] = {}
        self.sources = list(sources)
        for name in sources:  # every series exists from the start (0: no pass completed yet)
            self.pending.labels(name).set(0)
            self.last_pass.labels(name).set(0)

    def pass_done(self, source: str, summary: Any) -> None:
        """Count one completed pass (bodycam.ingest.runner.Summary)."""
        self.files.labels(source).inc(summary.ingested)
        self.bytes.labels(source).inc(summary.bytes)
        self.duplicates.labels(source).inc(summary.duplicates)
        self.pending.labels(source).set(summary.pending)
        for _, error in summary.failures:
            self.failures.labels(source, failure_reason(error)).inc()
        self.passed[source] = time.time()
        self.last_pass.labels(source).set(self.passed[source])

    def analysis_done(self, analysed: int, failed: int) -> None:
        """Count one analysis pass that emptied the queue (an analysis host's health)."""
        self.analysed.inc(analysed)
        self.analysis_failures.inc(failed)
        self.passed["analysis"] = time.time()
        self.last_pass.labels("analysis").set(self.passed["analysis"])

    def stale(self, max_age: float, now: float | None = None) -> list[str]:
        """Sources without a completed pass for longer than max_age (since start, for one that never did)."""
        now = now or time.time()
        return [name for name in self.sources if now - self.passed.get(name, self.started) > max_age]


def failure_reason(error: str) -> str:
    """A few stable label values (never the message itself: one label per message would grow forever)."""
    text = error.lower()
    for reason, words in (("store", ("s3", "store", "bucket")), ("database", ("database", "postgres", "sqlite")),
                          ("integrity", ("sha-256", "sha256", "mismatch")), ("source", ("permission", "no such file",
                                                                                       "cannot open"))):
        if any(w in text for w in words):
            return reason
    return "other"


LIVE = ("bodycam_ingest_items", "bodycam_analysis_jobs", "bodycam_free_bytes")
"""The metrics read at each scrape (the others are counted as the service works)."""


class _Live(Collector):
    """Read at each scrape: ingest in flight, the analysis backlog, free space of the store and the docks."""

    def __init__(self, app: App, folders: dict[str, Path]) -> None:
        self.app, self.folders = app, folders

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            with self.app.db.read() as s:
                items = dict(s.execute(select(IngestItem.state, func.count()).group_by(IngestItem.state)).all())
                jobs = dict(s.execute(select(AnalysisJob.state, func.count()).group_by(AnalysisJob.state)).all())
        except BodycamError as exc:
            log.error("metrics: the database did not answer: %s", exc)
            items, jobs = {}, {}
        flight = GaugeMetricFamily("bodycam_ingest_items", "Ingest items by state", labels=["state"])
        for state in IngestState:
            flight.add_metric([state], items.get(state, 0))
        yield flight
        backlog = GaugeMetricFamily("bodycam_analysis_jobs", "Picture-analysis jobs by state", labels=["state"])
        for job_state in AnalysisState:
            backlog.add_metric([job_state], jobs.get(job_state, 0))
        yield backlog
        free = GaugeMetricFamily("bodycam_free_bytes", "Free space of the local store and of each dock folder",
                                 labels=["what", "path"])
        for what, path in self.folders.items():
            try:
                free.add_metric([what, str(path)], shutil.disk_usage(path).free)
            except OSError:
                continue
        yield free


def serve(app: App, metrics: Metrics, listen: str) -> ThreadingHTTPServer:
    """Start /metrics and /healthz on a daemon thread; return the server (its port, and shutdown())."""
    folders = {f"source:{s.name}": Path(s.path) for s in app.settings.ingest.sources}
    url = app.settings.store_url
    if url.startswith("file://"):
        folders["store"] = Path(url.removeprefix("file://"))
    metrics.registry.register(_Live(app, folders))
    stale_after = app.settings.service.stale_seconds

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._send(200, generate_latest(metrics.registry), "text/plain; version=0.0.4")
            elif self.path == "/healthz":
                stale = metrics.stale(stale_after)
                body = {"ok": not stale, "stale_sources": stale, "stale_seconds": stale_after}
                self._send(503 if stale else 200, json.dumps(body).encode(), "application/json")
            else:
                self._send(404, b"not found: /metrics or /healthz\n", "text/plain")

        def _send(self, code: int, body: bytes, kind: str) -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:  # scrapes are not events worth a line each
            return

    host, _, port = listen.rpartition(":")
    try:
        server = ThreadingHTTPServer((host, int(port)), Handler)
    except OSError as exc:
        raise ConfigError(f"service.listen: cannot listen on {listen}: {exc.strerror or exc}") from None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("metrics and health on http://%s:%d/metrics and /healthz", host, server.server_port,
             extra={"port": server.server_port})
    return server
