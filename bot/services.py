"""What the listeners share: the core client, policy, rate limit, stores, the corrections outbox, triage.

Built once per process by :func:`build_services`; :func:`bot.app.build_app`
hands them to every listener through Bolt's context (``context["services"]``),
and a listener reaches them with :func:`services_from`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_sdk import WebClient

from nextcaller_ops.account import check_api
from nextcaller_ops.audit import asking, store_auditor
from nextcaller_ops.client.client import NextCallerClient
from nextcaller_ops.config import data_dir
from nextcaller_ops.rate.window import RateLimiter
from nextcaller_ops.stores import AuditStore, DedupeStore, Stores, open_stores
from nextcaller_ops.webhooks import Webhooks, WebhookSettings

from . import messages
from .outbox import CANCELLED, DELIVERED, Correction, Notify, Outbox
from .policy import Policy
from .retention import Housekeeper
from .settings import BotSettings
from .triage import Triage, TriageWorker
from .triage.pool import TriagePool

__all__ = ["Services", "build_services", "services_from"]

STATUS_MAX_AGE = 60.0  # a status check costs a request: at most one a minute


@dataclass
class Services:
    settings: BotSettings
    client: NextCallerClient
    policy: Policy
    limiter: RateLimiter
    stores: Stores
    outbox: Outbox
    web: WebClient
    triage: Triage
    triage_worker: TriageWorker
    triage_pool: TriagePool  # watched messages' lookups, on threads of their own (never Bolt's)
    housekeeper: Housekeeper  # retention: each store's old rows purged at start, then hourly
    # outgoing webhooks: ``webhooks.emit(type, data)`` queues, its worker delivers (off without a URL)
    webhooks: Webhooks = field(default_factory=lambda: Webhooks(WebhookSettings(), None))
    _status_cache: dict[str, Any] = field(default_factory=dict)

    @property
    def audit(self) -> AuditStore:
        return self.stores.audit

    @property
    def dedupe(self) -> DedupeStore:
        return self.stores.dedupe

    def api_status(self, max_age: float = STATUS_MAX_AGE) -> dict[str, Any]:
        """API reachability and key validity for App Home, checked at most once per ``max_age`` seconds."""
        cached = self._status_cache
        if cached and time.monotonic() - cached["at"] < max_age:
            return cached
        check = check_api(self.client)
        status: dict[str, Any] = {"at": time.monotonic()}
        if check.ok:
            status.update(api_ok=True, key_ok=True)
        elif check.key_ok is False and check.error is not None:
            status.update(api_ok=True, key_ok=False, api_error=f"key refused [{check.error.code}]")
        else:
            status.update(api_ok=False, key_ok=None, api_error=check.error.message[:120] if check.error else "")
        self._status_cache = status
        return status

    def start(self) -> None:
        """Start the background workers: corrections waiting in the outbox, triage lookups to retry, retention."""
        self.outbox.start()
        self.webhooks.start()
        self.triage_worker.start()
        self.housekeeper.start()

    def close(self) -> None:
        """Let deliveries in progress finish, then close the stores."""
        self.housekeeper.stop()
        self.triage_pool.close()  # the lookups under way finish; the rest stay in the store for a worker
        self.triage_worker.stop()
        self.outbox.close()
        self.webhooks.stop()
        self.stores.close()


def services_from(context: Mapping[str, Any]) -> Services:
    """The services a listener works with, from Bolt's context (put there by ``build_app``'s middleware)."""
    services = context.get("services")
    if not isinstance(services, Services):
        raise RuntimeError("no services in the Bolt context: build the app with bot.app.build_app")
    return services


def _notifier(web: WebClient) -> Notify:
    def notify(row: Correction, outcome: str) -> None:
        if not row.user_id:
            return
        if outcome == DELIVERED:
            text = messages.queued_correction_delivered(row.profile_id)
        elif outcome == CANCELLED:  # the person was forgotten (nextcaller-ops forget): the row names no one
            text = messages.CORRECTION_CANCELLED_FORGOTTEN
        else:
            text = messages.queued_correction_refused(row.profile_id, row.last_error)
        # A DM: the channel the agent was in may be long gone from their screen.
        web.chat_postMessage(channel=row.user_id, text=text)

    return notify


def _retention_is_the_housekeepers() -> None:
    """The triage worker's housekeeping: nothing, since every store's retention is in one place (bot.retention)."""


def _shared_limit(settings: BotSettings) -> Callable[[str], float | None] | None:
    """The per-user lookup limit counted in Redis (every bot process), when there is one."""
    if not settings.redis_url:
        return None
    from nextcaller_ops.rate.redis import SlidingWindow
    from nextcaller_ops.stores.redis import shared_redis

    shared = shared_redis(settings.redis_url, settings.redis_prefix)
    return SlidingWindow(shared, "bot-lookups", limit=settings.lookups_per_minute, window=60.0)


def _delivered(row: Correction) -> dict[str, Any]:
    """``correction.delivered``'s data: which correction, to which profile, whose (never the changes)."""
    return {"correction_id": row.id, "profile_id": row.profile_id, "by": row.user_id, "channel_id": row.channel_id}


