"""Issue 15: the coverage report an inspector can trust and read.

An empty period warns instead of showing green; a --kind filter narrows the list, not
the rates; the periods are the inspector's days, weeks and months in their zone; CSV is in
--tz; rates are percentages for people; officers are shown with their names; sound-only
recordings are marked and count only where the scenario says so; a finding belongs to the
unit of its event.
"""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from bodycam.coverage.periods import day_span, month_span, week_span
from bodycam.db.engine import Database
from bodycam.db.schema import upgrade
from bodycam.errors import InputError
from tests.conftest import REFUSED, Bodycam
from tests.media import age, make_clip


def test_periods_are_days_iso_weeks_and_months() -> None:
    today = date(2026, 11, 25)  # a Wednesday
    assert day_span("yesterday", today) == (date(2026, 11, 24), date(2026, 11, 25))
    assert day_span("2026-02-28", today) == (date(2026, 2, 28), date(2026, 3, 1))
    assert week_span("last", today) == (date(2026, 11, 16), date(2026, 11, 23))
    assert week_span("this", today) == (date(2026, 11, 23), date(2026, 11, 30))
    assert month_span("last", today) == (date(2026, 10, 1), date(2026, 11, 1))
    assert month_span("2026-12", today) == (date(2026, 12, 1), date(2027, 1, 1))
    with pytest.raises(InputError, match="--month"):
        month_span("Nov", today)


def test_an_empty_period_is_a_warning_in_every_format_never_green(local_bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam = local_bodycam
    bodycam("init")
    result = bodycam("gaps", "report", "--day", "yesterday")
    assert "WARNING: no required-recording events were imported" in result.stdout
    assert "bodycam: warning: no required-recording events" in result.stderr
    assert bodycam.json("gaps", "report", "--week", "last")["warnings"]
    html = tmp_path / "r.html"
    bodycam("gaps", "report", "--month", "this", "--format", "html", "--out", str(html))
    assert "Warning: no required-recording events" in html.read_text() and "No findings." not in html.read_text()
    result = bodycam("gaps", "report", "--day", "yesterday", "--from", "2026-01-01", check=False)
    assert result.exit_code == 50 and "give the period once" in result.stderr


@pytest.fixture
def day(local_bodycam: Bodycam, tmp_path: Path) -> tuple[Bodycam, datetime]:
    """Two officers of PS-01; E1 (P1, unit PS-02's event) half covered; E2 (P2) covered by sound only."""
    bodycam = local_bodycam
    bodycam.env["BODYCAM_TZ"] = "Asia/Shanghai"
    bodycam("init")
    start = (bodycam.clock.now() - timedelta(hours=2)).replace(microsecond=0)
    (tmp_path / "officers.csv").write_text("badge,name,unit\nP1,Zhang Wei,PS-01\nP2,Li Na,PS-01\nP3,Wang Qiang,PS-02\n")
    bodycam("officers", "import", str(tmp_path / "officers.csv"))
    dock = tmp_path / "dock"
    age(make_clip(dock / "CAM1" / f"CAM1_P1_{start:%Y%m%d%H%M%S}.mp4", 2.0))
    wav = dock / "CAM2" / f"CAM2_P2_{start:%Y%m%d%H%M%S}.wav"
    wav.parent.mkdir(parents=True)
    subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "sine=duration=60", str(wav)], check=True)
    age(wav)
    iso = start.isoformat()
    end = (start + timedelta(seconds=60)).isoformat()
    (tmp_path / "events.csv").write_text(f"event_id,scenario,start,end,officers,unit\n"
                                         f"E1,dispatch,{iso},{end},P1,PS-02\nE2,dispatch,{iso},{end},P2,PS-01\n")
    bodycam("events", "import", str(tmp_path / "events.csv"))
    bodycam("ingest", "run", str(dock), "--source-tz", "UTC")
    return bodycam, start


def span(start: datetime) -> list[str]:
    return ["--from", (start - timedelta(hours=1)).isoformat(), "--to", (start + timedelta(hours=1)).isoformat()]


def test_sound_only_is_marked_and_counts_only_where_the_scenario_says(day: tuple[Bodycam, datetime],
                                                                     tmp_path: Path) -> None:
    bodycam, start = day
    assert [c["flags"] for c in bodycam.json("clips", "search", "--officer", "P2")] == [["audio_only"]]
    report = bodycam.json("gaps", "report", *span(start), ok=(4,))
    e2 = sorted(f["kind"] for f in report["findings"] if f["event_id"] == "E2")
    assert e2 == ["audio_only", "no_footage"]
    (tmp_path / "bodycam.toml").write_text("[coverage.scenarios.dispatch]\naudio_only_counts = true\n")
    bodycam.env["BODYCAM_CONFIG"] = str(tmp_path / "bodycam.toml")
    report = bodycam.json("gaps", "report", *span(start), ok=(4,))
    assert sorted(f["kind"] for f in report["findings"] if f["event_id"] == "E2") == ["audio_only"]


