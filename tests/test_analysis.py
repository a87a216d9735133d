"""Issue 13, first part: the camera is released before its pictures are analysed;
analysis jobs are taken by any worker with a claim and a lease; reports say
"analysis pending", never clean, until the job is done."""

from __future__ import annotations

import json
import subprocess
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from bodycam.analysis import jobs
from bodycam.db.models import AnalysisJob
from tests.conftest import Bodycam
from tests.media import age

START = (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)


def black_clip(path: Path, picture: int = 4) -> Path:
    """Some seconds of picture, then six of black: what a covered lens records."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=320x240:rate=10:duration={picture}",
                    "-f", "lavfi", "-i", "color=black:size=320x240:rate=10:duration=6", "-filter_complex",
                    "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264", "-preset", "ultrafast",
                    str(path)], check=True)
    age(path)
    return path


def events_file(tmp_path: Path) -> Path:
    path = tmp_path / "events.csv"
    path.write_text("event_id,scenario,start,end,officers,unit,case_id,location\n"
                    f"E-1,dispatch,{START.isoformat()},{(START + timedelta(seconds=10)).isoformat()},P1,,,\n")
    return path


def findings(bodycam: Bodycam) -> list[str]:
    window = ["--from", (START - timedelta(hours=1)).isoformat(), "--to", (START + timedelta(hours=1)).isoformat()]
    result = bodycam("gaps", "report", *window, "--format", "json", check=False)
    assert result.exit_code in (0, 4), result.output
    return [f["kind"] for f in json.loads(result.stdout)["findings"]]


def test_the_camera_is_released_before_the_analysis(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    bodycam("events", "import", str(events_file(tmp_path)), "--unknown", "warn")
    src = black_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{START:%Y%m%d%H%M%S}.mp4")
    bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete", "--no-analyse")
    assert not src.exists()  # released: stored, verified, indexed; the decode has not run
    (clip,) = bodycam.json("clips", "search")
    assert "analysis_pending" in clip["flags"] and "discontinuity" not in clip["flags"]
    assert bodycam.json("analyse", "status")["pending"] == 1
    assert "analysis_pending" in findings(bodycam)  # never shown as clean

    done = bodycam.json("analyse", "run")
    assert done["analysed"] == 1 and done["with_findings"] == 1 and done["queue"]["done"] == 1
    (clip,) = bodycam.json("clips", "search")
    assert "discontinuity" in clip["flags"] and "analysis_pending" not in clip["flags"]
    shown = bodycam.json("clips", "show", str(clip["id"]))
    assert [d["kind"] for d in shown["discontinuities"]] == ["black"]
    assert "clip.analysed" in [e["action"] for e in shown["custody"]]
    kinds = findings(bodycam)
    assert "discontinuity" in kinds and "analysis_pending" not in kinds
    assert bodycam.json("analyse", "run")["analysed"] == 0  # nothing left, nothing done twice


def test_ingest_run_analyses_after_releasing_by_default(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    black_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{START:%Y%m%d%H%M%S}.mp4")
    out = bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete").stdout
    assert "analysed 1 clip(s) after release: 1 with discontinuities" in out
    assert bodycam.json("analyse", "status") == {"pending": 0, "running": 0, "done": 1, "failed": 0}


def test_a_lapsed_lease_is_taken_over_and_the_late_result_dropped(bodycam: Bodycam, tmp_path: Path,
                                                                  ffmpeg: str) -> None:
    bodycam("init")
    black_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{START:%Y%m%d%H%M%S}.mp4")
    bodycam("ingest", "run", str(tmp_path / "dock"), "--no-analyse")
    app = bodycam.app()
    first = jobs.claim(app.db, "host-a:1:dead", app.clock)
    assert first is not None
    assert jobs.claim(app.db, "host-b:2:live", app.clock) is None  # held, lease running
    bodycam.clock.advance(jobs.LEASE + timedelta(seconds=1))
    second = jobs.claim(app.db, "host-b:2:live", app.clock)
    assert second is not None and second.job_id == first.job_id
    assert not jobs._finish(app.db, first, [], app.actor, app.clock)  # the old worker lost its claim: nothing recorded
    assert jobs._finish(app.db, second, [{"kind": "black", "at": 4.0, "seconds": 6.0}], app.actor, app.clock)
    with app.db.read() as s:
        job = s.get(AnalysisJob, first.job_id)
        assert job is not None and job.state == "done" and job.attempts == 2 and job.claimed_by == "host-b:2:live"


def test_workers_skip_a_job_another_holds(bodycam: Bodycam, tmp_path: Path, ffmpeg: str, db_url: str) -> None:
    """PostgreSQL: a job locked by another worker's transaction is skipped, not waited for."""
    bodycam("init")
    for n in range(2):
        black_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{START + timedelta(minutes=n):%Y%m%d%H%M%S}.mp4", 4 + n)
    bodycam("ingest", "run", str(tmp_path / "dock"), "--no-analyse")
    app = bodycam.app()
    if app.db.dialect != "postgresql":  # SQLite has one writer: claims are serialised by BEGIN IMMEDIATE
        a, b = jobs.claim(app.db, "w1", app.clock), jobs.claim(app.db, "w2", app.clock)
        assert a is not None and b is not None and a.job_id != b.job_id
        return
    with app.db.engine.connect() as other:
        other.begin()
        locked = other.execute(text("SELECT id FROM analysis_jobs ORDER BY id LIMIT 1 FOR UPDATE")).scalar()
        taken = jobs.claim(app.db, "w2", app.clock)
        assert taken is not None and taken.job_id != locked
        other.rollback()
    with app.db.write() as s:
        s.execute(update(AnalysisJob).values(state="pending"))


