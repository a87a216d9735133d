"""One ingest pass over dock or interrogation folders, with a bounded worker pool."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

from bodycam.errors import BodycamError
from bodycam.ingest.claims import working
from bodycam.ingest.discover import Skipped, SourceFile, dock_cameras, session_folders, walk_files
from bodycam.ingest.pipeline import Context, Result, SessionLink, ingest_file
from bodycam.names import shown

log = logging.getLogger(__name__)

Job = tuple[SourceFile, str, SessionLink | None]


@dataclass
class Summary:
    seen: int = 0
    ingested: int = 0
    duplicates: int = 0
    flagged: int = 0
    failed: int = 0
    already: int = 0
    busy: int = 0
    pending: int = 0
    released: int = 0
    bytes: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    flagged_files: list[tuple[str, list[str]]] = field(default_factory=list)
    manifest_errors: list[str] = field(default_factory=list)
    missing_files: list[tuple[str, list[str]]] = field(default_factory=list)
    """(session id, listed files neither in its folder nor stored)."""
    clip_ids: list[int] = field(default_factory=list)
    overlaps: list[tuple[int, int, float]] = field(default_factory=list)
    """(clip, clip, seconds): clips of one camera that overlap, flagged ``overlap``."""
    incident_links: int = 0
    """Clips of this pass linked to incidents by rule."""
    seal_error: BodycamError | None = None
    """Why the pass could not be sealed: the index or log contradicts the last seal
    (AuditChainBroken), or the store failed (StoreError)."""

    @property
    def mb_per_s(self) -> float:
        return self.bytes / 1e6 / self.seconds if self.seconds > 0 else 0.0

    def add(self, r: Result) -> None:
        """Count one file's outcome (names recorded printable: see bodycam.names)."""
        if r.outcome in ("ingested", "flagged"):
            self.bytes += r.size
            if r.clip_id is not None:
                self.clip_ids.append(r.clip_id)
        if r.outcome == "ingested":
            self.ingested += 1
        elif r.outcome == "flagged":
            self.ingested += 1
            self.flagged += 1
            self.flagged_files.append((shown(r.path), r.flags))
        elif r.outcome == "duplicate":
            self.duplicates += 1
        elif r.outcome == "done":
            self.already += 1
        elif r.outcome == "busy":
            self.busy += 1
        elif r.outcome == "pending":  # stopped mid-upload: the next pass takes it
            self.pending += 1
        else:
            self.failed += 1
            self.failures.append((shown(r.path), r.error or "failed"))
        self.released += int(r.released)


def collect(ctx: Context, paths: list[Path], kind: str, summary: Summary) -> list[Job]:
    """Discover the files under each path; interrogation sessions are registered here."""
    jobs: list[Job] = []
    for path in paths:
        if not path.is_dir():  # a dock folder not mounted yet, or gone: said once per pass, never a traceback
            summary.skipped.append((shown(path), "no such folder (not mounted?)"))
            continue
        if kind == "dock":
            for folder, camera in dock_cameras(path):
                for found in walk_files(folder, camera, folder):
                    if isinstance(found, Skipped):
                        summary.skipped.append((shown(found.path), found.reason))
                    else:
                        jobs.append((found, "dock", None))
            continue
        from bodycam.ingest.sessions import session_folder

        for folder in session_folders(path):
            found_session = session_folder(ctx, folder)
            if found_session.error:
                summary.manifest_errors.append(shown(found_session.error))
            if found_session.missing:
                summary.missing_files.append((found_session.session_id or "", list(found_session.missing)))
            for found in walk_files(folder, None, folder):
                if isinstance(found, Skipped):
                    summary.skipped.append((shown(found.path), found.reason))
                else:
                    jobs.append((found, "interrogation", found_session.links.get(found.path.name,
                                                                                 found_session.other)))
    return jobs


