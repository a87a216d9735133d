"""Approved copying (调取/复制 审批): a request, a supervisor's decision, one use.

The rules are checked here for a clear message and kept by the database
(migration 0007): the decider is not the requester, a decision and a use are
final. On PostgreSQL the names are the connection's role, and only the
supervisor role may write a decision (`bodycam roles init`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit import chain
from bodycam.db.engine import Database
from bodycam.db.models import ExportApproval
from bodycam.errors import ApprovalRequired, InputError, NotFound
from bodycam.index.evidence import get_clips
from bodycam.text import one_line

APPROVED, REFUSED = "approved", "refused"


@dataclass(frozen=True)
class Approval:
    id: int
    clip_ids: list[int]
    reason: str
    recipient: str | None
    requested_by: str
    requested_at: datetime
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None
    used_at: datetime | None
    export_id: str | None

    @property
    def state(self) -> str:
        return "used" if self.used_at else (self.decision or "pending")

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "state": self.state, "clips": self.clip_ids, "reason": self.reason,
                "recipient": self.recipient, "requested_by": self.requested_by,
                "requested_at": self.requested_at, "decision": self.decision, "decided_by": self.decided_by,
                "decided_at": self.decided_at, "note": self.decision_note, "used_at": self.used_at,
                "export": self.export_id}


def _view(row: ExportApproval) -> Approval:
    return Approval(row.id, json.loads(row.clip_ids), row.reason, row.recipient, row.requested_by,
                    row.requested_at, row.decision, row.decided_by, row.decided_at, row.decision_note,
                    row.used_at, row.export_id)


def request(db: Database, identity: str, actor: str, clip_ids: list[int], reason: str, recipient: str | None,
            now: datetime) -> Approval:
    """Ask to copy these clips out; audited (export.requested)."""
    reason = one_line(reason, "--reason")
    recipient = one_line(recipient, "--recipient") if recipient is not None else None
    ids = sorted(set(clip_ids))
    with db.write() as s:
        get_clips(s, ids)  # every clip exists (NotFound names the first that does not)
        row = ExportApproval(requested_at=now, requested_by=identity, clip_ids=json.dumps(ids), reason=reason,
                             recipient=recipient)
        s.add(row)
        s.flush()
        chain.record(s, actor, "export.requested", f"approval:{row.id}",
                     {"clips": ids, "reason": reason, "recipient": recipient})
        return _view(row)


def _get(s: Session, approval_id: int) -> ExportApproval:
    row = s.get(ExportApproval, approval_id, with_for_update=True)
    if row is None:
        raise NotFound(f"export request {approval_id}: no such request")
    return row


def decide(db: Database, identity: str, actor: str, approval_id: int, approve: bool, note: str | None,
           now: datetime) -> Approval:
    """Approve or refuse a request once, as someone other than its requester; audited."""
    note = one_line(note, "--note") if note is not None else None
    with db.write() as s:
        row = _get(s, approval_id)
        if row.decision is not None:
            raise InputError(f"export request {approval_id}: already {row.decision} by {row.decided_by}")
        if row.requested_by == identity:
            raise InputError(f"export request {approval_id}: requested by {identity}; "
                             "another supervisor must decide it")
        row.decision, row.decided_by, row.decided_at, row.decision_note = (
            APPROVED if approve else REFUSED, identity, now, note)
        s.flush()
        chain.record(s, actor, f"export.{row.decision}", f"approval:{approval_id}",
                     {"note": note, "requested_by": row.requested_by, "clips": json.loads(row.clip_ids)})
        return _view(row)


def use(s: Session, identity: str, approval_id: int, clip_ids: list[int], export_id: str, now: datetime) -> Approval:
    """Inside the export's first transaction: the approval covers exactly these clips and is spent."""
    row = _get(s, approval_id)
    if row.decision != APPROVED:
        raise ApprovalRequired(f"export request {approval_id}: {row.decision or 'not decided yet'}; not exported")
    if row.used_at is not None:
        raise ApprovalRequired(f"export request {approval_id}: already used (export {row.export_id}); "
                               "request again")
    if sorted(set(clip_ids)) != json.loads(row.clip_ids):
        raise ApprovalRequired(f"export request {approval_id}: approved for clips {json.loads(row.clip_ids)}, "
                               f"not {sorted(set(clip_ids))}")
    row.used_at, row.used_by, row.export_id = now, identity, export_id
    s.flush()
    return _view(row)


def listing(db: Database, state: str | None = None) -> list[Approval]:
    with db.read() as s:
        rows = [_view(r) for r in s.scalars(select(ExportApproval).order_by(ExportApproval.id))]
    return [a for a in rows if state is None or a.state == state]
