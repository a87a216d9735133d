"""Issue 12, tried as a dock with a hostile card and as an attacker would: no file,
name or row stops, hangs or hides ingest, and exit 70 only means a bug."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Bodycam
from tests.media import age, make_clip

GBK = b"CAM1_P1_20261125080000_" + "中文".encode("gbk") + b".mp4"


class Media(bytes):
    """A small real clip's bytes (short repr: Hypothesis prints its arguments)."""

    def __repr__(self) -> str:
        return f"<{len(self)} bytes of H.264>"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    if shutil.which("ffmpeg") is None:
        pytest.fail("ffmpeg missing") if os.environ.get("CI") == "true" else pytest.skip("ffmpeg missing")
    return Media(make_clip(tmp_path_factory.mktemp("media") / "c.mp4", 1.0).read_bytes())


def put(folder: Path, name: bytes | str, data: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = Path(os.fsdecode(os.path.join(os.fsencode(folder), os.fsencode(name))))
    path.write_bytes(data)
    age(path)
    return path


def test_a_gbk_file_name_is_ingested_kept_and_shown_escaped(bodycam: Bodycam, tmp_path: Path, clip: bytes) -> None:
    bodycam("init")
    src = put(tmp_path / "dock" / "CAM1", GBK, clip)
    put(tmp_path / "dock" / "CAM1", "CAM1_P1_20261125090000.mp4", clip + b"\0")
    result = bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete")
    assert "ingested 2" in result.stdout and not src.exists()
    found = {c["source_name"]: c for c in bodycam.json("clips", "search")}
    name = "CAM1_P1_20261125080000_\\xd6\\xd0\\xce\\xc4.mp4"
    assert name in found and found[name]["device"] == "CAM1"
    shown = bodycam.json("clips", "show", str(found[name]["id"]))
    assert bytes.fromhex(shown["media"]["source_name_bytes_hex"]) == GBK
    assert name in bodycam("clips", "search").stdout
    assert bodycam("audit", "verify").exit_code == 0


def test_names_cannot_forge_rows_or_drive_the_terminal(bodycam: Bodycam, tmp_path: Path, clip: bytes) -> None:
    bodycam("init")
    put(tmp_path / "dock" / "CAM1", "x\n99  P9  FORGED\x1b[2J.mp4", clip)
    put(tmp_path / "dock" / "CAM1", "=HYPERLINK(\"x\").mp4", clip + b"\1")
    bodycam("ingest", "run", str(tmp_path / "dock"))
    table = bodycam("clips", "search").stdout
    assert "\x1b" not in table and len(table.strip().splitlines()) == 3  # header and two rows
    assert "x\\x0a99  P9  FORGED\\x1b[2J.mp4" in table
    csv_out = bodycam("clips", "search", "--format", "csv").stdout
    assert "'=HYPERLINK" in csv_out and ",=HYPERLINK" not in csv_out


@pytest.mark.parametrize("name", ["CAM1_P1_99991231235959.mp4", "CAM1_P1_00010101000000.mp4"])
def test_impossible_times_in_names_are_flagged_not_fatal(bodycam: Bodycam, tmp_path: Path, clip: bytes,
                                                         name: str) -> None:
    bodycam("init")
    put(tmp_path / "dock" / "CAM1", name, clip)
    result = bodycam("ingest", "run", str(tmp_path / "dock"), "--source-tz", "Asia/Shanghai")
    assert "ingested 1" in result.stdout
    (found,) = bodycam.json("clips", "search")
    assert "untrusted_time" in found["flags"]
    assert bodycam.json("ingest", "status")["counts"].get("claimed", 0) == 0


@pytest.mark.parametrize("args", [
    ["gaps", "report", "--from", "0001-01-01", "--to", "2026-12-01"],
    ["--tz", "Asia/Shanghai", "clips", "search", "--from", "0001-01-01"],
    ["clips", "search", "--to", "9999-12-31T23:59:59"],
    ["retention", "plan", "--as-of", "9999-12-31"],
])
def test_times_outside_a_sane_range_are_refused_as_input(bodycam: Bodycam, args: list[str]) -> None:
    bodycam("init")
    result = bodycam(*args, check=False)
    assert result.exit_code == 50 and "outside the years 1900 to 2200" in result.stderr


def test_a_fifo_sidecar_or_manifest_never_hangs(bodycam_env: dict[str, str], tmp_path: Path, clip: bytes) -> None:
    """Subprocesses with a time limit: a hang is the failure looked for."""
    from tests.conftest import run_bodycam

    run_bodycam("init", env=bodycam_env, check=True)
    media = put(tmp_path / "dock" / "CAM1", "CAM1_P1_20261125080000.mp4", clip)
    os.mkfifo(media.with_name(media.name + ".json"))
    proc = run_bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete", env=bodycam_env)
    assert proc.returncode == 0, proc.stderr
    assert media.with_name(media.name + ".json").exists()  # never read, never stored: never released
    session = tmp_path / "room" / "S-1"
    put(session, "part1.mp4", clip + b"\2")
    os.mkfifo(session / "session.json")
    proc = run_bodycam("ingest", "run", "--kind", "interrogation", str(tmp_path / "room"), env=bodycam_env)
    assert proc.returncode == 0 and "not a regular file" in proc.stdout


def test_oversized_values_are_refused_or_flagged_before_anything_is_written(bodycam: Bodycam, tmp_path: Path,
                                                                            clip: bytes) -> None:
    bodycam("init")
    media = put(tmp_path / "dock" / "CAM1", "CAM1_P1_20261125080000.mp4", clip)
    media.with_name(media.name + ".json").write_text(json.dumps({"officer": "P" * 500, "device": "D" * 300}))
    age(media.with_name(media.name + ".json"))
    assert "ingested 1" in bodycam("ingest", "run", str(tmp_path / "dock")).stdout
    (found,) = bodycam.json("clips", "search")
    assert "bad_sidecar" in found["flags"] and found["officer"] == "P1"
    officers = tmp_path / "officers.csv"
    officers.write_text("badge,name,unit\nP1," + "n" * 201 + ",U1\n")
    result = bodycam("officers", "import", str(officers), check=False)
    assert result.exit_code == 50 and f"{officers}:2: field 'name': 201 characters" in result.stderr


def test_csv_rows_are_split_by_csv_rules_only(bodycam: Bodycam, tmp_path: Path) -> None:
    from sqlalchemy import select

    from bodycam.db.models import Event

    bodycam("init")
    header = "event_id,scenario,start,end,officers,unit,case_id,location\n"
    hidden = "E-X,major_incident,2026-11-25T08:00:00Z,2026-11-25T09:00:00Z,P1,,,"
    first = "E-1,dispatch,2026-11-25T08:00:00Z,2026-11-25T08:10:00Z,P1,,,"
    events = tmp_path / "events.csv"
    events.write_text(header + f"{first}park\u0085{hidden}\n")  # a NEL hiding a second row
    result = bodycam("events", "import", str(events), check=False)
    assert result.exit_code == 50 and f"{events}:2: more values than columns" in result.stderr
    with bodycam.app().db.read() as s:
        assert list(s.scalars(select(Event))) == []  # nothing written, no hidden major_incident
    events.write_text(header + f'{first}"park\u0085{hidden}"\n'
                      'E-2,dispatch,2026-11-25T09:00:00Z,2026-11-25T09:10:00Z,P2,,,"line one\nline two"\n')
    bodycam("events", "import", str(events), "--unknown", "warn")
    with bodycam.app().db.read() as s:
        rows = {e.event_id: e for e in s.scalars(select(Event))}
    assert set(rows) == {"E-1", "E-2"}
    assert rows["E-1"].location == f"park\u0085{hidden}" and rows["E-1"].scenario == "dispatch"
    assert rows["E-2"].location == "line one\nline two"  # a quoted newline is kept


@pytest.mark.parametrize("content,message", [
    ("badge,name,badge\nP1,a,P2\n", "column 'badge' appears twice"),
    ("badge,name,unit\nP1," + "x" * 140_000 + ",U\n", "field larger than field limit"),
])
def test_malformed_registry_files_are_refused(bodycam: Bodycam, tmp_path: Path, content: str, message: str) -> None:
    bodycam("init")
    path = tmp_path / "officers.csv"
    path.write_text(content)
    result = bodycam("officers", "import", str(path), check=False)
    assert result.exit_code == 50 and message in result.stderr


def test_an_event_ending_in_9999_is_refused_at_import(bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam("init")
    path = tmp_path / "events.csv"
    path.write_text("event_id,scenario,start,end,officers,unit,case_id,location\n"
                    "E-1,dispatch,2026-11-25T08:00:00Z,9999-12-31T00:00:00Z,P1,,,\n")
    result = bodycam("events", "import", str(path), check=False)
    assert result.exit_code == 50 and f"{path}:2: field 'end':" in result.stderr and "1900 to 2200" in result.stderr
    assert bodycam("gaps", "report", "--from", "2026-11-01", "--to", "2026-12-01", check=False).exit_code in (0, 4)


def test_the_same_assignment_start_twice_is_refused(bodycam: Bodycam, tmp_path: Path) -> None:
    bodycam("init")
    path = tmp_path / "assignments.csv"
    path.write_text("device,officer,start,end\nCAM1,P1,2026-11-01T00:00:00Z,\nCAM1,P2,2026-11-01T00:00:00Z,\n")
    result = bodycam("assignments", "import", str(path), check=False)
    assert result.exit_code == 50 and f"{path}:3: field 'start'" in result.stderr


@pytest.mark.parametrize("toml,message", [
    ("[retention]\ngrace_days = inf\n", "retention.grace_days"),
    ("[retention]\ngrace_days = 1e9\n", "retention.grace_days"),
    ('[[ingest.sources]]\nname = "d"\npath = "/a"\n[[ingest.sources]]\nname = "d"\npath = "/b"\n',
     "two sources are named 'd'"),
])
def test_bad_config_values_are_one_line_errors(bodycam: Bodycam, tmp_path: Path, toml: str, message: str) -> None:
    cfg = tmp_path / "bodycam.toml"
    cfg.write_text(toml)
    result = bodycam("--config", str(cfg), "config", "show", check=False)
    assert result.exit_code == 12 and message in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("pattern,message", [("(", "not a regular expression"),
                                             ("^(?P<officer>.+)$", "lacks the named group(s) device, start")])
def test_a_bad_pattern_on_the_command_line_is_refused(bodycam: Bodycam, tmp_path: Path, pattern: str,
                                                      message: str) -> None:
    bodycam("init")
    (tmp_path / "dock" / "CAM1").mkdir(parents=True)
    result = bodycam("ingest", "run", str(tmp_path / "dock"), "--pattern", pattern, check=False)
    assert result.exit_code == 50 and message in result.stderr


def test_two_sessions_with_one_id_are_not_merged(bodycam: Bodycam, tmp_path: Path, clip: bytes) -> None:
    bodycam("init")
    for n, (room, start) in enumerate((("ROOM-1", "2025-01-01T09:00:00Z"), ("ROOM-2", "2026-11-25T09:00:00Z"))):
        folder = tmp_path / f"batch{n}" / "S-1"
        put(folder, "part1.mp4", clip + bytes([n]))
        (folder / "session.json").write_text(json.dumps({
            "session_id": "S-1", "room": room, "start": start, "end": start.replace("09:", "10:"),
            "interrogators": ["P1"], "files": ["part1.mp4"]}))
        result = bodycam("ingest", "run", "--kind", "interrogation", str(tmp_path / f"batch{n}"))
    assert "already the session of room 'ROOM-1'" in result.stdout
    flagged = bodycam.json("clips", "search", "--flag", "bad_manifest")
    assert len(flagged) == 1 and flagged[0]["device"] != "ROOM-1"


def test_a_locked_sqlite_database_is_a_clear_error(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "BODYCAM_DATABASE_BUSY_SECONDS": "1"}
    cam = Bodycam(env)
    cam("init")
    holder = sqlite3.connect(tmp_path / "bodycam" / "bodycam.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        (tmp_path / "dock" / "CAM1").mkdir(parents=True)
        result = cam("check", check=False)
        assert result.exit_code == 24 and "stayed locked by another process for 1 s" in result.stderr
    finally:
        holder.execute("ROLLBACK")
        holder.close()


names = st.binary(min_size=1, max_size=60).filter(lambda b: b"/" not in b and b"\0" not in b
                                                    and b not in (b".", b".."))
sidecars = st.one_of(st.none(), st.binary(max_size=200), st.dictionaries(
    st.sampled_from(["start", "officer", "device", "clock_offset_seconds"]),
    st.one_of(st.text(max_size=80), st.integers(), st.floats(), st.none()), max_size=4).map(
        lambda d: json.dumps(d).encode()))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=names, sidecar=sidecars)
def test_fuzz_names_and_sidecars_never_exit_70_nor_lose_anything(tmp_path: Path, clip: bytes, name: bytes,
                                                                  sidecar: bytes | None) -> None:
    """Any file name and any sidecar: exit 0 or 3, the file stored or left at its source, never lost."""
    work = Path(tmp_path) / os.urandom(6).hex()
    cam = Bodycam({"XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work)})
    cam("init")
    media = put(work / "dock" / "CAM1", name, clip + os.urandom(4))
    if sidecar is not None and not name.endswith(b".json"):
        side = Path(os.fsdecode(os.fsencode(media) + b".json"))
        side.write_bytes(sidecar)
        age(side)
    result = cam("ingest", "run", str(work / "dock"), "--release", "delete", check=False)
    assert result.exit_code in (0, 3), (result.exit_code, result.output)
    stored = cam.json("clips", "search")
    assert media.exists() or len(stored) == 1  # released only once stored


cells = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cells, min_size=1, max_size=5), min_size=1, max_size=4),
       header=st.sampled_from(["badge,name,unit", "badge,name", "badge,badge", "name,unit", ""]))
def test_fuzz_registry_csv_never_exit_70_nor_half_written(tmp_path: Path, rows: list[list[str]], header: str) -> None:
    """Any CSV: imported whole, or refused with one line (exit 50) and nothing written."""
    import csv
    import io

    from sqlalchemy import func, select

    from bodycam.db.models import Officer

    work = Path(tmp_path) / os.urandom(6).hex()
    cam = Bodycam({"XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work)})
    cam("init")
    buf = io.StringIO()
    csv.writer(buf).writerows([header.split(",")] if header else [])
    csv.writer(buf).writerows(rows)
    path = work / "officers.csv"
    path.write_text(buf.getvalue(), encoding="utf-8")
    result = cam("officers", "import", str(path), check=False)
    assert result.exit_code in (0, 50), (result.exit_code, result.output)
    with cam.app().db.read() as s:
        count = s.scalar(select(func.count()).select_from(Officer))
    if result.exit_code == 50:
        assert count == 0 and len(result.stderr.strip().splitlines()) == 1


@settings(max_examples=30, deadline=None)
@given(key=st.sampled_from(["retention.grace_days", "retention.floor_days", "ingest.workers", "ingest.stable_seconds",
                            "tz", "retention.sweep_at", "store.part_size_mb", "scrub.budget_minutes",
                            "ingest.earliest_recording"]),
       value=st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                       st.text(max_size=20), st.booleans()))
def test_fuzz_config_values_are_refused_in_one_line(key: str, value: object) -> None:
    """Any value for a setting: accepted, or one line with the variable that carried it (exit 10-12)."""
    env = {"BODYCAM_" + key.replace(".", "_").upper(): str(value), "XDG_CONFIG_HOME": "/nonexistent-bodycam"}
    result = Bodycam(env)("config", "show", check=False)
    assert result.exit_code in (0, 10, 11, 12), (result.exit_code, result.output)
    if result.exit_code:
        assert len(result.stderr.strip().splitlines()) == 1 and "BODYCAM_" in result.stderr


def test_a_missing_dock_folder_is_one_line_not_a_traceback(local_bodycam: Bodycam, tmp_path: Path) -> None:
    from bodycam.ingest.runner import run_pass
    from bodycam.ingest.service import make_context

    local_bodycam("init")
    app = local_bodycam.app()
    summary = run_pass(make_context(app), [tmp_path / "not-mounted"], "dock", workers=1, wait_seconds=0)
    assert summary.skipped == [(str(tmp_path / "not-mounted"), "no such folder (not mounted?)")]
    assert summary.failed == 0 and summary.seen == 0


json_values = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30)),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                        max_size=3), max_leaves=6)
manifests = st.one_of(st.binary(max_size=100), st.fixed_dictionaries({}, optional={
    "session_id": json_values | st.text(max_size=200), "room": json_values, "start": json_values | st.just(
        "2026-11-25T08:00:00Z"), "end": json_values | st.just("2026-11-25T09:00:00Z"),
    "interrogators": json_values | st.just(["P1"]), "files": json_values | st.just(["part1.mp4"]),
    "case_id": json_values}).map(lambda d: json.dumps(d).encode()))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(manifest=manifests)
