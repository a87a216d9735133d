"""Report periods in the inspector's zone: a day, an ISO week (Monday to Sunday), a month. Pure."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo

from bodycam.errors import InputError


def _date(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"{option}: {text!r} is not a date (YYYY-MM-DD)") from None


def day_span(spec: str, today: date) -> tuple[date, date]:
    """'yesterday', 'today' or YYYY-MM-DD: that day, and the day after."""
    first = {"yesterday": today - timedelta(days=1), "today": today}.get(spec) or _date(spec, "--day")
    return first, first + timedelta(days=1)


def week_span(spec: str, today: date) -> tuple[date, date]:
    """'last', 'this' or a date: the Monday of that week, and the Monday after."""
    anchor = {"last": today - timedelta(days=7), "this": today}.get(spec) or _date(spec, "--week")
    monday = anchor - timedelta(days=anchor.weekday())
    return monday, monday + timedelta(days=7)


def month_span(spec: str, today: date) -> tuple[date, date]:
    """'last', 'this' or YYYY-MM: the first of that month, and the first of the next."""
    if spec == "this":
        first = today.replace(day=1)
    elif spec == "last":
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    else:
        try:
            first = date.fromisoformat(f"{spec}-01")
        except ValueError:
            raise InputError(f"--month: {spec!r} is not a month (YYYY-MM, 'this' or 'last')") from None
    nxt = (first + timedelta(days=32)).replace(day=1)
    return first, nxt


def bounds(first: date, after: date, zone: tzinfo) -> tuple[datetime, datetime]:
    """Local midnights in ``zone`` (a day is 23 or 25 hours across a DST change)."""
    return datetime.combine(first, time(), zone), datetime.combine(after, time(), zone)


def scheduled(today: date, daily: bool, weekly: bool, monthly: bool) -> list[tuple[str, date, date]]:
    """(name, first day, day after the last) of each report due on ``today``: yesterday;
    last week on Mondays; last month on the 1st."""
    out = []
    if daily:
        out.append(("daily", *day_span("yesterday", today)))
    if weekly and today.weekday() == 0:
        out.append(("weekly", *week_span("last", today)))
    if monthly and today.day == 1:
        out.append(("monthly", *month_span("last", today)))
    return out
