"""The embedded stores: SQLite files in the data dir, mode 0600 (they hold personal data).

One connection per store, shared by the process's threads under a lock; WAL, so
a reader never waits for a writer.  The outbox is in :mod:`.sqlite_outbox`.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .at_rest import at_rest, query_for
from .base import AuditEntry
from .person import Person
from .private_db import open_private_db

__all__ = ["SqliteAuditStore", "SqliteDedupeStore"]

Clock = Callable[[], float]

_AUDIT_COLUMNS = ("ts", "user_id", "channel_id", "action", "phone", "outcome", "detail")


def _entry(row: tuple) -> AuditEntry:
    ts, user_id, channel_id, action, phone, outcome, detail = row
    return AuditEntry(
        ts=ts, user_id=user_id, channel_id=channel_id, action=action, phone=phone, outcome=outcome, detail=detail
    )


class SqliteAuditStore:
    """The audit log in ``audit.sqlite3``; opening it deletes nothing (see :meth:`purge`)."""

    def __init__(self, path: str | os.PathLike, clock: Clock = time.time):
        self.path = Path(path)
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        self._db.execute("""CREATE TABLE IF NOT EXISTS audit (
            ts REAL NOT NULL, user_id TEXT, channel_id TEXT, action TEXT NOT NULL,
            phone TEXT, outcome TEXT NOT NULL, detail TEXT)""")
        self._db.execute("CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts)")
        self._db.execute("CREATE INDEX IF NOT EXISTS audit_user ON audit (user_id, ts)")

    def record(
        self,
        *,
        user_id: str | None,
        channel_id: str | None,
        action: str,
        phone: str | None,
        outcome: str,
        detail: str = "",
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self._clock(), user_id, channel_id, action, at_rest(phone), outcome, detail[:500]),
            )

    def purge(self, before: float) -> int:
        with self._lock:
            return self._db.execute("DELETE FROM audit WHERE ts < ?", (before,)).rowcount

    def forget(self, person: Person, *, apply: bool = True) -> int:
        # Every row but the forget records themselves (they hold a keyed hash, never the number).
        with self._lock:
            rows = self._db.execute("SELECT rowid, phone, detail FROM audit WHERE action <> 'forget'").fetchall()
            doomed = [(r[0],) for r in rows if person.is_phone(r[1]) or person.mentions(r[2])]
            if apply:
                self._db.executemany("DELETE FROM audit WHERE rowid = ?", doomed)
        return len(doomed)

    def recent(self, user_id: str, limit: int = 5) -> list[AuditEntry]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit WHERE user_id=? AND action IN ('lookup', 'refresh')"
                " ORDER BY ts DESC LIMIT ?",
                (user_id, limit),
            ).fetchall()
        return [_entry(r) for r in rows]

    def entries(
        self, *, since: float | None = None, user_id: str | None = None, phone: str | None = None
    ) -> list[AuditEntry]:
        where, args = ["1=1"], []
        for clause, value in (("ts >= ?", since), ("user_id = ?", user_id)):
            if value is not None:
                where.append(clause)
                args.append(value)
        if phone is not None:  # as the log keeps numbers (hashed: the query's hash finds them)
            forms = query_for(phone)
            where.append(f"phone IN ({', '.join('?' for _ in forms)})")
            args.extend(forms)
        with self._lock:
            rows = self._db.execute(
                f"SELECT {', '.join(_AUDIT_COLUMNS)} FROM audit WHERE {' AND '.join(where)} ORDER BY ts", args
            ).fetchall()
        return [_entry(r) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()


class SqliteDedupeStore:
    """Keys already handled, in ``dedupe.sqlite3``; a key is forgotten ``ttl_seconds`` after it was claimed.

    Several processes may open the same file: the claim is one statement, and
    SQLite serialises writers, so exactly one claimer of a key wins.
    """

    def __init__(self, path: str | os.PathLike, ttl_seconds: float = 86400.0, clock: Clock = time.time):
        self.path = Path(path)
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        self._db.execute("CREATE TABLE IF NOT EXISTS dedupe (key TEXT PRIMARY KEY, claimed REAL NOT NULL)")

    def claim(self, key: str) -> bool:
        now = self._clock()
        with self._lock:
            # Inserted (new key) or taken over (expired key): one row changed.  Seen recently: none.
            changed = self._db.execute(
                "INSERT INTO dedupe (key, claimed) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET claimed = excluded.claimed WHERE dedupe.claimed < ?",
                (key, now, now - self.ttl_seconds),
            ).rowcount
        return changed == 1

    def purge(self) -> int:
        cutoff = self._clock() - self.ttl_seconds
        with self._lock:
            return self._db.execute("DELETE FROM dedupe WHERE claimed < ?", (cutoff,)).rowcount

    def forget(self, person: Person, *, apply: bool = True) -> int:
        with self._lock:
            doomed = [(k,) for (k,) in self._db.execute("SELECT key FROM dedupe") if person.mentions(k)]
            if apply:
                self._db.executemany("DELETE FROM dedupe WHERE key = ?", doomed)
        return len(doomed)

    def close(self) -> None:
        with self._lock:
            self._db.close()
