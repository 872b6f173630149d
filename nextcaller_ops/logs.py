"""One log set-up for every process: the bot (Socket Mode, ``bot --http``, gunicorn) and the CLI.

:func:`configure_logging` puts one handler on the root logger (stderr), in the format
``NEXTCALLER_OPS_LOG_FORMAT`` names:

- ``plain`` (the default): ``2026-12-02T00:31:07.412Z INFO bot.answers: lookup 212***8383 …``
- ``json``: one JSON object per line with ``timestamp``, ``level``, ``logger``, ``message`` and
  the context: ``surface`` (``bot`` or ``cli``), ``user_id``, ``channel_id``, ``request_id``
  (whatever is known), plus any ``extra`` fields a call passed.

The context is a :class:`contextvars.ContextVar`: the bot sets it per Slack request
(a middleware in ``bot/app.py``), the CLI sets ``surface=cli`` for the run.  The
redaction of :mod:`nextcaller_ops.redact` is installed here too, and the JSON
formatter redacts every field it writes (``extra`` fields are attached after the
record factory has redacted the message, so they are redacted again on the way out).
"""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from types import MappingProxyType
from typing import IO, Any

from .errors import UsageError

__all__ = [
    "LOG_FORMAT_SETTING",
    "CONTEXT_FIELDS",
    "configure_logging",
    "log_context",
    "set_log_context",
    "start_log_context",
    "reset_log_context",
    "set_surface",
    "ContextFilter",
]

LOG_FORMAT_SETTING = "NEXTCALLER_OPS_LOG_FORMAT"
FORMATS = ("plain", "json")
CONTEXT_FIELDS = ("surface", "user_id", "channel_id", "request_id")
OWN_LOGGERS = ("bot", "nextcaller_ops")

_NO_CONTEXT: Mapping[str, str] = MappingProxyType({})
_context: contextvars.ContextVar[Mapping[str, str]] = contextvars.ContextVar("nextcaller_ops_log", default=_NO_CONTEXT)
_surface = {"surface": ""}  # the process's surface: every thread's records carry it, a request's context or not
_handler: logging.Handler | None = None  # the one handler this module owns on the root logger


def set_surface(surface: str) -> None:
    """``bot`` or ``cli``: written on every record of this process."""
    _surface["surface"] = surface


def set_log_context(**fields: str | None) -> contextvars.Token[Mapping[str, str]]:
    """Add ``fields`` to the context of this thread (or task) until :func:`reset_log_context`."""
    merged = {**_context.get(), **{k: v for k, v in fields.items() if v}}
    return _context.set(merged)


def start_log_context(**fields: str | None) -> None:
    """A new request on this thread: its context replaces whatever the thread's last request left.

    For a framework whose middlewares return before the handler runs (Bolt): there is no
    "after" to reset in, and a reused thread's next request replaces it.
    """
    _context.set({k: v for k, v in fields.items() if v})


def reset_log_context(token: contextvars.Token[Mapping[str, str]]) -> None:
    _context.reset(token)


@contextmanager
def log_context(**fields: str | None) -> Iterator[None]:
    token = set_log_context(**fields)
    try:
        yield
    finally:
        reset_log_context(token)


class ContextFilter(logging.Filter):
    """Copies the context onto each record (``record.surface`` …; empty when unknown)."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = _context.get()
        for name in CONTEXT_FIELDS:
            if not getattr(record, name, None):
                setattr(record, name, current.get(name) or (_surface["surface"] if name == "surface" else ""))
        return True


def _iso(record: logging.LogRecord) -> str:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
    return f"{stamp}.{int(record.msecs):03d}Z"


class PlainFormatter(logging.Formatter):
    """``TIMESTAMP LEVEL logger: message`` (UTC), the request's context after it when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = f"{_iso(record)} {record.levelname} {record.name}: {record.getMessage()}"
        context = " ".join(f"{k}={getattr(record, k)}" for k in CONTEXT_FIELDS[1:] if getattr(record, k, ""))
        if context:
            line += f" [{context}]"
        if record.exc_text or record.exc_info:
            line += "\n" + (record.exc_text or self.formatException(record.exc_info))  # type: ignore[arg-type]
        return line


def _redacted(value: Any) -> Any:
    from .redact import redact

    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


def _json_formatter() -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class RedactingJsonFormatter(JsonFormatter):
        """python-json-logger's formatter, every field redacted (``extra`` ones included)."""

        def add_fields(self, log_data: dict[str, Any], record: logging.LogRecord, message_dict: dict[str, Any]) -> None:
            super().add_fields(log_data, record, message_dict)
            log_data["timestamp"] = _iso(record)
            for name in CONTEXT_FIELDS:  # always present, empty when unknown: one shape for every line
                log_data.setdefault(name, getattr(record, name, "") or "")

        def process_log_record(self, log_data: dict[str, Any]) -> dict[str, Any]:
            return {key: _redacted(value) for key, value in log_data.items()}

    return RedactingJsonFormatter(
        "{levelname}{name}{message}",
        style="{",
        rename_fields={"levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


def log_format(env: Mapping[str, str] | None = None) -> str:
    """``plain`` or ``json`` from ``NEXTCALLER_OPS_LOG_FORMAT``; anything else is one clear error."""
    value = ((os.environ if env is None else env).get(LOG_FORMAT_SETTING) or "plain").strip().lower()
    if value not in FORMATS:
        raise UsageError(
            f"{LOG_FORMAT_SETTING} must be plain or json, not {value[:20]!r}",
            hint=f"set {LOG_FORMAT_SETTING}=json for one JSON object per line, or unset it",
        )
    return value


def configure_logging(
    surface: str,
    *,
    level: int = logging.INFO,
    stream: IO[str] | None = None,
    fmt: str | None = None,
    libraries: int | None = None,
) -> logging.Handler:
    """The process's one stderr handler on the root logger, (re)configured; redaction installed.

    Calling it again (the CLI's ``bot`` verb after the CLI's own set-up, gunicorn's
    ``post_fork`` after its master's) reconfigures the same handler rather than adding one,
    so no line is written twice.  ``libraries``: a level for every other logger (the bot logs its
    own lines at INFO, slack_sdk's retry chatter only from WARNING up).
    """
    global _handler
    from .redact import install

    install()  # before any record: the redaction applies whatever the format
    chosen = fmt or log_format()
    set_surface(surface)
    if _handler is None:
        _handler = logging.StreamHandler(stream or sys.stderr)
        _handler.addFilter(ContextFilter())
    elif stream is not None and isinstance(_handler, logging.StreamHandler):
        _handler.setStream(stream)
    _handler.setFormatter(_json_formatter() if chosen == "json" else PlainFormatter())
    _handler.setLevel(min(level, libraries or level))
    root = logging.getLogger()
    if _handler not in root.handlers:
        root.addHandler(_handler)
    if libraries is not None:
        root.setLevel(libraries)
        for own in OWN_LOGGERS:
            logging.getLogger(own).setLevel(level)
    elif root.level == logging.NOTSET or root.level > level:
        root.setLevel(level)
    return _handler


def remove_handler() -> None:
    """Take the handler off the root logger (the CLI's ``main`` runs inside other programs too)."""
    global _handler
    if _handler is not None:
        logging.getLogger().removeHandler(_handler)
        _handler = None
