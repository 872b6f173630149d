"""Slack's Socket Mode side, played locally: for the demo, the tests and the benchmark.

Beside the Web API stand-in (:class:`~bot.standin.web_api.FakeSlack`) it serves ``apps.connections.open``
(checks the app-level token, hands out a single-use ``ws://127.0.0.1:PORT/link/?ticket=…``) and the
WebSocket server behind it, on the ``websockets`` library.  Like Slack it says ``hello`` on each new
connection, spreads envelopes (``slash_commands``, ``interactive``, ``events_api`` with
``retry_attempt``/``retry_reason``) round-robin over the open connections and records each ack
with its arrival time and payload; it can ask a connection to refresh (``disconnect``,
``refresh_requested``: no new envelopes for it, closed after ``close_after`` s if the bot keeps it)
or drop one without a closing handshake.  Like Slack after an ack that was lost it can deliver an
envelope again (:meth:`FakeSocketMode.redeliver`: the same ``envelope_id``), and like a server in
trouble it can accept each WebSocket and close it at once (``close_at_once``).

    with FakeSlack() as slack, FakeSocketMode(slack, app_token) as sm:   # the bot: SLACK_API_URL=slack.api_url
        sm.wait_connections(1)
        ack = sm.wait_ack(sm.command("2125558383", response_url=slack.response_url("c")))  # .latency, .payload
"""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from . import socket_frames as frames
from .payloads import command_body
from .socket_frames import Ack, Envelope, Link
from .web_api import PATIENCE, FakeSlack

__all__ = ["FakeSocketMode", "Envelope", "Ack", "Link"]

APP_ID = "A0APP00001"


