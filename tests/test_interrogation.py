"""Issue 15, interrogation sessions as an inspector meets them.

A `session.json` whose files are plain names (allowed) must not time its files from their
mtime; the files belong to the room's registered recorder, to the interrogators and to the
manifest's case; a listed file that never arrived is named wherever someone looks.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

from tests.conftest import Bodycam
from tests.media import age, make_clip


def session(root: Path, start: datetime, files: dict[str, float | None], end_after: float, *,
            case: str | None = "C-42", sid: str = "S-2026-001") -> Path:
    """A session folder: each file made with its length (None: listed, never written)."""
    folder = root / sid
    folder.mkdir(parents=True)
    for i, (name, seconds) in enumerate(files.items()):
        if seconds is not None:
            make_clip(folder / name, seconds, pattern=("testsrc", "testsrc2")[i % 2])  # moving pictures
    end = start + timedelta(seconds=end_after)
    (folder / "session.json").write_text(json.dumps({
        "session_id": sid, "room": "讯问室 1", "start": start.isoformat(), "end": end.isoformat(),
        "interrogators": ["P1", "P2"], "files": list(files), **({"case_id": case} if case else {})}))
    for p in folder.iterdir():
        age(p)
    return root


def registries(bodycam: Bodycam, tmp: Path) -> None:
    (tmp / "officers.csv").write_text("badge,name,unit\nP1,Zhang Wei,PS-01\nP2,Li Na,PS-02\n")
    (tmp / "devices.csv").write_text("serial,kind,unit,room\nREC-7,interrogation_recorder,PS-01,讯问室 1\n")
    bodycam("officers", "import", str(tmp / "officers.csv"))
    bodycam("devices", "import", str(tmp / "devices.csv"))


def window(bodycam: Bodycam) -> tuple[datetime, list[str]]:
    """A session that started an hour ago (by bodycam's clock: its upload is on time), and a report around it."""
    start = (bodycam.clock.now() - timedelta(hours=1)).replace(microsecond=0)
    return start, ["--from", (start - timedelta(hours=1)).isoformat(), "--to", (start + timedelta(hours=1)).isoformat()]


def by_name(bodycam: Bodycam, *args: str) -> dict[str, dict]:
    return {c["source_name"]: c for c in bodycam.json("clips", "search", *args)}


def test_plain_names_are_timed_from_the_manifest_in_listed_order_and_nothing_is_missed(
        local_bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam = local_bodycam
    bodycam("init")
    registries(bodycam, tmp_path)
    start, span = window(bodycam)
    root = session(tmp_path / "room", start, {"part1.mp4": 2.0, "part2.mp4": 1.0}, end_after=3.0)
    bodycam("ingest", "run", "--kind", "interrogation", str(root))

    clips = by_name(bodycam)
    assert datetime.fromisoformat(clips["part1.mp4"]["start"]) == start
    assert abs(datetime.fromisoformat(clips["part2.mp4"]["start"]) - (start + timedelta(seconds=2))) \
        < timedelta(seconds=0.1)
    assert {c["time_source"] for c in clips.values()} == {"manifest"}

    report = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert [(f["kind"], f["detail"]) for f in report["findings"]] == []
    assert [(u["event_id"], u["covered_seconds"]) for u in report["events"]] == [("S-2026-001", 3.0)]


def test_the_files_belong_to_the_rooms_recorder_the_interrogators_and_the_case(
        local_bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam = local_bodycam
    bodycam("init")
    registries(bodycam, tmp_path)
    start, span = window(bodycam)
    bodycam("ingest", "run", "--kind", "interrogation",
            str(session(tmp_path / "room", start, {"part1.mp4": 2.0, "part2.mp4": 1.0}, end_after=3.0)))
    both = {"part1.mp4", "part2.mp4"}
    assert set(by_name(bodycam, "--device", "REC-7")) == both
    assert set(by_name(bodycam, "--officer", "P2")) == both
    assert set(by_name(bodycam, "--unit", "PS-02")) == both  # P2's unit; REC-7 is PS-01's
    assert set(by_name(bodycam, "--case", "C-42")) == both
    assert {tuple(c["officers"]) for c in by_name(bodycam).values()} == {("P1", "P2")}
    shown = bodycam.json("clips", "show", str(by_name(bodycam)["part1.mp4"]["id"]))
    assert shown["device"] == "REC-7" and "C-42" in json.dumps(shown["cases"])

    report = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert sorted(r["officer"] for r in report["by_officer"]) == ["P1", "P2"]  # not a made-up "P1;P2"
    assert [r["events"] for r in report["by_officer"]] == [1, 1]


def test_a_listed_file_that_never_arrived_is_named_in_the_summary_the_status_and_the_report(
        local_bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam = local_bodycam
    bodycam("init")
    registries(bodycam, tmp_path)
    start, span = window(bodycam)
    root = session(tmp_path / "room", start, {"a.mp4": 2.0, "lost.mp4": None, "c.mp4": 1.0}, end_after=10.0)
    summary = bodycam.json("ingest", "run", "--kind", "interrogation", str(root))
    assert summary["missing_files"] == [{"session": "S-2026-001", "files": ["lost.mp4"]}]
    status = bodycam.json("ingest", "status")
    assert status["missing_files"] == [{"session": "S-2026-001", "missing": ["lost.mp4"]}]

    clips = by_name(bodycam)  # after the unknown file, the rest is placed back from the session's end
    end = start + timedelta(seconds=10)
    assert abs(datetime.fromisoformat(clips["c.mp4"]["end"]) - end) < timedelta(seconds=0.1)

    result = bodycam("gaps", "report", *span, "--format", "json", check=False)
    assert result.exit_code == 4
    findings = {f["kind"]: f for f in json.loads(result.stdout)["findings"]}
    assert findings["missing_file"]["detail"] == "listed in session.json, never received: lost.mp4"
    assert "interrupted" in findings  # the hole where lost.mp4 should be
    table = bodycam("gaps", "report", *span, check=False).stdout
    assert "lost.mp4" in table
