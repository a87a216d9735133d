"""Look-ups in the registries that ingest needs: devices, officers, assignments."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bodycam.db.models import Device, DeviceAssignment, Officer
from bodycam.db.upsert import get_or_create
from bodycam.index.crews import crew_at


def device_by_serial(session: Session, serial: str, kind: str = "body_camera") -> Device:
    """The device with this serial; an unknown one is registered on first sight."""
    return get_or_create(session, Device, "serial", serial, kind=kind, description="registered at ingest")


def room_recorder(session: Session, room: str) -> Device:
    """The interrogation recorder registered for ROOM (by the devices registry's ``room``), else the
    device whose serial is ROOM; an unknown room's recorder is registered on first sight, as ROOM."""
    found = session.scalar(select(Device).where(Device.kind == "interrogation_recorder", Device.room == room)
                           .order_by(Device.id).limit(1))
    return found or device_by_serial(session, room, "interrogation_recorder")


def officer_by_badge(session: Session, badge: str) -> Officer:
    """The officer with this badge; an unknown one is registered on first sight."""
    return get_or_create(session, Officer, "badge", badge, name="")


def holders(session: Session, device_id: int, at: datetime) -> list[Officer]:
    """Who had the device at that moment: its assignment's officer, or (an in-car camera) the vehicle's
    crew on board, lead first."""
    assigned = assigned_officer(session, device_id, at)
    if assigned is not None:
        return [assigned]
    device = session.get(Device, device_id)  # ingest has it loaded: no query for a body camera
    return crew_at(session, device_id, at) if device is not None and device.vehicle else []


def assigned_officer(session: Session, device_id: int, at: datetime) -> Officer | None:
    """Who carried the device at that moment, from the assignment history."""
    row = session.scalar(
        select(DeviceAssignment)
        .where(
            DeviceAssignment.device_id == device_id,
            DeviceAssignment.start <= at,
            or_(DeviceAssignment.end.is_(None), DeviceAssignment.end > at),
        )
        .order_by(DeviceAssignment.start.desc())
        .limit(1)
    )
    return session.get(Officer, row.officer_id) if row else None
