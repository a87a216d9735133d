"""Issue 18: a patrol car's camera records for its whole crew. The camera is bound to a vehicle, the
vehicle has a crew by shift (two officers at once), and the footage counts for each of them: coverage,
incident links, search, the queues. Both databases."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import Bodycam
from tests.media import age, make_clip
from tests.test_incidents import AXON, _bodycam

CAR = "沪A·1234"


def _unnamed_clip(dock: Path, camera: str, name: str, start: datetime, seconds: float, pattern: str) -> None:
    """A car camera's file that names no officer: its sidecar gives the start."""
    clip = make_clip(dock / camera / name, seconds, pattern=pattern)
    (dock / camera / f"{clip.stem}.json").write_text(json.dumps({"start": start.isoformat()}))
    age(clip, dock / camera / f"{clip.stem}.json")


def _car(bodycam: Bodycam, tmp: Path) -> None:
    (tmp / "more.csv").write_text("badge,name,unit\nP3,Wang Fang,PS-01\n")
    bodycam("officers", "import", str(tmp / "more.csv"))
    (tmp / "devices.csv").write_text(f"serial,kind,unit,vehicle\nCAR-7,in_car_camera,PS-01,{CAR}\n")
    bodycam("devices", "import", str(tmp / "devices.csv"))


def _crew(tmp: Path, start: datetime, end: datetime, *badges: str) -> Path:
    path = tmp / "crews.csv"
    path.write_text("vehicle,officer,start,end\n" + "".join(
        f"{CAR},{b},{start.isoformat()},{end.isoformat()}\n" for b in badges))
    return path


def test_a_two_officer_cars_footage_counts_for_both_of_its_crew(db_url: str, tmp_path: Path, ffmpeg: str) -> None:
    bodycam = _bodycam(tmp_path, db_url, AXON)
    _car(bodycam, tmp_path)
    t0 = (bodycam.clock.now() - timedelta(hours=3)).replace(microsecond=0, second=0)
    dock = tmp_path / "dock"
    _unnamed_clip(dock, "CAR-7", "stop.mp4", t0 + timedelta(minutes=10), 3.0, "testsrc")
    _unnamed_clip(dock, "CAR-7", "later.mp4", t0 + timedelta(hours=2), 1.0, "testsrc2")  # after the shift
    bodycam("ingest", "run", str(dock))
    (tmp_path / "events.csv").write_text(  # the stop was P3's: the passenger, not the lead
        "event_id,scenario,start,end,officers,unit,case_id,location\n"
        f"E-1,stop_and_check,{(t0 + timedelta(minutes=10)).isoformat()},"
        f"{(t0 + timedelta(minutes=10, seconds=2)).isoformat()},P3,PS-01,,\n")
    bodycam("events", "import", str(tmp_path / "events.csv"))
    span = ["--from", (t0 - timedelta(hours=1)).isoformat(), "--to", (t0 + timedelta(hours=3)).isoformat()]
    before = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert [f["kind"] for f in before["findings"]] == ["no_footage"]  # no crew registered yet

    done = bodycam.json("crews", "import", str(_crew(tmp_path, t0, t0 + timedelta(hours=1), "P3", "P1")))
    assert done["created"] == 2
    stop = next(c for c in done["clips"])
    assert (stop["change"], stop["from"], stop["to"]) == ("reattributed", None, "P1")  # the lead: badge order
    after = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert after["findings"] == [] and [(u["event_id"], u["officer"]) for u in after["events"]] == [("E-1", "P3")]

    found = bodycam.json("clips", "search", "--officer", "P3")
    assert [c["id"] for c in found] == [stop["clip_id"]]  # not the clip after the shift
    assert found[0]["officers"] == ["P1", "P3"] and found[0]["officer"] == "P1"
    assert bodycam.json("clips", "show", str(stop["clip_id"]))["officers"] == ["P1", "P3"]
    assert [c["id"] for c in bodycam.json("clips", "search", "--event", "E-1")] == [stop["clip_id"]]
    window = ["--from", (t0 + timedelta(hours=1, minutes=30)).isoformat(),
              "--to", (t0 + timedelta(hours=3)).isoformat()]
    assert bodycam.json("clips", "search", "--officer", "P3", *window) == []  # the later clip: nobody's

    export = tmp_path / "cad.csv"
    z = "Z"
    export.write_text("Event ID,Officer Badge ID,Officer Dispatched DateTime,Officer Cleared DateTime,Call type\n"
                      f"E-100,P3,{t0 + timedelta(minutes=8):%Y-%m-%dT%H:%M:%S}{z},"
                      f"{t0 + timedelta(minutes=30):%Y-%m-%dT%H:%M:%S}{z},TRAFFIC\n")
    assert bodycam.json("incidents", "import", str(export))["linked"] == 1
    (link,) = bodycam.json("incidents", "show", "E-100")["clips"]
    assert link["clip"] == stop["clip_id"] and f"officer P3's recording (on board {CAR})" in link["reason"]
    both = tmp_path / "cad-both.csv"  # both of the crew sent to one call: the car's clip is linked once
    sent, cleared = t0 + timedelta(minutes=9), t0 + timedelta(minutes=20)
    both.write_text("Event ID,Officer Badge ID,Officer Dispatched DateTime,Officer Cleared DateTime,Call type\n"
                    + "".join(f"E-200,{b},{sent:%Y-%m-%dT%H:%M:%S}Z,{cleared:%Y-%m-%dT%H:%M:%S}Z,TRAFFIC\n"
                              for b in ("P1", "P3")))
    assert bodycam.json("incidents", "import", str(both))["linked"] == 1
    assert [c["clip"] for c in bodycam.json("incidents", "show", "E-200")["clips"]] == [stop["clip_id"]]

    queue = bodycam.json("incidents", "queue", *span)
    per_officer = {r["officer"]: (r["clips"], r["linked"]) for r in queue["by_officer"]}
    assert per_officer == {"P1": (1, 1), "P3": (1, 1), "-": (1, 0)}  # the clip after the shift is nobody's
    assert {r["unit"]: r["clips"] for r in queue["by_unit"]} == {"PS-01": 2}  # counted once per unit
    crew = bodycam.json("crews", "show", CAR)
    assert crew["cameras"] == ["CAR-7"] and [s["officer"] for s in crew["shifts"]] == ["P1", "P3"]


