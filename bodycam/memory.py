"""Keep the process's memory at what it uses, not at what it once used.

glibc serves big allocations with mmap and gives them back on free, but it raises
that threshold after each big free. Later 16 MiB upload parts then come from
per-thread heaps that keep the memory after use: four workers uploading large
files reached 266 MB resident for 64 MiB of live parts. Pinning the threshold
makes freed parts go back to the system (136 MB in the same run).
"""

from __future__ import annotations

import contextlib
import ctypes

M_MMAP_THRESHOLD = -3
THRESHOLD = 1 << 20


def return_big_buffers() -> None:
    """Pin glibc's mmap threshold at 1 MiB; a no-op on a C library without mallopt."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, THRESHOLD)
