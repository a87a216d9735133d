"""Free text from people (reasons, notes): one printable line, or refused.

A reason with a newline could forge a line in a receipt or a log; a control
character could rewrite a terminal. Refusing them at the door is simpler than
escaping them everywhere they are shown.
"""

from __future__ import annotations

from bodycam.errors import InputError

MAX_LINE = 2000


def one_line(text: str, what: str) -> str:
    """``text`` stripped, if it is one non-empty printable line of sane length."""
    value = text.strip()
    if not value:
        raise InputError(f"{what}: required")
    bad = next((ch for ch in value if not ch.isprintable()), None)
    if bad is not None:
        raise InputError(f"{what}: must be one printable line (it holds {bad!r})")
    if len(value) > MAX_LINE:
        raise InputError(f"{what}: longer than {MAX_LINE} characters")
    return value
