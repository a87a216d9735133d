"""The coverage report on a hand-built set of events and clips with known answers."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bodycam.db.engine import Database
from bodycam.db.models import Clip, ClipFlag, Event, EventOfficer, InterrogationSession
from bodycam.index.registry import device_by_serial, officer_by_badge
from tests.conftest import run_bodycam

D = datetime(2026, 11, 20, tzinfo=UTC)


def t(hh: int, mm: int, ss: int = 0) -> datetime:
    return D.replace(hour=hh, minute=mm, second=ss)


EVENTS = """event_id,scenario,start,end,officers,unit,case_id,location
E1,dispatch,2026-11-20T10:00:00Z,2026-11-20T10:10:00Z,P1,U1,,
E2,stop_and_check,2026-11-20T11:00:00Z,2026-11-20T11:10:00Z,P1,U1,,
E3,dispatch,2026-11-20T12:00:00Z,2026-11-20T12:10:00Z,P2,U1,C-9,
E4,major_incident,2026-11-20T13:00:00Z,2026-11-20T13:10:00Z,P3,U2,,square
E5,dispatch,2026-11-20T14:00:00Z,2026-11-20T14:10:00Z,P2,U1,,
E7,dispatch,2026-11-20T16:00:00Z,2026-11-20T16:10:00Z,P1,U1,,
E8,dispatch,2026-11-20T17:00:00Z,2026-11-20T17:10:00Z,P1,U1,,
"""

CLIPS = [  # (officer or None, device, start, end, uploaded late?, flag)
    ("P1", "CAM1", t(9, 59), t(10, 5), False, None),
    ("P1", "CAM1", t(10, 5), t(10, 10, 30), False, None),
    ("P1", "CAM1", t(11, 1), t(11, 10), False, None),
    ("P2", "CAM2", t(12, 0), t(12, 4), False, None),
    ("P2", "CAM2", t(12, 4, 20), t(12, 9), False, None),
    ("P2", "CAM2", t(14, 0), t(14, 10), True, None),
    (None, "R1", t(15, 0), t(15, 5), False, None),
    (None, "R1", t(15, 5, 2), t(15, 10), False, None),
    ("P1", "CAM1", t(16, 0), t(16, 0), False, "unreadable"),
    ("P1", "CAM1", t(16, 0), t(16, 10), False, None),
    ("P1", "CAM1", t(17, 0), t(17, 10), False, None),  # with a black stretch of 30 s and a frozen one of 3 s
]
BREAKS = {10: [{"kind": "black", "at": 60.0, "seconds": 30.0}, {"kind": "frozen", "at": 200.0, "seconds": 3.0}]}

EXPECTED = {
    ("E2", "P1", "late_start", 60.0),
    ("E3", "P2", "interrupted", 20.0),
    ("E3", "P2", "early_stop", 60.0),
    ("E4", "P3", "no_footage", 600.0),
    ("E5", "P2", "late_upload", 600.0),
    ("E6", "P1, P2", "interrupted", 2.0),
    ("E7", "P1", "unreadable", 600.0),
    ("E8", "P1", "discontinuity", 30.0),
}


def build(db_url: str, tmp_path: Path) -> dict[str, str]:
    env = {**os.environ, "BODYCAM_DATABASE_URL": db_url, "BODYCAM_STORE_URL": f"file://{tmp_path}/o",
           "XDG_CONFIG_HOME": str(tmp_path)}
    env = {k: v for k, v in env.items() if not k.startswith("BODYCAM_") or k in (
        "BODYCAM_DATABASE_URL", "BODYCAM_STORE_URL")}
    run_bodycam("init", env=env, check=True)
    (tmp_path / "events.csv").write_text(EVENTS)
    out = json.loads(run_bodycam("events", "import", str(tmp_path / "events.csv"), "--unknown", "warn",
                                 "--format", "json", env=env, check=True).stdout)
    assert out["created"] == 7 and any("unknown badge 'P1'" in w for w in out["warnings"])
    again = json.loads(run_bodycam("events", "import", str(tmp_path / "events.csv"), "--format", "json",
                                   env=env, check=True).stdout)
    assert (again["created"], again["updated"]) == (0, 0)
    db = Database(db_url)
    with db.write() as s:
        for n, (badge, serial, start, end, late, flag) in enumerate(CLIPS):
            device = device_by_serial(s, serial)
            officer = officer_by_badge(s, badge) if badge else None
            clip = Clip(sha256=f"{n:064x}", size=1, store_key=f"k{n}", store_version="v", device_id=device.id,
                        officer_id=officer.id if officer else None, device_serial=serial,
                        officer_badge=badge or "", recorded_start=start, recorded_end=end, media={},
                        discontinuities=BREAKS.get(n, []),
                        uploaded_at=end + (timedelta(days=2) if late else timedelta(hours=1)),
                        retain_until=end + timedelta(days=180))
            s.add(clip)
            s.flush()
            if flag:
                s.add(ClipFlag(clip_id=clip.id, flag=flag, detail="test", created_at=end))
            if n in BREAKS:  # ingest flags every clip it finds discontinuities in
                s.add(ClipFlag(clip_id=clip.id, flag="discontinuity", detail="test", created_at=end))
        room = device_by_serial(s, "R1", "interrogation_recorder")
        ev = Event(event_id="E6", scenario="interrogation", start=t(15, 0), end=t(15, 10), source="manifest")
        s.add(ev)
        s.flush()
        for badge in ("P1", "P2"):
            s.add(EventOfficer(event_id=ev.id, officer_id=officer_by_badge(s, badge).id))
        s.add(InterrogationSession(event_id=ev.id, session_id="E6", room_device_id=room.id, manifest={}))
    db.dispose()
    return env


def report(env: dict[str, str], *args: str) -> tuple[int, dict]:
    proc = run_bodycam("gaps", "report", "--from", "2026-11-20T00:00:00Z", "--to", "2026-11-21T00:00:00Z",
                       "--format", "json", *args, env=env)
    assert proc.returncode in (0, 4), proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def test_known_answers(db_url: str, tmp_path: Path) -> None:
    env = build(db_url, tmp_path)
    code, r = report(env)
    assert code == 4
    got = {(f["event_id"], f["officer"], f["kind"], f["seconds"]) for f in r["findings"]}
    assert got == EXPECTED
    by_officer = {row["officer"]: row for row in r["by_officer"]}
    p1 = by_officer["P1"]
    # P1's four body-camera events and the interrogation E6 P1 led with P2 (counted for each of them)
    assert (p1["events"], p1["fully_covered"], p1["activation_rate"]) == (5, 1, 1.0)
    e6 = next(u for u in r["events"] if u["event_id"] == "E6")
    assert p1["required_seconds"] == 2400 + e6["required_seconds"]
    assert p1["covered_seconds"] == 2340 + e6["covered_seconds"]
    assert by_officer["P2"]["events"] == 1 + sum(1 for u in r["events"] if u["officer"] == "P2")
    p3 = by_officer["P3"]
    assert (p3["events"], p3["with_footage"], p3["activation_rate"], p3["coverage"]) == (1, 0, 0.0, 0.0)
    assert {row["scenario"]: row["events"] for row in r["by_scenario"]} == {
        "dispatch": 5, "stop_and_check": 1, "major_incident": 1, "interrogation": 1}
    late = next(f for f in r["findings"] if f["kind"] == "late_start")
    assert late["start"] == "2026-11-20T11:00:00+00:00" and late["clips"]

    code, r = report(env, "--kind", "no_footage")
    assert code == 4 and [f["event_id"] for f in r["findings"]] == ["E4"]
    code, r = report(env, "--officer", "P1", "--scenario", "dispatch", "--kind", "late_start")
    assert code == 0 and r["findings"] == []
    code, r = report(env, "--unit", "U2")
    assert [f["event_id"] for f in r["findings"]] == ["E4"]

    csv_out = tmp_path / "gaps.csv"
    proc = run_bodycam("gaps", "report", "--from", "2026-11-20", "--to", "2026-11-21", "--format", "csv", "--out",
                       str(csv_out), env=env)
    assert proc.returncode == 4 and len(csv_out.read_text().splitlines()) == 1 + len(EXPECTED)
    page = tmp_path / "gaps.html"
    proc = run_bodycam("gaps", "report", "--from", "2026-11-20", "--to", "2026-11-21", "--format", "html", "--out",
                       str(page), env=env)
    html = page.read_text()
    assert proc.returncode == 4 and html.startswith("<!doctype html>")
    assert html.count("<svg") == len({(e, o) for e, o, _, _ in EXPECTED})  # one timeline per event with findings
    assert "<script" not in html and "http" not in html.replace("http://www.w3.org", "")  # self-contained
    from html.parser import HTMLParser

    HTMLParser().feed(html)
    table = run_bodycam("gaps", "report", "--from", "2026-11-20", "--to", "2026-11-21", env=env).stdout
    assert "no_footage" in table and "by officer:" in table


def test_event_import_errors(db_url: str, tmp_path: Path) -> None:
    env = build(db_url, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_text("event_id,scenario,start,end,officers\nE9,dispatch,2026-11-20T10:00:00Z,"
                   "2026-11-20T09:00:00Z,P1\n")
    proc = run_bodycam("events", "import", str(bad), env=env)
    assert proc.returncode == 50 and f"{bad}:2: field 'end'" in proc.stderr and "precedes start" in proc.stderr
    bad.write_text("event_id,scenario,start,end,officers\nE9,parking,2026-11-20T10:00:00Z,2026-11-20T11:00:00Z,P1\n")
    proc = run_bodycam("events", "import", str(bad), env=env)
    assert proc.returncode == 50 and "field 'scenario': 'parking' is not one of" in proc.stderr


def test_scheduled_periods_and_reports(tmp_path: Path) -> None:
    from datetime import date

    from bodycam.app import App
    from bodycam.config import load_settings
    from bodycam.coverage.periods import scheduled as periods
    from bodycam.coverage.scheduled import write_reports

    assert periods(date(2026, 11, 24), True, True, True) == [("daily", date(2026, 11, 23), date(2026, 11, 24))]
    monday_first = periods(date(2026, 6, 1), True, True, True)  # a Monday and the 1st
    assert [p[0] for p in monday_first] == ["daily", "weekly", "monthly"]
    assert monday_first[1][1:] == (date(2026, 5, 25), date(2026, 6, 1))
    assert monday_first[2][1:] == (date(2026, 5, 1), date(2026, 6, 1))

    env = build(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    app = App(load_settings(environ={**env, "BODYCAM_COVERAGE_REPORTS_FOLDER": str(tmp_path / "reports")}))
    written = write_reports(app, date(2026, 11, 21))
    assert sorted(p.name for p in written) == ["coverage-daily-2026-11-20.html", "coverage-daily-2026-11-20.json"]
    data = json.loads((tmp_path / "reports" / "coverage-daily-2026-11-20.json").read_text())
    assert {(f["event_id"], f["kind"]) for f in data["findings"]} == {(e, k) for e, _, k, _ in EXPECTED}
    log = json.loads(run_bodycam("audit", "log", "--action", "gaps.report.scheduled", "--format", "json",
                                 env=env, check=True).stdout)
    assert log[0]["details"]["period"] == "daily" and log[0]["details"]["findings"] == len(EXPECTED)


def test_a_scheduled_report_is_written_again_when_late_events_arrive_and_the_first_is_kept(tmp_path: Path) -> None:
    from datetime import date

    from bodycam.app import App
    from bodycam.config import load_settings
    from bodycam.coverage.scheduled import refresh_reports, write_reports

    env = build(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    app = App(load_settings(environ={**env, "BODYCAM_COVERAGE_REPORTS_FOLDER": str(tmp_path / "reports")}))
    write_reports(app, date(2026, 11, 21))
    assert refresh_reports(app) == []  # nothing new
    late = tmp_path / "late.csv"
    late.write_text("event_id,scenario,start,end,officers\nE-LATE,dispatch,2026-11-20T20:00:00Z,"
                    "2026-11-20T20:05:00Z,P9\n")
    run_bodycam("events", "import", str(late), "--unknown", "warn", env=env, check=True)
    written = refresh_reports(app)
    assert sorted(p.name for p in written) == ["coverage-daily-2026-11-20.html", "coverage-daily-2026-11-20.json"]
    reports = tmp_path / "reports"
    first = json.loads((reports / "coverage-daily-2026-11-20.v1.json").read_text())
    again = json.loads((reports / "coverage-daily-2026-11-20.json").read_text())
    assert "E-LATE" not in {f["event_id"] for f in first["findings"]}
    assert ("E-LATE", "no_footage") in {(f["event_id"], f["kind"]) for f in again["findings"]}
    assert refresh_reports(app) == []  # the new basis covers the late event
    log = json.loads(run_bodycam("audit", "log", "--action", "gaps.report.regenerated", "--format", "json",
                                 env=env, check=True).stdout)
    assert len(log) == 1 and log[0]["details"]["period"] == "daily"
