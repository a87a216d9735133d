"""Moving a released source aside without ever overwriting what is already there."""

from __future__ import annotations

import errno
import os
import shutil
from pathlib import Path

MAX_TRIES = 1000


def _free_names(target: Path) -> list[Path]:
    return [target, *(target.with_name(f"{target.stem}.{n}{target.suffix}") for n in range(1, MAX_TRIES))]


def move_no_clobber(src: Path, target: Path) -> Path:
    """Move ``src`` to ``target``, or to ``stem.N.suffix`` beside it when that name is
    taken; return where it went. The name is claimed atomically (a hard link, or an
    exclusive create across filesystems), so a racing writer is never overwritten."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for candidate in _free_names(target):
        try:
            os.link(src, candidate, follow_symlinks=False)
        except FileExistsError:
            continue
        except OSError as exc:
            if exc.errno not in (errno.EXDEV, errno.EPERM, errno.ENOTSUP, errno.EMLINK):
                raise
            if not _copy_exclusive(src, candidate):
                continue
        src.unlink()
        return candidate
    raise FileExistsError(errno.EEXIST, f"no free name for {target.name} after {MAX_TRIES} tries", str(target))


def _copy_exclusive(src: Path, candidate: Path) -> bool:
    """Copy to a name nobody has (False when it is taken), fsynced before the source goes."""
    try:
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        with open(src, "rb") as fin, os.fdopen(fd, "wb") as fout:
            shutil.copyfileobj(fin, fout, 8 << 20)
            fout.flush()
            os.fsync(fout.fileno())
    except BaseException:
        candidate.unlink(missing_ok=True)
        raise
    shutil.copystat(src, candidate)
    return True
