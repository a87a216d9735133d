"""Typed settings with layered sources and the origin of every value.

Precedence: command-line options > ``BODYCAM_*`` environment variables > a TOML
file > defaults. Unknown keys, wrong types and out-of-range values are refused
with the file and line (or the variable) that carried them, as Frigate does.
"""

from __future__ import annotations

import os
import pwd
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from bodycam.errors import ConfigError, InvalidConfigValue, UnknownConfigKey
from bodycam.kinds import Scenario

FLOOR_DAYS = 180
"""The legal minimum hold (art. 13 of the 2016 rule); settings may only raise it."""
GRACE_DAYS = 30
"""The default grace period after ingest; settings may only raise it."""
MAX_DAYS = 36500
"""A hundred years: the largest hold a setting may name (beyond it, use a legal hold)."""

ENV_PREFIX = "BODYCAM_"
ENV_NOT_SETTINGS = {"BODYCAM_CONFIG", "BODYCAM_DEBUG", "BODYCAM_FAILPOINT"}


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: SecretStr | None = Field(default=None, description="SQLAlchemy URL")
    busy_seconds: float = Field(default=30.0, gt=0, le=3600, allow_inf_nan=False,
                                description="how long to wait for another process's lock before exit 24")
    reconnect_seconds: float = Field(default=60.0, ge=0, le=3600, allow_inf_nan=False,
                                     description="how long to wait for a database server that went away "
                                                 "(a restart, a fail-over) before exit 20")


