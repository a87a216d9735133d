"""Logging for people and for journald: one line per event, text or JSON, no traceback unless --debug.

Every module logs to ``logging.getLogger(__name__)``; the CLI calls :func:`setup` once.
Text lines carry a UTC timestamp, the level and the logger; JSON lines carry the same
fields plus any ``extra={...}`` the call gave (file, clip, reason), one object per line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

FORMATS = ("text", "json")
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _when(record: logging.LogRecord) -> str:
    return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _problem(record: logging.LogRecord, debug: bool, formatter: logging.Formatter) -> str:
    """A traceback with --debug; else the exception's one line."""
    if not record.exc_info:
        return ""
    if debug:
        return "\n" + formatter.formatException(record.exc_info)
    kind, exc, _ = record.exc_info
    return f": {kind.__name__ if kind else 'error'}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": ")


class TextFormatter(logging.Formatter):
    def __init__(self, debug: bool = False) -> None:
        super().__init__()
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        extra = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        tail = "".join(f" {k}={v}" for k, v in extra.items())
        line = f"{_when(record)} {record.levelname} {record.name}: {record.getMessage()}{tail}"
        return line + _problem(record, self.debug, self)


class JsonFormatter(logging.Formatter):
    def __init__(self, debug: bool = False) -> None:
        super().__init__()
        self.debug = debug

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {"at": _when(record), "level": record.levelname, "logger": record.name,
                               "message": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["error"] = _problem(record, False, self).lstrip(": ")
            if self.debug:
                out["traceback"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (click's test runner swaps it per invocation)."""

    def __init__(self, stream: TextIO | None = None) -> None:
        super().__init__(stream or sys.stderr)
        self.fixed = stream

    def emit(self, record: logging.LogRecord) -> None:
        self.stream = self.fixed or sys.stderr
        super().emit(record)


def setup(fmt: str = "text", debug: bool = False, stream: TextIO | None = None) -> None:
    """One handler on the 'bodycam' and 'apscheduler' loggers (replacing the one an earlier call set)."""
    handler = _Stderr(stream)
    handler.setFormatter(JsonFormatter(debug) if fmt == "json" else TextFormatter(debug))
    for name, level in (("bodycam", logging.DEBUG if debug else logging.INFO), ("apscheduler", logging.WARNING)):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if isinstance(h, _Stderr)]:
            logger.removeHandler(old)
        logger.addHandler(handler)
        logger.setLevel(level)
