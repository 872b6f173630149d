"""Internal numbers: the team's own lines (NEXTCALLER_OPS_INTERNAL_NUMBERS), never looked up.

The setting is a list of numbers (commas or lines between them; ``#`` starts a
comment), or the name of a file holding one: ``@/path/to/numbers.txt``, or a value
that is a path (it has a ``/``).  Pure: reading the file is the caller's
(:func:`file_of` says which file).  Any spelling of a number counts (``parse``).
"""

from __future__ import annotations

import re

from ..errors import InvalidPhoneError
from .phone import parse

__all__ = ["file_of", "internal_numbers"]

_SEPARATORS = re.compile(r"[,;]")  # an entry may have spaces in it: (212) 555-8383


def file_of(value: str) -> str | None:
    """The file the setting names (``@path``, or a value with a ``/`` in it); None for a list of numbers."""
    value = value.strip()
    if value.startswith("@"):
        return value[1:].strip()
    if "/" in value or "\\" in value:
        return value
    return None


def internal_numbers(text: str) -> frozenset[str]:
    """The 10-digit numbers ``text`` lists; raises ValueError naming the first entry that is not one."""
    found: set[str] = set()
    for line in text.splitlines():
        for entry in _SEPARATORS.split(line.split("#", 1)[0]):
            if not entry.strip():
                continue
            try:
                found.add(parse(entry).number)
            except InvalidPhoneError as exc:
                raise ValueError(f"{entry.strip()!r} is not a US phone number ({exc})") from None
    return frozenset(found)
