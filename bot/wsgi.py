"""WSGI entry point for production servers: ``gunicorn --workers 4 --threads 8 'bot.wsgi:application'``.

Each worker process has its own app, services and outbox delivery thread.  With
gunicorn's default (no ``--preload``) every worker imports this module after the
fork, so everything is built there, at import.  With ``--preload`` the master
imports it and forks: threads and connection pools do not survive a fork, so a
worker that finds itself holding the master's build makes its own on its first
request (the master's is left alone: its sockets are shared with the master).
Several workers act as one bot when NEXTCALLER_OPS_DATABASE_URL and
NEXTCALLER_OPS_REDIS_URL are set (README, "Running for a team"); without them
run one worker, as the SQLite stores belong to one process.
"""

from __future__ import annotations

import atexit
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from nextcaller_ops.errors import NextCallerError

from .health import Health
from .run import create_app_from_env, make_wsgi_app

__all__ = ["application", "APP_LOAD_ERROR"]

# gunicorn's exit status for "App failed to load": the arbiter stops instead of starting the worker again.
APP_LOAD_ERROR = 4

_lock = threading.Lock()
_built: dict[str, Any] = {}


def _build() -> Callable[..., Iterable[bytes]]:
    """This process's WSGI app (built once per process), its services closed at exit."""
    with _lock:
        if _built.get("pid") != os.getpid():
            app, services = create_app_from_env(socket=False)
            atexit.register(services.close)  # let deliveries in progress finish when the worker stops
            health = Health(services)  # /readyz and /metrics beside /slack/events (bot/health.py)
            _built.update(pid=os.getpid(), wsgi=make_wsgi_app(app, health=health), services=services)
        return _built["wsgi"]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    wsgi = _built["wsgi"] if _built.get("pid") == os.getpid() else _build()
    return wsgi(environ, start_response)


def _start() -> None:
    """Build at import; a configuration the bot cannot start with is one line on stderr, not a traceback."""
    from slack_bolt.error import BoltError

    from nextcaller_ops.logs import configure_logging
    from nextcaller_ops.redact import redact

    # As in Socket Mode and `bot --http`: NEXTCALLER_OPS_LOG_FORMAT, the bot's lines at INFO.
    configure_logging("bot", libraries=logging.WARNING)
    try:
        _build()
    except NextCallerError as exc:  # an unknown NEXTCALLER_OPS_* setting, a missing secret, Slack unreachable...
        line = str(exc)
    except BoltError as exc:  # Slack refused the token (auth.test)
        line = f"Slack refused to start the bot ({str(exc)[:200]}) — check SLACK_BOT_TOKEN and SLACK_API_URL"
    else:
        return
    print(f"error: {redact(line)}", file=sys.stderr, flush=True)
    raise SystemExit(APP_LOAD_ERROR)


_start()