class StoreSettings(_Section):
    url: str | None = Field(default=None, description="file://DIR or s3://BUCKET[/PREFIX]")
    endpoint: str | None = Field(default=None, description="S3 endpoint, http(s)://host:port")
    endpoints: list[str] = Field(default_factory=list, description="the endpoints of one S3 cluster (RGW "
                                 "gateways, MinIO nodes), tried in turn when one does not answer; instead of "
                                 "endpoint")
    access_key: SecretStr | None = None
    secret_key: SecretStr | None = None
    region: str = "us-east-1"
    part_size_mb: int = Field(default=16, ge=5, le=1024, description="multipart part size")
    parallel_parts: int = Field(default=3, ge=1, le=16)
    timeout_seconds: float = Field(default=30.0, gt=0, le=3600)

    @field_validator("endpoints", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        """BODYCAM_STORE_ENDPOINTS=http://a:7480,http://b:7480 (a TOML file gives a list)."""
        return [e.strip() for e in value.split(",") if e.strip()] if isinstance(value, str) else value


class SourceSettings(_Section):
    name: str = Field(min_length=1)
    path: Path
    kind: Literal["dock", "interrogation"] = "dock"
    pattern: str | None = Field(default=None, description="regex with groups device, officer, start")
    tz: str | None = None
    release: Literal["keep", "delete", "move"] | None = None

    @field_validator("pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        return None if value is None else check_pattern(value)

    @field_validator("tz")
    @classmethod
    def _tz_known(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)


class IngestSettings(_Section):
    stable_seconds: float = Field(default=5.0, ge=0, le=3600)
    upload_deadline_hours: float = Field(default=24.0, gt=0, le=24 * 365)
    release: Literal["keep", "delete", "move"] = "keep"
    move_to: Path | None = None
    workers: int = Field(default=4, ge=1, le=64)
    earliest_recording: date = Field(
        default=date(2015, 1, 1), description="recordings dated before this are untrusted_time (a reset clock)")
    future_minutes: float = Field(
        default=10.0, ge=0, le=24 * 60, allow_inf_nan=False,
        description="recordings starting this long after receipt are untrusted_time")
    mtime_hours: float = Field(
        default=2.0, ge=0, le=24 * 14, allow_inf_nan=False,
        description="recordings ending this long after the file was last written are untrusted_time")
    poll_seconds: float = Field(default=60.0, gt=0, le=86400)
    sources: tuple[SourceSettings, ...] = ()

    @field_validator("sources")
    @classmethod
    def _unique_names(cls, value: tuple[SourceSettings, ...]) -> tuple[SourceSettings, ...]:
        names = [s.name for s in value]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            raise ValueError(f"two sources are named {twice!r}: each needs its own name")
        return value


class RetentionSettings(_Section):
    floor_days: int = Field(default=FLOOR_DAYS, le=MAX_DAYS,
                            description="minimum hold after bodycam received the footage (and after it ended)")
    grace_days: float = Field(default=float(GRACE_DAYS), le=MAX_DAYS, allow_inf_nan=False,
                              description="minimum hold after ingest; may only be raised")
    evidence_after_close_days: int | None = Field(
        default=None, ge=FLOOR_DAYS, le=MAX_DAYS, description="hold after a case closes; unset = forever"
    )
    sweep_at: str | None = Field(default="02:30", description="HH:MM (in tz) for the nightly sweep; 'off' = never")

    @field_validator("sweep_at")
    @classmethod
    def _hh_mm(cls, value: str | None) -> str | None:
        return None if value in (None, "", "off") else _check_hh_mm(value)

    @field_validator("floor_days")
    @classmethod
    def _not_below_floor(cls, value: int) -> int:
        if value < FLOOR_DAYS:
            raise ValueError(f"must be at least {FLOOR_DAYS} days (the legal minimum hold)")
        return value

    @field_validator("grace_days")
    @classmethod
    def _not_below_grace(cls, value: float) -> float:
        if value < GRACE_DAYS:
            raise ValueError(f"must be at least {GRACE_DAYS} days (it may only be raised)")
        return value

    def deciding(self) -> dict[str, object]:
        """The settings that decide a deletion (what a plan's fingerprint covers)."""
        return {"floor_days": self.floor_days, "grace_days": self.grace_days,
                "evidence_after_close_days": self.evidence_after_close_days}


class ServiceSettings(_Section):
    listen: str | None = Field(default="127.0.0.1:9464",
                               description="HOST:PORT of the watch service's /metrics and /healthz ('off': none; "
                                           "port 0: any free one, logged)")
    stale_seconds: float = Field(default=900.0, gt=0, description="/healthz fails when a source has not completed "
                                                                  "a pass for this long")
    analysis: bool = Field(default=True, description="`ingest watch` also takes analysis jobs (false on dock "
                                                      "hosts that leave them to analysis hosts)")

    @field_validator("listen")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value in (None, "", "off"):
            return None
        host, sep, port = value.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"{value!r} is not HOST:PORT")
        return value


class ScrubSettings(_Section):
    at: str | None = Field(default="03:30", description="HH:MM (in tz) for the nightly scrub; 'off' = never")
    budget_minutes: float = Field(default=60.0, gt=0, le=24 * 60, allow_inf_nan=False,
                                  description="how long a nightly scrub may read stored bytes")

    @field_validator("at")
    @classmethod
    def _hh_mm(cls, value: str | None) -> str | None:
        return None if value in (None, "", "off") else _check_hh_mm(value)


class AnalysisSettings(_Section):
    workers: int = Field(default=2, ge=1, le=64,
                         description="analysis threads per `analyse run` (and after `ingest run`); one per core")
    lease_seconds: float = Field(default=600.0, ge=2, le=86400, allow_inf_nan=False,
                                 description="a job whose worker has not renewed it for this long is taken over "
                                             "(renewed every third of it)")

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)


class Tolerance(_Section):
    start_seconds: float = Field(default=30.0, ge=0, description="late_start beyond this")
    end_seconds: float = Field(default=30.0, ge=0, description="early_stop beyond this")
    gap_seconds: float = Field(default=5.0, ge=0, description="interrupted: holes longer than this")
    audio_only_counts: bool = Field(default=False, description="sound-only recordings cover the event (they are "
                                                               "always marked audio_only in the report)")


SCENARIO_CODES = tuple(m.value for m in Scenario)


class ReportSettings(_Section):
    folder: Path | None = Field(default=None, description="where scheduled reports go; unset = data dir/reports")
    at: str = Field(default="06:00", description="HH:MM (in tz) when the scheduled reports are written")
    daily: bool = True
    weekly: bool = True
    monthly: bool = True

    @field_validator("at")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        return _check_hh_mm(value)


