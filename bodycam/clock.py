"""The only clock bodycam trusts is its own: the ingesting host's, checked against
the database server's. Retention, receipt times and the judgement of a camera's
clock all read it through a :class:`Clock`, so tests move time by injection
instead of sleeping, and production code can never be handed another "now"
from the command line or the environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bodycam.errors import ClockUntrusted

CLOCK_TOLERANCE = timedelta(seconds=60)
"""How far the host and the database server may disagree before ingest and sweeps refuse."""


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    """The host's clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class ManualClock:
    """A clock that only moves when told to (tests and what-if tools)."""

    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self.at

    def advance(self, delta: timedelta) -> None:
        self.at += delta


def check_against(server_now: datetime | None, clock: Clock, tolerance: timedelta = CLOCK_TOLERANCE) -> None:
    """Refuse to go on when our clock and the database server's disagree.

    ``server_now`` is None where there is no second clock to compare with (SQLite
    reads the host's own clock)."""
    if server_now is None:
        return
    ours = clock.now()
    skew = (ours - server_now).total_seconds()
    if abs(skew) > tolerance.total_seconds():
        raise ClockUntrusted(
            f"this host's clock ({ours.isoformat(timespec='seconds')}) and the database server's "
            f"({server_now.isoformat(timespec='seconds')}) differ by {skew:+.0f} s (more than "
            f"{tolerance.total_seconds():.0f} s): fix the time (NTP) before ingesting or sweeping"
        )
