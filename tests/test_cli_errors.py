"""Each user error: one line, no traceback, its own documented exit code."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from minio import Minio

from bodycam import __version__
from bodycam.cli import cli
from bodycam.errors import exit_code_table
from tests.conftest import require, run_bodycam, s3_env

README = Path(__file__).parent.parent / "README.md"


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BODYCAM_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    return env


def one_line_error(proc_stderr: str) -> str:
    lines = proc_stderr.strip().splitlines()
    assert len(lines) == 1, proc_stderr
    assert "Traceback" not in proc_stderr
    assert lines[0].startswith("bodycam: error: ")
    return lines[0]


def test_version() -> None:
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.output == f"bodycam, version {__version__}\n"


def test_embedded_default_needs_no_settings(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    assert run_bodycam("init", env=env, check=True).stdout.count("upgraded") == 1
    assert "up to date" in run_bodycam("init", env=env, check=True).stdout
    assert run_bodycam("check", env=env, check=True).returncode == 0
    assert (tmp_path / "data/bodycam/bodycam.db").exists()
    assert (tmp_path / "data/bodycam/objects/objects").is_dir()


def test_unknown_config_key(tmp_path: Path) -> None:
    cfg = tmp_path / "bodycam.toml"
    cfg.write_text('[store]\nurl = "file:///x"\nendpiont = "http://h"\n')
    proc = run_bodycam("--config", str(cfg), "config", "show", env=base_env(tmp_path))
    assert proc.returncode == 11
    assert one_line_error(proc.stderr) == f"bodycam: error: {cfg}:3: unknown key 'store.endpiont'"


def test_invalid_value_from_option(tmp_path: Path) -> None:
    proc = run_bodycam("--tz", "Nowhere/Town", "config", "show", env=base_env(tmp_path))
    assert proc.returncode == 12
    assert "option --tz: key 'tz': unknown time zone 'Nowhere/Town'" in one_line_error(proc.stderr)


def test_unreachable_database(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env["BODYCAM_DATABASE_URL"] = "postgresql+psycopg://bodycam:pw@127.0.0.1:9/bodycam"
    proc = run_bodycam("init", env=env)
    assert proc.returncode == 20
    line = one_line_error(proc.stderr)
    assert "cannot reach database" in line and "127.0.0.1:9" in line and "pw" not in line


def test_schema_too_old(tmp_path: Path) -> None:
    proc = run_bodycam("audit", "verify", env=base_env(tmp_path))
    assert proc.returncode == 21
    assert "run `bodycam init`" in one_line_error(proc.stderr)


def test_unreachable_s3_endpoint(tmp_path: Path) -> None:
    env = base_env(tmp_path)
    env.update(BODYCAM_STORE_URL="s3://evidence", BODYCAM_STORE_ENDPOINT="http://127.0.0.1:9",
               BODYCAM_STORE_ACCESS_KEY="a", BODYCAM_STORE_SECRET_KEY="b")
    proc = run_bodycam("init", env=env)
    assert proc.returncode == 30
    assert "cannot reach S3 endpoint http://127.0.0.1:9" in one_line_error(proc.stderr)


def test_wrong_s3_credentials(tmp_path: Path, s3_bucket: str) -> None:
    env = base_env(tmp_path)
    env.update(s3_env())
    env.update(BODYCAM_STORE_URL=f"s3://{s3_bucket}", BODYCAM_STORE_SECRET_KEY="not-the-secret")
    proc = run_bodycam("init", env=env)
    assert proc.returncode == 31
    line = one_line_error(proc.stderr)
    assert "refused the credentials" in line and "not-the-secret" not in line


def test_bucket_without_object_lock(tmp_path: Path) -> None:
    require(bool(os.environ.get("S3_ENDPOINT")), "S3 with Object Lock (S3_ENDPOINT)")
    env = base_env(tmp_path)
    env.update(s3_env())
    bucket = f"bodycam-nolock-{uuid.uuid4().hex[:8]}"
    raw = Minio(env["BODYCAM_STORE_ENDPOINT"].split("://")[1], access_key=env["BODYCAM_STORE_ACCESS_KEY"],
                secret_key=env["BODYCAM_STORE_SECRET_KEY"], region=env["BODYCAM_STORE_REGION"], secure=False)
    raw.make_bucket(bucket)
    try:
        env["BODYCAM_STORE_URL"] = f"s3://{bucket}"
        proc = run_bodycam("init", env=env)
        assert proc.returncode == 32
        assert f"bucket {bucket}" in one_line_error(proc.stderr)
        assert "no Object Lock" in proc.stderr
    finally:
        raw.remove_bucket(bucket)


def test_debug_shows_traceback(tmp_path: Path) -> None:
    proc = run_bodycam("--debug", "audit", "verify", env=base_env(tmp_path))
    assert proc.returncode == 21 and "Traceback" in proc.stderr


@pytest.mark.parametrize("code,name,summary", exit_code_table())
def test_exit_codes_documented_in_readme(code: int, name: str, summary: str) -> None:
    rows = re.findall(r"^\| (\d+) \| `?([^|`]+?)`? \| ([^|]+?) \|$", README.read_text(), re.M)
    assert (str(code), name, summary) in rows
