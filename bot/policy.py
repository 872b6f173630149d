"""Who may look up where, what a shared card may show, a per-user rate limit, the audit log."""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nextcaller_ops.phone import mask
from nextcaller_ops.storage import open_private_db

__all__ = ["Policy", "RateLimiter", "AuditLog"]


@dataclass(frozen=True)
class Policy:
    allowed_channels: frozenset[str] | None = None   # None: every channel
    allowed_users: frozenset[str] | None = None      # None: everyone
    pii_channels: frozenset[str] = frozenset()

    def refusal(self, user_id: str | None, channel_id: str | None) -> str | None:
        """A polite sentence when ``user_id`` may not look up in ``channel_id``; None when allowed."""
        if self.allowed_users is not None and user_id not in self.allowed_users:
            return ("Sorry — caller lookups are limited to approved agents. "
                    "Ask a workspace admin to add you to NEXTCALLER_OPS_ALLOWED_USERS.")
        if self.allowed_channels is not None and channel_id not in self.allowed_channels:
            return ("Sorry — caller lookups aren't enabled in this channel. "
                    "Try a triage channel, or ask an admin to add it to NEXTCALLER_OPS_ALLOWED_CHANNELS.")
        return None

    def redact_shared(self, channel_id: str | None) -> bool:
        """Shared cards hide email and street unless the channel is cleared for them."""
        return channel_id not in self.pii_channels


class RateLimiter:
    """At most ``limit`` lookups per user in any ``window`` seconds (sliding window)."""

    def __init__(self, limit: int, window: float = 60.0, clock=time.monotonic):
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, deque[float]] = {}

    def wait_time(self, user_id: str) -> float:
        """0 when this lookup may go ahead (and counts it); else seconds until it may."""
        if self.limit <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            q = self._seen.setdefault(user_id, deque())
            while q and now - q[0] >= self.window:
                q.popleft()
            if len(q) >= self.limit:
                return self.window - (now - q[0])
            q.append(now)
            return 0.0


class AuditLog:
    """Who looked up which number, where, when, with what outcome (SQLite, file mode 0600)."""

    def __init__(self, path: str | os.PathLike, retention_days: int = 90, clock=time.time):
        self.path = Path(path)
        self.retention_days = retention_days
        self._clock = clock
        self._lock = threading.Lock()
        self._db = open_private_db(self.path)
        self._db.execute("""CREATE TABLE IF NOT EXISTS audit (
            ts REAL NOT NULL, user_id TEXT, channel_id TEXT, action TEXT NOT NULL,
            phone TEXT, outcome TEXT NOT NULL, detail TEXT)""")
        self._db.execute("CREATE INDEX IF NOT EXISTS audit_ts ON audit (ts)")
        self._db.execute("CREATE INDEX IF NOT EXISTS audit_user ON audit (user_id, ts)")
        self.purge()

    def record(self, *, user_id: str | None, channel_id: str | None, action: str, phone: str | None,
               outcome: str, detail: str = "") -> None:
        with self._lock:
            self._db.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (self._clock(), user_id, channel_id, action, phone, outcome, detail[:500]))

    def purge(self) -> int:
        """Delete entries older than the retention period; returns how many."""
        if self.retention_days <= 0:
            return 0
        cutoff = self._clock() - self.retention_days * 86400
        with self._lock:
            return self._db.execute("DELETE FROM audit WHERE ts < ?", (cutoff,)).rowcount

    def recent(self, user_id: str, limit: int = 5) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT ts, action, phone, outcome FROM audit WHERE user_id=? AND action IN ('lookup', 'refresh')"
                " ORDER BY ts DESC LIMIT ?", (user_id, limit)).fetchall()
        return [{"ts": r[0], "action": r[1], "phone": mask(r[2]) if r[2] else "", "outcome": r[3]} for r in rows]

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute("SELECT ts, user_id, channel_id, action, phone, outcome, detail FROM audit"
                                    " ORDER BY ts").fetchall()
        keys = ("ts", "user_id", "channel_id", "action", "phone", "outcome", "detail")
        return [dict(zip(keys, r)) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
