"""``bodycam check``: the index, the audit log and the store, compared clip by clip.

Each disagreement is one line naming the clip, the records and the values. One
repair is made, because it only ever keeps more: a legal hold the index
believes in but the store lacks is put back (audited ``hold.restored``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from bodycam.audit import chain, seals
from bodycam.audit.records import dispose_event_seqs, ingest_events, row_vs_event
from bodycam.db.engine import Database
from bodycam.db.models import Attachment, Clip, IngestItem
from bodycam.index.evidence import is_held
from bodycam.store import ObjectStore
from bodycam.store.base import LOCK_PRECISION


@dataclass
class Report:
    clips: int = 0
    objects: int = 0
    seals: int = 0
    disagreements: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    data_failures: list[str] = field(default_factory=list)
    verified: int = 0


def _known_versions(db: Database) -> set[tuple[str, str]]:
    """Every version some record accounts for: attachments and abandoned attempts (clips are compared apart)."""
    with db.read() as s:
        known = {(k, v) for k, v in s.execute(select(Attachment.store_key, Attachment.store_version))}
        for abandoned in s.scalars(select(IngestItem.abandoned)):
            known |= {(str(a.get("key")), str(a.get("version"))) for a in abandoned or []}
    return known


def crosscheck(db: Database, store: ObjectStore, actor: str) -> Report:
    """Compare the three records of every clip, every object with the index, every hold with the store."""
    report = Report()
    found, problems = seals.verify(db, store)
    report.seals = len(found)
    report.disagreements += problems
    stored = {(k, v): size for k, v, size in store.list("")}
    report.objects = len(stored)
    with db.read() as s:
        disposals = dispose_event_seqs(s)
        clips = list(s.scalars(select(Clip).order_by(Clip.id)))
        events = ingest_events(s)
        held = {c.id for c in clips if c.disposed_at is None and is_held(s, c)}
    report.clips = len(clips)
    accounted = _known_versions(db) | {(x.key, x.version) for x in found}
    for clip in clips:
        kv = (clip.store_key, clip.store_version)
        accounted.add(kv)
        report.disagreements += row_vs_event(clip, events.get(clip.id))
        report.disagreements += _against_store(clip, stored.get(kv), clip.id in disposals)
        if clip.disposed_at is None and kv in stored:
            _restore_locks(db, store, clip, clip.id in held, actor, report)
    report.disagreements += [f"object {k} version {v} ({size} bytes): in the store but in no record "
                             "(clip, sidecar, manifest, abandoned attempt or seal)"
                             for (k, v), size in sorted(stored.items()) if (k, v) not in accounted]
    with db.write() as s:
        chain.record(s, actor, "system.check", "system", {
            "clips": report.clips, "objects": report.objects, "seals": report.seals,
            "disagreements": report.disagreements[:100], "repaired": report.repaired[:100]})
    return report


def _against_store(clip: Clip, size: int | None, dispose_event: bool) -> list[str]:
    if clip.disposed_at is not None:
        out = [] if dispose_event else [f"clip {clip.id}: marked disposed at {clip.disposed_at.isoformat()} "
                                        "but there is no clip.dispose audit event"]
        if size is not None:
            out.append(f"clip {clip.id}: marked disposed but its object {clip.store_key} version "
                       f"{clip.store_version} is still in the store")
        return out
    if size is None:
        return [f"clip {clip.id}: kept by the index but its object {clip.store_key} version {clip.store_version} "
                "is missing from the store"]
    if size != clip.size:
        return [f"clip {clip.id}: {clip.size} bytes in the index, {size} in the store"]
    return []


def _restore_locks(db: Database, store: ObjectStore, clip: Clip, held: bool, actor: str, report: Report) -> None:
    """The store must hold at least what the index believes: the legal hold, and a
    retain-until no earlier than the index's. Either is put back (it only keeps more)."""
    info = store.stat(clip.store_key, clip.store_version)
    fixes: list[tuple[str, str]] = []
    if held and not info.legal_hold:
        store.set_legal_hold(clip.store_key, clip.store_version, True)
        fixes.append(("hold.restored", f"clip {clip.id}: held in the index but the store had no legal hold on it: "
                                       "put back"))
    if info.retain_until is None or info.retain_until < clip.retain_until - LOCK_PRECISION:
        store.extend_retention(clip.store_key, clip.store_version, clip.retain_until)
        had = info.retain_until.isoformat() if info.retain_until else "none"
        fixes.append(("lock.restored", f"clip {clip.id}: the store's lock ends {had}, the index's "
                                       f"{clip.retain_until.isoformat()}: extended back"))
    if not fixes:
        return
    report.disagreements += [line for _, line in fixes]
    report.repaired += [line for _, line in fixes]
    with db.write() as s:
        chain.record_many(s, actor, [(action, f"clip:{clip.id}", {
            "key": clip.store_key, "version": clip.store_version, "found": line}) for action, line in fixes])
