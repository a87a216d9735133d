"""Issue 18: more sources through the same ingest, index and coverage: the fixed cameras of a case-handling
area (bound to a room: an event in the room is covered by them too) and patrol-car cameras (bound to the
car, attributed to its crew by shift)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import Bodycam
from tests.media import age, make_clip
from tests.test_interrogation import session


def _registries(bodycam: Bodycam, tmp: Path, start: datetime) -> None:
    (tmp / "officers.csv").write_text("badge,name,unit\nP1,Zhang Wei,PS-01\nP2,Li Na,PS-01\n")
    (tmp / "devices.csv").write_text("serial,kind,unit,room\nREC-7,interrogation_recorder,PS-01,讯问室 1\n"
                                     "FIX-1,fixed_camera,PS-01,讯问室 1\nFIX-9,fixed_camera,PS-01,讯问室 9\n"
                                     "CAR-1,in_car_camera,PS-01,\n")
    (tmp / "assignments.csv").write_text(  # the patrol car's crew for the shift: its camera is theirs
        f"device,officer,start,end\nCAR-1,P2,{(start - timedelta(hours=2)).isoformat()},"
        f"{(start + timedelta(hours=6)).isoformat()}\n")
    for kind in ("officers", "devices", "assignments"):
        bodycam(kind, "import", str(tmp / f"{kind}.csv"))


def _sidecar_clip(folder: Path, name: str, start: datetime, seconds: float, pattern: str) -> None:
    clip = make_clip(folder / name, seconds, pattern=pattern)
    (folder / f"{clip.stem}.json").write_text(json.dumps({"start": start.isoformat()}))
    age(clip, folder / f"{clip.stem}.json")


def test_a_rooms_fixed_camera_covers_its_events_and_a_patrol_cars_camera_its_crews(
        local_bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam = local_bodycam
    bodycam("init")
    start = (bodycam.clock.now() - timedelta(hours=1)).replace(microsecond=0)
    _registries(bodycam, tmp_path, start)
    room = session(tmp_path / "room", start, {"part1.mp4": 2.0}, end_after=40.0)  # the recorder stopped early
    bodycam("ingest", "run", "--kind", "interrogation", str(room))
    span = ["--from", (start - timedelta(hours=1)).isoformat(), "--to", (start + timedelta(hours=1)).isoformat()]
    before = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert [f["kind"] for f in before["findings"]] == ["early_stop"]

    dock = tmp_path / "dock"
    _sidecar_clip(dock / "FIX-9", "wrong-room.mp4", start + timedelta(seconds=1), 40.0, "testsrc2")  # another room
    bodycam("ingest", "run", str(dock))
    assert [f["kind"] for f in bodycam.json("gaps", "report", *span, ok=(0, 4))["findings"]] == ["early_stop"]
    _sidecar_clip(dock / "FIX-1", "overview.mp4", start + timedelta(seconds=1), 40.0, "testsrc")
    bodycam("ingest", "run", str(dock))
    after = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert after["findings"] == [], after["findings"]  # the room's fixed camera saw the rest
    (event,) = after["events"]
    assert event["event_id"] == "S-2026-001" and event["covered_seconds"] == 40.0

    patrol = start + timedelta(minutes=30)
    (tmp_path / "events.csv").write_text(
        "event_id,scenario,start,end,officers,unit,case_id,location\n"
        f"E-9,stop_and_check,{patrol.isoformat()},{(patrol + timedelta(seconds=2)).isoformat()},P2,PS-01,,\n")
    bodycam("events", "import", str(tmp_path / "events.csv"))
    _sidecar_clip(dock / "CAR-1", "dashcam.mp4", patrol, 3.0, "testsrc2")
    bodycam("ingest", "run", str(dock))
    car = bodycam.json("clips", "search", "--device", "CAR-1")
    assert [c["officer"] for c in car] == ["P2"]  # the crew on shift, from the assignment
    report = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert {(u["event_id"], u["covered_seconds"]) for u in report["events"]} >= {("E-9", 2.0)}
    assert report["findings"] == []
    queue = bodycam.json("incidents", "queue", *span)
    per_officer = {r["officer"]: r["clips"] for r in queue["by_officer"]}
    assert per_officer == {"P1": 1, "P2": 2, "-": 2}  # the interrogation's file: both interrogators; a fixed
    # camera's footage is nobody's (the room's)
    assert {r["unit"]: r["clips"] for r in queue["by_unit"]} == {"PS-01": 4}
