"""Durable state behind small interfaces, and the one place that picks the implementation.

>>> stores = open_stores(data_dir, audit_retention_days=90)      # doctest: +SKIP
>>> stores.audit.record(user_id="U1", channel_id="C1", action="lookup", phone="2125558383", outcome="found 1")
>>> stores.close()

Today every store is a SQLite file in the data dir.  A shared backend is a new
module implementing :mod:`.base`'s protocols and a branch on ``database_url`` here;
nothing that uses the stores changes.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import UsageError
from .base import AuditEntry, AuditStore, Correction, DedupeStore, OutboxStore, TriageItem, TriageStore

__all__ = [
    "Stores",
    "open_stores",
    "open_audit_store",
    "AuditEntry",
    "AuditStore",
    "Correction",
    "DedupeStore",
    "OutboxStore",
    "TriageItem",
    "TriageStore",
]

DEDUPE_TTL_SECONDS = 86400.0  # Slack retries within minutes; a day is plenty


@dataclass
class Stores:
    audit: AuditStore
    outbox: OutboxStore
    dedupe: DedupeStore
    triage: TriageStore
    backend: str = "sqlite"

    def close(self) -> None:
        for store in (self.outbox, self.dedupe, self.triage, self.audit):
            store.close()


def _check_url(database_url: str | None) -> None:
    if database_url:
        # Never echo the URL: it may carry a password.
        raise UsageError("a database URL was given, but only the embedded SQLite stores are available")


def open_audit_store(
    data_dir: str | os.PathLike,
    *,
    retention_days: int = 90,
    database_url: str | None = None,
    clock: Callable[[], float] = time.time,
) -> AuditStore:
    """The audit log alone (the CLI and the notebook record lookups too)."""
    _check_url(database_url)
    from .sqlite import SqliteAuditStore

    return SqliteAuditStore(Path(data_dir) / "audit.sqlite3", retention_days, clock)


def open_stores(
    data_dir: str | os.PathLike,
    *,
    audit_retention_days: int = 90,
    database_url: str | None = None,
    dedupe_ttl_seconds: float = DEDUPE_TTL_SECONDS,
    clock: Callable[[], float] = time.time,
) -> Stores:
    """Every store the bot keeps: in ``data_dir`` as SQLite files (0600).

    ``clock`` stamps audit entries and de-duplication keys (and so decides what
    retention and TTL purge); the outbox's times come from its worker.
    """
    _check_url(database_url)
    from .sqlite import SqliteDedupeStore
    from .sqlite_outbox import SqliteOutboxStore
    from .sqlite_triage import SqliteTriageStore

    root = Path(data_dir)
    opened: list[AuditStore | OutboxStore | DedupeStore] = []
    try:
        audit = open_audit_store(root, retention_days=audit_retention_days, clock=clock)
        opened.append(audit)
        outbox = SqliteOutboxStore(root / "outbox.sqlite3")
        opened.append(outbox)
        dedupe = SqliteDedupeStore(root / "dedupe.sqlite3", dedupe_ttl_seconds, clock)
        opened.append(dedupe)
        triage = SqliteTriageStore(root / "triage.sqlite3")
    except BaseException:
        for store in opened:  # a half-opened set leaves no file handle behind
            store.close()
        raise
    return Stores(audit=audit, outbox=outbox, dedupe=dedupe, triage=triage)
