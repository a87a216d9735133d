"""Is a recording's claimed time believable? A pure judgement, no I/O.

A camera whose battery ran flat dates its files 1970 or 2000; one whose clock
runs ahead dates them in the future. Such a time is ``untrusted_time``: kept
and shown, listed for correction (``bodycam clips correct``), and never used to
decide how long the footage is kept.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bodycam.config import IngestSettings

UNTRUSTED = "untrusted_time"
CAMERA_SOURCES = ("sidecar", "filename", "container", "mtime")
"""Time sources that read the camera's own clock (a dock's measured offset applies to them)."""


def judge(start: datetime, end: datetime, source: str, received: datetime, written: datetime,
          cfg: IngestSettings) -> str | None:
    """Why the recording time cannot be trusted, or None when it can.

    ``received`` is bodycam's clock at ingest; ``written`` the file's modification time."""
    if source == "mtime":
        return "recording time taken from the file's modification time"
    earliest = datetime.combine(cfg.earliest_recording, time(), UTC)
    if start < earliest:
        return (f"recorded {start.isoformat(timespec='seconds')}, before {cfg.earliest_recording.isoformat()} "
                f"(ingest.earliest_recording): the camera's clock was probably reset")
    if start > received + timedelta(minutes=cfg.future_minutes):
        return (f"recorded {start.isoformat(timespec='seconds')}, after bodycam received it at "
                f"{received.isoformat(timespec='seconds')}: the camera's clock runs ahead")
    if end > written + timedelta(hours=cfg.mtime_hours):
        return (f"recording ends {end.isoformat(timespec='seconds')}, after the file was last written "
                f"({written.isoformat(timespec='seconds')}; ingest.mtime_hours {cfg.mtime_hours:g})")
    return None
