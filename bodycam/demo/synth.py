"""Synthesize a realistic day of a small unit with ffmpeg.

Four officers with body cameras and one interrogation room; short clips with
a burned-in clock; and deliberate faults an inspector should find: a late
start, an interruption, an early stop, an event with no footage, a late
upload, a corrupt file, a black stretch, an officer mismatch, and an
interrogation whose manifest lists a file that never arrived. A patrol car's
camera records for its two-officer crew.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ZONE = ZoneInfo("Asia/Shanghai")
UNIT = "PS-01"
OFFICERS = {"P100001": "张伟", "P100002": "李娜", "P100003": "王强", "P100004": "刘洋"}
CAMERAS = {"DSJ-A0001": "P100001", "DSJ-A0002": "P100002", "DSJ-A0003": "P100003", "DSJ-A0004": "P100004"}
ROOM = "ROOM-1"
CAR, CAR_CAMERA, CREW = "浙A·J0001", "DSJ-C0001", ("P100001", "P100002")
"""A patrol car with its camera and its two-officer crew for the day."""


@dataclass(frozen=True)
class Take:
    camera: str
    officer: str
    start: datetime
    seconds: int
    picture: str = "testsrc2"  # moving pictures: a static one would rightly be flagged frozen
    black_after: int | None = None  # seconds of picture before a black stretch


def _stamp(t: datetime) -> str:
    return t.astimezone(ZONE).strftime("%Y%m%d%H%M%S")


def encode(path: Path, start: datetime, seconds: int, picture: str = "testsrc2",
           black_after: int | None = None) -> None:
    """A 320x240, 10 fps H.264 clip with the recording clock burned in."""
    path.parent.mkdir(parents=True, exist_ok=True)
    epoch = int(start.timestamp())
    clock = (f"drawtext=text='%{{pts\\:gmtime\\:{epoch}\\:%Y-%m-%d %H\\\\\\:%M\\\\\\:%S}} UTC'"
             ":x=6:y=6:fontsize=14:fontcolor=white:box=1:boxcolor=black@0.6")
    if black_after is not None:
        video = (f"[0:v]trim=0:{black_after},setpts=PTS-STARTPTS[a];"
                 f"color=black:size=320x240:rate=10:duration={seconds - black_after}[b];[a][b]concat=n=2:v=1[v];"
                 f"[v]{clock}[out]")
    else:
        video = f"[0:v]{clock}[out]"
    base = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{picture}=size=320x240:rate=10:duration={seconds}",
            "-f", "lavfi", "-i", f"sine=frequency=300:duration={seconds}"]
    tail = ["-map", "[out]", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac", "-shortest",
            "-metadata", f"creation_time={start.isoformat()}", str(path)]
    done = subprocess.run([*base, "-filter_complex", video, *tail], capture_output=True)
    if done.returncode != 0:  # no fonts for drawtext: a clip without the clock is still a clip
        plain = video.replace(f"[v]{clock}[out]", "[v]null[out]").replace(f"[0:v]{clock}[out]", "[0:v]null[out]")
        subprocess.run([*base, "-filter_complex", plain, *tail], check=True, capture_output=True)
    os.utime(path, (start.timestamp() + seconds, start.timestamp() + seconds))


def build(root: Path, day: datetime) -> dict[str, Path]:
    """Write the dock dump, the interrogation export, the registries and events under ``root``."""
    at = lambda h, m, s=0: day.replace(hour=h, minute=m, second=s)  # noqa: E731 - local shorthand
    dock, room = root / "dock", root / "interrogation"
    takes = [
        # P100001: a dispatch fully covered by two back-to-back files; a stop-and-check started 40 s late
        Take("DSJ-A0001", "P100001", at(9, 0), 40), Take("DSJ-A0001", "P100001", at(9, 0, 40), 25, "testsrc"),
        Take("DSJ-A0001", "P100001", at(10, 0, 40), 25, "testsrc"),
        # P100002: a dispatch with a 20 s interruption between two files
        Take("DSJ-A0002", "P100002", at(9, 30), 25, "testsrc"), Take("DSJ-A0002", "P100002", at(9, 30, 45), 20),
        # P100004: a penalty on scene, stopped 30 s early; a search with a black stretch inside the file
        Take("DSJ-A0004", "P100004", at(11, 0), 25, "testsrc"),
        Take("DSJ-A0004", "P100004", at(14, 0), 40, "testsrc", black_after=15),
        # a file on P100004's camera that names another officer
        Take("DSJ-A0004", "P100009", at(15, 0), 10, "testsrc"),
    ]
    for t in takes:
        encode(dock / t.camera / "DCIM" / f"{t.camera}_{t.officer}_{_stamp(t.start)}.mp4", t.start, t.seconds,
               t.picture, t.black_after)
    # the patrol car's camera, on the way to JQ-002: the file names no officer; its sidecar gives the start
    car = dock / CAR_CAMERA / "car_0929.mp4"
    encode(car, at(9, 29, 30), 20, "testsrc")
    (dock / CAR_CAMERA / "car_0929.json").write_text(json.dumps({"start": at(9, 29, 30).isoformat()}))
    os.utime(dock / CAR_CAMERA / "car_0929.json", (at(9, 29, 50).timestamp(),) * 2)
    # P100003 docks three days late: the footage of a dispatch on day - 3
    late = day - timedelta(days=3)
    encode(dock / "DSJ-A0003" / f"DSJ-A0003_P100003_{_stamp(late.replace(hour=16))}.mp4",
           late.replace(hour=16), 30, "testsrc")
    # a file cut short by a battery failure: unreadable
    broken = dock / "DSJ-A0002" / f"DSJ-A0002_P100002_{_stamp(at(13, 0))}.mp4"
    encode(broken, at(13, 0), 20, "testsrc")
    data = broken.read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    os.utime(broken, (at(13, 0).timestamp() + 20,) * 2)

    # the interrogation room: two files with a 15 s pause; the manifest lists a third that never arrived
    session = room / "S-DEMO-001"
    encode(session / "ROOM-1_part1.mp4", at(16, 0), 45, "testsrc")
    encode(session / "ROOM-1_part2.mp4", at(16, 1), 40, "testsrc")
    (session / "session.json").write_text(json.dumps({
        "session_id": "S-DEMO-001", "room": ROOM, "case_id": "XS-2026-0042",
        "start": at(16, 0).isoformat(), "end": at(16, 2, 20).isoformat(), "interrogators": ["P100001", "P100002"],
        "files": [{"name": "ROOM-1_part1.mp4", "start": at(16, 0).isoformat()},
                  {"name": "ROOM-1_part2.mp4", "start": at(16, 1).isoformat()}, "ROOM-1_part3.mp4"],
    }, ensure_ascii=False, indent=2))

    events = root / "events.csv"
    with events.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["event_id", "scenario", "start", "end", "officers", "unit", "case_id", "location"])
        w.writerow(["E-001", "dispatch", at(9, 0).isoformat(), at(9, 1).isoformat(), "P100001", UNIT, "",
                    "人民路 12 号"])
        w.writerow(["E-002", "stop_and_check", at(10, 0).isoformat(), at(10, 1).isoformat(), "P100001", UNIT, "", ""])
        w.writerow(["E-003", "dispatch", at(9, 30).isoformat(), at(9, 31, 5).isoformat(), "P100002", UNIT, "", ""])
        w.writerow(["E-004", "on_scene_penalty", at(11, 0).isoformat(), at(11, 1).isoformat(), "P100004", UNIT,
                    "", ""])
        w.writerow(["E-005", "search_and_seizure", at(14, 0).isoformat(), at(14, 0, 40).isoformat(), "P100004",
                    UNIT, "XS-2026-0042", ""])
        w.writerow(["E-006", "major_incident", at(12, 0).isoformat(), at(12, 5).isoformat(), "P100003;P100002",
                    UNIT, "", "广场"])
        w.writerow(["E-007", "dispatch", late.replace(hour=16).isoformat(),
                    late.replace(hour=16, second=30).isoformat(), "P100003", UNIT, "", ""])
        w.writerow(["E-008", "stop_and_check", at(13, 0).isoformat(), at(13, 0, 20).isoformat(), "P100002", UNIT,
                    "", ""])
    # a second interrogation, for case XS-2026-0077: its second file reaches the recorder's folder late
    clean = room / "S-DEMO-002"
    encode(clean / "ROOM-1_b1.mp4", at(17, 0), 30, "testsrc")
    (clean / "session.json").write_text(json.dumps({
        "session_id": "S-DEMO-002", "room": ROOM, "case_id": "XS-2026-0077",
        "start": at(17, 0).isoformat(), "end": at(17, 1).isoformat(), "interrogators": ["P100003", "P100004"],
        "files": ["ROOM-1_b1.mp4", "ROOM-1_b2.mp4"]}, ensure_ascii=False, indent=2))

    cad = root / "cad.csv"  # the dispatch system's export (警情), as it comes, with a column bodycam ignores
    with cad.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["警情编号", "警情类别", "派警时间", "处警结束时间", "处警民警警号", "处警单位", "发生地点",
                    "报警人"])
        fmt = "%Y-%m-%d %H:%M:%S"
        for number, kind, dispatched, cleared, badge, place, caller in (
                ("JQ-001", "纠纷", at(8, 58), at(9, 1, 5), "P100001", "人民路 12 号", "陈某"),
                ("JQ-002", "求助", at(9, 29), at(9, 31, 10), "P100002", "", "赵某"),
                ("JQ-003", "盗窃", at(13, 30), at(13, 50), "P100004", "新华街", "孙某")):
            w.writerow([number, kind, f"{dispatched:{fmt}}", f"{cleared:{fmt}}", badge, UNIT, place, caller])
    return {"dock": dock, "interrogation": room, "events": events, "cad": cad}


def arrive_late(root: Path, day: datetime) -> Path:
    """The file S-DEMO-002's manifest lists, copied from the recorder after the first pass."""
    late = root / "interrogation" / "S-DEMO-002" / "ROOM-1_b2.mp4"
    start = day.replace(hour=17, minute=0, second=30)
    encode(late, start, 30, "testsrc2")
    return late
