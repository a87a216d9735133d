"""Typed models of the domain (see shared docs/domain.md).

Every time is an aware UTC datetime. Interrogation sessions are events with the
scenario ``interrogation`` plus a row naming their room recorder and manifest,
so the coverage engine treats both alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bodycam.db.types import UTCDateTime
from bodycam.kinds import AnalysisState, ClipKind, DeviceKind, IngestState, Scenario, TimeSource

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SCENARIOS = tuple(m.value for m in Scenario)  # plain strings: click's choices, the DB
DEVICE_KINDS = tuple(m.value for m in DeviceKind)  # plain strings: click's choices, the DB
CLIP_KINDS = tuple(m.value for m in ClipKind)  # plain strings: click's choices, the DB
TIME_SOURCES = tuple(m.value for m in TimeSource)  # plain strings: click's choices, the DB
INGEST_STATES = tuple(m.value for m in IngestState)  # plain strings: click's choices, the DB


BADGE_LEN = 64
"""Widest badge number (and unit code); imports, sidecars and manifests are checked against these."""
UNIT_LEN = 64
SERIAL_LEN = 128
"""Widest device serial or room; also case numbers, event and session ids."""
ID_LEN = 128


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Unit(Base):
    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(UNIT_LEN), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")


class Officer(Base):
    __tablename__ = "officers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    badge: Mapped[str] = mapped_column(String(BADGE_LEN), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    unit: Mapped[Unit | None] = relationship()


class Device(Base):
    __tablename__ = "devices"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    serial: Mapped[str] = mapped_column(String(SERIAL_LEN), unique=True)
    kind: Mapped[str] = mapped_column(String(32), default="body_camera")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    room: Mapped[str | None] = mapped_column(String(SERIAL_LEN))
    vehicle: Mapped[str | None] = mapped_column(String(SERIAL_LEN))
    """An in-car camera's vehicle: its footage belongs to that vehicle's crew (`crew_shifts`)."""
    description: Mapped[str] = mapped_column(String(500), default="")


class DeviceAssignment(Base):
    """Which officer carried which device from when to when (open-ended allowed)."""

    __tablename__ = "device_assignments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("device_id", "start"),
        Index("ix_device_assignments_device_time", "device_id", "start"),
    )


class CrewShift(Base):
    """Who rode in which vehicle from when to when: a crew is every officer on board at a moment."""

    __tablename__ = "crew_shifts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vehicle: Mapped[str] = mapped_column(String(SERIAL_LEN))
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime())
    end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    __table_args__ = (
        UniqueConstraint("vehicle", "officer_id", "start"),
        Index("ix_crew_shifts_vehicle_time", "vehicle", "start"),
    )


class Case(Base):
    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    title: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Event(Base):
    """A situation that had to be recorded, or an interrogation session."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    scenario: Mapped[str] = mapped_column(String(40), index=True)
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    location: Mapped[str] = mapped_column(String(500), default="")
    source: Mapped[str] = mapped_column(String(32), default="import")


class EventOfficer(Base):
    __tablename__ = "event_officers"
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), primary_key=True, index=True)


class Incident(Base):
    """A call for service (警情) from a dispatch (CAD) export; its officers' windows decide its clips."""

    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    type: Mapped[str] = mapped_column(String(200), default="")
    scenario: Mapped[str | None] = mapped_column(String(40))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    start: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    """The first officer's dispatch (or the call's receipt when no dispatch time is given)."""
    end: Mapped[datetime] = mapped_column(UTCDateTime())
    """The last officer's clear."""
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id"))
    """The required recording its scenario makes (none for a type mapped to no scenario)."""
    location: Mapped[str] = mapped_column(String(500), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentOfficer(Base):
    """One officer on an incident, with that officer's own dispatch, arrival and clear."""

    __tablename__ = "incident_officers"
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), primary_key=True)
    officer_id: Mapped[int] = mapped_column(ForeignKey("officers.id"), primary_key=True, index=True)
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime())
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cleared_at: Mapped[datetime] = mapped_column(UTCDateTime())


class IncidentLink(Base):
    """A clip belongs to an incident: by rule (with its reason) or by hand; an unlink is kept, and a rule
    never links again what a person unlinked."""

    __tablename__ = "incident_links"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"), index=True)
    rule: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_by: Mapped[str] = mapped_column(String(200))
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unlinked_by: Mapped[str | None] = mapped_column(String(200))
    unlink_reason: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (UniqueConstraint("incident_id", "clip_id"),)


