"""Interval arithmetic on (start, end) pairs of seconds: pure, property-tested."""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[float, float]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint, non-empty intervals covering the same points (touching ones join)."""
    out: list[Interval] = []
    for start, end in sorted((a, b) for a, b in intervals if b > a):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def within(intervals: Iterable[Interval], window: Interval) -> list[Interval]:
    """The parts of the merged intervals inside ``window``."""
    lo, hi = window
    return [(max(a, lo), min(b, hi)) for a, b in merge(intervals) if b > lo and a < hi]


def holes(window: Interval, covered: list[Interval]) -> list[Interval]:
    """The parts of ``window`` not covered (``covered`` as returned by :func:`within`)."""
    lo, hi = window
    out, cursor = [], lo
    for a, b in covered:
        if a > cursor:
            out.append((cursor, a))
        cursor = max(cursor, b)
    if cursor < hi:
        out.append((cursor, hi))
    return out


def length(intervals: Iterable[Interval]) -> float:
    return sum(b - a for a, b in intervals)
