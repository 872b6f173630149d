"""Text a record may hold: valid Unicode that JSON and XML can both carry.

A lone surrogate (``Jos\\udce9``: a Latin-1 shell argument decoded as UTF-8, or
``"\\ud800"`` in JSON) is not Unicode text: it cannot be encoded as UTF-8, so a
record holding one can no longer be written as XML (or by a strict JSON
encoder).  XML 1.0 also cannot carry most control characters or U+FFFE/U+FFFF.
Every edge (the CLI's arguments, the magics' lines, the core's
``build_correction``, the sandbox's bodies) refuses such text with
:func:`text_problem`'s reason instead of storing it.

Control characters are refused in everything a person types (:func:`refuse_control`,
:func:`control_problem`: C0 and C1 controls, DEL, the bidirectional controls), and
what a terminal shows is made :func:`printable`: records come from the API.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from ..errors import UsageError

__all__ = [
    "is_unicode",
    "text_problem",
    "first_problem",
    "show_invalid",
    "printable",
    "control_problem",
    "refuse_control",
]

_SURROGATE = re.compile("[\ud800-\udfff]")
# What XML 1.0 cannot carry (tab, newline and carriage return it can).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


# What a terminal would act on instead of showing: C0 and C1 controls (ESC starts an
# escape sequence), DEL, lone surrogates (a strict terminal encoding fails on them), and
# the bidirectional embeddings, overrides and isolates, which show text in another order
# than it is stored ("Trojan Source": a name that reads as another).
_BIDI = "\u202a-\u202e\u2066-\u2069"
_NOT_PRINTABLE = re.compile(f"[\x00-\x1f\x7f-\x9f\ud800-\udfff{_BIDI}]")
# What a person never types into one of our inputs on purpose (every one is a single line:
# an email, a name, a street, an id, an argument): every C0 control, tab and newline
# included, DEL, every C1 control, and the bidirectional controls above.
_NOT_TYPED = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}]")
_SHORT_NAMES = {
    "\x00": "NUL",
    "\x07": "BEL",
    "\x08": "backspace",
    "\t": "tab",
    "\n": "newline",
    "\r": "carriage return",
    "\x1b": "ESC",
    "\x7f": "DEL",
    "\x9b": "CSI",
}


def printable(value: str) -> str:
    """``value`` safe to print on a terminal: every control character shown as U+FFFD.

    Records come from the API (and are editable through corrections): a name
    holding ``\x1b]0;...`` must not retitle the terminal or hide lines.
    """
    return value if value.isprintable() else _NOT_PRINTABLE.sub("\ufffd", value)


def control_problem(value: str) -> str | None:
    """Why ``value`` cannot be typed input, naming its first control character; None when it has none.

    ``"contains a control character (U+001B ESC)"``, ``"contains a bidirectional control
    (U+202E RIGHT-TO-LEFT OVERRIDE)"``.  The value itself is never repeated: it is what
    must not reach a terminal or a log.
    """
    found = _NOT_TYPED.search(value)
    if found is None:
        return None
    char = found.group()
    code = f"U+{ord(char):04X}"
    if "\u202a" <= char <= "\u2069":
        return f"contains a bidirectional control ({code} {unicodedata.name(char, '')})".replace(" )", ")")
    short = _SHORT_NAMES.get(char)
    return f"contains a control character ({code}{f' {short}' if short else ''})"


def refuse_control(value: str, what: str) -> str:
    """``value`` as it is, or a :class:`UsageError` saying ``what`` holds a control character.

    The one check for everything a person types (queries, corrections, ids, the CLI's
    arguments, the magics' words, ``/caller``'s text), as :func:`~nextcaller_ops.api.phone.parse`
    is for numbers: refused before any request, in one sentence.
    """
    problem = control_problem(value)
    if problem:
        raise UsageError(f"{what} {problem}", hint="type it again without it (was it pasted from a terminal?)")
    return value


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
