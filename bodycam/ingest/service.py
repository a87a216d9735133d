"""Build the ingest context and report ingest status (the watch service is bodycam.service)."""

from __future__ import annotations

import logging
import socket
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
from bodycam.kinds import IN_FLIGHT, IngestState

log = logging.getLogger(__name__)


def make_context(app: App, release: str | None = None, move_to: Path | None = None,
                 pattern: str | None = None, tz: str | None = None) -> Context:
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
    clear_litter(app)
    from zoneinfo import ZoneInfo

    return Context(
        db=db, store=app.store, settings=app.settings, actor=app.actor, worker=worker_id(),
        host=socket.gethostname(), release=release, move_to=move_to.absolute() if move_to else None,
        pattern=pattern, zone=ZoneInfo(tz) if tz else app.settings.zone, clock=app.clock,
    )


INCOMPLETE_AFTER = timedelta(hours=24)
"""An S3 multipart upload this old has no writer left (a 2 GiB file takes seconds)."""


def clear_litter(app: App) -> list[str]:
    """Remove what killed writers left in the store (partial files, unfinished
    multipart uploads): never an object, only bytes no index row points to.
    Housekeeping never stops ingest: a store that refuses it (say, a policy without
    ListBucketMultipartUploads) is reported and ingest goes on."""
    try:
        removed = app.store.sweep_incomplete(INCOMPLETE_AFTER)
    except BodycamError as exc:
        log.warning("could not clear unfinished uploads: %s", exc)
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
    now = app.clock.now()
    with db.read() as s:
        counts = {state: n for state, n in s.execute(
            select(IngestItem.state, func.count()).group_by(IngestItem.state))}
        flight = s.scalars(select(IngestItem).where(IngestItem.state.in_(IN_FLIGHT))
                           .order_by(IngestItem.claimed_at)).all()
        failed = s.scalars(select(IngestItem).where(IngestItem.state == "failed")
                           .order_by(IngestItem.updated_at.desc())).all()
        # only retaken attempts and duplicate races can leave abandoned versions
        abandoned = s.scalars(select(IngestItem.abandoned).where(
            (IngestItem.attempts > 1) | (IngestItem.outcome == "duplicate"))).all()
        missing = never_received(s)
    return Status(
        counts={k: counts.get(k, 0) for k in IngestState},
        in_flight=[{"path": i.source_path, "state": i.state, "worker": i.claimed_by, "since": i.claimed_at,
                    "heartbeat_age_s": round((now - i.heartbeat_at) / timedelta(seconds=1)), "attempts": i.attempts}
                   for i in flight],
        failed=[{"path": i.source_path, "error": i.last_error, "attempts": i.attempts, "at": i.updated_at}
                for i in failed],
        abandoned_versions=sum(len(a or []) for a in abandoned),
        missing_files=missing,
    )
