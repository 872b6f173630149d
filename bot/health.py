"""What an operator asks a running bot: is it alive (``/healthz``), ready (``/readyz``), and its metrics.

- ``/healthz``: liveness.  The process answers HTTP; nothing else is checked (a
  restart would not fix a database outage).
- ``/readyz``: readiness, one JSON object per check and 503 naming each failing one:
  ``postgres`` reachable and at the schema this code knows (or ``sqlite``), ``redis``
  reachable when set (down is stated as ``degraded`` and is not a failure: the bot
  works on without it, each process counting alone), ``slack`` (``auth.test``
  passed, asked at most once a minute), ``outbox`` (the oldest correction due for
  delivery has waited less than ``NEXTCALLER_OPS_READY_OUTBOX_MAX_AGE`` seconds).
- ``/metrics``: Prometheus text (:mod:`nextcaller_ops.metrics`), plus the stores'
  readings taken at the scrape (outbox depth and oldest age, triage items by state).

HTTP mode and gunicorn answer these paths beside ``/slack/events`` (:func:`answer`);
Socket Mode has no HTTP server of its own, so ``NEXTCALLER_OPS_HEALTH_PORT`` starts
a small threaded one (:func:`serve_health`; off by default).
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from nextcaller_ops import metrics
from nextcaller_ops.errors import UsageError

from .services import Services

__all__ = [
    "Health",
    "answer",
    "serve_health",
    "health_address",
    "PATHS",
    "OUTBOX_MAX_AGE",
    "SLACK_CHECK_SECONDS",
]

log = logging.getLogger("bot.health")

PATHS = ("/healthz", "/readyz", "/metrics")
OUTBOX_MAX_AGE = 3600.0  # seconds a due correction may wait before the bot stops calling itself ready
SLACK_CHECK_SECONDS = 60.0  # auth.test at most once a minute when it passes
SLACK_RECHECK_FAILED = 10.0  # and sooner after it failed, so readiness comes back quickly
OUTBOX_AGE_SETTING = "NEXTCALLER_OPS_READY_OUTBOX_MAX_AGE"
PORT_SETTING = "NEXTCALLER_OPS_HEALTH_PORT"

Check = dict[str, Any]


def _outbox_max_age() -> float:
    raw = os.environ.get(OUTBOX_AGE_SETTING, "").strip()
    if not raw:
        return OUTBOX_MAX_AGE
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value <= 0:
        raise UsageError(
            f"{OUTBOX_AGE_SETTING} is not a number of seconds",
            hint=f"set it to e.g. 3600, or unset it ({OUTBOX_MAX_AGE:g})",
        )
    return value


class Health:
    """The readiness checks and the metrics of one bot process, over its :class:`Services`."""

    def __init__(self, services: Services, *, clock: Callable[[], float] = time.time):
        self.services = services
        self.outbox_max_age = _outbox_max_age()
        self._clock = clock
        self._slack_lock = threading.Lock()
        self._slack: tuple[float, Check] | None = None  # (monotonic time asked, the check)

    # -- readiness -----------------------------------------------------------------------------

    def ready(self) -> tuple[bool, dict[str, Any]]:
        """(ready, body): every check's result, and ``failing`` naming those that failed."""
        checks: dict[str, Check] = {}
        database = self._database()
        checks[database.pop("name")] = database
        checks["redis"] = self._redis()
        checks["slack"] = self._slack_check()
        reachable = database["ok"] or "schema" in database  # a schema mismatch still lets the outbox be read
        # Unreachable: the outbox is not checked (ok None), so that `failing` names the cause alone.
        checks["outbox"] = self._outbox() if reachable else {"ok": None, "skipped": "the database is not reachable"}
        failing = [name for name, check in checks.items() if check["ok"] is False]
        return not failing, {"status": "ready" if not failing else "not ready", "failing": failing, "checks": checks}

    def _database(self) -> Check:
        settings = self.services.settings
        if not settings.database_url:
            return {"name": "sqlite", "ok": True, "backend": "sqlite"}
        from nextcaller_ops.stores.postgres import schema_status

        found = schema_status(settings.database_url)  # a fresh connection, reads only, never raises
        if not found.get("ok"):
            metrics.STORE_ERRORS.labels(store="postgresql").inc()
            return {"name": "postgres", "ok": False, "error": found.get("error", "not reachable")}
        schema, known = found["version"], found["code"]
        check: Check = {"name": "postgres", "ok": schema == known, "schema": schema, "code_schema": known}
        if schema < known:
            check["error"] = "the schema is behind this code: run `nextcaller-ops db migrate`"
        elif schema > known:
            check["error"] = "the schema is newer than this code knows: upgrade nextcaller-ops"
        return check

    def _redis(self) -> Check:
        settings = self.services.settings
        if not settings.redis_url:
            return {"ok": True, "configured": False}
        from nextcaller_ops.stores.redis import shared_redis

        shared = shared_redis(settings.redis_url, settings.redis_prefix)
        if shared.call(lambda r: bool(r.ping()), default=False):
            return {"ok": True, "configured": True}
        # Not a failure: every lookup still works, with the cache, limits and pacing in this process alone.
        return {
            "ok": True,
            "configured": True,
            "degraded": True,
            "error": f"not reachable ({shared.last_error or 'down'}): cache, limits and pacing are per process",
        }

    def _slack_check(self) -> Check:
        with self._slack_lock:
            now = time.monotonic()
            if self._slack is not None:
                asked, check = self._slack
                if now - asked < (SLACK_CHECK_SECONDS if check["ok"] else SLACK_RECHECK_FAILED):
                    return check
            try:
                reply = self.services.web.auth_test()
                check = {"ok": bool(reply.get("ok")), "team": reply.get("team_id")}
            except Exception as exc:  # refused token (SlackApiError), no network (URLError): not ready
                check = {"ok": False, "error": f"auth.test failed ({type(exc).__name__})"}
            self._slack = (now, check)
            return check

    def _outbox(self) -> Check:
        from nextcaller_ops.stores.readings import outbox_backlog

        try:
            backlog = outbox_backlog(self.services.stores.outbox, self._clock())
        except Exception as exc:  # the database went away between the checks
            self._store_error()
            return {"ok": False, "error": f"outbox not readable ({type(exc).__name__})"}
        age = backlog.oldest_due_age
        check: Check = {
            "ok": age is None or age < self.outbox_max_age,
            "depth": backlog.depth,
            "max_age": self.outbox_max_age,
        }
        check["oldest_due_seconds"] = None if age is None else round(age, 1)
        if not check["ok"]:
            check["error"] = "a correction due for delivery has waited too long: is the API reachable?"
        return check

    def _store_error(self) -> None:
        if self.services.stores.backend != "postgresql":  # PostgreSQL's pool counts its own errors
            metrics.STORE_ERRORS.labels(store=self.services.stores.backend).inc()

    # -- metrics -------------------------------------------------------------------------------

    def readings(self) -> dict[str, Any]:
        """The stores' state for ``/metrics`` (empty when they cannot be read: the scrape still answers)."""
        from nextcaller_ops.stores.readings import outbox_backlog, triage_states

        stores = self.services.stores
        try:
            backlog = outbox_backlog(stores.outbox, self._clock())
            states = triage_states(stores.triage)
        except Exception:
            self._store_error()
            return {}
        return {
            "nextcaller_ops_outbox_depth": ("Corrections waiting for delivery", backlog.depth),
            "nextcaller_ops_outbox_oldest_seconds": (
                "How long the oldest correction waiting for delivery has waited (0: none waits)",
                backlog.oldest_age or 0.0,
            ),
            "nextcaller_ops_triage_items": ("Triage items by state", {"state": states}),
        }

    def metrics_text(self) -> bytes:
        return metrics.exposition(self.readings)


