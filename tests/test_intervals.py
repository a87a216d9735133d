"""Properties of the interval arithmetic behind every coverage figure."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bodycam.coverage.intervals import holes, length, merge, within

spans = st.lists(st.tuples(st.floats(-100, 1100, allow_nan=False), st.floats(0, 300, allow_nan=False))
                 .map(lambda p: (p[0], p[0] + p[1])), max_size=30)
windows = st.tuples(st.floats(0, 900, allow_nan=False), st.floats(0.001, 600, allow_nan=False)).map(
    lambda p: (p[0], p[0] + p[1]))


@given(spans)
def test_merge_is_sorted_disjoint_and_covers_the_same_points(xs: list[tuple[float, float]]) -> None:
    m = merge(xs)
    assert all(a < b for a, b in m)
    assert all(m[i][1] < m[i + 1][0] for i in range(len(m) - 1))
    for a, b in xs:
        if b > a:
            mid = (a + b) / 2
            assert any(x <= mid <= y for x, y in m)
    assert merge(m) == m


@given(spans, windows)
def test_covered_plus_holes_is_the_window(xs: list[tuple[float, float]], w: tuple[float, float]) -> None:
    covered = within(xs, w)
    gaps = holes(w, covered)
    total = w[1] - w[0]
    assert abs(length(covered) + length(gaps) - total) < 1e-6 * max(1.0, total)
    assert 0 <= length(covered) / total <= 1 + 1e-9
    assert all(w[0] <= a < b <= w[1] for a, b in covered + gaps)
    assert merge(covered + gaps) == [w] or total < 1e-9


def test_examples() -> None:
    assert merge([(5, 10), (0, 5), (20, 30), (25, 26)]) == [(0, 10), (20, 30)]
    assert within([(0, 10), (20, 30)], (5, 25)) == [(5, 10), (20, 25)]
    assert holes((5, 25), [(5, 10), (20, 25)]) == [(10, 20)]
    assert holes((0, 10), []) == [(0, 10)]
