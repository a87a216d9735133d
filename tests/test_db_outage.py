"""Issue 17: PostgreSQL restarted under a running pass and under a retention sweep.

A private server (tests/pgserver.py) that the test stops and starts: the service waits (bounded,
saying so once), resumes, and nothing is lost, indexed twice or deleted without its record.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from sqlalchemy import func, select

from bodycam.db.engine import Database
from bodycam.db.models import Clip, IngestItem
from bodycam.errors import DatabaseUnreachable
from bodycam.retention import sweep
from bodycam.store import ObjectStore
from tests.conftest import Bodycam, run_bodycam
from tests.media import distinct_dock
from tests.pgserver import PrivatePostgres


@pytest.fixture
def pg() -> Iterator[PrivatePostgres]:
    server = PrivatePostgres()
    yield server
    server.destroy()


def _env(pg: PrivatePostgres, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"BODYCAM_DATABASE_URL": pg.url(), "BODYCAM_STORE_URL": f"file://{tmp_path / 'objects'}",
            "XDG_CONFIG_HOME": str(tmp_path / "cfg"), **extra}


def _count(url: str, what: Any) -> int:
    db = Database(url, reconnect_seconds=0)
    try:
        with db.read() as s:
            return int(s.scalar(select(func.count()).select_from(what)) or 0)
    finally:
        db.dispose()


def _until(ok: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not ok():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def test_a_restart_mid_pass_is_waited_out_and_every_file_is_indexed_once(
        pg: PrivatePostgres, tmp_path: Path, ffmpeg: str) -> None:
    import os

    env = {**os.environ, **_env(pg, tmp_path)}
    run_bodycam("init", env=env, check=True)
    dock = distinct_dock(tmp_path / "dock", 40)
    cfg = tmp_path / "bodycam.toml"
    cfg.write_text('log_format = "json"\n[service]\nlisten = "off"\n[ingest]\npoll_seconds = 0.5\nstable_seconds = 0\n'
                   f'workers = 1\n[[ingest.sources]]\nname = "dock-1"\npath = "{dock}"\nkind = "dock"\n'
                   'release = "delete"\n')
    proc = subprocess.Popen([sys.executable, "-m", "bodycam", "--config", str(cfg), "ingest", "watch"], env=env,
                            stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)  # type: ignore[union-attr]
    reader.start()
    try:
        _until(lambda: _count(pg.url(), Clip) >= 3, 120, "three clips indexed")
        pg.stop("fast")  # every session of the service is cut off, mid-transaction for some
        _until(lambda: any("unreachable" in line for line in lines), 60, "the service says the database is away")
        pg.start()
        _until(lambda: not list(dock.rglob("*.mp4")), 240, "every file released")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        reader.join(timeout=10)
    assert proc.returncode == 0, "".join(lines[-20:])
    records = [json.loads(line) for line in lines if line.strip()]
    assert not any("Traceback" in line for line in lines)
    assert any("waiting up to 60 s" in r["message"] for r in records)
    db = Database(pg.url())
    with db.read() as s:
        shas = list(s.scalars(select(Clip.sha256)))
        states = list(s.scalars(select(IngestItem.state)))
    db.dispose()
    assert len(shas) == len(set(shas)) == 40, "each file indexed exactly once"
    assert states == ["released"] * 40
    run_bodycam("audit", "verify", env=env, check=True)


class _OutageAfterDelete:
    """The real store; the database server goes down the moment a sweep's deletions return, and comes
    back ``outage`` seconds later (restic's fault-injecting backends, for a server instead of a disk)."""

    def __init__(self, real: ObjectStore, pg: PrivatePostgres, outage: float) -> None:
        self.real, self.pg, self.outage = real, pg, outage
        self.back: threading.Timer | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def delete_many(self, versions: list[tuple[str, str]]) -> dict[tuple[str, str], str | None]:
        out = self.real.delete_many(versions)
        if self.back is None and versions:
            self.pg.stop("fast")
            self.back = threading.Timer(self.outage, self.pg.start)
            self.back.start()
        return out


def _disposals(pg: PrivatePostgres) -> list[tuple[Any, str | None]]:
    db = Database(pg.url())
    try:
        with db.read() as s:
            return [(r.disposed_at, r.disposed_reason) for r in s.execute(select(Clip.disposed_at,
                                                                                 Clip.disposed_reason))]
    finally:
        db.dispose()


def _due_clips(bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam("init")
    bodycam("ingest", "run", str(distinct_dock(tmp_path / "dock", 3)))
    bodycam.advance(days=400)  # past the six-month floor and the default retention: due by policy
    bodycam("retention", "plan")


def test_a_restart_after_the_deletions_is_waited_out_and_each_disposal_recorded(
        pg: PrivatePostgres, tmp_path: Path, ffmpeg: str) -> None:
    bodycam = Bodycam(_env(pg, tmp_path))
    _due_clips(bodycam, tmp_path)
    app = bodycam.app()
    store = _OutageAfterDelete(app.store, pg, outage=2.0)
    result = sweep.run(app.db, cast(ObjectStore, store), app.settings.retention, app.actor, clock=bodycam.clock)
    assert (result.due, result.deleted, result.refused) == (3, 3, [])
    assert all(when is not None for when, _ in _disposals(pg))
    assert list(app.store.list()) == [] or all(not k.startswith("clips/") for k, _, _ in app.store.list())
    bodycam("audit", "verify")


def test_a_longer_outage_stops_the_sweep_with_one_line_and_the_next_sweep_finishes_it(
        pg: PrivatePostgres, tmp_path: Path, ffmpeg: str) -> None:
    bodycam = Bodycam(_env(pg, tmp_path, BODYCAM_DATABASE_RECONNECT_SECONDS="0.5"))
    _due_clips(bodycam, tmp_path)
    app = bodycam.app()
    store = _OutageAfterDelete(app.store, pg, outage=3.0)
    with pytest.raises(DatabaseUnreachable, match="cannot reach database"):
        sweep.run(app.db, cast(ObjectStore, store), app.settings.retention, app.actor, clock=bodycam.clock)
    assert store.back is not None
    store.back.join()
    out = bodycam("retention", "run").stdout
    assert "deleted 3 of 3 due" in out, out
    reasons = [why for _, why in _disposals(pg)]
    assert len(reasons) == 3 and all("interrupted sweep had deleted it" in (why or "") for why in reasons), reasons
    bodycam("audit", "verify")


class _OutageInPut:
    """The real store; the database server goes down while the first upload is under way."""

    def __init__(self, real: ObjectStore, pg: PrivatePostgres) -> None:
        self.real, self.pg, self.done = real, pg, False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def put(self, *args: Any, **kw: Any) -> Any:
        if not self.done:
            self.done = True
            self.pg.stop("fast")
        return self.real.put(*args, **kw)


def test_claims_left_by_a_pass_that_failed_while_the_database_was_away_do_not_block_the_next_pass(
        pg: PrivatePostgres, tmp_path: Path, ffmpeg: str) -> None:
    """The watch service runs pass after pass in one process: the files a failed pass had claimed are
    taken by the next pass at once, not left 'busy' until the service restarts."""
    from dataclasses import replace

    from bodycam.ingest.runner import run_pass
    from bodycam.ingest.service import make_context

    bodycam = Bodycam(_env(pg, tmp_path, BODYCAM_DATABASE_RECONNECT_SECONDS="0"))
    bodycam("init")
    dock = distinct_dock(tmp_path / "dock", 2)
    app = bodycam.app()
    ctx = make_context(app, "delete")
    failed = run_pass(replace(ctx, store=cast(ObjectStore, _OutageInPut(app.store, pg)), retries=0), [dock], "dock",
                      workers=1, wait_seconds=0)
    assert (failed.ingested, failed.failed) == (0, 2)
    pg.start()
    again = run_pass(make_context(app, "delete"), [dock], "dock", workers=1, wait_seconds=0)
    assert (again.ingested, again.busy, again.released) == (2, 0, 2), again
    assert _count(pg.url(), Clip) == 2
