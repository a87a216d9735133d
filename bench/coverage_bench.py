"""The coverage report at scale: 100,000 events against 1,000,000 clips.

Target: under 10 s on 2 cores and under 2 GB. Reuses the search benchmark's index
generator, adds events (one officer each, 5–60 minutes, over the same year), then
times bodycam.coverage.engine.analyse over the whole year and reads the process's
peak memory (VmHWM).

    python bench/coverage_bench.py --db sqlite
    python bench/coverage_bench.py --db postgresql
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import insert, select

sys.path.insert(0, str(Path(__file__).parent))
from retention_bench import database, drop
from search_bench import T0, YEAR, generate

from bodycam.config import Settings
from bodycam.coverage.engine import analyse
from bodycam.db.models import Event, EventOfficer
from bodycam.db.schema import upgrade


def hwm_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=1_000_000)
    ap.add_argument("--events", type=int, default=100_000)
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    args = ap.parse_args()
    rng = random.Random(5)
    with tempfile.TemporaryDirectory(prefix="bodycam-cov-") as tmp:
        db, cleanup = database(args.db, Path(tmp))
        upgrade(db)
        gen = generate(db, args.clips, 2000, 20_000)
        scenarios = ["dispatch", "stop_and_check", "on_scene_penalty", "search_and_seizure",
                     "administrative_enforcement", "major_incident"]
        with db.engine.begin() as c:
            rows = []
            for i in range(args.events):
                start = T0 + timedelta(seconds=rng.randrange(YEAR))
                rows.append({"event_id": f"E{i:07d}", "scenario": rng.choice(scenarios), "start": start,
                             "end": start + timedelta(minutes=rng.uniform(5, 60)), "location": "", "source": "bench"})
            c.execute(insert(Event), rows)
            ids = [r[0] for r in c.execute(select(Event.id))]
            c.execute(insert(EventOfficer), [{"event_id": e, "officer_id": 1 + rng.randrange(2000)} for e in ids])
        before = hwm_mb()
        started = time.perf_counter()
        with db.read() as s:
            report = analyse(s, Settings(), T0, T0 + timedelta(seconds=YEAR))
        took = time.perf_counter() - started
        summary = report.summary("officer")
        out = {"db": args.db, "clips": args.clips, "events": args.events, **gen, "report_s": round(took, 2),
               "peak_rss_mb": round(hwm_mb(), 1), "rss_before_mb": round(before, 1),
               "required_recordings": len(report.units), "findings": len(report.findings),
               "officers": len(summary)}
        db.dispose()
        drop(cleanup)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