def test_a_crew_member_named_by_the_file_is_no_conflict_but_a_stranger_is(
        db_url: str, tmp_path: Path, ffmpeg: str) -> None:
    bodycam = _bodycam(tmp_path, db_url, AXON)
    _car(bodycam, tmp_path)
    t0 = (bodycam.clock.now() - timedelta(hours=3)).replace(microsecond=0, second=0)
    bodycam("crews", "import", str(_crew(tmp_path, t0, t0 + timedelta(hours=1), "P1", "P3")))
    for badge, minute, pattern in (("P3", 5, "testsrc"), ("P2", 6, "testsrc2")):
        age(make_clip(tmp_path / "dock" / "CAR-7" / f"CAR-7_{badge}_{t0 + timedelta(minutes=minute):%Y%m%d%H%M%S}.mp4",
                      1.0, pattern=pattern))
    bodycam("ingest", "run", str(tmp_path / "dock"), "--source-tz", "UTC")
    flags = {c["officer"]: c["flags"] for c in bodycam.json("clips", "search", "--device", "CAR-7")}
    assert "officer_conflict" not in flags["P3"]  # the passenger's own name: on board
    assert "officer_conflict" in flags["P2"]  # not in the car then


def test_a_crews_file_that_puts_an_officer_in_two_cars_at_once_is_refused_whole(
        db_url: str, tmp_path: Path) -> None:
    bodycam = _bodycam(tmp_path, db_url, AXON)
    t0 = datetime(2026, 11, 1, 8, 0)
    path = tmp_path / "crews.csv"
    path.write_text("vehicle,officer,start,end\n"
                    f"CAR-A,P1,{t0.isoformat()},{(t0 + timedelta(hours=8)).isoformat()}\n"
                    f"CAR-A,P2,{t0.isoformat()},{(t0 + timedelta(hours=8)).isoformat()}\n"
                    f"CAR-B,P1,{(t0 + timedelta(hours=4)).isoformat()},{(t0 + timedelta(hours=9)).isoformat()}\n")
    r = bodycam("crews", "import", str(path), check=False)
    assert r.exit_code == 50, r.output  # bad input (docs/exit-codes)
    assert r.stderr.strip().splitlines() == [
        f"bodycam: error: {path}:4: field 'start': officer P1 is already on a crew (CAR-A) from "
        "2026-11-01T08:00:00+00:00 to 2026-11-01T16:00:00+00:00"]
    assert bodycam.json("crews", "list") == []  # nothing written
    path.write_text(f"vehicle,officer,start,end\nCAR-A,P1,{t0.isoformat()},{t0.isoformat()}\n")
    r = bodycam("crews", "import", str(path), check=False)
    assert r.exit_code == 50 and f"{path}:2: field 'end': must be after start" in r.stderr
    path.write_text(f"vehicle,officer,start,end\nCAR-A,P1,{t0.isoformat()},\nCAR-A,P9,{t0.isoformat()},\n")
    r = bodycam("crews", "import", str(path), check=False)  # a typo would give the footage to no one real
    assert r.exit_code == 50 and f"{path}:3: field 'officer': unknown badge 'P9'" in r.stderr
    assert bodycam.json("crews", "list") == [] and "P9" not in {o["badge"] for o in bodycam.json("officers", "list")}
    warned = bodycam.json("crews", "import", str(path), "--unknown", "warn")
    assert warned["created"] == 2 and warned["warnings"] == [
        f"{path}:3: field 'officer': unknown badge 'P9' (not in the officers registry): imported"]


def test_a_camera_moved_to_another_car_belongs_to_that_cars_crew(db_url: str, tmp_path: Path, ffmpeg: str) -> None:
    bodycam = _bodycam(tmp_path, db_url, AXON)
    t0 = (bodycam.clock.now() - timedelta(hours=3)).replace(microsecond=0, second=0)
    _car(bodycam, tmp_path)
    (tmp_path / "crews.csv").write_text(
        "vehicle,officer,start,end\n"
        f"{CAR},P1,{t0.isoformat()},{(t0 + timedelta(hours=1)).isoformat()}\n"
        f"CAR-B,P2,{t0.isoformat()},{(t0 + timedelta(hours=1)).isoformat()}\n")
    bodycam("crews", "import", str(tmp_path / "crews.csv"))
    _unnamed_clip(tmp_path / "dock", "CAR-7", "a.mp4", t0 + timedelta(minutes=1), 1.0, "testsrc")
    bodycam("ingest", "run", str(tmp_path / "dock"))
    assert [c["officer"] for c in bodycam.json("clips", "search", "--device", "CAR-7")] == ["P1"]
    (tmp_path / "devices.csv").write_text("serial,kind,unit,vehicle\nCAR-7,in_car_camera,PS-01,CAR-B\n")
    moved = bodycam.json("devices", "import", str(tmp_path / "devices.csv"))
    assert [(c["from"], c["to"]) for c in moved["clips"]] == [("P1", "P2")]
    assert [c["officers"] for c in bodycam.json("clips", "search", "--officer", "P2")] == [["P2"]]
    assert bodycam.json("clips", "search", "--officer", "P1") == []
