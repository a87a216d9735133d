"""Alembic environment: run with the connection bodycam hands over."""

from __future__ import annotations

from alembic import context

from bodycam.db.models import Base

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only `alembic` run by hand would hit this
    raise RuntimeError("run migrations through `bodycam init`")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
