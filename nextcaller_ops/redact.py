"""Keep secrets and phone numbers out of logs.

Every secret this package loads (consumer secret, Slack tokens, signing
secret) is registered here.  :func:`redact` replaces registered values,
anything shaped like a Slack token and OAuth signatures with ``[redacted]``,
and masks US phone numbers (``212***8383``): third-party libraries (Bolt logs
a refused request's whole body at INFO) cannot be trusted to do either.

:func:`install` applies it to every log record the process creates, whichever
logger or handler it goes to.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["register_secret", "redact", "mask_phone", "mask_secret", "RedactingFilter", "install"]

_lock = threading.Lock()
_secrets: set[str] = set()
# Bot, user, app-level and token-rotation (xoxe-) tokens, as Slack shapes them.
_TOKEN_RE = re.compile(r"xox[abeposr]-[0-9A-Za-z.-]{6,}|xapp-\d-[0-9A-Za-z-]{6,}")
_OAUTH_SIG_RE = re.compile(r'(oauth_signature(?:"?\s*[=:]\s*"?|%3D))[^",&\s]+')
# A US number as people and URLs write it: 2125558383, (212) 555-8383, +1 212.555.8383.
# Area codes start 2-9, so 10-digit Unix timestamps (1...) are left alone.
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?1[-. ]?)?\(?([2-9]\d{2})\)?[-. ]?(\d{3})[-. ]?(\d{4})(?!\d)")
REDACTED = "[redacted]"


def mask_phone(number: str) -> str:
    """``2125558383`` -> ``212***8383``: enough to recognise, not to dial."""
    digits = re.sub(r"\D", "", str(number))
    if len(digits) < 7:
        return "***"
    return f"{digits[:3]}***{digits[-4:]}"


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
    text = _TOKEN_RE.sub(REDACTED, text)
    text = _OAUTH_SIG_RE.sub(lambda m: m.group(1) + REDACTED, text)
    return _PHONE_RE.sub(lambda m: f"{m.group(1)}***{m.group(3)}", text)


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
