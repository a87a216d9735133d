"""Discontinuities inside a file: timestamp jumps, black and frozen pictures (method: docs/coverage.md).

Read at the speed of the disk, not of the decoder (PyAV, FFmpeg in-process, one
thread, so a worker uses one core):

1. One demux of the file, no decode: every packet's time, size and keyframe flag.
   Jumps come from the times alone. Keyframes at least KEY_SAMPLE_SECONDS apart are
   decoded on their own (``skip_frame``) and checked for black.
2. Only the groups of pictures that the packets or the keyframes point at are
   decoded in full (stretches.candidates): a repeated picture is coded as a tiny
   inter packet, a black one as a small one. Every picture there is measured.

A file with no picture is checked for jumps in its audio. A file FFmpeg cannot
open raises AnalysisError: the job is retried, then flagged ``analysis_failed``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container
import av.error
import av.stream
import av.video.frame
import numpy as np

from bodycam.analysis import measures
from bodycam.analysis.stretches import (
    Frame,
    Packet,
    Stretch,
    candidates,
    groups,
    grow,
    jumps,
    picture_stretches,
    runs,
    tiny_limit,
)
from bodycam.avfile import open_input
from bodycam.errors import AnalysisError

KEY_SAMPLE_SECONDS = 4.0
"""Keyframes decoded for the black check are at least this far apart: a black stretch whose
inter packets stay full-size (heavy sensor noise) is found when it covers one."""
_PLANAR_8BIT = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "yuv411p", "yuv440p",
                "yuvj440p", "nv12", "nv21", "gray"}
_PLANAR_10BIT = {"yuv420p10le", "yuv422p10le", "yuv444p10le", "gray10le"}


@contextmanager
def _opened(path: Path) -> Iterator[av.container.InputContainer]:
    try:
        container = open_input(path)
    except av.error.FFmpegError as exc:
        raise AnalysisError(f"cannot open for analysis: {exc.strerror or exc}") from None
    try:
        yield container
    finally:
        container.close()


def _luma(frame: av.video.frame.VideoFrame) -> tuple[np.ndarray, bool]:
    """The picture's luma plane as an array (a view, no copy where it can be), and whether it is full-range."""
    name = frame.format.name
    if name in _PLANAR_10BIT:  # HEVC cameras: the top 8 of 10 bits
        plane = frame.planes[0]
        wide = np.frombuffer(memoryview(plane), np.uint16).reshape(-1, plane.line_size // 2)
        return (wide[: frame.height, : frame.width] >> 2).astype(np.uint8), frame.color_range == 2
    if name not in _PLANAR_8BIT:
        frame = frame.reformat(format="gray")
        name = "gray"
    plane = frame.planes[0]
    luma = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[: frame.height, : frame.width]
    full = name.startswith("yuvj") or name == "gray" or frame.color_range == 2
    return luma, full


def _seconds(value: int | None, base: float) -> float | None:
    return None if value is None else value * base


def _base(stream: Any) -> float:
    """The stream's time base as a float: times are compared to the microsecond, and Fractions are slow."""
    return float(stream.time_base or Fraction(1, 1000))


@dataclass
class _Scan:
    packets: list[Packet]
    black_keys: list[float]
    macroblocks: int
    frame_seconds: float


def _decoder(stream: av.stream.Stream) -> Any:
    """One thread (a worker is a core), no deblocking: it smooths block edges, which no measure here needs."""
    cc = stream.codec_context
    cc.thread_count = 1
    cc.thread_type = "NONE"
    cc.options = {"skip_loop_filter": "all"}
    return cc


def _black_keys(stream: Any, frames: list[Any]) -> list[float]:
    times = [(_seconds(f.pts, _base(stream)), f) for f in frames]  # a drained frame has no time base of its own
    return [at for at, f in times if at is not None and measures.is_black(*_luma(f))]


def _scan(container: av.container.InputContainer, stream: Any, with_keys: bool) -> _Scan:
    """Pass 1: every packet's time, size and key flag; sampled keyframes decoded and checked for black."""
    packets: list[Packet] = []
    black_keys: list[float] = []
    cc = _decoder(stream) if with_keys else None
    if cc is not None:
        cc.skip_frame = "NONKEY"
    last_sample = float("-inf")
    base = _base(stream)
    for packet in container.demux(stream):
        at = _seconds(packet.pts if packet.pts is not None else packet.dts, base)
        if at is None or not packet.size:
            continue
        packets.append(Packet(at, packet.size, packet.is_keyframe))
        if cc is not None and packet.is_keyframe and at - last_sample >= KEY_SAMPLE_SECONDS:
            last_sample = at
            black_keys += _black_keys(stream, _decoded(cc, packet))
    if cc is not None:
        black_keys += _black_keys(stream, _decoded(cc, None))
    width, height = (stream.codec_context.width or 0, stream.codec_context.height or 0) if with_keys else (0, 0)
    rate = stream.average_rate or stream.guessed_rate if with_keys else None
    return _Scan(packets, black_keys, ((width + 15) // 16) * ((height + 15) // 16),
                 1 / float(rate) if rate else 1 / 30)


def _decoded(cc: Any, packet: Any) -> list[Any]:
    """Pictures out of the decoder for one packet (None drains it); a damaged packet gives none."""
    try:
        return list(cc.decode(packet))
    except (av.error.InvalidDataError, av.error.EOFError):
        return []


@dataclass
class _Group:
    """The decoded pictures of one group, with its first and last luma kept until both neighbours are known."""

    frames: list[Frame]
    first: np.ndarray | None
    last: np.ndarray | None


def _decode_group(container: av.container.InputContainer, stream: Any, start: float, end: float,
                  tiny: Callable[[float], bool]) -> _Group:
    """Every picture shown in [start, end), measured; decoding starts at the keyframe at ``start``."""
    cc = stream.codec_context
    base = _base(stream)
    container.seek(int(start / base), stream=stream, backward=True)
    cc.flush_buffers()
    frames: list[Frame] = []
    first: np.ndarray | None = None
    previous: np.ndarray | None = None
    for packet in itertools.chain(container.demux(stream), [None]):
        if packet is not None:
            at = _seconds(packet.pts, base)
            if packet.is_keyframe and at is not None and at >= end - 1e-6:
                packet = None  # the next group starts: drain what the decoder still holds
        for frame in _decoded(cc, packet):
            shown_at = _seconds(frame.pts, base)  # a drained frame carries no time base of its own
            if shown_at is None or not start - 1e-6 <= shown_at < end:
                continue
            luma, full = _luma(frame)
            frames.append(Frame(shown_at, measures.is_black(luma, full), measures.change(luma, previous),
                                tiny(shown_at)))
            previous = luma  # a view that keeps its frame alive: the decoder never writes a frame it gave out
            first = previous if first is None else first
        if packet is None:
            break
    return _Group(frames, first, previous)


def _stitch(groups_: dict[int, _Group], i: int) -> None:
    """Measure the first picture of group i against the last of group i - 1, when both are decoded."""
    before, this = groups_.get(i - 1), groups_.get(i)
    if before is None or this is None or not this.frames:
        return
    this.frames[0] = replace(this.frames[0], change=measures.change(this.first, before.last)
                             if this.first is not None and before.last is not None else None)


def _pictures(path: Path, gops: list[list[Packet]], wanted: set[int], tiny_bytes: float) -> list[Frame]:
    """Pass 2: every picture of the wanted groups, measured, in presentation order.

    Each group is decoded once. A run whose edge picture is black or repeated grows
    into the next group, until every stretch ends inside what was decoded.
    """
    sizes = {round(p.at, 6): p.size for gop in gops for p in gop}

    def tiny(at: float) -> bool:
        return sizes.get(round(at, 6), 1 << 62) < tiny_bytes

    decoded: dict[int, _Group] = {}
    todo = set(wanted)
    with _opened(path) as container:
        stream = container.streams.video[0]
        _decoder(stream)
        while todo:
            for i in sorted(todo):
                end = gops[i + 1][0].at if i + 1 < len(gops) else float("inf")
                decoded[i] = _decode_group(container, stream, gops[i][0].at, end, tiny)
                _stitch(decoded, i)
                _stitch(decoded, i + 1)
            for i, group in decoded.items():  # a neighbour decoded or out of reach on both sides: lumas not needed
                if (i - 1 in decoded or i == 0) and (i + 1 in decoded or i + 1 == len(gops)):
                    group.first = group.last = None
            todo = set()
            for first, last in runs(decoded):
                frames = [f for i in range(first, last + 1) for f in decoded[i].frames]
                todo |= grow((first, last), frames, len(gops))
            todo -= decoded.keys()
    return sorted((f for g in decoded.values() for f in g.frames), key=lambda f: f.at)


def analyse(path: Path) -> list[dict[str, Any]]:
    """Every discontinuity found, ordered by where it starts in the file."""
    found: list[Stretch] = []
    try:
        with _opened(path) as container:
            video = container.streams.video[0] if container.streams.video else None
            audio = container.streams.audio[0] if container.streams.audio else None
            stream = video or audio
            if stream is None:
                return []
            scan = _scan(container, stream, with_keys=video is not None)
        if not scan.packets:
            return []
        base = min(p.at for p in scan.packets)
        found += jumps((p.at for p in scan.packets), base)
        gops = groups(scan.packets) if video is not None else []
        wanted = candidates(gops, scan.black_keys, scan.macroblocks)
        if wanted:
            found += picture_stretches(_pictures(path, gops, wanted, tiny_limit(scan.macroblocks)), base,
                                       scan.frame_seconds)
    except av.error.FFmpegError as exc:
        raise AnalysisError(f"cannot read for analysis: {exc.strerror or exc}") from None
    except ValueError as exc:  # a picture layout the measures cannot take: the clip's failure, not the worker's
        raise AnalysisError(f"cannot measure the pictures: {exc}") from None
    return [s.as_dict() for s in sorted(found, key=lambda s: (s.at, s.kind))]
