"""What every command needs: settings, the database, the store, the actor.

Opened lazily so that ``config show`` works with no database at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from bodycam.audit import chain
from bodycam.audit.chain import ON_BEHALF
from bodycam.clock import Clock, SystemClock, check_against
from bodycam.config import LoadedSettings, Settings, load_settings
from bodycam.db.engine import Database
from bodycam.db.schema import require_current
from bodycam.store import ObjectStore, open_store


class App:
    def __init__(self, loaded: LoadedSettings, clock: Clock | None = None, *, check_clock: bool = True) -> None:
        """``clock`` is injected by tests (never from the command line or environment);
        ``check_clock`` compares it with the database server's before ingest and sweeps."""
        self.loaded = loaded
        self.clock: Clock = clock or SystemClock()
        self._check_clock = check_clock

    @classmethod
    def load(cls, config_path: str | Path | None = None, cli: Mapping[str, Any] | None = None,
             clock: Clock | None = None, *, check_clock: bool = True) -> App:
        return cls(load_settings(config_path, cli), clock, check_clock=check_clock)

    @property
    def settings(self) -> Settings:
        return self.loaded.settings

    @cached_property
    def actor(self) -> str:
        """The authenticated identity (Database.identity), with the --actor note beside it, never instead."""
        note = self.settings.actor
        return f"{self.db.identity()}{ON_BEHALF}{note}" if note else self.db.identity()

    @cached_property
    def accountable(self) -> str:
        """The name that rules between people compare (an approver is not the requester): the database
        role on PostgreSQL; on SQLite, one OS user, the actor with its note (recorded, not enforced)."""
        return self.db.identity() if self.db.dialect == "postgresql" else self.actor

    @cached_property
    def db(self) -> Database:
        db = self.settings.database
        return Database(self.settings.database_url, db.busy_seconds, db.reconnect_seconds)

    @cached_property
    def store(self) -> ObjectStore:
        return open_store(self.settings, self.clock)

    def ready_db(self) -> Database:
        """The database, refusing a missing or outdated schema."""
        require_current(self.db)
        return self.db

    def trusted_db(self) -> Database:
        """The database, once our clock agrees with its server's (ingest and sweeps
        date what they do by our clock: a host set a year ahead must not sweep)."""
        db = self.ready_db()
        if self._check_clock:
            check_against(db.server_now(), self.clock)
        return db

    def audit(self, action: str, subject: str, details: dict[str, Any] | None = None) -> None:
        """Record one event in its own transaction (for reads and one-off actions)."""
        with self.db.write() as session:
            chain.record(session, self.actor, action, subject, details)

    def close(self) -> None:
        if "db" in self.__dict__:
            self.db.dispose()
