"""The retention decision as a table of cases, and properties that must always hold."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bodycam.config import IngestSettings, RetentionSettings
from bodycam.ingest.timecheck import judge
from bodycam.retention.policy import CaseLink, ClipFacts, decide, fingerprint, initial_lock

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DEFAULT = RetentionSettings()
INGEST = IngestSettings()


def facts(ended_days_ago: float, uploaded_days_ago: float | None = None, **kw: object) -> ClipFacts:
    end = NOW - ended_days_ago * DAY
    uploaded = NOW - (uploaded_days_ago if uploaded_days_ago is not None else ended_days_ago) * DAY
    trusted = bool(kw.pop("time_trusted", True))
    lock = kw.pop("locked_until", None) or initial_lock(uploaded, end, DEFAULT, time_trusted=trusted)
    return ClipFacts(1, end, uploaded, lock, trusted, **kw)  # type: ignore[arg-type]


CASES = [
    # (description, facts, policy, delete?, until (days from now) or None for indefinitely, reason fragment)
    ("fresh footage: kept to the floor", facts(10), DEFAULT, False, 170, "floor: 180 days"),
    ("older than six months: due", facts(200), DEFAULT, True, -20, "expired: floor"),
    ("exactly at the floor: due", facts(180), DEFAULT, True, 0, "expired"),
    ("late arrival: the floor counts from receipt", facts(300, uploaded_days_ago=10), DEFAULT, False, 170,
     "after bodycam received it"),
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
    ("a longer grace keeps more", facts(200, uploaded_days_ago=170), RetentionSettings(grace_days=400), False, 230,
     "grace: 400"),
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


RECEIVED = NOW - 1 * DAY
WRITTEN = RECEIVED - DAY
CLOCKS = [
    # (camera clock case, claimed start, time source, untrusted?, reason fragment)
    ("flat battery: 1970", datetime(1970, 1, 1, tzinfo=UTC), "container", True, "clock was probably reset"),
    ("flat battery: 2000", datetime(2000, 1, 1, tzinfo=UTC), "filename", True, "before 2015-01-01"),
    ("clock ahead: next year", RECEIVED + 365 * DAY, "filename", True, "runs ahead"),
    ("plausible", WRITTEN - timedelta(minutes=10), "filename", False, None),
    ("ends after the file was written", WRITTEN + timedelta(hours=3) - timedelta(minutes=10), "filename", True,
     "after the file was last written"),
    ("no time but the mtime", WRITTEN - timedelta(minutes=10), "mtime", True, "modification time"),
    ("corrected by a clerk", datetime(2026, 11, 20, 8, tzinfo=UTC), "corrected", False, None),
]


@pytest.mark.parametrize("name,start,source,untrusted,reason", CLOCKS, ids=[c[0] for c in CLOCKS])
def test_camera_clock_cases(name: str, start: datetime, source: str, untrusted: bool, reason: str | None) -> None:
    """Whatever the camera claims, nothing is deletable before the floor after receipt."""
    end = start + timedelta(minutes=10)
    why = judge(start, end, source, RECEIVED, WRITTEN, INGEST)
    assert (why is not None) is untrusted, why
    if reason:
        assert why is not None and reason in why
    lock = initial_lock(RECEIVED, end, DEFAULT, time_trusted=why is None)
    assert lock >= RECEIVED + 180 * DAY
    f = ClipFacts(1, end, RECEIVED, lock, why is None)
    assert not decide(f, DEFAULT, RECEIVED + 180 * DAY - timedelta(seconds=1)).delete
    # an untrusted claim (1970, or next year) neither shortens nor lengthens the hold
    assert decide(f, DEFAULT, RECEIVED + 180 * DAY).delete


def test_an_earlier_configured_earliest_date_trusts_older_footage() -> None:
    cfg = IngestSettings(earliest_recording=date(1999, 1, 1))
    start = datetime(2000, 1, 1, tzinfo=UTC)
    assert judge(start, start, "filename", RECEIVED, WRITTEN, cfg) is None


times = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))


@given(
    recorded_end=st.one_of(st.none(), times),
    received=st.datetimes(min_value=datetime(2016, 1, 1), max_value=datetime(2060, 1, 1), timezones=st.just(UTC)),
    floor=st.integers(min_value=180, max_value=3650),
    grace=st.floats(min_value=30, max_value=3650),
    trusted=st.booleans(),
    held=st.booleans(),
    now_after_receipt=st.floats(min_value=-10, max_value=5000),
)
def test_never_deletable_before_the_floor_after_receipt(recorded_end: datetime | None, received: datetime,
                                                        floor: int, grace: float, trusted: bool, held: bool,
                                                        now_after_receipt: float) -> None:
    """The property of issue 10: for any claimed time and any allowed settings, no
    version is deletable (by policy or by its lock) before receipt + floor."""
    policy = RetentionSettings(floor_days=floor, grace_days=grace)
    lock = initial_lock(received, recorded_end, policy, time_trusted=trusted)
    assert lock >= received + floor * DAY
    now = received + now_after_receipt * DAY
    d = decide(ClipFacts(1, recorded_end, received, lock, trusted, holds=("h",) if held else ()), policy, now)
    if d.delete:
        assert not held
        assert now >= received + floor * DAY and now >= received + grace * DAY and now >= lock
    else:
        assert d.until is None or d.until > now


@pytest.mark.parametrize("setting", [{"grace_days": 0}, {"grace_days": 29.9}, {"floor_days": 179},
                                     {"grace_days": float("inf")}, {"grace_days": float("nan")},
                                     {"floor_days": 10**9}, {"grace_days": 1e9}])
def test_settings_that_would_shorten_a_hold_are_refused(setting: dict[str, float]) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        RetentionSettings(**setting)  # type: ignore[arg-type]


def test_fingerprint_covers_only_what_decides_a_deletion() -> None:
    assert fingerprint(RetentionSettings(sweep_at="04:00")) == fingerprint(DEFAULT)
    assert fingerprint(RetentionSettings(floor_days=181)) != fingerprint(DEFAULT)
    assert fingerprint(RetentionSettings(grace_days=31)) != fingerprint(DEFAULT)
    assert fingerprint(RetentionSettings(evidence_after_close_days=400)) != fingerprint(DEFAULT)