def test_fuzz_manifests_never_exit_70_nor_lose_anything(tmp_path: Path, clip: bytes, manifest: bytes) -> None:
    work = Path(tmp_path) / os.urandom(6).hex()
    cam = Bodycam({"XDG_DATA_HOME": str(work), "XDG_CONFIG_HOME": str(work)})
    cam("init")
    folder = work / "room" / "S-1"
    media = put(folder, "part1.mp4", clip + os.urandom(4))
    (folder / "session.json").write_bytes(manifest)
    result = cam("ingest", "run", "--kind", "interrogation", str(work / "room"), "--release", "delete", check=False)
    assert result.exit_code in (0, 3), (result.exit_code, result.output)
    assert media.exists() or len(cam.json("clips", "search")) == 1


@settings(max_examples=40, deadline=None)
@given(option=st.sampled_from(["--from", "--to", "--sha256", "--officer", "--limit", "--offset", "--case", "--event"]),
       value=st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40))
def test_fuzz_command_options_never_exit_70(option: str, value: str) -> None:
    """The clerk's finder with any option value: results, or a usage or input error."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cam = Bodycam({"XDG_DATA_HOME": tmp, "XDG_CONFIG_HOME": tmp})
        cam("init")
        result = cam("--tz", "Asia/Shanghai", "clips", "search", option, value, check=False)
        assert result.exit_code in (0, 2, 50, 51), (result.exit_code, result.output)


def test_a_file_read_again_in_a_child_gives_the_same_facts(tmp_path: Path, ffmpeg: str) -> None:
    """The child that re-reads a file whose reader died sees what the worker would (a non-UTF-8 name too)."""
    from bodycam.ingest.probe import probe, probe_isolated

    clip = make_clip(tmp_path / os.fsdecode(b"CAM1_\x83J\x83\x81\x83\x89_20261101080000.mp4"), 1.0,
                     creation="2026-11-01T08:00:00Z")
    facts = probe(clip)
    assert facts.error is None and facts.video_codec == "h264" and facts.creation_time is not None
    assert probe_isolated(clip) == facts
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    assert probe_isolated(junk).error == probe(junk).error == "Invalid data found when processing input"
