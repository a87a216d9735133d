"""The shipped example settings stay valid, and the schema matches the models."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bodycam.config import load_settings
from bodycam.db.engine import Database
from bodycam.db.models import Base

DEPLOY = Path(__file__).parent.parent / "deploy"


def test_example_settings_load() -> None:
    s = load_settings(DEPLOY / "bodycam.example.toml", environ={}).settings
    assert s.store_url == "s3://evidence" and s.ingest.release == "delete"
    assert [src.kind for src in s.ingest.sources] == ["dock", "interrogation"]


def test_migrations_match_the_models(database: Database) -> None:
    with database.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
