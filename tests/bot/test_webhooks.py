"""Outgoing webhooks (issue 27): a local receiver verifies every delivery with the ``standardwebhooks``
package; events wait in the durable outbox while the receiver is down (a fake clock for the back-off),
arrive once each, in order, and carry no full number unless NEXTCALLER_OPS_WEBHOOK_PII=1."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from nextcaller_ops.errors import UsageError
from nextcaller_ops.stores.webhook_base import SENT, WAITING
from nextcaller_ops.webhooks import EVENTS, Webhooks, WebhookSettings
from tests.support.common import PATIENCE, SEINFELD_ID, run_cli, wait_until
from tests.support.secrets import WEBHOOK_SECRET

NUMBER, MASKED = "2125558383", "212***8383"
WATCHED = "C0WATCHED01"


class Receiver:
    """A webhook receiver on 127.0.0.1: verifies each delivery's signature, keeps what it verified.

    ``fail_with``: the status it answers instead (5xx: the receiver is having a bad day); ``stop()`` then
    ``start()`` on the same port: the receiver is down meanwhile (connections refused)."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.received: list[dict[str, Any]] = []  # verified bodies, in arrival order
        self.headers: list[dict[str, str]] = []
        self.refused = 0  # deliveries whose signature did not verify
        self.fail_with = 0
        self._cond = threading.Condition()
        self.httpd: ThreadingHTTPServer | None = None

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status = receiver.take(raw, dict(self.headers))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def take(self, raw: bytes, headers: dict[str, str]) -> int:
        if self.fail_with:
            return self.fail_with
        try:
            body = Webhook(WEBHOOK_SECRET).verify(raw, headers)
        except Exception:
            with self._cond:
                self.refused += 1
            return 401
        with self._cond:
            self.received.append(body)
            self.headers.append({k.lower(): v for k, v in headers.items()})
            self._cond.notify_all()
        return 200

    def wait(self, count: int) -> list[dict[str, Any]]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.received) >= count, timeout=PATIENCE):
                raise AssertionError(f"the receiver got {len(self.received)} of {count}: {self.received}")
            return list(self.received)

    def types(self) -> list[str]:
        return [b["type"] for b in self.received]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def webhook_store(request, tmp_path):
    if request.param == "sqlite":
        from nextcaller_ops.stores.sqlite_webhooks import SqliteWebhookStore

        store = SqliteWebhookStore(tmp_path / "webhooks.sqlite3")
        yield store
        store.close()
        return
    schema = request.getfixturevalue("pg_schema")
    from nextcaller_ops.stores.postgres import open_pool
    from nextcaller_ops.stores.postgres_webhooks import PostgresWebhookStore

    pool = open_pool(schema.url, max_size=2)
    yield PostgresWebhookStore(pool)
    pool.close()


def hooks_for(url: str, store, clock, *, pii: bool = False, events=frozenset(EVENTS)) -> Webhooks:
    return Webhooks(WebhookSettings(urls=(url,), secret=WEBHOOK_SECRET, events=events, pii=pii), store, clock=clock)


def test_down_for_a_minute_then_every_event_once_in_order_signed(webhook_store):
    clock = Clock()
    down = Receiver(port=free_port())  # nothing listens there yet: the receiver is down
    hooks = hooks_for(down.url, webhook_store, clock)
    item = {"channel_id": WATCHED, "message_ts": "1.000100"}
    hooks.emit("triage.opened", {**item, "phones": [NUMBER]})
    hooks.emit("lookup.completed", {"surface": "slack", "by": "U1", "phone": NUMBER, "found": True})
    hooks.emit("triage.claimed", {**item, "by": "U1"})
    hooks.emit("triage.resolved", {**item, "by": "U1"})
    for _ in range(6):  # a minute of attempts, each backed off: nothing reaches anyone, nothing is lost
        assert hooks.deliver_due() == 0
        clock.now += 12
    assert webhook_store.counts()[WAITING] == 4
    down.start()
    try:
        clock.now += 60  # the longest back-off has passed
        assert hooks.deliver_due() == 4
        assert hooks.deliver_due() == 0  # nothing again: each once
        clock.now += 3600
        assert hooks.deliver_due() == 0
        assert down.types() == ["triage.opened", "lookup.completed", "triage.claimed", "triage.resolved"]
        assert down.refused == 0  # every one verified with the standardwebhooks package
        assert len({h["webhook-id"] for h in down.headers}) == 4
        assert all(h["webhook-signature"].startswith("v1,") for h in down.headers)
        assert [b["id"] for b in down.received] == [h["webhook-id"] for h in down.headers]
        assert all(b["timestamp"].endswith("Z") and isinstance(b["data"], dict) for b in down.received)
        text = json.dumps(down.received)
        assert NUMBER not in text and MASKED in text
        assert webhook_store.counts() == {WAITING: 0, SENT: 4, "gave up": 0}
    finally:
        down.stop()


