"""Ingest throughput of one large file, against the tools an operator would compare with.

Local store: `bodycam ingest run` (SQLite + file store) vs the slower of
`openssl dgst -sha256` and `cp` of the same file. S3: `bodycam ingest run`
(PostgreSQL + Ceph RGW) vs `rclone copy` of the same file to the same endpoint.
All in one run, medians of --repeat runs, ratios of throughput (reference time /
bodycam time). Peak RSS of the bodycam process is reported too.

    python bench/ingest_throughput.py --size-mb 2048 --repeat 3
(S3 part needs S3_ENDPOINT/S3_ACCESS_KEY/S3_SECRET_KEY and DATABASE_URL, as the
shared pg-up and s3-up print.)
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import Run, drop_env, make_big_file, median, remove_local_store, timed

BODYCAM = [sys.executable, "-m", "bodycam"]


def ingest_once(work: Path, big: Path, env: dict[str, str]) -> Run:
    """A fresh dock holding the file (hard link: no copy) and a fresh instance."""
    run = work / uuid.uuid4().hex[:8]
    dock = run / "dock" / "CAM-BENCH"
    dock.mkdir(parents=True)
    os.link(big, dock / f"CAM-BENCH_P1_{time.strftime('%Y%m%d%H%M%S')}.bin")
    old = time.time() - 600
    os.utime(dock / os.listdir(dock)[0], (old, old))
    timed([*BODYCAM, "init"], env)
    result = timed([*BODYCAM, "ingest", "run", str(run / "dock")], env)
    shutil.rmtree(run / "dock")
    return result


def local(work: Path, big: Path, repeat: int) -> dict[str, object]:
    ssd = work / "local"
    ssd.mkdir()
    refs_sha, refs_cp, ours, rss = [], [], [], []
    for i in range(repeat):  # alternate the order: the page cache favours whoever runs second
        env = drop_env()
        env.update(BODYCAM_DATABASE_URL=f"sqlite:///{ssd / f'db{i}.sqlite'}", BODYCAM_STORE_URL=f"file://{ssd}/o{i}",
                   XDG_CONFIG_HOME=str(ssd))
        dest = ssd / f"cp-{i}"

        def references(dest: Path = dest) -> None:
            refs_sha.append(timed(["openssl", "dgst", "-sha256", str(big)]).seconds)
            refs_cp.append(timed(["sh", "-c", f"cp '{big}' '{dest}' && sync '{dest}'"]).seconds)
            dest.unlink()

        def ours_once(env: dict[str, str] = env, i: int = i) -> None:
            r = ingest_once(ssd, big, env)
            ours.append(r.seconds)
            rss.append(r.peak_rss_mb)
            remove_local_store(ssd / f"o{i}")

        for step in ((references, ours_once) if i % 2 == 0 else (ours_once, references)):
            step()
    ref = max(median(refs_sha), median(refs_cp))
    return {"openssl_sha256_s": median(refs_sha), "cp_s": median(refs_cp), "bodycam_s": median(ours),
            "ratio_vs_slower_reference": round(ref / median(ours), 3), "peak_rss_mb": max(rss),
            "runs": {"openssl": refs_sha, "cp": refs_cp, "bodycam": ours}}


def s3(work: Path, big: Path, repeat: int) -> dict[str, object]:
    endpoint, key, secret = os.environ["S3_ENDPOINT"], os.environ["S3_ACCESS_KEY"], os.environ["S3_SECRET_KEY"]
    bucket = f"bench-{uuid.uuid4().hex[:8]}"
    rclone_env = drop_env()
    rclone_env.pop("AWS_CA_BUNDLE", None)  # rclone's AWS SDK refuses a CA bundle with its own transport
    rclone_env.update(RCLONE_CONFIG_CEPH_TYPE="s3", RCLONE_CONFIG_CEPH_PROVIDER="Ceph",
                      RCLONE_CONFIG_CEPH_ENDPOINT=endpoint, RCLONE_CONFIG_CEPH_ACCESS_KEY_ID=key,
                      RCLONE_CONFIG_CEPH_SECRET_ACCESS_KEY=secret, RCLONE_CONFIG_CEPH_REGION="default")
    refs, ours, rss = [], [], []
    base = drop_env()
    base.update(BODYCAM_STORE_URL=f"s3://{bucket}", BODYCAM_STORE_ENDPOINT=endpoint, BODYCAM_STORE_ACCESS_KEY=key,
                BODYCAM_STORE_SECRET_KEY=secret, BODYCAM_STORE_REGION=os.environ.get("S3_REGION", "default"),
                XDG_CONFIG_HOME=str(work))
    from sqlalchemy import create_engine, text

    admin = create_engine(os.environ["DATABASE_URL"])
    # bodycam creates the bucket with Object Lock; rclone then writes into the same bucket
    timed([*BODYCAM, "init"], {**base, "BODYCAM_DATABASE_URL": f"sqlite:///{work / 'init.sqlite'}"})
    for i in range(repeat):
        refs.append(timed(["rclone", "copyto", str(big), f"ceph:{bucket}/rclone/{i}.bin"], rclone_env).seconds)
        schema = f"bench_{uuid.uuid4().hex[:8]}"
        with admin.begin() as c:
            c.execute(text(f"CREATE SCHEMA {schema}"))
        from sqlalchemy.engine import make_url

        url = make_url(os.environ["DATABASE_URL"]).update_query_dict({"options": f"-csearch_path={schema}"})
        env = {**base, "BODYCAM_DATABASE_URL": url.render_as_string(hide_password=False)}
        r = ingest_once(work, big, env)
        ours.append(r.seconds)
        rss.append(r.peak_rss_mb)
        with admin.begin() as c:
            c.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    return {"rclone_s": median(refs), "bodycam_s": median(ours), "ratio_vs_rclone": round(median(refs) /
            median(ours), 3), "peak_rss_mb": max(rss), "runs": {"rclone": refs, "bodycam": ours}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mb", type=int, default=2048)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["local", "s3"])
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bodycam-bench-", dir=os.environ.get("BENCH_DIR", "/tmp")) as tmp:
        work = Path(tmp)
        big = make_big_file(work / "big.bin", args.size_mb << 20)
        out: dict[str, object] = {"size_mb": args.size_mb, "repeat": args.repeat, "cores": os.cpu_count()}
        if args.only in (None, "local"):
            out["local"] = local(work, big, args.repeat)
        if args.only in (None, "s3"):
            out["s3"] = s3(work, big, args.repeat)
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