def test_the_summary_counts_every_finding_under_a_kind_filter_and_reads_for_people(
        day: tuple[Bodycam, datetime]) -> None:
    bodycam, start = day
    full = bodycam.json("gaps", "report", *span(start), ok=(4,))
    narrow = bodycam.json("gaps", "report", *span(start), "--kind", "early_stop", ok=(0, 4))
    assert {f["kind"] for f in narrow["findings"]} <= {"early_stop"}
    assert narrow["by_officer"] == full["by_officer"]  # a filter narrows the list, not the rates
    assert {r["unit"] for r in full["by_unit"]} == {"PS-01", "PS-02"}
    assert next(f for f in full["findings"] if f["event_id"] == "E1")["unit"] == "PS-02"  # the event's unit

    table = bodycam("gaps", "report", *span(start), check=False).stdout
    assert "Zhang Wei (P1)" in table and "%" in table and "by unit:" in table and "by scenario:" in table
    csv_text = bodycam("gaps", "report", *span(start), "--format", "csv", check=False).stdout
    assert "+08:00" in csv_text  # in --tz (Asia/Shanghai)
    by_unit = bodycam("gaps", "report", *span(start), "--format", "csv", "--summary", "unit", check=False).stdout
    assert by_unit.splitlines()[0].startswith("unit,events,") and " %" in by_unit


