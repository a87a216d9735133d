"""Issue 15: segments of one recording are placed end to start; overlapping clips of one camera are flagged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from bodycam.index.segments import Segment, overlaps, place
from tests.conftest import Bodycam
from tests.media import age, make_clip

T0 = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)


def seg(cid: int, seq: int, seconds: float, device: str = "CAM1", recording: str = "20261125220000") -> Segment:
    return Segment(cid, device, recording, seq, T0, seconds)


def test_each_segment_starts_where_the_one_before_ends() -> None:
    got = place([seg(3, 3, 5.0), seg(1, 1, 10.0), seg(2, 2, 20.0)])
    assert got == {1: T0, 2: T0 + timedelta(seconds=10), 3: T0 + timedelta(seconds=30)}


def test_a_missing_segment_stops_the_placement_and_recordings_and_cameras_stay_apart() -> None:
    assert place([seg(1, 1, 10.0), seg(3, 3, 5.0)]) == {1: T0}  # segment 2 has not arrived
    assert place([seg(2, 2, 10.0), seg(3, 3, 5.0)]) == {}  # nor segment 1
    got = place([seg(1, 1, 10.0), seg(2, 2, 5.0, device="CAM2"), seg(3, 0, 4.0, recording="20261125230000")])
    assert got == {1: T0, 3: T0}


def test_overlaps_beyond_a_second_are_found_touching_clips_are_not() -> None:
    s = timedelta(seconds=1)
    clips = [(1, T0, T0 + 10 * s), (2, T0 + 10 * s, T0 + 20 * s), (3, T0 + 19.5 * s, T0 + 25 * s),
             (4, T0 + 5 * s, T0 + 8 * s)]
    assert overlaps(clips) == [(1, 4, 3.0)]


def test_segments_get_their_own_start_and_an_overlapping_clip_is_flagged(local_bodycam: Bodycam,
                                                                          tmp_path: Path) -> None:
    bodycam = local_bodycam
    bodycam("init")
    start = (bodycam.clock.now() - timedelta(hours=1)).replace(microsecond=0)
    stamp = f"{start:%Y%m%d%H%M%S}"
    cam = tmp_path / "dock" / "CAM1"
    for seq, (seconds, pattern) in enumerate(((2.0, "testsrc"), (1.0, "testsrc2"), (2.0, "testsrc2")), 1):
        age(make_clip(cam / f"CAM1_P1_{stamp}_{seq:04d}.mp4", seconds, pattern=pattern))
    events = tmp_path / "events.csv"
    events.write_text("event_id,scenario,start,end,officers\n"
                      f"E1,dispatch,{start.isoformat()},{(start + timedelta(seconds=5)).isoformat()},P1\n")
    bodycam("events", "import", str(events), "--unknown", "warn")
    summary = bodycam.json("ingest", "run", str(tmp_path / "dock"))
    assert summary["overlaps"] == []

    clips = {c["source_name"][-8:-4]: c for c in bodycam.json("clips", "search", "--officer", "P1")}
    starts = {seq: datetime.fromisoformat(c["start"]) - start for seq, c in clips.items()}
    assert [round(starts[k].total_seconds(), 1) for k in ("0001", "0002", "0003")] == [0.0, 2.0, 3.0]
    assert [clips[k]["time_source"] for k in ("0001", "0002", "0003")] == ["filename", "segment", "segment"]
    span = ["--from", (start - timedelta(hours=1)).isoformat(), "--to", (start + timedelta(hours=1)).isoformat()]
    report = bodycam.json("gaps", "report", *span, ok=(0, 4))
    assert [f["kind"] for f in report["findings"]] == []  # no false early_stop
    shown = bodycam.json("clips", "show", str(clips["0002"]["id"]))
    assert "segment 2 of the recording" in str(shown)  # the original time is kept beside the new one

    age(make_clip(cam / f"CAM1_P1_{stamp}.mp4", 3.0))  # a clock reset: the same start
    summary = bodycam.json("ingest", "run", str(tmp_path / "dock"))
    assert len(summary["overlaps"]) >= 1, summary
    flagged = bodycam.json("clips", "search", "--flag", "overlap")
    assert len(flagged) >= 2
    bodycam("audit", "verify")


def test_a_pattern_learnt_later_reresolves_stored_clips_as_audited_corrections(local_bodycam: Bodycam,
                                                                                tmp_path: Path) -> None:
    """Another vendor's names fell back to the mtime; re-ingesting is a duplicate; reresolve fixes them."""
    bodycam = local_bodycam
    bodycam("init")
    start = (bodycam.clock.now() - timedelta(hours=3)).replace(microsecond=0)
    name = f"VEND-{start:%Y%m%d-%H%M%S}-P7.mp4"
    age(make_clip(tmp_path / "dock" / "CAM5" / name, 2.0))
    bodycam("ingest", "run", str(tmp_path / "dock"))
    (clip,) = bodycam.json("clips", "search", "--device", "CAM5")
    assert clip["time_source"] == "mtime" and "untrusted_time" in clip["flags"] and clip["officer"] is None

    pattern = r"^VEND-(?P<start>\d{8}-\d{6})-(?P<officer>P\d+)\.mp4$"
    preview = bodycam.json("clips", "reresolve", "--pattern", pattern, "--source-tz", "UTC", "--dry-run")
    assert [(c["clip"], c["officer"]) for c in preview["clips"]] == [(clip["id"], "P7")]
    assert bodycam.json("clips", "search", "--device", "CAM5")[0]["time_source"] == "mtime"  # nothing changed

    bodycam("clips", "reresolve", "--pattern", pattern, "--source-tz", "UTC")
    (after,) = bodycam.json("clips", "search", "--device", "CAM5")
    assert datetime.fromisoformat(after["start"]) == start and after["officer"] == "P7"
    assert "untrusted_time" not in after["flags"]
    assert bodycam.json("clips", "reresolve", "--pattern", pattern, "--source-tz", "UTC")["clips"] == []
    assert bodycam.json("audit", "log", "--action", "clip.correct")[0]["details"]["reason"].startswith(
        "file name read with the pattern")
    result = bodycam("clips", "reresolve", "--pattern", "(unclosed", check=False)
    assert result.exit_code == 50 and "--pattern" in result.stderr
