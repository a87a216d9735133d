"""Clerk search latency over a large index (issue: p95 < 50 ms at 1,000,000 clips).

Generates a synthetic index straight into a fresh database (units, officers,
devices with assignments, cases, clips spread over a year, case links), then
times the library's search and show functions: p50 and p95 over --queries runs.

    python bench/search_bench.py --clips 1000000 --db sqlite
    python bench/search_bench.py --clips 1000000 --db postgresql   # needs DATABASE_URL
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from bodycam.db.engine import Database
from bodycam.db.models import Case, CaseClip, Clip, Device, DeviceAssignment, Officer, Unit
from bodycam.db.schema import upgrade
from bodycam.index.queries import ClipFilter, search
from bodycam.index.show import clip_details

T0 = datetime(2026, 1, 1, tzinfo=UTC)
YEAR = 365 * 86400


def generate(db: Database, clips: int, officers: int, cases: int, seed: int = 1) -> dict[str, float]:
    rng = random.Random(seed)
    started = time.perf_counter()
    with db.engine.begin() as c:
        c.execute(insert(Unit), [{"code": f"U{u:03d}", "name": ""} for u in range(50)])
        c.execute(insert(Officer), [{"badge": f"P{o:06d}", "name": "", "unit_id": 1 + o % 50}
                                    for o in range(officers)])
        c.execute(insert(Device), [{"serial": f"DSJ-{o:06d}", "kind": "body_camera", "unit_id": 1 + o % 50,
                                    "description": ""} for o in range(officers)])
        c.execute(insert(DeviceAssignment), [{"device_id": o + 1, "officer_id": o + 1, "start": T0}
                                             for o in range(officers)])
        c.execute(insert(Case), [{"number": f"C-{n:06d}", "title": "", "status": "open"} for n in range(cases)])
    batch = 20_000
    for lo in range(0, clips, batch):
        rows = []
        for i in range(lo, min(lo + batch, clips)):
            o = rng.randrange(officers)
            start = T0 + timedelta(seconds=rng.randrange(YEAR))
            dur = rng.uniform(60, 1800)
            rows.append({
                "sha256": f"{rng.getrandbits(256):064x}", "size": int(dur * 1_000_000), "store_key": f"clips/{i}",
                "store_version": "v1", "etag": "", "kind": "dock", "device_id": o + 1, "officer_id": o + 1,
                "device_serial": f"DSJ-{o:06d}", "officer_badge": f"P{o:06d}", "recorded_start": start,
                "recorded_end": start + timedelta(seconds=dur), "time_source": "filename",
                "duration_seconds": dur, "media": {}, "discontinuities": [], "source_name": f"f{i}.mp4",
                "source_path": "", "source_host": "", "uploaded_at": start + timedelta(hours=8),
                "retain_until": start + timedelta(days=180),
            })
        with db.engine.begin() as c:
            c.execute(insert(Clip), rows)
    with db.engine.begin() as c:
        links = [{"case_id": 1 + rng.randrange(cases), "clip_id": 1 + rng.randrange(clips), "linked_at": T0,
                  "linked_by": "bench", "reason": "bench"} for _ in range(clips // 20)]
        for lo in range(0, len(links), batch):
            c.execute(insert(CaseClip), links[lo:lo + batch])
        if db.dialect == "postgresql":
            c.execute(text("ANALYZE"))
        else:
            c.execute(text("ANALYZE"))
    return {"generate_s": round(time.perf_counter() - started, 1)}


def measure(fn: Callable[[], object], n: int) -> dict[str, float]:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2), "p95_ms": round(times[int(0.95 * (n - 1))], 2)}


def queries(db: Database, clips: int, officers: int, cases: int, n: int) -> dict[str, dict[str, float]]:
    rng = random.Random(2)
    day = timedelta(days=1)

    def window() -> tuple[datetime, datetime]:
        start = T0 + timedelta(seconds=rng.randrange(YEAR))
        return start, start + day

    with db.read() as s:
        shas = [r[0] for r in s.execute(text("SELECT sha256 FROM clips WHERE id % 997 = 1")).all()]

        def officer_window() -> object:
            a, b = window()
            return search(s, ClipFilter(officers=(f"P{rng.randrange(officers):06d}",), start=a, end=b))

        def device_window() -> object:
            a, b = window()
            return search(s, ClipFilter(devices=(f"DSJ-{rng.randrange(officers):06d}",), start=a, end=b))

        def by_case() -> object:
            return search(s, ClipFilter(case=f"C-{rng.randrange(cases):06d}"))

        def by_sha() -> object:
            return search(s, ClipFilter(sha256=rng.choice(shas)[:8]))

        def show() -> object:
            return clip_details(s, 1 + rng.randrange(clips))

        return {name: measure(fn, n) for name, fn in [
            ("officer_and_window", officer_window), ("device_and_window", device_window), ("case", by_case),
            ("sha256_prefix", by_sha), ("clips_show", show)]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=1_000_000)
    ap.add_argument("--officers", type=int, default=2000)
    ap.add_argument("--cases", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    out: dict[str, object] = {"clips": args.clips, "officers": args.officers, "cases": args.cases, "db": args.db}
    with tempfile.TemporaryDirectory(prefix="bodycam-search-", dir=os.environ.get("BENCH_DIR", "/tmp")) as tmp:
        if args.db == "sqlite":
            url, cleanup = f"sqlite:///{Path(tmp) / 'index.db'}", None
        else:
            base = os.environ.get("DATABASE_URL") or sys.exit("DATABASE_URL is not set")
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(base)
            with admin.begin() as c:
                c.execute(text(f"CREATE SCHEMA {schema}"))
            url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False)
            cleanup = (admin, schema)
        db = Database(url)
        upgrade(db)
        out.update(generate(db, args.clips, args.officers, args.cases))
        out["queries"] = queries(db, args.clips, args.officers, args.cases, args.queries)
        db.dispose()
        if cleanup:
            with cleanup[0].begin() as c:
                c.execute(text(f"DROP SCHEMA {cleanup[1]} CASCADE"))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