class CoverageSettings(_Section):
    reports: ReportSettings = ReportSettings()
    body_camera: Tolerance = Tolerance()
    interrogation: Tolerance = Tolerance(gap_seconds=1.0)
    scenarios: dict[str, Tolerance] = Field(default_factory=dict, description="per-scenario overrides")

    @field_validator("scenarios")
    @classmethod
    def _known(cls, value: dict[str, Tolerance]) -> dict[str, Tolerance]:
        unknown = sorted(set(value) - set(SCENARIO_CODES))
        if unknown:
            raise ValueError(f"unknown scenario {unknown[0]!r} (one of {', '.join(SCENARIO_CODES)})")
        return value

    def for_scenario(self, scenario: str) -> Tolerance:
        if scenario in self.scenarios:
            return self.scenarios[scenario]
        return self.interrogation if scenario == "interrogation" else self.body_camera


class ExportSettings(_Section):
    approval: Literal["none", "required"] = Field(
        default="none", description="'required': `clips export` needs --approval ID, a request a supervisor "
                                    "other than the requester approved (`bodycam exports`)")


INCIDENT_FIELDS = ("incident_id", "type", "received", "dispatched", "arrived", "cleared", "officers", "unit",
                   "location", "case")
"""What a dispatch record may hold (bodycam.incidents); `columns` names the export's header for each."""


class IncidentSettings(_Section):
    """How a dispatch (CAD, 警情) export reads, and how its incidents take their clips (docs/incidents.md)."""

    preset: Literal["axon", "jingqing"] | None = Field(
        default=None, description="a known export's columns, time format, zone and separator (docs/incidents.md); "
                                  "what is set here besides wins")
    columns: dict[str, str] = Field(default_factory=dict, description="field -> the export's column header "
                                                                      "(unnamed fields use the field's own name)")
    types: dict[str, str] = Field(default_factory=dict, description="the export's incident type -> a scenario "
                                                                    "code; a type not listed makes no required "
                                                                    "recording")
    time_format: str | None = Field(default=None, description="strptime format of the export's times (default: "
                                                              "ISO 8601); naive times are in `tz`")
    tz: str | None = Field(default=None, description="zone of the export's naive times (default: the top-level tz)")
    officer_separator: str = Field(default=";", min_length=1, max_length=3)
    buffer_before_minutes: float = Field(default=5.0, ge=0, le=120, description="a clip started this long before "
                                                                               "the dispatch still belongs to it")
    buffer_after_minutes: float = Field(default=0.0, ge=0, le=240, description="and one started this long after "
                                                                              "the clear")

    @field_validator("columns")
    @classmethod
    def _known_fields(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(INCIDENT_FIELDS))
        if unknown:
            raise ValueError(f"unknown field {unknown[0]!r} (fields: {', '.join(INCIDENT_FIELDS)})")
        return value

    @field_validator("types")
    @classmethod
    def _known_scenarios(cls, value: dict[str, str]) -> dict[str, str]:
        from bodycam.kinds import Scenario

        bad = sorted(v for v in value.values() if v not in {s.value for s in Scenario})
        if bad:
            raise ValueError(f"unknown scenario {bad[0]!r} (scenarios: {', '.join(s.value for s in Scenario)})")
        return value

    @field_validator("tz")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else check_zone(value)

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: Any) -> Any:
        """Fill in what the preset gives and the settings leave unset."""
        if not isinstance(data, dict) or data.get("preset") is None:
            return data
        from bodycam.incidents.presets import PRESETS

        given = PRESETS.get(data["preset"])
        if given is None:
            return data  # the Literal names the presets there are
        columns = data.get("columns", {})
        filled = {**given, **data}
        filled["columns"] = {**given.get("columns", {}), **(columns if isinstance(columns, dict) else {})}
        if not isinstance(columns, dict):
            filled["columns"] = columns  # let the field's own check say what is wrong
        return filled


