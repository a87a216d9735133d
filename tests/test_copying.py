"""Copy-while-hashing: what lands on disk is every byte of the source, and the
hash is the hash of those bytes, whatever the stream and the descriptor do."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import socket
import threading
from pathlib import Path

import pytest

from bodycam.store.copying import ALIGN, CHUNK, copy_hashing


def blob(n: int) -> bytes:
    return (hashlib.sha256(str(n).encode()).digest() * (n // 32 + 1))[:n]


class Trickle:
    """A stream with no readinto that hands out odd-sized pieces, like a pipe or socket."""

    def __init__(self, data: bytes, piece: int = 65_537) -> None:
        self.src, self.piece = io.BytesIO(data), piece

    def read(self, n: int = -1) -> bytes:
        return self.src.read(min(n, self.piece) if n >= 0 else self.piece)


def copy_to_file(tmp_path: Path, stream: object) -> tuple[bytes, str, int]:
    target = tmp_path / "out.data"
    digest = hashlib.sha256()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        size = copy_hashing(stream, fd, digest)  # type: ignore[arg-type]
        os.fsync(fd)
    finally:
        os.close(fd)
    return target.read_bytes(), digest.hexdigest(), size


@pytest.mark.parametrize("size", [0, 1, ALIGN, CHUNK, 2 * CHUNK + 12_345, 3 * CHUNK - 1])
def test_every_byte_lands_and_is_hashed(tmp_path: Path, size: int) -> None:
    """Whole chunks go direct, the unaligned tail through the page cache; sizes on and
    around the boundaries."""
    data = blob(size)
    stored, sha, n = copy_to_file(tmp_path, io.BufferedReader(io.BytesIO(data)))
    assert (n, sha) == (size, hashlib.sha256(data).hexdigest())
    assert stored == data


def test_short_reads_are_gathered_into_whole_chunks(tmp_path: Path) -> None:
    data = blob(2 * CHUNK + 777)
    stored, sha, _ = copy_to_file(tmp_path, Trickle(data))
    assert stored == data
    assert sha == hashlib.sha256(data).hexdigest()


def test_descriptor_that_refuses_direct_io_gets_every_byte() -> None:
    """A socket refuses O_DIRECT (as some filesystems do); the copy falls back to
    ordinary writes."""
    data = blob(CHUNK + 4099)
    ours, theirs = socket.socketpair()
    received = bytearray()

    def drain() -> None:
        while chunk := theirs.recv(1 << 20):
            received.extend(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    digest = hashlib.sha256()
    try:
        assert copy_hashing(io.BytesIO(data), ours.fileno(), digest) == len(data)
    finally:
        ours.shutdown(socket.SHUT_WR)
        reader.join()
        ours.close()
        theirs.close()
    assert bytes(received) == data
    assert digest.hexdigest() == hashlib.sha256(data).hexdigest()


def test_a_full_disk_is_an_error_not_a_short_copy() -> None:
    fd = os.open("/dev/full", os.O_WRONLY)
    try:
        with pytest.raises(OSError) as raised:
            copy_hashing(io.BytesIO(blob(CHUNK + 1)), fd, hashlib.sha256())
    finally:
        os.close(fd)
    assert raised.value.errno == errno.ENOSPC


def test_a_failing_source_is_an_error(tmp_path: Path) -> None:
    class Broken(io.RawIOBase):
        def __init__(self) -> None:
            self.left = CHUNK + 10

        def readable(self) -> bool:
            return True

        def readinto(self, buf: memoryview) -> int:  # type: ignore[override]
            if self.left <= 0:
                raise OSError(errno.EIO, "Input/output error")
            n = min(len(buf), self.left, 1 << 20)
            buf[:n] = b"x" * n
            self.left -= n
            return n

    with pytest.raises(OSError, match="Input/output error"):
        copy_to_file(tmp_path, Broken())


def test_concurrent_copies_share_a_small_pool_without_deadlock(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Memory is bounded for the whole process: six copies at once through a pool of two
    buffers all finish, byte for byte, and never more than two buffers exist."""
    from bodycam.store import copying

    pool = copying._BufferPool(2)
    monkeypatch.setattr(copying, "_pool", pool)
    datas = [blob(2 * CHUNK + 1000 * n + 1) for n in range(6)]
    errors: list[BaseException] = []

    def one(n: int) -> None:
        try:
            target = tmp_path / f"out{n}"
            digest = hashlib.sha256()
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                copy_hashing(io.BytesIO(datas[n]), fd, digest)
            finally:
                os.close(fd)
            assert target.read_bytes() == datas[n]
            assert digest.hexdigest() == hashlib.sha256(datas[n]).hexdigest()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a copy never finished"
    assert errors == []
    assert pool._made <= 2 and len(pool._free) == pool._made
