"""File names are bytes. A camera's FAT card may hold GBK or Shift-JIS names that are
not UTF-8; Python hands them over with surrogate escapes, which no database,
terminal or JSON encoder accepts. Everything bodycam records or shows goes through
:func:`shown`: valid UTF-8 stays as it is, anything else (and every control
character) is escaped as ``\\xNN``, and :func:`raw_hex` keeps the original bytes."""

from __future__ import annotations

import os
from pathlib import Path


def printable(text: str) -> str:
    """Control characters shown escaped: a name cannot forge a row or drive the terminal."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
                   for ch in text)


def shown(name: str | Path) -> str:
    """A printable, valid-UTF-8 form of a name or path (escaped where needed)."""
    raw = os.fsencode(name)
    return printable(raw.decode("utf-8", "backslashreplace"))


def is_plain(name: str | Path) -> bool:
    """True when :func:`shown` gives the name back unchanged."""
    return shown(name) == str(name)


def raw_hex(name: str | Path) -> str:
    """The name's original bytes, in hex (kept when it is not plain)."""
    return os.fsencode(name).hex()
