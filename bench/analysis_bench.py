"""Picture analysis speed and accuracy on camera footage (issue 13).

Footage (made once with ffmpeg, cached in $BENCH_DIR or /tmp): 1080p30 H.264 at
about 6 Mbit/s with AAC audio, sensor noise everywhere, one file per GOP length
(1 s and 2 s), each `--seconds` long with three faults at known places: a black
stretch (a covered lens, with the dark noise of a sensor), a frozen picture and a
timestamp jump. The clean footage of the dock-shift benchmark too (120 s, 2 s GOP). Plus the
known-answer set of tests/known_answers.py made at 1080p30 6 Mbit/s.

Each file is analysed in a child process pinned to one core (taskset), `--repeat`
times; the median is reported against, in the same run, `ffmpeg -threads 1` decoding
every picture (what a full decode costs) and `ffmpeg -c copy` (demux only). The
child's peak memory is its VmHWM.

    python -m bench.analysis_bench --seconds 180 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import hwm_mb, median
from bench.scrub_bench import CACHE, footage
from tests.known_answers import CASES, Expected, matches, x264

BENCH_DIR = Path(os.environ.get("BENCH_DIR", "/tmp"))
RATE = 30
CHILD = """
import json, sys, time
from pathlib import Path
from bodycam.analysis.discontinuity import analyse
times, found = [], []
for _ in range(int(sys.argv[2])):
    started = time.perf_counter()
    found = analyse(Path(sys.argv[1]))
    times.append(time.perf_counter() - started)
print(json.dumps({"times": times, "found": found}))
"""


def faults(seconds: int) -> tuple[Expected, ...]:
    """Where the composite file's faults are: not on a keyframe, so nothing is found by luck."""
    black, frozen, jump = round(seconds * 0.34) + 0.5, round(seconds * 0.55) + 0.3, round(seconds * 0.78)
    return (Expected("black", black, 3.0), Expected("frozen", frozen, 6.0),
            Expected("jump", jump - 1 / RATE, 10 + 1 / RATE))


def composite(seconds: int, gop: float) -> Path:
    path = BENCH_DIR / f"bodycam-bench-analysis-{seconds}s-gop{gop:g}-v2.mp4"
    if path.exists():
        return path
    black, frozen, jump = faults(seconds)
    first = round(frozen.at * RATE)
    last = first + round(frozen.seconds * RATE) - 1
    covered = f"between(t,{black.at},{black.at + black.seconds - 0.01})"
    graph = (f"[0:v]noise=alls=12:allf=t,drawbox=x=0:y=0:w=iw:h=ih:color=0x101010:t=fill:enable='{covered}',"
             f"noise=alls=4:allf=t:enable='{covered}',split[a][b];"
             f"[a][b]freezeframes=first={first}:last={last}:replace={first},"
             f"setpts='if(gte(T,{jump.at + 1 / RATE}),PTS+10/TB,PTS)'[v]")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                    f"testsrc2=size=1920x1080:rate={RATE}:duration={seconds}", "-f", "lavfi", "-i",
                    f"anoisesrc=duration={seconds}:amplitude=0.1", "-filter_complex", graph, "-map", "[v]",
                    "-map", "1:a", "-fps_mode", "passthrough", *x264(RATE, "6M", gop_seconds=gop),
                    "-preset", "veryfast", "-c:a", "aac", str(path)], check=True)
    return path


def analysed(path: Path, repeat: int) -> tuple[list[float], list[dict[str, float | str]], float]:
    proc = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c", CHILD, str(path), str(repeat)],
                            stdout=subprocess.PIPE, text=True)
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, hwm_mb(proc.pid))
        time.sleep(0.01)
    out = json.loads(proc.stdout.read() if proc.stdout else "{}")
    if proc.returncode:
        raise SystemExit(f"analysis of {path} failed")
    return out["times"], out["found"], peak


def reference(path: Path, repeat: int, *codec: str) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(["taskset", "-c", "0", "ffmpeg", "-v", "error", "-threads", "1", "-i", str(path), "-map",
                        "0:v", *codec, "-f", "null", "-"], check=True)
        times.append(time.perf_counter() - started)
    return median(times)


def duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                          str(path)], capture_output=True, text=True, check=True).stdout
    return float(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=int, default=180)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    rows = []
    footage()
    for gop in (None, 1.0, 2.0):
        path = CACHE if gop is None else composite(args.seconds, gop)
        expected = () if gop is None else faults(args.seconds)
        times, found, peak = analysed(path, args.repeat)
        ours = median(times)
        real = duration(path)
        full = reference(path, args.repeat)
        demux = reference(path, args.repeat, "-c", "copy")
        rows.append({"file": path.name, "seconds_of_video": round(real, 1), "mb": round(path.stat().st_size / 1e6),
                     "analyse_s": round(ours, 3), "x_real_time": round(real / ours),
                     "full_decode_s": round(full, 2), "x_faster_than_full_decode": round(full / ours, 1),
                     "demux_only_s": round(demux, 3), "peak_rss_mb": round(peak), "found": found,
                     "as_known": matches(found, expected, RATE)})
    known = []
    folder = BENCH_DIR / "bodycam-bench-known-1080p"
    for case in CASES:
        path = case.make(folder, size="1920x1080", rate=RATE, encoder=x264(RATE, "6M", gop_seconds=1))
        _, found, _ = analysed(path, 1)
        known.append({"case": case.name, "as_known": matches(found, case.expected, RATE), "found": found})
    print(json.dumps({"composite": rows, "known_answers_1080p": known}, indent=2))


if __name__ == "__main__":
    main()
