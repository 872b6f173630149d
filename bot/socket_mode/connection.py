"""Socket Mode: slack_sdk's client logic and Bolt's dispatch over the ``websockets`` threaded client.

Why not Bolt's ``SocketModeHandler`` as it comes?  Measured against the local
stand-in (``bot/standin/socket_server.py``; figures in BENCHMARKS.md):

- slack_sdk's built-in client opens the new connection on a ``disconnect`` but
  keeps reading the old socket until its 3-second receive timeout, so the
  first envelope on the new connection was acknowledged after 3.1 s — past
  Slack's 3 s; after a dropped socket it spun on the dead socket and took
  50-60 s to notice;
- the ``websocket-client`` variant closes the old connection before the new
  one is read, races its own close handler (two or three
  ``apps.connections.open`` per refresh) and twice in six refreshes left the
  bot with no connection for 10 s.

So the transport here is the ``websockets`` library's threaded client, and
everything else stays Slack's: :class:`SocketModeClient` is a
``slack_sdk.socket_mode.client.BaseSocketModeClient`` (``apps.connections.open``
through the Web API client at ``SLACK_API_URL``, the message queue, the
``disconnect`` handling, ``SocketModeRequest`` parsing), and
:class:`SocketModeHandler` dispatches to the Bolt app and acknowledges with
Bolt's own ``run_bolt_app``/``send_response``.  Each connection has its own
reader thread, so a new connection is read the moment it is open; the old one
is closed in the background once the new one is live; a dropped socket is
noticed at once (and a silent one by the WebSocket ping) and replaced: at once
after a connection that stayed up, later and later after ones that die young
(:mod:`bot.socket_mode.reconnect`).

Slack delivers an envelope again when its ack did not arrive (the connection
died first), on whichever connection is open then, of whichever process: each
``envelope_id`` is claimed once in the de-duplication store the processes share,
and a redelivery is acknowledged but not handled again.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from queue import Queue

from slack_bolt import App
from slack_bolt.adapter.socket_mode.base_handler import BaseSocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientNotConnectedError
from slack_sdk.socket_mode.client import BaseSocketModeClient
from slack_sdk.socket_mode.interval_runner import IntervalRunner
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from websockets.exceptions import ConnectionClosed, WebSocketException
from websockets.protocol import State
from websockets.sync.client import ClientConnection, connect

from .reconnect import Reconnects

__all__ = ["SocketModeClient", "SocketModeHandler", "AUTH_ERRORS"]

log = logging.getLogger("bot.socket")

# apps.connections.open's answers that no retry will change: the app-level token is wrong.
AUTH_ERRORS = frozenset(
    {"invalid_auth", "not_authed", "not_allowed_token_type", "token_revoked", "account_inactive", "missing_scope"}
)
RATE_LIMITED_WAIT = 30.0  # when apps.connections.open says ratelimited without a Retry-After


class SocketModeClient(BaseSocketModeClient):
    """One live WebSocket at a time (briefly two while a refresh hands over), reconnecting by itself."""

    wss_uri: str | None  # type: ignore[assignment]  # the next URL to use; None: ask apps.connections.open

    def __init__(
        self,
        app_token: str,
        web_client: WebClient,
        *,
        logger: logging.Logger | None = None,
        concurrency: int = 10,
        ping_interval: float = 10.0,
        on_fatal: Callable[[SlackApiError], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] | None = None,
        reconnects: Reconnects | None = None,
    ):
        self.app_token = app_token
        self.web_client = web_client
        self.logger = logger or log
        self.ping_interval = ping_interval
        self.on_fatal = on_fatal  # called with the SlackApiError when the token stops working
        self.wss_uri = None
        self.message_queue = Queue()
        self.message_listeners = []
        self.socket_mode_request_listeners = []
        self.closed = False
        self.connect_operation_lock = threading.Lock()
        self.message_workers = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="socket-mode")
        self.message_processor = IntervalRunner(self.process_messages, 0.001).start()
        self.session: ClientConnection | None = None
        self.connections_opened = 0
        self._clock = clock
        self._closing = threading.Event()
        self._sleep = sleep or self._closing.wait  # a wait that close() cuts short
        self.reconnects = reconnects or Reconnects(clock=clock)

    # -- connecting ---------------------------------------------------------------------------
    def is_connected(self) -> bool:
        return self.session is not None and self.session.state is State.OPEN

    def connect(self) -> None:
        """Open a connection on ``wss_uri`` (a new one from apps.connections.open if unset), start
        reading it, then let the previous one go."""
        if self.wss_uri is None:
            self.wss_uri = self.issue_new_wss_url()
        url, self.wss_uri = self.wss_uri, None  # a ticket is good for one connection
        session = connect(
            url,
            open_timeout=10,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_interval,
            close_timeout=2,
            max_size=2**22,
        )
        opened_at = self._clock()  # how long it lives decides the wait after it dies (bot.reconnect)
        old, self.session = self.session, session
        self.connections_opened += 1
        threading.Thread(target=self._read, args=(session, opened_at), name="socket-mode-reader", daemon=True).start()
        self.logger.info("Socket Mode: connected (connection %d)", self.connections_opened)
        if old is not None:
            # The close handshake can take a while; the new connection is already being read.
            threading.Thread(target=old.close, name="socket-mode-closer", daemon=True).start()

    def issue_new_wss_url(self) -> str:
        # slack_sdk's version logs each failure as an error (and sleeps out a rate limit itself):
        # here the caller decides, so a refused token is one sentence, not a log line and a sentence.
        return str(self.web_client.apps_connections_open(app_token=self.app_token)["url"])

    def connect_to_new_endpoint(self, force: bool = False) -> None:
        if not force:
            return super().connect_to_new_endpoint()
        # Slack asked for a refresh: the old connection still works, so failing to open the new
        # one is a warning, not an error; when Slack closes the old one the reader reconnects.
        try:
            super().connect_to_new_endpoint(force=True)
        except (SlackApiError, OSError, WebSocketException, TimeoutError) as exc:
            self.logger.warning("Socket Mode: could not refresh the connection (%s); keeping the old one", exc)

    def _read(self, session: ClientConnection, opened_at: float) -> None:
        try:
            for message in session:
                self.enqueue_message(message if isinstance(message, str) else message.decode("utf-8", "replace"))
        except (ConnectionClosed, OSError):
            pass
        if session is self.session and not self.closed:  # not one a refresh replaced: ours is gone
            self.reconnects.ended(opened_at)
            self.logger.warning("Socket Mode: the connection dropped (%s); reconnecting", _why(session))
            self._reconnect()

    def _reconnect(self) -> None:
        """Open a new connection, waiting first as :attr:`reconnects` says.

        One loop at a time: it ends once a connection is opened, and that connection's
        reader starts the next loop if it dies (so a server that closes every connection
        at once meets a growing wait, not a new loop per connection).
        """
        while not self.closed and not self.is_connected():
            delay = self.reconnects.delay()
            if delay:
                self.logger.warning("Socket Mode: reconnecting in %.1f s", delay)
                self._sleep(delay)
                if self.closed:
                    return
            opened = self.connections_opened
            try:
                self.connect_to_new_endpoint()
            except SlackApiError as exc:
                error = exc.response.get("error")
                if error in AUTH_ERRORS:  # no retry will change that: stop the bot
                    if self.on_fatal is not None:
                        self.on_fatal(exc)
                    return
                self.reconnects.failed(at_least=_retry_after(exc) if error == "ratelimited" else 0.0)
                self.logger.warning("Socket Mode: could not reconnect (%s)", exc)
                continue
            except (OSError, WebSocketException, TimeoutError) as exc:
                self.reconnects.failed()
                self.logger.warning("Socket Mode: could not reconnect (%s)", exc)
                continue
            if self.connections_opened != opened:
                return  # a new connection (ours, or a refresh's): its reader watches it from now on
            # else another thread held the lock for a while, or found us connected: look again

    def disconnect(self) -> None:
        if self.session is not None:
            self.session.close()

    # -- sending --------------------------------------------------------------------------------
    def send_message(self, message: str) -> None:
        session = self.session
        try:
            if session is None:
                raise SlackClientNotConnectedError("no Socket Mode connection")
            session.send(message)
        except (ConnectionClosed, SlackClientNotConnectedError):
            # The connection was replaced under us: one more try on the new one.
            with self.connect_operation_lock:
                if not self.is_connected() or self.session is None:
                    raise SlackClientNotConnectedError("the Socket Mode connection is gone") from None
                self.session.send(message)

    def close(self) -> None:
        """Close the connection (a clean close frame) and stop the workers after what they hold."""
        self.closed = True
        self._closing.set()  # a reconnect waiting out its back-off stops waiting
        self.auto_reconnect_enabled = False
        self.disconnect()
        self.message_processor.shutdown()
        self.message_workers.shutdown(wait=True)


def _retry_after(exc: SlackApiError) -> float:
    try:
        return float(exc.response.headers.get("Retry-After", RATE_LIMITED_WAIT))
    except (TypeError, ValueError):
        return RATE_LIMITED_WAIT


def _why(session: ClientConnection) -> str:
    code = session.close_code
    return "no close frame" if code in (None, 1006) else f"closed with {code}"


class SocketModeHandler(BaseSocketModeHandler):
    """Bolt's handler over :class:`SocketModeClient`: dispatch to the app, acknowledge what it acked.

    ``claim`` (a :class:`~nextcaller_ops.stores.DedupeStore`'s): True the first time a key is seen,
    by any process sharing the store; an envelope whose id was claimed before is only acknowledged.
    """

    def __init__(
        self,
        app: App,
        app_token: str,
        *,
        concurrency: int = 10,
        on_fatal: Callable[[SlackApiError], None] | None = None,
        claim: Callable[[str], bool] | None = None,
    ):
        self.app = app
        self.claim = claim
        self.client = SocketModeClient(app_token, app.client, logger=log, concurrency=concurrency, on_fatal=on_fatal)
        self.client.socket_mode_request_listeners.append(self.handle)

    def handle(self, client: BaseSocketModeClient, req: SocketModeRequest) -> None:
        start = time.time()
        if self._seen_before(req):
            # Slack wants the ack all the same, or it delivers the envelope yet again.
            log.info("Socket Mode: envelope %s delivered again: acknowledged, not handled twice", req.envelope_id)
            try:
                client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            except SlackClientNotConnectedError:
                pass  # Slack delivers it again, and it is acknowledged then
            return
        response = run_bolt_app(self.app, req)
        try:
            send_response(client, req, response, start)
        except SlackClientNotConnectedError:
            # Only while shutting down: Slack redelivers an event it got no ack for.
            log.warning("Socket Mode: a %s envelope was handled but the connection closed before its ack", req.type)

    def _seen_before(self, req: SocketModeRequest) -> bool:
        """Whether this envelope was handled already, here or by another process.

        Claimed before it is handled: a process that dies between the claim and the ack
        leaves the redelivery unanswered (a person asks again) rather than answered twice.
        """
        if self.claim is None or not req.envelope_id:
            return False
        try:
            return not self.claim(f"envelope:{req.envelope_id}")
        except Exception as exc:  # the store is unreachable: better to risk a second answer than none
            log.warning("Socket Mode: could not check envelope %s for a redelivery (%s)", req.envelope_id, exc)
            return False


def _refused(exc: SlackApiError) -> str:
    error = exc.response.get("error") or "refused"
    return (
        f"error: Slack refused SLACK_APP_TOKEN ({error}) — give the app-level token (xapp-…) with the "
        "connections:write scope, from the app's Basic Information page, or run nextcaller-ops slack-login"
    )


def serve_socket(
    app: App, app_token: str, *, drain_seconds: float = 5.0, claim: Callable[[str], bool] | None = None
) -> int:
    """Hold a Socket Mode connection until SIGTERM or Ctrl-C (exit 0), or until Slack refuses the
    app-level token (one line, exit 2).  On the way out the socket is closed first (no new
    envelopes), then the listeners already running get ``drain_seconds`` to finish.

    ``claim``: the de-duplication store's, so that each envelope is handled once (see the handler)."""
    stop = threading.Event()
    refused: list[SlackApiError] = []

    def fatal(exc: SlackApiError) -> None:
        refused.append(exc)
        stop.set()

    handler = SocketModeHandler(app, app_token, on_fatal=fatal, claim=claim)
    try:
        handler.connect()
    except SlackApiError as exc:
        handler.client.close()
        error = exc.response.get("error")
        if error in AUTH_ERRORS:
            print(_refused(exc), file=sys.stderr)
            return 2
        print(
            f"error: Slack's apps.connections.open answered {error} — try again, or check SLACK_API_URL",
            file=sys.stderr,
        )
        return 1
    except (OSError, WebSocketException, TimeoutError) as exc:
        handler.client.close()
        print(f"error: could not open the Socket Mode connection ({exc}) — check SLACK_API_URL", file=sys.stderr)
        return 1
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    log.info("nextcaller-ops bot: Socket Mode, connected; SIGTERM or Ctrl-C stops it")  # JSON too, when asked
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        handler.client.close()
        _drain(app, drain_seconds)
    if refused:
        print(_refused(refused[0]), file=sys.stderr)
        return 2
    log.info("Socket Mode: closed")
    return 0


def _drain(app: App, seconds: float) -> None:
    """Let the listeners already running finish (a lookup's card, a correction's delivery), bounded."""
    executor = app.listener_runner.listener_executor
    waiter = threading.Thread(target=executor.shutdown, kwargs={"wait": True}, daemon=True)
    waiter.start()
    waiter.join(seconds)
    if waiter.is_alive():
        log.warning("Socket Mode: listeners still running after %.0f s; leaving them", seconds)
