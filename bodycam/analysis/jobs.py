"""Analysis jobs: taken by any worker on any host, with a claim and a lease.

Ingest enqueues one job per clip with a picture, in the transaction that indexes
the clip, and flags the clip ``analysis_pending`` (coverage reports show it as
such, never as clean). A worker claims the oldest pending job (PostgreSQL:
``FOR UPDATE SKIP LOCKED``, so workers on many hosts never wait on each other;
SQLite: its single writer), or one whose worker's lease ran out; it analyses the
stored object (the local store's own file; from S3 a temporary copy, hashed while
it is fetched, so only intact bytes are analysed) and records the result only if
it still holds the claim.
"""

from __future__ import annotations

import hashlib
import itertools
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bodycam import faults
from bodycam.analysis import discontinuity
from bodycam.audit import chain
from bodycam.clock import Clock
from bodycam.db.engine import Database
from bodycam.db.models import AnalysisJob, Clip, ClipFlag
from bodycam.errors import BodycamError, IntegrityError
from bodycam.kinds import AnalysisState
from bodycam.store import ObjectStore

PENDING = "analysis_pending"
FAILED = "analysis_failed"
FOUND = "discontinuity"
LEASE = timedelta(minutes=10)
MAX_ATTEMPTS = 3


def enqueue(s: Session, clip_id: int, now: Any) -> None:
    """Queue a clip's analysis (inside the ingest transaction)."""
    s.add(AnalysisJob(clip_id=clip_id, state="pending", created_at=now, attempts=0, claimed_by=""))
    s.add(ClipFlag(clip_id=clip_id, flag=PENDING, detail="picture analysis not done yet", created_at=now))


@dataclass(frozen=True)
class Claimed:
    job_id: int
    clip_id: int
    store_key: str
    store_version: str
    sha256: str
    worker: str


def claim(db: Database, worker: str, clock: Clock, lease: timedelta = LEASE) -> Claimed | None:
    """The oldest job nobody holds (or whose holder's lease ran out), now ours."""
    now = clock.now()
    with db.write() as s:
        query = (select(AnalysisJob).where(or_(
            AnalysisJob.state == "pending",
            and_(AnalysisJob.state == "running", AnalysisJob.heartbeat_at < now - lease)))
            .order_by(AnalysisJob.id).limit(1))
        if db.dialect == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job = s.scalar(query)
        while job is not None and job.state == "running" and job.attempts >= MAX_ATTEMPTS:
            _give_up(s, job, now)  # its workers died on it every time: a poison file must not stop the queue
            job = s.scalar(query)
        if job is None:
            return None
        job.state, job.claimed_by, job.heartbeat_at, job.attempts = "running", worker, now, job.attempts + 1
        clip = s.get(Clip, job.clip_id)
        assert clip is not None
        return Claimed(job.id, clip.id, clip.store_key, clip.store_version, clip.sha256, worker)


def _mark_failed(s: Session, job: AnalysisJob, error: str, now: Any) -> None:
    """No more attempts: the clip says so (``analysis_failed``, no longer pending)."""
    job.state, job.finished_at, job.error = "failed", now, error[:2000]
    s.execute(delete(ClipFlag).where(ClipFlag.clip_id == job.clip_id, ClipFlag.flag.in_((PENDING, FAILED))))
    s.add(ClipFlag(clip_id=job.clip_id, flag=FAILED, detail=error[:500], created_at=now))
    s.flush()


def _give_up(s: Session, job: AnalysisJob, now: Any) -> None:
    _mark_failed(s, job, f"the worker died or stopped renewing its lease {job.attempts} times while analysing "
                         "this clip", now)


@contextmanager
def _readable(store: ObjectStore, c: Claimed) -> Iterator[Path]:
    """A path to the stored bytes: the local store's own file, or a verified temporary copy."""
    local = store.local_path(c.store_key, c.store_version)
    if local is not None:
        yield local
        return
    with tempfile.TemporaryDirectory(prefix="bodycam-analysis-") as tmp:
        path = Path(tmp) / "clip"
        digest = hashlib.sha256()
        with store.open(c.store_key, c.store_version) as src, open(path, "wb") as dst:
            while chunk := src.read(8 << 20):
                digest.update(chunk)
                dst.write(chunk)
        if digest.hexdigest() != c.sha256:
            raise IntegrityError(f"clip {c.clip_id}: stored bytes hash to {digest.hexdigest()}, recorded {c.sha256}")
        yield path


def _renew(db: Database, c: Claimed, clock: Clock) -> None:
    with db.write() as s:
        s.execute(update(AnalysisJob).where(AnalysisJob.id == c.job_id, AnalysisJob.claimed_by == c.worker,
                                            AnalysisJob.state == "running").values(heartbeat_at=clock.now()))