def split_stable(jobs: list[Job], stable_seconds: float) -> tuple[list[Job], list[Job]]:
    """Files untouched for ``stable_seconds`` and unchanged since discovery; the rest wait."""
    now = time.time_ns()
    ready: list[Job] = []
    waiting: list[Job] = []
    for sf, kind, link in jobs:
        try:
            st = os.stat(sf.path, follow_symlinks=False)
        except FileNotFoundError:
            continue
        fresh = SourceFile(sf.path, sf.root, sf.camera, st.st_size, st.st_mtime_ns, sf.sidecar)
        unchanged = (st.st_size, st.st_mtime_ns) == (sf.size, sf.mtime_ns)
        old_enough = now - st.st_mtime_ns >= stable_seconds * 1e9
        (ready if unchanged and old_enough else waiting).append((fresh, kind, link))
    return ready, waiting


def run_pass(
    ctx: Context,
    paths: list[Path],
    kind: str,
    *,
    workers: int,
    wait_seconds: float,
    on_total: Callable[[int, int], None] | None = None,
    on_done: Callable[[Result], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Summary:
    """Ingest every stable file under ``paths``; wait up to ``wait_seconds`` for files
    still being written, and leave those that never settle for the next pass. Once
    ``should_stop`` says so, no new file starts: the rest stay for the next pass."""
    stopping = should_stop or (lambda: False)
    if should_stop is not None:
        ctx = replace(ctx, should_stop=should_stop)
    summary = Summary()
    started = time.monotonic()
    jobs = collect(ctx, paths, kind, summary)
    summary.seen = len(jobs)
    if on_total:
        on_total(len(jobs), sum(j[0].size for j in jobs))
    lock = threading.Lock()

    def one(job: Job) -> None:
        if stopping():
            with lock:
                summary.pending += 1
            return
        result = ingest_file(ctx, job[0], job[1], job[2])
        with lock:
            summary.add(result)
            if on_done:
                on_done(result)

    deadline = time.monotonic() + wait_seconds
    stable = ctx.settings.ingest.stable_seconds
    with working(ctx.worker), ThreadPoolExecutor(max_workers=workers, thread_name_prefix="ingest") as pool:
        pending = jobs
        while pending:
            ready, pending = split_stable(pending, stable)
            list(pool.map(one, ready))
            if not pending or time.monotonic() >= deadline or stopping():
                break
            time.sleep(min(max(stable / 4, 0.2), max(deadline - time.monotonic(), 0)))
    summary.pending += len(pending)
    _settle(ctx, summary)
    if summary.ingested or summary.duplicates or summary.released:
        summary.seal_error = seal_after(ctx, "ingest")
    summary.seconds = time.monotonic() - started
    return summary


def _settle(ctx: Context, summary: Summary) -> None:
    """Place the segments and flag the overlaps of the cameras this pass stored clips of."""
    from bodycam.index.segments import settle

    if not summary.clip_ids:
        return
    try:
        done = settle(ctx.db, ctx.store, ctx.settings.retention, summary.clip_ids, ctx.actor, ctx.clock)
    except BodycamError as exc:  # the files are stored and indexed: this is said, and done again next pass
        log.warning("placing segments and checking overlaps failed: %s", exc)
        summary.manifest_errors.append(f"segments and overlaps not checked: {exc}")
        return
    summary.overlaps = done.overlapping
    _link_incidents(ctx, summary)


def _link_incidents(ctx: Context, summary: Summary) -> None:
    """Late footage finds the incidents it belongs to (their records arrived first)."""
    from bodycam.incidents import linking

    try:
        with ctx.db.write() as s:
            summary.incident_links = len(linking.link(s, ctx.settings.incidents, ctx.actor, ctx.clock.now(),
                                                      clips=summary.clip_ids))
    except BodycamError as exc:  # the files are stored and indexed; `bodycam incidents relink` does it later
        log.warning("linking the pass's clips to incidents failed: %s", exc)


def seal_after(ctx: Context, reason: str) -> BodycamError | None:
    """Seal what a pass changed; a refusal is reported, never hidden, and never undoes the pass."""
    from bodycam.audit import seals

    try:
        seals.write(ctx.db, ctx.store, ctx.clock, ctx.actor, reason)
    except BodycamError as exc:
        return exc
    return None