class FakeSocketMode:
    def __init__(self, slack: FakeSlack, app_token: str, *, app_id: str = APP_ID, close_after: float = 10.0):
        self.slack = slack
        self.app_id = app_id
        self.close_after = close_after  # seconds a refreshing connection stays open if the bot keeps it
        self.app_token = app_token  # what apps.connections.open accepts; change it to revoke the bot's
        self.close_at_once = False  # True: each new WebSocket is accepted, then closed before hello (1011)
        self._tickets: set[str] = set()
        self._links: dict[int, Link] = {}
        self._ids = itertools.count(1)
        self._turn = itertools.count()
        self._sent: dict[str, Envelope] = {}
        self._acks: list[Ack] = []
        self._cond = threading.Condition()
        self._loop = asyncio.new_event_loop()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        slack.methods["apps.connections.open"] = self._connections_open

    # -- the Web API side ------------------------------------------------------------------
    def _connections_open(self, args: dict[str, Any], auth: str) -> dict[str, Any]:
        token = auth.removeprefix("Bearer ").strip()
        if not token:
            return {"ok": False, "error": "not_authed"}
        if not token.startswith("xapp-"):
            return {"ok": False, "error": "not_allowed_token_type"}
        if token != self.app_token:
            return {"ok": False, "error": "invalid_auth"}
        ticket = uuid.uuid4().hex
        with self._cond:
            self._tickets.add(ticket)
        return {"ok": True, "url": f"{self.url}/link/?ticket={ticket}&app_id={self.app_id}"}

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        port = self._server.sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    # -- the WebSocket side (runs on the server's event loop) -------------------------------
    def _check_ticket(self, connection: ServerConnection, request: Any) -> Any:
        ticket = (parse_qs(urlsplit(request.path).query).get("ticket") or [""])[0]
        with self._cond:
            if ticket not in self._tickets:
                return connection.respond(401, "unknown or used ticket: call apps.connections.open\n")
            self._tickets.discard(ticket)  # single use, as Slack's
        return None

    async def _serve(self, ws: ServerConnection) -> None:
        with self._cond:
            link = Link(id=next(self._ids), opened_at=0.0, ws=ws)
            self._links[link.id] = link
            count = sum(1 for lk in self._links.values() if lk.state != "closed")
        if self.close_at_once:
            link.closed_by = "slack"
            await ws.close(1011, "server error")
            self._update(link, state="closed", closed_at=time.monotonic())
            return
        await ws.send(json.dumps(frames.hello(link.id, count, self.app_id)))
        self._update(link, opened_at=time.monotonic())
        try:
            async for message in ws:
                self._received(link, message)
        except ConnectionClosed:
            pass
        finally:
            by = link.closed_by or ("bot" if ws.protocol.close_rcvd is not None else "lost")
            self._update(link, state="closed", closed_at=time.monotonic(), closed_by=by)

    def _received(self, link: Link, message: str | bytes) -> None:
        at = time.monotonic()
        try:
            data = json.loads(message)
        except ValueError:
            data = {}
        envelope_id = data.get("envelope_id") if isinstance(data, dict) else None
        if not isinstance(envelope_id, str):
            return  # not an acknowledgement; Slack ignores it too
        with self._cond:
            sent = self._sent.get(envelope_id)
            latency = at - sent.sent_at if sent else None
            self._acks.append(Ack(envelope_id, data.get("payload"), link.id, at, latency))
            self._cond.notify_all()

    def _update(self, link: Link, **changes: Any) -> None:
        with self._cond:
            for key, value in changes.items():
                setattr(link, key, value)
            self._cond.notify_all()

    # -- what a test or the demo does --------------------------------------------------------
    def wait_for(
        self, predicate: Callable[[], bool], timeout: float = PATIENCE, what: str = "the expected state"
    ) -> None:
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise TimeoutError(f"Socket Mode stand-in: no {what} within {timeout} s")

    def connections(self, *states: str) -> list[Link]:
        with self._cond:
            return [lk for lk in self._links.values() if not states or lk.state in states]

    def _open(self) -> list[Link]:
        return [lk for lk in self._links.values() if lk.state == "open" and lk.opened_at]

    def wait_connections(self, count: int = 1, *, newer_than: int = 0, timeout: float = PATIENCE) -> list[Link]:
        """Block until ``count`` connections with an id above ``newer_than`` are open (hello sent)."""
        self.wait_for(
            lambda: sum(1 for lk in self._open() if lk.id > newer_than) >= count, timeout, f"{count} open connection(s)"
        )
        with self._cond:
            return [lk for lk in self._open() if lk.id > newer_than]

    def send(
        self,
        kind: str,
        payload: dict[str, Any],
        *,
        connection: int | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        accepts_response_payload: bool = False,
        timeout: float = PATIENCE,
        envelope_id: str | None = None,
    ) -> Envelope:
        """Deliver one envelope on ``connection`` or, like Slack, on the next open connection in turn
        (``envelope_id``: one delivered before, to deliver it again; see :meth:`redeliver`)."""
        envelope_id = envelope_id or str(uuid.uuid4())
        frame = frames.envelope(
            envelope_id,
            kind,
            payload,
            accepts=accepts_response_payload,
            retry_attempt=retry_attempt,
            retry_reason=retry_reason,
        )
        with self._cond:
            if not self._cond.wait_for(lambda: self._has(connection), timeout):
                raise TimeoutError(f"Socket Mode stand-in: no open connection to deliver to within {timeout} s")
            link = self._pick(connection)
            assert link.ws is not None
            envelope = Envelope(
                envelope_id, kind, payload, link.id, time.monotonic(), retry_attempt, accepts_response_payload
            )
            self._sent[envelope_id] = envelope
        asyncio.run_coroutine_threadsafe(link.ws.send(json.dumps(frame)), self._loop).result(timeout)
        return envelope

    def _has(self, connection: int | None) -> bool:
        return any(connection in (None, lk.id) for lk in self._open())

    def _pick(self, connection: int | None) -> Link:
        links = sorted(self._open(), key=lambda lk: lk.id)
        if connection is not None:
            return next(lk for lk in links if lk.id == connection)
        return links[next(self._turn) % len(links)]

    def redeliver(self, envelope: Envelope, *, connection: int | None = None, timeout: float = PATIENCE) -> Envelope:
        """``envelope`` delivered again, with its ``envelope_id``: what Slack does when its ack never arrived
        (the connection died first), on whichever connection is open then."""
        return self.send(
            envelope.type,
            envelope.payload,
            connection=connection,
            retry_attempt=envelope.retry_attempt,
            accepts_response_payload=envelope.accepts_response_payload,
            timeout=timeout,
            envelope_id=envelope.envelope_id,
        )

    def command(self, text: str, *, response_url: str, connection: int | None = None, **fields: Any) -> Envelope:
        """``/caller TEXT`` as a ``slash_commands`` envelope (``fields``: user_id, channel_id, …)."""
        payload = dict(parse_qsl(command_body(text, response_url=response_url, **fields)))
        return self.send("slash_commands", payload, connection=connection, accepts_response_payload=True)

    def interactive(self, payload: dict[str, Any], **kw: Any) -> Envelope:
        """A button click, a view submission, a shortcut: an ``interactive`` envelope."""
        accepts = payload.get("type") in ("view_submission", "block_suggestion")
        return self.send("interactive", payload, accepts_response_payload=accepts, **kw)

    def event(
        self, event: dict[str, Any], *, event_id: str | None = None, retry_attempt: int = 0, **kw: Any
    ) -> Envelope:
        """An ``events_api`` envelope around ``event``; the same ``event_id`` with ``retry_attempt`` > 0 is
        Slack redelivering it."""
        body = frames.event_callback(event, app_id=self.app_id, event_id=event_id)
        reason = "timeout" if retry_attempt else ""
        return self.send("events_api", body, retry_attempt=retry_attempt, retry_reason=reason, **kw)

    def acks(self, envelope_id: str | None = None) -> list[Ack]:
        with self._cond:
            return [a for a in self._acks if envelope_id is None or a.envelope_id == envelope_id]

    def wait_ack(self, envelope: Envelope | str, timeout: float = PATIENCE) -> Ack:
        envelope_id = envelope if isinstance(envelope, str) else envelope.envelope_id
        self.wait_for(lambda: any(a.envelope_id == envelope_id for a in self._acks), timeout, "acknowledgement")
        return self.acks(envelope_id)[0]

    def disconnect(self, connection: int | None = None, *, reason: str = "refresh_requested") -> Link:
        """Ask a connection to go away: no new envelopes for it; closed by Slack after ``close_after`` s."""
        link = self._only(connection)
        message = frames.disconnect(link.id, reason)
        self._update(link, state="refreshing")
        ws = link.ws
        assert ws is not None
        asyncio.run_coroutine_threadsafe(ws.send(json.dumps(message)), self._loop).result(PATIENCE)

        def close_if_kept() -> None:
            if link.state != "closed":
                link.closed_by = link.closed_by or "slack"
                self._loop.create_task(ws.close(1001, "refresh"))

        self._loop.call_soon_threadsafe(self._loop.call_later, self.close_after, close_if_kept)
        return link

    def drop(self, connection: int | None = None) -> Link:
        """Cut a connection with no closing handshake, as a network failure would."""
        link = self._only(connection)
        self._update(link, closed_by="drop")
        ws = link.ws
        assert ws is not None
        self._loop.call_soon_threadsafe(ws.transport.abort)
        self.wait_for(lambda: link.state == "closed", what="closed connection")
        return link

    def _only(self, connection: int | None) -> Link:
        with self._cond:
            live = [lk for lk in self._links.values() if lk.state != "closed"]
            if connection is None and len(live) == 1:
                return live[0]
            found = [lk for lk in live if lk.id == connection]
        if not found:
            raise ValueError(f"no live connection {connection!r} (live: {[lk.id for lk in live]})")
        return found[0]

    # -- life cycle -------------------------------------------------------------------------
    def start(self) -> FakeSocketMode:
        ready = threading.Event()

        async def main() -> None:
            self._server = await serve(self._serve, "127.0.0.1", 0, process_request=self._check_ticket)
            ready.set()
            await self._server.wait_closed()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(main())

        self._thread = threading.Thread(target=run, name="fake-socket-mode", daemon=True)
        self._thread.start()
        if not ready.wait(PATIENCE):
            raise RuntimeError("the Socket Mode stand-in did not start")
        return self

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._server.close)
            self._thread.join(PATIENCE)
            self._loop.close()
        self.slack.methods.pop("apps.connections.open", None)

    def __enter__(self) -> FakeSocketMode:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()
