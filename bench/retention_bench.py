"""Retention: plan over a large index, and the deletion rate of a sweep on Ceph RGW.

    python bench/retention_bench.py plan --clips 1000000 --db sqlite
    python bench/retention_bench.py plan --clips 1000000 --db postgresql
    python bench/retention_bench.py run --objects 2000        # needs S3_* and DATABASE_URL

`plan` reuses the search benchmark's generator (clips over 2026, so many are due) and
times bodycam.retention.sweep.plan. `run` puts small objects under a 10-second
COMPLIANCE lock with their clip rows, waits for the locks to expire, and times
bodycam.retention.sweep.run (batched DeleteObjects, one audit event per deletion).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from search_bench import generate

from bodycam.config import RetentionSettings, load_settings
from bodycam.db.engine import Database
from bodycam.db.models import Clip
from bodycam.db.schema import upgrade
from bodycam.retention import sweep
from bodycam.store import open_store
from bodycam.timeutil import utcnow


def database(kind: str, tmp: Path) -> tuple[Database, object]:
    if kind == "sqlite":
        return Database(f"sqlite:///{tmp / 'r.db'}"), None
    base = os.environ["DATABASE_URL"]
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as c:
        c.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    return Database(url.render_as_string(hide_password=False)), (admin, schema)


def drop(cleanup: object) -> None:
    if cleanup:
        admin, schema = cleanup  # type: ignore[misc]
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))


def bench_plan(args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    db, cleanup = database(args.db, tmp)
    upgrade(db)
    gen = generate(db, args.clips, 2000, 20_000)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        p = sweep.plan(db, RetentionSettings(), utcnow())
        times.append(time.perf_counter() - t)
    drop(cleanup)
    return {"db": args.db, "clips": args.clips, **gen, "plan_s_median": round(sorted(times)[1], 2),
            "runs": [round(x, 2) for x in times], "due": len(p.due), "kept": p.kept}


def bench_run(args: argparse.Namespace, tmp: Path) -> dict[str, object]:
    db, cleanup = database("postgresql", tmp)
    upgrade(db)
    env = {"BODYCAM_STORE_URL": f"s3://bench-ret-{uuid.uuid4().hex[:8]}", "BODYCAM_STORE_ENDPOINT":
           os.environ["S3_ENDPOINT"], "BODYCAM_STORE_ACCESS_KEY": os.environ["S3_ACCESS_KEY"],
           "BODYCAM_STORE_SECRET_KEY": os.environ["S3_SECRET_KEY"], "BODYCAM_STORE_REGION":
           os.environ.get("S3_REGION", "default"), "BODYCAM_STORE_PARALLEL_PARTS": "8"}
    store = open_store(load_settings(environ=env).settings)
    store.ensure()
    until = utcnow() + timedelta(seconds=10)
    old = utcnow() - timedelta(days=400)

    def put(i: int) -> dict[str, object]:
        data = f"clip {i} ".encode() * 100
        r = store.put(f"clips/bench/{i:06d}", io.BytesIO(data), retain_until=until)
        assert r is not None
        return {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "store_key": r.key,
                "store_version": r.version, "recorded_start": old, "recorded_end": old, "uploaded_at": old,
                "retain_until": until, "media": {}, "discontinuities": []}

    t = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        rows = list(pool.map(put, range(args.objects)))
    put_s = time.perf_counter() - t
    with db.engine.begin() as c:
        c.execute(insert(Clip), rows)
    policy = RetentionSettings()  # the clips were received 400 days ago: past the floor and the grace
    sweep.record_plan(db, "bench", sweep.plan(db, policy, utcnow()), what_if=False)
    time.sleep(max(0.0, (until - utcnow()).total_seconds() + 1))
    t = time.perf_counter()
    result = sweep.run(db, store, policy, "bench")
    run_s = time.perf_counter() - t
    drop(cleanup)
    return {"objects": args.objects, "put_s": round(put_s, 1), "run_s": round(run_s, 2),
            "deleted": result.deleted, "refused": len(result.refused),
            "deleted_per_s": round(result.deleted / run_s, 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("what", choices=["plan", "run"])
    ap.add_argument("--clips", type=int, default=1_000_000)
    ap.add_argument("--objects", type=int, default=2000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bodycam-ret-", dir=os.environ.get("BENCH_DIR", "/tmp")) as tmp:
        out = bench_plan(args, Path(tmp)) if args.what == "plan" else bench_run(args, Path(tmp))
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
