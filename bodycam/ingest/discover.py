"""Find source files: dock folders and interrogation session folders.

Symlinks are never followed (a link could lead out of the source root, or
ingest one file twice); hidden and temporary files of the dock are skipped.
Every skip is reported, never silent.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TEMP_SUFFIXES = (".tmp", ".part", ".partial", ".crdownload", ".swp", ".lock", ".filepart")
MANIFEST = "session.json"


@dataclass(frozen=True)
class SourceFile:
    path: Path
    root: Path
    camera: str | None
    size: int
    mtime_ns: int
    sidecar: Path | None = None


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str


def _skip_reason(name: str) -> str | None:
    if name.startswith("."):
        return "hidden file"
    if name.startswith("~") or name.lower().endswith(TEMP_SUFFIXES):
        return "temporary file"
    return None


def _sidecar_of(path: Path, names: set[str]) -> Path | None:
    for candidate in (path.name + ".json", path.stem + ".json"):
        if candidate in names and candidate != path.name:
            return path.with_name(candidate)
    return None


def walk_files(folder: Path, camera: str | None, root: Path) -> Iterator[SourceFile | Skipped]:
    """Every regular file below ``folder`` (sidecars ride with their media file)."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in list(dirnames):
            if (here / d).is_symlink():
                dirnames.remove(d)
                yield Skipped(here / d, "symlink (not followed)")
        names = set(filenames)
        media = [n for n in filenames if not n.lower().endswith(".json")]
        sidecars = {s for n in media if (s := _sidecar_of(here / n, names))}
        for name in sorted(filenames):
            path = here / name
            if path in sidecars or (name == MANIFEST):
                continue
            reason = _skip_reason(name)
            if reason:
                yield Skipped(path, reason)
                continue
            try:
                st = path.lstat()
            except OSError as exc:
                yield Skipped(path, f"cannot stat: {exc.strerror}")
                continue
            if stat.S_ISLNK(st.st_mode):
                yield Skipped(path, "symlink (not followed)")
                continue
            if not stat.S_ISREG(st.st_mode):
                yield Skipped(path, "not a regular file")
                continue
            yield SourceFile(path, root, camera, st.st_size, st.st_mtime_ns, _sidecar_of(path, names))


def dock_cameras(path: Path) -> list[tuple[Path, str]]:
    """(folder, camera serial) pairs: PATH is a camera folder if it holds files
    directly, otherwise a dock root with one folder per camera."""
    entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    if any(p.is_file() and not p.is_symlink() for p in entries):
        return [(path, path.name)]
    return [(p, p.name) for p in entries if p.is_dir() and not p.is_symlink()]


def session_folders(path: Path) -> list[Path]:
    """PATH is a session folder (it has session.json) or a folder of them."""
    if (path / MANIFEST).is_file():
        return [path]
    return sorted(p for p in path.iterdir() if p.is_dir() and not p.is_symlink() and not p.name.startswith("."))
