"""States and kinds, defined once. StrEnums: each member is its string, as stored in the database
and shown in JSON, so comparing with a column or a literal needs no conversion."""

from __future__ import annotations

from enum import StrEnum


class Scenario(StrEnum):
    """The situations that must be recorded (2016 MPS rule), and interrogation."""

    DISPATCH = "dispatch"
    STOP_AND_CHECK = "stop_and_check"
    ON_SCENE_PENALTY = "on_scene_penalty"
    SEARCH_AND_SEIZURE = "search_and_seizure"
    ADMINISTRATIVE_ENFORCEMENT = "administrative_enforcement"
    MAJOR_INCIDENT = "major_incident"
    INTERROGATION = "interrogation"


class DeviceKind(StrEnum):
    BODY_CAMERA = "body_camera"
    INTERROGATION_RECORDER = "interrogation_recorder"
    FIXED_CAMERA = "fixed_camera"
    """A camera of a case-handling area, bound to its room (`room`): it covers the events in that room."""
    IN_CAR = "in_car_camera"
    """A patrol car's camera: bound to the car, attributed to the car's crew by shift (device assignments)."""


class ClipKind(StrEnum):
    DOCK = "dock"
    INTERROGATION = "interrogation"


class TimeSource(StrEnum):
    """Where a clip's recorded start came from, most trusted first."""

    SIDECAR = "sidecar"
    MANIFEST = "manifest"
    FILENAME = "filename"
    SEGMENT = "segment"
    CONTAINER = "container"
    MTIME = "mtime"
    CORRECTED = "corrected"


class IngestState(StrEnum):
    """An ingest item's life: claimed, stored (uploaded and verified), indexed, released; or failed."""

    CLAIMED = "claimed"
    STORED = "stored"
    INDEXED = "indexed"
    RELEASED = "released"
    FAILED = "failed"


class AnalysisState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


IN_FLIGHT = (IngestState.CLAIMED, IngestState.STORED)


IMPORTANT = "important"
"""The clip flag of the important mark (重要标记, GA/T 947): kept as evidence until reviewed."""
IMPORTANT_REVIEWED = "important_reviewed"
"""Its review: the mark no longer keeps the clip (bodycam.index.important)."""
