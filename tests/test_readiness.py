"""Issue 18: `bodycam cases check`: a case goes to legal review only with every required recording
present, complete, analysed, intact and held (exit 4 and the list of what is missing otherwise)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.conftest import Bodycam
from tests.media import age, make_clip
from tests.test_interrogation import registries, session, window


def _check(bodycam: Bodycam, *args: str) -> tuple[int, dict]:
    result = bodycam("cases", "check", *args, "--format", "json", check=False)
    return result.exit_code, json.loads(result.stdout)


def test_a_case_fails_readiness_until_its_missing_interrogation_file_arrives(
        bodycam: Bodycam, tmp_path: Path, ffmpeg: str) -> None:
    bodycam("init")
    registries(bodycam, tmp_path)
    start, _ = window(bodycam)
    root = session(tmp_path / "room", start, {"a.mp4": 2.0, "lost.mp4": None, "c.mp4": 1.0}, end_after=4.0)
    bodycam("ingest", "run", "--kind", "interrogation", str(root))

    code, result = _check(bodycam, "C-42")
    assert code == 4 and result["ready"] is False
    kinds = {p["what"].split(":")[0] for p in result["problems"] if p["subject"].startswith("event S-2026-001")}
    assert "missing_file" in kinds, result["problems"]
    assert any("lost.mp4" in p["what"] for p in result["problems"])
    table = bodycam("cases", "check", "C-42", check=False)
    assert table.exit_code == 4 and "NOT READY" in table.stdout and "lost.mp4" in table.stdout

    make_clip(root / "S-2026-001" / "lost.mp4", 1.0, pattern="testsrc2")  # moving, and not c.mp4's bytes
    age(root / "S-2026-001" / "lost.mp4")
    bodycam("ingest", "run", "--kind", "interrogation", str(root))
    code, result = _check(bodycam, "C-42")
    assert (code, result["problems"]) == (0, []), result["problems"]
    assert result["ready"] and result["clips"] == 3 and result["verified_bytes"] > 0
    everything = bodycam.json("cases", "check", "--all", "--open")
    assert [(r["case"], r["ready"]) for r in everything] == [("C-42", True)]


def test_footage_of_a_case_event_must_be_linked_and_intact(local_bodycam: Bodycam, tmp_path: Path,
                                                           ffmpeg: str) -> None:
    bodycam = local_bodycam
    bodycam("init")
    registries(bodycam, tmp_path)
    (tmp_path / "cases.csv").write_text("number,title,status\nXS-7,assault,open\n")
    bodycam("cases", "import", str(tmp_path / "cases.csv"))
    start = (bodycam.clock.now() - timedelta(hours=1)).replace(microsecond=0)
    clip = make_clip(tmp_path / "dock" / "CAM1" / f"CAM1_P1_{start:%Y%m%d%H%M%S}.mp4", 3.0)
    age(clip)
    bodycam("ingest", "run", str(tmp_path / "dock"), "--source-tz", "UTC")
    (tmp_path / "events.csv").write_text(
        "event_id,scenario,start,end,officers,unit,case_id,location\n"
        f"E-1,dispatch,{start.isoformat()},{(start + timedelta(seconds=3)).isoformat()},P1,PS-01,XS-7,\n")
    bodycam("events", "import", str(tmp_path / "events.csv"))
    (found,) = bodycam.json("clips", "search")

    code, result = _check(bodycam, "XS-7")
    assert code == 4 and [p["subject"] for p in result["problems"]] == [f"clip {found['id']}"]
    assert "not linked" in result["problems"][0]["what"]

    bodycam("cases", "link", "XS-7", str(found["id"]), "--reason", "shows the assault")
    code, result = _check(bodycam, "XS-7")
    assert (code, result["problems"]) == (0, [])

    out = bodycam("clips", "export", "--case", "XS-7", "--out", str(tmp_path / "usb"), "--reason", "disclosure",
                  "--recipient", "defence counsel").stdout  # the case's disclosure: one receipt for the set
    (folder,) = (tmp_path / "usb").iterdir()
    receipt = json.loads((folder / "custody-receipt.json").read_text())
    assert receipt["case"] == "XS-7" and [f["clip_id"] for f in receipt["files"]] == [found["id"]]
    assert receipt["files"][0]["sha256"] == found["sha256"] and receipt["files"][0]["officer"] == "P1"
    assert "case:        XS-7" in (folder / "custody-receipt.txt").read_text() and found["sha256"] in out
    nothing = bodycam("clips", "export", "--case", "C-404", "--out", str(tmp_path / "usb"), "--reason", "x",
                      check=False)
    assert nothing.exit_code != 0 and "C-404" in nothing.stderr and len(list((tmp_path / "usb").iterdir())) == 1

    stored = tmp_path / "objects"  # an insider overwrites the stored bytes of the exhibit
    (data,) = [p for p in stored.rglob("*.data") if "clips/" in str(p)]
    data.chmod(0o600)
    data.write_bytes(data.read_bytes()[:-10] + b"0123456789")
    code, result = _check(bodycam, "XS-7")
    assert code == 4 and "do not match" in result["problems"][0]["what"]
    assert _check(bodycam, "XS-7", "--no-verify")[0] == 0  # without reading back, only the index is seen