class Settings(_Section):
    actor: str | None = Field(default=None, max_length=120,
                              description="on whose behalf (a note beside the authenticated identity, never instead)")
    tz: str = Field(default="UTC", description="zone for naive times")
    log_format: Literal["text", "json"] = Field(default="text", description="log lines on stderr: text, or one "
                                                                             "JSON object per line (journald)")
    database: DatabaseSettings = DatabaseSettings()
    store: StoreSettings = StoreSettings()
    ingest: IngestSettings = IngestSettings()
    retention: RetentionSettings = RetentionSettings()
    scrub: ScrubSettings = ScrubSettings()
    analysis: AnalysisSettings = AnalysisSettings()
    coverage: CoverageSettings = CoverageSettings()
    export: ExportSettings = ExportSettings()
    service: ServiceSettings = ServiceSettings()
    incidents: IncidentSettings = IncidentSettings()

    @field_validator("tz")
    @classmethod
    def _tz_known(cls, value: str) -> str:
        return check_zone(value)

    @field_validator("actor")
    @classmethod
    def _one_printable_line(cls, value: str | None) -> str | None:
        if value is not None and not value.isprintable():
            raise ValueError("must be one printable line (no newline or control character)")
        return value or None

    # -- derived values -------------------------------------------------------
    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.tz)

    @property
    def database_url(self) -> str:
        if self.database.url is not None:
            return self.database.url.get_secret_value()
        return f"sqlite:///{data_home() / 'bodycam.db'}"

    @property
    def store_url(self) -> str:
        return self.store.url or f"file://{data_home() / 'objects'}"


def _fill_defaults(tree: dict[str, Any], env: Mapping[str, str]) -> None:
    """Defaults that depend on the environment (XDG folders, the OS user)."""
    home = data_home(env)
    tree.setdefault("database", {}).setdefault("url", f"sqlite:///{home / 'bodycam.db'}")
    tree.setdefault("store", {}).setdefault("url", f"file://{home / 'objects'}")


def check_pattern(value: str) -> str:
    """A file-name pattern: a regular expression with the named groups device and start."""
    try:
        compiled = re.compile(value)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
    missing = {"device", "start"} - set(compiled.groupindex)
    if missing:
        raise ValueError(f"pattern lacks the named group(s) {', '.join(sorted(missing))}")
    return value


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}") from None
    return value


def _check_hh_mm(value: str) -> str:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value):
        raise ValueError(f"{value!r} is not HH:MM")
    return value


