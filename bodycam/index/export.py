"""Verified export with a custody receipt a defence lawyer cannot pick apart.

Everything is written into a hidden folder inside ``--out`` and renamed into
place (``custody-<time>``) only once every copy matched and the receipt is
written: a killed or failed export leaves no folder that looks complete. The
audit log has ``export.started`` before any byte is copied and
``export.completed`` (with the receipt's own SHA-256) or ``export.failed``
after. Before copying, each clip's index row is checked against its
``clip.ingest`` audit event; each copy's SHA-256 against the index.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bodycam import __version__, faults
from bodycam.audit import chain
from bodycam.audit.records import ingest_events, row_vs_event
from bodycam.clock import Clock, SystemClock
from bodycam.db.engine import Database
from bodycam.db.models import Case, CaseClip, Clip
from bodycam.errors import ApprovalRequired, BodycamError, InputError, IntegrityError, NotFound, StoreError
from bodycam.index import approvals
from bodycam.index.evidence import get_clips
from bodycam.store import ObjectStore
from bodycam.text import one_line


@dataclass(frozen=True)
class Exported:
    clip_id: int
    path: Path
    sha256: str
    size: int
    store_key: str
    store_version: str
    facts: dict[str, Any]


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def _name(clip_id: int, source: str) -> str:
    return f"clip-{clip_id:06d}_" + (_UNSAFE.sub("_", source) or "clip")


def _facts(clip: Clip, cases: list[str]) -> dict[str, Any]:
    return {"officer": clip.officer_badge or None, "device": clip.device_serial or None, "cases": cases,
            "recorded_start": clip.recorded_start.isoformat() if clip.recorded_start else None,
            "recorded_end": clip.recorded_end.isoformat() if clip.recorded_end else None,
            "time_source": clip.time_source}


def _final_folder(out: Path, stamp: datetime) -> Path:
    base = out / f"custody-{stamp:%Y%m%dT%H%M%SZ}"
    return next(p for p in (base, *(base.with_name(f"{base.name}-{n}") for n in range(2, 10_000)))
                if not p.exists())


def export(db: Database, store: ObjectStore, clip_ids: list[int], out: Path, reason: str, actor: str,
           progress: Callable[[int], None] | None = None, *, recipient: str | None = None,
           clock: Clock | None = None, approval: int | None = None, approval_required: bool = False,
           identity: str | None = None, case: str | None = None) -> tuple[list[Exported], Path]:
    """Copy the clips out and write the receipt; return the copies and the receipt's path.
    With ``approval``, the approved request must name exactly these clips; it is spent on this export.
    ``case``: a case's disclosure (its linked clips), named on the receipt."""
    if approval_required and approval is None:
        raise ApprovalRequired("export.approval is required: request it (`bodycam exports request`), have a "
                               "supervisor approve it, then export with --approval ID; nothing exported")
    reason = one_line(reason, "--reason")
    recipient = one_line(recipient, "--recipient") if recipient is not None else None
    clock = clock or SystemClock()
    with db.read() as s:
        clips = get_clips(s, clip_ids)
        events = ingest_events(s, [c.id for c in clips])
        linked: dict[int, list[str]] = {c.id: [] for c in clips}
        for clip_id, number in s.execute(select(CaseClip.clip_id, Case.number).join(Case, Case.id == CaseClip.case_id)
                                         .where(CaseClip.clip_id.in_(clip_ids), CaseClip.unlinked_at.is_(None))):
            linked[clip_id].append(number)
    disposed = [c.id for c in clips if c.disposed_at is not None]
    if disposed:
        raise InputError(f"clip {disposed[0]}: disposed under the retention policy; only its record remains")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"--out {out}: cannot create: {exc.strerror or exc}") from None
    stamp = clock.now()
    export_id = uuid.uuid4().hex[:12]
    work = out / f".custody-{export_id}.partial"
    with db.write() as s:
        if approval is not None:
            approvals.use(s, identity or actor, approval, clip_ids, export_id, stamp)
        chain.record(s, actor, "export.started", f"export:{export_id}", {
            "clips": [c.id for c in clips], "reason": reason, "recipient": recipient, "out": str(out),
            "approval": approval, **({"case": case} if case else {})})
    try:
        for clip in clips:
            problems = row_vs_event(clip, events.get(clip.id))
            if problems:
                raise IntegrityError(f"{problems[0]}; not exported")
        work.mkdir()
        done = [_copy(store, clip, work, _facts(clip, linked[clip.id]), progress) for clip in clips]
        receipt_sha = _write_receipt(work, done, actor, reason, recipient, stamp, export_id, case)
        final = _final_folder(out, stamp)
        os.rename(work, final)
    except BaseException as exc:
        shutil.rmtree(work, ignore_errors=True)
        _record_failure(db, actor, export_id, clips, exc, reason)
        if isinstance(exc, OSError):
            raise StoreError(f"export to {out}: {exc.strerror or exc}; nothing exported") from None
        raise
    receipt = final / "custody-receipt.json"
    with db.write() as s:
        chain.record_many(s, actor, [*(("clip.export", f"clip:{e.clip_id}", {
            "file": str(final / e.path.name), "sha256": e.sha256, "reason": reason, "recipient": recipient,
            "export": export_id}) for e in done), ("export.completed", f"export:{export_id}", {
                "folder": str(final), "receipt_sha256": receipt_sha, "clips": [e.clip_id for e in done]})])
    return [Exported(e.clip_id, final / e.path.name, e.sha256, e.size, e.store_key, e.store_version, e.facts)
            for e in done], receipt


