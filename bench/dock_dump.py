"""End-to-end ingest rate of a dock dump of many short clips.

Makes N distinct real MP4 clips (a few ffmpeg encodes, then stream-copied
variants with different metadata), then times one `bodycam ingest run` over the
dump on the embedded default (SQLite + file store) and, when the services are
configured, on PostgreSQL + Ceph RGW: `ingest run --no-analyse` (until every clip
is released), then `analyse run` (the picture analysis); clips/s for each and for
both, and the peak RSS.

    python bench/dock_dump.py --clips 1000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import drop_env, remove_local_store, s3_store_env, timed

BODYCAM = [sys.executable, "-m", "bodycam"]
PATTERNS = ["testsrc", "testsrc2", "smptebars", "rgbtestsrc", "yuvtestsrc", "pal75bars", "smptehdbars",
            "colorspectrum"]


def make_dump(root: Path, clips: int, seconds: float) -> Path:
    cam = root / "dock" / "DSJ-BENCH"
    cam.mkdir(parents=True)
    bases = []
    for i, pattern in enumerate(PATTERNS):
        base = root / f"base{i}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"{pattern}=size=640x360:rate=25:duration={seconds}", "-f", "lavfi", "-i",
                        f"sine=duration={seconds}", "-c:v", "libx264", "-preset", "veryfast", "-c:a", "aac",
                        "-shortest", str(base)], check=True)
        bases.append(base)

    def variant(n: int) -> None:
        t = time.gmtime(1_762_000_000 + n * 60)
        out = cam / f"DSJ-BENCH_P{n % 7:06d}_{time.strftime('%Y%m%d%H%M%S', t)}_{n:04d}.mp4"
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(bases[n % len(bases)]), "-c", "copy",
                        "-metadata", f"comment=clip {n}", str(out)], check=True)

    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(variant, range(clips)))
    old = time.time() - 600
    for p in cam.iterdir():
        os.utime(p, (old, old))
    return root / "dock"


def run(dock: Path, env: dict[str, str], clips: int) -> dict[str, float]:
    """The dump released (stored, verified, indexed), then its pictures analysed: each timed, and the sum."""
    timed([*BODYCAM, "init"], env)
    ingest = timed([*BODYCAM, "ingest", "run", str(dock), "--no-analyse"], env)
    analysis = timed([*BODYCAM, "analyse", "run"], env)
    total = ingest.seconds + analysis.seconds
    return {"release_s": round(ingest.seconds, 2), "release_clips_per_s": round(clips / ingest.seconds, 1),
            "analysis_s": round(analysis.seconds, 2), "analysis_clips_per_s": round(clips / analysis.seconds, 1),
            "seconds": round(total, 2), "clips_per_s": round(clips / total, 1),
            "peak_rss_mb": round(max(ingest.peak_rss_mb, analysis.peak_rss_mb), 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=2.0, help="length of each clip")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bodycam-dump-", dir=os.environ.get("BENCH_DIR", "/tmp")) as tmp:
        work = Path(tmp)
        dock = make_dump(work, args.clips, args.seconds)
        size = sum(p.stat().st_size for p in dock.rglob("*.mp4"))
        out: dict[str, object] = {"clips": args.clips, "total_mb": round(size / 1e6, 1), "cores": os.cpu_count()}
        env = drop_env()
        env.update(BODYCAM_DATABASE_URL=f"sqlite:///{work / 'db.sqlite'}", BODYCAM_STORE_URL=f"file://{work}/objects",
                   XDG_CONFIG_HOME=str(work))
        out["embedded"] = run(dock, env, args.clips)
        if os.environ.get("S3_ENDPOINT") and os.environ.get("DATABASE_URL"):
            from sqlalchemy import create_engine, text
            from sqlalchemy.engine import make_url

            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(os.environ["DATABASE_URL"])
            with admin.begin() as c:
                c.execute(text(f"CREATE SCHEMA {schema}"))
            url = make_url(os.environ["DATABASE_URL"]).update_query_dict({"options": f"-csearch_path={schema}"})
            env = drop_env()
            env.update(s3_store_env(f"bench-{uuid.uuid4().hex[:8]}"),
                       BODYCAM_DATABASE_URL=url.render_as_string(hide_password=False), XDG_CONFIG_HOME=str(work))
            out["postgresql_rgw"] = run(dock, env, args.clips)
            with admin.begin() as c:
                c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        remove_local_store(work / "objects")
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
