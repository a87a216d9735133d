"""From per-packet and per-frame facts to findings: pure functions, no I/O.

Kept apart from the decoding so the rules (what is a jump, when two stretches are
one, which pictures must be decoded) can be tested on plain numbers.
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["jump", "black", "frozen"]

JUMP_SECONDS = 1.0
"""A step between consecutive pictures (or audio packets) longer than this is a jump: a pause or a cut."""
MIN_SECONDS = 1.0
"""Black or frozen stretches shorter than this are not findings."""
MERGE_GAP = 0.5
"""Stretches of one kind this close are one finding (a frozen picture re-encoded at a keyframe, say)."""
QUIET_SHARE = 0.25
"""An inter packet under this share of the file's median inter packet is quiet: a picture that barely changed."""
TINY_BYTES_PER_MACROBLOCK = 0.1
"""...or under this many bytes per 16x16 block: what an encoder writes to repeat a picture (x264: 13 bytes
at 320x240), so a file that is frozen throughout is still a candidate."""
QUIET_MIN_SHARE = 0.2
"""A group of pictures with at least this share of quiet packets (and at least two) is decoded in full."""


@dataclass(frozen=True)
class Stretch:
    kind: Kind
    at: float  # seconds from the start of the file
    seconds: float

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "at": round(self.at, 3), "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class Packet:
    """One packet of the analysed stream, as the demuxer gives it: no decode."""

    at: float  # presentation time, seconds
    size: int
    key: bool


IDENTICAL = 0.5
"""A picture within this of the one before in every 16x16 block (mean grey levels) repeats it..."""
SIMILAR = 3.0
"""...and so does one within this whose packet is tiny: an encoder at a constant bitrate spends its spare
bits refining a held picture at each reference frame, and skips every block of the pictures between."""


@dataclass(frozen=True)
class Frame:
    """One decoded picture: where it is shown, whether it is black, how much it changed, how it was coded."""

    at: float
    black: bool
    change: float | None  # the largest 16x16 block's mean difference from the picture before; None: first seen
    tiny: bool = False  # its packet is under TINY_BYTES_PER_MACROBLOCK: every block skipped

    @property
    def repeat(self) -> bool:
        """Whether this picture holds the one before (see IDENTICAL and SIMILAR)."""
        if self.change is None:
            return False
        return self.change <= IDENTICAL or (self.tiny and self.change <= SIMILAR)


def jumps(times: Iterable[float], base: float) -> list[Stretch]:
    """Steps between consecutive presentation times longer than JUMP_SECONDS."""
    ordered = sorted(times)
    return [Stretch("jump", a - base, b - a) for a, b in itertools.pairwise(ordered) if b - a > JUMP_SECONDS]


INTRA_GROUP_SECONDS = 1.0
"""Where every picture is a keyframe, pictures are grouped by the second instead."""


def groups(packets: Sequence[Packet]) -> list[list[Packet]]:
    """Packets in presentation order, cut at each keyframe (a group of pictures each)."""
    ordered = sorted(packets, key=lambda p: p.at)
    intra = all(p.key for p in ordered)
    out: list[list[Packet]] = []
    for p in ordered:
        if not out or (p.at - out[-1][0].at >= INTRA_GROUP_SECONDS if intra else p.key):
            out.append([])
        out[-1].append(p)
    return out


def tiny_limit(macroblocks: int) -> float:
    return TINY_BYTES_PER_MACROBLOCK * macroblocks


def _is_quiet(packets: Sequence[Packet], macroblocks: int) -> list[bool]:
    inter = [p.size for p in packets if not p.key]
    if not inter:  # every picture is a keyframe (MJPEG and the like): a repeated picture repeats its size
        ordered = sorted(packets, key=lambda p: p.at)
        same = {id(b) for a, b in itertools.pairwise(ordered) if a.size == b.size}
        return [id(p) in same for p in packets]
    limit = max(QUIET_SHARE * statistics.median(inter), tiny_limit(macroblocks))
    return [not p.key and p.size < limit for p in packets]


def candidates(gops: Sequence[Sequence[Packet]], black_keys: Iterable[float], macroblocks: int) -> set[int]:
    """The groups of pictures that must be decoded.

    A group is a candidate when enough of its packets are quiet or when its
    keyframe was seen black; a stretch that reaches the edge of what was decoded
    grows into the next group (``grow``), so its start and end are found to the picture.
    """
    packets = [p for gop in gops for p in gop]
    quiet = dict(zip((id(p) for p in packets), _is_quiet(packets, macroblocks), strict=True))
    black_at = set(black_keys)
    wanted: set[int] = set()
    for i, gop in enumerate(gops):
        n = sum(quiet[id(p)] for p in gop)
        if (n >= 2 and n >= QUIET_MIN_SHARE * len(gop)) or gop[0].at in black_at:
            wanted.add(i)
    return wanted


def runs(wanted: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive group numbers as (first, last) runs: each is decoded in one go."""
    out: list[tuple[int, int]] = []
    for i in sorted(wanted):
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def grow(run: tuple[int, int], frames: Sequence[Frame], count: int) -> set[int]:
    """The groups next to a decoded run that a stretch may go on into: black or repeated pictures at its edge."""
    if not frames:
        return set()
    out: set[int] = set()
    if run[0] > 0 and (frames[0].black or (len(frames) > 1 and frames[1].repeat)):
        out.add(run[0] - 1)
    if run[1] < count - 1 and (frames[-1].black or frames[-1].repeat):
        out.add(run[1] + 1)
    return out


def _runs(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(intervals):
        if merged and start - merged[-1][1] <= MERGE_GAP:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def picture_stretches(frames: Sequence[Frame], base: float, frame_seconds: float) -> list[Stretch]:
    """Black and frozen stretches from decoded pictures (in presentation order, possibly in several spans).

    A black picture shows from its time to the next picture's; a repeated picture
    extends the stretch from the picture it repeats. A black picture is not also
    frozen. Stretches of one kind within MERGE_GAP are one.
    """
    black: list[tuple[float, float]] = []
    frozen: list[tuple[float, float]] = []
    for i, f in enumerate(frames):
        nxt = frames[i + 1].at if i + 1 < len(frames) and frames[i + 1].at - f.at < 4 * frame_seconds \
            else f.at + frame_seconds
        if f.black:
            black.append((f.at, nxt))
        elif f.repeat and i:
            frozen.append((frames[i - 1].at, nxt))
    out = [Stretch("black", a - base, b - a) for a, b in _runs(black) if b - a >= MIN_SECONDS - 1e-6]
    out += [Stretch("frozen", a - base, b - a) for a, b in _runs(frozen) if b - a >= MIN_SECONDS - 1e-6]
    return out
