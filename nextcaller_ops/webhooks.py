"""Outgoing webhooks (the Standard Webhooks specification): other systems hear about lookups and triage.

>>> hooks = Webhooks(WebhookSettings.from_env(), stores.webhooks)   # doctest: +SKIP
>>> hooks.emit("triage.claimed", {"channel_id": "C1", "message_ts": "1.2", "by": "U1"})
>>> hooks.start()                                                   # the worker thread delivers

:meth:`Webhooks.emit` only writes a row per receiver in the durable outbox
(:mod:`nextcaller_ops.stores.webhook_base`) and wakes the worker: whoever emits
(a Slack listener that must ack within 3 s) never waits on a receiver.  The
worker signs each delivery (``webhook-id``, ``webhook-timestamp``,
``webhook-signature`` = ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``
with the ``whsec_`` secret, by the ``standardwebhooks`` package) and retries with
back-off while a receiver is down or answers anything but 2xx: at least once, in
order per receiver, also across restarts.

Bodies: ``{"id", "type", "timestamp", "data"}``.  A number in ``data`` (``phone``,
``phones``) is masked (``212***8383``) unless ``NEXTCALLER_OPS_WEBHOOK_PII=1``.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .config import check_secure_base_url
from .errors import InsecureTransportError, UsageError, require
from .redact import mask_phone, register_secret
from .stores.webhook_base import GAVE_UP, SENT, WAITING, WebhookDelivery, WebhookOutboxStore

__all__ = ["EVENTS", "PING", "WebhookSettings", "Webhooks", "Answer", "send", "ping"]

log = logging.getLogger("nextcaller_ops.webhooks")

EVENTS = (
    "lookup.completed",
    "correction.delivered",
    "triage.opened",
    "triage.claimed",
    "triage.resolved",
    "triage.flagged",
    "triage.dropped",
)
PING = "webhook.ping"  # `nextcaller-ops webhooks test`: never queued, only sent

RETRY_SECONDS = 5.0  # the first retry; doubles per attempt
MAX_BACKOFF = 60.0  # a receiver down for any length of time is tried at least once a minute
GIVE_UP_AFTER = 3 * 86400.0  # an event nobody could take for three days is dropped (logged)
KEEP_SENT = 7 * 86400.0  # sent rows are forgotten after a week
LEASE_SECONDS = 60.0  # longer than one attempt can take (SEND_TIMEOUT)
SEND_TIMEOUT = 10.0

_URLS, _SECRET, _EVENTS, _PII = (
    "NEXTCALLER_OPS_WEBHOOK_URL",
    "NEXTCALLER_OPS_WEBHOOK_SECRET",
    "NEXTCALLER_OPS_WEBHOOK_EVENTS",
    "NEXTCALLER_OPS_WEBHOOK_PII",
)


@dataclass(frozen=True)
class WebhookSettings:
    urls: tuple[str, ...] = ()
    secret: str = field(default="", repr=False)
    events: frozenset[str] = frozenset(EVENTS)
    pii: bool = False  # full numbers in bodies

    @property
    def enabled(self) -> bool:
        return bool(self.urls and self.secret)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebhookSettings:
        """The four settings, checked: a URL in clear to another machine, a secret that is not ``whsec_``
        base64, or an unknown event name stops the process with one sentence naming the setting."""
        env = os.environ if env is None else env
        urls = tuple(u.strip() for u in (env.get(_URLS) or "").split(",") if u.strip())
        secret = (env.get(_SECRET) or "").strip()
        register_secret(secret)  # never in a log line, whatever happens next
        for url in urls:
            _check_url(url)
        if urls and not secret:
            raise UsageError(f"{_URLS} is set but {_SECRET} is not", hint="set the receiver's whsec_… signing secret")
        if secret:
            _check_secret(secret)
        names = {e.strip() for e in (env.get(_EVENTS) or "").split(",") if e.strip()}
        unknown = sorted(names - set(EVENTS) - {"all"})
        if unknown:
            raise UsageError(
                f"{_EVENTS} names an unknown event: {unknown[0][:60]}", hint=f"choose among {', '.join(EVENTS)}"
            )
        events = frozenset(EVENTS) if not names or "all" in names else frozenset(names)
        pii = (env.get(_PII) or "").strip().lower() in ("1", "true", "yes", "on")
        return cls(urls=urls, secret=secret, events=events, pii=pii)


def _check_url(url: str) -> None:
    if not url.lower().startswith(("http://", "https://")):
        raise UsageError(f"{_URLS} has a URL that is not http(s)://", hint="give each receiver as https://HOST/PATH")
    try:
        check_secure_base_url(url, _URLS)
    except InsecureTransportError as exc:
        raise UsageError(
            exc.message,
            hint="webhook bodies tell who looked up which caller: use https://, or a receiver on this machine",
        ) from None


def _check_secret(secret: str) -> None:
    webhooks = require("standardwebhooks", "slack", "outgoing webhooks")
    if not secret.startswith("whsec_"):
        raise UsageError(f"{_SECRET} does not start with whsec_", hint="give the secret as whsec_ + base64")
    try:
        webhooks.Webhook(secret)
    except Exception:
        raise UsageError(f"{_SECRET} is not whsec_ + base64", hint="give the secret as whsec_ + base64") from None


@dataclass(frozen=True)
class Answer:
    """What a receiver answered: its status (0: not reached) and the start of its body, or why not."""

    status: int
    text: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def send(url: str, secret: str, event_id: str, body: str, *, timeout: float = SEND_TIMEOUT) -> Answer:
    """POST ``body`` to ``url``, signed now; never raises for the receiver's failings."""
    import requests

    webhooks = require("standardwebhooks", "slack", "outgoing webhooks")
    now = datetime.now(tz=UTC)
    headers = {
        "content-type": "application/json",
        "user-agent": "nextcaller-ops-webhooks",
        "webhook-id": event_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": webhooks.Webhook(secret).sign(event_id, now, body),
    }
    try:
        resp = requests.post(url, data=body.encode("utf-8"), headers=headers, timeout=timeout, allow_redirects=False)
    except requests.RequestException as exc:
        return Answer(0, type(exc).__name__)
    return Answer(resp.status_code, resp.text[:200])


