"""build_app(settings, client) -> a Bolt App with every listener registered.

Nothing happens at import time.  The services the listeners share (the core
client, policy, rate limit, audit log, corrections outbox) are built here and
handed to each ``listeners.<kind>.register(app, services)``.
"""

from __future__ import annotations

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from nextcaller_ops.client import NextCallerClient
from nextcaller_ops.config import data_dir
from nextcaller_ops.stores import AuditStore, Stores, open_stores

from .outbox import DELIVERED, Correction, Outbox
from .policy import Policy, RateLimiter
from .settings import BotSettings

__all__ = ["build_app", "Services"]

log = logging.getLogger("bot")


@dataclass
class Services:
    settings: BotSettings
    client: NextCallerClient
    policy: Policy
    limiter: RateLimiter
    stores: Stores
    outbox: Outbox
    web: WebClient
    _status_cache: dict[str, Any] = field(default_factory=dict)

    @property
    def audit(self) -> AuditStore:
        return self.stores.audit

    def api_status(self, max_age: float = 60.0) -> dict[str, Any]:
        """API reachability and key validity, checked at most once a minute (a check costs a request)."""
        from nextcaller_ops import errors

        cached = self._status_cache
        if cached and time.monotonic() - cached["at"] < max_age:
            return cached
        status: dict[str, Any] = {"at": time.monotonic()}
        try:
            self.client.check()
            status.update(api_ok=True, key_ok=True)
        except errors.AuthError as exc:
            status.update(api_ok=True, key_ok=False, api_error=f"key refused [{exc.code}]")
        except errors.NextCallerError as exc:
            status.update(api_ok=False, key_ok=None, api_error=exc.message[:120])
        self._status_cache = status
        return status

    def close(self) -> None:
        self.outbox.close()
        self.stores.close()


def _notifier(web: WebClient):
    def notify(row: Correction, outcome: str) -> None:
        if not row.user_id:
            return
        if outcome == DELIVERED:
            text = f"✅ Your queued correction to record `{row.profile_id}` has now been delivered."
        else:
            text = f"⚠️ The API refused your correction to record `{row.profile_id}`: {row.last_error}"
        # A DM: the channel the agent was in may be long gone from their screen.
        web.chat_postMessage(channel=row.user_id, text=text)

    return notify


def build_services(settings: BotSettings, client: NextCallerClient, *, web: WebClient | None = None) -> Services:
    root = Path(settings.data_dir) if settings.data_dir else data_dir()
    web = web or WebClient(token=settings.bot_token or None, base_url=settings.slack_api_url or WebClient.BASE_URL)

    def deliver(row: Correction) -> None:
        # row.body holds the agent's changes under dotted names, as build_correction takes them
        client.update_profile(row.profile_id, row.body, idempotency_key=row.key)

    stores = open_stores(root, audit_retention_days=settings.audit_retention_days)
    outbox = Outbox(stores.outbox, deliver, _notifier(web), retry_seconds=settings.outbox_retry_seconds)
    return Services(
        settings=settings,
        client=client,
        policy=Policy(settings.allowed_channels, settings.allowed_users, settings.pii_channels),
        limiter=RateLimiter(settings.lookups_per_minute),
        stores=stores,
        outbox=outbox,
        web=web,
    )


def build_app(settings: BotSettings, client: NextCallerClient, *, services: Services | None = None) -> App:
    """The Bolt app.  Listeners ack first and do the slow work on a wide thread pool,
    so a burst of commands against a slow API never queues behind itself."""
    from nextcaller_ops.redact import install

    from .listeners import register_listeners

    install()  # Bolt logs a refused request's body at INFO: mask numbers, drop secrets, process-wide
    services = services or build_services(settings, client)
    app = App(
        signing_secret=settings.signing_secret or None,
        client=services.web,
        token_verification_enabled=settings.token_verification,
        process_before_response=False,
        listener_executor=ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="bolt-listener"),
        logger=logging.getLogger("bot.bolt"),
    )
    register_listeners(app, services)
    app.nextcaller_services = services  # type: ignore[attr-defined] - for run.py and tests
    return app
