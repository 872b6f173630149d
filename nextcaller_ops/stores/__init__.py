"""Durable state behind small interfaces, and the one place that picks the implementation.

>>> stores = open_stores(data_dir)      # doctest: +SKIP
>>> stores.audit.record(user_id="U1", channel_id="C1", action="lookup", phone="2125558383", outcome="found 1")
>>> stores.close()

Without ``database_url`` every store is a SQLite file in the data dir (the
embedded default).  With a ``postgresql://`` URL (``NEXTCALLER_OPS_DATABASE_URL``)
they live in PostgreSQL, shared by every process pointing there (:mod:`.postgres`).
Nothing that uses the stores changes.

Opening (or reading) a store never deletes anything: how long each store keeps
its rows is the running bot's business (``bot.retention``), and the audit log's
also that of an explicit ``nextcaller-ops audit purge --older-than``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .base import (
    AuditEntry,
    AuditStore,
    Correction,
    DedupeStore,
    OutboxStore,
    StoreUnavailableError,
    TriageItem,
    TriageStore,
)
from .webhook_base import WebhookDelivery, WebhookOutboxStore

__all__ = [
    "Stores",
    "open_stores",
    "open_audit_store",
    "backend_for",
    "check_stores",
    "AuditEntry",
    "AuditStore",
    "Correction",
    "DedupeStore",
    "OutboxStore",
    "StoreUnavailableError",
    "TriageItem",
    "TriageStore",
    "WebhookDelivery",
    "WebhookOutboxStore",
]

DEDUPE_TTL_SECONDS = 86400.0  # Slack retries within minutes; a day is plenty


@dataclass
class Stores:
    audit: AuditStore
    outbox: OutboxStore
    dedupe: DedupeStore
    triage: TriageStore
    backend: str = "sqlite"
    webhooks: WebhookOutboxStore | None = None  # outgoing webhooks' outbox (nextcaller_ops.webhooks)
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for store in (self.outbox, self.dedupe, self.triage, self.audit):
            store.close()
        if self.webhooks is not None:
            self.webhooks.close()
        for closer in self._closers:  # the PostgreSQL pool the stores share
            closer()
        self._closers.clear()


def backend_for(database_url: str | None) -> str:
    """``sqlite`` (no URL) or ``postgresql``; any other URL is a usage error that never echoes it."""
    if not database_url:
        return "sqlite"
    if database_url.startswith(("postgresql://", "postgres://")):
        return "postgresql"
    # Never echo the URL: it may carry a password.
    raise UsageError(
        "NEXTCALLER_OPS_DATABASE_URL is not a postgresql:// URL",
        hint="set it to postgresql://USER@HOST:PORT/DB, or unset it to use the embedded SQLite stores",
    )


def open_audit_store(
    data_dir: str | os.PathLike,
    *,
    database_url: str | None = None,
    clock: Callable[[], float] = time.time,
    migrate: bool = False,
) -> AuditStore:
    """The audit log alone (the CLI and the notebook record lookups too, and ``audit`` reads it).

    They run no DDL on PostgreSQL (``migrate`` stays False): a schema behind the code is a
    :class:`~.schema.SchemaBehindError` saying to run ``nextcaller-ops db migrate``.
    """
    if backend_for(database_url) == "postgresql":
        assert database_url is not None
        from .postgres import PostgresAuditStore, open_pool

        return PostgresAuditStore(open_pool(database_url, max_size=2, migrate=migrate), clock, owns_pool=True)
    from .sqlite import SqliteAuditStore

    return SqliteAuditStore(_stamped(Path(data_dir) / "audit.sqlite3"), clock)


def _stamped(path: Path) -> Path:
    """``path``, its schema version checked (newer: refused) and recorded before its store opens it."""
    from .schema import stamp_sqlite

    stamp_sqlite(path)
    return path


def open_stores(
    data_dir: str | os.PathLike,
    *,
    database_url: str | None = None,
    dedupe_ttl_seconds: float = DEDUPE_TTL_SECONDS,
    clock: Callable[[], float] = time.time,
    migrate: bool = True,
) -> Stores:
    """Every store the bot keeps: in ``data_dir`` as SQLite files (0600), or in PostgreSQL at ``database_url``.

    ``clock`` stamps audit entries and de-duplication keys (and so decides when a
    key's TTL has run out); the outbox's times come from its worker.  ``migrate``: bring a
    PostgreSQL schema up to date first (the bot, unless NEXTCALLER_OPS_AUTO_MIGRATE=0); without
    it a schema behind the code is refused.  A schema newer than the code is always refused.
    """
    if backend_for(database_url) == "postgresql":
        assert database_url is not None
        return _open_postgres(database_url, dedupe_ttl_seconds, clock, migrate)
    from .sqlite import SqliteDedupeStore
    from .sqlite_outbox import SqliteOutboxStore
    from .sqlite_triage import SqliteTriageStore
    from .sqlite_webhooks import SqliteWebhookStore

    root = Path(data_dir)
    opened: list[AuditStore | OutboxStore | DedupeStore | TriageStore] = []
    try:
        audit = open_audit_store(root, clock=clock)
        opened.append(audit)
        outbox = SqliteOutboxStore(_stamped(root / "outbox.sqlite3"))
        opened.append(outbox)
        dedupe = SqliteDedupeStore(_stamped(root / "dedupe.sqlite3"), dedupe_ttl_seconds, clock)
        opened.append(dedupe)
        triage = SqliteTriageStore(_stamped(root / "triage.sqlite3"))
        opened.append(triage)
        webhooks = SqliteWebhookStore(_stamped(root / "webhooks.sqlite3"))
    except BaseException:
        for store in opened:  # a half-opened set leaves no file handle behind
            store.close()
        raise
    return Stores(audit=audit, outbox=outbox, dedupe=dedupe, triage=triage, webhooks=webhooks)


def _open_postgres(url: str, dedupe_ttl: float, clock: Callable[[], float], migrate: bool) -> Stores:
    from .postgres import PostgresAuditStore, PostgresDedupeStore, open_pool
    from .postgres_outbox import PostgresOutboxStore
    from .postgres_triage import PostgresTriageStore
    from .postgres_webhooks import PostgresWebhookStore

    pool = open_pool(url, migrate=migrate)
    try:
        return Stores(
            audit=PostgresAuditStore(pool, clock),
            outbox=PostgresOutboxStore(pool),
            dedupe=PostgresDedupeStore(pool, dedupe_ttl, clock),
            triage=PostgresTriageStore(pool),
            backend="postgresql",
            webhooks=PostgresWebhookStore(pool),
            _closers=[pool.close],
        )
    except BaseException:
        pool.close()
        raise


def check_stores(data_dir: str | os.PathLike, database_url: str | None) -> dict[str, Any]:
    """For ``status``: the backend, whether it answers, its schema version and the outbox's counts.

    Never raises for an unreachable server (``ok`` is False and ``error`` says why);
    creates nothing: an embedded outbox that does not exist yet is reported as such.
    """
    backend = backend_for(database_url)
    if backend == "postgresql":
        assert database_url is not None
        from .postgres import describe

        return {"backend": backend, **describe(database_url)}
    path = Path(data_dir) / "outbox.sqlite3"
    if not path.exists():
        return {"backend": backend, "ok": True, "where": str(Path(data_dir)), "outbox": None}
    from .sqlite_outbox import SqliteOutboxStore

    outbox = SqliteOutboxStore(path)
    try:
        return {"backend": backend, "ok": True, "where": str(Path(data_dir)), "outbox": outbox.counts()}
    finally:
        outbox.close()
