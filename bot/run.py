"""Running the bot: Socket Mode (no public URL needed) or HTTP (``/slack/events``).

HTTP mode here is a threaded development-grade server (127.0.0.1 unless ``--host``).  In
production put the WSGI app behind gunicorn and a TLS proxy (README, "Running it in production")::

    gunicorn --config deploy/gunicorn.conf.py

Several workers (or replicas) need the shared state: NEXTCALLER_OPS_DATABASE_URL
and NEXTCALLER_OPS_REDIS_URL (README, "Running for a team"); each worker runs its
own outbox delivery thread.  With the embedded SQLite stores run one worker.
"""

from __future__ import annotations

import io
import logging
import signal
import socketserver
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App

from nextcaller_ops import metrics
from nextcaller_ops.errors import NextCallerError

from .health import Health, health_address, serve_health, wsgi_answer
from .rotation import Rotation, load_env_file
from .services import Services
from .settings import BotSettings

__all__ = ["run_bot", "make_wsgi_app", "serve_http", "create_app_from_env", "SlackUnreachableError"]

log = logging.getLogger("bot")


class SlackUnreachableError(NextCallerError):
    """Slack's Web API did not answer the bot's first call (``auth.test``) at start: exit 1, one line."""


def make_wsgi_app(
    app: App, path: str = "/slack/events", *, health: Health | None = None
) -> Callable[..., Iterable[bytes]]:
    """Slack's requests at ``path``; ``/healthz``, ``/readyz`` and ``/metrics`` from ``health`` (bot/health.py)."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    from .socket_mode import envelope

    handler = SlackRequestHandler(app, path=path)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        where = environ.get("PATH_INFO")
        if health is not None and (answered := wsgi_answer(health, environ, start_response)) is not None:
            return answered
        if where == "/healthz":  # liveness without the checks (an app built without its services)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        # A malformed body is a 400 and one redacted log line, not a 500 with a raw traceback
        # on stderr (wsgiref prints an application's exception itself, past the log redaction).
        length = environ.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > envelope.MAX_BODY:
            return _refuse(start_response, "400 Bad Request", f"refused a request to {where}: bad Content-Length")
        try:
            body = environ["wsgi.input"].read(int(length)) if int(length) else b""
        except OSError:  # the client went quiet mid-body (socket timeout) or away
            return _refuse(start_response, "408 Request Timeout", f"refused a request to {where}: body not received")
        why = envelope.problem(body, environ.get("CONTENT_TYPE"))
        if why:
            return _refuse(start_response, "400 Bad Request", f"refused a malformed request to {where}: {why}")
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            return handler(environ, start_response)
        except Exception:
            log.exception("internal error on %s", where)  # through the redacting log-record factory
            start_response("500 Internal Server Error", [("Content-Type", "text/plain")], sys.exc_info())
            return [b"internal error"]

    return wsgi


def _refuse(start_response: Callable[..., Any], status: str, line: str) -> list[bytes]:
    log.warning("http: %s", line)
    start_response(status, [("Content-Type", "text/plain")])
    return [status.split(" ", 1)[1].lower().encode()]


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128

    def handle_error(self, request: Any, client_address: Any) -> None:
        # socketserver would print the traceback to stderr, past the log redaction.
        log.warning("http: a connection ended in an error", exc_info=True)


class _QuietHandler(WSGIRequestHandler):
    disable_nagle_algorithm = True  # no 40 ms Nagle/delayed-ACK stall between headers and body
    timeout = 60  # seconds a silent client (a body shorter than its Content-Length) may hold a thread

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)


def serve_http(app: App, host: str, port: int, *, health: Health | None = None) -> WSGIServer:
    """A threaded server for ``app`` (call ``serve_forever``); one request never waits for another."""
    wsgi = make_wsgi_app(app, health=health)
    return make_server(host, port, wsgi, server_class=_ThreadingWSGIServer, handler_class=_QuietHandler)


def create_app_from_env(*, socket: bool) -> tuple[App, Services]:
    """The app and its services from the environment, the background workers started."""
    from nextcaller_ops.client.client import NextCallerClient
    from nextcaller_ops.settings_names import check_environment

    from .services import build_services

    check_environment()  # a misspelt NEXTCALLER_OPS_* (an allow-list!) stops the bot: gunicorn's entry too
    load_env_file()  # NEXTCALLER_OPS_ENV_FILE's secrets, as at every SIGHUP (gunicorn's reload: each new worker)
    metrics.set_surface("slack")  # the lookups this process counts are Slack's
    settings = BotSettings.from_env()
    settings.require(socket=socket)
    services = build_services(settings, NextCallerClient())  # PostgreSQL unreachable: one line (StoreUnavailableError)
    try:
        _check_redis(settings)
        app = _build_app(settings, services)
    except BaseException:  # e.g. Slack refused the token: leave no store open
        services.close()
        raise
    services.start()
    Rotation(app, services).install_refused_key_hook()  # 1046/1049: the secrets are read once more first
    return app, services


def _check_redis(settings: BotSettings) -> None:
    """Ask Redis once at start: when it is down the bot starts degraded, with the one warning it logs at run time."""
    if settings.redis_url:
        from nextcaller_ops.stores.redis import shared_redis

        # The process's one SharedRedis for this URL (the client's cache shares it): marked down, warned once.
        shared_redis(settings.redis_url, settings.redis_prefix).call(lambda r: r.ping(), default=None)


class _NoSendFailures(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Failed to send a request to Slack API server" not in record.getMessage()


def _build_app(settings: BotSettings, services: Services) -> App:
    """:func:`bot.app.build_app`, whose ``auth.test`` is the first call to Slack: unreachable is one line."""
    from .app import build_app

    # slack_sdk logs each failed attempt at ERROR: the one line below says it instead.
    sdk_log, quiet = logging.getLogger("slack_sdk.web.base_client"), _NoSendFailures()
    sdk_log.addFilter(quiet)
    try:
        return build_app(settings, services.client, services=services)
    except OSError as exc:  # URLError, refused, DNS, timeout: no answer at all (a refusal is a BoltError)
        raise SlackUnreachableError(
            f"cannot reach Slack's Web API at {_shown_url(services.web.base_url)} ({_reason(exc)})",
            hint="check SLACK_API_URL (unset: Slack's own) and the network",
        ) from None
    finally:
        sdk_log.removeFilter(quiet)


def _shown_url(url: str) -> str:
    """``url`` without any user or password in it (SLACK_API_URL is the operator's to set)."""
    from urllib.parse import urlsplit, urlunsplit

    from nextcaller_ops.redact import redact

    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    try:
        netloc += f":{parts.port}" if parts.port else ""
    except ValueError:  # not a port: the host alone says enough
        pass
    return redact(urlunsplit(parts._replace(netloc=netloc)))


def _reason(exc: OSError) -> str:
    cause = getattr(exc, "reason", exc)  # URLError wraps the socket's error
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return str(cause)[:80] or type(cause).__name__


def _quiet_client_warning(record: logging.LogRecord) -> bool:
    # Bolt warns that SLACK_BOT_TOKEN goes unused when it is given a client: ours carries that token.
    return "`token` will be unused" not in record.getMessage()


def run_bot(mode: str | None = None, port: int = 3000, host: str = "127.0.0.1") -> int:
    from slack_bolt.error import BoltError

    from nextcaller_ops.logs import configure_logging

    # INFO (a server's log: each lookup, masked), or DEBUG when the CLI's -vv asked for it.
    quiet = logging.getLogger().getEffectiveLevel() > logging.DEBUG
    own, libraries = (logging.INFO, logging.WARNING) if quiet else (logging.DEBUG, None)
    configure_logging("bot", level=own, libraries=libraries)
    logging.getLogger("bot.bolt").addFilter(_quiet_client_warning)  # stderr holds only what helps a person
    load_env_file()  # SLACK_APP_TOKEN may be in NEXTCALLER_OPS_ENV_FILE: Socket Mode or not depends on it
    settings = BotSettings.from_env()
    socket = mode == "socket" or (mode is None and bool(settings.app_token))
    try:
        app, services = create_app_from_env(socket=socket)
    except BoltError as exc:  # e.g. auth.test refused the token at start-up
        from nextcaller_ops.redact import redact

        print(
            f"error: Slack refused to start the bot ({redact(str(exc))[:200]}) — check SLACK_BOT_TOKEN "
            "and SLACK_API_URL",
            file=sys.stderr,
            flush=True,
        )
        return 2
    Rotation(app, services).install_sighup()  # SIGHUP re-reads the secrets; nothing in flight is dropped
    try:  # a bad health setting, or its port taken: one line, the stores closed
        health = Health(services)
        where = health_address() if socket else None  # NEXTCALLER_OPS_HEALTH_PORT: Socket Mode has no HTTP server
        prober = serve_health(health, *where) if where else None
    except BaseException:
        services.close()
        raise
    if socket:
        from .socket_mode.connection import serve_socket

        try:
            return serve_socket(app, settings.app_token, claim=services.dedupe.claim)
        finally:
            if prober is not None:
                prober.shutdown()
            services.close()  # after the listeners: a correction in flight is delivered or stays queued
    server = serve_http(app, host, port, health=health)
    stop = threading.Event()

    def _shutdown(*_: Any) -> None:
        if not stop.is_set():
            stop.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, _shutdown)
    # A log line (not a print): with NEXTCALLER_OPS_LOG_FORMAT=json every line on stderr is JSON.
    log.info("nextcaller-ops bot: HTTP on http://%s:%s/slack/events", host, server.server_port)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        services.close()
    return 0