@contextmanager
def _renewing(db: Database, c: Claimed, clock: Clock, lease: timedelta) -> Iterator[None]:
    """Renew the claim's lease every third of it while the clip is analysed (a long file takes minutes)."""
    done = threading.Event()

    def renew() -> None:
        while not done.wait(lease.total_seconds() / 3):
            try:
                _renew(db, c, clock)
            except (BodycamError, SQLAlchemyError):
                continue  # the database is away: try again next time; if the lease lapses, the result is dropped

    renewer = threading.Thread(target=renew, name="analysis-lease", daemon=True)
    renewer.start()
    try:
        yield
    finally:
        done.set()
        renewer.join()


def _finish(db: Database, c: Claimed, breaks: list[dict[str, Any]], actor: str, clock: Clock) -> bool:
    """Record the result, only while the claim is still ours (a lease taken over is not)."""
    now = clock.now()
    with db.write() as s:
        job = s.get(AnalysisJob, c.job_id)
        if job is None or job.state != "running" or job.claimed_by != c.worker:
            return False
        clip = s.get(Clip, c.clip_id)
        assert clip is not None
        clip.discontinuities = breaks
        s.execute(delete(ClipFlag).where(ClipFlag.clip_id == c.clip_id,  # a re-analysis replaces the last result
                                         ClipFlag.flag.in_((PENDING, FAILED, FOUND))))
        if breaks:
            detail = "; ".join(f"{b['kind']} at {b['at']:g} s for {b['seconds']:g} s" for b in breaks)
            s.add(ClipFlag(clip_id=c.clip_id, flag=FOUND, detail=detail, created_at=now))
        job.state, job.finished_at, job.error = "done", now, None
        chain.record(s, actor, "clip.analysed", f"clip:{c.clip_id}", {
            "discontinuities": breaks, "worker": c.worker, "attempt": job.attempts})
    return True


def _fail(db: Database, c: Claimed, error: str, clock: Clock) -> None:
    with db.write() as s:
        job = s.get(AnalysisJob, c.job_id)
        if job is None or job.claimed_by != c.worker:
            return
        if job.attempts >= MAX_ATTEMPTS:
            _mark_failed(s, job, error, clock.now())
        else:
            job.state, job.error = "pending", error[:2000]


@dataclass
class RunSummary:
    analysed: int = 0
    with_findings: int = 0
    failed: list[str] = field(default_factory=list)
    lost: int = 0
    """Results dropped because another worker had taken the job over (a lease ran out)."""


def _work(db: Database, store: ObjectStore, actor: str, worker: str, clock: Clock, summary: RunSummary,
          lock: threading.Lock, take: Callable[[], bool], on_done: Callable[[int], None] | None,
          should_stop: Callable[[], bool], lease: timedelta) -> None:
    """One worker's loop: claim, analyse, record, until the queue is empty or a stop or the limit."""
    while not should_stop() and take():
        c = claim(db, worker, clock, lease)
        if c is None:
            return
        try:
            with _renewing(db, c, clock, lease), _readable(store, c) as path:
                faults.point("analysing")  # the crash tests: a worker that dies holding its job
                breaks = discontinuity.analyse(path)
        except (BodycamError, OSError) as exc:
            _fail(db, c, str(exc), clock)
            with lock:
                summary.failed.append(f"clip {c.clip_id}: {exc}")
            continue
        recorded = _finish(db, c, breaks, actor, clock)
        with lock:
            if recorded:
                summary.analysed += 1
                summary.with_findings += bool(breaks)
            else:
                summary.lost += 1
        if on_done:
            on_done(c.clip_id)


def run(db: Database, store: ObjectStore, actor: str, worker: str, clock: Clock, *,
        limit: int | None = None, workers: int = 1, on_done: Callable[[int], None] | None = None,
        should_stop: Callable[[], bool] = lambda: False, lease: timedelta = LEASE) -> RunSummary:
    """Analyse pending clips until none is left (or ``limit``, or ``should_stop``), ``workers`` at a time.

    Workers are threads: FFmpeg decodes and OpenCV measures without holding the GIL.
    """
    summary = RunSummary()
    lock = threading.Lock()
    budget = itertools.count()

    def take() -> bool:
        with lock:
            return limit is None or next(budget) < limit

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="analysis") as pool:
        for future in [pool.submit(_work, db, store, actor, f"{worker}/{n}" if workers > 1 else worker, clock,
                                   summary, lock, take, on_done, should_stop, lease) for n in range(workers)]:
            future.result()
    return summary


def counts(db: Database) -> dict[str, int]:
    """Jobs by state, for ``analyse status`` and the reports."""
    with db.read() as s:
        rows = s.execute(select(AnalysisJob.state, func.count()).group_by(AnalysisJob.state)).all()
    found = {state: int(n) for state, n in rows}
    return {state: found.get(state, 0) for state in AnalysisState}