def test_an_event_naming_an_unknown_badge_or_unit_is_refused_or_imported_with_a_warning(
        local_bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam = local_bodycam
    bodycam("init")
    (tmp_path / "officers.csv").write_text("badge,name,unit\nP1,Zhang Wei,PS-01\n")
    bodycam("officers", "import", str(tmp_path / "officers.csv"))
    events = tmp_path / "events.csv"
    events.write_text("event_id,scenario,start,end,officers,unit\n"
                      "E1,dispatch,2026-11-24T08:00:00Z,2026-11-24T08:10:00Z,P1,PS-01\n"
                      "E2,dispatch,2026-11-24T09:00:00Z,2026-11-24T09:10:00Z,P1;P9,PS-01\n"
                      "E3,dispatch,2026-11-24T10:00:00Z,2026-11-24T10:10:00Z,P1,PS-99\n")
    result = bodycam("events", "import", str(events), check=False)
    assert result.exit_code == 50
    assert result.stderr.strip() == (f"bodycam: error: {events}:3: field 'officers': unknown badge 'P9' (not in the "
                                     "officers registry); import the registry first, or --unknown warn")
    assert bodycam.json("gaps", "report", "--day", "2026-11-24")["warnings"]  # nothing was imported
    out = bodycam.json("events", "import", str(events), "--unknown", "warn")
    assert out["created"] == 3 and out["warnings"] == [
        f"{events}:3: field 'officers': unknown badge 'P9' (not in the officers registry): imported",
        f"{events}:4: field 'unit': unknown unit 'PS-99' (no officer or device of it is registered): imported"]
    log = bodycam.json("audit", "log", "--action", "events.import")
    assert len(log[0]["details"]["warnings"]) == 2


def test_the_registries_can_be_listed_and_shown(local_bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam = local_bodycam
    bodycam("init")
    (tmp_path / "officers.csv").write_text("badge,name,unit\nP1,张伟,PS-01\nP2,Li Na,PS-02\n")
    (tmp_path / "devices.csv").write_text("serial,kind,unit,room\nCAM1,body_camera,PS-01,\n"
                                          "REC-7,interrogation_recorder,PS-01,讯问室 1\n")
    (tmp_path / "assignments.csv").write_text("device,officer,start,end\nCAM1,P1,2026-10-01T00:00:00Z,\n")
    (tmp_path / "cases.csv").write_text("number,title,status,opened_at,closed_at\n"
                                        "C-1,theft,open,2026-11-01T00:00:00Z,\n")
    (tmp_path / "events.csv").write_text("event_id,scenario,start,end,officers,unit,case_id\n"
                                         "E1,dispatch,2026-11-24T08:00:00Z,2026-11-24T08:10:00Z,P1;P2,PS-01,C-1\n")
    for kind in ("officers", "devices", "assignments", "cases", "events"):
        bodycam(kind, "import", str(tmp_path / f"{kind}.csv"))
    assert [(o["badge"], o["name"], o["unit"]) for o in bodycam.json("officers", "list", "--unit", "PS-02")] == [
        ("P2", "Li Na", "PS-02")]
    assert {d["serial"]: d["assigned_to"] for d in bodycam.json("devices", "list")} == {"CAM1": "P1", "REC-7": None}
    assert bodycam.json("officers", "show", "P1")["assignments"][0]["device"] == "CAM1"
    assert [c["number"] for c in bodycam.json("cases", "list", "--status", "open")] == ["C-1"]
    assert bodycam.json("cases", "show", "C-1")["events"][0]["event_id"] == "E1"
    (event,) = bodycam.json("events", "list", "--from", "2026-11-24", "--to", "2026-11-25")
    assert (event["officers"], event["unit"], event["case"]) == (["P1", "P2"], "PS-01", "C-1")
    result = bodycam("events", "show", "E9", check=False)
    assert result.exit_code == 51 and result.stderr.strip() == "bodycam: error: event 'E9': not in the registry"
    assert "张伟" in bodycam("officers", "list").stdout
    assert bodycam.json("audit", "log", "--action", "officers.show")[0]["subject"] == "officer:P1"


def test_a_supervisor_reviews_a_finding_and_the_report_shows_it_with_the_pass_rate(
        day: tuple[Bodycam, datetime]) -> None:
    bodycam, start = day
    report = bodycam.json("gaps", "report", *span(start), ok=(4,))
    e1 = next(f for f in report["findings"] if f["event_id"] == "E1")
    assert e1["id"].startswith("E1#") and e1["review"] is None
    p1 = next(r for r in report["by_officer"] if r["officer"] == "P1")
    assert (p1["unreviewed"], p1["passed"], p1["pass_rate"]) == (1, 0, 0.0)

    bodycam("gaps", "review", e1["id"], "--result", "justified", "--note", "battery died; spare issued")
    report = bodycam.json("gaps", "report", *span(start), ok=(4,))
    assert next(f for f in report["findings"] if f["id"] == e1["id"])["review"] == "justified"
    p1 = next(r for r in report["by_officer"] if r["officer"] == "P1")
    assert (p1["reviewed"], p1["unreviewed"], p1["passed"], p1["pass_rate"]) == (1, 0, 1, 1.0)
    bodycam("gaps", "review", e1["id"], "--result", "violation", "--note", "no battery report was filed")
    p1 = next(r for r in bodycam.json("gaps", "report", *span(start), ok=(4,))["by_officer"] if r["officer"] == "P1")
    assert (p1["violations"], p1["pass_rate"]) == (1, 0.0)  # the newest verdict counts; both are kept
    assert [e["details"]["result"] for e in bodycam.json("audit", "log", "--action", "finding.review")] == [
        "violation", "justified"]

    result = bodycam("gaps", "review", "E1#00000000", "--result", "justified", "--note", "x", check=False)
    assert result.exit_code == 51 and "not a finding of event E1" in result.stderr
    result = bodycam("gaps", "review", "E1", "--result", "justified", "--note", "x", check=False)
    assert result.exit_code == 50


def test_a_review_sample_draws_per_officer_and_the_seed_draws_it_again(day: tuple[Bodycam, datetime]) -> None:
    bodycam, start = day
    first = bodycam.json("gaps", "sample", "--per-officer", "1", *span(start))
    assert sorted(p["officer"] for p in first["sample"]) == ["P1", "P2"]
    again = bodycam.json("gaps", "sample", "--per-officer", "1", *span(start), "--seed", str(first["seed"]))
    assert again["sample"] == first["sample"]
    assert bodycam.json("audit", "log", "--action", "gaps.sample")[0]["details"]["seed"] == first["seed"]
    result = bodycam("gaps", "sample", "--per-officer", "1", "--period", "week", "--day", "today", check=False)
    assert result.exit_code == 50


@pytest.mark.parametrize("statement", [
    "UPDATE finding_reviews SET result = 'justified' WHERE id = 1",
    "DELETE FROM finding_reviews WHERE id = 1",
])
def test_a_review_cannot_be_changed_or_deleted_with_raw_sql(db_url: str, statement: str) -> None:
    """A verdict changed behind the command would rewrite an officer's record: the database refuses."""
    db = Database(db_url)
    upgrade(db)
    with db.write() as s:
        s.execute(text("INSERT INTO finding_reviews (finding_id, event_id, officer, kind, result, note, reviewed_by,"
                       " reviewed_at) VALUES ('E1#abcd1234', 'E1', 'P1', 'no_footage', 'violation', 'no camera',"
                       " 'sup', CURRENT_TIMESTAMP)"))
    with pytest.raises(REFUSED, match="never changed"), db.write() as s:
        s.execute(text(statement))
    with db.read() as s:
        assert s.execute(text("SELECT result FROM finding_reviews")).scalars().all() == ["violation"]
    db.dispose()
