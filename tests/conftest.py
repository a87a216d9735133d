"""Fixtures that run each test on both databases and both stores.

Real services: PostgreSQL from ``DATABASE_URL`` and an S3 server with Object
Lock from ``S3_ENDPOINT``/``S3_ACCESS_KEY``/``S3_SECRET_KEY`` (what the shared
``pg-up`` and ``s3-up`` print). Without them a test is skipped, except under
``CI=true`` where a missing service, or missing ffmpeg, is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from bodycam.cli import cli
from bodycam.clock import ManualClock
from bodycam.config import load_settings
from bodycam.db.engine import Database
from bodycam.db.schema import upgrade
from bodycam.errors import RuleRefused
from bodycam.store import ObjectStore, open_store

if TYPE_CHECKING:
    from bodycam.app import App

CI = os.environ.get("CI") == "true"
REFUSED = (DBAPIError, RuleRefused)
"""What a refusal by a trigger raises: the driver's error in raw SQL, RuleRefused through Database.write."""
RUN_ID = uuid.uuid4().hex[:8]


def require(ok: bool, what: str) -> None:
    """Skip a test whose service is absent; under CI that is a failure."""
    if ok:
        return
    if CI:
        pytest.fail(f"CI=true but {what} is not available", pytrace=False)
    pytest.skip(f"{what} not available")


def s3_env() -> dict[str, str]:
    return {
        "BODYCAM_STORE_ENDPOINT": os.environ.get("S3_ENDPOINT", ""),
        "BODYCAM_STORE_ACCESS_KEY": os.environ.get("S3_ACCESS_KEY", ""),
        "BODYCAM_STORE_SECRET_KEY": os.environ.get("S3_SECRET_KEY", ""),
        "BODYCAM_STORE_REGION": os.environ.get("S3_REGION", "us-east-1"),
    }


# -- databases -------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_base_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    require(url.startswith("postgresql"), "PostgreSQL (DATABASE_URL)")
    return url


def _pg_schema_url(base: str) -> Iterator[str]:
    schema = f"t_{RUN_ID}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each kind (PostgreSQL: a fresh schema)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bodycam.db'}"
    else:
        yield from _pg_schema_url(request.getfixturevalue("pg_base_url"))


@pytest.fixture
def database(db_url: str) -> Iterator[Database]:
    """A database of each kind with the current schema."""
    db = Database(db_url)
    upgrade(db)
    yield db
    db.dispose()


# -- stores ------------------------------------------------------------------------
@pytest.fixture(scope="session")
def s3_bucket() -> str:
    require(bool(os.environ.get("S3_ENDPOINT")), "S3 with Object Lock (S3_ENDPOINT)")
    bucket = f"bodycam-test-{RUN_ID}"
    settings = load_settings(environ={"BODYCAM_STORE_URL": f"s3://{bucket}", **s3_env()}).settings
    open_store(settings).ensure()
    return bucket


def store_env(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """BODYCAM_* variables that select a fresh store of the kind."""
    if kind == "file":
        return {"BODYCAM_STORE_URL": f"file://{tmp_path / 'objects'}"}
    bucket = request.getfixturevalue("s3_bucket")
    return {"BODYCAM_STORE_URL": f"s3://{bucket}/{uuid.uuid4().hex[:12]}", **s3_env()}


@pytest.fixture(params=["file", "s3"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> ObjectStore:
    """A fresh store of each kind; the local one judges its locks by a ManualClock."""
    env = store_env(store_kind, tmp_path, request)
    env["BODYCAM_STORE_PART_SIZE_MB"] = "5"
    s = open_store(load_settings(environ=env).settings, ManualClock())
    s.ensure()
    return s


# -- whole configurations, for CLI tests --------------------------------------------
@pytest.fixture
def bodycam_env(db_url: str, store_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, str]:
    """Environment for a bodycam subprocess on this database and store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BODYCAM_")}
    env.update(store_env(store_kind, tmp_path, request))
    env["BODYCAM_DATABASE_URL"] = db_url
    env["XDG_CONFIG_HOME"] = str(tmp_path / "xdg-config")
    env["BODYCAM_ACTOR"] = "test-clerk"
    return env


def run_bodycam(*args: str, env: dict[str, str], check: bool = False, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run the real ``bodycam`` program in a subprocess."""
    proc = subprocess.run([sys.executable, "-m", "bodycam", *args], env=env, text=True,
                          capture_output=True, timeout=300, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"bodycam {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def ffmpeg() -> str:
    path = shutil.which("ffmpeg")
    require(path is not None and shutil.which("ffprobe") is not None, "ffmpeg and ffprobe")
    assert path is not None
    return path


@pytest.fixture
def s3_store(tmp_path: Path, request: pytest.FixtureRequest) -> ObjectStore:
    s = open_store(load_settings(environ=store_env("s3", tmp_path, request)).settings)
    s.ensure()
    return s


# -- in-process CLI with an injected clock ----------------------------------------------
@dataclass
class Bodycam:
    """The ``bodycam`` command run in-process (click's CliRunner) with a ManualClock:
    tests move time forward instead of sleeping. ``check_clock`` is turned off only
    once a test has moved its clock away from the database server's."""

    env: dict[str, str]
    clock: ManualClock = field(default_factory=ManualClock)
    check_clock: bool = True

    def __call__(self, *args: str, check: bool = True) -> Result:
        unset: dict[str, str | None] = {k: None for k in os.environ if k.startswith("BODYCAM_") and k not in self.env}
        result = CliRunner().invoke(cli, list(args), obj={"clock": self.clock, "check_clock": self.check_clock},
                                    env={**self.env, **unset})
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if check and result.exit_code != 0:
            raise AssertionError(f"bodycam {' '.join(args)} exited {result.exit_code}:\n{result.stderr}")
        return result

    def json(self, *args: str, ok: tuple[int, ...] = (0,)) -> Any:
        """The command's JSON output; ``ok`` lists the exit codes that are not a failure (4: findings)."""
        result = self(*args, "--format", "json", check=False)
        if result.exit_code not in ok:
            raise AssertionError(f"bodycam {' '.join(args)} exited {result.exit_code}:\n{result.stderr}")
        return json.loads(result.stdout)

    def advance(self, **delta: float) -> None:
        """Move bodycam's clock; it then no longer agrees with the database server's."""
        self.clock.advance(timedelta(**delta))
        self.check_clock = False

    def app(self) -> App:
        from bodycam.app import App

        return App(load_settings(environ=self.env), self.clock, check_clock=self.check_clock)


@pytest.fixture
def bodycam(bodycam_env: dict[str, str]) -> Bodycam:
    return Bodycam(bodycam_env)


@pytest.fixture
def local_bodycam(db_url: str, tmp_path: Path) -> Bodycam:
    """Either database with the local write-once folder (what the embedded default runs)."""
    return Bodycam({"BODYCAM_DATABASE_URL": db_url, "BODYCAM_STORE_URL": f"file://{tmp_path / 'objects'}",
                    "XDG_CONFIG_HOME": str(tmp_path / "cfg")})
