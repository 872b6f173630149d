"""Text a record may hold: valid Unicode that JSON and XML can both carry.

A lone surrogate (``Jos\\udce9``: a Latin-1 shell argument decoded as UTF-8, or
``"\\ud800"`` in JSON) is not Unicode text: it cannot be encoded as UTF-8, so a
record holding one can no longer be written as XML (or by a strict JSON
encoder).  XML 1.0 also cannot carry most control characters or U+FFFE/U+FFFF.
Every edge (the CLI's arguments, the magics' lines, the core's
``build_correction``, the sandbox's bodies) refuses such text with
:func:`text_problem`'s reason instead of storing it.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["is_unicode", "text_problem", "first_problem", "show_invalid", "printable"]

_SURROGATE = re.compile("[\ud800-\udfff]")
# What XML 1.0 cannot carry (tab, newline and carriage return it can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# What a terminal would act on instead of showing: C0 and C1 controls (ESC starts an
# escape sequence), DEL, and lone surrogates (a strict terminal encoding fails on them).
_NOT_PRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def printable(value: str) -> str:
    """``value`` safe to print on a terminal: every control character shown as U+FFFD.

    Records come from the API (and are editable through corrections): a name
    holding ``\x1b]0;...`` must not retitle the terminal or hide lines.
    """
    return value if value.isprintable() else _NOT_PRINTABLE.sub("\ufffd", value)


def is_unicode(value: str) -> bool:
    """False when ``value`` holds a lone surrogate (it cannot be encoded as UTF-8)."""
    return value.isascii() or not _SURROGATE.search(value)


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, in a few words, or None when it can."""
    if value.isascii() and value.isprintable():
        return None
    if not is_unicode(value):
        return "is not valid Unicode text (typed or pasted in another encoding?)"
    if _NOT_XML.search(value):
        return "contains a control character"
    return None


def first_problem(value: Any, where: str = "") -> tuple[str, str] | None:
    """``(where, why)`` for the first string inside ``value`` (keys included) that is not text."""
    if isinstance(value, str):
        problem = text_problem(value)
        return (where, problem) if problem else None
    if isinstance(value, dict):
        for key, item in value.items():
            shown = show_invalid(key) if isinstance(key, str) else str(key)
            name = f"{where}.{shown}" if where else shown
            found = first_problem(key, name) if isinstance(key, str) else None
            found = found or first_problem(item, name)
            if found:
                return found
    elif isinstance(value, list):
        for i, item in enumerate(value):
            found = first_problem(item, f"{where}[{i}]")
            if found:
                return found
    return None


def show_invalid(value: str, limit: int = 40) -> str:
    """``value`` printable anywhere: undecodable bytes as ``\\xe9``, other surrogates as ``\\ud800``."""
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "backslashreplace")
    shown = raw.decode("utf-8", "backslashreplace")
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in shown)
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"
