"""Incidents at a city's scale: the dispatch import with its linking, the ingest pass's linking, the
whole-history relink, and the queues (issue 18).

A city like Hangzhou (2016): 11,278 officers with a camera each in 50 units, about 27,400 clips a
day (10,000,000 a year) and 8,000 calls for service a day, 1.5 officers on a call. Generated
straight into a fresh database for ``--days`` days: the incidents of every day but the last, and
clips, 70 % of officers on a call recording it (started between 3 minutes before their dispatch
and 10 after), the rest at random. Then, timed through the library functions the CLI calls:

- ``relink``: the rule over every incident of the history, a day per transaction (`bodycam incidents relink`);
- ``import``: the last day's export, an Axon-shaped CSV read with `preset = "axon"`, with its links
  (`bodycam incidents import`), median of --runs (each in its own schema or file);
- ``pass``: the linking after an ingest pass of 50 clips (p50/p95; each rolled back);
- ``queue``: `incidents queue` for a unit's week and the whole city's week, and the month summary
  a unit's and the city's coverage report carry (each the median of three), and as the reference the
  month's clip rows fetched by the driver and nothing else (what any summary of every clip must read).

    python bench/incidents_bench.py --db postgresql            # needs DATABASE_URL
    python bench/incidents_bench.py --db sqlite --officers 1000 --clips-per-day 2430 --incidents-per-day 710
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).parent))
from retention_bench import database, drop

from bodycam.clock import ManualClock
from bodycam.config import IncidentSettings, Settings
from bodycam.db.engine import Database
from bodycam.db.models import Clip, Incident, IncidentLink, IncidentOfficer, Officer, Unit
from bodycam.db.schema import upgrade
from bodycam.incidents import imports, linking, queues

T0 = datetime(2026, 3, 1, tzinfo=UTC)
DAY = 86400
SETTINGS = Settings(incidents=IncidentSettings(preset="axon", types={"DOMESTIC": "dispatch"}))
TYPES = ["DOMESTIC", "THEFT", "TRAFFIC", "NOISE", "DISPUTE", "WELFARE"]


def _windows(rng: random.Random, officers: int, days: int, per_day: int) -> list[tuple[str, str, int, datetime,
                                                                                        datetime]]:
    """(incident id, type, officer index, dispatched, cleared), day by day."""
    out = []
    n = 0
    for day in range(days):
        for _ in range(per_day):
            dispatched = T0 + timedelta(seconds=day * DAY + rng.randrange(DAY))
            crew = rng.sample(range(officers), 2 if rng.random() < 0.5 else 1)
            kind = rng.choice(TYPES)
            for o in crew:
                d = dispatched + timedelta(seconds=rng.randrange(120))
                out.append((f"JQ{n:09d}", kind, o, d, d + timedelta(minutes=rng.uniform(10, 90))))
            n += 1
    return out


def generate(db: Database, officers: int, days: int, clips_per_day: int, incidents_per_day: int,
             tmp: Path) -> tuple[dict[str, Any], Path]:
    """The registries, the history's incidents, every day's clips; the last day's export as a CSV."""
    rng = random.Random(18)
    started = time.perf_counter()
    windows = _windows(rng, officers, days, incidents_per_day)
    last = T0 + timedelta(days=days - 1)
    with db.engine.begin() as c:
        c.execute(insert(Unit), [{"code": f"U{u:03d}", "name": ""} for u in range(50)])
        c.execute(insert(Officer), [{"badge": f"P{o:06d}", "name": "", "unit_id": 1 + o % 50}
                                    for o in range(officers)])
    clips = [(o, d + timedelta(seconds=rng.uniform(-180, 600))) for _, _, o, d, _ in windows if rng.random() < 0.7]
    clips += [(rng.randrange(officers), T0 + timedelta(seconds=rng.randrange(days * DAY)))
              for _ in range(max(0, days * clips_per_day - len(clips)))]
    rng.shuffle(clips)
    for lo in range(0, len(clips), 20_000):
        rows = []
        for i, (o, start) in enumerate(clips[lo:lo + 20_000], lo):
            dur = rng.uniform(60, 1800)
            rows.append({
                "sha256": f"{rng.getrandbits(256):064x}", "size": int(dur * 750_000), "store_key": f"clips/{i}",
                "store_version": "v1", "etag": "", "kind": "dock", "device_id": None, "officer_id": o + 1,
                "device_serial": f"DSJ-{o:06d}", "officer_badge": f"P{o:06d}", "recorded_start": start,
                "recorded_end": start + timedelta(seconds=dur), "time_source": "filename",
                "duration_seconds": dur, "media": {}, "discontinuities": [], "source_name": f"f{i}.mp4",
                "source_path": "", "source_host": "", "uploaded_at": start + timedelta(hours=8),
                "retain_until": start + timedelta(days=183)})
        with db.engine.begin() as c:
            c.execute(insert(Clip), rows)
    history = [w for w in windows if w[3] < last]
    by_incident: dict[str, list[tuple[str, str, int, datetime, datetime]]] = {}
    for w in history:
        by_incident.setdefault(w[0], []).append(w)
    items = list(by_incident.items())
    for lo in range(0, len(items), 20_000):
        chunk = items[lo:lo + 20_000]
        with db.engine.begin() as c:
            c.execute(insert(Incident), [{
                "incident_id": key, "type": ws[0][1], "scenario": "dispatch" if ws[0][1] == "DOMESTIC" else None,
                "start": min(w[3] for w in ws), "end": max(w[4] for w in ws), "location": "",
                "imported_at": ws[0][3] + timedelta(days=1)} for key, ws in chunk])
            pk = dict(c.execute(select(Incident.incident_id, Incident.id)
                                .where(Incident.incident_id.in_([key for key, _ in chunk]))).all())
            c.execute(insert(IncidentOfficer), [{"incident_id": pk[w[0]], "officer_id": w[2] + 1,
                                                 "dispatched_at": w[3], "cleared_at": w[4]}
                                                for _, ws in chunk for w in ws])
        with db.engine.begin() as c:
            c.execute(text("ANALYZE"))
    export = tmp / "cad-last-day.csv"
    with export.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["Event ID", "Officer Badge ID", "Officer Dispatched DateTime", "Officer Cleared DateTime",
                      "Call type", "Priority"])
        for key, kind, o, d, cleared in windows:
            if d >= last:
                out.writerow([key, f"P{o:06d}", f"{d:%Y-%m-%dT%H:%M:%S}Z", f"{cleared:%Y-%m-%dT%H:%M:%S}Z", kind, 2])
    return ({"clips": len(clips), "history_incidents": len(by_incident), "history_officer_windows": len(history),
             "export_rows": sum(1 for w in windows if w[3] >= last),
             "generate_s": round(time.perf_counter() - started, 1)}, export)


