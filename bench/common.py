"""Helpers shared by the benchmarks: timing children with their peak memory."""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float


def hwm_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def timed(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run a command; wall time and its peak resident memory.

    Peak memory is the process's own high-water mark (VmHWM), polled: rusage's
    ru_maxrss would count the parent's pages copied at fork time.
    """
    os.sync()  # start every measurement without another run's dirty pages to write back
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        peak = 0.0
        while proc.poll() is None:
            peak = max(peak, hwm_mb(proc.pid))
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err.read().decode()[-2000:]}")
    return Run(elapsed, peak)


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def drop_env(prefix: str = "BODYCAM_") -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(prefix)}


def make_big_file(path: Path, size: int) -> Path:
    """Incompressible bytes: a random 64 MiB block, varied per block so no two are equal."""
    if path.exists() and path.stat().st_size == size:
        return path
    block = os.urandom(64 << 20)
    with open(path, "wb") as fh:
        written = 0
        n = 0
        while written < size:
            chunk = (n.to_bytes(8, "little") + block[8:])[: size - written]
            fh.write(chunk)
            written += len(chunk)
            n += 1
    return path


def s3_store_env(bucket: str) -> dict[str, str]:
    """BODYCAM_STORE_* for a bucket on the S3 endpoint that the shared s3-up prints."""
    return {"BODYCAM_STORE_URL": f"s3://{bucket}", "BODYCAM_STORE_ENDPOINT": os.environ["S3_ENDPOINT"],
            "BODYCAM_STORE_ACCESS_KEY": os.environ["S3_ACCESS_KEY"],
            "BODYCAM_STORE_SECRET_KEY": os.environ["S3_SECRET_KEY"],
            "BODYCAM_STORE_REGION": os.environ.get("S3_REGION", "default")}


def remove_local_store(path: Path) -> None:
    """Delete a benchmark's local store, whose files bodycam made read-only."""
    for p in path.rglob("*"):
        p.chmod(0o700 if p.is_dir() else 0o600)
    shutil.rmtree(path, ignore_errors=True)
