"""Get-or-create that is safe with concurrent writers on PostgreSQL and SQLite."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import select
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
    if session.get_bind().dialect.name == "postgresql":  # imported here: SQLite users skip its start-up cost
        from sqlalchemy.dialects import postgresql as dialect
    else:
        from sqlalchemy.dialects import sqlite as dialect  # type: ignore[no-redef]
    session.execute(dialect.insert(model).values({key: value, **defaults}).on_conflict_do_nothing())
    row = session.scalar(select(model).where(column == value))
    assert row is not None
    return row
