"""Issue 13: the picture analysis finds what a person watching would name, and only that.

The known-answer set (tests/known_answers.py) is checked twice: on the analyser
itself, and through the whole pipeline (ingest, analysis job, clip record) on both
databases and both stores.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bodycam.analysis.discontinuity import analyse
from bodycam.analysis.stretches import Frame, Packet, candidates, groups, grow, picture_stretches, runs
from bodycam.errors import AnalysisError
from tests.conftest import Bodycam
from tests.known_answers import CASES, Case, matches
from tests.media import age

RATE = 15


@pytest.fixture(scope="module")
def footage(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("known-answers")


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_known_answer(case: Case, footage: Path, ffmpeg: str) -> None:
    found = analyse(case.make(footage, rate=RATE))
    assert matches(found, case.expected, RATE), f"{case.why}: found {found}, expected {case.expected}"


def test_known_answers_at_a_longer_gop_and_a_camera_bitrate(footage: Path, ffmpeg: str) -> None:
    """Two-second groups of pictures at a fixed bitrate, as body cameras record: the same answers."""
    from tests.known_answers import x264
    folder = footage / "cbr"
    for case in CASES:
        if case.suffix != ".mp4":
            continue
        found = analyse(case.make(folder, size="640x360", rate=30, encoder=x264(30, "2M", gop_seconds=2)))
        assert matches(found, case.expected, 30), f"{case.name}: found {found}"


def test_ten_bit_pictures_are_measured(footage: Path, ffmpeg: str) -> None:
    """HEVC cameras record 10 bits: the same answers for black and frozen."""
    from tests.known_answers import x264
    folder = footage / "10bit"
    for case in CASES:
        if case.name in ("black", "frozen", "still"):
            enc = [*x264(RATE), "-pix_fmt", "yuv420p10le"]
            found = analyse(case.make(folder, rate=RATE, encoder=enc))
            assert matches(found, case.expected, RATE), f"{case.name}: found {found}"


def test_known_answers_through_ingest_and_the_analysis_job(bodycam: Bodycam, footage: Path, tmp_path: Path,
                                                           ffmpeg: str) -> None:
    bodycam("init")
    start = (datetime.now(UTC) - timedelta(hours=2)).replace(microsecond=0)
    dock = tmp_path / "dock" / "CAM1"
    dock.mkdir(parents=True)
    names = {}
    for i, case in enumerate(CASES):
        at = start + timedelta(minutes=i)
        name = f"CAM1_P1_{at:%Y%m%d%H%M%S}{case.suffix}"
        (dock / name).write_bytes(case.make(footage, rate=RATE).read_bytes())
        names[name] = case
    age(*dock.iterdir())
    bodycam("ingest", "run", str(tmp_path / "dock"), "--release", "delete")
    clips = bodycam.json("clips", "search")
    assert len(clips) == len(CASES)
    for row in clips:
        case = names[row["source_name"]]
        clip = bodycam.json("clips", "show", str(row["id"]))
        assert "analysis_pending" not in row["flags"], case.name
        found = clip["discontinuities"] or []
        assert matches(found, case.expected, RATE), f"{case.name}: {found}"
        assert ("discontinuity" in row["flags"]) == bool(case.expected), case.name


def test_a_file_ffmpeg_cannot_read_is_an_analysis_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(4000))
    with pytest.raises(AnalysisError, match="cannot"):
        analyse(bad)


def test_a_name_that_is_not_utf8_is_analysed(footage: Path, tmp_path: Path, ffmpeg: str) -> None:
    src = CASES[0].make(footage, rate=RATE)
    odd = tmp_path / os.fsdecode(b"\x83J\x83\x81\x83\x89.mp4")  # Shift-JIS, as a Japanese camera names it
    odd.write_bytes(src.read_bytes())
    assert analyse(odd) == []


# -- the rules, on plain numbers ------------------------------------------------------------
def _frames(kinds: str, rate: float = 10.0) -> list[Frame]:
    """'.' a changing picture, 'r' a repeat of the one before, 'b' black."""
    return [Frame(i / rate, k == "b", 0.0 if k == "r" else 30.0) for i, k in enumerate(kinds)]


def test_a_frozen_picture_refreshed_at_a_keyframe_is_one_stretch() -> None:
    frames = _frames("." * 5 + "r" * 9 + "." + "r" * 9 + "." * 5)  # the keyframe re-encodes the held picture
    assert [s.as_dict() for s in picture_stretches(frames, 0.0, 0.1)] == [
        {"kind": "frozen", "at": 0.4, "seconds": 2.0}]


def test_short_stretches_are_not_findings_and_black_is_not_frozen() -> None:
    frames = _frames("." * 3 + "r" * 5 + "." * 20 + "b" * 15 + "." * 3)
    frames[30] = Frame(frames[30].at, True, 0.0)  # a black picture repeating the last is black, not frozen
    found = [s.as_dict() for s in picture_stretches(frames, 0.0, 0.1)]
    assert found == [{"kind": "black", "at": 2.8, "seconds": 1.5}]


def test_only_quiet_groups_and_their_neighbours_are_decoded() -> None:
    packets = []
    for second in range(10):
        for k in range(10):
            size = 20 if 4 <= second <= 5 and k else 5000
            packets.append(Packet(second + k / 10, 30000 if k == 0 else size, k == 0))
    gops = groups(packets)
    assert runs(candidates(gops, [], macroblocks=300)) == [(4, 5)]
    assert runs(candidates(gops, [8.0], macroblocks=300)) == [(4, 5), (8, 8)]  # and a black keyframe
    assert candidates(gops, [], macroblocks=10**6) != set()  # all-skip pictures of a big frame are tiny too


def test_a_held_picture_is_one_the_encoder_copied_or_skipped_entirely() -> None:
    assert Frame(0, False, 0.2).repeat  # copied: the same in every block
    assert Frame(0, False, 2.0, tiny=True).repeat  # every block skipped, the reference refined at a CBR
    assert not Frame(0, False, 2.0).repeat  # a still room's sensor noise, coded
    assert not Frame(0, False, 40.0, tiny=True).repeat  # a skipped B picture that still moves
    assert not Frame(0, False, None).repeat


def test_a_stretch_at_the_edge_of_what_was_decoded_grows_into_the_next_group() -> None:
    assert grow((3, 5), _frames("bb.."), 10) == {2}
    assert grow((3, 5), _frames(".r.."), 10) == {2}
    assert grow((3, 5), _frames("...r"), 10) == {6}
    assert grow((0, 9), _frames("b..b"), 10) == set()  # nothing before the first or after the last
    assert grow((3, 5), _frames("...."), 10) == set()
