"""Copy a stream into a file while hashing it, in one read of the source.

Whole chunks go to the disk with ``O_DIRECT``: they bypass the page cache, so
there is no pile of dirty pages for ``fsync`` to write back at the end and no
memory pressure on the dock host. The bytes hashed are the bytes written: both
come from the same private buffer, never from a mapping of the source that
could change in between. The tail that is not a whole block, and any filesystem
that refuses ``O_DIRECT`` (tmpfs on older kernels, some network filesystems),
go through the page cache instead; ``fsync`` makes either durable.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bodycam.store.base import Progress, Readable

CHUNK = 8 << 20
BUFFERS = 4
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
    buffers = [mmap.mmap(-1, CHUNK)]  # page-aligned, as O_DIRECT needs
    first = memoryview(buffers[0])
    n = _fill(stream, first)
    if n < CHUNK:
        digest.update(first[:n])
        writer.write(first[:n])
        if progress and n:
            progress(n)
        return n
    buffers += [mmap.mmap(-1, CHUNK) for _ in range(BUFFERS - 1)]
    size = 0
    pending: deque[tuple[Future[None], Future[None]]] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="store-hash") as hashing, \
            ThreadPoolExecutor(1, thread_name_prefix="store-write") as writing:
        try:
            turn = 0
            while True:
                if turn:
                    if len(pending) == BUFFERS:  # the buffer about to be refilled
                        for done in pending.popleft():
                            done.result()
                    n = _fill(stream, memoryview(buffers[turn % BUFFERS]))
                if not n:
                    break
                chunk = memoryview(buffers[turn % BUFFERS])[:n]
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
