"""The corrections outbox in ``outbox.sqlite3`` (mode 0600): rows, leases and outcomes.

Written before any attempt to deliver, so nothing an agent submitted is lost.
The delivery worker (``bot.outbox.Outbox``) decides when to try and what an
outcome means; this module only keeps the rows.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path
from typing import Any

from .base import DELIVERED, DELIVERING, PENDING, REJECTED, Correction
from .person import CANCELLED, Person
from .private_db import open_private_db

__all__ = ["SqliteOutboxStore"]

_COLUMNS = "id, key, profile_id, body, user_id, channel_id, status, attempts, last_error"


class SqliteOutboxStore:
    """One bot process owns the file: :meth:`recover` takes back every row left mid-delivery."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        self._db.execute("""CREATE TABLE IF NOT EXISTS outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL UNIQUE, dedupe_key TEXT UNIQUE,
            profile_id TEXT NOT NULL, body TEXT NOT NULL, user_id TEXT, channel_id TEXT,
            status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt REAL NOT NULL,
            lease_until REAL NOT NULL DEFAULT 0, last_error TEXT NOT NULL DEFAULT '',
            created REAL NOT NULL, delivered REAL)""")

    def _row(self, where: str, args: tuple) -> Correction | None:
        with self._lock:
            r = self._db.execute(f"SELECT {_COLUMNS} FROM outbox WHERE {where}", args).fetchone()
        return Correction(r[0], r[1], r[2], json.loads(r[3]), r[4], r[5], r[6], r[7], r[8]) if r else None

    def get(self, row_id: int) -> Correction | None:
        return self._row("id=?", (row_id,))

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status").fetchall()
        counts = {PENDING: 0, DELIVERED: 0, REJECTED: 0}
        for status, n in rows:
            counts[PENDING if status == DELIVERING else status] = counts.get(status, 0) + n
        return counts

    def submit(
        self,
        profile_id: str,
        body: dict[str, Any],
        *,
        now: float,
        user_id: str | None = None,
        channel_id: str | None = None,
        dedupe_key: str | None = None,
        due: float | None = None,
    ) -> tuple[Correction, bool]:
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO outbox (key, dedupe_key, profile_id, body, user_id, channel_id, status,"
                " next_attempt, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    uuid.uuid4().hex,
                    dedupe_key,
                    profile_id,
                    json.dumps(body),
                    user_id,
                    channel_id,
                    PENDING,
                    now if due is None else due,
                    now,
                ),
            )
            created = cur.rowcount == 1
        row = self._row("id=?", (cur.lastrowid,)) if created else self._row("dedupe_key=?", (dedupe_key,))
        assert row is not None
        return row, created

    def claim(self, row_id: int | None, *, now: float, lease_seconds: float) -> Correction | None:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                if row_id is not None:
                    r = self._db.execute(
                        "SELECT id FROM outbox WHERE id=? AND (status=? OR (status=? AND lease_until < ?))",
                        (row_id, PENDING, DELIVERING, now),
                    ).fetchone()
                else:
                    r = self._db.execute(
                        "SELECT id FROM outbox WHERE (status=? AND next_attempt <= ?) OR (status=? AND lease_until < ?)"
                        " ORDER BY id LIMIT 1",
                        (PENDING, now, DELIVERING, now),
                    ).fetchone()
                if r is None:
                    self._db.execute("COMMIT")
                    return None
                self._db.execute(
                    "UPDATE outbox SET status=?, lease_until=?, attempts=attempts+1 WHERE id=?",
                    (DELIVERING, now + lease_seconds, r[0]),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.get(r[0])

    def renew(self, row: Correction, *, now: float, lease_seconds: float) -> bool:
        with self._lock:
            return (
                self._db.execute(
                    "UPDATE outbox SET lease_until=? WHERE id=? AND attempts=? AND status=?",
                    (now + lease_seconds, row.id, row.attempts, DELIVERING),
                ).rowcount
                == 1
            )

    def finish(self, row: Correction, status: str, *, now: float, error: str = "", next_attempt: float) -> None:
        with self._lock:  # only the attempt that holds the lease (`attempts` fences a taken-over one)
            self._db.execute(
                "UPDATE outbox SET status=?, last_error=?, lease_until=0, next_attempt=?, delivered=?"
                " WHERE id=? AND attempts=? AND status=?",
                (
                    status,
                    error[:500],
                    next_attempt,
                    now if status == DELIVERED else None,
                    row.id,
                    row.attempts,
                    DELIVERING,
                ),
            )

    def purge(self, before: float) -> int:
        with self._lock:  # finished rows only: a waiting correction is kept until it is delivered
            return self._db.execute(
                "DELETE FROM outbox WHERE status IN (?, ?) AND created < ?", (DELIVERED, REJECTED, before)
            ).rowcount

    def forget(self, person: Person, *, apply: bool = True) -> int:
        """Delete finished rows holding ``person``; cancel waiting ones (body emptied, kept for :meth:`cancelled`)."""
        with self._lock:
            rows = self._db.execute("SELECT id, profile_id, body, last_error, status FROM outbox").fetchall()
            hits = [
                (r[0], r[4])
                for r in rows
                if r[4] != CANCELLED
                and (r[1].casefold() in person.words or person.mentions(r[2]) or person.mentions(r[3]))
            ]
            if apply:
                for row_id, status in hits:
                    if status in (DELIVERED, REJECTED):
                        self._db.execute("DELETE FROM outbox WHERE id = ?", (row_id,))
                    else:
                        self._db.execute(
                            "UPDATE outbox SET status=?, body='{}', profile_id='', last_error='', lease_until=0"
                            " WHERE id=?",
                            (CANCELLED, row_id),
                        )
        return len(hits)

    def cancelled(self) -> list[Correction]:
        """Corrections cancelled by a forget, whose agents are still to be told."""
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT id FROM outbox WHERE status=? ORDER BY id", (CANCELLED,))]
        return [row for row in map(self.get, ids) if row is not None]

    def drop(self, row_id: int) -> None:
        with self._lock:
            self._db.execute("DELETE FROM outbox WHERE id=?", (row_id,))

    def recover(self) -> int:
        # Whoever held those leases is gone, however long they had left.
        with self._lock:
            return self._db.execute(
                "UPDATE outbox SET status=?, lease_until=0, next_attempt=0 WHERE status=?", (PENDING, DELIVERING)
            ).rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()
