"""Capacity on PostgreSQL: the database work of ingest from many processes, and a city-year index.

``ingest``: P processes, each its own dock host (its own hostname in the claims: a host name per
process) ingesting its own dump of short real clips into a store on /dev/shm, so that the
store costs next to nothing and the database work (claims, index rows, audit chain, analysis
queue, seals) is what is measured. Reported: files/s for all, and the PostgreSQL server's CPU
seconds per file (from /proc, every postgres process), hence files/s per PostgreSQL core.

``index``: the search benchmark's generator at a city's scale (11,278 officers, Hangzhou 2016)
and 10,000,000 clips over a year, plus a year of dispatch events; then the clerk's searches
(p50/p95 over 200 runs each) and a month's coverage report for one unit.

    python bench/capacity_bench.py ingest --procs 1 2 4 --files 300     # needs DATABASE_URL
    python bench/capacity_bench.py index --clips 10000000 --events 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
from retention_bench import database, drop
from search_bench import T0, YEAR, generate, queries

from bodycam.config import Settings
from bodycam.coverage.engine import analyse
from bodycam.db.engine import Database
from bodycam.db.models import Event, EventOfficer
from bodycam.db.schema import upgrade

BODYCAM = [sys.executable, "-m", "bodycam"]
TICK = os.sysconf("SC_CLK_TCK")
KEEP = False


def postgres_cpu_seconds() -> float:
    """User + system CPU of every postgres process now (the server and its backends, live or exited:
    exited backends' time is in the postmaster's cutime/cstime)."""
    total = 0.0
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
            fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
        total += (utime + stime + cutime + cstime) / TICK
    return total


def make_dump(root: Path, files: int, salt: int) -> Path:
    """``files`` distinct one-second H.264/AAC clips (one encode, distinct trailing bytes)."""
    base = root / "base.mp4"
    if not base.exists():
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
                        "testsrc=size=320x240:rate=15:duration=1", "-f", "lavfi", "-i", "sine=duration=1",
                        "-c:v", "libx264", "-preset", "ultrafast", "-c:a", "aac",
                        "-shortest", str(base)], check=True)
    dock = root / f"dock{salt}" / f"CAM{salt}"
    dock.mkdir(parents=True)
    data = base.read_bytes()
    old = time.time() - 600
    for i in range(files):
        path = dock / f"CAM{salt}_P{salt}_202611010800{i % 60:02d}_{i:05d}.mp4"
        path.write_bytes(data + b"\0\0\0\x14free" + salt.to_bytes(4, "big") + i.to_bytes(8, "big"))
        os.utime(path, (old, old))
    return dock.parent


def ingest_round(procs: int, files: int, tmp: Path) -> dict[str, float]:
    tmp.mkdir(parents=True, exist_ok=True)
    db, cleanup = database("postgresql", tmp)
    upgrade(db)
    url = db.url
    db.dispose()
    shm = Path(tempfile.mkdtemp(prefix="bodycam-cap-", dir="/dev/shm"))
    try:
        docks = [make_dump(tmp, files, salt=100 * procs + n) for n in range(procs)]
        env = {**os.environ, "BODYCAM_DATABASE_URL": url, "BODYCAM_STORE_URL": f"file://{shm / 'objects'}",
               "XDG_CONFIG_HOME": str(tmp / "cfg"), "BODYCAM_INGEST_WORKERS": "2"}
        subprocess.run([*BODYCAM, "init"], env=env, check=True, capture_output=True)
        cpu0, t0 = postgres_cpu_seconds(), time.perf_counter()
        running = [subprocess.Popen(["unshare", "--uts", "sh", "-c", f'hostname dock{n} && exec "$@"', "sh", *BODYCAM,
                                     "ingest", "run", str(dock), "--no-analyse", "--release", "keep", "--format",
                                     "json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                   for n, dock in enumerate(docks)]
        outs = [p.communicate() for p in running]
        seconds, cpu = time.perf_counter() - t0, postgres_cpu_seconds() - cpu0
        ingested = 0
        for (out, err), p in zip(outs, running, strict=True):
            if p.returncode != 0:
                raise SystemExit(f"ingest failed: {err.decode()[-2000:]}")
            ingested += json.loads(out)["ingested"]
        return {"procs": procs, "files": ingested, "seconds": round(seconds, 1),
                "files_per_s": round(ingested / seconds, 1), "pg_cpu_ms_per_file": round(1000 * cpu / ingested, 2),
                "files_per_s_per_pg_core": round(ingested / cpu, 1)}
    finally:
        shutil.rmtree(shm, ignore_errors=True)
        drop(cleanup)


def index_round(clips: int, officers: int, events: int, n: int, tmp: Path, reuse: str | None = None
                ) -> dict[str, object]:
    """Generate (or, with ``reuse``, measure an index an earlier run kept), then time the queries."""
    if reuse:
        base = os.environ["DATABASE_URL"]
        url = make_url(base).update_query_dict({"options": f"-csearch_path={reuse}"})
        db, cleanup = Database(url.render_as_string(hide_password=False)), None
        return _measure(db, {"clips": clips, "officers": officers, "events": events, "schema": reuse}, n)
    rng = random.Random(7)
    db, cleanup = database("postgresql", tmp)
    try:
        upgrade(db)
        out: dict[str, object] = {"clips": clips, "officers": officers, "events": events,
                                  "schema": str(cleanup[1]) if cleanup else ""}  # type: ignore[index]
        out.update(generate(db, clips, officers, cases=clips // 50))
        started = time.perf_counter()
        scenarios = ["dispatch", "stop_and_check", "on_scene_penalty", "search_and_seizure",
                     "administrative_enforcement", "major_incident"]
        for lo in range(0, events, 50_000):
            with db.engine.begin() as c:
                rows = []
                for i in range(lo, min(lo + 50_000, events)):
                    start = T0 + timedelta(seconds=rng.randrange(YEAR))
                    rows.append({"event_id": f"E{i:08d}", "scenario": rng.choice(scenarios), "start": start,
                                 "end": start + timedelta(minutes=rng.uniform(5, 60)), "location": "",
                                 "source": "bench"})
                c.execute(insert(Event), rows)
                ids = [r[0] for r in c.execute(select(Event.id).where(Event.event_id >= f"E{lo:08d}",
                                                                      Event.event_id < f"E{lo + 50_000:08d}"))]
                c.execute(insert(EventOfficer), [{"event_id": e, "officer_id": 1 + rng.randrange(officers)}
                                                 for e in ids])
        with db.engine.begin() as c:
            c.execute(text("ANALYZE"))
            sizes = c.execute(text("SELECT pg_database_size(current_database()), "
                                   "pg_total_relation_size('clips')")).one()
        out["events_generate_s"] = round(time.perf_counter() - started, 1)
        out["database_gb"], out["clips_table_gb"] = round(sizes[0] / 1e9, 2), round(sizes[1] / 1e9, 2)
        print(json.dumps(out), file=sys.stderr, flush=True)  # generation took long: its figures are kept first
        return _measure(db, out, n)
    finally:
        db.dispose()
        if not KEEP:
            drop(cleanup)


def _measure(db: Database, out: dict[str, object], n: int) -> dict[str, object]:
    clips, officers = int(out["clips"]), int(out["officers"])  # type: ignore[call-overload]
    with db.engine.begin() as c:
        sizes = c.execute(text("SELECT pg_database_size(current_database()), pg_total_relation_size('clips')")).one()
    out["database_gb"], out["clips_table_gb"] = round(sizes[0] / 1e9, 2), round(sizes[1] / 1e9, 2)
    try:
        out["queries"] = queries(db, clips, officers, clips // 50, n)
        month = (T0 + timedelta(days=120), T0 + timedelta(days=150))
        times = []
        for unit in ("U007", "U023", "U041"):
            t = time.perf_counter()
            with db.read() as s:
                report = analyse(s, Settings(), *month, units=(unit,))
            times.append(time.perf_counter() - t)
            out[f"month_{unit}_required"] = len(report.units)
        out["month_report_s"] = {"median": round(statistics.median(times), 2), "max": round(max(times), 2)}
        return out
    finally:
        db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="what", required=True)
    ing = sub.add_parser("ingest")
    ing.add_argument("--procs", type=int, nargs="+", default=[1, 2, 4])
    ing.add_argument("--files", type=int, default=300, help="files per process")
    idx = sub.add_parser("index")
    idx.add_argument("--clips", type=int, default=10_000_000)
    idx.add_argument("--officers", type=int, default=11_278)
    idx.add_argument("--events", type=int, default=1_000_000)
    idx.add_argument("--queries", type=int, default=200)
    idx.add_argument("--keep", action="store_true", help="Keep the generated schema (its name is printed) to "
                                                         "measure again with --reuse.")
    idx.add_argument("--reuse", metavar="SCHEMA", help="Measure the index a --keep run left, without generating.")
    args = ap.parse_args()
    if not os.environ.get("DATABASE_URL"):
        sys.exit("DATABASE_URL is not set (../shared/services/pg-up)")
    with tempfile.TemporaryDirectory(prefix="bodycam-capacity-") as tmp:
        if args.what == "ingest":
            result: object = [ingest_round(p, args.files, Path(tmp) / f"p{p}") for p in args.procs]
        else:
            global KEEP
            KEEP = args.keep
            result = index_round(args.clips, args.officers, args.events, args.queries, Path(tmp), args.reuse)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
