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
import os
import threading
from collections.abc import Callable, Iterable
from typing import Any

from .run import create_app_from_env, make_wsgi_app

__all__ = ["application"]

_lock = threading.Lock()
_built: dict[str, Any] = {}


def _build() -> Callable[..., Iterable[bytes]]:
    """This process's WSGI app (built once per process), its services closed at exit."""
    with _lock:
        if _built.get("pid") != os.getpid():
            app, services = create_app_from_env(socket=False)
            atexit.register(services.close)  # let deliveries in progress finish when the worker stops
            _built.update(pid=os.getpid(), wsgi=make_wsgi_app(app), services=services)
        return _built["wsgi"]


def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    wsgi = _built["wsgi"] if _built.get("pid") == os.getpid() else _build()
    return wsgi(environ, start_response)


_build()
