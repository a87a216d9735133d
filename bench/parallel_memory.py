"""Peak memory when several large files are ingested at once.

Four different 512 MiB files in one camera folder, one `bodycam ingest run` with
4 workers: the local store (SQLite + folder) and, when the services are
configured, PostgreSQL + Ceph RGW. Reports the process's peak RSS and the time.
The target (issue 3) is under 300 MB whatever the file size.

    python bench/parallel_memory.py --files 4 --size-mb 512
(S3 part needs S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY and DATABASE_URL, as the
shared pg-up and s3-up print; it leaves locked objects in a new bucket.)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import drop_env, make_big_file, remove_local_store, s3_store_env, timed

BODYCAM = [sys.executable, "-m", "bodycam"]


def make_dock(work: Path, files: int, size: int) -> Path:
    cam = work / "dock" / "CAM-MEM"
    cam.mkdir(parents=True)
    base = make_big_file(work / "base.bin", size)
    data = bytearray(base.read_bytes())
    for n in range(files):  # distinct contents, so none is a duplicate of another
        data[:8] = n.to_bytes(8, "little")
        (cam / f"CAM-MEM_P1_2026110108{n:02d}00.bin").write_bytes(data)
    old = time.time() - 600
    for p in cam.iterdir():
        os.utime(p, (old, old))
    return cam.parent


def run(dock: Path, env: dict[str, str]) -> dict[str, float]:
    timed([*BODYCAM, "init"], env)
    r = timed([*BODYCAM, "ingest", "run", str(dock)], env)
    return {"seconds": round(r.seconds, 2), "peak_rss_mb": round(r.peak_rss_mb, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("--size-mb", type=int, default=512)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bodycam-mem-", dir=os.environ.get("BENCH_DIR", "/tmp")) as tmp:
        work = Path(tmp)
        dock = make_dock(work, args.files, args.size_mb << 20)
        out: dict[str, object] = {"files": args.files, "size_mb": args.size_mb, "cores": os.cpu_count()}
        env = drop_env()
        env.update(BODYCAM_DATABASE_URL=f"sqlite:///{work / 'db.sqlite'}", BODYCAM_STORE_URL=f"file://{work}/objects",
                   BODYCAM_INGEST_WORKERS=str(args.files), XDG_CONFIG_HOME=str(work))
        out["local"] = run(dock, env)
        if os.environ.get("S3_ENDPOINT"):
            env = drop_env()
            env.update(s3_store_env(f"bench-mem-{uuid.uuid4().hex[:8]}"),
                       BODYCAM_DATABASE_URL=f"sqlite:///{work / 'db-s3.sqlite'}",
                       BODYCAM_INGEST_WORKERS=str(args.files), XDG_CONFIG_HOME=str(work))
            out["s3"] = run(dock, env)
        remove_local_store(work / "objects")
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