def test_a_5xx_is_retried_and_later_events_wait_behind_it(webhook_store, receiver):
    clock = Clock()
    hooks = hooks_for(receiver.url, webhook_store, clock)
    receiver.fail_with = 503
    hooks.emit("triage.opened", {"channel_id": "C1", "message_ts": "1.1"})
    hooks.emit("triage.flagged", {"channel_id": "C1", "message_ts": "1.1", "by": "U2"})
    assert hooks.deliver_due() == 0
    clock.now += 1  # not due yet: the first retry is 5 s later
    assert hooks.deliver_due() == 0
    receiver.fail_with = 0
    assert hooks.deliver_due() == 0 and receiver.received == []
    clock.now += 5
    assert hooks.deliver_due() == 2
    assert receiver.types() == ["triage.opened", "triage.flagged"]


def test_full_numbers_only_when_asked(webhook_store, receiver):
    clock = Clock()
    hooks_for(receiver.url, webhook_store, clock, pii=True).emit("lookup.completed", {"phone": NUMBER, "found": True})
    hooks = hooks_for(receiver.url, webhook_store, clock)
    hooks.emit("triage.opened", {"phones": [NUMBER, "3105551234"]})
    hooks.deliver_due()
    first, second = receiver.wait(2)
    assert first["data"]["phone"] == NUMBER
    assert second["data"]["phones"] == [MASKED, "310***1234"]


def test_only_the_chosen_events(webhook_store, receiver):
    clock = Clock()
    hooks = hooks_for(receiver.url, webhook_store, clock, events=frozenset({"triage.flagged"}))
    hooks.emit("lookup.completed", {"phone": NUMBER})
    hooks.emit("triage.flagged", {"channel_id": "C1"})
    assert hooks.deliver_due() == 1
    assert receiver.types() == ["triage.flagged"]


def test_settings_from_the_environment():
    env = {
        "NEXTCALLER_OPS_WEBHOOK_URL": "https://crm.example.com/hooks, http://127.0.0.1:9/x",
        "NEXTCALLER_OPS_WEBHOOK_SECRET": WEBHOOK_SECRET,
        "NEXTCALLER_OPS_WEBHOOK_EVENTS": "triage.claimed,triage.dropped",
        "NEXTCALLER_OPS_WEBHOOK_PII": "1",
    }
    settings = WebhookSettings.from_env(env)
    assert settings.urls == ("https://crm.example.com/hooks", "http://127.0.0.1:9/x")
    assert settings.events == {"triage.claimed", "triage.dropped"} and settings.pii and settings.enabled
    assert WebhookSettings.from_env({}).enabled is False
    assert WebhookSettings.from_env({**env, "NEXTCALLER_OPS_WEBHOOK_EVENTS": ""}).events == set(EVENTS)
    with pytest.raises(UsageError, match="plain http to another machine"):
        WebhookSettings.from_env({**env, "NEXTCALLER_OPS_WEBHOOK_URL": "http://crm.example.com/hooks"})
    with pytest.raises(UsageError, match="whsec_"):
        WebhookSettings.from_env({**env, "NEXTCALLER_OPS_WEBHOOK_SECRET": "not-a-whsec-secret"})
    with pytest.raises(UsageError, match="SECRET is not"):
        WebhookSettings.from_env({"NEXTCALLER_OPS_WEBHOOK_URL": "https://crm.example.com/hooks"})
    with pytest.raises(UsageError, match=r"unknown event: triage\.exploded"):
        WebhookSettings.from_env({**env, "NEXTCALLER_OPS_WEBHOOK_EVENTS": "triage.exploded"})


# -- the running bot: lookups, triage and corrections emit, the worker delivers -----------------------


