"""Read CSV or JSON registry files into validated rows, naming line and field on error.

All rows are checked before anything is written, so a bad row leaves nothing
behind (the caller writes in one transaction).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bodycam.errors import InputError

DEFAULT_MAX = 500
"""Longest text a field may hold unless it says otherwise (the widest text column of its table)."""


@dataclass(frozen=True)
class Field:
    name: str
    required: bool = True
    parse: Callable[[str], Any] = str
    """Turns the text into a value; raises ValueError with a short reason."""
    max_len: int = DEFAULT_MAX
    """Checked before anything is written, so that neither database refuses the value later."""


@dataclass(frozen=True)
class Row:
    where: str
    """``FILE:LINE`` for CSV, ``FILE: item N`` for JSON."""
    values: dict[str, Any]

    def fail(self, field: str, reason: str) -> InputError:
        return InputError(f"{self.where}: field '{field}': {reason}")


def read_rows(path: Path, fields: Sequence[Field], columns: Mapping[str, str] | None = None) -> list[Row]:
    """Parse ``path`` (``.json`` or CSV) against ``fields``; the first fault raises InputError.
    ``columns`` (field -> the file's own header): read a foreign export as it is; its other columns are
    ignored, and errors name the file's header."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read: {exc}") from None
    header = {f.name: (columns or {}).get(f.name, f.name) for f in fields}
    required = [header[f.name] for f in fields if f.required]
    raw = _json_rows(path, text) if path.suffix.lower() == ".json" else _csv_rows(path, text, required)
    if columns is not None:
        field_of = {h: name for name, h in header.items()}
        raw = [(where, {field_of[h]: v for h, v in record.items() if h in field_of}) for where, record in raw]
    known = {f.name for f in fields}
    rows = []
    for where, record in raw:
        unknown = sorted(set(record) - known)
        if unknown:
            raise InputError(f"{where}: unknown field '{unknown[0]}' (expected: {', '.join(f.name for f in fields)})")
        values: dict[str, Any] = {}
        for f in fields:
            value = record.get(f.name)
            text_value = "" if value is None else str(value).strip()
            label = header[f.name]
            if not text_value:
                if f.required:
                    raise InputError(f"{where}: field '{label}': required")
                values[f.name] = None
                continue
            if len(text_value) > f.max_len:
                raise InputError(f"{where}: field '{label}': {len(text_value)} characters, more than {f.max_len}")
            try:
                values[f.name] = f.parse(text_value)
            except ValueError as exc:
                raise InputError(f"{where}: field '{label}': {exc}") from None
        rows.append(Row(where, values))
    if not rows:
        raise InputError(f"{path}: no rows")
    return rows


def _csv_rows(path: Path, text: str, required: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """Rows split by CSV rules only: a quoted newline, or a U+0085 or U+2028 inside a
    field, stays in its field (``str.splitlines`` would break the row there)."""
    reader = csv.DictReader(io.StringIO(text, newline=""))
    out = []
    try:
        header = reader.fieldnames or []
        duplicate = next((h for h in header if header.count(h) > 1), None)
        if duplicate is not None:
            raise InputError(f"{path}:1: column '{duplicate}' appears twice")
        missing = [name for name in required if name not in header]
        if missing:
            raise InputError(f"{path}:1: missing column '{missing[0]}'")
        for record in reader:
            line = reader.line_num
            if None in record:
                raise InputError(f"{path}:{line}: more values than columns")
            if not any((v or "").strip() for v in record.values()):
                continue
            out.append((f"{path}:{line}", {k: v for k, v in record.items() if k}))
    except csv.Error as exc:
        raise InputError(f"{path}:{reader.line_num}: {exc}") from None
    return out


def _json_rows(path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of objects")
    out = []
    for i, item in enumerate(data):
        if not isinstance(item, dict):
            raise InputError(f"{path}: item {i}: expected an object")
        out.append((f"{path}: item {i}", {k: (";".join(v) if isinstance(v, list) else v) for k, v in item.items()}))
    return out


def choice(*allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text not in allowed:
            raise ValueError(f"{text!r} is not one of {', '.join(allowed)}")
        return text

    return parse
