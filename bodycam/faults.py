"""Fail points for the crash tests: ``BODYCAM_FAILPOINT=name:N`` kills the process
with SIGKILL the N-th time it passes the point ``name``. Unset, they cost a dict
look-up; they never change behaviour otherwise."""

from __future__ import annotations

import os
import signal
import threading

_counts: dict[str, int] = {}
_lock = threading.Lock()


def point(name: str) -> None:
    spec = os.environ.get("BODYCAM_FAILPOINT")
    if not spec:
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    with _lock:
        _counts[name] = _counts.get(name, 0) + 1
        hit = _counts[name] == int(nth or 1)
    if hit:
        os.kill(os.getpid(), signal.SIGKILL)