def body_of(event_id: str, type_: str, data: Mapping[str, Any], *, pii: bool, at: float) -> str:
    """The JSON a receiver gets; numbers masked unless ``pii``."""
    shown = dict(data) if pii else _masked(data)
    stamp = datetime.fromtimestamp(at, tz=UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"id": event_id, "type": type_, "timestamp": stamp, "data": shown}, separators=(",", ":"))


def _masked(data: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(data)
    if isinstance(shown.get("phone"), str) and shown["phone"]:
        shown["phone"] = mask_phone(shown["phone"])
    if isinstance(shown.get("phones"), list | tuple):
        shown["phones"] = [mask_phone(str(p)) for p in shown["phones"]]
    return shown


def ping(settings: WebhookSettings) -> list[tuple[str, Answer]]:
    """A signed ``webhook.ping`` to every receiver, now (not queued): what each answered."""
    event_id = f"msg_{uuid.uuid4().hex}"
    body = body_of(event_id, PING, {"message": "a test from nextcaller-ops"}, pii=False, at=time.time())
    return [(url, send(url, settings.secret, event_id, body)) for url in settings.urls]


Sender = Callable[[str, str, str, str], Answer]  # (url, secret, event id, body)


class Webhooks:
    """``emit`` writes to the outbox; the worker thread (``start``) delivers.  Off without URLs."""

    def __init__(
        self,
        settings: WebhookSettings,
        store: WebhookOutboxStore | None,
        *,
        retry_seconds: float = RETRY_SECONDS,
        clock: Callable[[], float] = time.time,
        sender: Sender | None = None,
    ):
        self.settings = settings
        self.store = store
        self.retry_seconds = retry_seconds
        self._clock = clock
        self._send = sender or (lambda url, secret, event_id, body: send(url, secret, event_id, body))
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._purged = 0.0

    @property
    def enabled(self) -> bool:
        return self.settings.enabled and self.store is not None

    def emit(self, type_: str, data: Mapping[str, Any]) -> None:
        """Queue ``type_`` for every receiver (when it is one of the chosen events); never raises."""
        if not self.enabled or type_ not in self.settings.events:
            return
        assert self.store is not None
        try:
            now = self._clock()
            event_id = f"msg_{uuid.uuid4().hex}"
            body = body_of(event_id, type_, data, pii=self.settings.pii, at=now)
            self.store.enqueue(event_id, type_, list(self.settings.urls), body, now=now)
        except Exception as exc:  # the thing that happened stands; only its webhook is lost
            log.warning("webhook %s not queued: %s", type_, type(exc).__name__)
            return
        self._wake.set()

    # -- delivering ---------------------------------------------------------------------------
    def attempt(self) -> tuple[WebhookDelivery, str] | None:
        """Send one due row (the head of some receiver's queue): (row, outcome), or None when nothing is due."""
        if self.store is None:
            return None
        row = self.store.claim(now=self._clock(), lease_seconds=LEASE_SECONDS)
        if row is None:
            return None
        answer = self._send(row.url, self.settings.secret, row.event_id, row.body)
        now = self._clock()
        if answer.ok:
            self.store.finish(row, SENT, now=now, next_attempt=now)
            log.info("webhook %s sent (attempt %d)", row.type, row.attempts)
            return row, SENT
        why = f"HTTP {answer.status}" if answer.status else answer.text
        if now - row.created > GIVE_UP_AFTER:
            self.store.finish(row, GAVE_UP, now=now, error=why, next_attempt=now)
            log.error("webhook %s given up after %d attempts: %s", row.type, row.attempts, why)
            return row, GAVE_UP
        backoff = min(MAX_BACKOFF, self.retry_seconds * 2 ** max(0, row.attempts - 1))
        self.store.finish(row, WAITING, now=now, error=why, next_attempt=now + backoff)
        log.warning("webhook %s not taken yet (attempt %d, %s): again in %.0f s", row.type, row.attempts, why, backoff)
        return row, WAITING

    def deliver_due(self) -> int:
        """Send every row due now, each receiver's in order; stops at a receiver that fails. How many were sent."""
        sent = 0
        failed: set[str] = set()
        while True:
            done = self.attempt()
            if done is None:
                return sent
            row, outcome = done
            if outcome == SENT:
                sent += 1
            elif row.url in failed:
                return sent  # one failure per receiver per round is enough (its next try is backed off anyway)
            else:
                failed.add(row.url)

    def start(self) -> None:
        if self.enabled and (self._thread is None or not self._thread.is_alive()):
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="nextcaller-webhooks", daemon=True)
            self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.deliver_due()
                self._housekeeping()
            except Exception:  # keep the worker alive whatever happens
                log.exception("webhook worker: unexpected error")
            self._wake.wait(timeout=min(self.retry_seconds, 5.0))
            self._wake.clear()

    def _housekeeping(self) -> None:
        now = self._clock()
        if self.store is not None and now - self._purged > 3600:
            self._purged = now
            self.store.purge(now - KEEP_SENT)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the worker (an attempt under way finishes); what is left waits in the outbox."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None