def test_a_long_analysis_keeps_its_lease(bodycam: Bodycam, tmp_path: Path, ffmpeg: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker busy past the lease renews it: nobody else takes the clip over meanwhile."""
    bodycam("init")
    black_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{START:%Y%m%d%H%M%S}.mp4")
    bodycam("ingest", "run", str(tmp_path / "dock"), "--no-analyse")
    app = bodycam.app()
    renewed = threading.Event()
    real_renew = jobs._renew

    def renew(*args: Any) -> None:
        real_renew(*args)
        renewed.set()

    taken_by_other: list[object] = []

    def heartbeat() -> datetime:
        with app.db.read() as s:
            job = s.scalars(select(AnalysisJob)).one()
            assert job.heartbeat_at is not None
            return job.heartbeat_at.replace(tzinfo=job.heartbeat_at.tzinfo or UTC)

    def slow_analysis(path: Path) -> list[dict[str, Any]]:
        bodycam.clock.advance(jobs.LEASE + timedelta(minutes=1))  # longer than the lease...
        for _ in range(1000):  # ...but renewed while it ran (a renewal begun before the advance does not count)
            assert renewed.wait(30), "the lease was not renewed"
            renewed.clear()
            if heartbeat() >= bodycam.clock.now():
                break
        taken_by_other.append(jobs.claim(app.db, "host-b:2:other", app.clock))
        return []

    monkeypatch.setattr(jobs, "_renew", renew)
    monkeypatch.setattr(jobs.discontinuity, "analyse", slow_analysis)
    # renewed every third of its lease: a 3 ms lease renews every millisecond of real time, while the
    # other host judges by the default lease on the clock the test moves
    summary = jobs.run(app.db, app.store, app.actor, "host-a:1:busy", app.clock, lease=timedelta(milliseconds=3))
    assert taken_by_other == [None]
    assert summary.analysed == 1 and summary.lost == 0


def test_several_workers_in_one_process_take_each_job_once(bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    for n in range(6):
        black_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{START + timedelta(minutes=n):%Y%m%d%H%M%S}.mp4", 2 + n)
    bodycam("ingest", "run", str(tmp_path / "dock"), "--no-analyse")
    app = bodycam.app()
    summary = jobs.run(app.db, app.store, app.actor, "host-a:1", app.clock, workers=3)
    assert summary.analysed == 6 and summary.with_findings == 6 and not summary.failed
    with app.db.read() as s:
        rows = s.execute(text("SELECT state, attempts, claimed_by FROM analysis_jobs")).all()
    assert [(r[0], r[1]) for r in rows] == [("done", 1)] * 6
    assert {r[2] for r in rows} <= {"host-a:1/0", "host-a:1/1", "host-a:1/2"}


def test_a_clip_whose_workers_keep_dying_is_given_up_not_retried_forever(bodycam: Bodycam, tmp_path: Path,
                                                                         ffmpeg: str) -> None:
    bodycam("init")
    bodycam("events", "import", str(events_file(tmp_path)), "--unknown", "warn")
    black_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{START:%Y%m%d%H%M%S}.mp4")
    bodycam("ingest", "run", str(tmp_path / "dock"), "--no-analyse")
    app = bodycam.app()
    for n in range(jobs.MAX_ATTEMPTS):  # each worker dies mid-analysis: its lease lapses
        assert jobs.claim(app.db, f"host-{n}:1:died", app.clock) is not None
        bodycam.clock.advance(jobs.LEASE + timedelta(seconds=1))
    assert jobs.claim(app.db, "host-x:1:next", app.clock) is None
    assert jobs.counts(app.db)["failed"] == 1
    (clip,) = bodycam.json("clips", "search")
    assert "analysis_failed" in clip["flags"] and "analysis_pending" not in clip["flags"]
    assert "analysis_failed" in findings(bodycam)


def test_a_picture_the_measures_cannot_take_fails_its_job_not_the_worker(bodycam: Bodycam, tmp_path: Path,
                                                                         ffmpeg: str,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from bodycam.analysis import discontinuity

    bodycam("init")
    black_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{START:%Y%m%d%H%M%S}.mp4")
    bodycam("ingest", "run", str(tmp_path / "dock"), "--no-analyse")

    def odd_layout(frame: object) -> None:
        raise ValueError("cannot reshape array of size 7 into shape (3,4)")

    monkeypatch.setattr(discontinuity, "_luma", odd_layout)
    result = bodycam("analyse", "run", "--format", "json")  # exit 0, not 70
    summary = json.loads(result.stdout)
    assert summary["analysed"] == 0 and "cannot measure the pictures" in summary["failed"][0]
    assert summary["queue"]["failed"] == 1 and len(summary["failed"]) == jobs.MAX_ATTEMPTS  # tried three times
    (clip,) = bodycam.json("clips", "search")
    assert "analysis_failed" in clip["flags"]
