"""The retention decision as a table of cases, and properties that must always hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bodycam.config import RetentionSettings
from bodycam.retention.policy import CaseLink, ClipFacts, decide, initial_lock

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DEFAULT = RetentionSettings()


def facts(ended_days_ago: float, uploaded_days_ago: float | None = None, **kw: object) -> ClipFacts:
    end = NOW - ended_days_ago * DAY
    uploaded = NOW - (uploaded_days_ago if uploaded_days_ago is not None else ended_days_ago) * DAY
    lock = kw.pop("locked_until", None) or initial_lock(end, uploaded, DEFAULT)
    return ClipFacts(1, end, uploaded, lock, **kw)  # type: ignore[arg-type]


CASES = [
    # (description, facts, policy, delete?, until (days from now) or None for indefinitely, reason fragment)
    ("fresh footage: kept to the floor", facts(10), DEFAULT, False, 170, "floor: 180 days"),
    ("older than six months: due", facts(200), DEFAULT, True, -20, "expired: floor"),
    ("exactly at the floor: due", facts(180), DEFAULT, True, 0, "expired"),
    ("late arrival: the grace period wins", facts(300, uploaded_days_ago=10), DEFAULT, False, 20, "grace"),
    ("evidence in an open case: indefinitely",
     facts(400, cases=(CaseLink("C-1", "open", None),)), DEFAULT, False, None, "open case C-1"),
    ("evidence in a closed case: kept for good by default",
     facts(400, cases=(CaseLink("C-1", "closed", NOW - 300 * DAY),)), DEFAULT, False, None, "kept for good"),
    ("closed case with an after-close period, still running",
     facts(400, cases=(CaseLink("C-1", "closed", NOW - 10 * DAY),)),
     RetentionSettings(evidence_after_close_days=365), False, 355, "after it closed"),
    ("closed case with an after-close period, over",
     facts(900, cases=(CaseLink("C-1", "closed", NOW - 400 * DAY),)),
     RetentionSettings(evidence_after_close_days=365), True, -35, "expired"),
    ("two cases: the open one wins",
     facts(900, cases=(CaseLink("C-1", "closed", NOW - 400 * DAY), CaseLink("C-2", "open", None))),
     RetentionSettings(evidence_after_close_days=365), False, None, "open case C-2"),
    ("legal hold", facts(900, holds=("#3 subpoena",)), DEFAULT, False, None, "legal hold: #3 subpoena"),
    ("major incident: for good", facts(900, major_incident=("E-7",)), DEFAULT, False, None, "major incident E-7"),
    ("obstruction: for good", facts(900, obstruction=True), DEFAULT, False, None, "obstruction"),
    ("a later store lock is respected", facts(200, locked_until=NOW + 5 * DAY), DEFAULT, False, 5, "store lock"),
    ("a longer floor keeps more", facts(200), RetentionSettings(floor_days=365), False, 165, "floor: 365"),
]


@pytest.mark.parametrize("name,f,policy,delete,until,reason", CASES, ids=[c[0] for c in CASES])
def test_decision_table(name: str, f: ClipFacts, policy: RetentionSettings, delete: bool, until: float | None,
                        reason: str) -> None:
    d = decide(f, policy, NOW)
    assert d.delete is delete
    if until is None:
        assert d.until is None
    else:
        assert d.until is not None and abs((d.until - NOW) / DAY - until) < 1e-6
    assert any(reason in r for r in d.reasons), d.reasons


@given(
    ended=st.floats(min_value=0, max_value=2000),
    late=st.floats(min_value=0, max_value=500),
    floor=st.integers(min_value=180, max_value=3650),
    grace=st.floats(min_value=0, max_value=365),
    held=st.booleans(),
)
def test_never_deleted_before_floor_grace_or_while_held(ended: float, late: float, floor: int, grace: float,
                                                        held: bool) -> None:
    policy = RetentionSettings(floor_days=floor, grace_days=grace)
    end = NOW - ended * DAY
    uploaded = end + late * DAY
    f = ClipFacts(1, end, uploaded, initial_lock(end, uploaded, policy), holds=("h",) if held else ())
    d = decide(f, policy, NOW)
    if d.delete:
        assert not held
        assert end + floor * DAY <= NOW and uploaded + grace * DAY <= NOW
    else:
        assert d.until is None or d.until > NOW
    assert initial_lock(end, uploaded, policy) >= uploaded  # a lock is never set in the past
