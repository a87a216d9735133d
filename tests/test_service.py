"""Issue 16: the watch service at 3 a.m.: JSON log lines, systemd's notify protocol, a clean stop.

Subprocesses, because what is tested is the process: its signals, its stderr, its socket.
"""

from __future__ import annotations

import hashlib
import json
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from bodycam.db.engine import Database
from bodycam.db.models import Clip, IngestItem
from bodycam.ingest.runner import run_pass
from bodycam.ingest.service import make_context
from tests.conftest import Bodycam, run_bodycam
from tests.media import age, distinct_dock, make_clip


def _dock(tmp_path: Path, n: int) -> Path:
    return distinct_dock(tmp_path / "dock", n)


def _config(tmp_path: Path, dock: Path) -> Path:
    cfg = tmp_path / "bodycam.toml"
    cfg.write_text('log_format = "json"\n[service]\nlisten = "127.0.0.1:0"\n'
                   f'[ingest]\npoll_seconds = 0.5\nstable_seconds = 0\nworkers = 1\n'
                   f'[[ingest.sources]]\nname = "dock-1"\npath = "{dock}"\nkind = "dock"\n')
    return cfg


def _clips(env: dict[str, str]) -> int:
    db = Database(env["BODYCAM_DATABASE_URL"])
    try:
        with db.read() as s:
            return int(s.scalar(select(func.count()).select_from(Clip)) or 0)
    finally:
        db.dispose()


early = ""


def _port(proc: subprocess.Popen[str]) -> int:
    """The metrics port from the service's JSON log line (port 0: any free one)."""
    global early
    assert proc.stderr is not None
    while line := proc.stderr.readline():
        early += line
        record = json.loads(line)
        if "port" in record:
            return int(record["port"])
    raise AssertionError("no metrics port logged:\n" + early)


def test_sigterm_mid_pass_stops_within_ten_seconds_with_json_logs_and_everything_resumable(
        bodycam_env: dict[str, str], tmp_path: Path, ffmpeg: str) -> None:
    run_bodycam("init", env=bodycam_env, check=True)
    dock = _dock(tmp_path, 60)
    sock_path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(sock_path)
    listener.settimeout(30)
    env = {**bodycam_env, "NOTIFY_SOCKET": sock_path, "WATCHDOG_USEC": "400000", "WATCHDOG_PID": ""}
    proc = subprocess.Popen([sys.executable, "-m", "bodycam", "--config", str(_config(tmp_path, dock)), "ingest",
                             "watch"], env=env, stderr=subprocess.PIPE, text=True)
    try:
        said = [listener.recv(4096).decode()]
        assert "READY=1" in said[0]
        deadline = time.monotonic() + 60
        while _clips(bodycam_env) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        said.append(listener.recv(4096).decode())
        assert any("WATCHDOG=1" in s for s in said)
        port = _port(proc)
        health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert health.status == 200 and json.loads(health.read())["ok"] is True
        scrape = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        assert 'bodycam_last_pass_success_timestamp_seconds{source="dock-1"}' in scrape
        assert 'bodycam_analysis_jobs{state="pending"}' in scrape and "bodycam_free_bytes{" in scrape
        assert 'bodycam_ingest_items{state="indexed"}' in scrape
    finally:
        proc.send_signal(signal.SIGTERM)
        asked = time.monotonic()
        _, err = proc.communicate(timeout=30)
    took = time.monotonic() - asked
    assert proc.returncode == 0, err
    assert took < 10, f"stopped {took:.1f} s after SIGTERM"
    lines = [json.loads(line) for line in (early + err).splitlines() if line.strip()]
    assert all({"at", "level", "logger", "message"} <= set(x) for x in lines)
    assert lines[-1]["message"] == "stopped" and lines[-1]["at"].endswith("Z")
    stored = _clips(bodycam_env)
    assert 3 <= stored < 60, "the stop came between files, mid-pass"
    # everything resumable: the next pass takes the rest, nothing twice
    out = json.loads(run_bodycam("ingest", "run", str(dock), "--format", "json", env=bodycam_env, check=True).stdout)
    assert out["ingested"] + out["already_indexed"] == 60 and _clips(bodycam_env) == 60
    listener.close()


def test_a_failing_job_is_one_line_and_a_traceback_only_with_debug(tmp_path: Path) -> None:
    import io
    import logging

    from bodycam import logs

    out = io.StringIO()
    logs.setup("text", debug=False, stream=out)
    try:
        raise ValueError("disk on fire\nsecond line")
    except ValueError:
        logging.getLogger("bodycam.service.watch").exception("dock-1: internal error", extra={"source": "dock-1"})
    (line,) = out.getvalue().splitlines()
    assert line.endswith("ERROR bodycam.service.watch: dock-1: internal error source=dock-1: ValueError: disk on fire")
    out = io.StringIO()
    logs.setup("json", debug=True, stream=out)
    try:
        raise ValueError("disk on fire")
    except ValueError:
        logging.getLogger("bodycam.x").exception("boom")
    record = json.loads(out.getvalue())
    assert record["error"] == "ValueError: disk on fire" and "Traceback" in record["traceback"]
    logs.setup("text")


