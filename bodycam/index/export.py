"""Verified export with a custody receipt.

Each object streams from the store into ``<out>/<name>.partial`` while it is
hashed; only a matching SHA-256 renames it into place. A mismatch removes the
partial file, is audited as an integrity failure and stops the export.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bodycam import __version__
from bodycam.audit import chain
from bodycam.db.engine import Database
from bodycam.errors import InputError, IntegrityError
from bodycam.index.evidence import get_clips
from bodycam.store import ObjectStore
from bodycam.timeutil import utcnow


@dataclass(frozen=True)
class Exported:
    clip_id: int
    path: Path
    sha256: str
    size: int
    store_key: str
    store_version: str


_UNSAFE = re.compile(r"[\x00-\x1f/\\]")


def _name(clip_id: int, source: str) -> str:
    return f"clip-{clip_id:06d}_" + (_UNSAFE.sub("_", source) or "clip")


def export(db: Database, store: ObjectStore, clip_ids: list[int], out: Path, reason: str, actor: str,
           progress: Callable[[int], None] | None = None) -> tuple[list[Exported], Path]:
    if not reason.strip():
        raise InputError("--reason: required: say why the footage leaves the system")
    with db.read() as s:
        clips = get_clips(s, clip_ids)
    disposed = [c.id for c in clips if c.disposed_at is not None]
    if disposed:
        raise InputError(f"clip {disposed[0]}: disposed under the retention policy; only its record remains")
    out.mkdir(parents=True, exist_ok=True)
    stamp = utcnow()
    receipt = out / f"custody-receipt-{stamp:%Y%m%dT%H%M%SZ}.json"
    targets = [out / _name(c.id, c.source_name) for c in clips]
    clash = next((t for t in [*targets, receipt, receipt.with_suffix(".txt")] if t.exists()), None)
    if clash is not None:
        raise InputError(f"{clash}: already exists; refusing to overwrite")
    done: list[Exported] = []
    for clip, target in zip(clips, targets, strict=True):
        partial = target.with_name(target.name + ".partial")
        digest, size = hashlib.sha256(), 0
        try:
            with store.open(clip.store_key, clip.store_version) as src, open(partial, "xb") as dst:
                while chunk := src.read(1 << 20):
                    digest.update(chunk)
                    dst.write(chunk)
                    size += len(chunk)
                    if progress:
                        progress(len(chunk))
                dst.flush()
                os.fsync(dst.fileno())
            if digest.hexdigest() != clip.sha256 or size != clip.size:
                raise IntegrityError(f"clip {clip.id}: exported bytes hash to {digest.hexdigest()} ({size} bytes), "
                                     f"recorded {clip.sha256} ({clip.size} bytes); partial file removed")
        except IntegrityError as exc:
            partial.unlink(missing_ok=True)
            _undo(done)
            with db.write() as s:
                chain.record(s, actor, "clip.integrity_failure", f"clip:{clip.id}",
                             {"during": "export", "error": str(exc), "reason": reason})
            raise
        except BaseException:
            partial.unlink(missing_ok=True)
            _undo(done)
            raise
        partial.rename(target)
        done.append(Exported(clip.id, target, clip.sha256, size, clip.store_key, clip.store_version))
    _write_receipt(receipt, done, actor, reason, stamp)
    with db.write() as s:
        for e in done:
            chain.record(s, actor, "clip.export", f"clip:{e.clip_id}",
                         {"file": str(e.path), "sha256": e.sha256, "reason": reason, "receipt": str(receipt)})
    return done, receipt


def _undo(done: list[Exported]) -> None:
    """No partial effect: an export that fails leaves no copies without a receipt."""
    for e in done:
        e.path.unlink(missing_ok=True)


def _write_receipt(path: Path, done: list[Exported], actor: str, reason: str, stamp: Any) -> None:
    data = {
        "receipt": "bodycam custody receipt", "bodycam_version": __version__, "exported_by": actor,
        "exported_at": stamp.isoformat(), "host": socket.gethostname(), "reason": reason,
        "files": [{"clip_id": e.clip_id, "file": e.path.name, "sha256": e.sha256, "size": e.size,
                   "store_key": e.store_key, "store_version": e.store_version} for e in done],
    }
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    lines = [
        "CUSTODY RECEIPT",
        f"exported by: {actor}", f"exported at: {stamp.isoformat()}", f"host:        {socket.gethostname()}",
        f"reason:      {reason}", f"files:       {len(done)}", "",
        "Each file below was read from write-once storage and its SHA-256 checked against the index",
        "at the time of export. Check a copy with: sha256sum -c SHA256SUMS", "",
    ]
    for e in done:
        lines += [f"clip {e.clip_id}: {e.path.name}", f"  sha256  {e.sha256}", f"  size    {e.size} bytes",
                  f"  object  {e.store_key} (version {e.store_version})", ""]
    path.with_suffix(".txt").write_text("\n".join(lines))
    with (path.parent / "SHA256SUMS").open("a") as sums:
        sums.write("".join(f"{e.sha256}  {e.path.name}\n" for e in done))
