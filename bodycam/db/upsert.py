"""Get-or-create that is safe with concurrent writers on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from bodycam.db.models import Base

M = TypeVar("M", bound=Base)


def get_or_create(session: Session, model: type[M], key: str, value: Any, **defaults: Any) -> M:
    """The row whose unique ``key`` column equals ``value``, inserting it if absent.

    ``INSERT … ON CONFLICT DO NOTHING`` lets two workers race for the same new
    device or officer without either failing.
    """
    column = getattr(model, key)
    row = session.scalar(select(model).where(column == value))
    if row is not None:
        return row
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(insert(model).values({key: value, **defaults}).on_conflict_do_nothing())
    row = session.scalar(select(model).where(column == value))
    assert row is not None
    return row