def test_health_names_a_source_without_a_completed_pass_for_too_long() -> None:
    from bodycam.service.metrics import Metrics

    m = Metrics(["dock-1", "dock-2"])
    assert m.stale(900, now=m.started + 60) == []
    m.passed["dock-1"] = m.started + 1000
    assert m.stale(900, now=m.started + 1100) == ["dock-2"]


def test_the_shipped_alert_rules_name_only_metrics_the_service_exports() -> None:
    import re

    from prometheus_client import generate_latest

    from bodycam.service.metrics import LIVE, Metrics

    exported = set(re.findall(r"^# TYPE (bodycam_\w+)", generate_latest(Metrics(["x"]).registry).decode(), re.M))
    names = exported | {n + "_total" for n in exported} | {n.removesuffix("_total") for n in exported} | set(LIVE)
    rules = (Path(__file__).parent.parent / "deploy" / "prometheus-alerts.yml").read_text()
    used = set(re.findall(r"\b(bodycam_\w+)", rules))
    assert used and used <= names, used - names


def test_a_stop_mid_upload_abandons_a_large_file_at_once_and_the_next_pass_takes_it(
        bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    """A 40 MiB file: the stop is asked for after two reads, and honoured before the third. Nothing is left
    in the store (no partial file, no open multipart upload), the source is untouched, and the claim is
    handed back, so the next pass (another worker) takes the file without waiting out the lease."""
    bodycam("init")
    source = tmp_path / "dock" / "CAM1" / "CAM1_P1_20261101080000_0001.mp4"
    make_clip(source, 1.0)
    with source.open("ab") as f:
        f.write((40 << 20).to_bytes(4, "big") + b"free" + bytes((40 << 20) - 8))
    age(source)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    asked = 0

    def stop_after_two_reads() -> bool:
        nonlocal asked
        asked += 1
        return asked > 2

    app = bodycam.app()
    summary = run_pass(make_context(app, "delete"), [tmp_path / "dock"], "dock", workers=1, wait_seconds=0,
                       should_stop=stop_after_two_reads)
    assert (summary.ingested, summary.failed, summary.pending) == (0, 0, 1), summary.failures
    assert source.exists() and hashlib.sha256(source.read_bytes()).hexdigest() == before
    assert list(app.store.list()) == [] and app.store.sweep_incomplete(timedelta(0)) == []
    with app.trusted_db().read() as s:
        assert s.scalar(select(func.count()).select_from(Clip)) == 0
        assert s.scalar(select(IngestItem.state)) == "claimed"

    again = run_pass(make_context(app, "delete"), [tmp_path / "dock"], "dock", workers=1, wait_seconds=0)
    assert (again.ingested, again.busy, again.pending) == (1, 0, 0), again.failures
    assert not source.exists() and again.released == 1
    with app.trusted_db().read() as s:
        assert s.scalar(select(Clip.sha256)) == before


def test_an_analysis_host_takes_the_queue_reports_health_and_stops_on_sigterm(
        bodycam_env: dict[str, str], tmp_path: Path, ffmpeg: str) -> None:
    """`bodycam analyse watch`: no dock folder, only the shared database and store. Its health is the
    analysis loop's: 200 once a pass has emptied the queue."""
    run_bodycam("init", env=bodycam_env, check=True)
    dock = _dock(tmp_path, 2)
    run_bodycam("ingest", "run", str(dock), "--no-analyse", env=bodycam_env, check=True)
    cfg = tmp_path / "analysis.toml"
    cfg.write_text('log_format = "json"\n[service]\nlisten = "127.0.0.1:0"\n[ingest]\npoll_seconds = 0.5\n')
    proc = subprocess.Popen([sys.executable, "-m", "bodycam", "--config", str(cfg), "analyse", "watch"],
                            env=bodycam_env, stderr=subprocess.PIPE, text=True)
    try:
        port = _port(proc)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            scrape = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
            if "bodycam_clips_analysed_total 2.0" in scrape:
                break
            time.sleep(0.2)
        assert "bodycam_clips_analysed_total 2.0" in scrape, scrape
        health = urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10)
        assert json.loads(health.read())["ok"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert json.loads(err.splitlines()[-1])["message"] == "stopped"
    status = json.loads(run_bodycam("analyse", "status", "--format", "json", env=bodycam_env, check=True).stdout)
    assert status.get("done") == 2 and not status.get("pending"), status
