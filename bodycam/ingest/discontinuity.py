"""Discontinuities inside a file: timestamp jumps, black and frozen pictures.

Method (see docs/ingest.md). One decode of the video stream with OpenCV, on one
thread (ingest already runs files in parallel), gives everything:
- jumps: the decoded frames' presentation timestamps; a step larger than
  JUMP_SECONDS between consecutive frames is a jump (a pause, a cut). A file OpenCV
  cannot open falls back to ffprobe's packet timestamps;
- black and frozen: every frame is decoded (H.264 needs them all) but OpenCV converts
  only SAMPLES_PER_SECOND of them, shrunk to 64×36 grey with numpy: a sample is
  black when at least BLACK_SHARE of its pixels are darker than BLACK_LUMA (so the
  camera's own clock overlay does not hide a black picture); frozen when it differs
  from the previous sample by under FROZEN_DIFF on average. Runs of
  such samples lasting MIN_SECONDS or more are recorded with their start and length.
Real sensors are never perfectly still, so FROZEN_DIFF is small: a perfectly static
synthetic picture counts as frozen, which is what a stuck recorder produces.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

JUMP_SECONDS = 1.0
SAMPLES_PER_SECOND = 2.0
BLACK_LUMA = 24
BLACK_SHARE = 0.9
FROZEN_DIFF = 0.3
MIN_SECONDS = 1.0


@dataclass(frozen=True)
class Stretch:
    kind: str  # "jump" | "black" | "frozen"
    at: float  # seconds from the start of the file
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": round(self.at, 3), "seconds": round(self.seconds, 3)}


def packet_jumps(path: Path, ffprobe: str = "ffprobe") -> list[Stretch]:
    try:
        proc = subprocess.run([ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                               "-of", "json", os.fsencode(path)], capture_output=True, text=True, timeout=600,
                              stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return []
    if proc.returncode != 0:
        return []
    times = sorted(float(p["pts_time"]) for p in json.loads(proc.stdout or "{}").get("packets", [])
                   if p.get("pts_time") not in (None, "N/A"))
    if not times:
        return []
    base = times[0]
    return [Stretch("jump", a - base, b - a) for a, b in itertools.pairwise(times) if b - a > JUMP_SECONDS]


def scan(path: Path, ffprobe: str = "ffprobe") -> list[Stretch]:
    """Jumps, black and frozen stretches, from one decode."""
    import cv2  # loaded only when there is a picture to decode: it costs start-up time
    import numpy as np

    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    try:  # OpenCV takes the name as UTF-8 and crashes on one that is not: hand it an ASCII name
        cap = cv2.VideoCapture(f"/proc/self/fd/{fd}", cv2.CAP_FFMPEG, [cv2.CAP_PROP_N_THREADS, 1])
    finally:
        os.close(fd)
    if not cap.isOpened():
        return packet_jumps(path, ffprobe)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    step = max(1, round(fps / SAMPLES_PER_SECOND))
    stamps: list[float] = []
    samples: list[tuple[int, bool, bool]] = []  # (frame index, black, frozen)
    previous: np.ndarray | None = None
    try:
        while cap.grab():
            index = len(stamps)
            stamps.append(cap.get(cv2.CAP_PROP_POS_MSEC) / 1000)
            if index % step == 0:
                ok, frame = cap.retrieve()
                if not ok:
                    break
                small = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (64, 36), interpolation=cv2.INTER_AREA)
                grey = small.astype(np.float32)
                black = float((grey < BLACK_LUMA).mean()) >= BLACK_SHARE
                frozen = previous is not None and float(np.abs(grey - previous).mean()) < FROZEN_DIFF
                samples.append((index, black, frozen))
                previous = grey
    finally:
        cap.release()
    if len(set(stamps)) < len(stamps) // 2 + 1:  # no usable timestamps: count frames instead
        stamps = [i / fps for i in range(len(stamps))]
    base = min(stamps, default=0.0)
    out = [Stretch("jump", a - base, b - a) for a, b in itertools.pairwise(stamps) if b - a > JUMP_SECONDS]
    timed = [(stamps[i] - base, black, frozen) for i, black, frozen in samples]
    for kind, pick in (("black", 1), ("frozen", 2)):
        run_start: float | None = None
        for i, sample in enumerate(timed):
            flagged = bool(sample[pick]) and not (kind == "frozen" and sample[1])  # black is not also frozen
            if flagged and run_start is None:
                run_start = timed[i - 1][0] if kind == "frozen" and i else sample[0]
            if (not flagged or i == len(timed) - 1) and run_start is not None:
                end = sample[0] + (1 / SAMPLES_PER_SECOND if flagged else 0)
                if end - run_start >= MIN_SECONDS:
                    out.append(Stretch(kind, run_start, end - run_start))
                run_start = None
    return out


def analyse(path: Path, ffprobe: str = "ffprobe") -> list[dict[str, Any]]:
    """Every discontinuity found, ordered by where it starts in the file."""
    found = scan(path, ffprobe)
    return [s.as_dict() for s in sorted(found, key=lambda s: s.at)]
