"""Settings: precedence, origins, strict validation with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bodycam.config import load_settings
from bodycam.errors import ConfigError, InvalidConfigValue, UnknownConfigKey


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bodycam.toml"
    path.write_text(text)
    return path


def test_defaults_live_under_xdg_data_home(tmp_path: Path) -> None:
    loaded = load_settings(environ={"XDG_DATA_HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})
    s = loaded.settings
    assert s.database_url == f"sqlite:///{tmp_path}/bodycam/bodycam.db"
    assert s.store_url == f"file://{tmp_path}/bodycam/objects"
    assert s.retention.floor_days == 180 and s.tz == "UTC"
    assert loaded.config_file is None


def test_precedence_cli_over_env_over_file(tmp_path: Path) -> None:
    cfg = write(tmp_path, 'tz = "Asia/Shanghai"\n[store]\nurl = "file:///from-file"\nregion = "r-file"\n')
    env = {"BODYCAM_STORE_URL": "file:///from-env", "BODYCAM_CONFIG": str(cfg)}
    loaded = load_settings(cli={"store.url": "file:///from-cli"}, environ=env)
    s = loaded.settings
    assert s.store_url == "file:///from-cli"
    assert s.store.region == "r-file"
    assert s.tz == "Asia/Shanghai"
    origins = {k: o for k, _, o in loaded.show()}
    assert origins["store.url"] == "cli (--url)"
    assert origins["store.region"] == f"file ({cfg}:4)"
    assert origins["retention.floor_days"] == "default"
    assert load_settings(environ=env).settings.store_url == "file:///from-env"


def test_unknown_key_in_file_names_file_and_line(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[store]\nurl = "s3://b"\n\n[retention]\nfloor_dayz = 200\n')
    with pytest.raises(UnknownConfigKey) as exc:
        load_settings(cfg, environ={})
    assert str(exc.value) == f"{cfg}:5: unknown key 'retention.floor_dayz'"
    assert exc.value.exit_code == 11


def test_unknown_section_and_source_key(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[[ingest.sources]]\nname = "dock1"\npath = "/d"\n'
                          '[[ingest.sources]]\nname = "dock2"\npath = "/e"\nkindd = "dock"\n')
    with pytest.raises(UnknownConfigKey, match=r":7: unknown key 'ingest.sources.1.kindd'"):
        load_settings(cfg, environ={})


def test_wrong_type_and_range_name_the_line(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[store]\npart_size_mb = "big"\n')
    with pytest.raises(InvalidConfigValue, match=r"bodycam.toml:2: key 'store.part_size_mb'"):
        load_settings(cfg, environ={})
    cfg = write(tmp_path, '[store]\npart_size_mb = 2\n')
    with pytest.raises(InvalidConfigValue, match="greater than or equal to 5"):
        load_settings(cfg, environ={})


def test_floor_below_six_months_refused(tmp_path: Path) -> None:
    cfg = write(tmp_path, "[retention]\nfloor_days = 90\n")
    with pytest.raises(InvalidConfigValue, match="at least 180 days"):
        load_settings(cfg, environ={})
    assert load_settings(environ={"BODYCAM_RETENTION_FLOOR_DAYS": "365"}).settings.retention.floor_days == 365


def test_bad_env_value_names_the_variable() -> None:
    with pytest.raises(InvalidConfigValue, match="environment variable BODYCAM_TZ: key 'tz': unknown time zone"):
        load_settings(environ={"BODYCAM_TZ": "Mars/Olympus"})


def test_unknown_env_variable_refused() -> None:
    with pytest.raises(UnknownConfigKey, match="BODYCAM_STORE_BUKKET"):
        load_settings(environ={"BODYCAM_STORE_BUKKET": "x"})


def test_invalid_toml_is_a_config_error_with_line(tmp_path: Path) -> None:
    cfg = write(tmp_path, "[store\nurl = 1\n")
    with pytest.raises(ConfigError, match="line 1"):
        load_settings(cfg, environ={})


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_source_pattern_must_have_groups(tmp_path: Path) -> None:
    cfg = write(tmp_path, '[[ingest.sources]]\nname = "d"\npath = "/d"\npattern = "(?P<device>x)"\n')
    with pytest.raises(InvalidConfigValue, match=r":4: key 'ingest.sources.0.pattern'.*start"):
        load_settings(cfg, environ={})


def test_secrets_from_files_and_masked(tmp_path: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_text("s3cr3t-value\n")
    loaded = load_settings(environ={
        "BODYCAM_STORE_SECRET_KEY_FILE": str(secret),
        "BODYCAM_STORE_ACCESS_KEY": "AKIA-visible?",
        "BODYCAM_DATABASE_URL": "postgresql+psycopg://u:pw-secret@h/db",
    })
    assert loaded.settings.store.secret_key is not None
    assert loaded.settings.store.secret_key.get_secret_value() == "s3cr3t-value"
    shown = repr(loaded.show()) + repr(loaded.settings)
    assert "s3cr3t-value" not in shown and "pw-secret" not in shown and "AKIA-visible?" not in shown
    assert ("database.url", "postgresql+psycopg://u:****@h/db", "env (BODYCAM_DATABASE_URL)") in loaded.show()
