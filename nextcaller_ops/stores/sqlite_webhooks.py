"""The webhook outbox in ``webhooks.sqlite3`` (mode 0600): one bot process owns the file."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .person import Person
from .private_db import open_private_db
from .webhook_base import GAVE_UP, SENDING, SENT, WAITING, WebhookDelivery

__all__ = ["SqliteWebhookStore"]

_COLUMNS = "id, event_id, type, url, body, created, status, attempts, last_error"
# A receiver's head: its oldest row not yet sent (later rows wait behind it, in order).
_HEAD = "id = (SELECT MIN(h.id) FROM webhook_outbox h WHERE h.url = w.url AND h.status IN (?, ?))"


class SqliteWebhookStore:
    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        self._db.execute("""CREATE TABLE IF NOT EXISTS webhook_outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, type TEXT NOT NULL,
            url TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL, lease_until REAL NOT NULL DEFAULT 0,
            last_error TEXT NOT NULL DEFAULT '', created REAL NOT NULL, sent REAL, UNIQUE (event_id, url))""")
        self._db.execute(
            "CREATE INDEX IF NOT EXISTS webhook_outbox_waiting ON webhook_outbox (url, id) WHERE status IN"
            f" ('{WAITING}', '{SENDING}')"
        )
        # Whoever held a lease in this file is gone (one process owns it): due again at once.
        with self._lock:
            self._db.execute(
                "UPDATE webhook_outbox SET status=?, lease_until=0, next_attempt=0 WHERE status=?", (WAITING, SENDING)
            )

    def enqueue(self, event_id: str, type_: str, urls: list[str], body: str, *, now: float) -> None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT OR IGNORE INTO webhook_outbox (event_id, type, url, body, status, next_attempt, created)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(event_id, type_, url, body, WAITING, now, now) for url in urls],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def claim(self, *, now: float, lease_seconds: float) -> WebhookDelivery | None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                r = self._db.execute(
                    f"SELECT id FROM webhook_outbox w WHERE {_HEAD}"
                    " AND ((status=? AND next_attempt <= ?) OR (status=? AND lease_until < ?)) ORDER BY id LIMIT 1",
                    (WAITING, SENDING, WAITING, now, SENDING, now),
                ).fetchone()
                if r is not None:
                    self._db.execute(
                        "UPDATE webhook_outbox SET status=?, lease_until=?, attempts=attempts+1 WHERE id=?",
                        (SENDING, now + lease_seconds, r[0]),
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            if r is None:
                return None
            row = self._db.execute(f"SELECT {_COLUMNS} FROM webhook_outbox WHERE id=?", (r[0],)).fetchone()
        return WebhookDelivery(*row)

    def finish(self, row: WebhookDelivery, status: str, *, now: float, error: str = "", next_attempt: float) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE webhook_outbox SET status=?, last_error=?, lease_until=0, next_attempt=?, sent=?"
                " WHERE id=? AND attempts=? AND status=?",
                (status, error[:500], next_attempt, now if status == SENT else None, row.id, row.attempts, SENDING),
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM webhook_outbox GROUP BY status").fetchall()
        counts = {WAITING: 0, SENT: 0, GAVE_UP: 0}
        for status, n in rows:
            key = WAITING if status == SENDING else status
            counts[key] = counts.get(key, 0) + n
        return counts

    def purge(self, before: float) -> int:
        with self._lock:
            return self._db.execute(
                "DELETE FROM webhook_outbox WHERE status IN (?, ?) AND created < ?", (SENT, GAVE_UP, before)
            ).rowcount

    def forget(self, person: Person, *, apply: bool = True) -> int:
        """Delete every row holding ``person`` (a body with ``NEXTCALLER_OPS_WEBHOOK_PII=1``'s full number,
        or a profile id), queued or sent: a row never delivered is an event the receiver will not hear."""
        with self._lock:
            rows = self._db.execute("SELECT id, body, last_error FROM webhook_outbox").fetchall()
            hits = [r[0] for r in rows if person.mentions(r[1]) or person.mentions(r[2])]
            if apply and hits:
                self._db.executemany("DELETE FROM webhook_outbox WHERE id = ?", [(i,) for i in hits])
        return len(hits)

    def close(self) -> None:
        with self._lock:
            self._db.close()