def os_identity() -> str:
    """The operating-system user of this process, by its uid (not $USER or $LOGNAME, which anyone can set)."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # no passwd entry in some containers
        return f"uid:{os.geteuid()}"


def data_home(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "bodycam"


def default_config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "bodycam" / "bodycam.toml"


# -- layered loading -----------------------------------------------------------
@dataclass(frozen=True)
class Origin:
    """Where a value came from: 'default', 'file', 'env' or 'cli', with its place."""

    kind: str
    where: str = ""

    def __str__(self) -> str:
        return self.kind if not self.where else f"{self.kind} ({self.where})"


@dataclass
class LoadedSettings:
    settings: Settings
    origins: dict[str, Origin] = field(default_factory=dict)
    config_file: Path | None = None

    def show(self) -> list[tuple[str, str, str]]:
        """(key, masked value, origin) for every leaf setting, for ``config show``."""
        rows = []
        for key, value in _leaves(self.settings.model_dump()):
            shown = _mask(key, value)
            origin = self.origins.get(key, Origin("default"))
            rows.append((key, shown, str(origin)))
        return rows


def _leaves(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.extend(_leaves(value, dotted + "."))
        else:
            out.append((dotted, value))
    return out


SECRET_KEYS = {"store.access_key", "store.secret_key"}


def _mask(key: str, value: Any) -> str:
    if value is None:
        return "(unset)"
    if isinstance(value, SecretStr):
        raw = value.get_secret_value()
        return mask_url(raw) if key == "database.url" else "********"
    if key in SECRET_KEYS:
        return "********"
    if isinstance(value, tuple):
        return f"{len(value)} item(s)"
    return str(value)


def mask_url(url: str) -> str:
    return re.sub(r"://([^:/@]+):[^@]*@", r"://\1:****@", url)


def _env_name(dotted: str) -> str:
    return ENV_PREFIX + dotted.replace(".", "_").upper()


def _scalar_keys(model: type[BaseModel], prefix: str = "") -> dict[str, str]:
    """Dotted key -> env variable name, for every scalar setting."""
    out: dict[str, str] = {}
    for name, info in model.model_fields.items():
        ann = info.annotation
        dotted = f"{prefix}{name}"
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            out.update(_scalar_keys(ann, dotted + "."))
        elif name not in ("sources", "scenarios", "columns", "types"):
            out[dotted] = _env_name(dotted)
    return out


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def load_settings(
    config_path: str | Path | None = None,
    cli: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> LoadedSettings:
    """Merge defaults, the TOML file, the environment and CLI options; validate."""
    env = os.environ if environ is None else environ
    tree: dict[str, Any] = {}
    origins: dict[str, Origin] = {}

    explicit = config_path or env.get("BODYCAM_CONFIG")
    path = Path(explicit) if explicit else default_config_path(env)
    text = ""
    if explicit or path.exists():
        if not path.is_file():
            raise ConfigError(f"{path}: configuration file not found")
        try:
            text = path.read_text(encoding="utf-8")
            tree = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        lines = _toml_key_lines(text)
        for dotted, _ in _leaves(tree):
            origins[dotted] = Origin("file", f"{path}:{lines.get(dotted, '?')}")
    loaded_path = path if text or explicit else None

    known = _scalar_keys(Settings)
    by_env = {v: k for k, v in known.items()}
    for name in sorted(env):
        if not name.startswith(ENV_PREFIX) or name in ENV_NOT_SETTINGS:
            continue
        file_ref = name.endswith("_FILE") and name[: -len("_FILE")] in by_env
        base = name[: -len("_FILE")] if file_ref else name
        if base not in by_env:
            raise UnknownConfigKey(f"environment variable {name}: unknown setting")
        dotted = by_env[base]
        value: str = env[name]
        if file_ref:
            try:
                value = Path(value).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError(f"environment variable {name}: cannot read {value}: {exc}") from None
        _set_dotted(tree, dotted, value)
        origins[dotted] = Origin("env", name)

    for dotted, value in (cli or {}).items():
        if value is None:
            continue
        _set_dotted(tree, dotted, value)
        origins[dotted] = Origin("cli", "--" + dotted.split(".")[-1].replace("_", "-"))

    _fill_defaults(tree, env)
    try:
        settings = Settings.model_validate(tree)
    except ValidationError as exc:
        raise _explain(exc, origins, path, text) from None
    return LoadedSettings(settings, origins, loaded_path)


def _explain(exc: ValidationError, origins: dict[str, Origin], path: Path, text: str) -> ConfigError:
    err = exc.errors()[0]
    loc = [str(p) for p in err["loc"]]
    dotted = ".".join(loc)
    origin = origins.get(dotted)
    if origin is None:  # an unknown key inside the file: find its line ourselves
        line = _toml_key_lines(text).get(dotted) if text else None
        origin = Origin("file", f"{path}:{line if line else '?'}")
    where = origin.where if origin.kind == "file" else f"{origin} "
    if origin.kind == "env":
        where = f"environment variable {origin.where}"
    elif origin.kind == "cli":
        where = f"option {origin.where}"
    if err["type"] == "extra_forbidden":
        return UnknownConfigKey(f"{where}: unknown key '{dotted}'")
    msg = err["msg"].removeprefix("Value error, ")
    return InvalidConfigValue(f"{where}: key '{dotted}': {msg}")


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-\"' ]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def _toml_key_lines(text: str) -> dict[str, int]:
    """Map dotted keys (array tables indexed) to their line, for error messages.

    tomllib gives no positions; this small scanner covers the plain layouts
    a settings file uses (tables, arrays of tables, ``key = value`` lines).
    """
    lines: dict[str, int] = {}
    section = ""
    counts: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(raw)
        if header:
            name = header.group(2).replace('"', "").replace("'", "").strip()
            if header.group(1) == "[[":
                counts[name] = counts.get(name, -1) + 1
                section = f"{name}.{counts[name]}"
            else:
                section = name
            lines.setdefault(section, number)
            continue
        key = _KEY.match(raw)
        if key:
            dotted = f"{section}.{key.group(1)}" if section else key.group(1)
            lines.setdefault(dotted, number)
    return lines
