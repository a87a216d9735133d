"""The shipped example settings stay valid, and the schema matches the models."""

from __future__ import annotations

from pathlib import Path

import pytest
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


def _systemd_analyze() -> str:
    import shutil

    from tests.conftest import require

    path = shutil.which("systemd-analyze")
    require(path is not None, "systemd-analyze (systemd)")
    assert path is not None
    return path


UNITS = pytest.mark.parametrize("unit_name,command", [("bodycam-ingest.service", "ingest watch"),
                                                      ("bodycam-analysis.service", "analyse watch")])


@UNITS
def test_the_unit_verifies_where_the_documented_install_puts_bodycam(tmp_path: Path, unit_name: str,
                                                                     command: str) -> None:
    """deploy/install.sh puts the checkout at PREFIX with its virtualenv in PREFIX/.venv; the unit runs
    PREFIX/.venv/bin/bodycam. This checkout (with ./run's .venv) stands in for /opt/bodycam."""
    import subprocess

    unit = (DEPLOY / unit_name).read_text()
    assert f"ExecStart=/opt/bodycam/.venv/bin/bodycam {command}" in unit
    install = (DEPLOY / "install.sh").read_text()
    assert 'PREFIX=/opt/bodycam' in install and 'python3 -m venv "$PREFIX/.venv"' in install
    assert '"$SRC/deploy/$unit"' in install and unit_name in install
    assert "useradd --system" in install and "install -d -m 0700 -o bodycam -g bodycam /var/lib/bodycam" in install
    assert subprocess.run(["bash", "-n", str(DEPLOY / "install.sh")]).returncode == 0
    here = DEPLOY.parent
    assert (here / ".venv" / "bin" / "bodycam").exists()
    copy = tmp_path / unit_name
    copy.write_text(unit.replace("/opt/bodycam", str(here)))
    proc = subprocess.run([_systemd_analyze(), "verify", str(copy)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and unit_name not in proc.stderr, proc.stderr


@UNITS
def test_the_unit_is_hardened_to_an_exposure_of_2_5_or_lower(unit_name: str, command: str) -> None:
    import re
    import subprocess

    unit = (DEPLOY / unit_name).read_text()
    assert "UMask=0077" in unit and "Type=notify" in unit and "WatchdogSec=" in unit
    proc = subprocess.run([_systemd_analyze(), "security", "--offline=yes", str(DEPLOY / unit_name)],
                          capture_output=True, text=True, timeout=120)
    found = re.search(rf"Overall exposure level for {re.escape(unit_name)}: (\d+\.\d)", proc.stdout)
    assert found, proc.stdout[-1000:] + proc.stderr
    assert float(found.group(1)) <= 2.5
