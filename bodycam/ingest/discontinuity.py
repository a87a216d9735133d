"""Discontinuities inside a file: timestamp jumps, black and frozen pictures.

Method (see docs/ingest.md):
- jumps: the video stream's packet timestamps from ffprobe (no decoding); a step
  larger than JUMP_SECONDS between consecutive packets is a jump (a pause, a cut);
- black and frozen: OpenCV decodes every frame (H.264 needs them all) but converts
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
    proc = subprocess.run([ffprobe, "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts_time",
                           "-of", "json", str(path)], capture_output=True, text=True)
    if proc.returncode != 0:
        return []
    times = sorted(float(p["pts_time"]) for p in json.loads(proc.stdout or "{}").get("packets", [])
                   if p.get("pts_time") not in (None, "N/A"))
    if not times:
        return []
    base = times[0]
    return [Stretch("jump", a - base, b - a) for a, b in itertools.pairwise(times) if b - a > JUMP_SECONDS]


def picture_stretches(path: Path) -> list[Stretch]:
    import cv2  # loaded only when there is a picture to decode: it costs start-up time
    import numpy as np

    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        return []
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    step = max(1, round(fps / SAMPLES_PER_SECOND))
    samples: list[tuple[float, bool, bool]] = []  # (time, black, frozen)
    previous: np.ndarray | None = None
    index = 0
    try:
        while cap.grab():
            if index % step == 0:
                ok, frame = cap.retrieve()
                if not ok:
                    break
                small = cv2.resize(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (64, 36), interpolation=cv2.INTER_AREA)
                grey = small.astype(np.float32)
                black = float((grey < BLACK_LUMA).mean()) >= BLACK_SHARE
                frozen = previous is not None and float(np.abs(grey - previous).mean()) < FROZEN_DIFF
                samples.append((index / fps, black, frozen))
                previous = grey
            index += 1
    finally:
        cap.release()
    out: list[Stretch] = []
    for kind, pick in (("black", 1), ("frozen", 2)):
        run_start: float | None = None
        for i, sample in enumerate(samples):
            flagged = bool(sample[pick]) and not (kind == "frozen" and sample[1])  # black is not also frozen
            if flagged and run_start is None:
                run_start = samples[i - 1][0] if kind == "frozen" and i else sample[0]
            if (not flagged or i == len(samples) - 1) and run_start is not None:
                end = sample[0] + (1 / SAMPLES_PER_SECOND if flagged else 0)
                if end - run_start >= MIN_SECONDS:
                    out.append(Stretch(kind, run_start, end - run_start))
                run_start = None
    return out


def analyse(path: Path, ffprobe: str = "ffprobe") -> list[dict[str, Any]]:
    """Every discontinuity found, ordered by where it starts in the file."""
    found = packet_jumps(path, ffprobe) + picture_stretches(path)
    return [s.as_dict() for s in sorted(found, key=lambda s: s.at)]
