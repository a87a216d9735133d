"""Scrub rate: how fast stored footage is re-read and verified, against `openssl dgst -sha256`.

Footage: a 1080p30 H.264 camera file at about 6 Mbit/s with audio (generated once
with ffmpeg, cached), stored N times (each copy with its own trailing bytes, so
each is its own clip) in a local store or on RGW. Each round first reads the
objects' files with `openssl dgst -sha256` (the reference: one core hashing the
same bytes from the same cache state), then runs `bodycam.audit.scrub.scrub` over them.
Prints medians, GB/s per core, the ratio, and how long a 100 TB store takes at
the default nightly budget.

    python bench/scrub_bench.py --copies 20 --repeat 3 [--s3]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert

from bench.common import median, remove_local_store, s3_store_env
from bodycam.audit.scrub import scrub
from bodycam.config import ScrubSettings, load_settings
from bodycam.db.engine import Database
from bodycam.db.models import Clip
from bodycam.db.schema import upgrade
from bodycam.store import open_store
from bodycam.timeutil import utcnow

CACHE = Path(os.environ.get("BENCH_DIR", "/tmp")) / "bodycam-bench-1080p-120s.mp4"


def footage(seconds: int = 120) -> bytes:
    if not CACHE.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        f"testsrc2=size=1920x1080:rate=30:duration={seconds}", "-f", "lavfi", "-i",
                        f"anoisesrc=duration={seconds}:amplitude=0.1", "-vf", "noise=alls=12:allf=t",
                        "-c:v", "libx264", "-preset", "veryfast", "-b:v", "6M", "-maxrate", "6M", "-bufsize", "12M",
                        "-g", "60", "-c:a", "aac", "-shortest", str(CACHE)], check=True)
    return CACHE.read_bytes()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--s3", action="store_true")
    args = ap.parse_args()
    data = footage()
    with tempfile.TemporaryDirectory(prefix="bodycam-scrub-", dir=os.environ.get("BENCH_DIR", "/tmp")) as tmp:
        root = Path(tmp)
        env = s3_store_env(f"bodycam-bench-{uuid.uuid4().hex[:8]}") if args.s3 else \
            {"BODYCAM_STORE_URL": f"file://{root / 'objects'}"}
        store = open_store(load_settings(environ=env).settings)
        store.ensure()
        db = Database(f"sqlite:///{root / 'bench.db'}")
        upgrade(db)
        rows, files = [], []
        for i in range(args.copies):
            body = data + i.to_bytes(8, "little")
            r = store.put(f"clips/bench/{i:04d}.mp4", io.BytesIO(body), retain_until=utcnow() + timedelta(days=1))
            assert r is not None
            rows.append({"sha256": r.sha256, "size": r.size, "store_key": r.key, "store_version": r.version,
                         "uploaded_at": utcnow(), "retain_until": utcnow(), "media": {}, "discontinuities": []})
            if not args.s3:
                files.append(str(next((root / "objects").rglob(f"{r.version}.data"))))
        with db.engine.begin() as c:
            c.execute(insert(Clip), rows)
        total = sum(r["size"] for r in rows)
        ref, ours = [], []
        for _ in range(args.repeat):
            if files:  # the reference: OpenSSL's SHA-256 (as fast as hashing gets on this CPU), same files
                t = time.perf_counter()
                subprocess.run(["openssl", "dgst", "-sha256", *files], check=True, stdout=subprocess.DEVNULL)
                ref.append(time.perf_counter() - t)
            t = time.perf_counter()
            result = scrub(db, store, "bench", float("inf"))
            ours.append(time.perf_counter() - t)
            assert result.complete and not result.failures and result.bytes == total
        if not args.s3:
            remove_local_store(root / "objects")
    rate = total / 1e9 / median(ours)
    budget_h = ScrubSettings().budget_minutes / 60
    out = {"store": "s3" if args.s3 else "local", "clips": args.copies, "bytes": total,
           "scrub_s_median": round(median(ours), 2), "scrub_gb_per_s": round(rate, 3),
           "openssl_s_median": round(median(ref), 2) if ref else None,
           "ratio_vs_openssl": round(median(ref) / median(ours), 2) if ref else None,
           "days_for_100TB_at_default_budget": round(100e12 / (rate * 1e9) / 3600 / budget_h, 1)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