class InterrogationSession(Base):
    """The recorder manifest behind an interrogation event."""

    __tablename__ = "interrogation_sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), unique=True)
    session_id: Mapped[str] = mapped_column(String(ID_LEN), unique=True)
    room_device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    manifest: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Clip(Base):
    """One stored, hashed object version and what is known of its recording."""

    __tablename__ = "clips"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64))
    """Unique among clips not disposed: bytes docked again after disposal are a new clip."""
    size: Mapped[int] = mapped_column(BigInteger)
    store_key: Mapped[str] = mapped_column(String(1024))
    store_version: Mapped[str] = mapped_column(String(256), default="")
    etag: Mapped[str] = mapped_column(String(128), default="")
    kind: Mapped[str] = mapped_column(String(16), default="dock")
    device_id: Mapped[int | None] = mapped_column(ForeignKey("devices.id"))
    officer_id: Mapped[int | None] = mapped_column(ForeignKey("officers.id"))
    device_serial: Mapped[str] = mapped_column(String(SERIAL_LEN), default="")
    officer_badge: Mapped[str] = mapped_column(String(BADGE_LEN), default="")
    officer_source: Mapped[str] = mapped_column(String(16), default="", server_default="")
    """'named' (file name, sidecar or manifest: never overwritten), 'assignment', or '' (none)."""
    recorded_start: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_end: Mapped[datetime | None] = mapped_column(UTCDateTime())
    time_source: Mapped[str] = mapped_column(String(16), default="mtime")
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    media: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    discontinuities: Mapped[list[Any]] = mapped_column(JSON, default=list)
    probe_error: Mapped[str | None] = mapped_column(Text)
    source_name: Mapped[str] = mapped_column(String(1024), default="")
    source_path: Mapped[str] = mapped_column(String(4096), default="")
    source_host: Mapped[str] = mapped_column(String(255), default="")
    session_id: Mapped[int | None] = mapped_column(ForeignKey("interrogation_sessions.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime())
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    disposed_reason: Mapped[str | None] = mapped_column(Text)
    disposal_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set before the object is deleted: a sweep that dies mid-way finishes the job next time."""
    flags: Mapped[list[ClipFlag]] = relationship(back_populates="clip", cascade="all")
    __table_args__ = (
        Index("ix_clips_officer_start", "officer_id", "recorded_start"),
        Index("ix_clips_device_start", "device_id", "recorded_start"),
        Index("ix_clips_start", "recorded_start"),
        Index("ix_clips_session", "session_id"),
        Index("ix_clips_sha256", "sha256"),
        Index("uq_clips_live_sha256", "sha256", unique=True, sqlite_where=text("disposed_at IS NULL"),
              postgresql_where=text("disposed_at IS NULL")),
    )


class ClipFlag(Base):
    """A review flag on a clip: corrupt, late_upload, officer_conflict, obstruction..."""

    __tablename__ = "clip_flags"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"))
    flag: Mapped[str] = mapped_column(String(40), index=True)
    detail: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    clip: Mapped[Clip] = relationship(back_populates="flags")
    __table_args__ = (UniqueConstraint("clip_id", "flag"),)


class ClipCorrection(Base):
    """A corrected recording time, officer or device: the original value is kept here."""

    __tablename__ = "clip_corrections"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str] = mapped_column(Text)
    new_value: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16))
    """'clerk' (``bodycam clips correct``) or 'dock' (the clock offset a dock measured)."""
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Attachment(Base):
    """A sidecar or session manifest, stored as an object beside its media: evidence too."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int | None] = mapped_column(ForeignKey("clips.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("interrogation_sessions.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    """'sidecar' or 'manifest'."""
    name: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    store_key: Mapped[str] = mapped_column(String(1024))
    store_version: Mapped[str] = mapped_column(String(256))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    retain_until: Mapped[datetime] = mapped_column(UTCDateTime())
    disposed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ClipSighting(Base):
    """Every time a source file was seen whose bytes were already stored."""

    __tablename__ = "clip_sightings"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"), index=True)
    source_path: Mapped[str] = mapped_column(String(4096))
    source_host: Mapped[str] = mapped_column(String(255), default="")
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CaseClip(Base):
    """A clip linked to a case (evidence); unlinking keeps the row for history."""

    __tablename__ = "case_clips"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"), index=True)
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    linked_by: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    unlinked_by: Mapped[str | None] = mapped_column(String(200))
    unlink_reason: Mapped[str | None] = mapped_column(Text)


class Hold(Base):
    """An explicit legal hold on a clip or a whole case."""

    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int | None] = mapped_column(ForeignKey("clips.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    placed_by: Mapped[str] = mapped_column(String(200))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    released_by: Mapped[str | None] = mapped_column(String(200))
    release_reason: Mapped[str | None] = mapped_column(Text)


class IngestItem(Base):
    """Per-source-file state machine; the unique key makes a claim exclusive."""

    __tablename__ = "ingest_items"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_key: Mapped[str] = mapped_column(String(64), unique=True)
    host: Mapped[str] = mapped_column(String(255))
    source_path: Mapped[str] = mapped_column(String(4096))
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), index=True)
    claimed_by: Mapped[str] = mapped_column(String(255), default="")
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    sha256: Mapped[str | None] = mapped_column(String(64))
    store_key: Mapped[str | None] = mapped_column(String(1024))
    store_version: Mapped[str | None] = mapped_column(String(256))
    clip_id: Mapped[int | None] = mapped_column(ForeignKey("clips.id"))
    outcome: Mapped[str | None] = mapped_column(String(16))
    """ingested, duplicate or flagged, once indexed."""
    abandoned: Mapped[list[Any]] = mapped_column(JSON, default=list)
    """Object versions left by an interrupted attempt: accounted for, never silently lost."""
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


ANALYSIS_STATES = tuple(m.value for m in AnalysisState)  # plain strings: click's choices, the DB


class AnalysisJob(Base):
    """The picture analysis of one clip, taken by any analysis worker (claim and lease)."""

    __tablename__ = "analysis_jobs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id"), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    claimed_by: Mapped[str] = mapped_column(String(255), default="", server_default="")
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AuditEvent(Base):
    """Append-only, hash-chained record of every access and change."""

    __tablename__ = "audit_events"
    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64), index=True)
    subject: Mapped[str] = mapped_column(String(512), index=True)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


EXPORT_DECISIONS = ("approved", "refused")


class ExportApproval(Base):
    """A request to copy clips out, a supervisor's decision on it, and its one use (migration 0007)."""

    __tablename__ = "export_approvals"
    __table_args__ = (CheckConstraint("decision IS NULL OR decision IN ('approved', 'refused')", name="decision"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    requested_by: Mapped[str] = mapped_column(String(200))
    clip_ids: Mapped[str] = mapped_column(Text)
    """The clip ids as a JSON list, sorted."""
    reason: Mapped[str] = mapped_column(Text)
    recipient: Mapped[str | None] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(16))
    decided_by: Mapped[str | None] = mapped_column(String(200))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(Text)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    used_by: Mapped[str | None] = mapped_column(String(200))
    export_id: Mapped[str | None] = mapped_column(String(32))


class OfficerLogin(Base):
    """Which badge a login role of the officer role is: row-level security shows it its own clips (0008)."""

    __tablename__ = "officer_logins"
    login: Mapped[str] = mapped_column(String(63), primary_key=True)
    badge: Mapped[str] = mapped_column(String(BADGE_LEN))


REVIEW_RESULTS = ("justified", "violation", "equipment_fault", "not_required")
"""A supervisor's verdict on a finding: a good reason (justified), a breach of the rules
(violation), the camera or recorder failed (equipment_fault), or no recording was required
after all (not_required). Only a violation fails the recording in the pass rates."""


class FindingReview(Base):
    """A supervisor's verdict on a coverage finding, append-only (migration 0009)."""

    __tablename__ = "finding_reviews"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    finding_id: Mapped[str] = mapped_column(String(160), index=True)
    event_id: Mapped[str] = mapped_column(String(128), index=True)
    officer: Mapped[str] = mapped_column(String(500))
    kind: Mapped[str] = mapped_column(String(32))
    result: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    reviewed_by: Mapped[str] = mapped_column(String(200))
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime())
