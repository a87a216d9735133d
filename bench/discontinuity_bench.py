"""Cost of the in-file discontinuity analysis at ingest, on 1080p H.264.

Target: at most half of the clip's real-time duration on one core. Makes a 1080p30
H.264 clip (moving test picture, with a black stretch), then times
bodycam.ingest.discontinuity.analyse pinned to one core (os.sched_setaffinity),
median of --repeat runs.

    python bench/discontinuity_bench.py --seconds 60 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bodycam.ingest.discontinuity import analyse


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bodycam-disc-") as tmp:
        clip = Path(tmp) / "clip1080p.mp4"
        black = max(1, args.seconds // 6)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size=1920x1080:rate=30:duration={args.seconds - black}", "-f", "lavfi", "-i",
                        f"color=black:size=1920x1080:rate=30:duration={black}", "-filter_complex",
                        "[0:v][1:v]concat=n=2:v=1[v]", "-map", "[v]", "-c:v", "libx264", "-preset", "veryfast",
                        "-b:v", "8M", str(clip)], check=True)
        os.sched_setaffinity(0, {0})
        times, found = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            found = analyse(clip)
            times.append(time.perf_counter() - started)
        med = statistics.median(times)
        print(json.dumps({"clip_seconds": args.seconds, "resolution": "1920x1080", "fps": 30, "bitrate": "8M",
                          "analyse_s_median": round(med, 2), "runs": [round(t, 2) for t in times],
                          "ratio_of_realtime": round(med / args.seconds, 3), "found": found}, indent=2))


if __name__ == "__main__":
    main()