def build_services(
    settings: BotSettings,
    client: NextCallerClient,
    *,
    web: WebClient | None = None,
    stores: Stores | None = None,
    webhooks: WebhookSettings | None = None,
) -> Services:
    """Everything the listeners need; the stores are opened here unless given.

    ``webhooks``: the outgoing webhooks' settings (default: ``NEXTCALLER_OPS_WEBHOOK_*`` from the environment).
    """
    hooks_settings = webhooks if webhooks is not None else WebhookSettings.from_env()
    web = web or WebClient(token=settings.bot_token or None, base_url=settings.slack_api_url or WebClient.BASE_URL)
    if stores is None:
        root = Path(settings.data_dir) if settings.data_dir else data_dir()
        # Opening purges nothing (the housekeeper does); it migrates the schema at start unless
        # NEXTCALLER_OPS_AUTO_MIGRATE=0 (then: `nextcaller-ops db migrate`).
        stores = open_stores(root, database_url=settings.database_url, migrate=settings.auto_migrate)

    # Every call the client makes is audited in the bot's log, as whoever the listener is asking for
    # (nextcaller_ops.audit.asking); a call outside any asker (none today) names no one.
    client.auditor = store_auditor(stores.audit, default_user=None, default_channel=None)

    hooks = Webhooks(hooks_settings, stores.webhooks)

    def deliver(row: Correction) -> None:
        # row.body holds the agent's changes under dotted names, as build_correction takes them;
        # delivered on the outbox's thread, audited as the agent who submitted it
        with asking(user_id=row.user_id, channel_id=row.channel_id):
            client.update_profile(row.profile_id, row.body, idempotency_key=row.key)
        hooks.emit("correction.delivered", _delivered(row))

    triage = Triage(settings, stores.triage, client, web, stores.audit)
    triage.emit = hooks.emit  # triage.opened, .claimed, .resolved, .flagged, .dropped
    return Services(
        settings=settings,
        client=client,
        policy=Policy(settings.allowed_channels, settings.allowed_users, settings.pii_channels),
        limiter=RateLimiter(settings.lookups_per_minute, shared=_shared_limit(settings)),
        stores=stores,
        outbox=Outbox(
            stores.outbox,
            deliver,
            _notifier(web),
            retry_seconds=settings.outbox_retry_seconds,
            lease_seconds=settings.outbox_lease_seconds,
        ),
        web=web,
        triage=triage,
        triage_worker=(
            worker := TriageWorker(
                triage,
                poll_seconds=min(2.0, settings.triage_retry_seconds),
                housekeeping=_retention_is_the_housekeepers,
            )
        ),
        triage_pool=TriagePool(triage, worker.wake),
        housekeeper=Housekeeper(stores, settings.retention),
        webhooks=hooks,
    )