def _record_failure(db: Database, actor: str, export_id: str, clips: list[Clip], exc: BaseException,
                    reason: str) -> None:
    """Say in the audit log that the export did not complete (and, for a mismatch, which clip)."""
    entries: list[tuple[str, str, dict[str, Any]]] = []
    if isinstance(exc, IntegrityError):
        failed = next((c.id for c in clips if f"clip {c.id}:" in str(exc)), None)
        if failed is not None:
            entries.append(("clip.integrity_failure", f"clip:{failed}",
                            {"during": "export", "error": str(exc), "reason": reason}))
    entries.insert(0, ("export.failed", f"export:{export_id}", {"error": str(exc) or type(exc).__name__}))
    try:
        with db.write() as s:
            chain.record_many(s, actor, entries)
    except BodycamError:
        pass


def _copy(store: ObjectStore, clip: Clip, work: Path, facts: dict[str, Any],
          progress: Callable[[int], None] | None) -> Exported:
    target = work / _name(clip.id, clip.source_name)
    digest, size = hashlib.sha256(), 0
    with store.open(clip.store_key, clip.store_version) as src, open(target, "xb") as dst:
        while chunk := src.read(1 << 20):
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
            if progress:
                progress(len(chunk))
            faults.point("export_copy")
        dst.flush()
        os.fsync(dst.fileno())
    if digest.hexdigest() != clip.sha256 or size != clip.size:
        raise IntegrityError(f"clip {clip.id}: exported bytes hash to {digest.hexdigest()} ({size} bytes), "
                             f"recorded {clip.sha256} ({clip.size} bytes); nothing exported")
    return Exported(clip.id, target, clip.sha256, size, clip.store_key, clip.store_version, facts)


def _write_receipt(work: Path, done: list[Exported], actor: str, reason: str, recipient: str | None,
                   stamp: datetime, export_id: str, case: str | None = None) -> str:
    """Write the receipt (JSON and text) and SHA256SUMS; return the JSON receipt's SHA-256."""
    data = {
        "receipt": "bodycam custody receipt", "export_id": export_id, "bodycam_version": __version__,
        "exported_by": actor, "exported_at": stamp.isoformat(), "host": socket.gethostname(), "reason": reason,
        "recipient": recipient, **({"case": case} if case else {}),
        "files": [{"clip_id": e.clip_id, "file": e.path.name, "sha256": e.sha256, "size": e.size,
                   "store_key": e.store_key, "store_version": e.store_version, **e.facts} for e in done],
    }
    body = (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode()
    (work / "custody-receipt.json").write_bytes(body)
    lines = [
        "CUSTODY RECEIPT",
        f"export:      {export_id}", f"exported by: {actor}", f"exported at: {stamp.isoformat()}",
        f"host:        {socket.gethostname()}", f"reason:      {reason}", f"recipient:   {recipient or '-'}",
        *([f"case:        {case} (every clip linked to it at the time of export)"] if case else []),
        f"files:       {len(done)}", "",
        "Each file below was read from write-once storage; its index record was checked against",
        "the audit log and its SHA-256 against the index at the time of export.",
        "Check a copy with: sha256sum -c SHA256SUMS", "",
    ]
    for e in done:
        lines += [f"clip {e.clip_id}: {e.path.name}", f"  sha256    {e.sha256}", f"  size      {e.size} bytes",
                  f"  officer   {e.facts['officer'] or '-'}", f"  device    {e.facts['device'] or '-'}",
                  f"  recorded  {e.facts['recorded_start'] or '-'} .. {e.facts['recorded_end'] or '-'} "
                  f"(time from {e.facts['time_source']})",
                  f"  cases     {', '.join(e.facts['cases']) or '-'}",
                  f"  object    {e.store_key} (version {e.store_version})", ""]
    (work / "custody-receipt.txt").write_text("\n".join(lines))
    (work / "SHA256SUMS").write_text("".join(f"{e.sha256}  {e.path.name}\n" for e in done))
    for path in work.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    return hashlib.sha256(body).hexdigest()


def case_clips(s: Any, number: str) -> list[int]:
    """A case's disclosure set: every clip linked to it now, in order."""
    case = s.scalar(select(Case).where(Case.number == number))
    if case is None:
        raise NotFound(f"case {number!r}: not found")
    ids = list(s.scalars(select(CaseClip.clip_id).where(CaseClip.case_id == case.id, CaseClip.unlinked_at.is_(None))
                         .order_by(CaseClip.clip_id)))
    if not ids:
        raise InputError(f"case {number}: no clip is linked to it; nothing to disclose")
    return ids
