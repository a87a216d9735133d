"""Helpers shared by the benchmarks: timing children with their peak memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float


def timed(cmd: Sequence[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Run:
    """Run a command; wall time and the child's peak resident memory (wait4 rusage)."""
    started = time.perf_counter()
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    err = proc.stderr.read().decode() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}): {err[-2000:]}")
    return Run(elapsed, usage.ru_maxrss / 1024)


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
