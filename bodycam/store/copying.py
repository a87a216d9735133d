"""Copy a stream into a file while hashing it, in one read of the source.

Whole chunks go to the disk with ``O_DIRECT``: they bypass the page cache, so
there is no pile of dirty pages for ``fsync`` to write back at the end and no
memory pressure on the dock host. The bytes hashed are the bytes written: both
come from the same private buffer, never from a mapping of the source that
could change in between. The tail that is not a whole block, and any filesystem
that refuses ``O_DIRECT`` (tmpfs on older kernels, some network filesystems),
go through the page cache instead; ``fsync`` makes either durable. Buffers come
from one pool per process (64 MiB), so memory does not grow with the number of
files copied at once.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import threading
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bodycam.store.base import Progress, Readable

CHUNK = 8 << 20
BUFFERS = 4
"""Buffers one copy uses when it can have them: enough to keep reader, hasher and writer busy."""
POOL_BUFFERS = 8
"""Buffers for the whole process (64 MiB), however many files are copied at once."""
ALIGN = 4096
"""Direct writes need block-aligned lengths and offsets; 4 KiB covers 512-byte and 4K disks."""


class _Writer:
    """Writes chunks in order to one descriptor, direct while it can be."""

    def __init__(self, fd: int, direct: bool) -> None:
        self.fd = fd
        self.direct = direct and _set_direct(fd, True)

    def write(self, view: memoryview) -> None:
        if self.direct and len(view) % ALIGN:
            self._buffered()
        while view:
            try:
                n = os.write(self.fd, view)
            except OSError as exc:
                if exc.errno == errno.EINVAL and self.direct:  # accepted at open, refused on write
                    self._buffered()
                    continue
                raise
            view = view[n:]
            if view and self.direct:  # a short direct write leaves an unaligned remainder
                self._buffered()

    def _buffered(self) -> None:
        _set_direct(self.fd, False)
        self.direct = False


def _set_direct(fd: int, on: bool) -> bool:
    flags = fcntl.fcntl(fd, fcntl.F_GETFL)
    want = flags | os.O_DIRECT if on else flags & ~os.O_DIRECT
    try:
        fcntl.fcntl(fd, fcntl.F_SETFL, want)
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            return False
        raise
    return on


class _BufferPool:
    """Page-aligned buffers shared by every copy in the process, so memory stays
    bounded whatever ``ingest.workers`` is. Two copies already saturate two cores
    with hashing; a third waits for buffers rather than adding memory."""

    def __init__(self, size: int) -> None:
        self._free: list[mmap.mmap] = []
        self._made = 0
        self._size = size
        self._cond = threading.Condition()

    def take(self, most: int, wait: bool) -> list[mmap.mmap]:
        """Up to ``most`` buffers that are free now; with ``wait``, at least one. A copy
        waits only while it holds none, so two copies never block each other."""
        with self._cond:
            got: list[mmap.mmap] = []
            while True:
                while len(got) < most and (self._free or self._made < self._size):
                    if self._free:
                        got.append(self._free.pop())
                    else:
                        got.append(mmap.mmap(-1, CHUNK))
                        self._made += 1
                if got or not wait:
                    return got
                self._cond.wait()

    def give(self, buffers: list[mmap.mmap]) -> None:
        """Take buffers back; their pages go back to the system, so an idle watch
        service holds none (a refill costs a few page faults per file, not per chunk)."""
        for buf in buffers:
            buf.madvise(mmap.MADV_DONTNEED)
        with self._cond:
            self._free.extend(buffers)
            self._cond.notify_all()


_pool: _BufferPool | None = None
_pool_lock = threading.Lock()


def _shared_pool() -> _BufferPool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = _BufferPool(POOL_BUFFERS)
        return _pool


def _fill(stream: Readable, buf: memoryview) -> int:
    """Fill ``buf`` unless the stream ends first, so only the last chunk is short."""
    readinto = getattr(stream, "readinto", None)
    got = 0
    while got < len(buf):
        if readinto is not None:
            n = readinto(buf[got:])
        else:
            data = stream.read(len(buf) - got)
            n = len(data)
            buf[got:got + n] = data
        if not n:
            break
        got += n
    return got


def copy_hashing(stream: Readable, fd: int, digest: Any, progress: Progress | None = None,
                 direct: bool = True) -> int:
    """Copy ``stream`` to ``fd`` (at its current offset, which must be 0 for direct
    writes) while updating ``digest``; returns the byte count.

    Three stages overlap on a ring of buffers: this thread reads, one thread
    hashes (the floor: SHA-256 runs at about 1.5 GB/s on one core) and one writes;
    hashing and writing release the GIL. A buffer is refilled only once both are
    done with it. A stream that fits in one buffer (most short clips) is copied
    here, without threads."""
    writer = _Writer(fd, direct)
    pool = _shared_pool()
    buffers = pool.take(1, wait=True)
    try:
        return _copy(stream, writer, digest, progress, pool, buffers)
    finally:
        pool.give(buffers)  # every stage is done with them: _copy waits for all before returning


def _copy(stream: Readable, writer: _Writer, digest: Any, progress: Progress | None, pool: _BufferPool,
          buffers: list[mmap.mmap]) -> int:
    first = memoryview(buffers[0])
    n = _fill(stream, first)
    if n < CHUNK:
        digest.update(first[:n])
        writer.write(first[:n])
        if progress and n:
            progress(n)
        return n
    buffers.extend(pool.take(BUFFERS - 1, wait=False))  # the caller gives these back too; one alone works
    ring = len(buffers)
    size = 0
    pending: deque[tuple[Future[None], Future[None]]] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="store-hash") as hashing, \
            ThreadPoolExecutor(1, thread_name_prefix="store-write") as writing:
        try:
            turn = 0
            while True:
                if turn:
                    if len(pending) == ring:  # the buffer about to be refilled
                        for done in pending.popleft():
                            done.result()
                    n = _fill(stream, memoryview(buffers[turn % ring]))
                if not n:
                    break
                chunk = memoryview(buffers[turn % ring])[:n]
                pending.append((hashing.submit(digest.update, chunk), writing.submit(writer.write, chunk)))
                size += n
                turn += 1
                if progress:
                    progress(n)
                if n < CHUNK:
                    break
            for pair in pending:
                for done in pair:
                    done.result()
        finally:
            for pair in pending:  # on an error, let the other stages finish with the buffers
                for done in pair:
                    done.exception()
    return size
