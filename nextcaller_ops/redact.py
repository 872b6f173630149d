"""Keep secrets out of logs: a registry of secret values and a logging filter.

Every secret this package loads (consumer secret, Slack tokens, signing
secret) is registered here; :class:`RedactingFilter` replaces any registered
value, and anything shaped like a Slack token, with ``[redacted]`` in every
record that passes through a handler it is installed on.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = ["register_secret", "redact", "RedactingFilter", "install"]

_lock = threading.Lock()
_secrets: set[str] = set()
_TOKEN_RE = re.compile(r"xox[abposr]-[0-9A-Za-z-]{6,}|xapp-\d-[0-9A-Za-z-]{6,}")
_OAUTH_SIG_RE = re.compile(r'(oauth_signature="?)[^",&\s]+')
REDACTED = "[redacted]"


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
    return _OAUTH_SIG_RE.sub(lambda m: m.group(1) + REDACTED, text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # Render the traceback now, redacted, so no handler formats the raw one.
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


def install(logger: logging.Logger | None = None) -> RedactingFilter:
    """Put the filter on every handler of ``logger`` (root by default) and on the logger."""
    target = logger or logging.getLogger()
    flt = RedactingFilter()
    target.addFilter(flt)
    for handler in target.handlers:
        handler.addFilter(flt)
    return flt
