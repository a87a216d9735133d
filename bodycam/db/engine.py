"""Engine set-up that behaves alike on SQLite and PostgreSQL.

SQLite: WAL, foreign keys, a generous busy timeout and ``BEGIN IMMEDIATE`` for
write transactions, so that two processes appending to the audit chain queue up
instead of forking it. PostgreSQL: psycopg 3 with pre-ping.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from sqlalchemy.orm import Session

from bodycam.config import mask_url, os_identity
from bodycam.errors import ConfigError, DatabaseBusy, DatabaseUnreachable, PermissionDenied, RuleRefused

_IMMEDIATE = "bodycam_immediate"
log = logging.getLogger(__name__)


class Database:
    """One engine and two kinds of session: read (deferred) and write (serialised)."""

    def __init__(self, url: str, busy_seconds: float = 30.0, reconnect_seconds: float = 60.0) -> None:
        self.url = url
        self.busy_seconds = busy_seconds
        self.reconnect_seconds = reconnect_seconds
        self._reached = False
        self._outage = threading.Lock()
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigError(f"database.url: not a database URL: {mask_url(url)}") from None
        self.dialect = parsed.get_backend_name()
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                _create_private(Path(parsed.database).expanduser())
            kwargs["connect_args"] = {"timeout": busy_seconds}
        elif self.dialect == "postgresql":
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")
            kwargs["pool_pre_ping"] = True
            kwargs["connect_args"] = {"connect_timeout": 10}
        else:
            raise ConfigError(f"database.url: unsupported database {self.dialect!r} (sqlite or postgresql)")
        try:
            self.engine: Engine = create_engine(parsed, **kwargs)
        except Exception as exc:  # a missing driver, a malformed option
            raise ConfigError(f"database.url: {exc}") from None
        if self.dialect == "sqlite":
            _sqlite_setup(self.engine, busy_seconds)

    def identity(self) -> str:
        """Who is acting, as the engines authenticate it: the connection's database role on PostgreSQL
        (the audit log refuses any other name there), the operating-system user on SQLite."""
        if self.dialect == "postgresql":
            with self.read() as s:
                return str(s.execute(text("SELECT session_user")).scalar_one())
        return os_identity()

    # -- sessions ---------------------------------------------------------------
    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._guard(), self._connect(self.engine) as conn, Session(conn, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction that commits on success and holds the write lock early."""
        bind = self.engine.execution_options(**{_IMMEDIATE: True})
        with self._guard(), self._connect(bind) as conn, Session(conn, expire_on_commit=False) as session, \
                session.begin():
            if self.dialect == "postgresql":
                session.execute(text(f"SET LOCAL lock_timeout = '{int(self.busy_seconds * 1000)}ms'"))
            yield session

    def _connect(self, bind: Engine) -> Connection:
        """A connection, waiting up to ``reconnect_seconds`` for a server that went away (a restart, a
        fail-over) and saying so once; a server this process never reached fails at once (a wrong URL
        should not hang). A transaction cut off mid-way is not retried here: its caller decides."""
        deadline = time.monotonic() + self.reconnect_seconds
        delay, said = 0.25, False
        while True:
            try:
                conn = bind.connect()
            except OperationalError as exc:
                left = deadline - time.monotonic()
                if not (self._reached and _is_connect_failure(exc)) or left <= 0:
                    raise
                if not said:
                    said = True
                    if self._outage.acquire(blocking=False):  # one line per outage, not one per thread
                        log.warning("database %s unreachable (%s); waiting up to %g s for it",
                                    mask_url(self.url), _first_line(exc), self.reconnect_seconds)
                time.sleep(min(delay, left))
                delay = min(delay * 2, 5.0)
                continue
            if said and self._outage.locked():
                self._outage.release()
                log.warning("database %s reachable again", mask_url(self.url))
            self._reached = True
            return conn

    @contextmanager
    def _guard(self) -> Iterator[None]:
        try:
            yield
        except DBAPIError as exc:
            state = getattr(exc.orig, "sqlstate", None)
            if state == "42501":
                raise PermissionDenied(f"database role {self._role()}: {_first_line(exc)}") from None
            if state == "P0001":
                raise RuleRefused(f"the database refused: {_first_line(exc)}; nothing was written") from None
            if not isinstance(exc, OperationalError):
                raise
            if _is_connect_failure(exc):
                raise DatabaseUnreachable(self._unreachable(exc)) from None
            if _is_busy(exc):
                raise DatabaseBusy(f"database {mask_url(self.url)} stayed locked by another process for "
                                   f"{self.busy_seconds:g} s (database.busy_seconds): try again") from None
            raise

    def _unreachable(self, exc: BaseException) -> str:
        return f"cannot reach database {mask_url(self.url)}: {_first_line(exc)}"

    def _role(self) -> str:
        return str(self.engine.url.username or "(default)")

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("select 1"))
        except OperationalError as exc:
            raise DatabaseUnreachable(self._unreachable(exc)) from None

    def server_now(self) -> datetime | None:
        """The database server's clock; None for SQLite (it reads this host's own clock)."""
        if self.dialect != "postgresql":
            return None
        with self._guard(), self.engine.connect() as conn:
            value = conn.execute(text("SELECT clock_timestamp()")).scalar()
        return value if isinstance(value, datetime) else None

    def dispose(self) -> None:
        self.engine.dispose()


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", exc)).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _is_busy(exc: OperationalError) -> bool:
    msg = str(exc.orig).lower()
    return "database is locked" in msg or "lock timeout" in msg or "canceling statement due to lock" in msg


def _is_connect_failure(exc: OperationalError) -> bool:
    msg = str(exc.orig).lower()
    return exc.connection_invalidated or any(
        s in msg
        for s in (
            "connection refused",
            "could not connect",
            "unable to open database",
            "timeout expired",
            "connection failed",
        )
    )


def _create_private(path: Path) -> None:
    """A new SQLite file readable by its owner only (0600; SQLite gives its -wal and -shm files the same
    mode), in a folder made 0700 when bodycam makes it: the embedded default has one OS user."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sqlite_setup(engine: Engine, busy_seconds: float) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_seconds * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(_IMMEDIATE)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
