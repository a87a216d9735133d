"""Listings as aligned tables for people, JSON (and CSV) for scripts."""

from __future__ import annotations

import csv
import io
import json
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bodycam.names import printable

FORMATS = ("table", "json")


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
"""What a spreadsheet reads as a formula at the start of a cell (OWASP CSV injection)."""


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (list, tuple)):
        return ",".join(_cell(v) for v in value) or "-"
    return printable(str(value))


def _csv_cell(value: Any) -> str:
    """A text cell that would start a formula is prefixed with a quote, as spreadsheet users expect."""
    if value is None:
        return ""
    if isinstance(value, (int, float)):
        return str(value)
    text = value.isoformat(timespec="seconds") if isinstance(value, datetime) else (
        ",".join(_csv_cell(v) for v in value) if isinstance(value, (list, tuple)) else str(value))
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def width(text: str) -> int:
    """Terminal columns: a Chinese or Japanese character takes two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, cols: int) -> str:
    return text + " " * (cols - width(text))


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    if not rows:
        return "(none)"
    cells = [[_cell(r.get(c)) for c in columns] for r in rows]
    widths = [max(len(c), *(width(row[i]) for row in cells)) for i, c in enumerate(columns)]
    lines = ["  ".join(_pad(c.upper(), w) for c, w in zip(columns, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(_pad(v, w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def to_json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def to_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow([_csv_cell(r.get(c)) for c in columns])
    return buf.getvalue().rstrip("\n")
