"""A shift at the dock: K cameras, each with a few minutes of real 1080p footage,
released by one `bodycam ingest run --release delete --no-analyse` (the picture
analysis runs later, on workers), against `sha256sum` plus `cp && sync` of the same
files in the same run.

Footage: a 120 s 1080p30 H.264 file at about 6 Mbit/s with AAC audio and a 2 s GOP,
made once with ffmpeg and cached (the one bench/scrub_bench.py uses); each camera
gets `--files` copies with their own trailing bytes, so each is its own clip.

    python -m bench.dock_shift --cameras 4 --files 2 --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import drop_env, median, remove_local_store, timed
from bench.scrub_bench import footage

BODYCAM = [sys.executable, "-m", "bodycam"]


def lay_out(dock: Path, data: bytes, cameras: int, files: int) -> list[Path]:
    paths = []
    old = time.time() - 600
    for c in range(cameras):
        for f in range(files):
            path = dock / f"CAM{c}" / f"CAM{c}_P{c:06d}_2026112508{f * 2:02d}00.mp4"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data + bytes([c, f]))
            os.utime(path, (old, old))
            paths.append(path)
    return paths


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=4)
    ap.add_argument("--files", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    data = footage()
    ref, ours, rss = [], [], []
    with tempfile.TemporaryDirectory(prefix="bodycam-shift-", dir=os.environ.get("BENCH_DIR", "/tmp")) as tmp:
        root = Path(tmp)
        for n in range(args.repeat):
            dock = root / f"dock{n}"
            paths = lay_out(dock, data, args.cameras, args.files)
            copy_to = root / f"copy{n}"
            copy_to.mkdir()
            os.sync()
            t = time.perf_counter()
            subprocess.run(["sha256sum", *map(str, paths)], check=True, stdout=subprocess.DEVNULL)
            subprocess.run(["sh", "-c", f'cp "$@" {copy_to} && sync', "cp", *map(str, paths)], check=True)
            ref.append(time.perf_counter() - t)
            shutil.rmtree(copy_to)
            env = {**drop_env(), "XDG_DATA_HOME": str(root / f"data{n}"), "XDG_CONFIG_HOME": str(root / "cfg"),
                   "BODYCAM_INGEST_STABLE_SECONDS": "0"}
            timed([*BODYCAM, "init"], env)
            r = timed([*BODYCAM, "ingest", "run", str(dock), "--release", "delete", "--no-analyse"], env)
            assert not any(p.exists() for p in paths), "every camera released"
            ours.append(r.seconds)
            rss.append(r.peak_rss_mb)
            remove_local_store(root / f"data{n}")
    total = len(data) * args.cameras * args.files
    print(json.dumps({
        "cameras": args.cameras, "files": args.cameras * args.files, "bytes": total,
        "reference_sha256sum_plus_cp_s": round(median(ref), 2), "bodycam_release_s": round(median(ours), 2),
        "throughput_ratio": round(median(ref) / median(ours), 2), "peak_rss_mb": round(max(rss), 1),
        "runs": {"reference": [round(x, 2) for x in ref], "bodycam": [round(x, 2) for x in ours]},
    }, indent=2))


if __name__ == "__main__":
    main()
