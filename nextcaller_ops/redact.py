"""Keep secrets and phone numbers out of logs.

Every secret this package loads (consumer secret, Slack tokens, signing
secret) is registered here.  :func:`redact` replaces registered values,
anything shaped like a Slack token, OAuth signatures and signed base strings
with ``[redacted]``, and masks US phone numbers (``212***8383``): third-party
libraries (Bolt logs a refused request's whole body at INFO, oauthlib logs the
signature at DEBUG) cannot be trusted to do either.

Numbers are found however the text was encoded on its way into the log: a
form body (``212+555+8383``), percent-encoding at any depth (``%28212%29``,
``%25322``), JSON or Python escapes (``\\u0032``, ``\\x32``), or non-ASCII
digits and spaces.  The text is decoded into a view used only for matching;
each match is masked where it stands in the original.

:func:`install` applies it to every log record the process creates, whichever
logger or handler it goes to.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

__all__ = [
    "register_secret",
    "redact",
    "mask_phone",
    "mask_phones",
    "mask_digits",
    "mask_input",
    "mask_secret",
    "RedactingFilter",
    "install",
]

_lock = threading.Lock()
_secrets: set[str] = set()
# Bot, user, app-level and token-rotation (xoxe-) tokens, as Slack shapes them.
_TOKEN_RE = re.compile(r"xox[abeposr]-[0-9A-Za-z.-]{6,}|xapp-\d-[0-9A-Za-z-]{6,}")
# A signature's value after its name, in any of the shapes logs write it: a header
# (oauth_signature="…"), a query (oauth_signature=…, oauth_signature%3D…), JSON, a Python
# tuple ('oauth_signature', '…'), oauthlib's "Signature: …", Slack's X-Slack-Signature.
_Q = r"""(?:\\?["']|%2[27])"""  # a quote, maybe escaped or percent-encoded
_SIG_RE = re.compile(
    rf"((?<![A-Za-z])signature(?:{_Q}?\s*(?:[:=]|%3[DdAa])|{_Q},)(?:\s|%20|{_Q})*)"
    r"(?!(?:True|False|None)\b|\[redacted\])(?:(?!%2[26Cc])[^\s\"',&;)\]}\\])+",
    re.IGNORECASE,
)
# HTTP Basic (the v2.1 API's other scheme: base64 of key:secret) and Bearer credentials.
_AUTH_RE = re.compile(
    r"""((?<![A-Za-z])authorization["']?\s*[:=]\s*["']?(?:b["'])?(?:basic|bearer)\s+)(?!\[redacted\])[^\s"',;)\]}]+""",
    re.I,
)
# oauthlib's "signature base string: GET&http%3A…": everything that was signed.
_BASE_STRING_RE = re.compile(r"(signature base string\W*)\S+", re.IGNORECASE)

REDACTED = "[redacted]"

# -- phone numbers ------------------------------------------------------------------------------
# A US number as people, URLs and forms write it: 2125558383, (212) 555-8383, +1 212.555.8383,
# 212 - 555 - 8383.  A "1" before it is a country code unless it ends a word (phone1 2125558383).
# Area codes start 2-9, so 10-digit Unix timestamps (1...) are left alone, and a longer run of
# digits is no phone number.  Matched on the decoded view (ASCII digits, one space for any
# whitespace).
_SEP = r"[-. +]{0,3}"  # "+" is a space in a form body
_PHONE_RE = re.compile(
    rf"(?<![0-9])(?:(?<![A-Za-z_])\+?1{_SEP})?\(?([2-9][0-9]{{2}})\)?{_SEP}([0-9]{{3}}){_SEP}([0-9]{{4}})(?![0-9])"
)
# One encoded character: percent-encoded UTF-8 at any depth (%32, %2532, %EF%BC%92),
# a JSON or Python escape (\u0032, \\u0032, \x32).
_P = r"%(?:25)*"
_CONT = rf"{_P}[89ABab][0-9A-Fa-f]"
_ESCAPE_RE = re.compile(
    rf"{_P}(?:[0-7][0-9A-Fa-f]|[C-Dc-d][0-9A-Fa-f]{_CONT}|[Ee][0-9A-Fa-f]{_CONT}{_CONT}|[Ff][0-4]{_CONT}{_CONT}{_CONT})"
    r"|\\+u[0-9A-Fa-f]{4}|\\+x[0-9A-Fa-f]{2}"
)
_ASCII_VIEW = str.maketrans({"\t": " ", "\n": " ", "\r": " ", "\f": " ", "\v": " "})


def _view_char(ch: str) -> str:
    """One character as the matcher sees it: digits as ASCII digits, any space as a space."""
    if ch.isascii():
        return ch.translate(_ASCII_VIEW)
    if ch.isdigit():
        try:
            return str(unicodedata.digit(ch))
        except (TypeError, ValueError):
            return ch
    if ch.isspace():
        return " "
    folded = unicodedata.normalize("NFKC", ch)  # fullwidth ( ) - .
    return folded if len(folded) == 1 and folded in "()-." else ch


def _decode_escape(token: str) -> str:
    if token.startswith("%"):
        hexes = re.sub(r"%(?:25)*", "", token)
        text = bytes.fromhex(hexes).decode("utf-8", "replace")
    else:
        text = chr(int(token.lstrip("\\")[1:], 16))
    return _view_char(text) if len(text) == 1 else "\ufffd"


def _decoded_view(text: str) -> tuple[str, list[int]]:
    """The text as the matcher sees it, and where each of its characters starts in ``text``."""
    view: list[str] = []
    starts: list[int] = []
    pos = 0

    def literal(end: int) -> None:
        chunk = text[pos:end]
        view.append(chunk.translate(_ASCII_VIEW) if chunk.isascii() else "".join(map(_view_char, chunk)))
        starts.extend(range(pos, end))

    for m in _ESCAPE_RE.finditer(text):
        literal(m.start())
        view.append(_decode_escape(m.group()))
        starts.append(m.start())
        pos = m.end()
    literal(len(text))
    starts.append(len(text))
    return "".join(view), starts


def _mask_match(m: re.Match[str]) -> str:
    return f"{m.group(1)}***{m.group(3)}"


def mask_phones(text: str) -> str:
    """Mask every US number in ``text`` (``212***8383``), however it was encoded; the rest is kept."""
    if not text:
        return text
    if text.isascii() and "%" not in text and "\\" not in text:
        view, starts = text.translate(_ASCII_VIEW), None
    else:
        view, starts = _decoded_view(text)
    out: list[str] = []
    pos = 0
    for m in _PHONE_RE.finditer(view):
        start, end = (m.start(), m.end()) if starts is None else (starts[m.start()], starts[m.end()])
        out.append(text[pos:start])
        out.append(_mask_match(m))
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def mask_phone(number: str) -> str:
    """``2125558383`` -> ``212***8383``: enough to recognise, not to dial (one number's digits)."""
    digits = re.sub(r"\D", "", str(number))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]  # the country code is not the area code
    if len(digits) < 7:
        return "***"
    return f"{digits[:3]}***{digits[-4:]}"


def mask_digits(text: str) -> str:
    """Each US number masked on its own (``212***8383``) and every other digit hidden (``*``)."""
    masked = mask_phones(text)
    # The masks' own digits stay; any other digit goes.
    parts = re.split(r"([2-9]\d{2}\*\*\*\d{4})", masked)
    return "".join(p if i % 2 else re.sub(r"\d", "*", p) for i, p in enumerate(parts))


_INPUT_MAX = 32


def mask_input(value: str) -> str:
    """What a refused phone input is shown as: recognisable, never dialable, never a mix of numbers.

    One number's worth of digits (an extension aside) is masked as a number
    (``212***8383``); more than that (two numbers, a long id) keeps its shape
    with each US number masked on its own and every other digit hidden.
    """
    if not value:
        return ""
    body = re.sub(r"(?i)(?:ext|x)\.?\s*\d+\s*$", "", value)
    digits = sum(c.isdigit() for c in body)
    if digits < 7:
        return value[:20]
    if digits <= 11:
        return mask_phone(body)
    shown = mask_digits(value)
    return shown if len(shown) <= _INPUT_MAX else shown[: _INPUT_MAX - 1] + "…"


def mask_secret(secret: str | None) -> str:
    """``EG2D22B98D2232253SE3`` -> ``EG2D…3SE3``; short values are fully hidden."""
    if not secret:
        return "(none)"
    if len(secret) < 12:
        return "…" * 3
    return f"{secret[:4]}…{secret[-4:]}"


def register_secret(value: str | None) -> None:
    # Very short values would redact ordinary words; real secrets are long.
    if value and len(value) >= 6:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    if not text:
        return text
    with _lock:
        secrets = sorted(_secrets, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    text = _AUTH_RE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _TOKEN_RE.sub(REDACTED, text)
    text = _BASE_STRING_RE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _SIG_RE.sub(lambda m: m.group(1) + REDACTED, text)
    return mask_phones(text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call (args that do not fit): leave it to the handler's error path
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, redacted, so no handler formats the raw one.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_installed = False


def install() -> None:
    """Redact every log record this process creates (a record factory: all loggers, all handlers)."""
    global _installed
    with _lock:
        if _installed:
            return
        _installed = True
    previous = logging.getLogRecordFactory()
    flt = RedactingFilter()

    def factory(*args, **kwargs) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        flt.filter(record)
        return record

    logging.setLogRecordFactory(factory)