def answer(health: Health, path: str) -> tuple[str, list[tuple[str, str]], bytes] | None:
    """(status, headers, body) for one of :data:`PATHS`; None for any other path."""
    if path == "/healthz":
        return "200 OK", [("Content-Type", "text/plain")], b"ok"
    if path == "/readyz":
        ready, body = health.ready()
        status = "200 OK" if ready else "503 Service Unavailable"
        return status, [("Content-Type", "application/json")], json.dumps(body, sort_keys=True).encode()
    if path == "/metrics":
        return "200 OK", [("Content-Type", metrics.CONTENT_TYPE)], health.metrics_text()
    return None


def wsgi_answer(health: Health, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes] | None:
    """:func:`answer` as a WSGI response (GET and HEAD only), or None when the path is not one of ours."""
    found = answer(health, environ.get("PATH_INFO") or "")
    if found is None:
        return None
    status, headers, body = found
    start_response(status, [*headers, ("Content-Length", str(len(body)))])
    return [b""] if environ.get("REQUEST_METHOD") == "HEAD" else [body]


def health_address(raw: str | None = None) -> tuple[str, int] | None:
    """``NEXTCALLER_OPS_HEALTH_PORT``: ``PORT`` (on 127.0.0.1) or ``HOST:PORT``; None when unset (off)."""
    raw = (os.environ.get(PORT_SETTING, "") if raw is None else raw).strip()
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"{PORT_SETTING} is not a port",
            hint="set it to a port (e.g. 9090, on 127.0.0.1) or HOST:PORT (0.0.0.0:9090)",
        )
    return (host.strip("[]") or "127.0.0.1"), int(port)


class _Handler(BaseHTTPRequestHandler):
    health: Health  # set on the server's subclass
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        found = answer(self.health, self.path.split("?", 1)[0])
        status, headers, body = found or ("404 Not Found", [("Content-Type", "text/plain")], b"not found")
        self.send_response(int(status.split()[0]), status.split(" ", 1)[1])
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("health %s", format % args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.warning("health: a connection ended in an error", exc_info=True)


def serve_health(health: Health, host: str, port: int) -> ThreadingHTTPServer:
    """``/healthz``, ``/readyz`` and ``/metrics`` on ``host:port``, served on a daemon thread; ``shutdown()`` stops it."""
    handler = type("HealthHandler", (_Handler,), {"health": health})
    try:
        server = _Server((host, port), handler)
    except OSError as exc:  # the port is taken, or the host is not this machine's
        raise UsageError(
            f"cannot serve health on {host}:{port} ({(exc.strerror or type(exc).__name__).lower()})",
            hint=f"choose another {PORT_SETTING}, or unset it",
        ) from None
    threading.Thread(target=server.serve_forever, name="health-http", daemon=True).start()
    log.info("health and metrics on http://%s:%s/readyz", host, server.server_port)
    return server
