"""Detection of timestamp jumps, black and frozen pictures inside a file."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bodycam.ingest.discontinuity import analyse


def test_black_and_frozen_stretches(tmp_path: Path, ffmpeg: str) -> None:
    out = tmp_path / "faults.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=4",
                    "-f", "lavfi", "-i", "color=black:size=320x240:rate=10:duration=3", "-f", "lavfi", "-i",
                    "smptebars=size=320x240:rate=10:duration=3", "-f", "lavfi", "-i",
                    "testsrc2=size=320x240:rate=10:duration=2", "-filter_complex",
                    "[0:v][1:v][2:v][3:v]concat=n=4:v=1[v]", "-map", "[v]", "-c:v", "libx264", "-preset",
                    "ultrafast", str(out)], check=True)
    found = analyse(out)
    kinds = [(d["kind"], d["at"], d["seconds"]) for d in found]
    assert kinds == [("black", 4.0, 3.0), ("frozen", 7.0, 3.0)], kinds


def test_timestamp_jump(tmp_path: Path, ffmpeg: str) -> None:
    out = tmp_path / "jump.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=4",
                    "-vf", "setpts='if(gte(T,2),PTS+6/TB,PTS)'", "-fps_mode", "passthrough", "-c:v", "libx264",
                    "-preset", "ultrafast", str(out)], check=True)
    jumps = [d for d in analyse(out) if d["kind"] == "jump"]
    assert len(jumps) == 1 and abs(jumps[0]["at"] - 1.9) < 0.15 and abs(jumps[0]["seconds"] - 6.1) < 0.15, jumps


def test_clean_moving_picture_has_none(tmp_path: Path, ffmpeg: str) -> None:
    out = tmp_path / "clean.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=10:duration=5",
                    "-c:v", "libx264", "-preset", "ultrafast", str(out)], check=True)
    assert analyse(out) == []