def timed(fn: Callable[..., Any], *args: Any) -> tuple[float, Any]:
    t = time.perf_counter()
    result = fn(*args)
    return time.perf_counter() - t, result


def _relink(db: Database) -> int:
    return linking.relink(db, SETTINGS.incidents, db.identity(), T0 + timedelta(days=60))


def _pass_linking(db: Database, rng: random.Random, n: int) -> dict[str, float]:
    """The rule over an ingest pass's 50 clips, rolled back so every run links the same."""
    top = int(db.engine.connect().execute(select(func.max(Clip.id))).scalar_one())
    times = []
    for _ in range(n):
        ids = [rng.randrange(1, top + 1) for _ in range(50)]
        with Session(db.engine) as s:
            t = time.perf_counter()
            linking.link(s, SETTINGS.incidents, db.identity(), T0 + timedelta(days=60), clips=ids)
            s.flush()
            times.append((time.perf_counter() - t) * 1000)
            s.rollback()
    times.sort()
    return {"p50_ms": round(statistics.median(times), 1), "p95_ms": round(times[int(0.95 * (n - 1))], 1)}


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"db": args.db, "officers": args.officers, "days": args.days}
    imports_s = []
    for r in range(args.runs):
        (tmp / f"r{r}").mkdir(exist_ok=True)
        db, cleanup = database(args.db, tmp / f"r{r}")
        try:
            upgrade(db)
            facts, export = generate(db, args.officers, args.days, args.clips_per_day, args.incidents_per_day,
                                     tmp / f"r{r}")
            relink_s, links = timed(_relink, db)
            took, summary = timed(imports.import_file, db, export, SETTINGS, db.identity(),
                                  ManualClock(T0 + timedelta(days=args.days + 1)))
            imports_s.append(took)
            if r:
                continue
            out.update(facts)
            out["relink"] = {"seconds": round(relink_s, 1), "links": links}
            out["import_last_day"] = {"incidents": summary.incidents, "links": len(summary.links)}
            out["pass_linking_50_clips"] = _pass_linking(db, random.Random(3), args.queries)
            week = (T0 + timedelta(days=args.days - 7), T0 + timedelta(days=args.days))
            month = (T0, T0 + timedelta(days=args.days))
            for name, fn, period, unit in (("queue_unit_week", _queue, week, "U007"),
                                           ("queue_city_week", _queue, week, None),
                                           ("report_links_unit_month", _summary, month, "U007"),
                                           ("report_links_city_month", _summary, month, None)):
                times = [timed(fn, db, period, unit) for _ in range(3)]
                took_s = sorted(x for x, _ in times)
                out[name] = {"median_s": round(took_s[1], 2), "runs": [round(x, 2) for x, _ in times],
                             **_shape(times[0][1])}
            times = sorted(timed(_read_rows, db, month)[0] for _ in range(3))
            out["reference_read_month_rows_s"] = round(times[1], 2)
            out["city_month_over_reference"] = round(out["report_links_city_month"]["median_s"] / times[1], 2)
            with db.read() as s:
                out["links_total"] = s.scalar(select(func.count()).select_from(IncidentLink))
        finally:
            db.dispose()
            drop(cleanup)
    out["import_s"] = {"median": round(statistics.median(imports_s), 1), "runs": [round(x, 1) for x in imports_s]}
    return out


