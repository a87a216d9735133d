"""The unattended service and the demo, as a user runs them."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import func, select

from bodycam.db.engine import Database
from bodycam.db.models import Clip
from tests.conftest import run_bodycam
from tests.media import age, make_clip


def test_watch_ingests_new_files_and_stops_on_sigterm(bodycam_env: dict[str, str], tmp_path: Path,
                                                      ffmpeg: str) -> None:
    run_bodycam("init", env=bodycam_env, check=True)
    dock = tmp_path / "dock"
    dock.mkdir()
    cfg = tmp_path / "bodycam.toml"
    cfg.write_text('[service]\nlisten = "127.0.0.1:0"\n'
                   f'[ingest]\npoll_seconds = 0.5\nstable_seconds = 0\nrelease = "delete"\n\n'
                   f'[[ingest.sources]]\nname = "dock-1"\npath = "{dock}"\nkind = "dock"\n')
    proc = subprocess.Popen([sys.executable, "-m", "bodycam", "--config", str(cfg), "ingest", "watch"],
                            env=bodycam_env, stderr=subprocess.PIPE, text=True)
    try:
        clip = make_clip(tmp_path / "staging" / "CAM9_P9_20261101080000.mp4", 1.0)
        age(clip)
        (dock / "CAM9").mkdir()
        clip.rename(dock / "CAM9" / clip.name)
        db = Database(bodycam_env["BODYCAM_DATABASE_URL"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with db.read() as s:
                if s.scalar(select(func.count()).select_from(Clip)):
                    break
            time.sleep(0.3)
        with db.read() as s:
            assert s.scalars(select(Clip.device_serial)).all() == ["CAM9"]
        while (dock / "CAM9" / clip.name).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not (dock / "CAM9" / clip.name).exists(), "released after it was indexed"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped" in err


def test_watch_without_sources_is_a_clear_error(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    run_bodycam("init", env=env, check=True)
    proc = run_bodycam("ingest", "watch", env=env)
    assert proc.returncode == 50 and "no sources to watch" in proc.stderr


def test_demo_shows_the_deliberate_faults(tmp_path: Path, ffmpeg: str) -> None:
    env = {"PATH": "/usr/bin:/bin", "XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)}
    started = time.monotonic()
    proc = run_bodycam("demo", "--dir", str(tmp_path / "demo"), env=env, check=True)
    assert time.monotonic() - started < 120
    out = proc.stdout
    for expected in ("late_upload", "unreadable", "officer_conflict", "ROOM-1_part3.mp4", "verified", "no_footage",
                     "late_start", "early_stop", "interrupted", "discontinuity", "justified", "unreviewed"):
        assert expected in out, expected
    # issue 18: incidents with their clips and the rule's reasons, a link rate, and a case that fails the
    # legal-review gate until its interrogation's missing file arrives
    assert "JQ-001 <- clip" in out and "overlaps their dispatch-to-clear" in out
    car = r"JQ-002 <- clip \d+: officer P100002's recording \(on board 浙A·J0001\) \S+ 01:29:30Z"
    assert re.search(car, out)  # the patrol car's camera, for its crew
    assert "incidents without footage: JQ-003" in out and "Link rate" in out
    assert "before the late file: NOT READY (1 problem(s))" in out and "never received: ROOM-1_b2.mp4" in out
    assert "after it arrived: READY" in out
    (instance,) = (tmp_path / "demo").iterdir()
    denv = {**env, "BODYCAM_DATABASE_URL": f"sqlite:///{instance / 'bodycam.db'}",
            "BODYCAM_STORE_URL": f"file://{instance / 'objects'}"}
    rows = json.loads(run_bodycam("clips", "search", "--officer", "P100001", "--format", "json",
                                  env=denv, check=True).stdout)
    dock = [(r["device"], r["officers"]) for r in rows if r["kind"] == "dock"]  # the patrol car's: the crew's
    assert dock == [("DSJ-A0001", ["P100001"])] * 2 + [("DSJ-C0001", ["P100001", "P100002"]),
                                                       ("DSJ-A0001", ["P100001"])]
    assert {r["device"] for r in rows if r["kind"] == "interrogation"} == {"ROOM-1"}  # P100001 interrogated
    assert [r["start"] for r in rows] == sorted(r["start"] for r in rows)
    late = json.loads(run_bodycam("clips", "search", "--flag", "late_upload", "--format", "json",
                                  env=denv, check=True).stdout)
    assert [r["officer"] for r in late] == ["P100003"]
    assert run_bodycam("audit", "verify", env=denv).returncode == 0
