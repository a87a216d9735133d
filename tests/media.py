"""Small real media files made with ffmpeg, for the ingest tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path


def make_clip(path: Path, seconds: float = 2.0, *, pattern: str = "testsrc", creation: str | None = None) -> Path:
    """An H.264 + AAC MP4 of ``seconds`` (320x240, 15 fps)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{pattern}=size=320x240:rate=15:duration={seconds}",
           "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "ultrafast",
           "-c:a", "aac", "-shortest"]
    if creation:
        cmd += ["-metadata", f"creation_time={creation}"]
    subprocess.run([*cmd, str(path)], check=True)
    return path


def age(*paths: Path, seconds: float = 120) -> None:
    """Make files look finished (older than the stability window)."""
    when = time.time() - seconds
    for p in paths:
        os.utime(p, (when, when), follow_symlinks=False)


def copy_clip(src: Path, dst: Path) -> Path:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


def distinct_dock(root: Path, n: int, camera: str = "CAM1", salt: int = 0) -> Path:
    """``n`` finished files of one camera, each its own bytes (a trailing 'free' box holding ``salt``
    and the file's number), made from one encode: a dock of many clips in a second."""
    first = make_clip(root.parent / f"{root.name}-staging" / "one.mp4", 1.0)
    for i in range(n):
        target = root / camera / f"{camera}_P1_202611010800{i % 60:02d}_{i:04d}.mp4"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(first, target)
        with target.open("ab") as f:
            f.write(b"\0\0\0\x14free" + salt.to_bytes(4, "big") + i.to_bytes(8, "big"))
        age(target)
    return root