def _queue(db: Database, period: tuple[datetime, datetime], unit: str | None) -> queues.Queues:
    with db.read() as s:
        return queues.build(s, *period, unit)


def _summary(db: Database, period: tuple[datetime, datetime], unit: str | None) -> dict[str, Any]:
    with db.read() as s:
        return queues.summary(s, *period, (unit,) if unit else ())


def _read_rows(db: Database, period: tuple[datetime, datetime]) -> int:
    """The reference: the month's clip rows the summary reads, fetched by the driver and nothing else."""
    with db.engine.connect() as c:
        return len(c.execute(select(Clip.id, Clip.officer_badge, Clip.device_serial, Clip.device_id, Clip.session_id,
                                    Clip.recorded_start, Clip.recorded_end)
                             .where(Clip.disposed_at.is_(None), Clip.recorded_start >= period[0],
                                    Clip.recorded_start < period[1]).order_by(Clip.recorded_start, Clip.id)).all())


def _shape(result: Any) -> dict[str, Any]:
    if isinstance(result, dict):
        return {"clips": result["clips"], "link_rate": result["link_rate"], "unlinked": result["unlinked_clips"],
                "without_footage": result["incidents_without_footage"]}
    return {"clips": result.clips, "link_rate": result.link_rate, "unlinked": len(result.unlinked_clips),
            "without_footage": len(result.incidents_without_footage)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["postgresql", "sqlite"], default="postgresql")
    ap.add_argument("--officers", type=int, default=11_278)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--clips-per-day", type=int, default=27_400)
    ap.add_argument("--incidents-per-day", type=int, default=8_000)
    ap.add_argument("--runs", type=int, default=3, help="imports of the last day, each on a fresh copy")
    ap.add_argument("--queries", type=int, default=40, help="ingest-pass linkings timed")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bodycam-incidents-") as tmp:
        print(json.dumps(run(args, Path(tmp)), indent=2, default=str))


if __name__ == "__main__":
    main()