@pytest.fixture
def hooked_bot(make_bot, receiver, monkeypatch):
    monkeypatch.setenv("NEXTCALLER_OPS_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("NEXTCALLER_OPS_WEBHOOK_SECRET", WEBHOOK_SECRET)
    bot = make_bot(watch_channels=frozenset({WATCHED}))
    bot.services.webhooks.start()
    return bot


def test_the_bot_tells_the_receiver_about_lookups_triage_and_corrections(hooked_bot, receiver):
    from bot.standin.payloads import message_event
    from bot.triage import lifecycle

    bot = hooked_bot
    card = bot.card(NUMBER)
    assert "Seinfeld" in json.dumps(card)  # the ack and the card never waited on the receiver
    (looked_up,) = receiver.wait(1)
    assert looked_up["type"] == "lookup.completed"
    assert looked_up["data"] == {
        "surface": "slack",
        "action": "lookup",
        "by": "U0AGENT001",
        "channel_id": "C0TRIAGE01",
        "phone": MASKED,
        "found": True,
        "fraud_threat": looked_up["data"]["fraud_threat"],
    }

    resp = bot.event(message_event(WATCHED, f"caller on hold: {NUMBER}", "1700000000.000100", user="U0POSTER01"))
    assert resp.status_code == 200
    wait_until(lambda: "triage.opened" in receiver.types(), what="triage.opened")
    item, _ = bot.services.triage.act(WATCHED, "1700000000.000100", "claim", "U0AGENT001")
    assert item is not None
    bot.services.triage.act(WATCHED, "1700000000.000100", "flag", "U0AGENT001")
    bot.services.triage.act(WATCHED, "1700000000.000100", "resolve", "U0AGENT001")
    bot.event(message_event(WATCHED, f"again: {NUMBER}", "1700000000.000200", user="U0POSTER01"))
    wait_until(lambda: receiver.types().count("triage.opened") == 2, what="the second triage.opened")
    lifecycle.drop(bot.services.triage, WATCHED, "1700000000.000200", "U0AGENT001", "duplicate")

    row, _ = bot.services.outbox.submit(SEINFELD_ID, {"first_name": "Jerome"}, user_id="U0AGENT001", channel_id="C1")
    bot.services.outbox.attempt(row.id)

    wait_until(lambda: "correction.delivered" in receiver.types(), what="correction.delivered")
    types = receiver.types()
    triage = [t for t in types if t.startswith("triage.")]
    assert triage == [
        "triage.opened",
        "triage.claimed",
        "triage.flagged",
        "triage.resolved",
        "triage.opened",
        "triage.dropped",
    ]
    dropped = receiver.received[types.index("triage.dropped")]["data"]
    assert dropped == {
        "channel_id": WATCHED,
        "message_ts": "1700000000.000200",
        "by": "U0AGENT001",
        "reason": "duplicate",
    }
    opened = receiver.received[types.index("triage.opened")]["data"]
    assert opened["phones"] == [MASKED] and opened["channel_id"] == WATCHED
    delivered = receiver.received[types.index("correction.delivered")]["data"]
    assert delivered["profile_id"] == SEINFELD_ID and delivered["by"] == "U0AGENT001"
    assert "Jerome" not in json.dumps(receiver.received)  # which correction, never its contents
    assert NUMBER not in json.dumps(receiver.received)
    assert receiver.refused == 0


def test_webhooks_test_sends_a_signed_ping(receiver, tmp_path):
    import os

    env = dict(os.environ, NEXTCALLER_OPS_WEBHOOK_URL=receiver.url, NEXTCALLER_OPS_WEBHOOK_SECRET=WEBHOOK_SECRET)
    done = run_cli("webhooks", "test", env=env)
    assert done.returncode == 0, done.stderr
    assert f"{receiver.url}: HTTP 200 ok" in done.stdout
    (ping,) = receiver.wait(1)
    assert ping["type"] == "webhook.ping"
    assert WEBHOOK_SECRET not in done.stdout + done.stderr

    receiver.fail_with = 500
    done = run_cli("webhooks", "test", env=env)
    assert done.returncode == 1 and "HTTP 500" in done.stdout

    done = run_cli("webhooks", "test", env={**env, "NEXTCALLER_OPS_WEBHOOK_URL": "http://crm.example.com/x"})
    assert done.returncode == 2 and "plain http to another machine" in done.stderr
