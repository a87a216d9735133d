"""Issue 18 at a city's scale: the linking rule reads incidents and clips in batches, so that no IN
list passes the drivers' parameter limits (PostgreSQL's 65,535 broke a month's relink before). The
batches must not change what is linked: here a batch is two incidents or two clips. Both databases."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from bodycam.config import IncidentSettings
from bodycam.db.engine import Database
from bodycam.db.models import Clip, Incident, IncidentLink, IncidentOfficer
from bodycam.incidents import linking
from bodycam.index.registry import officer_by_badge

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
CFG = IncidentSettings(buffer_before_minutes=5)


def _city(db: Database) -> None:
    """Nine officers, an incident each hour for each, a clip on most calls and a few on none."""
    with db.write() as s:
        for o in range(9):
            officer = officer_by_badge(s, f"P{o}")
            for hour in range(6):
                dispatched = T0 + timedelta(hours=hour, minutes=o)
                incident = Incident(incident_id=f"JQ-{o}-{hour}", type="THEFT", start=dispatched,
                                    end=dispatched + timedelta(minutes=30), location="", imported_at=T0)
                s.add(incident)
                s.flush()
                s.add(IncidentOfficer(incident_id=incident.id, officer_id=officer.id, dispatched_at=dispatched,
                                      cleared_at=dispatched + timedelta(minutes=30)))
                if (o + hour) % 4 == 3:
                    continue  # no footage of this call
                start = dispatched + timedelta(minutes=(o + hour) % 7 - 4)  # some in the 5-minute buffer
                s.add(Clip(sha256=f"{o:02d}{hour:02d}".ljust(64, "0"), size=1, store_key=f"k{o}-{hour}",
                           store_version="v", officer_id=officer.id, officer_badge=officer.badge,
                           recorded_start=start, recorded_end=start + timedelta(minutes=3), media={},
                           discontinuities=[], uploaded_at=start, retain_until=start + timedelta(days=183)))


def _links(db: Database) -> set[tuple[str, str]]:
    with db.read() as s:
        return {(i, sha[:4]) for i, sha in s.execute(
            Incident.__table__.select().with_only_columns(Incident.incident_id, Clip.sha256)
            .join(IncidentLink, IncidentLink.incident_id == Incident.id).join(Clip, Clip.id == IncidentLink.clip_id))}


def _expected() -> set[tuple[str, str]]:
    return {(f"JQ-{o}-{h}", f"{o:02d}{h:02d}") for o in range(9) for h in range(6) if (o + h) % 4 != 3}


@pytest.mark.parametrize("batch", [2, 1000])
def test_batched_relink_links_what_one_pass_links(database: Database, batch: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linking, "BATCH", batch)
    _city(database)
    made = linking.relink(database, CFG, database.identity(), T0 + timedelta(days=1))
    assert made == len(_expected()) and _links(database) == _expected()
    assert linking.relink(database, CFG, database.identity(), T0 + timedelta(days=1)) == 0  # nothing twice


def test_batched_import_and_ingest_pass_link_the_same(database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(linking, "BATCH", 2)
    _city(database)
    with database.write() as s:
        ids = list(s.scalars(Incident.__table__.select().with_only_columns(Incident.id)))
        half = linking.link(s, CFG, database.identity(), T0, incidents=ids[::2])  # an import's incidents, out of order
        clips = list(s.scalars(Clip.__table__.select().with_only_columns(Clip.id)))
        rest = linking.link(s, CFG, database.identity(), T0, clips=clips)  # a pass's clips against every incident
    assert len(half) + len(rest) == len(_expected()) and _links(database) == _expected()


def _waiting_on_a_lock(db: Database) -> bool:
    with db.engine.connect() as c:
        return bool(c.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                   "AND datname = current_database()")).scalar())


def test_an_import_and_an_ingest_pass_linking_the_same_clips_at_once_link_each_once(database: Database) -> None:
    """The dock's pass links its clips while an inspector's import links the same clips to the same
    incidents. Before the links were decided under the audit chain's lock, the second writer's INSERT
    waited on the first's uncommitted row and then failed on the unique key: exit 70 after the pass."""
    _city(database)
    with database.read() as s:
        ids = list(s.scalars(Incident.__table__.select().with_only_columns(Incident.id)))
        clips = list(s.scalars(Clip.__table__.select().with_only_columns(Clip.id)))
    second: dict[str, object] = {}

    def ingest_pass() -> None:
        try:
            with database.write() as s:
                second["links"] = linking.link(s, CFG, database.identity(), T0, clips=clips)
        except Exception as exc:  # the test reports what the second writer met
            second["error"] = exc

    with database.write() as s:
        first = linking.link(s, CFG, database.identity(), T0, incidents=ids)  # holds its transaction open
        racer = threading.Thread(target=ingest_pass)
        racer.start()
        if database.dialect == "postgresql":  # SQLite's second writer waits at BEGIN IMMEDIATE
            deadline = time.monotonic() + 30
            while not _waiting_on_a_lock(database):
                assert time.monotonic() < deadline, "the second writer never waited for the first"
                racer.join(0.05)
    racer.join(60)
    assert "error" not in second, second.get("error")
    assert len(first) == len(_expected()) and second["links"] == []
    assert _links(database) == _expected()
